package access

import "fmt"

// LimitID identifies a limit.
type LimitID int64

// Limit caps what the effective members of a group — or, with Group 0,
// every associate but system users — may do with the records of an entity
// type, or with one record. It is the one layer that only takes rights away
// (Dynamicweb: members of a group "can be granted a specific level of
// access … or denied access altogether"; vtiger: "group privileges may get
// limited by custom organization sharing privileges").
//
// Where it sits: a decision adds up role rights, sharing rules, grants and
// group defaults, then applies the limits, then the record's restrictions.
//
//   - A limit with [LimitAll] (the zero Scope) caps everything the subject
//     holds on the record: role cells, sharing rules, grants and defaults
//     alike. Max [LevelNone] is a denial, and a denial beats every grant.
//   - A limit with [LimitUnrelated] is vtiger's organisation-wide sharing
//     access (private: LevelNone, public read-only: LevelRead, public
//     read-write: LevelUpdate, public read-write-delete: LevelFull). It
//     applies only to records the subject is not related to — no relation
//     of Owner, Team, PrimaryGroup, OtherGroup, Subordinate, MyCompany or
//     SameProject holds — and caps only what the role's cells and the
//     group default permissions give there. Sharing rules and explicit
//     grants still open such records beyond it: that is what vtiger's
//     sharing rules are for.
//
// When several limits apply to a subject and a record, the subject keeps
// the intersection of their Max. System users bypass limits, as they
// bypass every rule; the gates apply before them as always.
type Limit struct {
	// ID identifies the limit; it must be positive.
	ID LimitID
	// Group's effective members are limited; 0 limits every associate but
	// system users (organisation-wide).
	Group GroupID
	// EntityType is the record type, or "*" for every type.
	EntityType string
	// RecordID is the one record the limit covers, or 0 for every record
	// of the type.
	RecordID int64
	// Max is the most the limited subjects keep: one of the accumulative
	// levels LevelNone (denied altogether), LevelRead, LevelCreate,
	// LevelUpdate and LevelFull.
	Max CRUD
	// Scope says which records of the type the limit caps.
	Scope LimitScope
}

// LimitScope says which records a [Limit] applies to.
type LimitScope uint8

// The scopes of a limit. The zero value is the stricter one.
const (
	// LimitAll caps every record the limit covers, whatever grants it.
	LimitAll LimitScope = iota
	// LimitUnrelated caps the role's cells and group defaults on records
	// the subject is not related to (vtiger's organisation-wide sharing
	// access); sharing rules and grants still open them.
	LimitUnrelated

	numLimitScopes
)

// Valid reports whether s is one of the defined scopes.
func (s LimitScope) Valid() bool { return s < numLimitScopes }

// relatedRelations are the relations that make a record the subject's own
// for a LimitUnrelated limit: it owns it, or reaches it through team,
// group or hierarchy, or (external) through its company or project.
const relatedRelations = Relations(1<<Owner | 1<<Team | 1<<PrimaryGroup | 1<<OtherGroup |
	1<<Subordinate | 1<<MyCompany | 1<<SameProject)

// accumulative reports whether c is one of the accumulative levels.
func accumulative(c CRUD) bool {
	switch c {
	case LevelNone, LevelRead, LevelCreate, LevelUpdate, LevelFull:
		return true
	}
	return false
}

func (l *Limit) check() error {
	switch {
	case l.ID <= 0:
		return fmt.Errorf("%w: limit id %d must be positive", ErrInvalid, l.ID)
	case l.Group < 0:
		return fmt.Errorf("%w: limit %d: group id %d must not be negative", ErrInvalid, l.ID, l.Group)
	case l.EntityType == "":
		return fmt.Errorf("%w: limit %d: entity type is required (\"*\" for all)", ErrInvalid, l.ID)
	case l.RecordID < 0:
		return fmt.Errorf("%w: limit %d: record id %d must not be negative", ErrInvalid, l.ID, l.RecordID)
	case l.EntityType == Wildcard && l.RecordID != 0:
		return fmt.Errorf("%w: limit %d: a limit on one record needs its entity type", ErrInvalid, l.ID)
	case !l.Max.Valid() || !accumulative(l.Max):
		return fmt.Errorf("%w: limit %d: max %s is not an accumulative level (-, R, CR, CRU, CRUD)", ErrInvalid, l.ID, l.Max)
	case !l.Scope.Valid():
		return fmt.Errorf("%w: limit %d: undefined scope %d", ErrInvalid, l.ID, l.Scope)
	}
	return checkText(noun("limit", int64(l.ID)), "entity type", l.EntityType, MaxKeyLen)
}
