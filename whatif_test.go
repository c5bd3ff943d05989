package access_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// This file tests Engine.WhatIf: a rapid property against the naive
// difference (apply the change to a store, ask a fresh resolver), and
// table tests of the rendering and of the errors.

// whatIfSentinels are the errors a store and WhatIf must agree on.
var whatIfSentinels = []error{access.ErrInvalid, access.ErrCycle, access.ErrNameTaken, access.ErrInUse,
	access.ErrExists, access.ErrConflict, access.ErrNotFound}

// naiveView is one associate as the public questions answer.
type naiveView struct {
	exists bool
	status access.AccessStatus
	types  map[string]bool
	groups map[access.GroupID]access.Membership
	cells  map[naiveCell]naiveValue
	funcs  map[string]bool
	signIn map[access.Channel]access.SignInDecision
}

type naiveCell struct {
	typ   string
	kind  access.CauseKind
	rel   access.Relation
	rule  access.RuleID
	grant access.GrantID
	limit access.LimitID
}

type naiveValue struct {
	rights access.CRUD
	value  string // the rule, grant or limit, printed
	// record and scope are a limit's.
	record int64
	scope  access.LimitScope
}

// naiveChannels are the sign-in channels, in their defined order.
var naiveChannels = []access.Channel{access.ChannelClient, access.ChannelAPI}

// naiveAsk asks e everything about who, functional rights by Has over the
// universe of rights.
func naiveAsk(t *rapid.T, e *access.Engine, who access.AssociateID, universe []string) naiveView {
	ctx := context.Background()
	v := naiveView{types: map[string]bool{}, groups: map[access.GroupID]access.Membership{}, cells: map[naiveCell]naiveValue{}, funcs: map[string]bool{},
		signIn: map[access.Channel]access.SignInDecision{}}
	ms, err := e.EffectiveGroups(ctx, who)
	if errors.Is(err, access.ErrNotFound) {
		return v
	}
	if err != nil {
		t.Fatalf("EffectiveGroups(%d): %v", who, err)
	}
	v.exists = true
	for _, m := range ms {
		v.groups[m.Group] = m
	}
	p, err := e.Permissions(ctx, who)
	if err != nil {
		t.Fatalf("Permissions(%d): %v", who, err)
	}
	v.status = access.AccessStatus{Exists: true, Gate: p.Gate, System: p.System, Confined: p.Confined}
	for _, ch := range naiveChannels {
		if v.signIn[ch], err = e.SignIn(ctx, who, ch); err != nil {
			t.Fatalf("SignIn(%d, %s): %v", who, ch, err)
		}
	}
	for _, tp := range p.Types {
		v.types[tp.EntityType] = true
		for rel, c := range tp.Relations {
			if c != 0 {
				v.cells[naiveCell{typ: tp.EntityType, kind: access.CauseRole, rel: rel}] = naiveValue{rights: c}
			}
		}
		for _, r := range tp.Sharing {
			v.cells[naiveCell{typ: tp.EntityType, kind: access.CauseSharing, rule: r.ID}] = naiveValue{rights: r.Rights, value: fmt.Sprintf("%+v", r)}
		}
		for _, g := range tp.Grants {
			v.cells[naiveCell{typ: tp.EntityType, kind: access.CauseGrant, grant: g.ID}] = naiveValue{rights: g.Rights, value: fmt.Sprintf("%+v", g)}
		}
		if tp.Default != 0 {
			v.cells[naiveCell{typ: tp.EntityType, kind: access.CauseDefault}] = naiveValue{rights: tp.Default}
		}
		if m := tp.Max(); m != access.LevelFull {
			v.cells[naiveCell{typ: tp.EntityType, kind: access.CauseLimit}] = naiveValue{rights: m}
		}
		// A limit Max leaves out (on one record, or on unrelated records
		// only) is a cell of its own.
		for _, l := range tp.Limits {
			if l.RecordID != 0 || l.Scope != access.LimitAll {
				v.cells[naiveCell{typ: tp.EntityType, kind: access.CauseLimit, limit: l.ID}] = naiveValue{l.Max, fmt.Sprintf("%+v", l), l.RecordID, l.Scope}
			}
		}
	}
	if !p.System {
		for _, f := range universe {
			has, err := e.Has(ctx, who, f)
			if err != nil {
				t.Fatalf("Has(%d, %q): %v", who, f, err)
			}
			if has {
				v.funcs[f] = true
			}
		}
	}
	return v
}

// naiveDiff is the difference between two answers, built the obvious way.
func naiveDiff(who access.AssociateID, name string, was, is naiveView) (access.AssociateDiff, bool) {
	d := access.AssociateDiff{Associate: who, Name: name, Before: was.status, After: is.status}
	for _, g := range slices.Sorted(maps.Keys(was.groups)) {
		if _, ok := is.groups[g]; !ok {
			m := was.groups[g]
			d.Memberships = append(d.Memberships, access.MembershipChange{Group: m.Path[len(m.Path)-1], Before: &m})
		}
	}
	for _, g := range slices.Sorted(maps.Keys(is.groups)) {
		if _, ok := was.groups[g]; !ok {
			m := is.groups[g]
			d.Memberships = append(d.Memberships, access.MembershipChange{Group: m.Path[len(m.Path)-1], After: &m})
		}
	}
	slices.SortStableFunc(d.Memberships, func(x, y access.MembershipChange) int { return int(x.Group.ID - y.Group.ID) })
	// Every source seen, for every type either side has a row for; a type
	// without a row reads the "*" row, as Can decides.
	seen := map[naiveCell]bool{}
	for _, v := range []naiveView{was, is} {
		for c := range v.cells {
			for _, types := range []map[string]bool{{c.typ: true}, was.types, is.types} {
				for t := range types {
					c.typ = t
					seen[c] = true
				}
			}
		}
	}
	get := func(v naiveView, c naiveCell) naiveValue {
		if !v.types[c.typ] {
			c.typ = "*"
		}
		x, ok := v.cells[c]
		if !ok && c.kind == access.CauseLimit {
			x.rights = access.LevelFull // nothing caps the type, or not this limit
		}
		return x
	}
	cells := slices.Collect(maps.Keys(seen))
	slices.SortFunc(cells, func(x, y naiveCell) int {
		return cmpOr(compare(x.typ, y.typ), compare(x.kind, y.kind), compare(x.rel, y.rel), compare(x.rule, y.rule), compare(x.grant, y.grant), compare(x.limit, y.limit))
	})
	// A system user may do everything: its status says so, and neither
	// rights nor functional rights are listed against it.
	system := was.status.System || is.status.System
	for _, c := range cells {
		b, a := get(was, c), get(is, c)
		if system || b == a {
			continue
		}
		if c.typ != "*" {
			w := c
			w.typ = "*"
			if get(was, w) == b && get(is, w) == a {
				continue // the "*" row's change says it
			}
		}
		rc := access.RightsChange{EntityType: c.typ, Kind: c.kind, Relation: c.rel, Rule: c.rule, Grant: c.grant, Limit: c.limit,
			Before: b.rights, After: a.rights}
		if a.value != "" {
			rc.Record, rc.Scope = a.record, a.scope
		} else {
			rc.Record, rc.Scope = b.record, b.scope
		}
		d.Rights = append(d.Rights, rc)
	}
	if !system {
		for _, f := range slices.Sorted(maps.Keys(was.funcs)) {
			if !is.funcs[f] {
				d.Functions = append(d.Functions, access.FunctionChange{Function: f})
			}
		}
		for _, f := range slices.Sorted(maps.Keys(is.funcs)) {
			if !was.funcs[f] {
				d.Functions = append(d.Functions, access.FunctionChange{Function: f, Gained: true})
			}
		}
		slices.SortFunc(d.Functions, func(x, y access.FunctionChange) int { return compare(x.Function, y.Function) })
	}
	text := func(v naiveView, d access.SignInDecision) string {
		if !v.exists {
			return ""
		}
		return d.String()
	}
	for _, ch := range naiveChannels {
		if b, a := was.signIn[ch], is.signIn[ch]; b.Allowed != a.Allowed {
			d.SignIn = append(d.SignIn, access.SignInChange{Channel: ch, Gained: a.Allowed, Before: text(was, b), After: text(is, a)})
		}
	}
	changed := d.Before != d.After || len(d.Memberships)+len(d.Rights)+len(d.Functions)+len(d.SignIn) > 0
	return d, changed
}

func compare[T ~string | ~int64 | ~uint8](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpOr(xs ...int) int {
	for _, x := range xs {
		if x != 0 {
			return x
		}
	}
	return 0
}

// drawFunctions gives some roles and groups functional rights.
func drawFunctions(t *rapid.T, b *access.Batch, universe []string) {
	for i := range b.Roles {
		if rapid.IntRange(0, 2).Draw(t, "rolefn") == 0 {
			b.Roles[i].Functions = []string{rapid.SampledFrom(universe).Draw(t, "fn")}
		}
	}
	for i := range b.Groups {
		if b.Groups[i].Smart == "" && rapid.IntRange(0, 2).Draw(t, "groupfn") == 0 {
			b.Groups[i].Functions = []string{rapid.SampledFrom(universe).Draw(t, "fn")}
		}
	}
}

// drawChange draws a write against org: some entities of another random
// organisation put over it, and some of org's deleted.
func drawChange(t *rapid.T, org *access.Batch, universe []string) access.Batch {
	other := access.GenOrg(t)
	drawFunctions(t, &other, universe)
	var c access.Batch
	pick := func(label string) bool { return rapid.IntRange(0, 3).Draw(t, label) == 0 }
	for _, v := range other.Roles {
		if pick("putrole") {
			c.Roles = append(c.Roles, v)
		}
	}
	for _, v := range other.Groups {
		if pick("putgroup") {
			c.Groups = append(c.Groups, v)
		}
	}
	for _, v := range other.Associates {
		if pick("putassoc") {
			c.Associates = append(c.Associates, v)
		}
	}
	for _, v := range other.SharingRules {
		if pick("putrule") {
			c.SharingRules = append(c.SharingRules, v)
		}
	}
	for _, v := range other.Grants {
		if pick("putgrant") {
			c.Grants = append(c.Grants, v)
		}
	}
	// Nesting changed alone, which keeps the groups' defaults and
	// functional rights: the associates whose memberships move are then
	// compared on their memberships unless a group that matters moves.
	for _, g := range org.Groups {
		if g.Smart != "" || slices.ContainsFunc(c.Groups, func(x access.Group) bool { return x.ID == g.ID }) || !pick("renest") {
			continue
		}
		g.Groups = nil
		for j := access.GroupID(1); j < g.ID; j++ {
			if rapid.Bool().Draw(t, "child") {
				g.Groups = append(g.Groups, j)
			}
		}
		c.Groups = append(c.Groups, g)
	}
	del := func(label string) bool { return rapid.IntRange(0, 6).Draw(t, label) == 0 }
	for _, v := range org.Associates {
		if del("delassoc") {
			c.DeleteAssociates = append(c.DeleteAssociates, v.ID)
		}
	}
	for _, v := range org.Groups {
		if del("delgroup") {
			c.DeleteGroups = append(c.DeleteGroups, v.ID)
		}
	}
	for _, v := range org.SharingRules {
		if del("delrule") {
			c.DeleteSharingRules = append(c.DeleteSharingRules, v.ID)
		}
	}
	for _, v := range org.Grants {
		if del("delgrant") {
			c.DeleteGrants = append(c.DeleteGrants, v.ID)
		}
	}
	c.Limits = drawLimits(t, org, &other)
	for _, v := range org.Limits {
		if del("dellimit") {
			c.DeleteLimits = append(c.DeleteLimits, v.ID)
		}
	}
	// Deleting what is also put is invalid; keep the put.
	c.DeleteAssociates = slices.DeleteFunc(c.DeleteAssociates, func(id access.AssociateID) bool {
		return slices.ContainsFunc(c.Associates, func(a access.Associate) bool { return a.ID == id })
	})
	c.DeleteGroups = slices.DeleteFunc(c.DeleteGroups, func(id access.GroupID) bool {
		return slices.ContainsFunc(c.Groups, func(g access.Group) bool { return g.ID == id })
	})
	c.DeleteSharingRules = slices.DeleteFunc(c.DeleteSharingRules, func(id access.RuleID) bool {
		return slices.ContainsFunc(c.SharingRules, func(r access.SharingRule) bool { return r.ID == id })
	})
	c.DeleteGrants = slices.DeleteFunc(c.DeleteGrants, func(id access.GrantID) bool {
		return slices.ContainsFunc(c.Grants, func(g access.Grant) bool { return g.ID == id })
	})
	c.DeleteLimits = slices.DeleteFunc(c.DeleteLimits, func(id access.LimitID) bool {
		return slices.ContainsFunc(c.Limits, func(l access.Limit) bool { return l.ID == id })
	})
	return c
}

// drawLimits draws limits to put over org's: some of other's (a random
// organisation's: whole-type, on one record, on unrelated records,
// organisation-wide or on a group), and some of org's own with their
// record, scope, Max or group moved.
func drawLimits(t *rapid.T, org, other *access.Batch) []access.Limit {
	pick := func(label string) bool { return rapid.IntRange(0, 2).Draw(t, label) == 0 }
	var out []access.Limit
	for _, l := range other.Limits {
		if pick("putlimit") {
			out = append(out, l)
		}
	}
	levels := []access.CRUD{access.LevelNone, access.LevelRead, access.LevelCreate, access.LevelUpdate, access.LevelFull}
	for _, l := range org.Limits {
		if slices.ContainsFunc(out, func(x access.Limit) bool { return x.ID == l.ID }) || !pick("movelimit") {
			continue
		}
		switch rapid.IntRange(0, 3).Draw(t, "move") {
		case 0:
			if l.EntityType != "*" {
				l.RecordID = int64(rapid.IntRange(0, 4).Draw(t, "lrec"))
			}
		case 1:
			l.Scope = access.LimitScope(1 - l.Scope)
		case 2:
			l.Max = rapid.SampledFrom(levels).Draw(t, "lmax")
		case 3:
			l.Group = access.GroupID(rapid.IntRange(0, len(org.Groups)).Draw(t, "lgroup"))
		}
		out = append(out, l)
	}
	return out
}

// storedOrg draws an organisation a store accepts.
func storedOrg(t *rapid.T, universe []string) (*memory.Store, access.Batch) {
	org := access.GenOrg(t)
	drawFunctions(t, &org, universe)
	known := map[access.AssociateID]bool{}
	for _, a := range org.Associates {
		known[a.ID] = true
	}
	for i := range org.SharingRules {
		for _, p := range []*access.Principals{&org.SharingRules[i].From, &org.SharingRules[i].To} {
			p.Associates = slices.DeleteFunc(p.Associates, func(id access.AssociateID) bool { return !known[id] })
		}
	}
	s := memory.New()
	if _, err := s.Apply(context.Background(), org.Clone()); err != nil {
		t.Skipf("the store refuses the drawn organisation: %v", err)
	}
	return s, org
}

func TestPropWhatIfMatchesApplying(t *testing.T) {
	universe := []string{"export", "import", "admin"}
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		s, org := storedOrg(t, universe)
		e, err := access.NewResolver(ctx, s, &access.Options{PollInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		change := drawChange(t, &org, universe)
		rev := s.Revision()
		got, werr := e.WhatIf(ctx, change)
		if s.Revision() != rev || e.Revision() != rev {
			t.Fatalf("WhatIf moved the revision: store %d, resolver %d, want %d", s.Revision(), e.Revision(), rev)
		}
		var ids []access.AssociateID
		names := map[access.AssociateID]string{}
		for _, a := range org.Associates {
			ids = append(ids, a.ID)
			names[a.ID] = a.Name
		}
		for _, a := range change.Associates {
			ids = append(ids, a.ID)
			names[a.ID] = a.Name
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
		before := map[access.AssociateID]naiveView{}
		for _, id := range ids {
			before[id] = naiveAsk(t, e, id, universe)
		}
		_, aerr := s.Apply(ctx, change.Clone())
		for _, sentinel := range whatIfSentinels {
			if errors.Is(werr, sentinel) != errors.Is(aerr, sentinel) {
				t.Fatalf("WhatIf error %v, store error %v: disagree on %v", werr, aerr, sentinel)
			}
		}
		if (werr == nil) != (aerr == nil) {
			t.Fatalf("WhatIf error %v, store error %v", werr, aerr)
		}
		if aerr != nil {
			return
		}
		fresh, err := access.NewResolver(ctx, s, &access.Options{PollInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer fresh.Close()
		want := access.Diff{Revision: rev}
		for _, id := range ids {
			if d, changed := naiveDiff(id, names[id], before[id], naiveAsk(t, fresh, id, universe)); changed {
				want.Associates = append(want.Associates, d)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("WhatIf(%+v) (-want +got):\n%s", change, diff)
		}
	})
}

// TestWhatIfErrors: a change a store would refuse is refused with the
// same error, and nothing is written either way.
func TestWhatIfErrors(t *testing.T) {
	ctx := context.Background()
	s, e := seedResolver(t)
	rev := s.Revision()
	tests := []struct {
		name   string
		change access.Batch
		want   error
	}{
		{"create-only put of a held id", access.Batch{CreateOnly: true, Groups: []access.Group{{ID: 10, Name: "again"}}}, access.ErrExists},
		{"expected another revision", access.Batch{ExpectRevision: rev + 5, Groups: []access.Group{{ID: 900, Name: "new"}}}, access.ErrConflict},
		{"unknown reference", access.Batch{Groups: []access.Group{{ID: 900, Name: "new", Groups: []access.GroupID{12345}}}}, access.ErrInvalid},
		{"a cycle", access.Batch{Groups: []access.Group{{ID: 10, Name: "Team A", Groups: []access.GroupID{20}}}}, access.ErrCycle},
		{"delete in use", access.Batch{DeleteGroups: []access.GroupID{10}}, access.ErrInUse},
		{"name taken", access.Batch{Associates: []access.Associate{{ID: 999, Name: "PERSON1", Type: access.Internal, Active: true, PrimaryGroup: 10, Role: 1}}}, access.ErrNameTaken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, werr := e.WhatIf(ctx, tt.change)
			if !errors.Is(werr, tt.want) {
				t.Fatalf("WhatIf: %v, want an error wrapping %v", werr, tt.want)
			}
			_, aerr := s.Apply(ctx, tt.change)
			for _, sentinel := range whatIfSentinels {
				if errors.Is(werr, sentinel) != errors.Is(aerr, sentinel) {
					t.Errorf("WhatIf %v and Apply %v disagree on %v", werr, aerr, sentinel)
				}
			}
			if s.Revision() != rev {
				t.Fatalf("the store moved to revision %d", s.Revision())
			}
		})
	}
	d, err := e.WhatIf(ctx, access.Batch{ExpectRevision: rev})
	if err != nil || !d.Empty() || d.Revision != rev {
		t.Errorf("an empty change at the right revision: %v, %+v", err, d)
	}
}

// TestWhatIfCreateOnlyEveryKind: a create-only put of an id the model
// holds is refused with ErrExists, as the store refuses it, whatever the
// kind.
func TestWhatIfCreateOnlyEveryKind(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Apply(ctx, access.Batch{
		Groups:   []access.Group{{ID: 10, Name: "Sales"}},
		Limits:   []access.Limit{{ID: 1, Group: 10, EntityType: "*", Max: access.LevelRead}},
		Licences: []access.Licence{{ID: 1, Name: "Sales Elite"}},
	}); err != nil {
		t.Fatal(err)
	}
	e := newResolver(t, s, nil)
	tests := []struct {
		name   string
		change access.Batch
	}{
		{"group", access.Batch{CreateOnly: true, Groups: []access.Group{{ID: 10, Name: "again"}}}},
		{"limit", access.Batch{CreateOnly: true, Limits: []access.Limit{{ID: 1, Group: 10, EntityType: "*", Max: access.LevelNone}}}},
		{"licence", access.Batch{CreateOnly: true, Licences: []access.Licence{{ID: 1, Name: "again"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.WhatIf(ctx, tt.change); !errors.Is(err, access.ErrExists) {
				t.Errorf("WhatIf: %v, want an error wrapping ErrExists", err)
			}
			if _, err := s.Apply(ctx, tt.change); !errors.Is(err, access.ErrExists) {
				t.Errorf("Apply: %v, want an error wrapping ErrExists", err)
			}
		})
	}
}

// TestWhatIfJSON: the diff encodes with its counts, an empty one with an
// empty list.
func TestWhatIfJSON(t *testing.T) {
	ctx := context.Background()
	_, e := seedResolver(t)
	d, err := e.WhatIf(ctx, access.Batch{DeleteAssociates: []access.AssociateID{104}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Revision   access.Revision
		Associates []struct {
			Associate access.AssociateID
			Before    struct{ Exists bool }
			After     struct{ Exists bool }
		}
		Counts access.DiffCounts
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Associates) != 1 || got.Associates[0].Associate != 104 || !got.Associates[0].Before.Exists || got.Associates[0].After.Exists {
		t.Errorf("JSON of deleting associate 104: %s", data)
	}
	if diff := cmp.Diff(d.Counts(), got.Counts); diff != "" {
		t.Errorf("counts in JSON (-want +got):\n%s", diff)
	}
	empty, _ := json.Marshal(access.Diff{Revision: 3})
	if want := `{"revision":3,"associates":[],"counts":{"associates":0,"membershipsAdded":0,"membershipsRemoved":0,"rightsChanged":0,"rightsGaining":0,"rightsLosing":0,"functionsGained":0,"functionsLost":0,"signInGained":0,"signInLost":0,"statusChanged":0}}`; string(empty) != want {
		t.Errorf("empty diff as JSON:\n got %s\nwant %s", empty, want)
	}
}

// TestWhatIfDuringWrites previews changes while the store is written and
// the resolver follows it: the preview shares the published snapshot's
// arrays and must neither race with the real updates nor disturb them
// (run with -race).
func TestWhatIfDuringWrites(t *testing.T) {
	ctx := context.Background()
	s, e := seedResolver(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 50 {
			g := int64(900 + i%3)
			if _, err := s.Apply(ctx, access.Batch{
				Groups:     []access.Group{{ID: access.GroupID(g), Name: fmt.Sprint("g", g), Groups: []access.GroupID{10}}},
				Associates: []access.Associate{{ID: 101, Name: "person1", Type: access.Internal, Active: true, PrimaryGroup: 10, Groups: []access.GroupID{access.GroupID(g)}, Role: 2}},
			}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	change := access.Batch{Associates: []access.Associate{{ID: 103, Name: "person3", Type: access.Internal, Active: true, PrimaryGroup: 10, Role: 4}}}
	for range 50 {
		if _, err := e.WhatIf(ctx, change); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	if err := e.Sync(ctx, s.Revision()); err != nil {
		t.Fatal(err)
	}
	if err := access.CheckHeaders(e); err != nil {
		t.Errorf("after previews during writes: %v", err)
	}
	ms, err := e.EffectiveGroups(ctx, 103)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Group == 10 {
			t.Error("a preview moved person3 into group 10")
		}
	}
}

// TestWhatIfLimits: a limit on one record or on unrelated records only is
// a cell of its own, keyed by its id, for every associate it reaches; a
// whole-type denial stays the type's ceiling. Before, such limits made no
// difference in the diff while Can denied.
func TestWhatIfLimits(t *testing.T) {
	ctx := context.Background()
	org := access.Batch{
		Roles: []access.Role{{ID: 1, Name: "Sales", Rights: map[string]access.Grid{
			"*": {access.Owner: access.LevelFull, access.Other: access.LevelFull},
		}}},
		Groups: []access.Group{{ID: 10, Name: "Oslo"}, {ID: 20, Name: "Bergen"}},
		Associates: []access.Associate{
			{ID: 1, Name: "anna", Type: access.Internal, Active: true, PrimaryGroup: 10, Role: 1},
			{ID: 2, Name: "bo", Type: access.Internal, Active: true, PrimaryGroup: 20, Role: 1},
		},
		Limits: []access.Limit{{ID: 6, Group: 10, EntityType: "contact", RecordID: 42, Max: access.LevelRead}},
	}
	s := memory.New()
	if _, err := s.Apply(ctx, org.Clone()); err != nil {
		t.Fatal(err)
	}
	e := newResolver(t, s, nil)
	limit := func(who access.AssociateID, typ string, id access.LimitID, rec int64, scope access.LimitScope, before, after access.CRUD) access.AssociateDiff {
		names := map[access.AssociateID]string{1: "anna", 2: "bo"}
		st := access.AccessStatus{Exists: true}
		return access.AssociateDiff{Associate: who, Name: names[who], Before: st, After: st, Rights: []access.RightsChange{{
			EntityType: typ, Kind: access.CauseLimit, Limit: id, Record: rec, Scope: scope, Before: before, After: after}}}
	}
	tests := []struct {
		name   string
		change access.Batch
		want   []access.AssociateDiff
		text   []string // the rights lines of the diff's text, in order
	}{
		{"a limit on one record added", access.Batch{Limits: []access.Limit{{ID: 7, Group: 20, EntityType: "sale", RecordID: 9, Max: access.LevelNone}}},
			[]access.AssociateDiff{limit(2, "sale", 7, 9, access.LimitAll, access.LevelFull, access.LevelNone)},
			[]string{"sale, limit 7 on record 9: CRUD → - (-CRUD)"}},
		{"a limit on unrelated records added", access.Batch{Limits: []access.Limit{{ID: 8, EntityType: "*", Max: access.LevelRead, Scope: access.LimitUnrelated}}},
			[]access.AssociateDiff{
				limit(1, "*", 8, 0, access.LimitUnrelated, access.LevelFull, access.LevelRead),
				limit(2, "*", 8, 0, access.LimitUnrelated, access.LevelFull, access.LevelRead),
			},
			[]string{"*, limit 8 on unrelated records: CRUD → R (-CUD)", "*, limit 8 on unrelated records: CRUD → R (-CUD)"}},
		{"a limit's record moved", access.Batch{Limits: []access.Limit{{ID: 6, Group: 10, EntityType: "contact", RecordID: 43, Max: access.LevelRead}}},
			[]access.AssociateDiff{limit(1, "contact", 6, 43, access.LimitAll, access.LevelRead, access.LevelRead)},
			[]string{"contact, limit 6 on record 43: R → R (scope changed)"}},
		{"a limit made unrelated only", access.Batch{Limits: []access.Limit{{ID: 6, Group: 10, EntityType: "contact", RecordID: 42, Max: access.LevelRead, Scope: access.LimitUnrelated}}},
			[]access.AssociateDiff{limit(1, "contact", 6, 42, access.LimitUnrelated, access.LevelRead, access.LevelRead)},
			[]string{"contact, limit 6 on record 42 (unrelated only): R → R (scope changed)"}},
		{"a limit moved to another group", access.Batch{Limits: []access.Limit{{ID: 6, Group: 20, EntityType: "contact", RecordID: 42, Max: access.LevelUpdate}}},
			[]access.AssociateDiff{
				limit(1, "contact", 6, 42, access.LimitAll, access.LevelRead, access.LevelFull),
				limit(2, "contact", 6, 42, access.LimitAll, access.LevelFull, access.LevelUpdate),
			},
			[]string{"contact, limit 6 on record 42: R → CRUD (+CUD)", "contact, limit 6 on record 42: CRUD → CRU (-D)"}},
		{"a limit removed", access.Batch{DeleteLimits: []access.LimitID{6}},
			[]access.AssociateDiff{limit(1, "contact", 6, 42, access.LimitAll, access.LevelRead, access.LevelFull)},
			[]string{"contact, limit 6 on record 42: R → CRUD (+CUD)"}},
		{"a whole-type denial is the ceiling", access.Batch{Limits: []access.Limit{{ID: 9, Group: 20, EntityType: "sale", Max: access.LevelNone}}},
			[]access.AssociateDiff{{Associate: 2, Name: "bo", Before: access.AccessStatus{Exists: true}, After: access.AccessStatus{Exists: true},
				Rights: []access.RightsChange{{EntityType: "sale", Kind: access.CauseLimit, Before: access.LevelFull, After: access.LevelNone}}}},
			[]string{"sale, limits: CRUD → - (-CRUD)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := e.WhatIf(ctx, tt.change)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, d.Associates); diff != "" {
				t.Errorf("WhatIf (-want +got):\n%s", diff)
			}
			var text []string
			for _, a := range d.Associates {
				for _, r := range a.Rights {
					text = append(text, r.String())
				}
			}
			if diff := cmp.Diff(tt.text, text); diff != "" {
				t.Errorf("rights as text (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPropWhatIfLimitsMatchCan: a change to limits alone that changes
// what Can decides for an associate on some record lists a rights cell
// for that associate — whole-type limits, limits on one record and
// limits on unrelated records alike. Before limits other than whole-type
// ones were cells, such a change could show no difference while Can
// denied.
func TestPropWhatIfLimitsMatchCan(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	opts := &access.Options{PollInterval: -1, Now: func() time.Time { return now }}
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		s, org := storedOrg(t, []string{"export"})
		e, err := access.NewResolver(ctx, s, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		other := access.GenOrg(t)
		change := access.Batch{Limits: drawLimits(t, &org, &other)}
		for _, l := range org.Limits {
			if !slices.ContainsFunc(change.Limits, func(x access.Limit) bool { return x.ID == l.ID }) && rapid.IntRange(0, 3).Draw(t, "dellimit") == 0 {
				change.DeleteLimits = append(change.DeleteLimits, l.ID)
			}
		}
		d, werr := e.WhatIf(ctx, change)
		recs := make([]access.Record, 12)
		for i := range recs {
			recs[i] = access.GenRecord(t, &org)
		}
		// Asked before the store is written: the resolver follows it.
		type question struct {
			who access.AssociateID
			act access.Action
			rec access.Record
		}
		var qs []question
		var was []access.Decision
		var wasErr []error
		for _, a := range org.Associates {
			for _, rec := range recs {
				for act := access.Read; act <= access.Delete; act++ {
					dec, err := e.Can(ctx, a.ID, act, rec)
					qs, was, wasErr = append(qs, question{a.ID, act, rec}), append(was, dec), append(wasErr, err)
				}
			}
		}
		if _, aerr := s.Apply(ctx, change.Clone()); (werr == nil) != (aerr == nil) {
			t.Fatalf("WhatIf error %v, store error %v", werr, aerr)
		}
		if werr != nil {
			return
		}
		fresh, err := access.NewResolver(ctx, s, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer fresh.Close()
		listed := map[access.AssociateID][]access.RightsChange{}
		for _, a := range d.Associates {
			listed[a.Associate] = a.Rights
		}
		for i, q := range qs {
			is, err := fresh.Can(ctx, q.who, q.act, q.rec)
			if (wasErr[i] == nil) != (err == nil) {
				t.Fatalf("Can before: %v, after: %v", wasErr[i], err)
			}
			if err != nil {
				continue // a record Can refuses (genRecord draws some)
			}
			// The cell is the record type's, or the "*" row's when it
			// says the same.
			ofType := slices.ContainsFunc(listed[q.who], func(r access.RightsChange) bool {
				return r.EntityType == q.rec.Type || r.EntityType == "*"
			})
			if was[i].Allowed != is.Allowed && !ofType {
				t.Fatalf("change %+v: Can(%d, %s, %+v) goes from %v to %v, but the diff lists no rights of the type for the associate:\nbefore: %s\nafter: %s\ndiff: %s",
					change, q.who, q.act, q.rec, was[i].Allowed, is.Allowed, was[i], is, d.String())
			}
		}
	})
}
