-- Schema version 6: licences, the associate types that need them, and
-- their assignment to associates.

CREATE TABLE access_licence (
	id         bigint PRIMARY KEY,
	name       text NOT NULL,
	seats      integer NOT NULL, -- 0: unlimited
	valid_from timestamptz,
	valid_to   timestamptz
);

CREATE TABLE access_licence_for (
	licence_id bigint NOT NULL REFERENCES access_licence (id) ON DELETE CASCADE,
	pos        integer NOT NULL,
	type       integer NOT NULL,
	PRIMARY KEY (licence_id, pos)
);

CREATE TABLE access_associate_licence (
	associate_id bigint NOT NULL REFERENCES access_associate (id) ON DELETE CASCADE,
	pos          integer NOT NULL,
	licence_id   bigint NOT NULL REFERENCES access_licence (id) DEFERRABLE INITIALLY DEFERRED,
	PRIMARY KEY (associate_id, pos)
);
CREATE INDEX access_associate_licence_licence_id ON access_associate_licence (licence_id);
