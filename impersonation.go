package access

import (
	"context"
	"errors"
	"fmt"
	"time"
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
	// of its validity window, resource or anonymous).
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

// Impersonate reports whether actor may act on behalf of target and, if
// so, returns the Acting to decide with. The refusals wrap
// [ErrImpersonation]: [ErrImpersonateSelf], [ErrImpersonatorGate],
// [ErrTargetGate], [ErrImpersonateSystem], [ErrTargetAbove] and
// [ErrNoImpersonationRule].
func (e *Engine) Impersonate(ctx context.Context, actor, target AssociateID) (Acting, error) {
	s, err := e.current()
	var as Acting
	if err == nil {
		as, err = s.impersonate(actor, target, e.now)
	}
	if e.audit != nil {
		e.auditImpersonation(ctx, s, actor, target, as.Rule, err)
	}
	return as, err
}

func (s *snapshot) impersonate(actor, target AssociateID, now func() time.Time) (Acting, error) {
	if actor == target {
		return Acting{}, fmt.Errorf("access: associate %d: %w", actor, ErrImpersonateSelf)
	}
	_, an := s.assoc(actor)
	_, tn := s.assoc(target)
	if g := gate(an, now); g != GateNone {
		return Acting{}, fmt.Errorf("access: associate %d acting as %d: %w (%s)", actor, target, ErrImpersonatorGate, g)
	}
	if g := gate(tn, now); g != GateNone {
		return Acting{}, fmt.Errorf("access: associate %d acting as %d: %w (%s)", actor, target, ErrTargetGate, g)
	}
	if tn.a.Type == System {
		return Acting{}, fmt.Errorf("access: associate %d acting as %d: %w", actor, target, ErrImpersonateSystem)
	}
	// The lowest-id rule that names the target explicitly wins; otherwise
	// the lowest-id rule that matches through a group.
	var byName, byGroup *impNode
	for _, m := range s.imps {
		a, t := m.imp.Actor, m.imp.Target
		actorOK := (a.Associate != 0 && a.Associate == actor) || (m.actor >= 0 && s.memberOf(s.subjOf(an), m.actor))
		if !actorOK {
			continue
		}
		switch {
		case t.Associate != 0 && t.Associate == target:
			if byName == nil || m.imp.ID < byName.imp.ID {
				byName = m
			}
		case m.target >= 0 && s.memberOf(s.subjOf(tn), m.target):
			if byGroup == nil || m.imp.ID < byGroup.imp.ID {
				byGroup = m
			}
		}
	}
	if byName != nil {
		return Acting{Actor: actor, Target: target, Rule: byName.imp.ID}, nil
	}
	if byGroup == nil {
		return Acting{}, fmt.Errorf("access: associate %d acting as %d: %w", actor, target, ErrNoImpersonationRule)
	}
	if ar, tr := an.a.Role, tn.a.Role; ar != 0 && tr != 0 && s.below(ar, tr) {
		return Acting{}, fmt.Errorf("access: associate %d acting as %d: %w (rule %d names a group)", actor, target, ErrTargetAbove, byGroup.imp.ID)
	}
	return Acting{Actor: actor, Target: target, Rule: byGroup.imp.ID}, nil
}

// CanAs decides as [Engine.Can] does for the impersonated target, and only
// for the target: the actor's own rights play no part. The Decision's
// Actor records the real actor. If the impersonation is no longer allowed
// (a rule was removed, someone was deactivated), CanAs denies and returns
// the refusal.
func (e *Engine) CanAs(ctx context.Context, as Acting, act Action, rec Record) (Decision, error) {
	s, err := e.current()
	d := Decision{Action: act, Subject: as.Target, Actor: as.Actor, Record: rec, Revision: s.rev, names: s.names}
	if err == nil {
		err = e.checkRequest(act, &rec)
	}
	var now Acting
	if err == nil {
		now, err = s.impersonate(as.Actor, as.Target, e.now)
	}
	if err == nil {
		s.decide(&d, e.now)
	}
	if e.audit != nil {
		e.auditDecision(ctx, s, &d, now.Rule, err)
	}
	return d, err
}
