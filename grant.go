package access

import "fmt"

// GrantID identifies an explicit grant.
type GrantID int64

// Grant gives one associate, or the effective members of one group, a set
// of rights on one record or on every record of an entity type (Dynamicweb
// permission rows, Dataverse shares). Grants only ever add rights.
type Grant struct {
	// ID identifies the grant; it must be positive.
	ID GrantID
	// Associate or Group receives the grant: exactly one is non-zero.
	Associate AssociateID
	Group     GroupID
	// EntityType is the record type, or "*" for every type.
	EntityType string
	// RecordID is the one record the grant covers, or 0 for every record of
	// the type.
	RecordID int64
	// Rights is what the grant adds.
	Rights CRUD
}

func (g *Grant) check() error {
	switch {
	case g.ID <= 0:
		return fmt.Errorf("%w: grant id %d must be positive", ErrInvalid, g.ID)
	case (g.Associate != 0) == (g.Group != 0):
		return fmt.Errorf("%w: grant %d: give it to exactly one associate or one group", ErrInvalid, g.ID)
	case g.Associate < 0 || g.Group < 0:
		return fmt.Errorf("%w: grant %d: ids must be positive", ErrInvalid, g.ID)
	case g.EntityType == "":
		return fmt.Errorf("%w: grant %d: entity type is required (\"*\" for all)", ErrInvalid, g.ID)
	case g.RecordID < 0:
		return fmt.Errorf("%w: grant %d: record id %d must not be negative", ErrInvalid, g.ID, g.RecordID)
	case g.EntityType == Wildcard && g.RecordID != 0:
		return fmt.Errorf("%w: grant %d: a grant on one record needs its entity type", ErrInvalid, g.ID)
	case !g.Rights.Valid():
		return fmt.Errorf("%w: grant %d: invalid rights %s", ErrInvalid, g.ID, g.Rights)
	}
	return checkText(noun("grant", int64(g.ID)), "entity type", g.EntityType, MaxKeyLen)
}
