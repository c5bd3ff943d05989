package access_test

import (
	"maps"
	"slices"

	"github.com/crmaccess/access"
)

// refModel is the naive reference the resolver is tested against: the
// model in plain maps, and the rules of effective membership written out
// the slow, obvious way, with no knowledge of how the engine compiles them.
// It reads only what a Store hands out, so it can be built from any Batch,
// valid or not.
type refModel struct {
	roles  map[access.RoleID]access.Role
	groups map[access.GroupID]access.Group
	assocs map[access.AssociateID]access.Associate
}

func newRefModel() *refModel {
	return &refModel{
		roles:  map[access.RoleID]access.Role{},
		groups: map[access.GroupID]access.Group{},
		assocs: map[access.AssociateID]access.Associate{},
	}
}

// refFromBatch is the model a store holds after loading b into an empty
// store.
func refFromBatch(b *access.Batch) *refModel {
	m := newRefModel()
	m.apply(b)
	return m
}

// refFromDelta is the model a resolver holds after a full delta, such as
// the answer of Store.Changes(ctx, 0).
func refFromDelta(d *access.Delta) *refModel {
	m := newRefModel()
	m.apply(&d.Batch)
	return m
}

// apply writes b's puts and deletes, with no validation.
func (m *refModel) apply(b *access.Batch) {
	for _, id := range b.DeleteRoles {
		delete(m.roles, id)
	}
	for _, id := range b.DeleteGroups {
		delete(m.groups, id)
	}
	for _, id := range b.DeleteAssociates {
		delete(m.assocs, id)
	}
	for _, r := range b.Roles {
		m.roles[r.ID] = r
	}
	for _, g := range b.Groups {
		m.groups[g.ID] = g
	}
	for _, a := range b.Associates {
		m.assocs[a.ID] = a
	}
}

// batch returns the model as one batch of puts in id order.
func (m *refModel) batch() access.Batch {
	var b access.Batch
	for _, id := range slices.Sorted(maps.Keys(m.roles)) {
		b.Roles = append(b.Roles, m.roles[id])
	}
	for _, id := range slices.Sorted(maps.Keys(m.groups)) {
		b.Groups = append(b.Groups, m.groups[id])
	}
	for _, id := range slices.Sorted(maps.Keys(m.assocs)) {
		b.Associates = append(b.Associates, m.assocs[id])
	}
	return b.Clone()
}

// roleAndAbove returns r and every role above it, nearest first. It stops
// at a parent the model does not hold and at a role it has already seen,
// so a parent cycle (only in unvalidated data) yields every role on it.
func (m *refModel) roleAndAbove(r access.RoleID) []access.RoleID {
	var out []access.RoleID
	for {
		role, ok := m.roles[r]
		if !ok || slices.Contains(out, r) {
			return out
		}
		out = append(out, r)
		r = role.Parent
	}
}

// entries returns the groups the associate enters directly (rules 1, 2, 3
// and 5), each with every reason it enters it by.
func (m *refModel) entries(a *access.Associate) map[access.GroupID][]access.Reason {
	out := map[access.GroupID][]access.Reason{}
	if a.Type != access.Internal {
		return out
	}
	add := func(g access.GroupID, why access.Reason) {
		if !slices.Contains(out[g], why) {
			out[g] = append(out[g], why)
		}
	}
	above := m.roleAndAbove(a.Role)
	for id, g := range m.groups {
		if g.Smart != "" {
			// Rule 5, and only rule 5.
			if rule, err := access.ParseSmartRule(g.Smart); err == nil && rule.Match(a) {
				add(id, access.ViaSmart)
			}
			continue
		}
		if a.PrimaryGroup == id {
			add(id, access.ViaPrimary)
		}
		if slices.Contains(a.Groups, id) {
			add(id, access.ViaSecondary)
		}
		if slices.Contains(g.Roles, a.Role) {
			add(id, access.ViaRole)
		}
		for _, r := range above {
			if slices.Contains(g.RolesAndSubordinates, r) {
				add(id, access.ViaRoleTree)
			}
		}
	}
	return out
}

// includers returns the plain (not smart) groups that list g in Groups.
func (m *refModel) includers(g access.GroupID) []access.GroupID {
	var out []access.GroupID
	for id, p := range m.groups {
		if p.Smart == "" && slices.Contains(p.Groups, g) {
			out = append(out, id)
		}
	}
	return out
}

// effective returns the groups the associate is an effective member of,
// each with its distance: the fewest Groups edges from a group entered
// directly. It is a plain breadth-first search from all the entries at
// once (rule 4), which on a cycle ends by itself and gives the least
// fixpoint. ok is false if the model holds no such associate.
func (m *refModel) effective(id access.AssociateID) (dist map[access.GroupID]int, ok bool) {
	a, ok := m.assocs[id]
	if !ok {
		return nil, false
	}
	dist = map[access.GroupID]int{}
	var queue []access.GroupID
	for g := range m.entries(&a) {
		dist[g] = 0
		queue = append(queue, g)
	}
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		for _, p := range m.includers(g) {
			if _, seen := dist[p]; !seen {
				dist[p] = dist[g] + 1
				queue = append(queue, p)
			}
		}
	}
	return dist, true
}

// all returns the effective groups of every associate, as effective does.
func (m *refModel) all() map[access.AssociateID]map[access.GroupID]int {
	out := make(map[access.AssociateID]map[access.GroupID]int, len(m.assocs))
	for id := range m.assocs {
		out[id], _ = m.effective(id)
	}
	return out
}

// members returns the effective members of every group the model holds,
// each list in id order. A group with no members has an empty list.
func (m *refModel) members() map[access.GroupID][]access.AssociateID {
	out := make(map[access.GroupID][]access.AssociateID, len(m.groups))
	for g := range m.groups {
		out[g] = []access.AssociateID{}
	}
	for a, dist := range m.all() {
		for g := range dist {
			out[g] = append(out[g], a)
		}
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out
}
