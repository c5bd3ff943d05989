package access

import (
	"sync"
	"unsafe"
)

// sizeMemo holds a snapshot's estimated size, computed on first use by
// bytes: the walk visits every node, so Stats pays for it once per
// snapshot, not once per call.
type sizeMemo struct {
	once sync.Once
	n    int64
}

// mapEntryOverhead is what a map costs per entry beyond its keys and
// values: control bytes, the slack of a table kept below full, and its
// groups' headers, rounded up.
const mapEntryOverhead = 16

// bytes estimates the bytes the snapshot's compiled data holds: its arrays
// by capacity, its nodes, their slices and strings, and its maps at their
// length times the size of a key, a value and mapEntryOverhead. Parts it
// shares with earlier or later snapshots (copy on write) are counted in
// full, so the figure is what this snapshot alone keeps alive, not what
// it adds to its predecessor; the shared personal-group array counts only
// up to this snapshot's capacity. The name history, shared by every
// snapshot of a resolver, and the filter cache, a memo, are not counted.
// It is an estimate: allocator rounding and the exact layout of maps are
// not modelled.
func (s *snapshot) bytes() int64 {
	m := s.size
	if m == nil {
		return s.walkBytes()
	}
	m.once.Do(func() { m.n = s.walkBytes() })
	return m.n
}

// walkBytes is bytes without the memo.
func (s *snapshot) walkBytes() int64 {
	n := int64(unsafe.Sizeof(*s))

	// Roles: the map by id and the per-slot arrays share the nodes; count
	// each node once, through the map.
	n += mapBytes(s.roles)
	for _, r := range s.roles {
		n += roleNodeBytes(r)
	}
	n += mapBytes(s.roleSlot)
	n += sliceBytes(s.roleAt) + sliceBytes(s.roleIDs) + sliceBytes(s.roleByPre)

	n += mapBytes(s.groupIdx) + sliceBytes(s.groupDense) + sliceBytes(s.groups)
	for _, g := range s.groups {
		n += groupNodeBytes(g)
	}
	n += sliceBytes(s.smart)
	// Member lists: the groups' personal members, and each role's holders
	// once, with the index of which roles' closures hold which group.
	n += s.members.bytes()
	for _, m := range s.members.all() {
		n += memberSetBytes(m)
	}
	n += sliceBytes(s.holders)
	for _, m := range s.holders {
		n += memberSetBytes(m)
	}
	n += sliceBytes(s.closureRoles) + sliceBytes(s.closureRoleOff)

	n += mapBytes(s.past)
	for _, p := range s.past {
		n += int64(len(p.Name))
	}

	n += idIndexBytes(&s.assocIndex)
	n += s.assocs.bytes()
	// Associates with equal attributes share one map (see buildAssocs):
	// count each map once.
	attrs := map[unsafe.Pointer]struct{}{}
	for _, a := range s.assocs.all() {
		n += assocNodeBytes(a, attrs)
	}
	n += sliceBytes(s.hot)
	for _, m := range s.hot {
		n += int64(unsafe.Sizeof(*m))
		for _, c := range m {
			if c != nil {
				n += int64(unsafe.Sizeof(*c))
			}
		}
	}
	n += sliceBytes(s.personalGroups)
	n += s.assocRole.bytes()

	n += mapBytes(s.types) + sliceBytes(s.typeNames)
	for t := range s.types {
		n += int64(len(t))
	}
	n += policyBytes(&s.policy)
	n += sliceBytes(s.policyBit)
	if s.byName != nil {
		n += int64(unsafe.Sizeof(*s.byName))
		n += sliceBytes(s.byName.assocs.hs) + sliceBytes(s.byName.assocs.idx) + nameMapBytes(&s.byName.groups)
	}
	return n
}

// sliceBytes is the size of a slice's backing array, by capacity.
func sliceBytes[E any](a []E) int64 {
	var e E
	return int64(cap(a)) * int64(unsafe.Sizeof(e))
}

// mapBytes estimates a map's table, its keys and values shallowly.
func mapBytes[K comparable, V any](m map[K]V) int64 {
	var k K
	var v V
	return int64(len(m)) * (int64(unsafe.Sizeof(k)) + int64(unsafe.Sizeof(v)) + mapEntryOverhead)
}

// stringsBytes is the text of a list of strings.
func stringsBytes(a []string) int64 {
	n := sliceBytes(a)
	for _, x := range a {
		n += int64(len(x))
	}
	return n
}

// stringMapBytes is a map keyed by strings with the keys' text.
func stringMapBytes[V any](m map[string]V) int64 {
	n := mapBytes(m)
	for k := range m {
		n += int64(len(k))
	}
	return n
}

func roleNodeBytes(r *roleNode) int64 {
	if r == nil {
		return 0
	}
	n := int64(unsafe.Sizeof(*r))
	n += stringMapBytes(r.role.Rights)
	for _, g := range r.role.Rights {
		n += mapBytes(g)
	}
	n += int64(len(r.role.Name)) + stringsBytes(r.role.Functions)
	n += sliceBytes(r.base)
	n += stringMapBytes(r.grids) + int64(len(r.grids))*int64(unsafe.Sizeof(grid{}))
	if r.wild != nil {
		n += int64(unsafe.Sizeof(grid{}))
	}
	n += sliceBytes(r.gridAt)
	n += sliceBytes(r.closure) + sliceBytes(r.bits)
	return n
}

func groupNodeBytes(g *groupNode) int64 {
	if g == nil {
		return 0
	}
	n := int64(unsafe.Sizeof(*g))
	gr := &g.group
	n += int64(len(gr.Name)) + int64(len(gr.Description)) + int64(len(gr.Smart))
	n += sliceBytes(gr.Groups) + sliceBytes(gr.Roles) + sliceBytes(gr.RolesAndSubordinates)
	n += stringsBytes(gr.Functions) + stringMapBytes(gr.Defaults) + sliceBytes(gr.Admins)
	n += stringMapBytes(gr.Fields)
	for _, v := range gr.Fields {
		n += int64(len(v))
	}
	if g.rule != nil {
		n += int64(unsafe.Sizeof(*g.rule))
	}
	n += sliceBytes(g.up)
	return n
}

// assocNodeBytes counts an associate's node and its attribute map, the
// map only if it is not in attrs, which it adds it to.
func assocNodeBytes(a *assocNode, attrs map[unsafe.Pointer]struct{}) int64 {
	if a == nil {
		return 0
	}
	// The associate is not in the node but in the delta's slice it
	// points into, which the snapshot keeps alive: count it here.
	x := a.a
	n := int64(unsafe.Sizeof(*a)) + int64(unsafe.Sizeof(*x))
	n += int64(len(x.Name)) + int64(len(x.Email)) + sliceBytes(x.Groups) + sliceBytes(x.Projects) + sliceBytes(x.Categories)
	if x.Attributes == nil {
		return n
	}
	p := *(*unsafe.Pointer)(unsafe.Pointer(&x.Attributes))
	if _, ok := attrs[p]; ok {
		return n
	}
	attrs[p] = struct{}{}
	n += stringMapBytes(x.Attributes)
	for _, v := range x.Attributes {
		n += int64(len(v))
	}
	return n
}

func idIndexBytes(x *idIndex) int64 {
	return sliceBytes(x.dense) + mapBytes(x.base) + mapBytes(x.over)
}

func nameMapBytes[ID ~int64](m *nameMap[ID]) int64 {
	n := stringMapBytes(m.one) + stringMapBytes(m.many)
	for _, ids := range m.many {
		n += sliceBytes(ids)
	}
	return n
}

func principalSetBytes(p *principalSet) int64 {
	return sliceBytes(p.assocs) + sliceBytes(p.groups) + sliceBytes(p.roles) +
		sliceBytes(p.rolesWithSubordinates) + sliceBytes(p.roleSlots)
}

// policyBytes counts the policy's maps and lists; the rule, grant,
// category, impersonation and limit values themselves are counted shallowly, as
// the policy is small beside the membership data.
func policyBytes(p *policy) int64 {
	n := mapBytes(p.rules)
	for _, r := range p.rules {
		if r != nil {
			n += int64(unsafe.Sizeof(*r)) + principalSetBytes(&r.from) + principalSetBytes(&r.to)
		}
	}
	n += stringMapBytes(p.rulesByType)
	for _, rs := range p.rulesByType {
		n += sliceBytes(rs)
	}
	n += mapBytes(p.grants)
	n += mapBytes(p.grantsByRecord)
	for _, gs := range p.grantsByRecord {
		n += sliceBytes(gs)
	}
	for _, m := range []map[string][]grantNode{p.grantsByType, p.recordGrants} {
		n += stringMapBytes(m)
		for _, gs := range m {
			n += sliceBytes(gs)
		}
	}
	n += sliceBytes(p.defaults)
	n += sliceBytes(p.rulesAt)
	for _, rs := range p.rulesAt {
		n += sliceBytes(rs)
	}
	n += sliceBytes(p.typeGrantsAt)
	for _, gs := range p.typeGrantsAt {
		n += sliceBytes(gs)
	}
	n += perRecordBytes(p.recGrantsAt, p.recBloomAt)
	n += sliceBytes(p.defaultsAt)
	for _, d := range p.defaultsAt {
		n += sliceBytes(d)
	}
	n += sliceBytes(p.opensAt)
	n += stringMapBytes(p.funcGroups)
	for _, gs := range p.funcGroups {
		n += sliceBytes(gs)
	}
	n += mapBytes(p.categories)
	for _, c := range p.categories {
		if c != nil {
			n += int64(unsafe.Sizeof(*c)) + sliceBytes(c.groups) + sliceBytes(c.groupsWithoutBit)
		}
	}
	n += mapBytes(p.impersonations)
	for _, i := range p.impersonations {
		if i != nil {
			n += int64(unsafe.Sizeof(*i))
		}
	}
	return n + limitBytes(p)
}

// limitBytes counts the policy's limits, as policyBytes counts grants.
func limitBytes(p *policy) int64 {
	n := mapBytes(p.limits) + mapBytes(p.limitsByRecord) + stringMapBytes(p.limitsByType)
	for _, ls := range p.limitsByRecord {
		n += sliceBytes(ls)
	}
	for _, ls := range p.limitsByType {
		n += sliceBytes(ls)
	}
	n += sliceBytes(p.limitsAt)
	for _, ls := range p.limitsAt {
		n += sliceBytes(ls)
	}
	n += perRecordBytes(p.recLimitsAt, p.recLimitBloom)
	return n
}

// perRecordBytes is the size of what perRecord lays out.
func perRecordBytes[T any](at []map[int64][]T, bloom []idBloom) int64 {
	n := sliceBytes(at)
	for _, m := range at {
		n += mapBytes(m)
		for _, list := range m {
			n += sliceBytes(list)
		}
	}
	n += sliceBytes(bloom)
	for _, b := range bloom {
		n += sliceBytes(b)
	}
	return n
}

// memberSetBytes is the size of a member set behind a pointer (nil for
// none): its header, run headers and runs.
func memberSetBytes(m *memberSet) int64 {
	if m == nil {
		return 0
	}
	n := 24 + sliceBytes(m.runs)
	for _, r := range m.runs {
		n += sliceBytes(r)
	}
	return n
}
