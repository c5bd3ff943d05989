package access

import (
	"slices"
	"sync"
	"unsafe"
)

// A Decision is explained lazily: Can records ids, and names are looked up
// only when the decision is rendered. Looking them up in the snapshot the
// decision was made on would keep that whole snapshot alive (megabytes at
// a hundred thousand associates) for as long as the Decision is kept, so
// an audit queue spanning many revisions would grow without bound.
//
// Instead every snapshot of a resolver points at the resolver's one
// history, and so does every Decision made on it. The history holds the
// latest snapshot and, for every associate, role, group and sharing rule
// whose name has changed (or that was created or deleted) since the
// resolver started, the name it had before each change. The name an entity
// had at revision r is then the one the first change after r replaced, or,
// when it has not changed since r, its name in the latest snapshot. The
// history only grows with renames, creations and deletions — never with
// revisions alone — and a Decision keeps alive nothing but the history and
// the one latest snapshot its resolver holds anyway.

// nameKind says which id space a history entry belongs to.
type nameKind uint8

const (
	nameAssoc nameKind = iota
	nameRole
	nameGroup
	nameRule
	nameLicence
)

type nameKey struct {
	kind nameKind
	id   int64
}

// nameChange is one change of an entity's name: the name it had before
// revision rev.
type nameChange struct {
	rev  Revision // the first revision with the new name
	name string   // the name before rev
	had  bool     // whether the entity existed before rev
}

// history is a resolver's memory of names, shared by all its snapshots and
// decisions. It is safe for concurrent use: the resolver's one writer
// advances it, decisions read it.
type history struct {
	mu sync.RWMutex
	// cur is the latest published snapshot.
	cur *snapshot
	// undo lists, per entity, its changes in revision order.
	undo map[nameKey][]nameChange
}

// advance makes s the latest snapshot, recording every name that differs
// from the previous latest one. It must be called before s is published.
func (h *history) advance(s *snapshot) {
	s.names = h
	h.mu.Lock()
	defer h.mu.Unlock()
	if old := h.cur; old != nil {
		h.diff(old, s)
	}
	h.cur = s
}

// diff records the names that differ between old and s, at s's revision.
// Nodes shared by both snapshots are skipped by pointer, so an update that
// touches a few entities costs a pass over pointers, not a lookup each.
func (h *history) diff(old, s *snapshot) {
	note := func(kind nameKind, id int64, before string, had bool, after string, has bool) {
		if had == has && before == after {
			return
		}
		if h.undo == nil {
			h.undo = map[nameKey][]nameChange{}
		}
		k := nameKey{kind, id}
		h.undo[k] = append(h.undo[k], nameChange{rev: s.rev, name: before, had: had})
	}
	for i := range changed(&old.assocs, &s.assocs) {
		n, nn := old.assocs.get(i), s.assocs.get(i)
		if n != nil {
			_, after := s.assoc(n.a.ID)
			name := ""
			if after != nil {
				name = after.a.Name
			}
			note(nameAssoc, int64(n.a.ID), n.a.Name, true, name, after != nil)
		}
		if nn != nil {
			if _, on := old.assoc(nn.a.ID); on == nil {
				note(nameAssoc, int64(nn.a.ID), "", false, nn.a.Name, true)
			}
		}
	}
	if len(old.groups) != len(s.groups) || len(s.groups) == 0 || &old.groups[0] != &s.groups[0] {
		// An update keeps each group at its index: where both snapshots
		// hold one node, or the same group, at an index, the names are
		// compared there, and only the other slots (a group created,
		// deleted, or moved by a full build) are looked up by id.
		for i := range max(len(old.groups), len(s.groups)) {
			var n, nn *groupNode
			if i < len(old.groups) {
				n = old.groups[i]
			}
			if i < len(s.groups) {
				nn = s.groups[i]
			}
			switch {
			case n == nn:
				continue
			case n != nil && nn != nil && n.group.ID == nn.group.ID:
				note(nameGroup, int64(n.group.ID), n.group.Name, true, nn.group.Name, true)
				continue
			}
			if n != nil {
				_, after := s.group(n.group.ID)
				name := ""
				if after != nil {
					name = after.group.Name
				}
				note(nameGroup, int64(n.group.ID), n.group.Name, true, name, after != nil)
			}
			if nn != nil {
				if _, on := old.group(nn.group.ID); on == nil {
					note(nameGroup, int64(nn.group.ID), "", false, nn.group.Name, true)
				}
			}
		}
	}
	// An update that writes no role shares the role map, and one that
	// writes no sharing rule the rule map: nothing in them to compare.
	if !sameMap(old.roles, s.roles) {
		diffRoles(old, s, note)
	}
	if !sameMap(old.policy.rules, s.policy.rules) {
		diffRules(old, s, note)
	}
	if old.licences != s.licences {
		ol, nl := old.licences.all(), s.licences.all()
		for id, l := range ol {
			after, has := "", false
			if nn := nl[id]; nn != nil {
				after, has = nn.Name, true
			}
			note(nameLicence, int64(id), l.Name, true, after, has)
		}
		for id, l := range nl {
			if ol[id] == nil {
				note(nameLicence, int64(id), "", false, l.Name, true)
			}
		}
	}
}

// noteFunc records a name change for diff: the entity's name and
// existence before and after.
type noteFunc func(kind nameKind, id int64, before string, had bool, after string, has bool)

// diffRoles notes the role names that differ between old and s.
func diffRoles(old, s *snapshot, note noteFunc) {
	for id, n := range old.roles {
		nn := s.roles[id]
		after := ""
		if nn != nil {
			after = nn.role.Name
		}
		note(nameRole, int64(id), n.role.Name, true, after, nn != nil)
	}
	for id, n := range s.roles {
		if old.roles[id] == nil {
			note(nameRole, int64(id), "", false, n.role.Name, true)
		}
	}
}

// diffRules notes the sharing rule names that differ between old and s.
func diffRules(old, s *snapshot, note noteFunc) {
	for id, n := range old.policy.rules {
		nn := s.policy.rules[id]
		after := ""
		if nn != nil {
			after = nn.rule.Name
		}
		note(nameRule, int64(id), n.rule.Name, true, after, nn != nil)
	}
	for id, n := range s.policy.rules {
		if old.policy.rules[id] == nil {
			note(nameRule, int64(id), "", false, n.rule.Name, true)
		}
	}
}

// sameMap reports whether a and b are the same map (not merely equal):
// a snapshot shares a map with its predecessor until an update copies it
// to write it, so the same map means the same entries.
func sameMap[K comparable, V any](a, b map[K]V) bool {
	return *(*unsafe.Pointer)(unsafe.Pointer(&a)) == *(*unsafe.Pointer)(unsafe.Pointer(&b))
}

// names is a read view of a history at one revision, valid while the
// history's read lock is held. A nil history gives no names.
type names struct {
	h   *history
	rev Revision
}

// view read-locks the history and returns a view at revision rev, and the
// function that unlocks it.
func (h *history) view(rev Revision) (names, func()) {
	if h == nil {
		return names{}, func() {}
	}
	h.mu.RLock()
	return names{h, rev}, h.mu.RUnlock
}

// name returns the name of entity (kind, id) at the view's revision, and
// whether it existed then.
func (v names) name(kind nameKind, id int64) (string, bool) {
	if v.h == nil || v.h.cur == nil {
		return "", false
	}
	if ch := v.h.undo[nameKey{kind, id}]; len(ch) > 0 {
		i, _ := slices.BinarySearchFunc(ch, v.rev, func(c nameChange, r Revision) int {
			if c.rev <= r {
				return -1
			}
			return 1
		})
		if i < len(ch) {
			return ch[i].name, ch[i].had
		}
	}
	s := v.h.cur
	switch kind {
	case nameAssoc:
		if _, n := s.assoc(AssociateID(id)); n != nil {
			return n.a.Name, true
		}
	case nameRole:
		if n := s.roles[RoleID(id)]; n != nil {
			return n.role.Name, true
		}
	case nameGroup:
		if _, n := s.group(GroupID(id)); n != nil {
			return n.group.Name, true
		}
	case nameRule:
		if n := s.policy.rules[RuleID(id)]; n != nil {
			return n.rule.Name, true
		}
	case nameLicence:
		if l := s.licences.all()[LicenceID(id)]; l != nil {
			return l.Name, true
		}
	}
	return "", false
}

// pastOwner returns the name of id if it is a past owner in the latest
// snapshot: a deleted associate whose records wait for their transfer.
func (v names) pastOwner(id AssociateID) (string, bool) {
	if v.h == nil || v.h.cur == nil {
		return "", false
	}
	p, ok := v.h.cur.pastOwner(id)
	return p.Name, ok
}

func (v names) assoc(id AssociateID) string {
	n, _ := v.name(nameAssoc, int64(id))
	return n
}

func (v names) role(id RoleID) RoleRef {
	n, _ := v.name(nameRole, int64(id))
	return RoleRef{ID: id, Name: n}
}

func (v names) group(id GroupID) GroupRef {
	n, _ := v.name(nameGroup, int64(id))
	return GroupRef{ID: id, Name: n}
}

func (v names) licence(id LicenceID) string {
	n, _ := v.name(nameLicence, int64(id))
	return n
}

func (v names) rule(id RuleID) string {
	n, _ := v.name(nameRule, int64(id))
	return n
}

// membership explains how subject is a member of group g in the latest
// snapshot, with the names as at the view's revision; ok is false when it
// is not a member there. Memberships are not kept per revision (that would
// be the whole snapshot again), so an old decision shows its subject's
// membership as it is now.
func (v names) membership(subject AssociateID, g GroupID) (m Membership, ok bool) {
	if v.h == nil || v.h.cur == nil {
		return Membership{}, false
	}
	s := v.h.cur
	_, n := s.assoc(subject)
	gi, gn := s.group(g)
	if n == nil || gn == nil || !s.memberOf(s.subjectOfNode(n), gi) {
		return Membership{}, false
	}
	m = s.explain(n, gi)
	for i := range m.Path {
		m.Path[i] = v.group(m.Path[i].ID)
	}
	if m.Role.ID != 0 {
		m.Role = v.role(m.Role.ID)
	}
	if m.Subordinate.ID != 0 {
		m.Subordinate = v.role(m.Subordinate.ID)
	}
	return m, true
}
