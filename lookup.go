package access

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"maps"
	"slices"
	"unicode/utf8"
)

// nameIndex finds associates by login name and groups by name in a
// snapshot. It is built with the snapshot and shared, unchanged, by every
// later snapshot until a write adds, renames or deletes a named entity;
// then it is copied and patched (copy on write), so that a write that does
// not touch names costs nothing here.
type nameIndex struct {
	// assocs finds associates by loginKey; groups by the exact group name.
	assocs loginIndex
	groups nameMap[GroupID]
}

// loginIndex finds associates by login key (see loginKey): every live
// associate's index, sorted by the hash of its key (then by index), in
// two arrays, 12 bytes an associate. A map from the key itself took 55 MB
// at a million associates, this 12. A lookup bisects to the run of equal
// hashes and keeps the associates whose key is the one asked for, so that
// two keys with one hash, or a key several associates share, are told
// apart; a write that changes names copies the arrays (a map was copied
// whole too).
type loginIndex struct {
	hs  []uint64
	idx []int32
}

// loginSeed seeds loginHash for the life of the process.
var loginSeed = maphash.MakeSeed()

// loginHash hashes a login key. Tests weaken it, so that different keys
// share hashes.
var loginHash = func(key string) uint64 { return maphash.String(loginSeed, key) }

// loginEntry is one associate of a loginIndex, while it is built.
type loginEntry struct {
	h   uint64
	idx int32
}

func compareLogins(x, y loginEntry) int {
	if c := cmp.Compare(x.h, y.h); c != 0 {
		return c
	}
	return cmp.Compare(x.idx, y.idx)
}

// newLoginIndex makes the index of es, which it sorts.
func newLoginIndex(es []loginEntry) loginIndex {
	slices.SortFunc(es, compareLogins)
	x := loginIndex{hs: make([]uint64, len(es)), idx: make([]int32, len(es))}
	for i, e := range es {
		x.hs[i], x.idx[i] = e.h, e.idx
	}
	return x
}

// get returns the associate of s whose login key is key, or, when several
// have it, all of them sorted by id; 0 and nil when none has.
func (x *loginIndex) get(s *snapshot, key string) (one AssociateID, many []AssociateID) {
	h := loginHash(key)
	i, _ := slices.BinarySearch(x.hs, h)
	for ; i < len(x.hs) && x.hs[i] == h; i++ {
		n := s.assocs.at(x.idx[i])
		if n == nil || loginKey(n.a.Name) != key {
			continue
		}
		switch {
		case one == 0 && many == nil:
			one = n.a.ID
		case many == nil:
			many = []AssociateID{one, n.a.ID}
		default:
			many = append(many, n.a.ID)
		}
	}
	if many != nil {
		slices.Sort(many)
		return 0, many
	}
	return one, nil
}

// without returns the index without the associates at the indexes drop
// and with those of add, whose hashes it sorts.
func (x *loginIndex) without(drop map[int32]bool, add []loginEntry) loginIndex {
	slices.SortFunc(add, compareLogins)
	out := loginIndex{hs: make([]uint64, 0, len(x.hs)+len(add)), idx: make([]int32, 0, len(x.hs)+len(add))}
	push := func(e loginEntry) {
		out.hs, out.idx = append(out.hs, e.h), append(out.idx, e.idx)
	}
	for i := range x.hs {
		e := loginEntry{x.hs[i], x.idx[i]}
		if drop[e.idx] {
			continue
		}
		for len(add) > 0 && compareLogins(add[0], e) < 0 {
			push(add[0])
			add = add[1:]
		}
		push(e)
	}
	for _, e := range add {
		push(e)
	}
	return out
}

// nameMap maps names to the entities bearing them. Most names are borne by
// one entity, kept in one, which spares a slice per name; the others are
// in many. A name is in one of the two maps, never both. Slices in many
// are sorted and never changed in place, since snapshots share them.
type nameMap[ID ~int64] struct {
	one  map[string]ID
	many map[string][]ID
}

func newNameMap[ID ~int64](n int) nameMap[ID] {
	return nameMap[ID]{one: make(map[string]ID, n)}
}

func (m nameMap[ID]) clone() nameMap[ID] {
	return nameMap[ID]{one: maps.Clone(m.one), many: maps.Clone(m.many)}
}

// get returns the one entity named k, or all of them when several are.
func (m *nameMap[ID]) get(k string) (one ID, many []ID) {
	if ids, ok := m.many[k]; ok {
		return 0, ids
	}
	return m.one[k], nil
}

func (m *nameMap[ID]) add(k string, id ID) {
	if ids, ok := m.many[k]; ok {
		if i, found := slices.BinarySearch(ids, id); !found {
			m.many[k] = slices.Insert(slices.Clip(ids), i, id)
		}
		return
	}
	x, ok := m.one[k]
	switch {
	case !ok:
		m.one[k] = id
	case x != id:
		delete(m.one, k)
		if m.many == nil {
			m.many = map[string][]ID{}
		}
		m.many[k] = []ID{min(x, id), max(x, id)}
	}
}

func (m *nameMap[ID]) remove(k string, id ID) {
	if ids, ok := m.many[k]; ok {
		i, found := slices.BinarySearch(ids, id)
		switch {
		case !found:
		case len(ids) == 2:
			delete(m.many, k)
			m.one[k] = ids[1-i]
		default:
			m.many[k] = slices.Concat(ids[:i], ids[i+1:])
		}
		return
	}
	if x, ok := m.one[k]; ok && x == id {
		delete(m.one, k)
	}
}

// loginKey returns a key under which two login names are equal exactly when
// their folded forms are (see FoldName): the name itself for the common
// lower-case ASCII login, so that neither building the index nor a lookup
// allocates for it. FoldName maps ASCII letters to upper case and leaves no
// lower-case ASCII letter, so lowering the ASCII letters of its result
// keeps names apart that it keeps apart, and gives an ASCII name its
// lower-case form.
func loginKey(name string) string {
	lower := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= utf8.RuneSelf {
			return asciiLower(FoldName(name))
		}
		if 'A' <= c && c <= 'Z' {
			lower = false
		}
	}
	if lower {
		return name
	}
	return asciiLower(name)
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// buildNames indexes the names of every associate and group of s. It
// reads only their nodes (see startNames).
func (s *snapshot) buildNames() *nameIndex {
	x := &nameIndex{groups: newNameMap[GroupID](len(s.groups))}
	es := make([]loginEntry, 0, s.assocIndex.n)
	for i, n := range s.assocs.all() {
		if n != nil {
			es = append(es, loginEntry{loginHash(loginKey(n.a.Name)), i})
		}
	}
	x.assocs = newLoginIndex(es)
	for _, n := range s.groups {
		if n != nil {
			x.groups.add(n.group.Name, n.group.ID)
		}
	}
	return x
}

// updateNames brings the index old's snapshot shared up to date with d,
// which s (old updated by d) already holds.
func (s *snapshot) updateNames(old *snapshot, d *Delta) {
	assocName := func(id AssociateID) (string, bool) {
		if _, n := old.assoc(id); n != nil {
			return n.a.Name, true
		}
		return "", false
	}
	groupName := func(id GroupID) (string, bool) {
		if _, n := old.group(id); n != nil {
			return n.group.Name, true
		}
		return "", false
	}
	// A put that keeps its name and a delete of what did not exist change
	// nothing; membership and rights changes are the common writes.
	touched := false
	for _, a := range d.Associates {
		if name, ok := assocName(a.ID); !ok || name != a.Name || slices.Contains(d.DeleteAssociates, a.ID) {
			touched = true
		}
	}
	for _, id := range d.DeleteAssociates {
		if _, ok := assocName(id); ok {
			touched = true
		}
	}
	for _, g := range d.Groups {
		if name, ok := groupName(g.ID); !ok || name != g.Name || slices.Contains(d.DeleteGroups, g.ID) {
			touched = true
		}
	}
	for _, id := range d.DeleteGroups {
		if _, ok := groupName(id); ok {
			touched = true
		}
	}
	if !touched {
		return
	}
	x := &nameIndex{groups: old.byName.groups.clone()}
	// Every old name of a put or deleted entity goes, then the new names
	// come: a batch may swap two names. A delete wins over a put of the
	// same id, as in updateMembership.
	drop := map[int32]bool{}
	var add []loginEntry
	for _, a := range d.Associates {
		if i, n := old.assoc(a.ID); n != nil {
			drop[i] = true
		}
	}
	for _, id := range d.DeleteAssociates {
		if i, n := old.assoc(id); n != nil {
			drop[i] = true
		}
	}
	for _, a := range d.Associates {
		if i, n := s.assoc(a.ID); n != nil && !slices.Contains(d.DeleteAssociates, a.ID) {
			add = append(add, loginEntry{loginHash(loginKey(a.Name)), i})
		}
	}
	x.assocs = old.byName.assocs.without(drop, add)
	for _, g := range d.Groups {
		if name, ok := groupName(g.ID); ok {
			x.groups.remove(name, g.ID)
		}
	}
	for _, id := range d.DeleteGroups {
		if name, ok := groupName(id); ok {
			x.groups.remove(name, id)
		}
	}
	for _, g := range d.Groups {
		if !slices.Contains(d.DeleteGroups, g.ID) {
			x.groups.add(g.Name, g.ID)
		}
	}
	s.byName = x
}

// AssociateByName finds the associate whose login name is name, compared
// as the stores compare login names (case-insensitively, see [FoldName]),
// from the resolver's snapshot: no store round trip, so that an
// authentication per request costs a map lookup. It returns an error
// wrapping [ErrNotFound] when no associate has the name, and one wrapping
// [ErrInvalid] in the case the stores rule out, several associates sharing
// it (the loaded data broke the rule): it does not guess whom a login
// means. The Associate is a copy.
func (e *Engine) AssociateByName(ctx context.Context, name string) (Associate, error) {
	s, err := e.current()
	if err != nil {
		return Associate{}, err
	}
	id, many := s.byName.assocs.get(s, loginKey(name))
	if many != nil {
		return Associate{}, fmt.Errorf("access: associate named %q: %w: the name is shared by associates %v", name, ErrInvalid, many)
	}
	_, n := s.assoc(id)
	if id == 0 || n == nil {
		return Associate{}, fmt.Errorf("access: associate named %q: %w", name, ErrNotFound)
	}
	return n.a.clone(), nil
}

// GroupsByName lists, sorted, the groups named exactly name (case and all:
// group names are labels, not logins). Group names need not be unique (see
// [Group]), hence a list. It answers from the resolver's snapshot, and
// returns an error wrapping [ErrNotFound] when no group has the name.
func (e *Engine) GroupsByName(ctx context.Context, name string) ([]GroupID, error) {
	s, err := e.current()
	if err != nil {
		return nil, err
	}
	id, many := s.byName.groups.get(name)
	if many != nil {
		return slices.Clone(many), nil
	}
	if _, n := s.group(id); id == 0 || n == nil {
		return nil, fmt.Errorf("access: group named %q: %w", name, ErrNotFound)
	}
	return []GroupID{id}, nil
}

// PastOwners lists, by id, the deleted associates that still own records
// as far as the model knows: their [PastOwner] entries wait for the
// application to transfer the records and forget them
// ([Batch.ForgetPastOwners], or [TransferAssociate], which does both).
// Errors: [ErrStale] and the freshness gate's others.
func (e *Engine) PastOwners(ctx context.Context) ([]PastOwner, error) {
	s, err := e.current()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.pastOwnerList(), nil
}
