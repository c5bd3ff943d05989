-- Schema version 1: the revision counter, the change log, roles,
-- usergroups and associates.
--
-- Child rows (rights, links, list entries) belong to their owner and go
-- with it: ON DELETE CASCADE. References from one entity to another never
-- cascade and are DEFERRABLE INITIALLY DEFERRED: a batch replaces rows in
-- any order and the references are checked at commit. Validation (and its
-- error messages) is the code's job; the keys are a safety net against
-- other writers.
--
-- A reference that may be absent is NULL, never 0. Lists keep their order
-- in pos. Enums are the Go numbers (access.AssociateType, access.Relation,
-- access.CRUD bits).

CREATE TABLE access_revision (
	id        smallint PRIMARY KEY CHECK (id = 1),
	revision  bigint NOT NULL,
	log_floor bigint NOT NULL -- the change log is complete after this revision
);
INSERT INTO access_revision (id, revision, log_floor) VALUES (1, 0, 0);

-- One row per entity written or deleted by each revision; kind is
-- access.Kind.
CREATE TABLE access_change (
	revision   bigint NOT NULL,
	kind       smallint NOT NULL,
	id         bigint NOT NULL,
	deleted    boolean NOT NULL,
	changed_at timestamptz NOT NULL,
	PRIMARY KEY (revision, kind, id)
);
CREATE INDEX access_change_changed_at ON access_change (changed_at);

CREATE TABLE access_role (
	id        bigint PRIMARY KEY,
	name      text NOT NULL,
	parent_id bigint REFERENCES access_role (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX access_role_parent_id ON access_role (parent_id);

-- Relation 0 marks an entity type whose grid is empty (crud 0).
CREATE TABLE access_role_right (
	role_id     bigint NOT NULL REFERENCES access_role (id) ON DELETE CASCADE,
	entity_type text NOT NULL,
	relation    smallint NOT NULL,
	crud        smallint NOT NULL,
	PRIMARY KEY (role_id, entity_type, relation)
);

CREATE TABLE access_role_function (
	role_id bigint NOT NULL REFERENCES access_role (id) ON DELETE CASCADE,
	pos     integer NOT NULL,
	name    text NOT NULL,
	PRIMARY KEY (role_id, pos)
);

CREATE TABLE access_group (
	id    bigint PRIMARY KEY,
	name  text NOT NULL,
	smart text NOT NULL DEFAULT '' -- a smart rule, or '' for none
);

CREATE TABLE access_group_member (
	group_id  bigint NOT NULL REFERENCES access_group (id) ON DELETE CASCADE,
	pos       integer NOT NULL,
	member_id bigint NOT NULL REFERENCES access_group (id) DEFERRABLE INITIALLY DEFERRED,
	PRIMARY KEY (group_id, pos)
);
CREATE INDEX access_group_member_member_id ON access_group_member (member_id);

-- Roles (subordinates false) and RolesAndSubordinates (true).
CREATE TABLE access_group_role (
	group_id     bigint NOT NULL REFERENCES access_group (id) ON DELETE CASCADE,
	subordinates boolean NOT NULL,
	pos          integer NOT NULL,
	role_id      bigint NOT NULL REFERENCES access_role (id) DEFERRABLE INITIALLY DEFERRED,
	PRIMARY KEY (group_id, subordinates, pos)
);
CREATE INDEX access_group_role_role_id ON access_group_role (role_id);

CREATE TABLE access_associate (
	id               bigint PRIMARY KEY,
	name             text NOT NULL,
	name_fold        text NOT NULL, -- access.FoldName(name)
	type             smallint NOT NULL,
	primary_group_id bigint REFERENCES access_group (id) DEFERRABLE INITIALLY DEFERRED,
	role_id          bigint REFERENCES access_role (id) DEFERRABLE INITIALLY DEFERRED,
	active           boolean NOT NULL,
	valid_from       timestamptz,
	valid_to         timestamptz,
	company          bigint,
	attributes       jsonb -- an object of strings, NULL for none
);
CREATE UNIQUE INDEX access_associate_name_fold ON access_associate (name_fold);
CREATE INDEX access_associate_primary_group_id ON access_associate (primary_group_id);
CREATE INDEX access_associate_role_id ON access_associate (role_id);

CREATE TABLE access_associate_group (
	associate_id bigint NOT NULL REFERENCES access_associate (id) ON DELETE CASCADE,
	pos          integer NOT NULL,
	group_id     bigint NOT NULL REFERENCES access_group (id) DEFERRABLE INITIALLY DEFERRED,
	PRIMARY KEY (associate_id, pos)
);
CREATE INDEX access_associate_group_group_id ON access_associate_group (group_id);

CREATE TABLE access_associate_project (
	associate_id bigint NOT NULL REFERENCES access_associate (id) ON DELETE CASCADE,
	pos          integer NOT NULL,
	project_id   bigint NOT NULL,
	PRIMARY KEY (associate_id, pos)
);
