package main

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/crmaccess/access"
)

// A SuperOffice database keeps users and usergroups in these tables. The
// names are those of the seed documents (associate, usergroup,
// usergrouplink, userrolelink, ej_role) and, where they are silent about
// columns, of SuperOffice's public database reference
// (docs.superoffice.com/en/database/tables): PostgreSQL folds the
// unquoted mixed-case names there to lower case.
//
//	associate      associate_id, name (login), group_idx (primary group), type, deleted, ejuserid
//	usergroup      usergroup_id, name, tooltip, deleted
//	usergrouplink  assoc_id, usergroup_id (secondary groups), validfrom, validto (optional)
//	role           role_id, name, deleted
//	userrolelink   associate_id, role_id
//	ej_role        id, name (Customer Service roles, obsolete since 7.5)
//
// ej_role is optional.

type soAssociate struct {
	ID        int64
	Name      string
	Group     int64 // group_idx
	Type      int64
	Deleted   int64
	ServiceID int64 // ejuserid
}

type soGroup struct {
	ID      int64
	Name    string
	Deleted int64
}

type soRole struct {
	ID      int64
	Name    string
	Deleted int64
}

// superofficeData is what the importer reads from a SuperOffice database.
type superofficeData struct {
	Associates []soAssociate
	Groups     []soGroup
	GroupLinks [][2]int64 // assoc_id, usergroup_id
	Roles      []soRole
	RoleLinks  [][2]int64 // associate_id, role_id
	EjRoles    []soRole
	NotNow     []soWindowLink // usergrouplink rows not valid now
	Missing    []string
}

// soWindowLink is a usergrouplink row with its validity window.
type soWindowLink struct {
	Link     [2]int64 // assoc_id, usergroup_id
	From, To string   // as SuperOffice holds them (local time), "" for none
}

// readSuperOffice reads the SuperOffice tables from db (PostgreSQL);
// progress is as for readVtiger.
func readSuperOffice(ctx context.Context, db *sql.DB, progress func(done, total int)) (*superofficeData, error) {
	d := &superofficeData{}
	q := func(table, query string, scan func(*sql.Rows) error) error {
		var ok bool
		if err := db.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&ok); err != nil {
			return fmt.Errorf("superoffice: %w", err)
		}
		if !ok {
			d.Missing = append(d.Missing, table)
			return nil
		}
		return readRows(ctx, db, "superoffice", table, query, scan)
	}
	pairs := func(table, query string, into *[][2]int64) error {
		return q(table, query, func(r *sql.Rows) error {
			var p [2]int64
			err := r.Scan(&p[0], &p[1])
			*into = append(*into, p)
			return err
		})
	}
	roles := func(table, query string, into *[]soRole) error {
		return q(table, query, func(r *sql.Rows) error {
			var x soRole
			err := r.Scan(&x.ID, &x.Name, &x.Deleted)
			*into = append(*into, x)
			return err
		})
	}
	steps := []func() error{
		func() error {
			return q("associate", `SELECT associate_id, COALESCE(name, ''), COALESCE(group_idx, 0), COALESCE(type, 0), COALESCE(deleted, 0), COALESCE(ejuserid, 0) FROM associate ORDER BY associate_id`, func(r *sql.Rows) error {
				var a soAssociate
				err := r.Scan(&a.ID, &a.Name, &a.Group, &a.Type, &a.Deleted, &a.ServiceID)
				d.Associates = append(d.Associates, a)
				return err
			})
		},
		func() error {
			return q("usergroup", `SELECT usergroup_id, COALESCE(name, ''), COALESCE(deleted, 0) FROM usergroup ORDER BY usergroup_id`, func(r *sql.Rows) error {
				var g soGroup
				err := r.Scan(&g.ID, &g.Name, &g.Deleted)
				d.Groups = append(d.Groups, g)
				return err
			})
		},
		func() error {
			// A link has no validity window in the library: links valid
			// now are imported, the others noted.
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.columns
				WHERE table_schema = ANY(current_schemas(false)) AND table_name = 'usergrouplink' AND column_name IN ('validfrom', 'validto')`).Scan(&n); err != nil {
				return fmt.Errorf("superoffice: %w", err)
			}
			if n < 2 {
				return pairs("usergrouplink", `SELECT assoc_id, usergroup_id FROM usergrouplink ORDER BY 1, 2`, &d.GroupLinks)
			}
			return q("usergrouplink", `SELECT assoc_id, usergroup_id,
					(validfrom IS NULL OR validfrom <= LOCALTIMESTAMP) AND (validto IS NULL OR validto > LOCALTIMESTAMP),
					COALESCE(to_char(validfrom, 'YYYY-MM-DD HH24:MI'), ''), COALESCE(to_char(validto, 'YYYY-MM-DD HH24:MI'), '')
				FROM usergrouplink ORDER BY 1, 2`, func(r *sql.Rows) error {
				var l soWindowLink
				var now bool
				err := r.Scan(&l.Link[0], &l.Link[1], &now, &l.From, &l.To)
				if now {
					d.GroupLinks = append(d.GroupLinks, l.Link)
				} else {
					d.NotNow = append(d.NotNow, l)
				}
				return err
			})
		},
		func() error {
			return roles("role", `SELECT role_id, COALESCE(name, ''), COALESCE(deleted, 0) FROM role ORDER BY role_id`, &d.Roles)
		},
		func() error {
			return pairs("userrolelink", `SELECT associate_id, role_id FROM userrolelink ORDER BY 1, 2`, &d.RoleLinks)
		},
		func() error {
			return roles("ej_role", `SELECT id, COALESCE(name, ''), 0 FROM ej_role ORDER BY id`, &d.EjRoles)
		},
	}
	for i, step := range steps {
		if progress != nil {
			progress(i, len(steps))
		}
		if err := step(); err != nil {
			return nil, err
		}
	}
	if progress != nil {
		progress(len(steps), len(steps))
	}
	for _, t := range d.Missing {
		if t != "ej_role" {
			return nil, fmt.Errorf("superoffice: table %s not found: is this a SuperOffice database?", t)
		}
	}
	return d, nil
}

// batch maps the SuperOffice model to the library's, which was built on
// it: ids are kept; associate types keep their numbers; the primary group
// is group_idx and the secondary groups are the usergrouplink rows
// (without the primary group); the role is the userrolelink row; a
// deleted associate (deleted = 1: "retired and should have no rights") is
// imported inactive, so records it owns keep their owner; deleted groups
// and roles are imported, since records stay stamped with them. Roles get
// names only: their data rights and functional rights live in tables this
// importer does not read yet, and ej_role rows are listed for the
// library's legacy-role conversion. Everything else without an equivalent
// is listed in the returned notes.
func (d *superofficeData) batch() (access.Batch, []string) {
	var b access.Batch
	var notes []string
	note := func(format string, args ...any) { notes = append(notes, fmt.Sprintf(format, args...)) }

	groups := map[int64]bool{}
	for _, g := range d.Groups {
		if g.ID <= 0 {
			note("usergroup %d: ids must be positive; not imported", g.ID)
			continue
		}
		name := importName(idText("usergroup", g.ID), g.Name, idText("usergroup", g.ID), note)
		if g.Deleted != 0 {
			note("usergroup %s (%d): deleted in SuperOffice; imported, since records stay stamped with it", name, g.ID)
		}
		groups[g.ID] = true
		b.Groups = append(b.Groups, access.Group{ID: access.GroupID(g.ID), Name: name})
	}
	roles := map[int64]bool{}
	for _, r := range d.Roles {
		if r.ID <= 0 {
			note("role %d: ids must be positive; not imported", r.ID)
			continue
		}
		name := importName(idText("role", r.ID), r.Name, idText("role", r.ID), note)
		if r.Deleted != 0 {
			note("role %s (%d): deleted in SuperOffice; imported", name, r.ID)
		}
		roles[r.ID] = true
		b.Roles = append(b.Roles, access.Role{ID: access.RoleID(r.ID), Name: name})
	}
	if len(d.Roles) > 0 {
		note("%d roles imported by name only: their data rights and functional rights are not imported yet; give them rights in the model file", len(d.Roles))
	}
	// Customer Service roles go through the library's legacy-role
	// conversion, as SuperOffice's own upgrade to 7.5 does, with ids after
	// the last Sales & Marketing role's. Their rights are a bit mask whose
	// bits SuperOffice does not publish, so each becomes a role with no
	// functional rights yet, and the report says so.
	var top int64
	for id := range roles {
		top = max(top, id)
	}
	var legacy []access.LegacyRole
	for _, r := range d.EjRoles {
		legacy = append(legacy, access.LegacyRole{ID: top + r.ID, Name: r.Name})
	}
	converted, gaps := access.ConvertLegacyRoles(legacy)
	for _, r := range converted {
		roles[int64(r.ID)] = true
		b.Roles = append(b.Roles, r)
		note("ej_role %d: obsolete Customer Service role, converted to role %s (%d); its rights mask is not decoded, so it has no functional rights yet: give them in the model file", int64(r.ID)-top, r.Name, r.ID)
	}
	for _, g := range gaps {
		note("ej_role: %s", g)
	}
	role := map[int64]int64{}
	for _, l := range d.RoleLinks {
		if old, ok := role[l[0]]; ok && old != l[1] {
			note("userrolelink: associate %d has roles %d and %d; an associate has one role, %d kept", l[0], old, l[1], old)
			continue
		}
		role[l[0]] = l[1]
	}
	for _, l := range d.NotNow {
		note("usergrouplink: associate %d in usergroup %d is valid from %q to %q, not now; not imported (a link has no validity window here: import again when it is valid)", l.Link[0], l.Link[1], l.From, l.To)
	}
	secondary := map[int64][]access.GroupID{}
	for _, l := range d.GroupLinks {
		if !groups[l[1]] {
			note("usergrouplink: usergroup %d of associate %d does not exist; link skipped", l[1], l[0])
			continue
		}
		secondary[l[0]] = append(secondary[l[0]], access.GroupID(l[1]))
	}
	for _, s := range d.Associates {
		a := access.Associate{ID: access.AssociateID(s.ID), Name: s.Name, Type: access.AssociateType(s.Type), Active: s.Deleted == 0, ServiceLogin: max(s.ServiceID, 0)}
		what := fmt.Sprintf("associate %s (%d)", s.Name, s.ID)
		if !a.Type.Valid() {
			note("%s: associate type %d has no equivalent; not imported", what, s.Type)
			continue
		}
		if s.ID <= 0 {
			note("%s: ids must be positive; not imported", what)
			continue
		}
		a.Name = importName(what, s.Name, idText("associate", s.ID), note)
		if s.Deleted != 0 {
			note("%s: deleted (retired) in SuperOffice; imported inactive", what)
		}
		if r, ok := role[s.ID]; ok {
			if !roles[r] {
				note("%s: role %d does not exist; not imported", what, r)
				continue
			}
			a.Role = access.RoleID(r)
		}
		if a.Type == access.Resource {
			a.Role = 0
		} else if a.Role == 0 {
			note("%s: has no role (userrolelink); not imported, every %s associate needs one", what, a.Type)
			continue
		}
		if a.Type != access.Internal {
			if s.Group != 0 || len(secondary[s.ID]) > 0 {
				note("%s: %s associates have no usergroups; its group links are ignored", what, a.Type)
			}
			b.Associates = append(b.Associates, a)
			continue
		}
		if !groups[s.Group] {
			note("%s: primary usergroup %d (group_idx) does not exist; not imported", what, s.Group)
			continue
		}
		a.PrimaryGroup = access.GroupID(s.Group)
		for _, g := range secondary[s.ID] {
			if g != a.PrimaryGroup && !slices.Contains(a.Groups, g) {
				a.Groups = append(a.Groups, g)
			}
		}
		b.Associates = append(b.Associates, a)
	}
	// Login names last, so that a row left out above takes no name.
	names := logins{}
	kept := b.Associates[:0]
	for _, a := range b.Associates {
		if names.take(fmt.Sprintf("associate %s (%d)", a.Name, a.ID), a.Name, note) {
			kept = append(kept, a)
		}
	}
	b.Associates = kept
	for _, t := range d.Missing {
		note("table %s not found; nothing imported from it", t)
	}
	return b, notes
}
