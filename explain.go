package access

import (
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
)

// explainAll explains every membership of the associate at once. The
// memberships' shortest paths form a tree (each path is its predecessor's
// plus one group), so they share storage: each path is a prefix of one
// backing array, cut to its length and capacity, and the child with the
// longest path below it extends its parent's array in place while any
// other copies its parent's path into a new one. A chain of groups 10,000
// deep thus costs one array of 10,000 entries rather than 50 million; in
// general the cost is the memberships plus, at each branching, the depth
// of the branch point for every branch but the longest.
func (s *snapshot) explainAll(n *assocNode) []Membership {
	groups, vias := s.explanations(n)
	m := len(groups)
	pred := pathSteps(groups, vias)
	depth := pathDepths(pred)
	byDepth := shallowFirst(depth)
	height, heavy := heavyChildren(pred, byDepth)
	out := make([]Membership, m)
	buf := make([][]GroupRef, m) // each membership's whole backing array
	root := make([]int32, m)     // the membership its path starts at
	type roles struct{ role, sub RoleRef }
	byRoot := map[int32]roles{} // the entry's roles, per first group
	for _, i := range byDepth {
		d, p := depth[i], pred[i]
		if p >= 0 && heavy[p] == i {
			buf[i] = buf[p]
		} else {
			buf[i] = make([]GroupRef, d+1+height[i])
			if p >= 0 {
				copy(buf[i], buf[p][:d])
			}
		}
		buf[i][d] = s.groupRef(groups[i])
		root[i] = i
		if p >= 0 {
			root[i] = root[p]
		}
		why := vias[root[i]].reason()
		r, ok := byRoot[root[i]]
		if !ok {
			r.role, r.sub = s.entryRoles(n, groups[root[i]], why)
			byRoot[root[i]] = r
		}
		out[i] = Membership{Group: s.groups[groups[i]].group.ID, Reason: why, Role: r.role, Subordinate: r.sub,
			Path: buf[i][: d+1 : d+1]}
	}
	return out
}

// pathSteps returns, for each of the associate's memberships, the one a
// step closer to the associate along its shortest path; vias explains
// groups.
func pathSteps(groups []int32, vias []via) []int32 {
	m := len(groups)
	// pred[i] is the membership one step closer to the associate, or -1
	// for one it enters directly (or, in an inconsistent node, a step
	// that leads nowhere or round in a circle).
	pred := make([]int32, m)
	for i := range pred {
		pred[i] = -1
		if v := vias[i]; v.reason() == ViaGroup {
			if j, ok := slices.BinarySearch(groups, v.from()); ok {
				pred[i] = int32(j)
			}
		}
	}
	return pred
}

// pathDepths returns each path's length less one, and breaks any circle
// of steps (an inconsistent node) by making its groups roots in pred.
func pathDepths(pred []int32) []int32 {
	m := len(pred)
	// depth[i] is the path's length less one, found by walking up to a
	// known depth. A circle of steps makes its groups roots.
	depth := make([]int32, m)
	for i := range depth {
		depth[i] = -1
	}
	var walk []int32
	for i := range m {
		walk = walk[:0]
		x := int32(i)
		for x >= 0 && depth[x] == -1 {
			depth[x] = -2 // on this walk
			walk = append(walk, x)
			x = pred[x]
		}
		if x >= 0 && depth[x] == -2 {
			for k := len(walk) - 1; k >= 0; k-- {
				pred[walk[k]] = -1
				if walk[k] == x {
					break
				}
			}
		}
		d := int32(-1)
		if x >= 0 && depth[x] >= 0 {
			d = depth[x]
		}
		for k := len(walk) - 1; k >= 0; k-- {
			if w := walk[k]; pred[w] < 0 {
				d = 0
				depth[w] = 0
			} else {
				d++
				depth[w] = d
			}
		}
	}
	return depth
}

// shallowFirst returns the memberships ordered by depth, shallowest first
// (a counting sort), so each comes after its predecessor.
func shallowFirst(depth []int32) []int32 {
	m := len(depth)
	// Memberships by depth, shallowest first (counting sort).
	maxDepth := int32(0)
	for _, d := range depth {
		maxDepth = max(maxDepth, d)
	}
	start := make([]int32, maxDepth+2)
	for _, d := range depth {
		start[d+1]++
	}
	for d := range maxDepth + 1 {
		start[d+1] += start[d]
	}
	byDepth := make([]int32, m)
	for i, d := range depth {
		byDepth[start[d]] = int32(i)
		start[d]++
	}
	return byDepth
}

// heavyChildren returns, per membership, the longest path below it
// (height) and the child that extends its array in place (heavy; -1 for
// none).
func heavyChildren(pred, byDepth []int32) (height, heavy []int32) {
	m := len(pred)
	// height[i] is the longest path below i; heavy[p] the child that
	// extends p's array in place.
	height = make([]int32, m)
	heavy = make([]int32, m)
	for i := range heavy {
		heavy[i] = -1
	}
	for k := m - 1; k >= 0; k-- {
		i := byDepth[k]
		if p := pred[i]; p >= 0 && (heavy[p] < 0 || height[i]+1 > height[p]) {
			height[p], heavy[p] = height[i]+1, i
		}
	}
	return height, heavy
}

// explain rebuilds the shortest path to group g from the associate's
// steps, computed afresh (see explanations).
func (s *snapshot) explain(n *assocNode, g int32) Membership {
	groups, vias := s.explanations(n)
	return s.explainVia(n, groups, vias, g)
}

// explainVia is explain with the associate's groups and steps given:
// vias explains groups, as explanations returns them, so that several
// explanations of one associate compute them once.
func (s *snapshot) explainVia(n *assocNode, groups []int32, vias []via, g int32) Membership {
	var path []GroupRef
	var why via
	for x := g; ; {
		i, ok := slices.BinarySearch(groups, x)
		if !ok || len(path) > len(groups) {
			break // cannot happen in a consistent node; never loop
		}
		path = append(path, s.groupRef(x))
		why = vias[i]
		if why.reason() != ViaGroup {
			break
		}
		x = why.from()
	}
	slices.Reverse(path)
	m := Membership{Group: s.groups[g].group.ID, Reason: why.reason(), Path: path}
	m.Role, m.Subordinate = s.entryRoles(n, s.groupIdx[path[0].ID], m.Reason)
	return m
}

// entryRoles returns, for a membership the associate enters group index
// first of by reason why, the role that explains it and, when the group
// lists a role above the associate's, the associate's own role.
func (s *snapshot) entryRoles(n *assocNode, first int32, why Reason) (role, sub RoleRef) {
	switch why {
	case ViaRole:
		role = s.roleRef(n.a.Role)
	case ViaRoleTree:
		// The nearest role at or above the associate's that the group lists.
		g := s.groups[first]
		for r, hops := n.a.Role, 0; r != 0 && hops <= len(s.roles); hops++ {
			if slices.Contains(g.group.RolesAndSubordinates, r) {
				role = s.roleRef(r)
				break
			}
			rn := s.roles[r]
			if rn == nil {
				break
			}
			r = rn.role.Parent
		}
		if role.ID != n.a.Role {
			sub = s.roleRef(n.a.Role)
		}
	}
	return role, sub
}

// groupRef names the group at index g, for a membership path.
func (s *snapshot) groupRef(g int32) GroupRef {
	n := s.groups[g]
	return GroupRef{ID: n.group.ID, Name: n.group.Name}
}

// roleRef names role id; a role the snapshot no longer holds keeps its id.
func (s *snapshot) roleRef(id RoleID) RoleRef {
	if n := s.roles[id]; n != nil {
		return RoleRef{ID: id, Name: n.role.Name}
	}
	return RoleRef{ID: id}
}

// render writes the decision as one line of text, "allow: …" or
// "deny: …" and its causes, naming entities from v so that a decision
// explained after a later revision still names what it saw.
func (d *Decision) render(v names) string {
	var b strings.Builder
	if d.Allowed {
		b.WriteString("allow: ")
	} else {
		b.WriteString("deny: ")
	}
	b.WriteString(v.assocRef(d.Subject, d.Gate == GateUnknown))
	if d.Actor != 0 {
		fmt.Fprintf(&b, " (acting: %s)", v.assocRef(d.Actor, false))
	}
	what := "a record"
	if d.Record.Type != "" {
		what = d.Record.Type + " " + strconv.FormatInt(d.Record.ID, 10)
	}
	if d.Allowed {
		fmt.Fprintf(&b, " may %s %s", d.Action, what)
	} else {
		fmt.Fprintf(&b, " needs %s on %s", d.Action, what)
	}
	if d.nCauses == 0 && d.Gate == GateNone {
		b.WriteString("; nothing grants it")
	}
	for _, c := range d.causes[:d.nCauses] {
		b.WriteString("; ")
		d.writeCause(&b, v, c.unpack())
	}
	if d.dropped > 0 {
		fmt.Fprintf(&b, "; and %d more", d.dropped)
	}
	if !d.Allowed && d.Gate == GateNone && d.nCauses > 0 {
		fmt.Fprintf(&b, "; has %s", d.Rights)
	}
	return b.String()
}

// assocRef renders an associate as `Name (ID)`, or "associate ID" when its
// name is unknown — always for a subject the store did not have.
func (v names) assocRef(id AssociateID, unknown bool) string {
	if !unknown {
		if n := v.assoc(id); n != "" {
			return refString(n, int64(id))
		}
	}
	return "associate " + strconv.FormatInt(int64(id), 10)
}

// writeCause writes one cause as text, one case per CauseKind; the JSON
// form (causeJSON) reuses it, so the two never disagree.
func (d *Decision) writeCause(b *strings.Builder, v names, c Cause) {
	switch c.Kind {
	case CauseGate:
		b.WriteString(c.Gate.String())
		if c.Gate == GateMalformed {
			// Name the value, so whoever reads the log can find the row.
			fmt.Fprintf(b, " %d", int(c.Type))
		}
		if c.Gate == GateNoLicence && c.Licence != 0 {
			writeLicence(b, v, c.Licence, c.LicenceProblem)
		}
	case CauseSystem:
		b.WriteString("system user")
	case CauseNoRole:
		if c.Role == 0 {
			b.WriteString("holds no role")
		} else {
			fmt.Fprintf(b, "role %s has no rights on %s", v.role(c.Role), d.Record.Type)
		}
	case CauseRole:
		fmt.Fprintf(b, "role %s grants %s for %s", v.role(c.Role), c.Rights, c.Relation)
		if c.Relation == Subordinate {
			// The owner was deleted and its records wait for their
			// transfer: say so, as the relation now rests on it.
			if n, ok := v.pastOwner(d.Record.Owner); ok {
				fmt.Fprintf(b, " of %s (%d, deleted)", n, d.Record.Owner)
			}
		}
		if m, ok := d.path(v, c); ok && (len(m.Path) > 1 || (m.Reason != ViaPrimary && m.Reason != ViaSecondary)) {
			b.WriteString(" via ")
			b.WriteString(m.route())
		}
	case CauseSharing:
		fmt.Fprintf(b, "sharing rule %s adds %s", refString(v.rule(c.Rule), int64(c.Rule)), c.Rights)
		if c.Named {
			b.WriteString(namedSuffix)
		}
	case CauseGrant:
		if c.Group != 0 {
			fmt.Fprintf(b, "grant %d to group %s adds %s", c.Grant, v.group(c.Group), c.Rights)
		} else {
			fmt.Fprintf(b, "grant %d adds %s", c.Grant, c.Rights)
		}
		if c.Named {
			b.WriteString(namedSuffix)
		}
	case CauseDefault:
		fmt.Fprintf(b, "default permission of group %s adds %s", v.group(c.Group), c.Rights)
	case CauseRestriction:
		fmt.Fprintf(b, "%s removes %s", c.Restriction, c.Rights)
	case CauseNearMiss:
		held, verb := d.Relations.String(), "holds and grants"
		if bits.OnesCount16(uint16(d.Relations)) > 1 {
			verb = "hold and grant"
		}
		fmt.Fprintf(b, "nearest miss: %s would grant %s, but %s %s %s", c.Relation, c.Rights, held, verb, c.Held)
	case CauseLimit:
		d.writeLimit(b, v, c)
	default:
		fmt.Fprintf(b, "cause(%d)", c.Kind)
	}
}

// writeLimit writes a CauseLimit, for example
// `limit 4 (group Temps (7)) keeps at most R on contact: takes away CUD`,
// or for a limit on one record and on unrelated records only
// `limit 5 (organisation-wide, unrelated records) keeps at most - on contact 42: takes away R`.
func (d *Decision) writeLimit(b *strings.Builder, v names, c Cause) {
	fmt.Fprintf(b, "limit %d (", c.Limit)
	if c.Group != 0 {
		fmt.Fprintf(b, "group %s", v.group(c.Group))
	} else {
		b.WriteString("organisation-wide")
	}
	if c.Scope != LimitAll {
		fmt.Fprintf(b, ", %s", c.Scope)
	}
	fmt.Fprintf(b, ") keeps at most %s on %s", c.Max, d.Record.Type)
	if c.Named {
		fmt.Fprintf(b, " %d", d.Record.ID)
	}
	fmt.Fprintf(b, ": takes away %s", c.Rights)
}

// namedSuffix follows a sharing rule or grant that reached an external
// subject beyond its company and projects (Cause.Named).
const namedSuffix = " to the external user by name, beyond its company and projects"

// path explains, for a role cell of a group relation, how the subject is a
// member of the record's team or group (see [Decision] for which
// revision's memberships it shows).
func (d *Decision) path(v names, c Cause) (Membership, bool) {
	if c.Kind != CauseRole || c.Group == 0 || (c.Relation != Team && c.Relation != OtherGroup) {
		return Membership{}, false
	}
	return v.membership(d.Subject, c.Group)
}

// writeLicence writes what is wrong with the licence an associate lacks:
// ": needs licence Sales (3)" or ": licence Sales (3) expired".
func writeLicence(b *strings.Builder, v names, id LicenceID, p LicenceProblem) {
	ref := "licence " + strconv.FormatInt(int64(id), 10)
	if n := v.licence(id); n != "" {
		ref = "licence " + refString(n, int64(id))
	}
	if p == LicenceMissing {
		fmt.Fprintf(b, ": needs %s", ref)
		return
	}
	fmt.Fprintf(b, ": %s %s", ref, p)
}
