-- Schema version 6: licences, the associate types that need them, and
-- their assignment to associates.

CREATE TABLE access_licence (
	id         integer PRIMARY KEY,
	name       text NOT NULL,
	seats      integer NOT NULL, -- 0: unlimited
	valid_from text,
	valid_to   text
);

CREATE TABLE access_licence_for (
	licence_id integer NOT NULL REFERENCES access_licence (id) ON DELETE CASCADE,
	pos        integer NOT NULL,
	type       integer NOT NULL,
	PRIMARY KEY (licence_id, pos)
) WITHOUT ROWID;

CREATE TABLE access_associate_licence (
	associate_id integer NOT NULL REFERENCES access_associate (id) ON DELETE CASCADE,
	pos          integer NOT NULL,
	licence_id   integer NOT NULL REFERENCES access_licence (id) DEFERRABLE INITIALLY DEFERRED,
	PRIMARY KEY (associate_id, pos)
) WITHOUT ROWID;
CREATE INDEX access_associate_licence_licence_id ON access_associate_licence (licence_id);
