package access

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// GroupID identifies a usergroup. The zero value names no group.
type GroupID int64

// Group is a usergroup. Its members are:
//   - associates that name it as their primary group or a secondary group
//     (stored on the [Associate]);
//   - internal associates whose role is listed in Roles;
//   - internal associates whose role is listed in RolesAndSubordinates, or is
//     below a role listed there;
//   - the effective members of every group listed in Groups, to any depth
//     (a parent group includes its subgroups).
//
// A group with a Smart rule is different: its members are exactly the
// internal associates the rule matches. Associates' links to it confer no
// membership, and it may not list Groups, Roles or RolesAndSubordinates.
//
// Values are copied on the way into a store and on the way out.
type Group struct {
	// ID identifies the group; it must be positive.
	ID GroupID
	// Name is required; it need not be unique.
	Name string
	// Description is a short free text saying what the group is for, as
	// vtiger's group list shows beside the name; at most
	// [MaxDescriptionLen] bytes, "" for none.
	Description string
	// Groups lists member groups: their effective members are members of
	// this group. Edges may not form a cycle.
	Groups []GroupID
	// Roles lists roles whose holders are members.
	Roles []RoleID
	// RolesAndSubordinates lists roles whose holders, and the holders of
	// every role below them, are members.
	RolesAndSubordinates []RoleID
	// Smart, when non-empty, is a rule in the smart rule language (see
	// [ParseSmartRule]) that replaces hand-picked membership.
	Smart string

	// Functions lists functional rights every effective member has, such
	// as Dynamicweb's "allow backend login".
	Functions []string
	// Defaults is the group's default permission: per entity type ("*" for
	// every type), the rights its effective members get on a record when
	// no explicit grant to the member or any of its groups covers it.
	Defaults map[string]CRUD
	// Admins may add associates to this group and remove them from it
	// (not from the groups that include it).
	Admins []AssociateID
	// SelfService lets internal associates add or remove themselves
	// (Extranet opt-in groups).
	SelfService bool
	// Fields are custom field values that members fall back to when they
	// have no value of their own.
	Fields map[string]string
}

// IsSmart reports whether the group's membership comes from a smart rule.
func (g *Group) IsSmart() bool { return g.Smart != "" }

func (g Group) clone() Group {
	g.Groups = slices.Clone(g.Groups)
	g.Roles = slices.Clone(g.Roles)
	g.RolesAndSubordinates = slices.Clone(g.RolesAndSubordinates)
	g.Functions = slices.Clone(g.Functions)
	g.Defaults = maps.Clone(g.Defaults)
	g.Admins = slices.Clone(g.Admins)
	g.Fields = maps.Clone(g.Fields)
	return g
}

// check validates what can be validated without looking anything up.
func (g *Group) check() error {
	if g.ID <= 0 {
		return fmt.Errorf("%w: group id %d must be positive", ErrInvalid, g.ID)
	}
	if g.Name == "" {
		return fmt.Errorf("%w: group %d: name is required", ErrInvalid, g.ID)
	}
	what := noun("group", int64(g.ID))
	if err := checkText(what, "name", g.Name, MaxNameLen); err != nil {
		return err
	}
	if err := checkText(what, "description", g.Description, MaxDescriptionLen); err != nil {
		return err
	}
	if err := checkText(what, "smart rule", g.Smart, MaxValueLen); err != nil {
		return err
	}
	if err := checkLens(what, "member groups", len(g.Groups), "roles", len(g.Roles),
		"roles and subordinates", len(g.RolesAndSubordinates), "admins", len(g.Admins)); err != nil {
		return err
	}
	if err := checkTexts(what, "functional right", g.Functions, MaxKeyLen); err != nil {
		return err
	}
	if err := checkKeys(what, "default permission", g.Defaults, nil); err != nil {
		return err
	}
	if err := checkKeys(what, "field", g.Fields, func(v string) string { return v }); err != nil {
		return err
	}
	for _, c := range g.Groups {
		if c == g.ID {
			return &CycleError{Kind: KindGroup, Path: []int64{int64(g.ID), int64(g.ID)}}
		}
		if c <= 0 {
			return fmt.Errorf("%w: group %d: member group id %d must be positive", ErrInvalid, g.ID, c)
		}
	}
	for _, r := range slices.Concat(g.Roles, g.RolesAndSubordinates) {
		if r <= 0 {
			return fmt.Errorf("%w: group %d: role id %d must be positive", ErrInvalid, g.ID, r)
		}
	}
	for _, f := range g.Functions {
		if strings.TrimSpace(f) == "" {
			return fmt.Errorf("%w: group %d: empty functional right", ErrInvalid, g.ID)
		}
	}
	for t, c := range g.Defaults {
		if t == "" || !c.Valid() {
			return fmt.Errorf("%w: group %d: default permission %q: %s", ErrInvalid, g.ID, t, c)
		}
	}
	for _, a := range g.Admins {
		if a <= 0 {
			return fmt.Errorf("%w: group %d: admin id %d must be positive", ErrInvalid, g.ID, a)
		}
	}
	for k := range g.Fields {
		if k == "" {
			return fmt.Errorf("%w: group %d: empty field name", ErrInvalid, g.ID)
		}
	}
	if g.Smart != "" {
		if len(g.Groups)+len(g.Roles)+len(g.RolesAndSubordinates) > 0 {
			return fmt.Errorf("%w: group %d: a smart group's members come from its rule alone; it cannot also list groups or roles", ErrInvalid, g.ID)
		}
		if _, err := ParseSmartRule(g.Smart); err != nil {
			return fmt.Errorf("group %d: %w", g.ID, err) // err already wraps ErrInvalid
		}
	}
	return nil
}

// Reason says why an associate is a member of a group, one step at a time.
type Reason uint8

// The ways into a group. The zero value is not a reason.
const (
	_ Reason = iota
	// ViaPrimary: the group is the associate's primary group.
	ViaPrimary
	// ViaSecondary: the associate links to the group directly.
	ViaSecondary
	// ViaRole: the group lists the associate's role in Roles.
	ViaRole
	// ViaRoleTree: the group lists the associate's role, or a role above it,
	// in RolesAndSubordinates.
	ViaRoleTree
	// ViaSmart: the group's smart rule matches the associate.
	ViaSmart
	// ViaGroup: the group lists another group the associate is a member of.
	ViaGroup
)

// String names the reason.
func (r Reason) String() string { return enumName(reasonNames[:], r, "reason") }

// GroupRef names a group for explanations: its id and its name at the
// revision the explanation was made.
type GroupRef struct {
	ID   GroupID
	Name string
}

// String renders the group as `Name (ID)`, or just the id when it has no name.
func (g GroupRef) String() string { return refString(g.Name, int64(g.ID)) }

// RoleRef names a role for explanations.
type RoleRef struct {
	ID   RoleID
	Name string
}

// String renders the role as `Name (ID)`, or just the id when it has no name.
func (r RoleRef) String() string { return refString(r.Name, int64(r.ID)) }

func refString(name string, id int64) string {
	if name == "" {
		return strconv.FormatInt(id, 10)
	}
	return name + " (" + strconv.FormatInt(id, 10) + ")"
}

// Membership is one effective group membership of an associate and the
// shortest explanation of it.
type Membership struct {
	// Group is the group the associate is an effective member of.
	Group GroupID
	// Reason is how the associate entered Path[0].
	Reason Reason
	// Role is, for ViaRole and ViaRoleTree, the role Path[0] lists.
	Role RoleRef
	// Subordinate is, for ViaRoleTree when the associate's role is strictly
	// below Role, the associate's own role.
	Subordinate RoleRef
	// Path is the chain of groups from the one the associate entered
	// directly to Group, each included in the next; the shortest such chain.
	// It has length 1 for a direct membership.
	//
	// The memberships one call of [Engine.EffectiveGroups] returns share
	// their paths' storage: a path that continues another is a longer
	// prefix of the same array, so that a chain of n nested groups costs n
	// entries, not n²/2. Each path's capacity is its length, so appending
	// to it copies; but writing to an element of one may change another's.
	// Treat paths as read-only, or copy one before changing it.
	Path []GroupRef
}

// Hops reports how many nesting edges the membership crosses.
func (m Membership) Hops() int { return max(len(m.Path)-1, 0) }

// String explains the membership in one line, for example
// "Sales (20): role Sales Assistant (3) ⊂ Sales (2) (RolesAndSubordinates of Sales (20))"
// or "Region (30): primary group Team A (10) via Team A (10) → Region (30)".
func (m Membership) String() string {
	var b strings.Builder
	var first GroupRef
	if len(m.Path) > 0 {
		first = m.Path[0]
		b.WriteString(m.Path[len(m.Path)-1].String())
	} else {
		b.WriteString(strconv.FormatInt(int64(m.Group), 10))
	}
	b.WriteString(": ")
	switch m.Reason {
	case ViaPrimary:
		fmt.Fprintf(&b, "primary group %s", first)
	case ViaSecondary:
		fmt.Fprintf(&b, "member of %s", first)
	case ViaRole:
		fmt.Fprintf(&b, "role %s (Roles of %s)", m.Role, first)
	case ViaRoleTree:
		if m.Subordinate.ID != 0 {
			fmt.Fprintf(&b, "role %s ⊂ %s (RolesAndSubordinates of %s)", m.Subordinate, m.Role, first)
		} else {
			fmt.Fprintf(&b, "role %s (RolesAndSubordinates of %s)", m.Role, first)
		}
	case ViaSmart:
		fmt.Fprintf(&b, "smart rule of %s", first)
	default:
		b.WriteString(m.Reason.String())
	}
	if len(m.Path) > 1 {
		b.WriteString(" via ")
		for i, g := range m.Path {
			if i > 0 {
				b.WriteString(" → ")
			}
			b.WriteString(g.String())
		}
	}
	return b.String()
}

// route renders the membership compactly for decisions: how the associate
// entered, then the chain of groups, e.g. "Team A (10) → Sales (20)" or
// "role Sales (1) → Sales roles (30)".
func (m Membership) route() string {
	var b strings.Builder
	switch m.Reason {
	case ViaRole, ViaRoleTree:
		r := m.Role
		if m.Subordinate.ID != 0 {
			r = m.Subordinate
		}
		fmt.Fprintf(&b, "role %s → ", r)
	case ViaSmart:
		b.WriteString("smart rule → ")
	}
	for i, g := range m.Path {
		if i > 0 {
			b.WriteString(" → ")
		}
		b.WriteString(g.String())
	}
	return b.String()
}

// ErrSmartGroup is returned (wrapped) when asked to manage the membership
// of a smart group by hand: its members come from its rule alone.
var ErrSmartGroup = errors.New("smart group membership comes from its rule")
