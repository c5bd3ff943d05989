-- Schema version 4: group descriptions and associates' e-mail addresses.

ALTER TABLE access_group ADD COLUMN description text NOT NULL DEFAULT '';
ALTER TABLE access_associate ADD COLUMN email text NOT NULL DEFAULT '';
