-- Schema version 5: limits, the layer that only takes rights away.

CREATE TABLE access_limit (
	id          bigint PRIMARY KEY,
	group_id    bigint REFERENCES access_group (id) DEFERRABLE INITIALLY DEFERRED, -- NULL: organisation-wide
	entity_type text NOT NULL,
	record_id   bigint, -- NULL: every record of the type
	max_rights  smallint NOT NULL,
	scope       smallint NOT NULL
);
CREATE INDEX access_limit_group_id ON access_limit (group_id);
