package access

import "context"

// AuditKind tells what an [AuditEvent] records. The zero value is not a
// kind: a hook never receives it.
type AuditKind uint8

// The kinds of audit events.
const (
	// AuditDecision: [Engine.Can] or [Engine.CanAs] answered. The event's
	// Decision is the answer; Err is set when the question failed (stale
	// resolver, bad request, refused impersonation), and the decision then
	// denies.
	AuditDecision AuditKind = iota + 1
	// AuditImpersonation: [Engine.Impersonate] let Actor act as Target
	// under rule Rule.
	AuditImpersonation
	// AuditImpersonationRefused: [Engine.Impersonate] refused; Err says
	// why.
	AuditImpersonationRefused
)

var auditKindNames = [...]string{"", "decision", "impersonation", "impersonation refused"}

// String names the kind in lower case.
func (k AuditKind) String() string { return enumName(auditKindNames[:], k, "audit kind") }

// AuditEvent is what [Options.Audit] receives: one decision or one
// impersonation, granted or refused. It is passed by value, so that a
// resolver with a hook set does not allocate to report to it either. The
// hook may keep it: like the Decision it carries, a kept event keeps only
// the resolver's name history alive, not the snapshot it was decided on,
// so a queue of events spanning many revisions stays small.
type AuditEvent struct {
	// Kind is what happened.
	Kind AuditKind
	// Decision is the decision made, for AuditDecision; zero otherwise.
	Decision Decision
	// Actor is who acted: for a decision made on behalf of someone else
	// the real actor, for a plain decision 0, and for an impersonation the
	// associate asking to act. Target is the subject of the decision or
	// the associate to be impersonated. The names are their login names
	// at Revision, empty when the associate does not exist.
	Actor, Target         AssociateID
	ActorName, TargetName string
	// Rule is the impersonation rule that allowed an impersonation or a
	// decision made through one, or 0.
	Rule ImpersonationID
	// Revision is the store revision the resolver answered at.
	Revision Revision
	// Err is the error the question returned, or nil.
	Err error
}

// auditDecision reports a decision made by Can or CanAs to the hook.
func (e *Engine) auditDecision(ctx context.Context, s *snapshot, d *Decision, rule ImpersonationID, err error) {
	ev := AuditEvent{Kind: AuditDecision, Decision: *d, Actor: d.Actor, Target: d.Subject, Rule: rule, Revision: s.rev, Err: err}
	ev.ActorName, ev.TargetName = s.nameOf(d.Actor), s.nameOf(d.Subject)
	e.audit(ctx, ev)
}

// auditImpersonation reports the outcome of Impersonate to the hook.
func (e *Engine) auditImpersonation(ctx context.Context, s *snapshot, actor, target AssociateID, rule ImpersonationID, err error) {
	ev := AuditEvent{Kind: AuditImpersonation, Actor: actor, Target: target, Rule: rule, Revision: s.rev, Err: err}
	if err != nil {
		ev.Kind = AuditImpersonationRefused
	}
	ev.ActorName, ev.TargetName = s.nameOf(actor), s.nameOf(target)
	e.audit(ctx, ev)
}

// nameOf returns the associate's login name, or "" when it does not exist.
func (s *snapshot) nameOf(id AssociateID) string {
	if id == 0 {
		return ""
	}
	if _, n := s.assoc(id); n != nil {
		return n.a.Name
	}
	return ""
}
