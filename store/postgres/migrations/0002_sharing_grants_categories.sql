-- Schema version 2: group functions, default permissions, admins,
-- self-service and fields; associates' service logins and categories;
-- sharing rules, grants, categories and impersonation rules.

ALTER TABLE access_group ADD COLUMN self_service boolean NOT NULL DEFAULT false;
ALTER TABLE access_group ADD COLUMN fields jsonb; -- an object of strings, NULL for none

CREATE TABLE access_group_function (
	group_id bigint NOT NULL REFERENCES access_group (id) ON DELETE CASCADE,
	pos      integer NOT NULL,
	name     text NOT NULL,
	PRIMARY KEY (group_id, pos)
);

CREATE TABLE access_group_default (
	group_id    bigint NOT NULL REFERENCES access_group (id) ON DELETE CASCADE,
	entity_type text NOT NULL,
	crud        smallint NOT NULL,
	PRIMARY KEY (group_id, entity_type)
);

CREATE TABLE access_group_admin (
	group_id     bigint NOT NULL REFERENCES access_group (id) ON DELETE CASCADE,
	pos          integer NOT NULL,
	associate_id bigint NOT NULL REFERENCES access_associate (id) DEFERRABLE INITIALLY DEFERRED,
	PRIMARY KEY (group_id, pos)
);
CREATE INDEX access_group_admin_associate_id ON access_group_admin (associate_id);

CREATE TABLE access_category (
	id           bigint PRIMARY KEY,
	name         text NOT NULL,
	parent_id    bigint REFERENCES access_category (id) DEFERRABLE INITIALLY DEFERRED,
	members_only boolean NOT NULL
);
CREATE INDEX access_category_parent_id ON access_category (parent_id);

CREATE TABLE access_category_group (
	category_id bigint NOT NULL REFERENCES access_category (id) ON DELETE CASCADE,
	pos         integer NOT NULL,
	group_id    bigint NOT NULL REFERENCES access_group (id) DEFERRABLE INITIALLY DEFERRED,
	PRIMARY KEY (category_id, pos)
);
CREATE INDEX access_category_group_group_id ON access_category_group (group_id);

CREATE TABLE access_category_role (
	category_id bigint NOT NULL REFERENCES access_category (id) ON DELETE CASCADE,
	pos         integer NOT NULL,
	role_id     bigint NOT NULL REFERENCES access_role (id) DEFERRABLE INITIALLY DEFERRED,
	PRIMARY KEY (category_id, pos)
);
CREATE INDEX access_category_role_role_id ON access_category_role (role_id);

ALTER TABLE access_associate ADD COLUMN service_login bigint;

CREATE TABLE access_associate_category (
	associate_id bigint NOT NULL REFERENCES access_associate (id) ON DELETE CASCADE,
	pos          integer NOT NULL,
	category_id  bigint NOT NULL REFERENCES access_category (id) DEFERRABLE INITIALLY DEFERRED,
	PRIMARY KEY (associate_id, pos)
);
CREATE INDEX access_associate_category_category_id ON access_associate_category (category_id);

CREATE TABLE access_sharing_rule (
	id            bigint PRIMARY KEY,
	name          text NOT NULL,
	entity_type   text NOT NULL,
	rights        smallint NOT NULL,
	from_everyone boolean NOT NULL,
	to_everyone   boolean NOT NULL
);

-- side: 1 From, 2 To. list: 1 associates, 2 groups, 3 roles, 4 roles and
-- subordinates; member_id is an id of that kind.
CREATE TABLE access_sharing_principal (
	rule_id   bigint NOT NULL REFERENCES access_sharing_rule (id) ON DELETE CASCADE,
	side      smallint NOT NULL,
	list      smallint NOT NULL,
	pos       integer NOT NULL,
	member_id bigint NOT NULL,
	PRIMARY KEY (rule_id, side, list, pos)
);
CREATE INDEX access_sharing_principal_member ON access_sharing_principal (member_id, list);

CREATE TABLE access_grant (
	id           bigint PRIMARY KEY,
	associate_id bigint REFERENCES access_associate (id) DEFERRABLE INITIALLY DEFERRED,
	group_id     bigint REFERENCES access_group (id) DEFERRABLE INITIALLY DEFERRED,
	entity_type  text NOT NULL,
	record_id    bigint, -- NULL: every record of the type
	rights       smallint NOT NULL
);
CREATE INDEX access_grant_associate_id ON access_grant (associate_id);
CREATE INDEX access_grant_group_id ON access_grant (group_id);

CREATE TABLE access_impersonation (
	id                  bigint PRIMARY KEY,
	actor_associate_id  bigint REFERENCES access_associate (id) DEFERRABLE INITIALLY DEFERRED,
	actor_group_id      bigint REFERENCES access_group (id) DEFERRABLE INITIALLY DEFERRED,
	target_associate_id bigint REFERENCES access_associate (id) DEFERRABLE INITIALLY DEFERRED,
	target_group_id     bigint REFERENCES access_group (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX access_impersonation_actor_associate_id ON access_impersonation (actor_associate_id);
CREATE INDEX access_impersonation_actor_group_id ON access_impersonation (actor_group_id);
CREATE INDEX access_impersonation_target_associate_id ON access_impersonation (target_associate_id);
CREATE INDEX access_impersonation_target_group_id ON access_impersonation (target_group_id);
