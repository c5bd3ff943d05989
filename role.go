package access

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// RoleID identifies a role. The zero value names no role.
type RoleID int64

// Role says what its holders may do with the records their ownership
// relations reach, and which functional rights they have. Every associate
// except a resource holds exactly one role. Roles form a tree through Parent;
// a role's subordinates are the roles below it.
//
// Values are copied on the way into a store and on the way out.
type Role struct {
	// ID identifies the role; it must be positive.
	ID RoleID
	// Name is required; it need not be unique.
	Name string
	// Parent is the role directly above this one, or 0 for a top role.
	Parent RoleID
	// Rights maps an entity type ("contact", "sale"…) to the role's grid of
	// rights on records of that type. The type "*" is the default row for
	// types not listed. A type with no row and no "*" row grants nothing.
	Rights map[string]Grid
	// Functions lists the functional rights the role grants, such as
	// "export-selection" or "user-admin".
	Functions []string
}

// Grid gives, for each ownership relation, the rights a role grants on a
// record when that relation holds between the record and the subject.
// A missing relation grants nothing.
type Grid map[Relation]CRUD

// Wildcard is the entity type of the default row of a role's rights.
const Wildcard = "*"

func (r Role) clone() Role {
	if r.Rights != nil {
		rights := make(map[string]Grid, len(r.Rights))
		for t, g := range r.Rights {
			rights[t] = maps.Clone(g)
		}
		r.Rights = rights
	}
	r.Functions = slices.Clone(r.Functions)
	return r
}

// check validates what can be validated without looking anything up.
func (r *Role) check() error {
	if r.ID <= 0 {
		return fmt.Errorf("%w: role id %d must be positive", ErrInvalid, r.ID)
	}
	if r.Name == "" {
		return fmt.Errorf("%w: role %d: name is required", ErrInvalid, r.ID)
	}
	if r.Parent < 0 {
		return fmt.Errorf("%w: role %d: parent id %d must not be negative", ErrInvalid, r.ID, r.Parent)
	}
	if r.Parent == r.ID {
		return &CycleError{Kind: KindRole, Path: []int64{int64(r.ID), int64(r.ID)}}
	}
	for typ, grid := range r.Rights {
		if typ == "" {
			return fmt.Errorf("%w: role %d: rights for an empty entity type", ErrInvalid, r.ID)
		}
		for rel, c := range grid {
			if !rel.Valid() {
				return fmt.Errorf("%w: role %d: %q: unknown relation %d", ErrInvalid, r.ID, typ, int(rel))
			}
			if !c.Valid() {
				return fmt.Errorf("%w: role %d: %q %s: invalid rights %d", ErrInvalid, r.ID, typ, rel, uint8(c))
			}
		}
	}
	for _, f := range r.Functions {
		if strings.TrimSpace(f) == "" {
			return fmt.Errorf("%w: role %d: empty functional right", ErrInvalid, r.ID)
		}
	}
	return nil
}

// CRUD is a set of the four record rights. The zero value is the empty set.
type CRUD uint8

// The single rights and the accumulative levels of the SuperOffice admin UI.
// Any union of the single rights is a valid CRUD set.
const (
	R CRUD = 1 << iota // read
	C                  // create
	U                  // update
	D                  // delete

	LevelNone   CRUD = 0         // no rights
	LevelRead   CRUD = R         // R
	LevelCreate CRUD = R | C     // CR
	LevelUpdate CRUD = R | C | U // CRU
	LevelFull   CRUD = R | C | U | D

	allCRUD = LevelFull
)

// Valid reports whether c holds only the four defined rights.
func (c CRUD) Valid() bool { return c&^allCRUD == 0 }

// Allows reports whether c contains the right that action a needs.
func (c CRUD) Allows(a Action) bool { return a.Valid() && c&a.right() != 0 }

// String renders the set as letters in the order C, R, U, D, as in the
// SuperOffice admin UI ("CRUD", "R", "CR"…), or "-" when empty.
func (c CRUD) String() string {
	if c == 0 {
		return "-"
	}
	var b strings.Builder
	for _, x := range [...]struct {
		bit CRUD
		ch  byte
	}{{C, 'C'}, {R, 'R'}, {U, 'U'}, {D, 'D'}} {
		if c&x.bit != 0 {
			b.WriteByte(x.ch)
		}
	}
	if !c.Valid() {
		fmt.Fprintf(&b, "+%#x", uint8(c&^allCRUD))
	}
	return b.String()
}

// ParseCRUD parses letters C, R, U and D in any order and case, or "-" or ""
// for the empty set. Other characters are an error wrapping [ErrInvalid].
func ParseCRUD(s string) (CRUD, error) {
	var c CRUD
	if s == "-" {
		return 0, nil
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 'C', 'c':
			c |= C
		case 'R', 'r':
			c |= R
		case 'U', 'u':
			c |= U
		case 'D', 'd':
			c |= D
		default:
			return 0, fmt.Errorf("%w: rights %q: unexpected %q", ErrInvalid, s, s[i])
		}
	}
	return c, nil
}
