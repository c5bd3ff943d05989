package access

// This file is what-if: the difference in effective access a change would
// make, computed before it is made. WhatIf validates the change against
// the resolver's snapshot as a store would, derives the would-be snapshot
// through the incremental update (update.go) without publishing it, and
// asks both snapshots the questions an admin asks about an associate —
// EffectiveGroups, Permissions, Has — through throwaway engines, so that
// every layer those questions learn flows into the diff unchanged.

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Diff is the difference in effective access a change would make: per
// associate whose access changes, the effective memberships added and
// removed (each with the path that explains it on its side), the
// permission cells that change and the functional rights gained and lost.
// The zero Diff is empty. Associates are in id order, and within one
// associate every list is in a fixed order, so that equal diffs render
// equally.
type Diff struct {
	// Revision is the revision the change was evaluated against.
	Revision Revision `json:"revision"`
	// Associates lists the associates whose access changes, by id.
	Associates []AssociateDiff `json:"associates"`
}

// AssociateDiff is what a change does to one associate's access.
type AssociateDiff struct {
	Associate AssociateID `json:"associate"`
	// Name is the associate's name after the change, or before it when the
	// change deletes the associate.
	Name string `json:"name"`
	// Before and After are the associate's standing on either side; they
	// differ when the change creates, deletes, deactivates or retypes it.
	Before AccessStatus `json:"before"`
	After  AccessStatus `json:"after"`
	// Memberships are the effective group memberships added or removed, by
	// group id.
	Memberships []MembershipChange `json:"memberships,omitempty"`
	// Rights are the permission cells that change (see [RightsChange]).
	// Neither Rights nor Functions are listed when the associate is a
	// system user on either side: a system user may do everything, and
	// the status change says so.
	Rights []RightsChange `json:"rights,omitempty"`
	// Functions are the functional rights gained or lost, by name.
	Functions []FunctionChange `json:"functions,omitempty"`
	// SignIn are the sign-in channels gained or lost ([Engine.SignIn]),
	// listed for system users too.
	SignIn []SignInChange `json:"signIn,omitempty"`
}

// SignInChange is one sign-in channel gained or lost.
type SignInChange struct {
	Channel Channel `json:"channel"`
	Gained  bool    `json:"gained"`
	// Before and After explain the decision on either side; empty for a
	// side where the associate does not exist.
	Before string `json:"before"`
	After  string `json:"after"`
}

// String renders the change as "+ client: allow: …" or "- api: deny: …",
// with the explanation of the side it comes to.
func (c SignInChange) String() string {
	if c.Gained {
		return "+ " + c.Channel.String() + ": " + c.After
	}
	return "- " + c.Channel.String() + ": " + c.After
}

// AccessStatus is an associate's standing, as [Engine.Permissions] reports
// it: whether it exists, the gate it fails, and whether it is a system
// user (which may do everything) or confined (external).
type AccessStatus struct {
	Exists   bool `json:"exists"`
	Gate     Gate `json:"gate"`
	System   bool `json:"system,omitempty"`
	Confined bool `json:"confined,omitempty"`
}

// String renders the status as "absent", "system", "external", "internal"
// or the gate that stops the associate.
func (s AccessStatus) String() string {
	switch {
	case !s.Exists:
		return "absent"
	case s.Gate != GateNone:
		return "gate " + s.Gate.String()
	case s.System:
		return "system"
	case s.Confined:
		return "external"
	}
	return "internal"
}

// MembershipChange is one effective membership a change adds or removes.
// Exactly one of Before and After is set: the membership with its
// explanation on the side where it holds.
type MembershipChange struct {
	Group  GroupRef    `json:"group"`
	Before *Membership `json:"before,omitempty"`
	After  *Membership `json:"after,omitempty"`
}

// Added reports whether the change adds the membership.
func (m MembershipChange) Added() bool { return m.After != nil }

// String renders the change as "+ Sales (20): …" or "- Sales (20): …",
// with the membership's explanation.
func (m MembershipChange) String() string {
	if m.After != nil {
		return "+ " + m.After.String()
	}
	if m.Before != nil {
		return "- " + m.Before.String()
	}
	return "? " + m.Group.String()
}

// RightsChange is one permission cell that a change alters. A cell is what
// one source gives an associate for one entity type, the unit of
// [TypePermissions]:
//   - Kind CauseRole: the role's rights for Relation;
//   - Kind CauseSharing: sharing rule Rule, which opens records of the
//     type to the associate with its Rights;
//   - Kind CauseGrant: grant Grant on the type or one of its records;
//   - Kind CauseDefault: the union of the associate's groups' default
//     permissions for the type;
//   - Kind CauseLimit with Limit 0: the ceiling the whole-type [LimitAll]
//     limits put on every record of the type ([TypePermissions.Max]; CRUD
//     where none does, or where the associate does not exist), so a new
//     denial shows as rights lost;
//   - Kind CauseLimit with Limit set: limit Limit, one that covers one
//     record of the type or has [LimitUnrelated] scope, with its Max as
//     the rights (CRUD where the limit does not reach the associate: no
//     cap).
//
// Before and After are the cell's rights on either side (empty where the
// source does not reach the associate, CRUD for a limit). A sharing rule,
// grant or limit that reaches the associate on both sides with the same
// rights but changes in another way (whose records it opens, which
// record, its scope) is a change with Before equal to After.
type RightsChange struct {
	EntityType string    `json:"entityType"`
	Kind       CauseKind `json:"kind"`
	Relation   Relation  `json:"relation,omitempty"`
	Rule       RuleID    `json:"rule,omitempty"`
	Grant      GrantID   `json:"grant,omitempty"`
	Limit      LimitID   `json:"limit,omitempty"`
	// Record and Scope are limit Limit's RecordID and Scope after the
	// change, or before it where the change takes the limit away from
	// the associate.
	Record int64      `json:"record,omitempty"`
	Scope  LimitScope `json:"scope,omitempty"`
	Before CRUD       `json:"before"`
	After  CRUD       `json:"after"`
}

// Gained returns the rights After has and Before lacks.
func (r RightsChange) Gained() CRUD { return r.After &^ r.Before }

// Lost returns the rights Before has and After lacks.
func (r RightsChange) Lost() CRUD { return r.Before &^ r.After }

// Source describes where the cell's rights come from: "role, relation
// owner", "sharing rule 3", "grant 7", "group defaults", "limits" (the
// whole-type ceiling), "limit 4 on record 42", "limit 4 on unrelated
// records" or "limit 4 on record 42 (unrelated only)".
func (r RightsChange) Source() string {
	switch r.Kind {
	case CauseRole:
		return "role, relation " + r.Relation.String()
	case CauseSharing:
		return fmt.Sprintf("sharing rule %d", r.Rule)
	case CauseGrant:
		return fmt.Sprintf("grant %d", r.Grant)
	case CauseDefault:
		return "group defaults"
	case CauseLimit:
		switch {
		case r.Limit == 0:
		case r.Record != 0 && r.Scope == LimitUnrelated:
			return fmt.Sprintf("limit %d on record %d (unrelated only)", r.Limit, r.Record)
		case r.Record != 0:
			return fmt.Sprintf("limit %d on record %d", r.Limit, r.Record)
		default:
			return fmt.Sprintf("limit %d on unrelated records", r.Limit)
		}
		return "limits"
	}
	return r.Kind.String()
}

// String renders the change as "contact, role, relation owner: R → CRU
// (+CU)".
func (r RightsChange) String() string {
	s := fmt.Sprintf("%s, %s: %s → %s", r.EntityType, r.Source(), r.Before, r.After)
	var delta []string
	if g := r.Gained(); g != 0 {
		delta = append(delta, "+"+g.String())
	}
	if l := r.Lost(); l != 0 {
		delta = append(delta, "-"+l.String())
	}
	if len(delta) == 0 {
		delta = append(delta, "scope changed")
	}
	return s + " (" + strings.Join(delta, " ") + ")"
}

// FunctionChange is one functional right (see [Engine.Has]) gained or lost.
type FunctionChange struct {
	Function string `json:"function"`
	Gained   bool   `json:"gained"`
}

// String renders the change as "+ export" or "- export".
func (f FunctionChange) String() string {
	if f.Gained {
		return "+ " + f.Function
	}
	return "- " + f.Function
}

// DiffCounts counts a [Diff]'s changes.
type DiffCounts struct {
	Associates         int `json:"associates"`
	MembershipsAdded   int `json:"membershipsAdded"`
	MembershipsRemoved int `json:"membershipsRemoved"`
	// RightsChanged counts changed cells; RightsGaining and RightsLosing
	// those that gain and lose some right (a cell may do both).
	RightsChanged   int `json:"rightsChanged"`
	RightsGaining   int `json:"rightsGaining"`
	RightsLosing    int `json:"rightsLosing"`
	FunctionsGained int `json:"functionsGained"`
	FunctionsLost   int `json:"functionsLost"`
	SignInGained    int `json:"signInGained"`
	SignInLost      int `json:"signInLost"`
	// StatusChanged counts the associates created, deleted or whose gate,
	// system or external standing changes.
	StatusChanged int `json:"statusChanged"`
}

// Empty reports whether the change would make no difference.
func (d *Diff) Empty() bool { return len(d.Associates) == 0 }

// Counts counts the diff's changes.
func (d *Diff) Counts() DiffCounts {
	c := DiffCounts{Associates: len(d.Associates)}
	for i := range d.Associates {
		a := &d.Associates[i]
		if a.Before != a.After {
			c.StatusChanged++
		}
		for _, m := range a.Memberships {
			if m.Added() {
				c.MembershipsAdded++
			} else {
				c.MembershipsRemoved++
			}
		}
		c.RightsChanged += len(a.Rights)
		for _, r := range a.Rights {
			if r.Gained() != 0 {
				c.RightsGaining++
			}
			if r.Lost() != 0 {
				c.RightsLosing++
			}
		}
		for _, f := range a.Functions {
			if f.Gained {
				c.FunctionsGained++
			} else {
				c.FunctionsLost++
			}
		}
		for _, s := range a.SignIn {
			if s.Gained {
				c.SignInGained++
			} else {
				c.SignInLost++
			}
		}
	}
	return c
}

// String renders the counts on one line.
func (c DiffCounts) String() string {
	return fmt.Sprintf("%d associates: %d status, memberships +%d -%d, %d rights cells (%d gaining, %d losing), functional rights +%d -%d, sign-in +%d -%d",
		c.Associates, c.StatusChanged, c.MembershipsAdded, c.MembershipsRemoved,
		c.RightsChanged, c.RightsGaining, c.RightsLosing, c.FunctionsGained, c.FunctionsLost,
		c.SignInGained, c.SignInLost)
}

// String renders the diff for humans: the counts, then per associate its
// status change, memberships, rights cells and functional rights.
func (d *Diff) String() string {
	var b strings.Builder
	if d.Empty() {
		fmt.Fprintf(&b, "no difference (revision %d)\n", d.Revision)
		return b.String()
	}
	fmt.Fprintf(&b, "revision %d: %s\n", d.Revision, d.Counts())
	for i := range d.Associates {
		a := &d.Associates[i]
		fmt.Fprintf(&b, "\n%s:\n", refString(a.Name, int64(a.Associate)))
		if a.Before != a.After {
			fmt.Fprintf(&b, "  status: %s → %s\n", a.Before, a.After)
		}
		if n := len(a.Memberships); n > 0 {
			fmt.Fprintf(&b, "  memberships (%d):\n", n)
			for _, m := range a.Memberships {
				fmt.Fprintf(&b, "    %s\n", m)
			}
		}
		if n := len(a.Rights); n > 0 {
			fmt.Fprintf(&b, "  rights (%d):\n", n)
			for _, r := range a.Rights {
				fmt.Fprintf(&b, "    %s\n", r)
			}
		}
		if n := len(a.Functions); n > 0 {
			fmt.Fprintf(&b, "  functional rights (%d):\n", n)
			for _, f := range a.Functions {
				fmt.Fprintf(&b, "    %s\n", f)
			}
		}
		if n := len(a.SignIn); n > 0 {
			fmt.Fprintf(&b, "  sign-in (%d):\n", n)
			for _, s := range a.SignIn {
				fmt.Fprintf(&b, "    %s\n", s)
			}
		}
	}
	return b.String()
}

// MarshalJSON encodes the diff with its counts.
func (d Diff) MarshalJSON() ([]byte, error) {
	type plain Diff
	as := d.Associates
	if as == nil {
		as = []AssociateDiff{}
	}
	p := plain(d)
	p.Associates = as
	return json.Marshal(struct {
		plain
		Counts DiffCounts `json:"counts"`
	}{p, d.Counts()})
}

// WhatIf reports the difference in effective access that applying change
// to the resolver's current model would make, without applying it: the
// store is not written, and the resolver keeps answering from the model it
// has.
//
// The change is checked as a store checks a write (see [Batch.Validate]),
// against the resolver's snapshot rather than the store, and fails with
// the same errors: [ErrInvalid], [ErrCycle], [ErrNameTaken], [ErrInUse];
// [ErrExists] for a CreateOnly put of an id the model holds; [ErrConflict]
// when ExpectRevision is not the resolver's revision.
//
// Only the associates the change can reach are compared: those whose
// memberships it changes, the holders of a role it writes, the effective
// members of a group it writes, those a sharing rule or grant it writes
// or deletes applies to on either side, and the effective members of the
// group a limit it writes or deletes names on either side (everyone, for
// an organisation-wide limit). A role tree reshaped, or a kind of write
// this function does not know, compares every associate. An associate
// whose only change is memberships of groups that no sharing rule, grant
// or limit names and that carry no default permission or functional right
// is compared on its memberships alone.
//
// What is compared is what [Engine.EffectiveGroups], [Engine.Permissions]
// and [Engine.Has] answer; categories and impersonation rules are not part
// of the diff.
func (e *Engine) WhatIf(ctx context.Context, change Batch) (Diff, error) {
	s, err := e.current()
	if err != nil {
		return Diff{}, err
	}
	d := Diff{Revision: s.rev}
	b, err := s.checkChange(ctx, &change)
	if err != nil || b.Empty() {
		return d, err
	}
	next := s.wouldBe(&b)
	now := e.now()
	clock := func() time.Time { return now }
	before, after := e.shadow(s, clock), e.shadow(next, clock)
	sc := s.whatIfScope(next, &b)
	for _, id := range sc.ids {
		if err := ctx.Err(); err != nil {
			return Diff{}, err
		}
		a, err := diffAssociate(ctx, before, after, id, sc.full[id] || sc.all, sc.relevant)
		if err != nil {
			return Diff{}, err
		}
		if !a.empty() {
			d.Associates = append(d.Associates, a)
		}
	}
	return d, nil
}

// checkChange returns the change as a store would write it (patches
// applied), or the error a store would refuse it with.
func (s *snapshot) checkChange(ctx context.Context, change *Batch) (Batch, error) {
	b := change.Clone()
	if b.ExpectRevision != 0 && b.ExpectRevision != s.rev {
		return b, fmt.Errorf("access: what-if: %w: the batch expects revision %d, the resolver is at revision %d", ErrConflict, b.ExpectRevision, s.rev)
	}
	if b.Empty() {
		return b, nil
	}
	v := snapView{s}
	if b.CreateOnly {
		err := b.eachPut(func(r Ref, _ any) error {
			if v.has(r) {
				return fmt.Errorf("access: what-if: %s: %w", r, ErrExists)
			}
			return nil
		})
		if err != nil {
			return b, err
		}
	}
	if err := b.Validate(ctx, v); err != nil {
		return b, err
	}
	if len(b.Patches) > 0 {
		p, err := b.Patched(ctx, v)
		if err != nil {
			return b, err
		}
		b = p
	}
	// A store keeps every associate the batch deletes as a past owner.
	return b.KeepPastOwners(ctx, v)
}

// wouldBe returns the snapshot that b, validated, would lead to. It is
// never published. The copy it starts from claims no share of the
// personal-group arena, so that the resolver's next real update still
// appends in place.
func (s *snapshot) wouldBe(b *Batch) *snapshot {
	base := *s
	base.personalArena = nil
	return base.update(&Delta{From: s.rev, To: s.rev + 1, Batch: *b})
}

// shadow returns an engine that answers from s at the fixed time now,
// with e's settings; it never refreshes, writes or audits.
func (e *Engine) shadow(s *snapshot, now func() time.Time) *Engine {
	x := &Engine{store: e.store, now: now, log: e.log, types: e.types, clock: e.clock}
	x.snap.Store(s)
	return x
}

// knownChangeFields are the fields of a Batch whose effect whatIfScope
// bounds; a write in any other field compares every associate, so that a
// kind of entity added later is safe before it is taught here.
var knownChangeFields = map[string]bool{
	"Roles": true, "Groups": true, "Associates": true, "SharingRules": true, "Grants": true,
	"Categories": true, "Impersonations": true,
	"DeleteRoles": true, "DeleteGroups": true, "DeleteAssociates": true, "DeleteSharingRules": true,
	"DeleteGrants": true, "DeleteCategories": true, "DeleteImpersonations": true,
	"Patches": true, "CreateOnly": true, "ExpectRevision": true,
	"Limits": true, "DeleteLimits": true,
	// Past owners only keep relations to records; no associate's
	// memberships, permissions or sign-in depend on them.
	"PastOwners": true, "ForgetPastOwners": true, "MovePastOwners": true,
}

// scope is the associates a write can reach (see whatIfScope).
type scope struct {
	// ids lists them, sorted.
	ids []AssociateID
	// full holds those whose permissions must be compared whatever
	// happens to their memberships; all says that is every one.
	full map[AssociateID]bool
	all  bool
	// relevant holds the indexes of the groups, on either side, whose
	// membership can change permissions: those a sharing rule or grant
	// names, or with default permissions or functional rights. An
	// associate outside full whose memberships change only in other
	// groups is compared on its memberships alone.
	relevant map[int32]bool
}

// whatIfScope returns the associates whose access the write b can change
// between s and next (see [Engine.WhatIf]).
func (s *snapshot) whatIfScope(next *snapshot, b *Batch) scope {
	sc := scope{full: map[AssociateID]bool{}, relevant: map[int32]bool{}}
	ids := map[AssociateID]bool{}
	add := func(n *assocNode) {
		if n != nil {
			ids[n.a.ID] = true
		}
	}
	full := func(n *assocNode) {
		if n != nil {
			ids[n.a.ID] = true
			sc.full[n.a.ID] = true
		}
	}
	done := func() scope {
		sc.ids = slices.Sorted(maps.Keys(ids))
		return sc
	}
	every := func() scope {
		for _, sn := range [2]*snapshot{s, next} {
			for _, n := range sn.assocs.all() {
				add(n)
			}
		}
		sc.all = true
		return done()
	}
	v := reflect.ValueOf(b).Elem()
	for i := range v.NumField() {
		if f := v.Type().Field(i); !knownChangeFields[f.Name] && !v.Field(i).IsZero() {
			return every()
		}
	}
	if s.reshapes(&Delta{Batch: *b}) {
		return every()
	}
	for _, sn := range [2]*snapshot{s, next} {
		sn.permissionGroups(sc.relevant)
	}
	// Memberships: the update lists every associate whose memberships it
	// recomputed.
	for _, i := range next.recomputed {
		add(s.assocs.get(i))
		add(next.assocs.get(i))
	}
	for _, a := range b.Associates {
		ids[a.ID] = true
		sc.full[a.ID] = true
	}
	for _, id := range b.DeleteAssociates {
		ids[id] = true
		sc.full[id] = true
	}
	// Role cells and functional rights: the role's holders.
	roles := map[RoleID]bool{}
	for _, r := range b.Roles {
		roles[r.ID] = true
	}
	// Group defaults and functional rights: the effective members of a
	// group whose defaults or functional rights change.
	var groups []GroupID
	for _, g := range b.Groups {
		if _, old := s.group(g.ID); old == nil || !reflect.DeepEqual(old.group.Defaults, g.Defaults) ||
			!slices.Equal(old.group.Functions, g.Functions) {
			groups = append(groups, g.ID)
		}
	}
	for _, sn := range [2]*snapshot{s, next} {
		if len(roles) > 0 {
			for _, n := range sn.assocs.all() {
				if n != nil && roles[n.a.Role] {
					full(n)
				}
			}
		}
		for _, g := range groups {
			if gi, gn := sn.group(g); gn != nil {
				for a := range sn.memberSet(gi).all() {
					full(sn.assocs.at(a))
				}
			}
		}
	}
	// Sharing rules and grants: whom they apply to, on either side.
	rules := b.DeleteSharingRules
	for _, r := range b.SharingRules {
		rules = append(rules, r.ID)
	}
	grants := b.DeleteGrants
	for _, g := range b.Grants {
		grants = append(grants, g.ID)
	}
	// Limits: the effective members of the group a limit names, on either
	// side; an organisation-wide limit reaches everyone.
	limits := b.DeleteLimits
	for _, l := range b.Limits {
		limits = append(limits, l.ID)
	}
	for _, sn := range [2]*snapshot{s, next} {
		for _, id := range limits {
			l, ok := sn.policy.limits[id]
			if !ok {
				continue
			}
			if l.Group == 0 {
				return every()
			}
			if gi, gn := sn.group(l.Group); gn != nil {
				for a := range sn.memberSet(gi).all() {
					full(sn.assocs.at(a))
				}
			}
		}
	}
	for _, sn := range [2]*snapshot{s, next} {
		var reach []func(n *assocNode) bool
		for _, id := range rules {
			if r := sn.policy.rules[id]; r != nil {
				reach = append(reach, func(n *assocNode) bool { return sn.holds(&r.to, n.a.ID, sn.subjectOfNode(n)) })
			}
		}
		for _, id := range grants {
			if g, ok := sn.policy.grants[id]; ok {
				gn := grantNode{assoc: g.Associate, gidx: -1}
				if gi, gg := sn.group(g.Group); gg != nil {
					gn.gidx = gi
				}
				reach = append(reach, func(n *assocNode) bool { return gn.applies(sn, n.a.ID, sn.subjectOfNode(n)) })
			}
		}
		if len(reach) == 0 {
			continue
		}
		for _, n := range sn.assocs.all() {
			if n == nil || sc.full[n.a.ID] {
				continue
			}
			for _, f := range reach {
				if f(n) {
					full(n)
					break
				}
			}
		}
	}
	return done()
}

// permissionGroups adds to set the indexes of the groups whose membership
// [Engine.Permissions] reads: those a sharing rule gives to, a grant is to
// or a limit names, and those with default permissions or functional
// rights.
func (s *snapshot) permissionGroups(set map[int32]bool) {
	for _, r := range s.policy.rules {
		for _, g := range r.to.groups {
			set[g] = true
		}
	}
	for _, g := range s.policy.grants {
		if gi, gn := s.group(g.Group); gn != nil {
			set[gi] = true
		}
	}
	for _, g := range s.policy.defaults {
		set[g] = true
	}
	for _, l := range s.policy.limits {
		if gi, gn := s.group(l.Group); gn != nil {
			set[gi] = true
		}
	}
	for _, gs := range s.policy.funcGroups {
		for _, g := range gs {
			set[g] = true
		}
	}
}

// accessView is what diffAssociate compares of one associate on one side
// beside its memberships.
type accessView struct {
	status AccessStatus
	types  map[string]bool // the rows Permissions lists
	cells  map[rightsCell]cellValue
	funcs  map[string]bool
	signIn [numChannels]signInView
}

// signInView is one channel's sign-in answer, explained with the names of
// the model it was asked of (the throwaway resolver of a what-if keeps no
// name history of its own).
type signInView struct {
	allowed bool
	text    string
}

// rightsCell identifies a cell: a RightsChange without its rights.
type rightsCell struct {
	EntityType string
	Kind       CauseKind
	Relation   Relation
	Rule       RuleID
	Grant      GrantID
	Limit      LimitID
}

// cellValue is a cell's rights and, for a rule, grant or limit, its
// value, so that a change of scope shows.
type cellValue struct {
	rights CRUD
	value  any
}

// viewOf asks e about associate id, which e's snapshot holds as n (nil:
// not at all).
func viewOf(ctx context.Context, e *Engine, n *assocNode) (accessView, error) {
	v := accessView{types: map[string]bool{}, cells: map[rightsCell]cellValue{}, funcs: map[string]bool{}}
	if n == nil {
		return v, nil
	}
	p, err := e.Permissions(ctx, n.a.ID)
	if err != nil {
		return v, err
	}
	v.status = AccessStatus{Exists: true, Gate: p.Gate, System: p.System, Confined: p.Confined}
	for _, tp := range p.Types {
		t := tp.EntityType
		v.types[t] = true
		for rel, c := range tp.Relations {
			if c != 0 {
				v.cells[rightsCell{EntityType: t, Kind: CauseRole, Relation: rel}] = cellValue{rights: c}
			}
		}
		for _, r := range tp.Sharing {
			v.cells[rightsCell{EntityType: t, Kind: CauseSharing, Rule: r.ID}] = cellValue{r.Rights, r}
		}
		for _, g := range tp.Grants {
			v.cells[rightsCell{EntityType: t, Kind: CauseGrant, Grant: g.ID}] = cellValue{g.Rights, g}
		}
		if tp.Default != 0 {
			v.cells[rightsCell{EntityType: t, Kind: CauseDefault}] = cellValue{rights: tp.Default}
		}
		if m := tp.Max(); m != LevelFull {
			v.cells[rightsCell{EntityType: t, Kind: CauseLimit}] = cellValue{rights: m}
		}
		// The other limits, which Max leaves out, are cells of their own.
		for _, l := range tp.Limits {
			if l.RecordID != 0 || l.Scope != LimitAll {
				v.cells[rightsCell{EntityType: t, Kind: CauseLimit, Limit: l.ID}] = cellValue{l.Max, l}
			}
		}
	}
	for _, f := range p.Functions {
		v.funcs[f] = true
	}
	own := names{h: &history{cur: e.snap.Load()}}
	for ch := range v.signIn {
		if !Channel(ch).Valid() {
			continue
		}
		d, err := e.SignIn(ctx, n.a.ID, Channel(ch))
		if err != nil {
			return v, err
		}
		v.signIn[ch] = signInView{d.Allowed, d.render(own)}
	}
	return v, nil
}

// diffAssociate compares associate id as before and after answer.
// Memberships are compared on the snapshots' nodes, whose group lists are
// what [Engine.EffectiveGroups] returns, and only the changed ones are
// explained: explaining every membership costs far more than comparing.
func diffAssociate(ctx context.Context, before, after *Engine, id AssociateID, full bool, relevant map[int32]bool) (AssociateDiff, error) {
	s, next := before.snap.Load(), after.snap.Load()
	_, wn := s.assoc(id)
	_, in := next.assoc(id)
	ms := membershipChanges(s, next, wn, in)
	full = full || wn == nil || in == nil
	if !full {
		// Only memberships can have changed: unless one of a group
		// permissions read, that is all there is to compare.
		full = slices.ContainsFunc(ms, func(m MembershipChange) bool {
			return m.Before != nil && relevant[s.groupIdx[m.Group.ID]] || m.After != nil && relevant[next.groupIdx[m.Group.ID]]
		})
	}
	if !full {
		st := statusOf(s, wn, before.now)
		return AssociateDiff{Associate: id, Name: wn.a.Name, Before: st, After: st, Memberships: ms}, nil
	}
	was, err := viewOf(ctx, before, wn)
	if err != nil {
		return AssociateDiff{}, err
	}
	is, err := viewOf(ctx, after, in)
	if err != nil {
		return AssociateDiff{}, err
	}
	d := AssociateDiff{Associate: id, Before: was.status, After: is.status}
	if in != nil {
		d.Name = in.a.Name
	} else if wn != nil {
		d.Name = wn.a.Name
	}
	d.Memberships = ms
	for ch := range is.signIn {
		if w, i := &was.signIn[ch], &is.signIn[ch]; Channel(ch).Valid() && w.allowed != i.allowed {
			d.SignIn = append(d.SignIn, SignInChange{Channel: Channel(ch), Gained: i.allowed, Before: w.text, After: i.text})
		}
	}
	if was.status.System || is.status.System {
		// A system user may do everything: the status says so, and a
		// list of cells or functional rights against it would mislead.
		return d, nil
	}
	d.Rights = rightsChanges(&was, &is)
	funcs := maps.Clone(was.funcs)
	maps.Copy(funcs, is.funcs)
	for _, f := range slices.Sorted(maps.Keys(funcs)) {
		if was.funcs[f] != is.funcs[f] {
			d.Functions = append(d.Functions, FunctionChange{Function: f, Gained: is.funcs[f]})
		}
	}
	return d, nil
}

// statusOf is the standing of the associate of node n (nil: none), as
// [Engine.Permissions] reports it.
func statusOf(s *snapshot, n *assocNode, now func() time.Time) AccessStatus {
	if n == nil {
		return AccessStatus{}
	}
	st := AccessStatus{Exists: true, Gate: s.gate(n, now)}
	if st.Gate == GateNone {
		st.System, st.Confined = n.a.Type == System, n.a.Type == External
	}
	return st
}

// membershipChanges lists, by group id, the memberships of node wn in s
// that node in in next lacks and those it adds, each explained on its
// side. Group indexes are stable across an update, so the sorted index
// lists compare directly.
func membershipChanges(s, next *snapshot, wn, in *assocNode) []MembershipChange {
	var was, is []int32
	if wn != nil {
		was = s.groupsOf(wn)
	}
	if in != nil {
		is = next.groupsOf(in)
	}
	var out []MembershipChange
	var wasVias, isVias []via // computed for the first change on each side
	i, j := 0, 0
	for i < len(was) || j < len(is) {
		switch {
		case j == len(is) || i < len(was) && was[i] < is[j]:
			if wasVias == nil {
				_, wasVias = s.explanations(wn)
			}
			m := s.explainVia(wn, was, wasVias, was[i])
			out = append(out, MembershipChange{Group: m.Path[len(m.Path)-1], Before: &m})
			i++
		case i == len(was) || is[j] < was[i]:
			if isVias == nil {
				_, isVias = next.explanations(in)
			}
			m := next.explainVia(in, is, isVias, is[j])
			out = append(out, MembershipChange{Group: m.Path[len(m.Path)-1], After: &m})
			j++
		default:
			i++
			j++
		}
	}
	slices.SortStableFunc(out, func(x, y MembershipChange) int { return cmp.Compare(x.Group.ID, y.Group.ID) })
	return out
}

// rightsChanges lists the cells that differ between was and is. A type
// without a row of its own gets what the Wildcard row says, on either
// side, as [Engine.Can] decides; and a type's change that only repeats
// the Wildcard row's is left out.
func rightsChanges(was, is *accessView) []RightsChange {
	keys := map[rightsCell]bool{}
	for _, v := range [2]*accessView{was, is} {
		for k := range v.cells {
			keys[k] = true
			for t := range was.types {
				k.EntityType = t
				keys[k] = true
			}
			for t := range is.types {
				k.EntityType = t
				keys[k] = true
			}
		}
	}
	var out []RightsChange
	for _, k := range slices.SortedFunc(maps.Keys(keys), compareCells) {
		b, a := was.cell(k), is.cell(k)
		if b.rights == a.rights && reflect.DeepEqual(b.value, a.value) {
			continue
		}
		if k.EntityType != Wildcard {
			// The Wildcard row's change already says it when both sides
			// of this row are the Wildcard row's, source and all.
			w := k
			w.EntityType = Wildcard
			if reflect.DeepEqual(was.cell(w), b) && reflect.DeepEqual(is.cell(w), a) {
				continue
			}
		}
		rc := RightsChange{EntityType: k.EntityType, Kind: k.Kind, Relation: k.Relation,
			Rule: k.Rule, Grant: k.Grant, Limit: k.Limit, Before: b.rights, After: a.rights}
		if l, ok := a.value.(Limit); ok {
			rc.Record, rc.Scope = l.RecordID, l.Scope
		} else if l, ok := b.value.(Limit); ok {
			rc.Record, rc.Scope = l.RecordID, l.Scope
		}
		out = append(out, rc)
	}
	return out
}

// cell returns the value of cell k: its row's, or the Wildcard row's
// when the type has no row.
func (v *accessView) cell(k rightsCell) cellValue {
	if !v.types[k.EntityType] {
		k.EntityType = Wildcard
	}
	c, ok := v.cells[k]
	if !ok && k.Kind == CauseLimit {
		c.rights = LevelFull // no limit caps the type, or not this one
	}
	return c
}

func compareCells(x, y rightsCell) int {
	return cmp.Or(cmp.Compare(x.EntityType, y.EntityType), cmp.Compare(x.Kind, y.Kind),
		cmp.Compare(x.Relation, y.Relation), cmp.Compare(x.Rule, y.Rule), cmp.Compare(x.Grant, y.Grant),
		cmp.Compare(x.Limit, y.Limit))
}

func (a *AssociateDiff) empty() bool {
	return a.Before == a.After && len(a.Memberships)+len(a.Rights)+len(a.Functions)+len(a.SignIn) == 0
}

// snapView is a snapshot as [Batch.Validate] sees a store: the model the
// snapshot compiles.
type snapView struct{ s *snapshot }

func (v snapView) Role(_ context.Context, id RoleID) (Role, error) {
	if rn := v.s.roles[id]; rn != nil {
		return rn.role, nil
	}
	return Role{}, fmt.Errorf("access: role %d: %w", id, ErrNotFound)
}

func (v snapView) Group(_ context.Context, id GroupID) (Group, error) {
	if _, gn := v.s.group(id); gn != nil {
		return gn.group, nil
	}
	return Group{}, fmt.Errorf("access: group %d: %w", id, ErrNotFound)
}

func (v snapView) Associate(_ context.Context, id AssociateID) (Associate, error) {
	if _, n := v.s.assoc(id); n != nil {
		return *n.a, nil
	}
	return Associate{}, fmt.Errorf("access: associate %d: %w", id, ErrNotFound)
}

func (v snapView) AssociateByName(_ context.Context, name string) (Associate, error) {
	if ValidName(name) {
		id, many := v.s.byName.assocs.get(v.s, loginKey(name))
		if len(many) > 0 {
			id = many[0]
		}
		if _, n := v.s.assoc(id); id != 0 && n != nil {
			return *n.a, nil
		}
	}
	return Associate{}, fmt.Errorf("access: associate named %q: %w", name, ErrNotFound)
}

func (v snapView) Category(_ context.Context, id CategoryID) (Category, error) {
	if c := v.s.policy.categories[id]; c != nil {
		return c.cat, nil
	}
	return Category{}, fmt.Errorf("access: category %d: %w", id, ErrNotFound)
}

func (v snapView) Licence(_ context.Context, id LicenceID) (Licence, error) {
	if l := v.s.licences.all()[id]; l != nil {
		return l.clone(), nil
	}
	return Licence{}, fmt.Errorf("access: licence %d: %w", id, ErrNotFound)
}

func (v snapView) PastOwnersIn(_ context.Context, g GroupID) ([]PastOwner, error) {
	var out []PastOwner
	for _, p := range v.s.pastOwnerList() {
		if p.PrimaryGroup == g {
			out = append(out, p)
		}
	}
	return out, nil
}

// Dependants scans the whole model: deletes are rare and a what-if is not
// on a hot path.
func (v snapView) Dependants(_ context.Context, ref Ref) ([]Ref, error) {
	if ref.Kind < KindRole || ref.Kind > KindLicence {
		return nil, fmt.Errorf("access: dependants of %s: %w: unknown kind", ref, ErrInvalid)
	}
	var out []Ref
	check := func(k Kind, id int64, e any) {
		if refersTo(e, ref) {
			out = append(out, Ref{k, id})
		}
	}
	s := v.s
	for id, rn := range s.roles {
		check(KindRole, int64(id), &rn.role)
	}
	for _, gn := range s.groups {
		if gn != nil {
			check(KindGroup, int64(gn.group.ID), &gn.group)
		}
	}
	for _, n := range s.assocs.all() {
		if n != nil {
			check(KindAssociate, int64(n.a.ID), n.a)
		}
	}
	for id, r := range s.policy.rules {
		check(KindSharingRule, int64(id), &r.rule)
	}
	for id, g := range s.policy.grants {
		check(KindGrant, int64(id), &g)
	}
	for id, c := range s.policy.categories {
		check(KindCategory, int64(id), &c.cat)
	}
	for id, m := range s.policy.impersonations {
		check(KindImpersonation, int64(id), &m.imp)
	}
	for id, l := range s.policy.limits {
		check(KindLimit, int64(id), &l)
	}
	slices.SortFunc(out, compareRefs)
	return out, nil
}

// has reports whether the snapshot holds the entity r.
func (v snapView) has(r Ref) bool {
	s := v.s
	switch r.Kind {
	case KindRole:
		return s.roles[RoleID(r.ID)] != nil
	case KindGroup:
		_, gn := s.group(GroupID(r.ID))
		return gn != nil
	case KindAssociate:
		_, n := s.assoc(AssociateID(r.ID))
		return n != nil
	case KindSharingRule:
		return s.policy.rules[RuleID(r.ID)] != nil
	case KindGrant:
		_, ok := s.policy.grants[GrantID(r.ID)]
		return ok
	case KindCategory:
		return s.policy.categories[CategoryID(r.ID)] != nil
	case KindImpersonation:
		return s.policy.impersonations[ImpersonationID(r.ID)] != nil
	case KindLimit:
		_, ok := s.policy.limits[LimitID(r.ID)]
		return ok
	case KindLicence:
		return s.licences.all()[LicenceID(r.ID)] != nil
	}
	return false
}
