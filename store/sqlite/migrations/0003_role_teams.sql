-- Schema version 3: a role may limit what team members get
-- (access.Role.LimitTeams); by default a team member is an owner.

ALTER TABLE access_role ADD COLUMN limit_teams integer NOT NULL DEFAULT 0;
