package access

import (
	"errors"
	"fmt"
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
