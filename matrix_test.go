package access_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crmaccess/access"
)

// TestMatrix: a group's matrix has one row per entity type and role among
// its members, with the role's cells as decisions read them (the team
// cell includes the owner's), the defaults and type-wide grants of the
// group and the groups including it.
func TestMatrix(t *testing.T) {
	ctx := context.Background()
	b := access.Batch{
		Roles: []access.Role{
			{ID: 1, Name: "Sales", Rights: map[string]access.Grid{
				"*":       {access.Owner: access.LevelFull, access.Other: access.R},
				"contact": {access.Owner: access.LevelUpdate},
			}},
			{ID: 2, Name: "Support", Rights: map[string]access.Grid{"ticket": {access.Owner: access.LevelFull}}},
		},
		Groups: []access.Group{
			{ID: 10, Name: "Oslo", Defaults: map[string]access.CRUD{"contact": access.R}},
			{ID: 20, Name: "Norway", Groups: []access.GroupID{10}, Defaults: map[string]access.CRUD{"*": access.LevelCreate}},
		},
		Associates: []access.Associate{
			{ID: 1, Name: "Anna", PrimaryGroup: 10, Role: 1, Active: true},
			{ID: 2, Name: "Bo", PrimaryGroup: 10, Role: 1, Active: true},
			{ID: 3, Name: "Cy", PrimaryGroup: 10, Role: 2, Active: true},
			{ID: 4, Name: "Di", PrimaryGroup: 10, Role: 2},
		},
		Grants: []access.Grant{{ID: 1, Group: 20, EntityType: "ticket", Rights: access.R}},
	}
	_, e := exampleResolver(b)
	defer e.Close()
	got, err := e.Matrix(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	sales, support := access.RoleRef{ID: 1, Name: "Sales"}, access.RoleRef{ID: 2, Name: "Support"}
	star := access.Grid{access.Owner: access.LevelFull, access.Team: access.LevelFull, access.Other: access.R}
	want := access.Matrix{
		Group: access.GroupRef{ID: 10, Name: "Oslo"}, Members: 4, Gated: 1,
		Rows: []access.MatrixRow{
			{EntityType: "*", Role: sales, Members: 2, Max: access.LevelFull, Relations: star, Default: access.LevelCreate},
			{EntityType: "*", Role: support, Members: 1, Max: access.LevelFull, Default: access.LevelCreate},
			{EntityType: "contact", Role: sales, Members: 2, Max: access.LevelFull, Relations: access.Grid{access.Owner: access.LevelUpdate, access.Team: access.LevelUpdate}, Default: access.LevelCreate},
			{EntityType: "contact", Role: support, Members: 1, Max: access.LevelFull, Default: access.LevelCreate},
			{EntityType: "ticket", Role: sales, Members: 2, Max: access.LevelFull, Relations: star, Default: access.LevelCreate, Granted: access.R},
			{EntityType: "ticket", Role: support, Members: 1, Max: access.LevelFull, Relations: access.Grid{access.Owner: access.LevelFull, access.Team: access.LevelFull}, Default: access.LevelCreate, Granted: access.R},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Matrix (-want +got):\n%s", diff)
	}
	if _, err := e.Matrix(ctx, 99); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("Matrix of an unknown group: %v, want ErrNotFound", err)
	}
}

// TestMatrixLimits: the matrix cells are the rights after the limits the
// group's members are under — on the group, on a group including it, or
// organisation-wide — and each row lists those limits and its Max. A
// denial on contact leaves the owner no cell there; an unrelated-records
// ceiling caps only the Other cell; a limit on another group, which not
// every member is in, is left out.
func TestMatrixLimits(t *testing.T) {
	ctx := context.Background()
	grid := access.Grid{access.Owner: access.LevelFull, access.Other: access.LevelUpdate}
	deny := access.Limit{ID: 1, Group: 20, EntityType: "contact", Max: access.LevelNone}
	ceiling := access.Limit{ID: 2, EntityType: "*", Max: access.LevelRead, Scope: access.LimitUnrelated}
	one := access.Limit{ID: 3, Group: 10, EntityType: "sale", RecordID: 7, Max: access.LevelNone}
	capSale := access.Limit{ID: 4, Group: 10, EntityType: "sale", Max: access.LevelUpdate}
	b := access.Batch{
		Roles: []access.Role{{ID: 1, Name: "Sales", Rights: map[string]access.Grid{"*": grid}}},
		Groups: []access.Group{
			{ID: 10, Name: "Oslo", Defaults: map[string]access.CRUD{"*": access.LevelFull}},
			{ID: 20, Name: "Norway", Groups: []access.GroupID{10}},
			{ID: 30, Name: "Elsewhere"},
		},
		Associates: []access.Associate{{ID: 1, Name: "Anna", PrimaryGroup: 10, Role: 1, Active: true}},
		Grants:     []access.Grant{{ID: 1, Group: 10, EntityType: "sale", Rights: access.LevelFull}},
		Limits: []access.Limit{deny, ceiling, one, capSale,
			{ID: 5, Group: 30, EntityType: "*", Max: access.LevelNone}},
	}
	_, e := exampleResolver(b)
	defer e.Close()
	got, err := e.Matrix(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	sales := access.RoleRef{ID: 1, Name: "Sales"}
	full := access.Grid{access.Owner: access.LevelFull, access.Team: access.LevelFull, access.Other: access.R}
	want := access.Matrix{
		Group: access.GroupRef{ID: 10, Name: "Oslo"}, Members: 1,
		Rows: []access.MatrixRow{
			{EntityType: "*", Role: sales, Members: 1, Relations: full, Default: access.LevelFull, Max: access.LevelFull,
				Limits: []access.Limit{ceiling}},
			{EntityType: "contact", Role: sales, Members: 1, Relations: access.Grid{}, Max: access.LevelNone,
				Limits: []access.Limit{deny, ceiling}},
			{EntityType: "sale", Role: sales, Members: 1, Max: access.LevelUpdate,
				Relations: access.Grid{access.Owner: access.LevelUpdate, access.Team: access.LevelUpdate, access.Other: access.R},
				Default:   access.LevelUpdate, Granted: access.LevelUpdate, Limits: []access.Limit{ceiling, one, capSale}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Matrix (-want +got):\n%s", diff)
	}
	// The matrix agrees with Can on the member's own contact.
	d, err := e.Can(ctx, 1, access.Read, access.Record{Type: "contact", ID: 1, Owner: 1})
	if err != nil || d.Allowed {
		t.Errorf("Can(read own contact) = %v, %v; the matrix says denied", d.Allowed, err)
	}
}

// TestPropMatrixMatchesPermissions: on random organisations, every
// group's matrix counts each effective member once, and each row's cells
// are what Permissions reports for every member holding the row's role.
func TestPropMatrixMatchesPermissions(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := dDrawOrg(t)
		e, _ := dResolver(t, o.b)
		ctx := context.Background()
		for _, g := range o.groups {
			m, err := e.Matrix(ctx, g)
			if err != nil {
				t.Fatal(err)
			}
			members, err := e.Members(ctx, g)
			if err != nil {
				t.Fatal(err)
			}
			if m.Members != len(members) {
				t.Fatalf("group %d: matrix counts %d members, Members has %d", g, m.Members, len(members))
			}
			perType := map[string]int{}
			rows := map[string]access.MatrixRow{}
			key := func(typ string, r access.RoleID) string { return fmt.Sprint(typ, "/", r) }
			for _, row := range m.Rows {
				perType[row.EntityType] += row.Members
				rows[key(row.EntityType, row.Role.ID)] = row
			}
			for typ, n := range perType {
				if n+m.Gated+m.System != m.Members {
					t.Fatalf("group %d, %q: rows count %d members, gated %d, system %d, of %d", g, typ, n, m.Gated, m.System, m.Members)
				}
			}
			for _, a := range members {
				p, err := e.Permissions(ctx, a)
				if err != nil {
					t.Fatal(err)
				}
				if p.Gate != access.GateNone || p.System {
					continue
				}
				for _, tp := range p.Types {
					row, ok := rows[key(tp.EntityType, p.Role.ID)]
					if !ok {
						// A type the matrix does not list (the member's
						// other groups name it) reads the "*" row.
						row, ok = rows[key("*", p.Role.ID)]
					}
					if !ok {
						t.Fatalf("group %d: no row for %q and role %d of member %d", g, tp.EntityType, p.Role.ID, a)
					}
					// The row's limits are some of the member's (its
					// other groups may add more), and the row's cells are
					// the member's role cells capped by them.
					for _, l := range row.Limits {
						if !slices.Contains(tp.Limits, l) {
							t.Fatalf("group %d, %q, member %d: the matrix lists limit %+v, Permissions does not", g, tp.EntityType, a, l)
						}
					}
					if tp.Max()&^row.Max != 0 {
						t.Fatalf("group %d, %q, member %d: Permissions' Max %s exceeds the matrix's %s", g, tp.EntityType, a, tp.Max(), row.Max)
					}
					if diff := cmp.Diff(capGrid(tp.Relations, row.Limits), row.Relations); diff != "" {
						t.Fatalf("group %d, %q, member %d: matrix cells differ from Permissions' capped by the row's limits (-perm +matrix):\n%s", g, tp.EntityType, a, diff)
					}
					// A cell the matrix leaves out is one Can never uses
					// on a record where only that relation holds: the
					// member's own record, when nothing but Owner holds,
					// gives at most the Owner cell (and Max).
					if row.Max == access.LevelNone && tp.EntityType != "*" {
						d, err := e.Can(ctx, a, access.Read, access.Record{Type: tp.EntityType, ID: 1, Owner: a})
						if err != nil {
							t.Fatal(err)
						}
						if d.Allowed {
							t.Fatalf("group %d, %q: the matrix denies every member, Can lets member %d read its own record\n%s", g, tp.EntityType, a, d)
						}
					}
				}
			}
		}
	})
}

// capGrid is the reference for a matrix row's cells: g's cells capped by
// the whole-type limits ls, those of relations that do not relate a
// record to the subject also by the LimitUnrelated ones.
func capGrid(g access.Grid, ls []access.Limit) access.Grid {
	if g == nil {
		return nil
	}
	related := map[access.Relation]bool{access.Owner: true, access.Team: true, access.PrimaryGroup: true, access.OtherGroup: true,
		access.Subordinate: true, access.MyCompany: true, access.SameProject: true}
	out := access.Grid{}
	for r, c := range g {
		for _, l := range ls {
			if l.RecordID == 0 && (l.Scope == access.LimitAll || !related[r]) {
				c &= l.Max
			}
		}
		if c != 0 {
			out[r] = c
		}
	}
	return out
}
