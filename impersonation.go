package access

import "fmt"

// ImpersonationID identifies an impersonation rule.
type ImpersonationID int64

// Principal is one associate or one group (meaning its effective members):
// exactly one field is non-zero.
type Principal struct {
	Associate AssociateID
	Group     GroupID
}

func (p Principal) check(what string) error {
	if (p.Associate != 0) == (p.Group != 0) || p.Associate < 0 || p.Group < 0 {
		return fmt.Errorf("%w: %s must name exactly one associate or one group", ErrInvalid, what)
	}
	return nil
}

// String renders the principal as "associate 11" or "group 20".
func (p Principal) String() string {
	if p.Group != 0 {
		return fmt.Sprintf("group %d", p.Group)
	}
	return fmt.Sprintf("associate %d", p.Associate)
}

// Impersonation lets an actor act on behalf of a target (Dynamicweb
// AccessUserSecondaryRelation and group-level impersonation). Either side
// may be an associate or a group's effective members.
type Impersonation struct {
	// ID identifies the rule; it must be positive.
	ID ImpersonationID
	// Actor may act as Target.
	Actor  Principal
	Target Principal
}

func (m *Impersonation) check() error {
	if m.ID <= 0 {
		return fmt.Errorf("%w: impersonation id %d must be positive", ErrInvalid, m.ID)
	}
	if err := m.Actor.check(fmt.Sprintf("impersonation %d actor", m.ID)); err != nil {
		return err
	}
	return m.Target.check(fmt.Sprintf("impersonation %d target", m.ID))
}
