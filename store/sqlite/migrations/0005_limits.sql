-- Schema version 5: limits, the layer that only takes rights away.

CREATE TABLE access_limit (
	id          integer PRIMARY KEY,
	group_id    integer REFERENCES access_group (id) DEFERRABLE INITIALLY DEFERRED, -- NULL: organisation-wide
	entity_type text NOT NULL,
	record_id   integer, -- NULL: every record of the type
	max_rights  integer NOT NULL,
	scope       integer NOT NULL
);
CREATE INDEX access_limit_group_id ON access_limit (group_id);
