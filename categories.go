package access

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
)

// Categories returns the associate's effective categories, ordered by id,
// each with its provenance. An associate without a service login has none.
// Unknown associate: an error wrapping [ErrNotFound].
func (e *Engine) Categories(ctx context.Context, who AssociateID) ([]CategoryMembership, error) {
	s, err := e.current()
	if err != nil {
		return nil, err
	}
	_, n := s.assoc(who)
	if n == nil {
		return nil, fmt.Errorf("access: Categories: associate %d: %w", who, ErrNotFound)
	}
	return s.effectiveCategories(n), nil
}

// effectiveCategories returns the associate's effective categories, ordered by
// id, each with its provenance; nil when it has none.
func (s *snapshot) effectiveCategories(n *assocNode) []CategoryMembership {
	var out []CategoryMembership
	for _, id := range slices.Sorted(maps.Keys(s.policy.categories)) {
		if m, ok := s.categoryMembership(n, s.policy.categories[id]); ok {
			out = append(out, m)
		}
	}
	return out
}

// categoryMembership explains the associate's membership of category c
// (individual, through which groups, through its role), and reports
// false when it is not a member at all.
func (s *snapshot) categoryMembership(n *assocNode, c *catNode) (CategoryMembership, bool) {
	direct, g, role := s.inCategory(s.subjectOfNode(n), c)
	if !direct && g < 0 && !role {
		return CategoryMembership{}, false
	}
	m := CategoryMembership{Category: CategoryRef{c.cat.ID, c.cat.Name}, Direct: direct}
	var groups []int32
	var vias []via // computed for the first group to explain
	for _, gi := range c.groups {
		if s.memberOf(s.subjectOfNode(n), gi) {
			if vias == nil {
				groups, vias = s.explanations(n)
			}
			m.Groups = append(m.Groups, s.explainVia(n, groups, vias, gi))
		}
	}
	slices.SortFunc(m.Groups, func(a, b Membership) int { return cmp.Compare(a.Group, b.Group) })
	if role {
		m.Role = s.roleRef(n.a.Role)
	}
	return m, true
}

// CategoryMembers returns the effective members of a category, in id
// order. Unknown category: an error wrapping [ErrNotFound].
func (e *Engine) CategoryMembers(ctx context.Context, c CategoryID) ([]AssociateID, error) {
	s, err := e.current()
	if err != nil {
		return nil, err
	}
	cn := s.policy.categories[c]
	if cn == nil {
		return nil, fmt.Errorf("access: CategoryMembers: category %d: %w", c, ErrNotFound)
	}
	var out []AssociateID
	for _, n := range s.assocs.all() {
		if n == nil {
			continue
		}
		if direct, g, role := s.inCategory(s.subjectOfNode(n), cn); direct || g >= 0 || role {
			out = append(out, n.a.ID)
		}
	}
	slices.Sort(out)
	return out, nil
}

// RemoveCategory returns the associate as it should be stored to end its
// individual membership of category c: a copy with c removed from
// Categories. The caller writes it to the store. When the associate is a
// member only through a usergroup or its role, it returns an error
// wrapping [ErrDerived] that names the usergroup (or role) to change; when
// it is also a member that way, removing the individual link leaves the
// membership, as the error-free result's Categories shows. Not a member at
// all, or an unknown associate or category: an error wrapping [ErrNotFound].
//
// The copy comes from the resolver's current snapshot; call Refresh first
// if other writers may have changed the associate since.
func (e *Engine) RemoveCategory(ctx context.Context, who AssociateID, c CategoryID) (Associate, error) {
	s, err := e.current()
	if err != nil {
		return Associate{}, err
	}
	_, n := s.assoc(who)
	cn := s.policy.categories[c]
	switch {
	case n == nil:
		return Associate{}, fmt.Errorf("access: RemoveCategory: associate %d: %w", who, ErrNotFound)
	case cn == nil:
		return Associate{}, fmt.Errorf("access: RemoveCategory: category %d: %w", c, ErrNotFound)
	}
	m, ok := s.categoryMembership(n, cn)
	switch {
	case !ok:
		return Associate{}, fmt.Errorf("access: RemoveCategory: associate %d is not a member of category %d: %w", who, c, ErrNotFound)
	case !m.Direct && len(m.Groups) > 0:
		// Name the group the category lists (the end of the path), and the
		// way into it when that is not direct.
		g := m.Groups[0]
		via := ""
		if len(g.Path) > 1 {
			via = " (via " + g.route() + ")"
		}
		return Associate{}, fmt.Errorf("access: RemoveCategory: associate %d is a member of category %s from usergroup %s%s: %w; change that usergroup or the category's groups",
			who, m.Category, g.Path[len(g.Path)-1], via, ErrDerived)
	case !m.Direct:
		return Associate{}, fmt.Errorf("access: RemoveCategory: associate %d is a member of category %s from role %s: %w; change the role or the category's roles",
			who, m.Category, m.Role, ErrDerived)
	}
	a := n.a.clone()
	a.Categories = slices.DeleteFunc(a.Categories, func(x CategoryID) bool { return x == c })
	return a, nil
}
