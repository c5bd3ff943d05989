package access_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// siOrg is a small organisation for sign-in: one associate per type and
// gate, a role with backend-login (Sales), one without (Plain) and a
// group whose members get it (Back office, Dynamicweb's "allow backend
// login").
func siOrg() access.Batch {
	contact := map[string]access.Grid{"*": {access.Owner: access.R | access.U, access.Other: access.R}}
	return access.Batch{
		Roles: []access.Role{
			{ID: 1, Name: "Sales", Rights: contact, Functions: []string{access.FuncBackendLogin}},
			{ID: 2, Name: "Plain", Rights: contact},
		},
		Groups: []access.Group{
			{ID: 11, Name: "Staff"},
			{ID: 12, Name: "Back office", Functions: []string{access.FuncBackendLogin}},
		},
		Associates: []access.Associate{
			{ID: 101, Name: "anna", Type: access.Internal, Role: 1, PrimaryGroup: 11, Active: true},
			{ID: 102, Name: "bo", Type: access.Internal, Role: 2, PrimaryGroup: 11, Active: true},
			{ID: 103, Name: "cara", Type: access.Internal, Role: 2, PrimaryGroup: 11, Groups: []access.GroupID{12}, Active: true},
			{ID: 104, Name: "ext", Type: access.External, Role: 1, Active: true},
			{ID: 105, Name: "sys", Type: access.System, Role: 1, Active: true},
			{ID: 106, Name: "anon", Type: access.Anonymous, Role: 2, Active: true},
			{ID: 107, Name: "room", Type: access.Resource, Active: true},
			{ID: 108, Name: "gone", Type: access.Internal, Role: 1, PrimaryGroup: 11},
			{ID: 109, Name: "late", Type: access.Internal, Role: 1, PrimaryGroup: 11, Active: true, ValidFrom: dNow.Add(time.Hour)},
		},
	}
}

// siLicensed is siOrg with licences: Sales Premier for internal
// associates (anna holds it, bo none, cara only Next year's, not yet
// valid), and the Expander Collaboration licence for system and
// anonymous associates, which has expired.
func siLicensed() access.Batch {
	b := siOrg()
	b.Licences = []access.Licence{
		{ID: 1, Name: "Sales Premier", Seats: 3, For: []access.AssociateType{access.Internal}},
		{ID: 2, Name: "Expander Collaboration", ValidTo: dNow.Add(-time.Hour), For: []access.AssociateType{access.System, access.Anonymous}},
		{ID: 3, Name: "Next year", ValidFrom: dNow.Add(time.Hour), For: []access.AssociateType{access.Internal}},
	}
	hold := map[access.AssociateID][]access.LicenceID{101: {1}, 103: {3}, 105: {2}, 108: {1}, 109: {1}}
	for i := range b.Associates {
		b.Associates[i].Licences = hold[b.Associates[i].ID]
	}
	return b
}

func TestSignIn(t *testing.T) {
	type want struct {
		Allowed bool
		Gate    access.Gate
		Text    string
	}
	cases := []struct {
		name string
		org  func() access.Batch
		who  access.AssociateID
		ch   access.Channel
		want want
	}{
		{"internal, role grants backend-login: client", siOrg, 101, access.ChannelClient,
			want{true, access.GateNone, "allow: anna (101) may sign in through the client; internal associates may use the client; role Sales (1) grants backend-login"}},
		{"internal: API", siOrg, 101, access.ChannelAPI,
			want{true, access.GateNone, "allow: anna (101) may sign in through the API; internal associates may use the API"}},
		{"internal without backend-login: client", siOrg, 102, access.ChannelClient,
			want{false, access.GateNone, "deny: bo (102) may not sign in through the client; internal associates may use the client; neither its role nor any of its groups grants backend-login"}},
		{"internal without backend-login: API", siOrg, 102, access.ChannelAPI,
			want{true, access.GateNone, "allow: bo (102) may sign in through the API; internal associates may use the API"}},
		{"internal, group grants backend-login: client", siOrg, 103, access.ChannelClient,
			want{true, access.GateNone, "allow: cara (103) may sign in through the client; internal associates may use the client; group Back office (12) grants backend-login"}},
		{"external, role lists backend-login: client", siOrg, 104, access.ChannelClient,
			want{false, access.GateNone, "deny: ext (104) may not sign in through the client; external associates cannot sign in to the client: they use the API"}},
		{"external: API", siOrg, 104, access.ChannelAPI,
			want{true, access.GateNone, "allow: ext (104) may sign in through the API; external associates may use the API"}},
		{"system: client", siOrg, 105, access.ChannelClient,
			want{false, access.GateNone, "deny: sys (105) may not sign in through the client; system associates cannot sign in to the client: they use the API"}},
		{"system: API", siOrg, 105, access.ChannelAPI,
			want{true, access.GateNone, "allow: sys (105) may sign in through the API; system associates may use the API"}},
		{"anonymous: client", siOrg, 106, access.ChannelClient,
			want{false, access.GateNone, "deny: anon (106) may not sign in through the client; anonymous associates cannot sign in to the client: they use the API"}},
		{"anonymous: API", siOrg, 106, access.ChannelAPI,
			want{true, access.GateNone, "allow: anon (106) may sign in through the API; anonymous associates may use the API"}},
		{"resource: API", siOrg, 107, access.ChannelAPI,
			want{false, access.GateResource, "deny: room (107) may not sign in through the API; resources cannot sign in"}},
		{"inactive: client", siOrg, 108, access.ChannelClient,
			want{false, access.GateInactive, "deny: gone (108) may not sign in through the client; inactive"}},
		{"not yet valid: API", siOrg, 109, access.ChannelAPI,
			want{false, access.GateNotYetValid, "deny: late (109) may not sign in through the API; not yet valid"}},
		{"unknown", siOrg, 999, access.ChannelAPI,
			want{false, access.GateUnknown, "deny: associate 999 may not sign in through the API; unknown associate"}},

		{"licensed: client", siLicensed, 101, access.ChannelClient,
			want{true, access.GateNone, "allow: anna (101) may sign in through the client; internal associates may use the client; role Sales (1) grants backend-login"}},
		{"no licence: API", siLicensed, 102, access.ChannelAPI,
			want{false, access.GateNoLicence, "deny: bo (102) may not sign in through the API; no valid licence: needs licence Sales Premier (1)"}},
		{"licence not yet valid: client", siLicensed, 103, access.ChannelClient,
			want{false, access.GateNoLicence, "deny: cara (103) may not sign in through the client; no valid licence: licence Next year (3) not yet valid"}},
		{"external needs no licence: API", siLicensed, 104, access.ChannelAPI,
			want{true, access.GateNone, "allow: ext (104) may sign in through the API; external associates may use the API"}},
		{"system, licence expired: API", siLicensed, 105, access.ChannelAPI,
			want{false, access.GateNoLicence, "deny: sys (105) may not sign in through the API; no valid licence: licence Expander Collaboration (2) expired"}},
		{"anonymous without licence: API", siLicensed, 106, access.ChannelAPI,
			want{false, access.GateNoLicence, "deny: anon (106) may not sign in through the API; no valid licence: needs licence Expander Collaboration (2)"}},
		{"inactive comes before licence", siLicensed, 108, access.ChannelAPI,
			want{false, access.GateInactive, "deny: gone (108) may not sign in through the API; inactive"}},
		{"window comes before licence", siLicensed, 109, access.ChannelAPI,
			want{false, access.GateNotYetValid, "deny: late (109) may not sign in through the API; not yet valid"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, _ := dResolver(t, c.org())
			d, err := e.SignIn(context.Background(), c.who, c.ch)
			if err != nil {
				t.Fatal(err)
			}
			got := want{d.Allowed, d.Gate, d.String()}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("SignIn(%d, %s) (-want +got):\n%s", c.who, c.ch, diff)
			}
			if d.Channel != c.ch || d.Associate != c.who {
				t.Errorf("SignIn(%d, %s) answers for %d, %s", c.who, c.ch, d.Associate, d.Channel)
			}
		})
	}
}

func TestSignIn_badChannel(t *testing.T) {
	e, _ := dResolver(t, siOrg())
	for _, ch := range []access.Channel{0, 3, 255} {
		d, err := e.SignIn(context.Background(), 101, ch)
		if !errors.Is(err, access.ErrInvalid) || d.Allowed {
			t.Errorf("SignIn(101, %d) = %v, %v; want a denial and ErrInvalid", ch, d.Allowed, err)
		}
	}
}

// TestBackendLogin_internalOnly: a role or group listing backend-login
// gives it to internal associates only; Has, Permissions and the client
// channel agree.
func TestBackendLogin_internalOnly(t *testing.T) {
	e, _ := dResolver(t, siOrg())
	ctx := context.Background()
	for _, c := range []struct {
		who  access.AssociateID
		want bool
	}{{101, true}, {102, false}, {103, true}, {104, false}, {105, false}, {106, false}} {
		got, err := e.Has(ctx, c.who, access.FuncBackendLogin)
		if err != nil || got != c.want {
			t.Errorf("Has(%d, backend-login) = %v, %v; want %v", c.who, got, err, c.want)
		}
		p, err := e.Permissions(ctx, c.who)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(p.Functions, access.FuncBackendLogin) != (c.want && !p.System) {
			t.Errorf("Permissions(%d).Functions = %v", c.who, p.Functions)
		}
		if client := slices.Contains(p.SignIn, access.ChannelClient); client != c.want {
			t.Errorf("Permissions(%d).SignIn = %v; client %v, want %v", c.who, p.SignIn, client, c.want)
		}
	}
	// A system user still holds every other functional right.
	if ok, err := e.Has(ctx, 105, access.FuncAdmin); err != nil || !ok {
		t.Errorf("Has(system, admin) = %v, %v; want true", ok, err)
	}
}

func TestPermissions_signIn(t *testing.T) {
	e, _ := dResolver(t, siLicensed())
	ctx := context.Background()
	got := map[access.AssociateID][]access.Channel{}
	for id := access.AssociateID(101); id <= 109; id++ {
		p, err := e.Permissions(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got[id] = p.SignIn
	}
	want := map[access.AssociateID][]access.Channel{
		101: {access.ChannelClient, access.ChannelAPI},
		104: {access.ChannelAPI},
	}
	for id := access.AssociateID(101); id <= 109; id++ {
		if _, ok := want[id]; !ok {
			want[id] = nil
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Permissions.SignIn (-want +got):\n%s", diff)
	}
}

// TestLicenceGate: Can, Filter and Permissions stop an associate without
// a valid licence, and the cause names the licence.
func TestLicenceGate(t *testing.T) {
	e, _ := dResolver(t, siLicensed())
	ctx := context.Background()
	rec := access.Record{Type: "contact", ID: 1, Owner: 101}
	cases := []struct {
		who     access.AssociateID
		allowed bool
		gate    access.Gate
		cause   access.Cause
		text    string
	}{
		{101, true, access.GateNone, access.Cause{}, ""},
		{102, false, access.GateNoLicence,
			access.Cause{Kind: access.CauseGate, Gate: access.GateNoLicence, Licence: 1, LicenceProblem: access.LicenceMissing, LicenceName: "Sales Premier"},
			"deny: bo (102) needs read on contact 1; no valid licence: needs licence Sales Premier (1)"},
		{103, false, access.GateNoLicence,
			access.Cause{Kind: access.CauseGate, Gate: access.GateNoLicence, Licence: 3, LicenceProblem: access.LicenceNotYetValid, LicenceName: "Next year"},
			"deny: cara (103) needs read on contact 1; no valid licence: licence Next year (3) not yet valid"},
		{104, false, access.GateNone, access.Cause{}, ""}, // external: needs no licence, but the record is unpublished
		{105, false, access.GateNoLicence,
			access.Cause{Kind: access.CauseGate, Gate: access.GateNoLicence, Licence: 2, LicenceProblem: access.LicenceExpired, LicenceName: "Expander Collaboration"},
			"deny: sys (105) needs read on contact 1; no valid licence: licence Expander Collaboration (2) expired"},
		{106, false, access.GateNoLicence,
			access.Cause{Kind: access.CauseGate, Gate: access.GateNoLicence, Licence: 2, LicenceProblem: access.LicenceMissing, LicenceName: "Expander Collaboration"},
			"deny: anon (106) needs read on contact 1; no valid licence: needs licence Expander Collaboration (2)"},
	}
	for _, c := range cases {
		d, err := e.Can(ctx, c.who, access.Read, rec)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed != c.allowed || d.Gate != c.gate {
			t.Errorf("Can(%d) = %v, gate %s; want %v, %s", c.who, d.Allowed, d.Gate, c.allowed, c.gate)
		}
		f, err := e.Filter(ctx, c.who, access.Read, "contact")
		if err != nil {
			t.Fatal(err)
		}
		if f.Match(rec) != d.Allowed {
			t.Errorf("Filter(%d).Match = %v, Can %v", c.who, f.Match(rec), d.Allowed)
		}
		p, err := e.Permissions(ctx, c.who)
		if err != nil || p.Gate != c.gate {
			t.Errorf("Permissions(%d).Gate = %s, %v; want %s", c.who, p.Gate, err, c.gate)
		}
		if c.gate != access.GateNoLicence {
			continue
		}
		if diff := cmp.Diff([]access.Cause{c.cause}, d.Causes()); diff != "" {
			t.Errorf("Can(%d).Causes() (-want +got):\n%s", c.who, diff)
		}
		if d.String() != c.text {
			t.Errorf("Can(%d).String() = %q\nwant %q", c.who, d.String(), c.text)
		}
		var j struct {
			Causes []struct {
				Licence        struct{ ID int64 }
				LicenceProblem string `json:"licence_problem"`
			}
		}
		raw, err := json.Marshal(d)
		if err != nil || json.Unmarshal(raw, &j) != nil || len(j.Causes) != 1 ||
			j.Causes[0].Licence.ID != int64(c.cause.Licence) || j.Causes[0].LicenceProblem != c.cause.LicenceProblem.String() {
			t.Errorf("Can(%d) JSON = %s, %v", c.who, raw, err)
		}
	}
	who, err := e.WhoCan(ctx, access.Read, rec)
	if err != nil {
		t.Fatal(err)
	}
	var ids []access.AssociateID
	for _, a := range who {
		ids = append(ids, a.Associate)
	}
	if diff := cmp.Diff([]access.AssociateID{101}, ids); diff != "" {
		t.Errorf("WhoCan (-want +got):\n%s", diff)
	}
}

// TestLicenceGate_optional: without licences, or with licences that list
// no type, every decision is as before.
func TestLicenceGate_optional(t *testing.T) {
	plain := siOrg()
	inert := siOrg()
	inert.Licences = []access.Licence{{ID: 1, Name: "Unused", Seats: 1}}
	inert.Associates[0].Licences = []access.LicenceID{1}
	a, _ := dResolver(t, plain)
	b, _ := dResolver(t, inert)
	ctx := context.Background()
	for id := access.AssociateID(100); id <= 110; id++ {
		rec := access.Record{Type: "contact", ID: 1, Owner: 101}
		da, _ := a.Can(ctx, id, access.Read, rec)
		db, _ := b.Can(ctx, id, access.Read, rec)
		if da.Allowed != db.Allowed || da.Gate != db.Gate {
			t.Errorf("associate %d: %s\nwith an inert licence: %s", id, da, db)
		}
	}
}

// TestLicenceSeats: a write that gives a licence more holders than seats
// is refused with ErrInvalid, naming licence, seats and holders, and
// writes nothing; freeing a seat in the same batch makes room.
func TestLicenceSeats(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	if _, err := st.Apply(ctx, siLicensed()); err != nil {
		t.Fatal(err)
	}
	rev := st.Revision()
	// Sales Premier has 3 seats and 3 holders (anna, gone, late).
	bo, _ := st.Associate(ctx, 102)
	bo.Licences = []access.LicenceID{1}
	_, err := st.Apply(ctx, access.Batch{Associates: []access.Associate{bo}})
	if !errors.Is(err, access.ErrInvalid) || !strings.Contains(err.Error(), "licence 1 (Sales Premier)") ||
		!strings.Contains(err.Error(), "4 holders exceed its 3 seats") {
		t.Fatalf("a fourth holder: %v", err)
	}
	if st.Revision() != rev {
		t.Fatalf("a refused write moved the revision")
	}
	if got, _ := st.Associate(ctx, 102); len(got.Licences) != 0 {
		t.Fatalf("a refused write was half written: %+v", got)
	}
	gone, _ := st.Associate(ctx, 108)
	gone.Licences = nil
	if _, err := st.Apply(ctx, access.Batch{Associates: []access.Associate{bo, gone}}); err != nil {
		t.Fatalf("moving a seat: %v", err)
	}
	// Lowering the seats below the holders is refused too.
	l, _ := st.Licence(ctx, 1)
	l.Seats = 2
	if _, err := st.Apply(ctx, access.Batch{Licences: []access.Licence{l}}); !errors.Is(err, access.ErrInvalid) {
		t.Fatalf("seats below the holders: %v", err)
	}
	// A held licence cannot be deleted.
	if _, err := st.Apply(ctx, access.Batch{DeleteLicences: []access.LicenceID{1}}); !errors.Is(err, access.ErrInUse) {
		t.Fatalf("deleting a held licence: %v", err)
	}
}

// TestPropSignInMatchesReference: on random organisations with licences,
// SignIn agrees with the reference for every associate and channel, and
// Permissions.SignIn lists exactly the channels SignIn allows.
func TestPropSignInMatchesReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := dDrawOrg(t)
		e, _ := dResolver(t, o.b)
		m := newDecModel(&o.b)
		ctx := context.Background()
		for _, who := range append(slices.Clone(o.assocs), dGone) {
			var allowed []access.Channel
			for _, ch := range []access.Channel{access.ChannelClient, access.ChannelAPI} {
				d, err := e.SignIn(ctx, who, ch)
				if err != nil {
					t.Fatalf("SignIn(%d, %s): %v", who, ch, err)
				}
				ok, gate := m.signIn(who, ch, dNow)
				if d.Allowed != ok || d.Gate != gate {
					t.Fatalf("SignIn(%d, %s) = %v, gate %s; reference %v, gate %s\n%s", who, ch, d.Allowed, d.Gate, ok, gate, d)
				}
				if ok {
					allowed = append(allowed, ch)
				}
			}
			if who == dGone {
				continue
			}
			p, err := e.Permissions(ctx, who)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(allowed, p.SignIn); diff != "" {
				t.Fatalf("Permissions(%d).SignIn (-SignIn +Permissions):\n%s", who, diff)
			}
		}
	})
}

// TestPropLicenceGateSameEverywhere: Can, Filter and CanAs apply the
// licence gate alike: a subject stopped by it gets nothing from Filter,
// and cannot be impersonated or impersonate.
func TestPropLicenceGateSameEverywhere(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := dDrawOrg(t)
		e, _ := dResolver(t, o.b)
		ctx := context.Background()
		for _, who := range o.assocs {
			d, err := e.Can(ctx, who, access.Read, access.Record{Type: "contact", ID: 1})
			if err != nil {
				t.Fatal(err)
			}
			if d.Gate != access.GateNoLicence {
				continue
			}
			f, err := e.Filter(ctx, who, access.Read, "contact")
			if err != nil {
				t.Fatal(err)
			}
			if !f.Never() {
				t.Fatalf("associate %d fails the licence gate, but Filter is %v", who, f)
			}
			for _, other := range o.assocs {
				if other == who {
					continue
				}
				if _, err := e.Impersonate(ctx, who, other); !errors.Is(err, access.ErrImpersonatorGate) {
					t.Fatalf("Impersonate(%d unlicensed, %d): %v", who, other, err)
				}
				if _, err := e.Impersonate(ctx, other, who); err == nil {
					t.Fatalf("Impersonate(%d, %d unlicensed) succeeded", other, who)
				}
			}
		}
	})
}

// TestLicenceGate_allocs: Can stays allocation-free for licensed and
// unlicensed subjects alike.
func TestLicenceGate_allocs(t *testing.T) {
	e, _ := dResolver(t, siLicensed())
	ctx := context.Background()
	rec := access.Record{Type: "contact", ID: 1, Owner: 101}
	for _, who := range []access.AssociateID{101, 102, 103, 105} {
		if n := testing.AllocsPerRun(100, func() { e.Can(ctx, who, access.Read, rec) }); n != 0 {
			t.Errorf("Can(%d) allocates %v times", who, n)
		}
	}
}

func TestSignInDecision_JSON(t *testing.T) {
	e, _ := dResolver(t, siLicensed())
	ctx := context.Background()
	cases := []struct {
		who  access.AssociateID
		ch   access.Channel
		want string
	}{
		{101, access.ChannelClient, `{"allowed":true,"associate":{"id":101,"name":"anna"},"channel":"client","revision":1,"causes":[` +
			`{"kind":"type","allows":true,"type":"internal","text":"internal associates may use the client"},` +
			`{"kind":"backend login","allows":true,"role":{"id":1,"name":"Sales"},"text":"role Sales (1) grants backend-login"}],` +
			`"text":"allow: anna (101) may sign in through the client; internal associates may use the client; role Sales (1) grants backend-login"}`},
		{105, access.ChannelAPI, `{"allowed":false,"associate":{"id":105,"name":"sys"},"channel":"api","gate":"no valid licence","revision":1,"causes":[` +
			`{"kind":"gate","allows":false,"gate":"no valid licence","licence":{"id":2,"name":"Expander Collaboration"},"licence_problem":"expired",` +
			`"text":"no valid licence: licence Expander Collaboration (2) expired"}],` +
			`"text":"deny: sys (105) may not sign in through the API; no valid licence: licence Expander Collaboration (2) expired"}`},
		{999, access.ChannelAPI, `{"allowed":false,"associate":{"id":999},"channel":"api","gate":"unknown associate","revision":1,"causes":[` +
			`{"kind":"gate","allows":false,"gate":"unknown associate","text":"unknown associate"}],` +
			`"text":"deny: associate 999 may not sign in through the API; unknown associate"}`},
	}
	for _, c := range cases {
		d, err := e.SignIn(ctx, c.who, c.ch)
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c.want, string(got)); diff != "" {
			t.Errorf("SignIn(%d, %s) JSON (-want +got):\n%s", c.who, c.ch, diff)
		}
	}
	d, _ := e.SignIn(ctx, 103, access.ChannelClient)
	want := []access.SignInCause{{Kind: access.SignInGate, Gate: access.GateNoLicence, Licence: 3,
		LicenceProblem: access.LicenceNotYetValid, LicenceName: "Next year"}}
	if diff := cmp.Diff(want, d.Causes()); diff != "" {
		t.Errorf("Causes (-want +got):\n%s", diff)
	}
}

// TestLicenceGate_afterWrites: licence writes reach the resolver
// incrementally — a new licence gates its types at once, a renamed one is
// explained by the name it had at each decision's revision, and assigning
// it opens the gate.
func TestLicenceGate_afterWrites(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	if _, err := st.Apply(ctx, siOrg()); err != nil {
		t.Fatal(err)
	}
	e, err := access.NewResolver(ctx, st, &access.Options{Now: func() time.Time { return dNow }, PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	rec := access.Record{Type: "contact", ID: 1, Owner: 102}
	can := func() access.Decision {
		t.Helper()
		d, err := e.Can(ctx, 102, access.Read, rec)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := can(); !d.Allowed {
		t.Fatalf("before any licence: %s", d)
	}
	lic := access.Licence{ID: 1, Name: "Sales Premier", For: []access.AssociateType{access.Internal}}
	if _, err := st.Apply(ctx, access.Batch{Licences: []access.Licence{lic}}); err != nil {
		t.Fatal(err)
	}
	before := can()
	if before.Gate != access.GateNoLicence {
		t.Fatalf("after a licence for internal associates: %s", before)
	}
	lic.Name = "Sales Elite"
	if _, err := st.Apply(ctx, access.Batch{Licences: []access.Licence{lic}}); err != nil {
		t.Fatal(err)
	}
	if want := "deny: bo (102) needs read on contact 1; no valid licence: needs licence Sales Premier (1)"; before.String() != want {
		t.Errorf("kept decision after the rename:\n got %s\nwant %s", before, want)
	}
	if d := can(); !strings.Contains(d.String(), "Sales Elite (1)") {
		t.Errorf("new decision after the rename: %s", d)
	}
	bo, _ := st.Associate(ctx, 102)
	bo.Licences = []access.LicenceID{1}
	if _, err := st.Apply(ctx, access.Batch{Associates: []access.Associate{bo}}); err != nil {
		t.Fatal(err)
	}
	if d := can(); !d.Allowed {
		t.Errorf("after assigning the licence: %s", d)
	}
	if _, err := st.Apply(ctx, access.Batch{Licences: []access.Licence{{ID: 1, Name: "Sales Elite"}}}); err != nil {
		t.Fatal(err)
	}
	if d, _ := e.Can(ctx, 101, access.Read, rec); !d.Allowed {
		t.Errorf("once the licence lists no type, nobody needs it: %s", d)
	}
}
