-- Schema version 2: group functions, default permissions, admins,
-- self-service and fields; associates' service logins and categories;
-- sharing rules, grants, categories and impersonation rules.

ALTER TABLE access_group ADD COLUMN self_service integer NOT NULL DEFAULT 0;
ALTER TABLE access_group ADD COLUMN fields text; -- an object of strings, NULL for none

CREATE TABLE access_group_function (
	group_id integer NOT NULL REFERENCES access_group (id) ON DELETE CASCADE,
	pos      integer NOT NULL,
	name     text NOT NULL,
	PRIMARY KEY (group_id, pos)
) WITHOUT ROWID;

CREATE TABLE access_group_default (
	group_id    integer NOT NULL REFERENCES access_group (id) ON DELETE CASCADE,
	entity_type text NOT NULL,
	crud        integer NOT NULL,
	PRIMARY KEY (group_id, entity_type)
) WITHOUT ROWID;

CREATE TABLE access_group_admin (
	group_id     integer NOT NULL REFERENCES access_group (id) ON DELETE CASCADE,
	pos          integer NOT NULL,
	associate_id integer NOT NULL REFERENCES access_associate (id) DEFERRABLE INITIALLY DEFERRED,
	PRIMARY KEY (group_id, pos)
) WITHOUT ROWID;
CREATE INDEX access_group_admin_associate_id ON access_group_admin (associate_id);

CREATE TABLE access_category (
	id           integer PRIMARY KEY,
	name         text NOT NULL,
	parent_id    integer REFERENCES access_category (id) DEFERRABLE INITIALLY DEFERRED,
	members_only integer NOT NULL
);
CREATE INDEX access_category_parent_id ON access_category (parent_id);

CREATE TABLE access_category_group (
	category_id integer NOT NULL REFERENCES access_category (id) ON DELETE CASCADE,
	pos         integer NOT NULL,
	group_id    integer NOT NULL REFERENCES access_group (id) DEFERRABLE INITIALLY DEFERRED,
	PRIMARY KEY (category_id, pos)
) WITHOUT ROWID;
CREATE INDEX access_category_group_group_id ON access_category_group (group_id);

CREATE TABLE access_category_role (
	category_id integer NOT NULL REFERENCES access_category (id) ON DELETE CASCADE,
	pos         integer NOT NULL,
	role_id     integer NOT NULL REFERENCES access_role (id) DEFERRABLE INITIALLY DEFERRED,
	PRIMARY KEY (category_id, pos)
) WITHOUT ROWID;
CREATE INDEX access_category_role_role_id ON access_category_role (role_id);

ALTER TABLE access_associate ADD COLUMN service_login integer;

CREATE TABLE access_associate_category (
	associate_id integer NOT NULL REFERENCES access_associate (id) ON DELETE CASCADE,
	pos          integer NOT NULL,
	category_id  integer NOT NULL REFERENCES access_category (id) DEFERRABLE INITIALLY DEFERRED,
	PRIMARY KEY (associate_id, pos)
) WITHOUT ROWID;
CREATE INDEX access_associate_category_category_id ON access_associate_category (category_id);

CREATE TABLE access_sharing_rule (
	id            integer PRIMARY KEY,
	name          text NOT NULL,
	entity_type   text NOT NULL,
	rights        integer NOT NULL,
	from_everyone integer NOT NULL,
	to_everyone   integer NOT NULL
);

-- side: 1 From, 2 To. list: 1 associates, 2 groups, 3 roles, 4 roles and
-- subordinates; member_id is an id of that kind.
CREATE TABLE access_sharing_principal (
	rule_id   integer NOT NULL REFERENCES access_sharing_rule (id) ON DELETE CASCADE,
	side      integer NOT NULL,
	list      integer NOT NULL,
	pos       integer NOT NULL,
	member_id integer NOT NULL,
	PRIMARY KEY (rule_id, side, list, pos)
) WITHOUT ROWID;
CREATE INDEX access_sharing_principal_member ON access_sharing_principal (member_id, list);

CREATE TABLE access_grant (
	id           integer PRIMARY KEY,
	associate_id integer REFERENCES access_associate (id) DEFERRABLE INITIALLY DEFERRED,
	group_id     integer REFERENCES access_group (id) DEFERRABLE INITIALLY DEFERRED,
	entity_type  text NOT NULL,
	record_id    integer, -- NULL: every record of the type
	rights       integer NOT NULL
);
CREATE INDEX access_grant_associate_id ON access_grant (associate_id);
CREATE INDEX access_grant_group_id ON access_grant (group_id);

CREATE TABLE access_impersonation (
	id                  integer PRIMARY KEY,
	actor_associate_id  integer REFERENCES access_associate (id) DEFERRABLE INITIALLY DEFERRED,
	actor_group_id      integer REFERENCES access_group (id) DEFERRABLE INITIALLY DEFERRED,
	target_associate_id integer REFERENCES access_associate (id) DEFERRABLE INITIALLY DEFERRED,
	target_group_id     integer REFERENCES access_group (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX access_impersonation_actor_associate_id ON access_impersonation (actor_associate_id);
CREATE INDEX access_impersonation_actor_group_id ON access_impersonation (actor_group_id);
CREATE INDEX access_impersonation_target_associate_id ON access_impersonation (target_associate_id);
CREATE INDEX access_impersonation_target_group_id ON access_impersonation (target_group_id);
