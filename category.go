package access

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// CategoryID identifies a Customer Service category.
type CategoryID int64

// Category is a Customer Service request category. Categories form a tree
// through Parent. An associate with a service login is a member of a
// category individually (listed in [Associate.Categories]), through any of
// its effective usergroups that the category lists in Groups, or through
// its role, listed in Roles. Membership of a parent category does not make
// anyone a member of its subcategories, nor the other way round.
type Category struct {
	// ID identifies the category; it must be positive.
	ID CategoryID
	// Name is required.
	Name string
	// Parent is the category above, or 0 at the top.
	Parent CategoryID
	// MembersOnly restricts the category's records to its members: anyone
	// else (other than system users) gets no rights on them, whatever
	// else grants them.
	MembersOnly bool
	// Groups lists the usergroups whose effective members are members.
	Groups []GroupID
	// Roles lists the roles whose holders are members.
	Roles []RoleID
}

func (c Category) clone() Category {
	c.Groups = slices.Clone(c.Groups)
	c.Roles = slices.Clone(c.Roles)
	return c
}

func (c *Category) check() error {
	switch {
	case c.ID <= 0:
		return fmt.Errorf("%w: category id %d must be positive", ErrInvalid, c.ID)
	case c.Name == "":
		return fmt.Errorf("%w: category %d: name is required", ErrInvalid, c.ID)
	case c.Parent < 0:
		return fmt.Errorf("%w: category %d: parent id %d must not be negative", ErrInvalid, c.ID, c.Parent)
	case c.Parent == c.ID:
		return &CycleError{Kind: KindCategory, Path: []int64{int64(c.ID), int64(c.ID)}}
	}
	what := noun("category", int64(c.ID))
	if err := checkText(what, "name", c.Name, MaxNameLen); err != nil {
		return err
	}
	if err := checkLens(what, "groups", len(c.Groups), "roles", len(c.Roles)); err != nil {
		return err
	}
	for _, g := range c.Groups {
		if g <= 0 {
			return fmt.Errorf("%w: category %d: group id %d must be positive", ErrInvalid, c.ID, g)
		}
	}
	for _, r := range c.Roles {
		if r <= 0 {
			return fmt.Errorf("%w: category %d: role id %d must be positive", ErrInvalid, c.ID, r)
		}
	}
	return nil
}

// ErrDerived is returned (wrapped) when asked to remove a category
// membership that comes from a usergroup or role rather than from the
// associate's own link: change the usergroup, the category or the role
// instead.
var ErrDerived = errors.New("membership is derived")

// CategoryMembership is one effective category of an associate, with every
// way it comes about. SuperOffice shows the group-derived ones with
// "(from usergroup)" and without a delete mark.
type CategoryMembership struct {
	Category CategoryRef
	// Direct reports an individual membership (Associate.Categories).
	Direct bool
	// Groups are the associate's memberships of the usergroups the
	// category lists, each with its path; sorted by group id.
	Groups []Membership
	// Role is set when the category lists the associate's role.
	Role RoleRef
}

// CategoryRef names a category for explanations.
type CategoryRef struct {
	ID   CategoryID
	Name string
}

// String renders the category as `Name (ID)`.
func (c CategoryRef) String() string { return refString(c.Name, int64(c.ID)) }

// FromGroup reports whether the membership comes from a usergroup and so
// cannot be removed from the associate individually.
func (m CategoryMembership) FromGroup() bool { return len(m.Groups) > 0 }

// String renders the membership as the Customer Service admin shows it,
// for example "Support (5) (from usergroup Team A (10))".
func (m CategoryMembership) String() string {
	var b strings.Builder
	b.WriteString(m.Category.String())
	if m.Direct {
		b.WriteString(" (individual)")
	}
	for _, g := range m.Groups {
		fmt.Fprintf(&b, " (from usergroup %s)", g.route())
	}
	if m.Role.ID != 0 {
		fmt.Fprintf(&b, " (from role %s)", m.Role)
	}
	return b.String()
}

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
	var out []CategoryMembership
	for _, id := range slices.Sorted(maps.Keys(s.categories)) {
		if m, ok := s.categoryMembership(n, s.categories[id]); ok {
			out = append(out, m)
		}
	}
	return out, nil
}

func (s *snapshot) categoryMembership(n *assocNode, c *catNode) (CategoryMembership, bool) {
	direct, g, role := s.inCategory(s.subjOf(n), c)
	if !direct && g < 0 && !role {
		return CategoryMembership{}, false
	}
	m := CategoryMembership{Category: CategoryRef{c.cat.ID, c.cat.Name}, Direct: direct}
	for _, gi := range c.groups {
		if s.memberOf(s.subjOf(n), gi) {
			m.Groups = append(m.Groups, s.explain(n, gi))
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
	cn := s.categories[c]
	if cn == nil {
		return nil, fmt.Errorf("access: CategoryMembers: category %d: %w", c, ErrNotFound)
	}
	var out []AssociateID
	for _, n := range s.assocs {
		if n == nil {
			continue
		}
		if direct, g, role := s.inCategory(s.subjOf(n), cn); direct || g >= 0 || role {
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
	cn := s.categories[c]
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
