package access

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Matrix is a group's permissions matrix, as Dynamicweb's admin shows it:
// for the group's effective members, entity types × ownership relations ×
// rights. Members with the same role share a row, so the matrix grows with
// the roles among the members, not with the members.
type Matrix struct {
	Group GroupRef
	// Members counts the group's effective members; Gated counts those
	// that fail a gate (inactive, out of their window, resources…) and
	// so hold nothing; System counts system users, which hold everything.
	Members, Gated, System int
	// Rows, by entity type ("*", the default row, first; then by name),
	// then by role id.
	Rows []MatrixRow
}

// MatrixRow is what the members holding one role get on one entity type.
type MatrixRow struct {
	EntityType string
	Role       RoleRef
	// Members counts the members holding Role that passed the gates.
	Members int
	// Relations is the role's grid for the type (its own row, else "*"),
	// as decisions read it — a team cell includes the owner's unless the
	// role limits teams — after the limits: every cell capped by Max,
	// and a cell of a relation that does not make the record the
	// member's own (CategoryMember, Other, Unowned) also by the
	// whole-type [LimitUnrelated] limits, as on a record where only that
	// relation holds. A cell limited to nothing is left out.
	Relations Grid
	// Default is what the default permissions of the group and of the
	// groups including it add for the type, where no grant covers a
	// record (see [Engine.Can]), capped by Max. On a record the member
	// is not related to, the LimitUnrelated limits cap it further.
	Default CRUD
	// Granted is what grants on every record of the type, to the group or
	// to the groups including it, add, capped by Max.
	Granted CRUD
	// Max is the most a member keeps on any record of the type under the
	// whole-type [LimitAll] limits in Limits: LevelFull when none caps
	// it (as [TypePermissions.Max]). A denial makes it LevelNone, and
	// the row then grants nothing.
	Max CRUD
	// Limits lists, in id order, the limits every member of the row is
	// under for the type or "*": those on the group or on the groups
	// including it, and the organisation-wide ones; whole-type and
	// per-record alike (a per-record limit caps only its record, so it
	// changes no cell). A member's other groups may limit it further:
	// [Engine.Permissions] shows each member's.
	Limits []Limit
}

// limit sets the row's cells from role grid gr (nil: none), and caps
// them, its default and its grants, by the limits ls (see [MatrixRow]).
func (row *MatrixRow) limit(gr *grid, ls []Limit) {
	row.Max = LevelFull
	unrelated := LevelFull
	for _, l := range ls {
		if l.RecordID != 0 {
			continue
		}
		if l.Scope == LimitAll {
			row.Max &= l.Max
		} else {
			unrelated &= l.Max
		}
	}
	row.Limits = ls
	row.Default &= row.Max
	row.Granted &= row.Max
	if gr == nil {
		return
	}
	row.Relations = Grid{}
	for r := Owner; r < numRelations; r++ {
		c := gr[r] & row.Max
		if relatedRelations&(1<<r) == 0 {
			c &= unrelated
		}
		if c != 0 {
			row.Relations[r] = c
		}
	}
}

// Matrix returns group g's permissions matrix. Its cells are what the
// members keep after the limits membership of g brings and the
// organisation-wide ones (see [MatrixRow]): a group denied a type shows no
// rights there, whatever the role grants. Unknown group: an error
// wrapping [ErrNotFound].
func (e *Engine) Matrix(ctx context.Context, g GroupID) (Matrix, error) {
	s, err := e.current()
	if err != nil {
		return Matrix{}, err
	}
	gi, gn := s.group(g)
	if gn == nil {
		return Matrix{}, fmt.Errorf("access: Matrix: group %d: %w", g, ErrNotFound)
	}
	out := Matrix{Group: s.groupRef(gi)}

	// What membership contributes, the same for every member: defaults
	// and type-wide grants of g and of every group including it.
	var defaults []map[string]CRUD
	granted := map[string]CRUD{}
	inUp := map[GroupID]bool{}
	for _, u := range gn.up {
		grp := &s.groups[u.g].group
		inUp[grp.ID] = true
		if len(grp.Defaults) > 0 {
			defaults = append(defaults, grp.Defaults)
		}
	}
	for _, gr := range s.policy.grants {
		if gr.Group != 0 && inUp[gr.Group] && gr.RecordID == 0 {
			granted[gr.EntityType] |= gr.Rights
		}
	}
	// The limits every member is under; system members, who bypass
	// them, have no row.
	var limits []Limit
	for _, id := range slices.Sorted(maps.Keys(s.policy.limits)) {
		if l := s.policy.limits[id]; l.Group == 0 || inUp[l.Group] {
			limits = append(limits, l)
		}
	}

	// Members by role.
	byRole := map[RoleID]int{}
	for a := range s.memberSet(gi).all() {
		n := s.assocs.at(a)
		out.Members++
		switch {
		case s.gate(n, e.now) != GateNone:
			out.Gated++
		case n.a.Type == System:
			out.System++
		default:
			byRole[n.a.Role]++
		}
	}

	types := map[string]bool{Wildcard: true}
	for _, d := range defaults {
		for t := range d {
			types[t] = true
		}
	}
	for t := range granted {
		types[t] = true
	}
	for _, l := range limits {
		types[l.EntityType] = true
	}
	for id := range byRole {
		if rn := s.roles[id]; rn != nil {
			for t := range rn.role.Rights {
				types[t] = true
			}
		}
	}
	order := slices.SortedFunc(maps.Keys(types), func(a, b string) int {
		return cmp.Or(cmp.Compare(notWildcard(a), notWildcard(b)), strings.Compare(a, b))
	})
	roles := slices.Sorted(maps.Keys(byRole))
	for _, t := range order {
		// Each group falls back to its own "*" default, as Can does.
		var def CRUD
		for _, d := range defaults {
			if c, ok := d[t]; ok {
				def |= c
			} else {
				def |= d[Wildcard]
			}
		}
		var ls []Limit
		for _, l := range limits {
			if l.EntityType == t || l.EntityType == Wildcard {
				ls = append(ls, l)
			}
		}
		for _, id := range roles {
			row := MatrixRow{EntityType: t, Role: s.roleRef(id), Members: byRole[id], Default: def, Granted: granted[t] | granted[Wildcard]}
			var gr *grid
			if rn := s.roles[id]; rn != nil {
				gr = rn.rights(t)
			}
			row.limit(gr, slices.Clone(ls))
			out.Rows = append(out.Rows, row)
		}
	}
	return out, nil
}

// notWildcard sorts the default row, "*", before the named types.
func notWildcard(t string) int {
	if t == Wildcard {
		return 0
	}
	return 1
}
