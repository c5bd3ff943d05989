package access_test

import (
	"context"
	"errors"
	"fmt"
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
			{EntityType: "*", Role: sales, Members: 2, Relations: star, Default: access.LevelCreate},
			{EntityType: "*", Role: support, Members: 1, Default: access.LevelCreate},
			{EntityType: "contact", Role: sales, Members: 2, Relations: access.Grid{access.Owner: access.LevelUpdate, access.Team: access.LevelUpdate}, Default: access.LevelCreate},
			{EntityType: "contact", Role: support, Members: 1, Default: access.LevelCreate},
			{EntityType: "ticket", Role: sales, Members: 2, Relations: star, Default: access.LevelCreate, Granted: access.R},
			{EntityType: "ticket", Role: support, Members: 1, Relations: access.Grid{access.Owner: access.LevelFull, access.Team: access.LevelFull}, Default: access.LevelCreate, Granted: access.R},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Matrix (-want +got):\n%s", diff)
	}
	if _, err := e.Matrix(ctx, 99); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("Matrix of an unknown group: %v, want ErrNotFound", err)
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
					if diff := cmp.Diff(tp.Relations, row.Relations); diff != "" {
						t.Fatalf("group %d, %q, member %d: matrix cells differ from Permissions (-perm +matrix):\n%s", g, tp.EntityType, a, diff)
					}
				}
			}
		}
	})
}
