package access

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// This file compiles the parts of a snapshot that decisions read besides
// membership: role grids, sharing rules, grants, group defaults, functional
// rights, categories and impersonation rules. They are small next to the
// associates, so any change to them (or to groups, whose indexes they hold)
// recompiles all of them.

// grid is a role's compiled rights for one entity type.
type grid [numRelations]CRUD

// compileGrid turns a Grid map into an array indexed by relation. Unless
// limitTeams is set, the Team cell also holds the Owner cell: every
// effective member of a record's team is an owner of it. Compiling it in
// here keeps Can, Filter, WhoCan and Permissions, which all read compiled
// grids, of one mind.
func compileGrid(g Grid, limitTeams bool) *grid {
	var out grid
	for r, c := range g {
		// failClosed has mended loaded data already; this keeps the
		// grid right for any other caller.
		if r.Valid() && c.Valid() {
			out[r] = c
		}
	}
	if !limitTeams {
		out[Team] |= out[Owner]
	}
	return &out
}

// rights returns the role's grid for an entity type: its own row, else
// the "*" row, else nil (no rights).
func (n *roleNode) rights(typ string) *grid {
	if g, ok := n.grids[typ]; ok {
		return g
	}
	return n.wild
}

// rightsAt is rights for an interned type (see snapshot.typeOf).
func (n *roleNode) rightsAt(t int32) *grid {
	if int(t) < len(n.gridAt) {
		if g := n.gridAt[t]; g != nil {
			return g
		}
	}
	return n.wild
}

// typeOf returns the interned index of an entity type, or 0 for a type
// that no role, rule, grant or default names (only "*" entries apply to
// it). A decision hashes the type once, here; everything per type is then
// an array lookup.
func (s *snapshot) typeOf(typ string) int32 {
	if len(s.typeNames) <= 8 {
		// A few types: comparing is cheaper than hashing.
		for i, name := range s.typeNames {
			if name == typ {
				return int32(i + 1)
			}
		}
		return 0
	}
	return s.types[typ]
}

// intern gives each of the names an index if it has none. Indexes are
// stable for the life of a resolver, so arrays built by an older
// compilation stay valid; s.types is copied before it grows (ownTypes), as
// an older snapshot may share it.
func (s *snapshot) intern(names ...string) {
	for _, name := range names {
		if name == Wildcard {
			continue
		}
		if _, ok := s.types[name]; ok {
			continue
		}
		s.ownTypes()
		s.types[name] = int32(len(s.types) + 1)
		s.typeNames = append(s.typeNames, name)
	}
}

// perType builds an array indexed by interned type from a value per named
// type and the "*" value: at[t] is combine(t's value, "*"'s value), and
// at[0], for types nothing names, combine of a missing value and "*"'s.
func perType[V, W any](s *snapshot, byName map[string]V, combine func(own V, hasOwn bool, wild V, hasWild bool) W) []W {
	wild, hasWild := byName[Wildcard]
	var zero V
	at := make([]W, len(s.types)+1)
	at[0] = combine(zero, false, wild, hasWild)
	for name, t := range s.types {
		own, ok := byName[name]
		at[t] = combine(own, ok, wild, hasWild)
	}
	return at
}

// groupMask returns group index g's policy bit as a mask, or 0 when the
// group has none.
func (s *snapshot) groupMask(g int32) uint64 {
	if g >= 0 && int(g) < len(s.policyBit) {
		if b := s.policyBit[g]; b >= 0 {
			return 1 << b
		}
	}
	return 0
}

// splitByBit splits groups into a mask of their policy bits and the rest,
// which have none and are tested by search.
func (s *snapshot) splitByBit(groups []int32) (mask uint64, rest []int32) {
	for _, g := range groups {
		if m := s.groupMask(g); m != 0 {
			mask |= m
		} else {
			rest = append(rest, g)
		}
	}
	return mask, rest
}

// hasBits reports whether the header has one of the mask's policy bits.
func hasBits(h *hotAssoc, mask uint64) bool { return h.policyMask[0]&mask != 0 }

// principalSet is a compiled [Principals].
//
// Each field answers one way of belonging to the set; holds tries the
// cheap ones first.
type principalSet struct {
	// everyone is Principals.Everyone: the set holds every associate.
	everyone bool
	// assocs lists the associates named individually, sorted for a binary
	// search.
	assocs []AssociateID
	// groups lists the named groups that exist, as sorted group indexes;
	// holdsTeam searches it, and mask and rest split it for holds.
	groups []int32
	// roles lists the roles named alone, and rolesWithSubordinates
	// those named with their subordinates, as the
	// source gave them: holds compares ids with them for a role the
	// snapshot does not hold.
	roles                 []RoleID
	rolesWithSubordinates []RoleID
	// roleSlots is a bitmap, by role slot, of every role held
	// through roles and rs, the subordinates included (see compileSet), so
	// that a decision tests the subject's role with one load.
	roleSlots []uint64
	// mask has the policy bits of groups, tested against a header's policyMask in
	// one AND; groupsWithoutBit are the groups without a bit, tested
	// one by one.
	mask             uint64
	groupsWithoutBit []int32
}

// compileSet compiles a Principals against the snapshot's groups, role
// slots and current policy bits.
func (s *snapshot) compileSet(p *Principals) principalSet {
	out := principalSet{
		everyone:              p.Everyone,
		assocs:                slices.Sorted(slices.Values(p.Associates)),
		roles:                 slices.Clone(p.Roles),
		rolesWithSubordinates: slices.Clone(p.RolesAndSubordinates),
	}
	for _, id := range p.Groups {
		if gi, n := s.group(id); n != nil {
			out.groups = append(out.groups, gi)
		}
	}
	slices.Sort(out.groups)
	// The role slots the set holds, as a bitmap: each listed role, and
	// each role at or below a role listed with its subordinates.
	out.roleSlots = make([]uint64, (len(s.roleAt)+63)/64)
	set := func(slot int32) { out.roleSlots[slot/64] |= 1 << (slot % 64) }
	for _, ids := range [2][]RoleID{out.roles, out.rolesWithSubordinates} {
		for _, id := range ids {
			if slot, ok := s.roleSlot[id]; ok && s.roleAt[slot] != nil {
				set(slot)
			}
		}
	}
	// The roles below those listed with subordinates are runs of the
	// tree's order: mark where each run starts and ends, then sweep once.
	if len(out.rolesWithSubordinates) > 0 {
		cover := make([]int32, len(s.roleByPre)+1)
		for _, id := range out.rolesWithSubordinates {
			if n := s.roles[id]; n != nil && n.lo < n.end {
				cover[n.lo]++
				cover[n.end]--
			}
		}
		depth := int32(0)
		for p, slot := range s.roleByPre {
			if depth += cover[p]; depth > 0 {
				set(slot)
			}
		}
	}
	// Masked with the current policy bits; compilePerType masks the
	// policy's sets again once the bits are assigned.
	out.mask, out.groupsWithoutBit = s.splitByBit(out.groups)
	return out
}

// holds reports whether the associate (id, and x when it exists) is in
// the set. Groups count effective membership; roles count the role the
// associate holds, whatever its type.
func (s *snapshot) holds(p *principalSet, id AssociateID, x subj) bool {
	if p.everyone {
		return true
	}
	if p.names(id) {
		return true
	}
	if x.h == nil {
		return false
	}
	if hasBits(x.h, p.mask) {
		return true
	}
	for _, g := range p.groupsWithoutBit {
		if s.memberHot(x.h, g) {
			return true
		}
	}
	if slot := x.h.role; slot >= 0 && s.roleAt[slot] != nil {
		return int(slot/64) < len(p.roleSlots) && p.roleSlots[slot/64]&(1<<(slot%64)) != 0
	}
	// A role the snapshot does not hold: compare ids, as a role that is
	// not there has nothing below it.
	if role := s.roleID(x); role != 0 {
		if slices.Contains(p.roles, role) {
			return true
		}
		for _, r := range p.rolesWithSubordinates {
			if r == role || s.below(role, r) {
				return true
			}
		}
	}
	return false
}

// names reports whether the set lists the associate id itself, not
// through everyone, a group or a role.
func (p *principalSet) names(id AssociateID) bool {
	_, ok := slices.BinarySearch(p.assocs, id)
	return ok && id != 0
}

// holdsTeam reports whether a team group (by index) is in the set: it is
// one of the set's groups or included in one of them.
func (s *snapshot) holdsTeam(p *principalSet, team int32) bool {
	if p.everyone {
		return true
	}
	n := s.groups[team]
	if n == nil {
		return false
	}
	for _, g := range p.groups {
		if _, ok := slices.BinarySearchFunc(n.up, g, func(e upEdge, g int32) int { return cmp.Compare(e.g, g) }); ok {
			return true
		}
	}
	return false
}

type ruleNode struct {
	rule     SharingRule
	from, to principalSet
}

type grantNode struct {
	id     GrantID
	record int64 // the one record, or 0 for the whole type
	assoc  AssociateID
	group  GroupID
	gidx   int32  // -1 when the grant is to an associate or an unknown group
	mask   uint64 // gidx's policy bit as a mask, or 0
	rights CRUD
}

// applies reports whether the grant is to the subject or one of its groups.
func (g *grantNode) applies(s *snapshot, id AssociateID, x subj) bool {
	switch {
	case g.assoc != 0:
		return g.assoc == id
	case g.mask != 0:
		return x.h != nil && hasBits(x.h, g.mask)
	}
	return g.gidx >= 0 && s.memberOf(x, g.gidx)
}

// idBloom is a one-hash Bloom filter over record ids, sized at 16 bits
// per id: it answers "no grant is on this record" for most records with
// one bit test, before the map lookup.
type idBloom []uint64

func newIDBloom(ids []int64) idBloom {
	if len(ids) == 0 {
		return nil
	}
	words := 1
	for words*64 < 16*len(ids) {
		words *= 2
	}
	b := make(idBloom, words)
	for _, id := range ids {
		h := b.bit(id)
		b[h>>6] |= 1 << (h & 63)
	}
	return b
}

func (b idBloom) bit(id int64) uint64 {
	return (uint64(id) * 0x9E3779B97F4A7C15 >> 32) & uint64(len(b)*64-1)
}

// mayHave reports whether id may be in the set; false is certain.
func (b idBloom) mayHave(id int64) bool {
	if len(b) == 0 {
		return false
	}
	h := b.bit(id)
	return b[h>>6]&(1<<(h&63)) != 0
}

// defaultEntry is a group's default permission for one type, with the
// group's policy bit as a mask (0 when it has none).
type defaultEntry struct {
	g      int32
	id     GroupID
	mask   uint64
	rights CRUD
}

// defaultCell is a group's default permission for one type.
type defaultCell struct {
	rights CRUD
	ok     bool // the group has a default for the type (or "*")
}

type recordKey struct {
	typ string
	id  int64
}

type catNode struct {
	cat    Category
	groups []int32 // sorted indexes of the linked groups that exist
	// mask has the policy bits of groups; rest are the groups without one.
	mask             uint64
	groupsWithoutBit []int32
}

// limitNode is a compiled [Limit].
type limitNode struct {
	id     LimitID
	record int64 // the one record, or 0 for the whole type
	group  GroupID
	gidx   int32  // the group's index; -1 for an organisation-wide limit or an unknown group
	mask   uint64 // gidx's policy bit as a mask, or 0
	max    CRUD
	scope  LimitScope
}

// applies reports whether the limit is on the subject: organisation-wide,
// or on one of its groups. A group the snapshot does not hold has no
// members.
func (l *limitNode) applies(s *snapshot, x subj) bool {
	switch {
	case l.group == 0:
		return true
	case l.mask != 0:
		return x.h != nil && hasBits(x.h, l.mask)
	}
	return l.gidx >= 0 && s.memberOf(x, l.gidx)
}

type impNode struct {
	imp           Impersonation
	actor, target int32 // group indexes, or -1
}

// policy is the compiled decision data of a snapshot.
type policy struct {
	rules          map[RuleID]*ruleNode
	rulesByType    map[string][]*ruleNode // "*" rules under "*"
	grants         map[GrantID]Grant
	grantsByRecord map[recordKey][]grantNode
	grantsByType   map[string][]grantNode // RecordID 0; "*" grants under "*"
	recordGrants   map[string][]grantNode // per type, the grants on one record
	defaults       []int32                // groups with a default permission

	// What a decision reads, per interned type (see snapshot.typeOf):
	// the rules and whole-type grants of the type followed by the "*"
	// ones, the grants on single records by record id, and the groups
	// with a default permission for the type (or "*").
	rulesAt      [][]*ruleNode
	typeGrantsAt [][]grantNode
	recGrantsAt  []map[int64][]grantNode
	recBloomAt   []idBloom // per type, the ids in recGrantsAt
	defaultsAt   [][]defaultEntry
	// opensAt reports, per interned type, whether any sharing rule, grant
	// or default permission may apply to its records: a decision about a
	// type without skips those layers.
	opensAt        []bool
	funcGroups     map[string][]int32 // functional right → groups granting it
	categories     map[CategoryID]*catNode
	impersonations map[ImpersonationID]*impNode

	// limits are the source limits; limitsByType the compiled ones on
	// whole types ("*" under "*") and limitsByRecord those on one record.
	// limitsAt and recLimitsAt are what a decision reads per interned
	// type, as for grants. limited reports whether there is any limit: a
	// decision without one skips the layer after one test.
	limits         map[LimitID]Limit
	limitsByType   map[string][]limitNode
	limitsByRecord map[recordKey][]limitNode
	limitsAt       [][]limitNode
	recLimitsAt    []map[int64][]limitNode
	recLimitBloom  []idBloom
	limited        bool
}

// compilePolicy rebuilds the indexes of the policy from its source maps
// (rules, grants, categories, impersonations), which the caller has already updated.
func (s *snapshot) compilePolicy() {
	p := &s.policy
	p.rulesByType = map[string][]*ruleNode{}
	for _, id := range slices.Sorted(maps.Keys(p.rules)) {
		old := p.rules[id]
		n := &ruleNode{rule: old.rule, from: s.compileSet(&old.rule.From), to: s.compileSet(&old.rule.To)}
		p.rules[id] = n
		p.rulesByType[n.rule.EntityType] = append(p.rulesByType[n.rule.EntityType], n)
	}
	p.grantsByRecord = map[recordKey][]grantNode{}
	p.grantsByType = map[string][]grantNode{}
	p.recordGrants = map[string][]grantNode{}
	for _, id := range slices.Sorted(maps.Keys(p.grants)) {
		g := p.grants[id]
		gn := grantNode{id: g.ID, record: g.RecordID, assoc: g.Associate, group: g.Group, gidx: -1, rights: g.Rights}
		if g.Group != 0 {
			if gi, n := s.group(g.Group); n != nil {
				gn.gidx = gi
			}
		}
		if g.RecordID != 0 {
			k := recordKey{g.EntityType, g.RecordID}
			p.grantsByRecord[k] = append(p.grantsByRecord[k], gn)
			p.recordGrants[g.EntityType] = append(p.recordGrants[g.EntityType], gn)
		} else {
			p.grantsByType[g.EntityType] = append(p.grantsByType[g.EntityType], gn)
		}
	}
	p.defaults = nil
	p.funcGroups = map[string][]int32{}
	for gi, n := range s.groups {
		if n == nil {
			continue
		}
		if len(n.group.Defaults) > 0 {
			p.defaults = append(p.defaults, int32(gi))
		}
		for _, f := range n.group.Functions {
			if !slices.Contains(p.funcGroups[f], int32(gi)) {
				p.funcGroups[f] = append(p.funcGroups[f], int32(gi))
			}
		}
	}
	for id, old := range p.categories {
		n := &catNode{cat: old.cat}
		for _, g := range n.cat.Groups {
			if gi, gn := s.group(g); gn != nil {
				n.groups = append(n.groups, gi)
			}
		}
		slices.Sort(n.groups)
		p.categories[id] = n
	}
	s.compileLimits()
	for id, old := range p.impersonations {
		n := &impNode{imp: old.imp, actor: -1, target: -1}
		if gi, gn := s.group(n.imp.Actor.Group); gn != nil {
			n.actor = gi
		}
		if gi, gn := s.group(n.imp.Target.Group); gn != nil {
			n.target = gi
		}
		p.impersonations[id] = n
	}
}

// compileLimits compiles the source limits into limitsByType and
// limitsByRecord, in id order.
func (s *snapshot) compileLimits() {
	p := &s.policy
	p.limitsByType = map[string][]limitNode{}
	p.limitsByRecord = map[recordKey][]limitNode{}
	p.limited = len(p.limits) > 0
	for _, id := range slices.Sorted(maps.Keys(p.limits)) {
		l := p.limits[id]
		n := limitNode{id: l.ID, record: l.RecordID, group: l.Group, gidx: -1, max: l.Max, scope: l.Scope}
		if gi, gn := s.group(l.Group); l.Group != 0 && gn != nil {
			n.gidx = gi
		}
		if l.RecordID != 0 {
			k := recordKey{l.EntityType, l.RecordID}
			p.limitsByRecord[k] = append(p.limitsByRecord[k], n)
		} else {
			p.limitsByType[l.EntityType] = append(p.limitsByType[l.EntityType], n)
		}
	}
}

// compilePerType builds the policy's per-type arrays, after the policy
// bits are assigned: the arrays carry each group's bit.
func (s *snapshot) compilePerType() {
	p := &s.policy
	s.maskPolicyGroups()
	s.internPolicyTypes()
	p.rulesAt = perType(s, p.rulesByType, func(own []*ruleNode, _ bool, wild []*ruleNode, _ bool) []*ruleNode {
		return slices.Concat(own, wild)
	})
	p.typeGrantsAt = perType(s, p.grantsByType, func(own []grantNode, _ bool, wild []grantNode, _ bool) []grantNode {
		return slices.Concat(own, wild)
	})
	p.recGrantsAt, p.recBloomAt = perRecord(s, p.grantsByRecord)
	s.compileDefaultsAt()
	s.compileLimitsAt()
	p.opensAt = make([]bool, len(s.types)+1)
	for t := range p.opensAt {
		p.opensAt[t] = len(p.rulesAt[t]) > 0 || len(p.typeGrantsAt[t]) > 0 || len(p.recGrantsAt[t]) > 0 || len(p.defaultsAt[t]) > 0
	}
}

// opens reports whether any sharing rule, grant or default permission may
// apply to records of interned type t.
func (p *policy) opens(t int32) bool {
	if int(t) >= len(p.opensAt) {
		t = 0
	}
	return int(t) >= len(p.opensAt) || p.opensAt[t]
}

// compileLimitsAt builds the per-type arrays of the limits: the whole-type
// limits of each type followed by the "*" ones, and the limits on single
// records by record id with their Bloom filter.
func (s *snapshot) compileLimitsAt() {
	p := &s.policy
	p.limitsAt = perType(s, p.limitsByType, func(own []limitNode, _ bool, wild []limitNode, _ bool) []limitNode {
		return slices.Concat(own, wild)
	})
	p.recLimitsAt, p.recLimitBloom = perRecord(s, p.limitsByRecord)
}

// perRecord lays out entries on single records by interned type, then by
// record id, with a Bloom filter of each type's record ids, so a decision
// about a record nothing names skips the map.
func perRecord[T any](s *snapshot, byRecord map[recordKey][]T) ([]map[int64][]T, []idBloom) {
	at := make([]map[int64][]T, len(s.types)+1)
	for k, list := range byRecord {
		if t := s.typeOf(k.typ); t > 0 {
			if at[t] == nil {
				at[t] = map[int64][]T{}
			}
			at[t][k.id] = list
		}
	}
	bloom := make([]idBloom, len(at))
	for t, m := range at {
		bloom[t] = newIDBloom(slices.Collect(maps.Keys(m)))
	}
	return at, bloom
}

// maskPolicyGroups stores the current policy bits in the policy's grants,
// rules and categories, which compilePolicy made before the bits were
// assigned.
func (s *snapshot) maskPolicyGroups() {
	p := &s.policy
	mask := func(list []grantNode) {
		for i := range list {
			list[i].mask = s.groupMask(list[i].gidx)
		}
	}
	for _, m := range []map[string][]grantNode{p.grantsByType, p.recordGrants} {
		for _, list := range m {
			mask(list)
		}
	}
	for _, list := range p.grantsByRecord {
		mask(list)
	}
	maskLimits := func(list []limitNode) {
		for i := range list {
			list[i].mask = s.groupMask(list[i].gidx)
		}
	}
	for _, list := range p.limitsByType {
		maskLimits(list)
	}
	for _, list := range p.limitsByRecord {
		maskLimits(list)
	}
	for _, r := range p.rules {
		r.to.mask, r.to.groupsWithoutBit = s.splitByBit(r.to.groups)
		r.from.mask, r.from.groupsWithoutBit = s.splitByBit(r.from.groups)
	}
	for _, c := range p.categories {
		c.mask, c.groupsWithoutBit = s.splitByBit(c.groups)
	}
}

// internPolicyTypes interns every entity type the policy names, so that
// the per-type arrays have a slot for each.
func (s *snapshot) internPolicyTypes() {
	p := &s.policy
	for t := range p.rulesByType {
		s.intern(t)
	}
	for t := range p.grantsByType {
		s.intern(t)
	}
	for t := range p.recordGrants {
		s.intern(t)
	}
	for t := range p.limitsByType {
		s.intern(t)
	}
	for k := range p.limitsByRecord {
		s.intern(k.typ)
	}
	for _, gi := range p.defaults {
		for t := range s.groups[gi].group.Defaults {
			s.intern(t)
		}
	}
}

// compileDefaultsAt builds policy.defaultsAt: per interned type, the
// groups with a default permission for it (or for "*").
func (s *snapshot) compileDefaultsAt() {
	p := &s.policy
	p.defaultsAt = make([][]defaultEntry, len(s.types)+1)
	for _, gi := range p.defaults {
		g := &s.groups[gi].group
		mask := s.groupMask(gi)
		cells := perType(s, g.Defaults, func(own CRUD, ok bool, wild CRUD, hasWild bool) defaultCell {
			if ok {
				return defaultCell{own, true}
			}
			return defaultCell{wild, hasWild}
		})
		for t, c := range cells {
			if c.ok {
				p.defaultsAt[t] = append(p.defaultsAt[t], defaultEntry{g: gi, id: g.ID, mask: mask, rights: c.rights})
			}
		}
	}
}

// assignPolicyBits gives the groups the policy names a bit each in every
// associate's header's policyMask (see policyBitOrder), and rebuilds the
// headers when the assignment changed and there are headers already (an
// update; a build makes them afterwards, with these bits).
func (s *snapshot) assignPolicyBits() {
	pbit, n := s.policyBitOrder()
	if samePolicyBits(pbit, s.policyBit) {
		s.policyBit = pbit // same assignment, maybe for more groups
		return
	}
	s.policyBit, s.policyBitCount = pbit, n
	if s.pending == nil {
		s.buildHot()
	}
}

// policyBitOrder returns, per group index, the bit the policy's groups get
// (-1 for none) and how many got one: up to policyBits of them, in a fixed
// order — defaults, whole-type grants, whole-type limits, sharing rules,
// categories, single-record grants and limits, functional rights,
// impersonation — so that the
// groups tested most often are the likeliest to have one, and an
// unchanged policy gets the same assignment.
func (s *snapshot) policyBitOrder() (pbit []int32, n int) {
	pbit = make([]int32, len(s.groups))
	for i := range pbit {
		pbit[i] = -1
	}
	add := func(g int32) {
		if g >= 0 && int(g) < len(pbit) && pbit[g] < 0 && n < policyBits {
			pbit[g] = int32(n)
			n++
		}
	}
	p := &s.policy
	for _, g := range p.defaults {
		add(g)
	}
	for _, t := range slices.Sorted(maps.Keys(p.grantsByType)) {
		for _, g := range p.grantsByType[t] {
			add(g.gidx)
		}
	}
	// Whole-type limits are tested on every decision on their type.
	for _, t := range slices.Sorted(maps.Keys(p.limitsByType)) {
		for _, l := range p.limitsByType[t] {
			add(l.gidx)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(p.rules)) {
		for _, g := range slices.Concat(p.rules[id].to.groups, p.rules[id].from.groups) {
			add(g)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(p.categories)) {
		for _, g := range p.categories[id].groups {
			add(g)
		}
	}
	// Groups with grants on single records are tested only for records
	// that have grants, so they come last.
	for _, t := range slices.Sorted(maps.Keys(p.recordGrants)) {
		for _, g := range p.recordGrants[t] {
			add(g.gidx)
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(p.limitsByRecord), func(a, b recordKey) int {
		return cmp.Or(cmp.Compare(a.typ, b.typ), cmp.Compare(a.id, b.id))
	}) {
		for _, l := range p.limitsByRecord[k] {
			add(l.gidx)
		}
	}
	for _, f := range slices.Sorted(maps.Keys(p.funcGroups)) {
		for _, g := range p.funcGroups[f] {
			add(g)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(p.impersonations)) {
		add(p.impersonations[id].actor)
		add(p.impersonations[id].target)
	}
	return pbit, n
}

// samePolicyBits reports whether two assignments give every group the
// same bit, a group past the end of either having none.
func samePolicyBits(a, b []int32) bool {
	for i := range max(len(a), len(b)) {
		x, y := int32(-1), int32(-1)
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return false
		}
	}
	return true
}

// loadPolicy fills the policy's source maps from a whole model.
func (s *snapshot) loadPolicy(b *Batch) {
	s.patchPolicy(b)
	s.assignPolicyBits()
	s.compilePerType()
}

// updatePolicy applies a delta's policy writes. Group changes force a
// recompile too, because the policy holds group indexes and group-derived
// lists.
func (s *snapshot) updatePolicy(d *Delta, groupsChanged bool) {
	changed := len(d.SharingRules)+len(d.DeleteSharingRules)+len(d.Grants)+len(d.DeleteGrants)+
		len(d.Categories)+len(d.DeleteCategories)+len(d.Impersonations)+len(d.DeleteImpersonations)+
		len(d.Limits)+len(d.DeleteLimits) > 0
	if !changed && !groupsChanged {
		return
	}
	s.patchPolicy(&d.Batch)
	s.assignPolicyBits()
	s.compilePerType()
}

// patchPolicy replaces the policy's source maps with copies that carry b's
// puts and deletes, then recompiles the indexes.
func (s *snapshot) patchPolicy(b *Batch) {
	p := &s.policy
	p.rules = patch(p.rules, b.SharingRules, b.DeleteSharingRules,
		func(r SharingRule) (RuleID, *ruleNode) { return r.ID, &ruleNode{rule: r} })
	p.grants = patch(p.grants, b.Grants, b.DeleteGrants,
		func(g Grant) (GrantID, Grant) { return g.ID, g })
	p.categories = patch(p.categories, b.Categories, b.DeleteCategories,
		func(c Category) (CategoryID, *catNode) { return c.ID, &catNode{cat: c} })
	p.impersonations = patch(p.impersonations, b.Impersonations, b.DeleteImpersonations,
		func(m Impersonation) (ImpersonationID, *impNode) { return m.ID, &impNode{imp: m} })
	p.limits = patch(p.limits, b.Limits, b.DeleteLimits,
		func(l Limit) (LimitID, Limit) { return l.ID, l })
	s.compilePolicy()
}

// patch returns a copy of m with puts stored (keyed and wrapped by entry)
// and dels removed; m itself, which an older snapshot may share, is left
// alone.
func patch[K comparable, V, T any](m map[K]V, puts []T, dels []K, entry func(T) (K, V)) map[K]V {
	out := make(map[K]V, len(m)+len(puts))
	maps.Copy(out, m)
	for _, x := range puts {
		k, v := entry(x)
		out[k] = v
	}
	for _, k := range dels {
		delete(out, k)
	}
	return out
}

// inCategory reports whether the associate is a member of category c and,
// when it is, how: individually, through a group (its index), or through
// its role. Only associates with a service login have categories.
func (s *snapshot) inCategory(x subj, c *catNode) (direct bool, group int32, role bool) {
	group = -1
	if x.h == nil || x.h.flags&hotCategories == 0 {
		return false, -1, false
	}
	a := s.assocs.at(x.i).a
	direct = slices.Contains(a.Categories, c.cat.ID)
	if hasBits(x.h, c.mask) || len(c.groupsWithoutBit) > 0 {
		for _, g := range c.groups {
			if s.memberHot(x.h, g) {
				group = g
				break
			}
		}
	}
	role = a.Role != 0 && slices.Contains(c.cat.Roles, a.Role)
	return direct, group, role
}

// licenceTable is the compiled licences: what the licence gate reads. It
// is immutable once built; an update that writes licences builds a new one.
type licenceTable struct {
	byID map[LicenceID]*Licence
	// need has bit t set when some licence lists associate type t: only
	// associates of those types meet the licence gate, so a model without
	// licences pays one test of a zero word.
	need uint64
	// first is, per type, the lowest-id licence that lists it: the one the
	// cause of an associate holding none names.
	first map[AssociateType]LicenceID
}

// compileLicences builds the table of the licences ls; nil when none lists
// an associate type.
func compileLicences(ls map[LicenceID]*Licence) *licenceTable {
	t := &licenceTable{byID: ls, first: map[AssociateType]LicenceID{}}
	for id, l := range ls {
		for _, typ := range l.For {
			if uint(typ) < 64 {
				t.need |= 1 << uint(typ)
			}
			if f, ok := t.first[typ]; !ok || id < f {
				t.first[typ] = id
			}
		}
	}
	return t
}

// withLicences returns the table with b's licence puts and deletes.
func (t *licenceTable) withLicences(b *Batch) *licenceTable {
	var ls map[LicenceID]*Licence
	if t != nil {
		ls = maps.Clone(t.byID)
	}
	if ls == nil {
		ls = map[LicenceID]*Licence{}
	}
	for _, l := range b.Licences {
		l := l
		ls[l.ID] = &l
	}
	for _, id := range b.DeleteLicences {
		delete(ls, id)
	}
	return compileLicences(ls)
}

// needs reports whether associates of type typ meet the licence gate.
func (t *licenceTable) needs(typ AssociateType) bool {
	return t != nil && uint(typ) < 64 && t.need&(1<<uint(typ)) != 0
}

// check returns the associate's licence problem at time now and the
// licence its cause names: LicenceOK when its type needs no licence or it
// holds one for its type that is valid at now; else an expired one it
// holds, or one not yet valid, or (holding none) the lowest-id licence for
// its type — in that order, lowest ids first.
func (t *licenceTable) check(a *Associate, now time.Time) (LicenceProblem, LicenceID) {
	if !t.needs(a.Type) {
		return LicenceOK, 0
	}
	var notYet, expired LicenceID
	for _, id := range a.Licences {
		l := t.byID[id]
		if l == nil || !slices.Contains(l.For, a.Type) {
			continue
		}
		switch {
		case !l.ValidFrom.IsZero() && now.Before(l.ValidFrom):
			if notYet == 0 || id < notYet {
				notYet = id
			}
		case !l.ValidTo.IsZero() && !now.Before(l.ValidTo):
			if expired == 0 || id < expired {
				expired = id
			}
		default:
			return LicenceOK, 0
		}
	}
	switch {
	case expired != 0:
		return LicenceExpired, expired
	case notYet != 0:
		return LicenceNotYetValid, notYet
	}
	return LicenceMissing, t.first[a.Type]
}

// timeless reports whether the associate passes the licence gate whatever
// the time: its type needs no licence, or it holds one for its type
// without a validity window. Only other associates send a decision to the
// node (hotLicence).
func (t *licenceTable) timeless(a *Associate) bool {
	if !t.needs(a.Type) {
		return true
	}
	for _, id := range a.Licences {
		if l := t.byID[id]; l != nil && l.ValidFrom.IsZero() && l.ValidTo.IsZero() && slices.Contains(l.For, a.Type) {
			return true
		}
	}
	return false
}

// all returns the licences by id (nil for none); callers must not change it.
func (t *licenceTable) all() map[LicenceID]*Licence {
	if t == nil {
		return nil
	}
	return t.byID
}
