package access

import (
	"fmt"
	"slices"
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
