package access

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// AssociateID identifies an associate (a user, a resource or a system user).
// The zero value names no associate.
type AssociateID int64

// AssociateType is the kind of an associate. The numeric values are the ones
// SuperOffice stores in associate.type, so rows imported from such a database
// keep their meaning.
type AssociateType int

// The associate types. Any other value is rejected with [ErrInvalid].
const (
	// Internal associates are employees: they sign in, belong to usergroups
	// and hold a role.
	Internal AssociateType = 0
	// Resource associates are rooms and equipment: they appear in diaries but
	// cannot sign in and belong to no usergroup.
	Resource AssociateType = 1
	// External associates are partners and customers: they see their own
	// company, their projects and published records only.
	External AssociateType = 4
	// Anonymous associates are obsolete (SuperOffice 9 and later). They are
	// accepted when loaded so old data still imports, but never granted
	// anything.
	Anonymous AssociateType = 7
	// System associates are integration users that bypass every rule once
	// they pass the gates (active, validity window, licence).
	System AssociateType = 13
)

// Valid reports whether t is one of the defined associate types.
func (t AssociateType) Valid() bool {
	switch t {
	case Internal, Resource, External, Anonymous, System:
		return true
	}
	return false
}

// String returns the type's lower-case name, or "type(N)" for an undefined value.
func (t AssociateType) String() string { return enumName(associateTypeNames[:], t, "type") }

// ErrNameTaken is returned (wrapped) when an associate's login name is already
// used by another associate. Names are compared case-insensitively.
var ErrNameTaken = errors.New("name taken")

// Associate is a user of the system: an employee, a resource, an external
// user, an (obsolete) anonymous user or a system user.
//
// Only internal associates have usergroups: PrimaryGroup must name an existing
// group and Groups lists the secondary groups. Every other type must leave
// both empty. Every associate except a resource holds exactly one existing
// Role.
//
// Values are copied when they are written to a store and when they are read
// back, so a caller may reuse an Associate after passing it in.
type Associate struct {
	// ID identifies the associate; it must be positive.
	ID AssociateID
	// Name is the login name: required, unique compared case-insensitively,
	// and free to contain any character.
	Name string
	// Type is the kind of associate.
	Type AssociateType
	// PrimaryGroup is the usergroup stamped on records the associate is
	// assigned (see [Engine.Stamp]). Required for internal associates, zero
	// for all others.
	PrimaryGroup GroupID
	// Groups are the secondary usergroups (SuperOffice usergrouplink). Links
	// to smart groups are kept but confer no membership: a smart group's
	// members come from its rule alone.
	Groups []GroupID
	// Email is the associate's e-mail address, "" for none. Writes check
	// it only lightly (at most [MaxEmailLen] bytes, no control
	// characters), so that an address that no longer works can still be
	// loaded; [Engine.ValidateEmails] checks format and domain.
	Email string
	// Role is the associate's one role. Zero only for resources.
	Role RoleID
	// Active must be true for the associate to act (sign in, be granted
	// anything). Inactive associates still own records.
	Active bool
	// ValidFrom and ValidTo bound the half-open window [ValidFrom, ValidTo)
	// in which the associate may act. The zero time leaves a side unbounded.
	ValidFrom, ValidTo time.Time
	// Company is the id of the company (contact) the associate belongs to;
	// external users see that company's records.
	Company int64
	// Projects are the ids of the projects the associate is a member of.
	Projects []int64
	// Attributes are free-form properties: smart group rules match them,
	// and they are the associate's own custom field values (see
	// [Engine.Field]), which fall back to its groups' Fields.
	Attributes map[string]string
	// ServiceLogin is the id of the associate's Customer Service login
	// (SuperOffice associate.ejuserId), or 0 when it has none. Only
	// associates with a service login are members of categories.
	ServiceLogin int64
	// Categories lists the categories the associate is an individual member
	// of. It requires a ServiceLogin.
	Categories []CategoryID
	// Licences lists the licences assigned to the associate (see
	// [Licence]); each takes one of its licence's seats.
	Licences []LicenceID
}

// ActiveAt reports whether the associate is active and t lies inside its
// validity window.
func (a *Associate) ActiveAt(t time.Time) bool {
	if !a.Active {
		return false
	}
	if !a.ValidFrom.IsZero() && t.Before(a.ValidFrom) {
		return false
	}
	if !a.ValidTo.IsZero() && !t.Before(a.ValidTo) {
		return false
	}
	return true
}

// clone returns a deep copy so that stored values never alias the caller's.
func (a Associate) clone() Associate {
	a.Groups = slices.Clone(a.Groups)
	a.Projects = slices.Clone(a.Projects)
	a.Attributes = maps.Clone(a.Attributes)
	a.Categories = slices.Clone(a.Categories)
	a.Licences = slices.Clone(a.Licences)
	// Every store hands times back in UTC (SQL stores cannot keep a
	// location), so the memory store does too.
	a.ValidFrom, a.ValidTo = a.ValidFrom.UTC(), a.ValidTo.UTC()
	return a
}

// check validates what can be validated without looking anything up.
func (a *Associate) check() error { return a.checkVetted(nil) }

// vettedMaps remembers attribute maps that passed their check, by
// identity. A store that interns attribute maps (store/memory) hands
// Check a batch whose million associates share a few thousand maps;
// checking each map once rather than once an associate saves a tenth of
// a bulk load's validation. Only maps that passed are kept, so the first
// associate with a bad map is still the one reported.
type vettedMaps struct {
	seen map[unsafe.Pointer]bool
}

// vettedMax bounds the maps remembered: when maps are not shared, as in
// a batch straight from a caller, each is seen once and remembering it
// only costs.
const vettedMax = 4096

func (v *vettedMaps) has(m map[string]string) bool {
	return v != nil && v.seen[reflect.ValueOf(m).UnsafePointer()]
}

func (v *vettedMaps) add(m map[string]string) {
	if v == nil || len(m) == 0 || len(v.seen) >= vettedMax {
		return
	}
	if v.seen == nil {
		v.seen = map[unsafe.Pointer]bool{}
	}
	v.seen[reflect.ValueOf(m).UnsafePointer()] = true
}

// checkVetted is check, skipping the attribute map when vetted holds it.
func (a *Associate) checkVetted(vetted *vettedMaps) error {
	if a.ID <= 0 {
		return fmt.Errorf("%w: associate id %d must be positive", ErrInvalid, a.ID)
	}
	if a.Name == "" {
		return fmt.Errorf("%w: associate %d: name is required", ErrInvalid, a.ID)
	}
	what := noun("associate", int64(a.ID))
	if err := checkText(what, "name", a.Name, MaxNameLen); err != nil {
		return err
	}
	if err := checkEmail(what, a.Email); err != nil {
		return err
	}
	if err := checkLens(what, "groups", len(a.Groups), "projects", len(a.Projects), "categories", len(a.Categories), "licences", len(a.Licences)); err != nil {
		return err
	}
	if !vetted.has(a.Attributes) {
		if err := checkKeys(what, "attribute", a.Attributes, func(v string) string { return v }); err != nil {
			return err
		}
		vetted.add(a.Attributes)
	}
	if err := checkTime(what, "valid from", a.ValidFrom); err != nil {
		return err
	}
	if err := checkTime(what, "valid to", a.ValidTo); err != nil {
		return err
	}
	if !a.Type.Valid() {
		return fmt.Errorf("%w: associate %d: unknown associate type %d", ErrInvalid, a.ID, int(a.Type))
	}
	if a.Type != Internal && (a.PrimaryGroup != 0 || len(a.Groups) > 0) {
		return fmt.Errorf("%w: associate %d: %s associates have no usergroups", ErrInvalid, a.ID, a.Type)
	}
	if a.Type == Internal && a.PrimaryGroup <= 0 {
		return fmt.Errorf("%w: associate %d: internal associates need a primary group", ErrInvalid, a.ID)
	}
	for _, g := range a.Groups {
		if g <= 0 {
			return fmt.Errorf("%w: associate %d: group id %d must be positive", ErrInvalid, a.ID, g)
		}
	}
	if a.Type != Resource && a.Role <= 0 {
		return fmt.Errorf("%w: associate %d: %s associates need a role", ErrInvalid, a.ID, a.Type)
	}
	if a.Role < 0 {
		return fmt.Errorf("%w: associate %d: role id %d must not be negative", ErrInvalid, a.ID, a.Role)
	}
	if a.ServiceLogin < 0 {
		return fmt.Errorf("%w: associate %d: service login %d must not be negative", ErrInvalid, a.ID, a.ServiceLogin)
	}
	if len(a.Categories) > 0 && a.ServiceLogin == 0 {
		return fmt.Errorf("%w: associate %d: category memberships need a service login", ErrInvalid, a.ID)
	}
	for _, c := range a.Categories {
		if c <= 0 {
			return fmt.Errorf("%w: associate %d: category id %d must be positive", ErrInvalid, a.ID, c)
		}
	}
	for i, l := range a.Licences {
		if l <= 0 {
			return fmt.Errorf("%w: associate %d: licence id %d must be positive", ErrInvalid, a.ID, l)
		}
		if slices.Contains(a.Licences[:i], l) {
			return fmt.Errorf("%w: associate %d: holds licence %d twice", ErrInvalid, a.ID, l)
		}
	}
	if !a.ValidFrom.IsZero() && !a.ValidTo.IsZero() && !a.ValidFrom.Before(a.ValidTo) {
		return fmt.Errorf("%w: associate %d: validity window [%s, %s) is empty", ErrInvalid, a.ID,
			a.ValidFrom.UTC().Format(time.RFC3339), a.ValidTo.UTC().Format(time.RFC3339))
	}
	return nil
}

// FoldName returns the canonical form under which login names are compared:
// two names are the same login exactly when their folded forms are equal.
// It maps every rune to the smallest rune of its Unicode case-folding orbit,
// so "ANNA", "anna" and "Anna" collide, and so do "ſ" and "s".
func FoldName(name string) string {
	// An ASCII letter's orbit is its two cases (and, for k and s, a
	// non-ASCII rune above both), so its smallest is the upper case; other
	// ASCII runes fold to themselves. Most names are ASCII, and a bulk load
	// folds each a few times: this path skips the orbit walks, and the
	// copy when the name is folded already.
	lower := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= utf8.RuneSelf {
			return foldRunes(name)
		}
		lower = lower || 'a' <= c && c <= 'z'
	}
	if !lower {
		return name
	}
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// foldRunes is FoldName for any name: each rune, an invalid byte read as
// U+FFFD, mapped to the smallest rune of its orbit.
func foldRunes(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range name {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		b.WriteRune(min)
	}
	return b.String()
}
