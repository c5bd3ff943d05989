package access_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

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
		}}, LimitTeams: true}}, // the team cell applies as written
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

// TestPropNearestMissMatchesReference: on random organisations, a decision
// names a nearest miss exactly when it denies an internal subject for whom
// a specific relation held, and the reference — asked again as if only the
// fallback relation had held — allows; the cause names the fallback, its
// cell and what the relations that held grant.
func TestPropNearestMissMatchesReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := dDrawOrg(t)
		e, _ := dResolver(t, o.b)
		m := newDecModel(&o.b)
		fb := newDecModel(&o.b)
		fb.fallbackOnly = true
		ctx := context.Background()
		for range rapid.IntRange(1, 10).Draw(t, "questions") {
			who, r := dDrawQuestion(t, o)
			for act := access.Read; act <= access.Delete; act++ {
				d, err := e.Can(ctx, who, act, r)
				if err != nil {
					t.Fatal(err)
				}
				ref := m.decide(who, act, r, dNow)
				fallback := access.Unowned
				if r.Owner != 0 || r.Team != 0 {
					fallback = access.Other
				}
				a := m.assocs[who]
				want := !ref.allowed && ref.gate == access.GateNone && !ref.system && a.Type == access.Internal &&
					!ref.rels.Has(fallback) && fb.decide(who, act, r, dNow).allowed
				var got []access.Cause
				for _, c := range d.Causes() {
					if c.Kind == access.CauseNearMiss {
						got = append(got, c)
					}
				}
				if (len(got) > 0) != want {
					t.Fatalf("Can(%d, %s, %+v): nearest miss %v, want %v\n%s", who, act, r, got, want, d)
				}
				if !want {
					continue
				}
				grid := m.roles[a.Role].Rights[r.Type]
				if grid == nil {
					grid = m.roles[a.Role].Rights["*"]
				}
				var held access.CRUD
				for _, rel := range ref.rels.All() {
					held |= refCell(m.roles[a.Role], grid, rel)
				}
				wantCause := access.Cause{Kind: access.CauseNearMiss, Relation: fallback, Rights: grid[fallback], Held: held,
					Role: a.Role, RoleName: m.roles[a.Role].Name}
				if diff := cmp.Diff([]access.Cause{wantCause}, got); diff != "" {
					t.Fatalf("Can(%d, %s, %+v): nearest miss (-want +got):\n%s%s", who, act, r, diff, d)
				}
			}
		}
	})
}

// TestPropDecisionJSON: on random organisations, every decision's JSON
// form reads back with the decision's answer, rights, relations, gate and
// causes, each cause with its kind, rights and names.
func TestPropDecisionJSON(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := dDrawOrg(t)
		e, _ := dResolver(t, o.b)
		ctx := context.Background()
		type ref struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		}
		type cause struct {
			Kind   string `json:"kind"`
			Role   *ref   `json:"role"`
			Group  *ref   `json:"group"`
			Rule   *ref   `json:"rule"`
			Rights string `json:"rights"`
			Text   string `json:"text"`
		}
		type decision struct {
			Allowed   bool     `json:"allowed"`
			Action    string   `json:"action"`
			Subject   ref      `json:"subject"`
			Rights    string   `json:"rights"`
			Relations []string `json:"relations"`
			Gate      string   `json:"gate"`
			Revision  uint64   `json:"revision"`
			Causes    []cause  `json:"causes"`
			Text      string   `json:"text"`
		}
		for range rapid.IntRange(1, 5).Draw(t, "questions") {
			who, r := dDrawQuestion(t, o)
			act := access.Action(rapid.IntRange(int(access.Read), int(access.Delete)).Draw(t, "action"))
			d, err := e.Can(ctx, who, act, r)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			var got decision
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("%s: %v", raw, err)
			}
			want := decision{Allowed: d.Allowed, Action: act.String(), Subject: ref{ID: int64(who)}, Rights: d.Rights.String(),
				Relations: []string{}, Revision: uint64(d.Revision), Text: d.String()}
			if a, ok := dAssocsByID(o)[who]; ok {
				want.Subject.Name = a.Name
			}
			for _, rel := range d.Relations.All() {
				want.Relations = append(want.Relations, rel.String())
			}
			if d.Gate != access.GateNone {
				// Enums are written as their text names, so they read back.
				want.Gate = d.Gate.String()
				if g, err := access.ParseGate(got.Gate); err != nil || g != d.Gate {
					t.Fatalf("gate %q reads back as %v, %v; want %v", got.Gate, g, err, d.Gate)
				}
			}
			for _, c := range d.Causes() {
				wc := cause{Kind: c.Kind.String()}
				if c.Role != 0 {
					wc.Role = &ref{int64(c.Role), c.RoleName}
				}
				if c.Group != 0 {
					wc.Group = &ref{int64(c.Group), c.GroupName}
				}
				if c.Rule != 0 {
					wc.Rule = &ref{int64(c.Rule), c.RuleName}
				}
				switch c.Kind {
				case access.CauseRole, access.CauseSharing, access.CauseGrant, access.CauseDefault, access.CauseRestriction, access.CauseNearMiss, access.CauseLimit:
					wc.Rights = c.Rights.String()
				}
				want.Causes = append(want.Causes, wc)
			}
			// The causes' texts are the segments of the whole text.
			for i := range got.Causes {
				if !strings.Contains(got.Text, "; "+got.Causes[i].Text) {
					t.Fatalf("cause text %q is not part of %q", got.Causes[i].Text, got.Text)
				}
				if i < len(want.Causes) {
					want.Causes[i].Text = got.Causes[i].Text
				}
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("JSON of %s (-want +got):\n%s\n%s", d, diff, raw)
			}
		}
	})
}

// dAssocsByID indexes an organisation's associates by id.
func dAssocsByID(o *dOrg) map[access.AssociateID]access.Associate {
	out := map[access.AssociateID]access.Associate{}
	for _, a := range o.b.Associates {
		out[a.ID] = a
	}
	return out
}

// TestDecisionLogValue: a Decision logs under log/slog as a group of its
// key fields.
func TestDecisionLogValue(t *testing.T) {
	e, _ := dResolver(t, dGoldenOrg())
	ctx := context.Background()
	as, err := e.Impersonate(ctx, dClerkA, dP2)
	if err != nil {
		t.Fatal(err)
	}
	acting, err := e.CanAs(ctx, as, access.Read, access.Record{Type: "contact", ID: 16, Team: dTeamA})
	if err != nil {
		t.Fatal(err)
	}
	gated, _ := e.Can(ctx, dExpired, access.Read, access.Record{Type: "contact", ID: 1})
	for _, c := range []struct {
		name string
		d    access.Decision
		want string
	}{
		{"acting", acting, `{"level":"INFO","msg":"decided","decision":{"allowed":true,"action":"read","subject":102,"actor":105,"type":"contact","record":16,"rights":"CRUD","revision":1}}`},
		{"gate", gated, `{"level":"INFO","msg":"decided","decision":{"allowed":false,"action":"read","subject":114,"type":"contact","record":1,"rights":"-","gate":"expired","revision":1}}`},
		{"pointer", access.Decision{}, `{"level":"INFO","msg":"decided","decision":{"allowed":false,"action":"action(0)","subject":0,"type":"","record":0,"rights":"-","revision":0}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}}))
			var v any = c.d
			if c.name == "pointer" {
				v = &c.d
			}
			log.Info("decided", "decision", v)
			if diff := cmp.Diff(c.want, strings.TrimSpace(b.String())); diff != "" {
				t.Errorf("log line (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAllowedJSON: a WhoCan answer marshals to the documented object, with
// the associate's and the cause's names, and enums that read back.
func TestAllowedJSON(t *testing.T) {
	ctx := context.Background()
	e, _ := dResolver(t, dGoldenOrg())
	who, err := e.WhoCan(ctx, access.Delete, access.Record{Type: "contact", ID: 2, Team: dSalesGrp})
	if err != nil {
		t.Fatal(err)
	}
	if len(who) == 0 {
		t.Fatal("nobody may delete the contact")
	}
	type ref struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	type allowed struct {
		Associate ref      `json:"associate"`
		Rights    string   `json:"rights"`
		Relations []string `json:"relations"`
		Because   struct {
			Kind     string `json:"kind"`
			Role     *ref   `json:"role"`
			Relation string `json:"relation"`
			Group    *ref   `json:"group"`
			Rights   string `json:"rights"`
			Text     string `json:"text"`
		} `json:"because"`
	}
	for _, w := range who {
		raw, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		var got allowed
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if got.Associate != (ref{int64(w.Associate), w.Name}) || w.Name == "" {
			t.Errorf("%s: associate %+v, want %d %q", raw, got.Associate, w.Associate, w.Name)
		}
		if r, err := access.ParseCRUD(got.Rights); err != nil || r != w.Rights {
			t.Errorf("%s: rights %q read back as %v, %v", raw, got.Rights, r, err)
		}
		if k, err := access.ParseCauseKind(got.Because.Kind); err != nil || k != w.Because.Kind {
			t.Errorf("%s: cause kind %q read back as %v, %v", raw, got.Because.Kind, k, err)
		}
		if got.Because.Text != w.Text || w.Text == "" {
			t.Errorf("%s: text %q, want %q", raw, got.Because.Text, w.Text)
		}
		if w.Because.Kind == access.CauseRole && (got.Because.Role == nil || got.Because.Role.Name != w.Because.RoleName || w.Because.RoleName == "") {
			t.Errorf("%s: role %+v, want %q", raw, got.Because.Role, w.Because.RoleName)
		}
		if len(got.Relations) != len(w.Relations.All()) {
			t.Errorf("%s: relations %v, want %v", raw, got.Relations, w.Relations)
		}
	}
}
