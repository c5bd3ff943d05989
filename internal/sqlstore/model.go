package sqlstore

import (
	"cmp"
	"slices"

	"github.com/crmaccess/access"
)

// set holds loaded entities of one kind, in the order they were added,
// with an index by id. Loads add main-table rows in id order, so the list
// is usually already the sorted slice a Batch wants, and no entity is a
// heap object of its own. While the ids arrive in increasing order the set
// keeps no map: get searches the sorted ids, starting where the last
// lookup ended (child rows come in their owners' order), so loading a
// million associates builds no million-entry map. The first id out of
// order builds the index.
type set[ID ~int64, T any] struct {
	ids   []ID
	list  []T
	index map[ID]int // nil while ids is strictly increasing
	hint  int        // where the last lookup in sorted ids ended
}

// reserve makes room for n more entities.
func (s *set[ID, T]) reserve(n int) {
	s.ids = slices.Grow(s.ids, n)
	s.list = slices.Grow(s.list, n)
	adviseHuge(s.list[:cap(s.list)])
}

// put adds v, or replaces the entity with the same id.
func (s *set[ID, T]) put(id ID, v T) {
	if s.index == nil {
		if n := len(s.ids); n == 0 || s.ids[n-1] < id {
			s.ids = append(s.ids, id)
			s.list = append(s.list, v)
			return
		}
		s.index = make(map[ID]int, max(len(s.ids), cap(s.ids)))
		for i, id := range s.ids {
			s.index[id] = i
		}
	}
	if i, ok := s.index[id]; ok {
		s.list[i] = v
		return
	}
	s.index[id] = len(s.list)
	s.ids = append(s.ids, id)
	s.list = append(s.list, v)
}

// find returns the position of id, or -1.
func (s *set[ID, T]) find(id ID) int {
	if s.index != nil {
		if i, ok := s.index[id]; ok {
			return i
		}
		return -1
	}
	// Look a few places on from the last hit first.
	for i := s.hint; i < len(s.ids) && i < s.hint+4; i++ {
		if s.ids[i] == id {
			s.hint = i
			return i
		}
		if s.ids[i] > id {
			break
		}
	}
	if i, ok := slices.BinarySearch(s.ids, id); ok {
		s.hint = i
		return i
	}
	return -1
}

// get returns the entity with the given id, or nil. The pointer is valid
// until the next put.
func (s *set[ID, T]) get(id ID) *T {
	if i := s.find(id); i >= 0 {
		return &s.list[i]
	}
	return nil
}

func (s *set[ID, T]) has(id ID) bool { return s.find(id) >= 0 }

func (s *set[ID, T]) merge(o *set[ID, T]) {
	for i, id := range o.ids {
		s.put(id, o.list[i])
	}
}

// sorted returns the entities in id order. It hands out the set's own
// slice when that is in order: a model is built for one caller and
// dropped.
func (s *set[ID, T]) sorted() []T {
	if len(s.list) == 0 {
		return nil
	}
	if slices.IsSorted(s.ids) {
		return s.list
	}
	order := make([]int, len(s.ids))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(s.ids[a], s.ids[b]) })
	out := make([]T, len(order))
	for i, j := range order {
		out[i] = s.list[j]
	}
	return out
}

// Model holds entities loaded from the tables.
type Model struct {
	roles          set[access.RoleID, access.Role]
	groups         set[access.GroupID, access.Group]
	associates     set[access.AssociateID, access.Associate]
	sharingRules   set[access.RuleID, access.SharingRule]
	grants         set[access.GrantID, access.Grant]
	categories     set[access.CategoryID, access.Category]
	impersonations set[access.ImpersonationID, access.Impersonation]
	limits         set[access.LimitID, access.Limit]
	licences       set[access.LicenceID, access.Licence]
	pastOwners     set[access.AssociateID, access.PastOwner]
}

// NewModel returns an empty model.
func NewModel() *Model { return &Model{} }

// Has reports whether the model holds the entity ref names.
func (m *Model) Has(ref access.Ref) bool {
	k := kindOf(ref.Kind)
	return k != nil && k.has(m, ref.ID)
}

// merge copies every entity of o into m.
func (m *Model) merge(o *Model) {
	for _, k := range kinds {
		k.merge(m, o)
	}
}

// Batch returns every entity of the model as puts, each list in id order.
// The model must not be used afterwards.
func (m *Model) Batch() access.Batch {
	var b access.Batch
	for _, k := range kinds {
		k.collect(m, &b)
	}
	return b
}

// Selection names the entities to load, by kind. A nil Selection loads
// everything.
type Selection map[access.Kind][]int64

// add appends ids of one kind, skipping zero ids.
func (s Selection) add(k access.Kind, ids ...int64) {
	for _, id := range ids {
		if id != 0 {
			s[k] = append(s[k], id)
		}
	}
}

// dedup sorts each list and removes repeats.
func (s Selection) dedup() {
	for k, ids := range s {
		slices.Sort(ids)
		s[k] = slices.Compact(ids)
	}
}

func int64s[T ~int64](in []T) []int64 {
	out := make([]int64, len(in))
	for i, v := range in {
		out[i] = int64(v)
	}
	return out
}
