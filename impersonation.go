package access

import (
	"errors"
	"fmt"
)

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

// Impersonation refusals. Each wraps ErrImpersonation, so callers can test
// for refusal in general or for one reason.
var (
	// ErrImpersonation is the parent of every impersonation refusal.
	ErrImpersonation = errors.New("impersonation refused")
	// ErrNoImpersonationRule: no rule lets the actor act as the target.
	// Rules do not chain: A acting as B and B acting as C does not let A
	// act as C.
	ErrNoImpersonationRule = fmt.Errorf("%w: no rule allows it", ErrImpersonation)
	// ErrImpersonateSystem: system users are never impersonated.
	ErrImpersonateSystem = fmt.Errorf("%w: the target is a system user", ErrImpersonation)
	// ErrImpersonatorGate: the actor fails a gate (unknown, inactive, out
	// of its validity window, without a valid licence, resource or
	// anonymous).
	ErrImpersonatorGate = fmt.Errorf("%w: the actor may not act", ErrImpersonation)
	// ErrTargetGate: the target fails a gate.
	ErrTargetGate = fmt.Errorf("%w: the target may not act", ErrImpersonation)
	// ErrTargetAbove: the target's role is above the actor's, and no rule
	// names the target associate explicitly.
	ErrTargetAbove = fmt.Errorf("%w: the target's role is above the actor's", ErrImpersonation)
	// ErrImpersonateSelf: actor and target are the same associate.
	ErrImpersonateSelf = fmt.Errorf("%w: an associate cannot impersonate itself", ErrImpersonation)
)

// Acting is what [Engine.Impersonate] hands out: proof that Actor may act
// on behalf of Target under rule Rule. Pass it to [Engine.CanAs]. Only
// Impersonate makes a valid Acting, and CanAs checks it again against the
// current rules on every decision, so a revoked rule takes effect at once.
type Acting struct {
	Actor, Target AssociateID
	Rule          ImpersonationID
}
