package access

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// nameIndex finds associates by login name and groups by name in a
// snapshot. It is built with the snapshot and shared, unchanged, by every
// later snapshot until a write adds, renames or deletes a named entity;
// then the maps are copied and patched (copy on write), so a write that
// does not touch names costs nothing here. The id slices are never
// changed in place.
type nameIndex struct {
	// assocs maps a folded login name (FoldName) to the associates bearing
	// it, sorted: one, unless the loaded data break the store's uniqueness
	// rule.
	assocs map[string][]AssociateID
	// groups maps an exact group name to the groups bearing it, sorted.
	groups map[string][]GroupID
}

// buildNames indexes the names of every associate and group of s.
func (s *snapshot) buildNames() {
	x := &nameIndex{assocs: make(map[string][]AssociateID, len(s.assocs)), groups: make(map[string][]GroupID, len(s.groups))}
	for _, n := range s.assocs {
		if n != nil {
			k := FoldName(n.a.Name)
			x.assocs[k] = insertID(x.assocs[k], n.a.ID)
		}
	}
	for _, n := range s.groups {
		if n != nil {
			x.groups[n.group.Name] = insertID(x.groups[n.group.Name], n.group.ID)
		}
	}
	s.names = x
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
	x := &nameIndex{assocs: maps.Clone(old.names.assocs), groups: maps.Clone(old.names.groups)}
	// Every old name of a put or deleted entity goes first, then the new
	// names: a batch may swap two names. A delete wins over a put of the
	// same id, as in updateMembership.
	for _, a := range d.Associates {
		if name, ok := assocName(a.ID); ok {
			removeName(x.assocs, FoldName(name), a.ID)
		}
	}
	for _, id := range d.DeleteAssociates {
		if name, ok := assocName(id); ok {
			removeName(x.assocs, FoldName(name), id)
		}
	}
	for _, a := range d.Associates {
		if !slices.Contains(d.DeleteAssociates, a.ID) {
			k := FoldName(a.Name)
			x.assocs[k] = insertID(slices.Clip(x.assocs[k]), a.ID)
		}
	}
	for _, g := range d.Groups {
		if name, ok := groupName(g.ID); ok {
			removeName(x.groups, name, g.ID)
		}
	}
	for _, id := range d.DeleteGroups {
		if name, ok := groupName(id); ok {
			removeName(x.groups, name, id)
		}
	}
	for _, g := range d.Groups {
		if !slices.Contains(d.DeleteGroups, g.ID) {
			x.groups[g.Name] = insertID(slices.Clip(x.groups[g.Name]), g.ID)
		}
	}
	s.names = x
}

// insertID adds id to the sorted ids. Callers pass a clipped slice when it
// may be shared, so that the insertion copies it.
func insertID[ID ~int64](ids []ID, id ID) []ID {
	i, found := slices.BinarySearch(ids, id)
	if found {
		return ids
	}
	return slices.Insert(ids, i, id)
}

// removeName removes id from the ids under name, without touching the
// shared slice.
func removeName[ID ~int64](m map[string][]ID, name string, id ID) {
	ids := m[name]
	i, found := slices.BinarySearch(ids, id)
	if !found {
		return
	}
	if len(ids) == 1 {
		delete(m, name)
		return
	}
	m[name] = slices.Concat(ids[:i], ids[i+1:])
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
	ids := s.names.assocs[FoldName(name)]
	switch len(ids) {
	case 0:
		return Associate{}, fmt.Errorf("access: associate named %q: %w", name, ErrNotFound)
	case 1:
		_, n := s.assoc(ids[0])
		return n.a.clone(), nil
	default:
		return Associate{}, fmt.Errorf("access: associate named %q: %w: the name is shared by associates %v", name, ErrInvalid, ids)
	}
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
	ids := s.names.groups[name]
	if len(ids) == 0 {
		return nil, fmt.Errorf("access: group named %q: %w", name, ErrNotFound)
	}
	return slices.Clone(ids), nil
}
