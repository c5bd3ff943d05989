-- Schema version 7: past owners, what a deleted associate leaves for the
-- records it still owns. role_id and primary_group_id are no foreign
-- keys: the role or group may be deleted while the past owner stays.

CREATE TABLE access_past_owner (
	id               bigint PRIMARY KEY,
	name             text NOT NULL,
	type             smallint NOT NULL,
	role_id          bigint,
	company          bigint NOT NULL,
	primary_group_id bigint
);
