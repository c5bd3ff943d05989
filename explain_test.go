package access_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/crmaccess/access"
)

// TestCanNearestMiss: a deny whose role would have granted the action
// through the fallback relation, had a specific relation not held, names
// that nearest miss — and no other decision does.
func TestCanNearestMiss(t *testing.T) {
	const (
		odd    access.RoleID      = 1
		home   access.GroupID     = 10
		side   access.GroupID     = 11
		me     access.AssociateID = 1
		owner  access.AssociateID = 2
		extern access.AssociateID = 3
	)
	b := access.Batch{
		Roles: []access.Role{{ID: odd, Name: "Odd", Rights: map[string]access.Grid{"*": {
			access.Owner: dFull, access.Team: access.LevelNone, access.PrimaryGroup: access.LevelNone,
			access.OtherGroup: dR, access.MyCompany: access.LevelNone,
			access.Other: access.R | access.U, access.Unowned: dCR,
		}}}},
		Groups: []access.Group{{ID: home, Name: "Home"}, {ID: side, Name: "Side"}},
		Associates: []access.Associate{
			{ID: me, Name: "me", PrimaryGroup: home, Groups: []access.GroupID{side}, Role: odd, Active: true},
			{ID: owner, Name: "owner", PrimaryGroup: home, Role: odd, Active: true},
			{ID: extern, Name: "extern", Type: access.External, Role: odd, Active: true, Company: 5},
		},
		Grants: []access.Grant{{ID: 1, Associate: me, EntityType: "memo", Rights: access.R}},
	}
	e, _ := dResolver(t, b)
	type rec = access.Record
	miss := func(fb access.Relation, would, held access.CRUD) []access.Cause {
		return []access.Cause{{Kind: access.CauseNearMiss, Relation: fb, Rights: would, Held: held, Role: odd, RoleName: "Odd"}}
	}
	for _, c := range []struct {
		name string
		who  access.AssociateID
		act  access.Action
		rec  rec
		want []access.Cause // the CauseNearMiss causes
		text string         // what String says of it
	}{
		{name: "primary group holds and grants nothing", who: me, act: access.Read, rec: rec{Type: "contact", ID: 1, Owner: owner, Group: home},
			want: miss(access.Other, access.R|access.U, 0), text: "nearest miss: other would grant RU, but primary group holds and grants -"},
		{name: "other group grants less than other", who: me, act: access.Update, rec: rec{Type: "contact", ID: 2, Owner: owner, Group: side},
			want: miss(access.Other, access.R|access.U, dR), text: "nearest miss: other would grant RU, but other group holds and grants R"},
		{name: "unowned fallback", who: me, act: access.Create, rec: rec{Type: "contact", ID: 3, Group: home},
			want: miss(access.Unowned, dCR, 0), text: "nearest miss: unowned would grant CR, but primary group holds and grants -"},
		{name: "two relations hold", who: me, act: access.Read, rec: rec{Type: "contact", ID: 4, Owner: owner, Group: home, Team: home},
			want: miss(access.Other, access.R|access.U, 0), text: "nearest miss: other would grant RU, but team, primary group hold and grant -"},
		{name: "the fallback does not grant it either", who: me, act: access.Delete, rec: rec{Type: "contact", ID: 5, Owner: owner, Group: home}},
		{name: "the fallback held", who: me, act: access.Delete, rec: rec{Type: "contact", ID: 6, Owner: owner}},
		{name: "a restriction would take it anyway", who: me, act: access.Read,
			rec: rec{Type: "contact", ID: 7, Owner: owner, Group: home, Visibility: access.VisibleAssociate}},
		{name: "a grant allows it", who: me, act: access.Read, rec: rec{Type: "memo", ID: 8, Owner: owner, Group: home}},
		{name: "externals have no fallback", who: extern, act: access.Read, rec: rec{Type: "contact", ID: 9, Owner: owner, Company: 5, Published: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := e.Can(context.Background(), c.who, c.act, c.rec)
			if err != nil {
				t.Fatal(err)
			}
			got := slices.DeleteFunc(d.Causes(), func(x access.Cause) bool { return x.Kind != access.CauseNearMiss })
			if diff := cmp.Diff(c.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("nearest-miss causes (-want +got):\n%s\n%s", diff, d)
			}
			if c.text != "" && !strings.Contains(d.String(), "; "+c.text+"; has ") {
				t.Errorf("String does not say %q:\n%s", c.text, d)
			}
			if c.want != nil && d.Allowed {
				t.Errorf("a decision with a nearest miss allows: %s", d)
			}
		})
	}
}

// TestDecisionJSONGolden pins the JSON form of the golden decisions. Run
// with -update to rewrite testdata/decisions.json.golden, then check it.
func TestDecisionJSONGolden(t *testing.T) {
	var b strings.Builder
	for _, c := range dGoldenDecisions(t) {
		out, err := json.MarshalIndent(c.d, "", "  ")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		fmt.Fprintf(&b, "=== %s\n%s\n", c.name, out)
	}
	dGolden(t, "decisions.json.golden", b.String())
}
