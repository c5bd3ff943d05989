package access_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crmaccess/access"
)

// This file tests impersonation: who may act on behalf of whom, every
// refusal with its own error, and that a decision made on behalf of a
// target is the target's decision alone.

// Roles. Agent is below Manager, below Director; Customer is a tree of its
// own.
const (
	impDirector access.RoleID = 1
	impManager  access.RoleID = 2
	impAgent    access.RoleID = 3
	impCustomer access.RoleID = 4
)

// Groups.
const (
	impSupport   access.GroupID = 10
	impCustomers access.GroupID = 20
	impManagers  access.GroupID = 30
	impStaff     access.GroupID = 40
)

// Associates.
const (
	impSam     access.AssociateID = 1  // agent in Support
	impSue     access.AssociateID = 2  // agent in Support
	impMax     access.AssociateID = 3  // manager
	impDir     access.AssociateID = 4  // director
	impOff     access.AssociateID = 5  // agent in Support, inactive
	impKim     access.AssociateID = 11 // customer
	impLee     access.AssociateID = 12 // customer
	impOld     access.AssociateID = 13 // customer, inactive
	impExpired access.AssociateID = 14 // customer, out of its validity window
	impSys     access.AssociateID = 20 // system user
	impRoom    access.AssociateID = 21 // resource
	impGone    access.AssociateID = 99 // no such associate
)

// Rules.
const (
	impRuleSupportCustomers access.ImpersonationID = 1 // group → group
	impRuleSamMax           access.ImpersonationID = 2 // user → user, target above, named
	impRuleSupportManagers  access.ImpersonationID = 3 // group → group, targets above
	impRuleKimLee           access.ImpersonationID = 4 // user → user, peers
	impRuleLeeSam           access.ImpersonationID = 5 // user → user: Kim → Lee → Sam must not chain
)

func impOrg() access.Batch {
	orders := map[string]access.Grid{"order": {access.Owner: access.LevelFull}}
	staffOrders := map[string]access.Grid{"order": {access.Owner: access.LevelFull, access.Other: access.LevelFull, access.Unowned: access.LevelFull}}
	user := func(id access.AssociateID, name string, g access.GroupID, r access.RoleID) access.Associate {
		return access.Associate{ID: id, Name: name, PrimaryGroup: g, Role: r, Active: true}
	}
	off := user(impOff, "off", impSupport, impAgent)
	off.Active = false
	old := user(impOld, "old", impCustomers, impCustomer)
	old.Active = false
	expired := user(impExpired, "expired", impCustomers, impCustomer)
	expired.ValidTo = xNow.Add(-time.Hour)
	rule := func(id access.ImpersonationID, actor, target access.Principal) access.Impersonation {
		return access.Impersonation{ID: id, Actor: actor, Target: target}
	}
	as := func(id access.AssociateID) access.Principal { return access.Principal{Associate: id} }
	group := func(id access.GroupID) access.Principal { return access.Principal{Group: id} }
	return access.Batch{
		Roles: []access.Role{
			{ID: impDirector, Name: "Director", Rights: staffOrders},
			{ID: impManager, Name: "Manager", Parent: impDirector, Rights: staffOrders},
			{ID: impAgent, Name: "Agent", Parent: impManager, Rights: staffOrders},
			{ID: impCustomer, Name: "Customer", Rights: orders},
		},
		Groups: []access.Group{
			{ID: impSupport, Name: "Support"},
			{ID: impCustomers, Name: "Customers"},
			{ID: impManagers, Name: "Managers"},
			{ID: impStaff, Name: "Staff"},
		},
		Associates: []access.Associate{
			user(impSam, "sam", impSupport, impAgent),
			user(impSue, "sue", impSupport, impAgent),
			user(impMax, "max", impManagers, impManager),
			user(impDir, "dir", impStaff, impDirector),
			off,
			user(impKim, "kim", impCustomers, impCustomer),
			user(impLee, "lee", impCustomers, impCustomer),
			old,
			expired,
			{ID: impSys, Name: "sys", Type: access.System, Role: impDirector, Active: true},
			{ID: impRoom, Name: "room", Type: access.Resource, Active: true},
		},
		Impersonations: []access.Impersonation{
			rule(impRuleSupportCustomers, group(impSupport), group(impCustomers)),
			rule(impRuleSamMax, as(impSam), as(impMax)),
			rule(impRuleSupportManagers, group(impSupport), group(impManagers)),
			rule(impRuleKimLee, as(impKim), as(impLee)),
			rule(impRuleLeeSam, as(impLee), as(impSam)),
		},
	}
}

// impRefusals are the specific refusals; each must match only itself.
var impRefusals = []error{
	access.ErrNoImpersonationRule, access.ErrImpersonateSystem, access.ErrImpersonatorGate,
	access.ErrTargetGate, access.ErrTargetAbove, access.ErrImpersonateSelf,
}

func TestImpersonate(t *testing.T) {
	_, e := xResolver(t, impOrg())
	tests := []struct {
		name          string
		actor, target access.AssociateID
		rule          access.ImpersonationID // when allowed
		err           error
	}{
		{"group to group", impSam, impKim, impRuleSupportCustomers, nil},
		{"group to group, another member", impSue, impLee, impRuleSupportCustomers, nil},
		{"user to user, peers", impKim, impLee, impRuleKimLee, nil},
		{"user to user, target above but named", impSam, impMax, impRuleSamMax, nil},
		{"user to user, target below", impLee, impSam, impRuleLeeSam, nil},
		{"self", impSam, impSam, 0, access.ErrImpersonateSelf},
		{"self, even unknown", impGone, impGone, 0, access.ErrImpersonateSelf},
		{"actor inactive", impOff, impKim, 0, access.ErrImpersonatorGate},
		{"actor unknown", impGone, impKim, 0, access.ErrImpersonatorGate},
		{"actor is a resource", impRoom, impKim, 0, access.ErrImpersonatorGate},
		{"target inactive", impSam, impOld, 0, access.ErrTargetGate},
		{"target expired", impSam, impExpired, 0, access.ErrTargetGate},
		{"target unknown", impSam, impGone, 0, access.ErrTargetGate},
		{"target is a resource", impSam, impRoom, 0, access.ErrTargetGate},
		{"target is a system user", impSam, impSys, 0, access.ErrImpersonateSystem},
		{"system actor needs a rule too", impSys, impKim, 0, access.ErrNoImpersonationRule},
		{"target above through a group rule", impSue, impMax, 0, access.ErrTargetAbove},
		{"no rule", impSue, impDir, 0, access.ErrNoImpersonationRule},
		{"rules go one way", impLee, impKim, 0, access.ErrNoImpersonationRule},
		{"rules do not chain", impKim, impSam, 0, access.ErrNoImpersonationRule},
		{"target group is not actor group", impKim, impSue, 0, access.ErrNoImpersonationRule},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as, err := e.Impersonate(context.Background(), tt.actor, tt.target)
			if tt.err == nil {
				if err != nil {
					t.Fatalf("Impersonate(%d, %d): %v", tt.actor, tt.target, err)
				}
				want := access.Acting{Actor: tt.actor, Target: tt.target, Rule: tt.rule}
				if as != want {
					t.Errorf("Impersonate(%d, %d) = %+v, want %+v", tt.actor, tt.target, as, want)
				}
				return
			}
			if !errors.Is(err, tt.err) || !errors.Is(err, access.ErrImpersonation) {
				t.Fatalf("Impersonate(%d, %d) error = %v, want %v", tt.actor, tt.target, err, tt.err)
			}
			for _, other := range impRefusals {
				if other != tt.err && errors.Is(err, other) {
					t.Errorf("error %v also matches %v", err, other)
				}
			}
			if as != (access.Acting{}) {
				t.Errorf("a refusal came with %+v", as)
			}
		})
	}
}

func TestCanAs(t *testing.T) {
	ctx := context.Background()
	_, e := xResolver(t, impOrg())
	kimsOrder := access.Record{Type: "order", ID: 1, Owner: impKim}
	leesOrder := access.Record{Type: "order", ID: 2, Owner: impLee}
	as, err := e.Impersonate(ctx, impSam, impKim)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		act     access.Action
		rec     access.Record
		allowed bool
	}{
		{"the target's own order", access.Delete, kimsOrder, true},
		// Sam could delete Lee's order himself; Kim cannot, so Sam as Kim
		// cannot either.
		{"another customer's order", access.Read, leesOrder, false},
		{"an unowned order", access.Read, access.Record{Type: "order", ID: 3}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			own, err := e.Can(ctx, impSam, tt.act, tt.rec)
			if err != nil || !own.Allowed {
				t.Fatalf("the fixture is wrong: sam himself gets %v, %v", own, err)
			}
			d, err := e.CanAs(ctx, as, tt.act, tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed != tt.allowed {
				t.Errorf("CanAs allowed = %v, want %v: %s", d.Allowed, tt.allowed, d)
			}
			if d.Subject != impKim || d.Actor != impSam {
				t.Errorf("Subject %d, Actor %d; want %d acting as %d", d.Subject, d.Actor, impSam, impKim)
			}
			target, err := e.Can(ctx, impKim, tt.act, tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed != target.Allowed || d.Rights != target.Rights || d.Relations != target.Relations {
				t.Errorf("CanAs gives %v %s %s, Can for the target %v %s %s", d.Allowed, d.Rights, d.Relations, target.Allowed, target.Rights, target.Relations)
			}
			if target.Actor != 0 {
				t.Errorf("Can set Actor %d", target.Actor)
			}
		})
	}
	t.Run("the decision names the actor", func(t *testing.T) {
		d, _ := e.CanAs(ctx, as, access.Read, kimsOrder)
		want := "allow: kim (11) (acting: sam (1)) may read order 1; role Customer (4) grants CRUD for owner"
		if got := d.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	})
	t.Run("bad request", func(t *testing.T) {
		d, err := e.CanAs(ctx, as, access.Action(0), kimsOrder)
		if !errors.Is(err, access.ErrInvalid) || d.Allowed {
			t.Errorf("CanAs(action 0) = %v, %v; want a deny and ErrInvalid", d, err)
		}
	})
	t.Run("a forged Acting is checked again", func(t *testing.T) {
		forged := access.Acting{Actor: impKim, Target: impSam, Rule: impRuleKimLee}
		d, err := e.CanAs(ctx, forged, access.Read, leesOrder)
		if !errors.Is(err, access.ErrNoImpersonationRule) || d.Allowed {
			t.Errorf("CanAs(forged) = %v, %v; want a deny and ErrNoImpersonationRule", d, err)
		}
	})
}

func TestCanAsRevoked(t *testing.T) {
	ctx := context.Background()
	order := access.Record{Type: "order", ID: 1, Owner: impKim}
	tests := []struct {
		name   string
		change access.Batch
		err    error
	}{
		{"rule deleted", access.Batch{DeleteImpersonations: []access.ImpersonationID{impRuleSupportCustomers}}, access.ErrNoImpersonationRule},
		{"rule retargeted", access.Batch{Impersonations: []access.Impersonation{
			{ID: impRuleSupportCustomers, Actor: access.Principal{Group: impSupport}, Target: access.Principal{Group: impManagers}},
		}}, access.ErrNoImpersonationRule},
		{"actor left the group", access.Batch{Associates: []access.Associate{
			{ID: impSam, Name: "sam", PrimaryGroup: impStaff, Role: impAgent, Active: true},
		}}, access.ErrNoImpersonationRule},
		{"actor deactivated", access.Batch{Associates: []access.Associate{
			{ID: impSam, Name: "sam", PrimaryGroup: impSupport, Role: impAgent},
		}}, access.ErrImpersonatorGate},
		{"target deactivated", access.Batch{Associates: []access.Associate{
			{ID: impKim, Name: "kim", PrimaryGroup: impCustomers, Role: impCustomer},
		}}, access.ErrTargetGate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, e := xResolver(t, impOrg())
			as, err := e.Impersonate(ctx, impSam, impKim)
			if err != nil {
				t.Fatal(err)
			}
			if d, err := e.CanAs(ctx, as, access.Read, order); err != nil || !d.Allowed {
				t.Fatalf("before the change: %v, %v", d, err)
			}
			xApply(t, s, tt.change)
			d, err := e.CanAs(ctx, as, access.Read, order)
			if !errors.Is(err, tt.err) {
				t.Errorf("after the change, error = %v, want %v", err, tt.err)
			}
			if d.Allowed || d.Rights != 0 {
				t.Errorf("after the change CanAs still allows: %v", d)
			}
			if d.Actor != impSam || d.Subject != impKim {
				t.Errorf("the refusal's decision names %d acting as %d", d.Actor, d.Subject)
			}
		})
	}
}

// ---- Properties ----

// impModel is the reference for impersonation: the organisation in plain
// values, the rules written out the obvious way.
type impModel struct {
	ref   *refModel // effective groups, from reference_test.go
	rules []access.Impersonation
}

// gate reports whether the associate passes the gates at xNow.
func (m *impModel) gate(id access.AssociateID) bool {
	a, ok := m.ref.assocs[id]
	return ok && a.ActiveAt(xNow) && a.Type != access.Resource && a.Type != access.Anonymous
}

// is reports whether the associate is the principal: it, or an effective
// member of its group.
func (m *impModel) is(id access.AssociateID, p access.Principal) bool {
	if p.Associate != 0 {
		return p.Associate == id
	}
	eff, _ := m.ref.effective(id)
	_, ok := eff[p.Group]
	return ok
}

// below reports whether role r is strictly below role above.
func (m *impModel) below(r, above access.RoleID) bool {
	chain := m.ref.roleAndAbove(r)
	return len(chain) > 1 && slices.Contains(chain[1:], above)
}

// impersonate is the reference for Impersonate: the rule that lets actor
// act as target, or the refusal.
func (m *impModel) impersonate(actor, target access.AssociateID) (access.ImpersonationID, error) {
	switch {
	case actor == target:
		return 0, access.ErrImpersonateSelf
	case !m.gate(actor):
		return 0, access.ErrImpersonatorGate
	case !m.gate(target):
		return 0, access.ErrTargetGate
	case m.ref.assocs[target].Type == access.System:
		return 0, access.ErrImpersonateSystem
	}
	var named, grouped []access.ImpersonationID
	for _, r := range m.rules {
		if !m.is(actor, r.Actor) {
			continue
		}
		if r.Target.Associate == target {
			named = append(named, r.ID)
		} else if r.Target.Group != 0 && m.is(target, r.Target) {
			grouped = append(grouped, r.ID)
		}
	}
	switch {
	case len(named) > 0:
		return slices.Min(named), nil
	case len(grouped) == 0:
		return 0, access.ErrNoImpersonationRule
	case m.below(m.ref.assocs[actor].Role, m.ref.assocs[target].Role):
		return 0, access.ErrTargetAbove
	}
	return slices.Min(grouped), nil
}

// impDrawOrg draws a small organisation with impersonation rules between
// associates and groups, and grids on orders for every role.
func impDrawOrg(t *rapid.T) access.Batch {
	var b access.Batch
	nRoles := rapid.IntRange(1, 4).Draw(t, "roles")
	var roles []access.RoleID
	relations := []access.Relation{access.Owner, access.PrimaryGroup, access.OtherGroup, access.Subordinate, access.Other, access.Unowned}
	for i := 1; i <= nRoles; i++ {
		r := access.Role{ID: access.RoleID(i), Name: fmt.Sprintf("r%d", i), Rights: map[string]access.Grid{"order": {}}}
		if i > 1 {
			r.Parent = rapid.SampledFrom(append([]access.RoleID{0}, roles...)).Draw(t, "parent")
		}
		for _, rel := range relations {
			r.Rights["order"][rel] = cellOf(access.CRUD(rapid.IntRange(0, 15).Draw(t, "rights")))
		}
		roles = append(roles, r.ID)
		b.Roles = append(b.Roles, r)
	}
	nGroups := rapid.IntRange(1, 4).Draw(t, "groups")
	var groups []access.GroupID
	for i := 1; i <= nGroups; i++ {
		g := access.Group{ID: access.GroupID(10 + i), Name: fmt.Sprintf("g%d", i),
			Groups: catSubset(t, "nested", groups), RolesAndSubordinates: catSubset(t, "role trees", roles)}
		groups = append(groups, g.ID)
		b.Groups = append(b.Groups, g)
	}
	nAssocs := rapid.IntRange(2, 6).Draw(t, "associates")
	var ids []access.AssociateID
	for i := 1; i <= nAssocs; i++ {
		a := access.Associate{
			ID: access.AssociateID(100 + i), Name: fmt.Sprintf("a%d", i),
			Active:       rapid.IntRange(0, 5).Draw(t, "active") > 0,
			PrimaryGroup: rapid.SampledFrom(groups).Draw(t, "primary"),
			Groups:       catSubset(t, "secondary", groups),
			Role:         rapid.SampledFrom(roles).Draw(t, "role"),
		}
		ids = append(ids, a.ID)
		b.Associates = append(b.Associates, a)
	}
	b.Associates = append(b.Associates, access.Associate{ID: 200, Name: "sys", Type: access.System, Role: roles[0], Active: true})
	ids = append(ids, 200)
	principal := func(label string, system bool) access.Principal {
		if rapid.Bool().Draw(t, label+" is a group") {
			return access.Principal{Group: rapid.SampledFrom(groups).Draw(t, label+" group")}
		}
		from := ids
		if !system {
			from = ids[:len(ids)-1] // a rule may not name a system target
		}
		return access.Principal{Associate: rapid.SampledFrom(from).Draw(t, label)}
	}
	nRules := rapid.IntRange(0, 5).Draw(t, "rules")
	for i := 1; i <= nRules; i++ {
		b.Impersonations = append(b.Impersonations, access.Impersonation{
			ID: access.ImpersonationID(i), Actor: principal("actor", true), Target: principal("target", false),
		})
	}
	return b
}

// TestPropImpersonation holds Impersonate against the reference for every
// pair of associates, and checks that rules never chain and that CanAs
// never gives more than Can gives the target.
func TestPropImpersonation(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		b := impDrawOrg(t)
		_, e := xResolver(t, b)
		m := &impModel{ref: refFromBatch(&b), rules: b.Impersonations}
		ids := []access.AssociateID{999} // an unknown associate too
		for _, a := range b.Associates {
			ids = append(ids, a.ID)
		}
		allowed := map[[2]access.AssociateID]bool{}
		for _, actor := range ids {
			for _, target := range ids {
				wantRule, wantErr := m.impersonate(actor, target)
				as, err := e.Impersonate(ctx, actor, target)
				if !xErrIs(err, wantErr) || as.Rule != wantRule {
					t.Fatalf("Impersonate(%d, %d) = %+v, %v; want rule %d, %v", actor, target, as, err, wantRule, wantErr)
				}
				if err != nil {
					continue
				}
				allowed[[2]access.AssociateID{actor, target}] = true
				// The rule that allowed it names both sides directly.
				i := slices.IndexFunc(b.Impersonations, func(r access.Impersonation) bool { return r.ID == as.Rule })
				if i < 0 || !m.is(actor, b.Impersonations[i].Actor) || !m.is(target, b.Impersonations[i].Target) {
					t.Fatalf("Impersonate(%d, %d) cites rule %d, which does not name them", actor, target, as.Rule)
				}
			}
		}
		// Never transitive: a → b and b → c allow a → c only when a rule
		// says so directly.
		for ab := range allowed {
			for bc := range allowed {
				a, c := ab[0], bc[1]
				if ab[1] != bc[0] || a == c {
					continue
				}
				direct := slices.ContainsFunc(b.Impersonations, func(r access.Impersonation) bool {
					return m.is(a, r.Actor) && m.is(c, r.Target)
				})
				if allowed[[2]access.AssociateID{a, c}] && !direct {
					t.Fatalf("%d acts as %d only through %d", a, c, ab[1])
				}
			}
		}
		// CanAs decides as the target alone.
		for pair := range allowed {
			as, _ := e.Impersonate(ctx, pair[0], pair[1])
			rec := access.Record{
				Type:  "order",
				ID:    1,
				Owner: rapid.SampledFrom(append(ids, 0)).Draw(t, "owner"),
				Group: rapid.SampledFrom([]access.GroupID{0, 11, 12}).Draw(t, "record group"),
			}
			act := rapid.SampledFrom([]access.Action{access.Read, access.Create, access.Update, access.Delete}).Draw(t, "action")
			got, err := e.CanAs(ctx, as, act, rec)
			if err != nil {
				t.Fatalf("CanAs(%+v): %v", as, err)
			}
			want, err := e.Can(ctx, pair[1], act, rec)
			if err != nil {
				t.Fatal(err)
			}
			if got.Rights&^want.Rights != 0 || (got.Allowed && !want.Allowed) {
				t.Fatalf("CanAs gives more than Can for the target:\nCanAs: %s\nCan:   %s", got, want)
			}
			if got.Rights != want.Rights || got.Allowed != want.Allowed || got.Relations != want.Relations {
				t.Fatalf("CanAs differs from Can for the target:\nCanAs: %s\nCan:   %s", got, want)
			}
			if diff := cmp.Diff(want.Causes(), got.Causes()); diff != "" {
				t.Fatalf("causes differ (-Can +CanAs):\n%s", diff)
			}
			if got.Actor != pair[0] || got.Subject != pair[1] {
				t.Fatalf("CanAs decision names actor %d and subject %d, want %d and %d", got.Actor, got.Subject, pair[0], pair[1])
			}
		}
	})
}
