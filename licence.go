package access

import (
	"fmt"
	"slices"
	"time"
)

// LicenceID identifies a licence. The zero value names no licence.
type LicenceID int64

// Licence is a right to use the system that a site buys, a number of seats
// for some associate types (SuperOffice: "A user must be marked as active
// (and have a valid license) to be able to sign in"; system and anonymous
// users need the site's Expander Collaboration licence).
//
// Licences are optional. A model without licences, or whose licences list
// no associate type in For, decides exactly as before. Once some licence
// lists a type in For, every associate of that type must hold (in
// [Associate.Licences]) at least one licence that lists its type and is
// valid at the time of the decision; otherwise it fails the gate
// [GateNoLicence] in every question — Can, Filter, WhoCan, Permissions,
// CanAs and SignIn alike. A licence that lists no type is an assignment
// with no effect on decisions (it still counts seats).
//
// Values are copied when they are written to a store and when they are
// read back.
type Licence struct {
	// ID identifies the licence; it must be positive.
	ID LicenceID
	// Name is what explanations call the licence ("Sales Premier",
	// "Expander Collaboration"); required.
	Name string
	// Seats is how many associates may hold the licence at once. Zero
	// means unlimited (a site licence); a write that would give a licence
	// more holders than its seats is rejected with [ErrInvalid]. Holders
	// are counted whether they are active or not: a seat is taken by the
	// assignment, as in SuperOffice's admin client.
	Seats int
	// ValidFrom and ValidTo bound the half-open window [ValidFrom, ValidTo)
	// in which the licence is valid. The zero time leaves a side unbounded.
	ValidFrom, ValidTo time.Time
	// For lists the associate types that need a licence of this kind: an
	// associate of a listed type must hold one valid licence that lists its
	// type. Each type at most once.
	For []AssociateType
}

// ValidAt reports whether t lies inside the licence's validity window.
func (l *Licence) ValidAt(t time.Time) bool {
	return (l.ValidFrom.IsZero() || !t.Before(l.ValidFrom)) && (l.ValidTo.IsZero() || t.Before(l.ValidTo))
}

// clone returns a deep copy in UTC, as every store hands times back.
func (l Licence) clone() Licence {
	l.For = slices.Clone(l.For)
	l.ValidFrom, l.ValidTo = l.ValidFrom.UTC(), l.ValidTo.UTC()
	return l
}

// check validates what can be validated without looking anything up.
func (l *Licence) check() error {
	if l.ID <= 0 {
		return fmt.Errorf("%w: licence id %d must be positive", ErrInvalid, l.ID)
	}
	what := noun("licence", int64(l.ID))
	if l.Name == "" {
		return fmt.Errorf("%w: licence %d: name is required", ErrInvalid, l.ID)
	}
	if err := checkText(what, "name", l.Name, MaxNameLen); err != nil {
		return err
	}
	if l.Seats < 0 {
		return fmt.Errorf("%w: licence %d: seats %d must not be negative (0 means unlimited)", ErrInvalid, l.ID, l.Seats)
	}
	if err := checkLens(what, "for", len(l.For)); err != nil {
		return err
	}
	for i, t := range l.For {
		if !t.Valid() {
			return fmt.Errorf("%w: licence %d: unknown associate type %d", ErrInvalid, l.ID, int(t))
		}
		if slices.Contains(l.For[:i], t) {
			return fmt.Errorf("%w: licence %d: lists %s twice", ErrInvalid, l.ID, t)
		}
	}
	if err := checkTime(what, "valid from", l.ValidFrom); err != nil {
		return err
	}
	if err := checkTime(what, "valid to", l.ValidTo); err != nil {
		return err
	}
	if !l.ValidFrom.IsZero() && !l.ValidTo.IsZero() && !l.ValidFrom.Before(l.ValidTo) {
		return fmt.Errorf("%w: licence %d: validity window [%s, %s) is empty", ErrInvalid, l.ID,
			l.ValidFrom.UTC().Format(time.RFC3339), l.ValidTo.UTC().Format(time.RFC3339))
	}
	return nil
}

// LicenceProblem says why an associate fails [GateNoLicence].
type LicenceProblem uint8

// The licence problems. The zero value means none.
const (
	// LicenceOK: no problem.
	LicenceOK LicenceProblem = iota
	// LicenceMissing: the associate holds no licence that lists its type;
	// the cause names the lowest-id licence that does.
	LicenceMissing
	// LicenceNotYetValid: the licences it holds for its type all start
	// later; the cause names the lowest-id one.
	LicenceNotYetValid
	// LicenceExpired: the licences it holds for its type have ended (or,
	// some of them, not yet started); the cause names the lowest-id
	// expired one.
	LicenceExpired
)

// String describes the problem.
func (p LicenceProblem) String() string {
	return enumName(licenceProblemNames[:], p, "licence problem")
}
