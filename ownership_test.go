package access_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// teamOrg: Anna and Bo are in group Oslo; Bo owns the record, whose team
// is Oslo. The role grants CRUD to owners and only R to team members.
func teamOrg(limit bool) access.Batch {
	return access.Batch{
		Roles: []access.Role{{ID: 1, Name: "Sales", LimitTeams: limit, Rights: map[string]access.Grid{
			"contact": {access.Owner: access.LevelFull, access.Team: access.LevelRead},
		}}},
		Groups: []access.Group{{ID: 10, Name: "Oslo"}, {ID: 20, Name: "Bergen"}},
		Associates: []access.Associate{
			{ID: 1, Name: "Anna", PrimaryGroup: 10, Role: 1, Active: true},
			{ID: 2, Name: "Bo", PrimaryGroup: 10, Role: 1, Active: true},
			{ID: 3, Name: "Cy", PrimaryGroup: 20, Role: 1, Active: true},
		},
	}
}

// TestTeamMembersAreOwners: by default an effective member of a record's
// team gets what the owner relation gives (vtiger: "all members of this
// group are the owners of this entry"); a role that limits teams applies
// its Team cell as written. Can, Filter, WhoCan and Permissions agree.
func TestTeamMembersAreOwners(t *testing.T) {
	ctx := context.Background()
	rec := access.Record{Type: "contact", ID: 7, Team: 10}
	for _, tc := range []struct {
		name     string
		limit    bool
		want     access.CRUD // Anna's rights on the team's record
		updaters []access.AssociateID
	}{
		{"team members are owners", false, access.LevelFull, []access.AssociateID{1, 2}},
		{"a role that limits teams", true, access.LevelRead, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := memory.New()
			if _, err := st.Apply(ctx, teamOrg(tc.limit)); err != nil {
				t.Fatal(err)
			}
			e, err := access.NewResolver(ctx, st, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()

			d, err := e.Can(ctx, 1, access.Update, rec)
			if err != nil {
				t.Fatal(err)
			}
			if d.Rights != tc.want || !d.Relations.Has(access.Team) {
				t.Errorf("Can: rights %s relations %s, want %s through team\n%s", d.Rights, d.Relations, tc.want, d)
			}
			f, err := e.Filter(ctx, 1, access.Update, "contact")
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Match(rec); got != d.Allowed {
				t.Errorf("Filter %s matches the record: %v; Can allows: %v", &f, got, d.Allowed)
			}
			who, err := e.WhoCan(ctx, access.Update, rec)
			if err != nil {
				t.Fatal(err)
			}
			var ids []access.AssociateID
			for _, a := range who {
				ids = append(ids, a.Associate)
			}
			if diff := cmp.Diff(tc.updaters, ids); diff != "" {
				t.Errorf("WhoCan update (-want +got):\n%s", diff)
			}
			p, err := e.Permissions(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			for _, tp := range p.Types {
				if tp.EntityType == "contact" && tp.Relations[access.Team] != tc.want {
					t.Errorf("Permissions: team cell %s, want %s", tp.Relations[access.Team], tc.want)
				}
			}
		})
	}
}

// TestRoleCellsAccumulative: a cell granting create, update or delete
// without read is rejected, naming role, entity type and relation.
func TestRoleCellsAccumulative(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	apply := func(c access.CRUD) error {
		r := access.Role{ID: 3, Name: "Odd", Rights: map[string]access.Grid{"sale": {access.Subordinate: c}}}
		_, err := st.Apply(ctx, access.Batch{Roles: []access.Role{r}})
		return err
	}
	for _, c := range []access.CRUD{access.C, access.U, access.D, access.C | access.U, access.U | access.D} {
		err := apply(c)
		want := fmt.Sprintf(`role 3: "sale" subordinate: rights %s`, c)
		if !errors.Is(err, access.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("cell %s: error %v, want ErrInvalid naming %q", c, err, want)
		}
	}
	for _, c := range []access.CRUD{0, access.R, access.R | access.U, access.R | access.D, access.LevelFull} {
		if err := apply(c); err != nil {
			t.Errorf("cell %s: %v", c, err)
		}
	}
}

// Records assigned to a group are owned by all its members: Anna, in
// Oslo, may update the record Bo owns with Oslo as its team, because the
// role's owner cell applies to team members. A role that limits teams
// applies its team cell as written instead.
func ExampleRole_LimitTeams() {
	ctx := context.Background()
	rec := access.Record{Type: "contact", ID: 7, Owner: 2, Team: 10}
	for _, limit := range []bool{false, true} {
		_, e := exampleResolver(teamOrg(limit))
		d, _ := e.Can(ctx, 1, access.Update, rec)
		fmt.Printf("limit teams %v: %s\n", limit, d)
		e.Close()
	}
	// Output:
	// limit teams false: allow: Anna (1) may update contact 7; role Sales (1) grants CRUD for team
	// limit teams true: deny: Anna (1) needs update on contact 7; role Sales (1) grants R for team; has R
}
