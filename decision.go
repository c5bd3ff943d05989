package access

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// Gate is a check on the subject itself that comes before any rule. A
// subject that fails a gate gets nothing, whatever its role or type.
type Gate uint8

// The gates. The zero value means every gate passed.
const (
	// GateNone: no gate stopped the subject.
	GateNone Gate = iota
	// GateUnknown: the store has no associate with that id.
	GateUnknown
	// GateInactive: the associate is not active.
	GateInactive
	// GateNotYetValid: the time is before the associate's ValidFrom.
	GateNotYetValid
	// GateExpired: the time is at or after the associate's ValidTo.
	GateExpired
	// GateResource: resources cannot sign in.
	GateResource
	// GateAnonymous: anonymous associates are obsolete and get nothing.
	GateAnonymous
)

// String describes the gate.
func (g Gate) String() string {
	switch g {
	case GateNone:
		return "passed"
	case GateUnknown:
		return "unknown associate"
	case GateInactive:
		return "inactive"
	case GateNotYetValid:
		return "not yet valid"
	case GateExpired:
		return "expired"
	case GateResource:
		return "resources cannot sign in"
	case GateAnonymous:
		return "anonymous associates are obsolete"
	}
	return "gate(" + strconv.Itoa(int(g)) + ")"
}

// Restriction is a rule that removes rights after every grant is added up.
type Restriction uint8

// The restrictions. The zero value is not a restriction.
const (
	_ Restriction = iota
	// RestrictVisibleAssociate: the record is visible to its owner only.
	RestrictVisibleAssociate
	// RestrictVisibleGroup: the record is visible to its owner and the
	// members of its group only.
	RestrictVisibleGroup
	// RestrictUnpublished: external users see only published records,
	// except their own.
	RestrictUnpublished
	// RestrictMembersOnly: the record's category is for its members only.
	RestrictMembersOnly
)

// String describes the restriction.
func (r Restriction) String() string {
	switch r {
	case RestrictVisibleAssociate:
		return "visible to its owner only"
	case RestrictVisibleGroup:
		return "visible to its owner and group only"
	case RestrictUnpublished:
		return "not published, and external users see only published records"
	case RestrictMembersOnly:
		return "its category is for members only"
	}
	return "restriction(" + strconv.Itoa(int(r)) + ")"
}

// CauseKind says which layer a [Cause] comes from.
type CauseKind uint8

// The kinds of cause, in the order the layers are applied.
const (
	_ CauseKind = iota
	// CauseGate: a gate stopped the subject (Cause.Gate says which).
	CauseGate
	// CauseSystem: system users bypass every rule.
	CauseSystem
	// CauseNoRole: the subject holds no role, or its role has no rights for
	// the record's type.
	CauseNoRole
	// CauseRole: a cell of the role's rights: Cause.Relation held and
	// Cause.Rights is what the role grants for it.
	CauseRole
	// CauseSharing: sharing rule Cause.Rule added Cause.Rights.
	CauseSharing
	// CauseGrant: explicit grant Cause.Grant added Cause.Rights.
	CauseGrant
	// CauseDefault: the default permission of Cause.Group added Cause.Rights.
	CauseDefault
	// CauseRestriction: Cause.Restriction removed Cause.Rights.
	CauseRestriction
	// CauseNearMiss comes last in a denying decision whose role cells
	// missed the action only because a specific relation held: the
	// fallback relation Cause.Relation (Other or Unowned) would have
	// granted Cause.Rights, which include the action, but the relations
	// that held (Decision.Relations) grant only Cause.Held. Such a role
	// denies a colleague what a stranger gets; [Role.Lint] finds it.
	CauseNearMiss
)

// Cause is one typed reason behind a [Decision].
type Cause struct {
	Kind CauseKind
	// Gate is set for CauseGate.
	Gate Gate
	// Relation is set for CauseRole.
	Relation Relation
	// Rights is what the cause granted, or for a restriction what it
	// removed.
	Rights CRUD
	// Role is the subject's role, for CauseRole and CauseNoRole.
	Role RoleID
	// Group is, for CauseRole with a group relation (Team, PrimaryGroup,
	// OtherGroup), the record's group that made it hold; for CauseDefault,
	// the group whose default applied; for CauseGrant to a group, that group.
	Group GroupID
	// Rule is set for CauseSharing.
	Rule RuleID
	// Grant is set for CauseGrant.
	Grant GrantID
	// Restriction is set for CauseRestriction.
	Restriction Restriction
	// Held is, for CauseNearMiss, what the relations that held grant
	// together.
	Held CRUD

	// RoleName, GroupName and RuleName name Role, Group and Rule as they
	// were at the decision's revision, when [Decision.Causes] can tell;
	// they are empty otherwise.
	RoleName, GroupName, RuleName string
}

// maxCauses bounds the causes a Decision keeps inline, so that Can does not
// allocate. Further causes are counted, not kept.
const maxCauses = 10

// Decision is the answer to "may this associate do this to that record?",
// with its reasons. The zero value denies.
//
// A Decision is a value: it is safe to copy, keep and read from any
// goroutine. It holds ids, not names: String, Causes, MarshalJSON render
// the names as they were at the revision the decision was made, from the
// resolver's record of names (see names.go). Keeping a Decision keeps that
// record alive, and the resolver's latest snapshot, but not the snapshot
// the decision was made on, so decisions may be queued for auditing across
// any number of revisions. One part of an explanation is not kept per
// revision: the chain of groups through which the subject is a member of a
// team or group ("via A → B") is the one that holds at the resolver's
// latest revision, and is left out when the subject is no longer a member.
type Decision struct {
	// Allowed reports whether the action is allowed.
	Allowed bool
	// Action is the action that was asked about.
	Action Action
	// Subject is the associate the decision is for: the impersonated
	// target when Actor is set.
	Subject AssociateID
	// Actor is the associate really acting when the decision was made on
	// behalf of Subject (impersonation), or 0.
	Actor AssociateID
	// Record is the record that was asked about.
	Record Record
	// Rights is the final set of rights the subject has on the record.
	Rights CRUD
	// Relations are the ownership relations that held (including the
	// fallback Other or Unowned when no specific one did).
	Relations Relations
	// Gate is the gate that stopped the subject, or GateNone.
	Gate Gate
	// Revision is the store revision the decision was made at.
	Revision Revision

	causes  [maxCauses]cause
	nCauses uint8
	dropped uint16
	// names is the resolver's history of names, for rendering; nil for a
	// Decision made by hand.
	names *history
}

// Causes returns the typed reasons, in the order the layers applied them,
// with the names of their roles, groups and rules.
func (d *Decision) Causes() []Cause {
	v, unlock := d.names.view(d.Revision)
	defer unlock()
	out := make([]Cause, d.nCauses)
	for i, c := range d.causes[:d.nCauses] {
		out[i] = v.named(c.unpack())
	}
	return out
}

// named fills in the cause's names.
func (v names) named(c Cause) Cause {
	if c.Role != 0 {
		c.RoleName = v.role(c.Role).Name
	}
	if c.Group != 0 {
		c.GroupName = v.group(c.Group).Name
	}
	if c.Rule != 0 {
		c.RuleName = v.rule(c.Rule)
	}
	return c
}

func (d *Decision) add(c cause) {
	if int(d.nCauses) < maxCauses {
		d.causes[d.nCauses] = c
		d.nCauses++
		return
	}
	d.dropped++
}

// cause is a Cause as a Decision stores it, in half the space: no kind
// carries more than two ids, so the ids share two fields. Decisions are
// returned by value, and every byte of them is cleared and copied on each
// call.
type cause struct {
	kind   CauseKind
	gate   Gate
	rel    Relation
	rights CRUD
	restr  Restriction
	held   CRUD // CauseNearMiss: what the relations that held grant
	// id is the Role (CauseRole, CauseNoRole), Rule (CauseSharing) or
	// Grant (CauseGrant); group is the Group.
	id, group int64
}

func (p cause) unpack() Cause {
	c := Cause{Kind: p.kind, Gate: p.gate, Relation: p.rel, Rights: p.rights, Restriction: p.restr, Held: p.held, Group: GroupID(p.group)}
	switch p.kind {
	case CauseRole, CauseNoRole, CauseNearMiss:
		c.Role = RoleID(p.id)
	case CauseSharing:
		c.Rule = RuleID(p.id)
	case CauseGrant:
		c.Grant = GrantID(p.id)
	}
	return c
}

// String renders the decision on one line, for example
// "deny: anna (11) needs update on contact 42; role Sales (1) grants R for other group via Team A (10) → Sales (20)".
func (d Decision) String() string {
	v, unlock := d.names.view(d.Revision)
	defer unlock()
	var b strings.Builder
	if d.Allowed {
		b.WriteString("allow: ")
	} else {
		b.WriteString("deny: ")
	}
	b.WriteString(v.assocRef(d.Subject, d.Gate == GateUnknown))
	if d.Actor != 0 {
		fmt.Fprintf(&b, " (acting: %s)", v.assocRef(d.Actor, false))
	}
	what := "a record"
	if d.Record.Type != "" {
		what = d.Record.Type + " " + strconv.FormatInt(d.Record.ID, 10)
	}
	if d.Allowed {
		fmt.Fprintf(&b, " may %s %s", d.Action, what)
	} else {
		fmt.Fprintf(&b, " needs %s on %s", d.Action, what)
	}
	if d.nCauses == 0 && d.Gate == GateNone {
		b.WriteString("; nothing grants it")
	}
	for _, c := range d.causes[:d.nCauses] {
		b.WriteString("; ")
		d.writeCause(&b, v, c.unpack())
	}
	if d.dropped > 0 {
		fmt.Fprintf(&b, "; and %d more", d.dropped)
	}
	if !d.Allowed && d.Gate == GateNone && d.nCauses > 0 {
		fmt.Fprintf(&b, "; has %s", d.Rights)
	}
	return b.String()
}

// assocRef renders an associate as `Name (ID)`, or "associate ID" when its
// name is unknown — always for a subject the store did not have.
func (v names) assocRef(id AssociateID, unknown bool) string {
	if !unknown {
		if n := v.assoc(id); n != "" {
			return refString(n, int64(id))
		}
	}
	return "associate " + strconv.FormatInt(int64(id), 10)
}

func (d *Decision) writeCause(b *strings.Builder, v names, c Cause) {
	switch c.Kind {
	case CauseGate:
		b.WriteString(c.Gate.String())
	case CauseSystem:
		b.WriteString("system user")
	case CauseNoRole:
		if c.Role == 0 {
			b.WriteString("holds no role")
		} else {
			fmt.Fprintf(b, "role %s has no rights on %s", v.role(c.Role), d.Record.Type)
		}
	case CauseRole:
		fmt.Fprintf(b, "role %s grants %s for %s", v.role(c.Role), c.Rights, c.Relation)
		if m, ok := d.path(v, c); ok && (len(m.Path) > 1 || (m.Reason != ViaPrimary && m.Reason != ViaSecondary)) {
			b.WriteString(" via ")
			b.WriteString(m.route())
		}
	case CauseSharing:
		fmt.Fprintf(b, "sharing rule %s adds %s", refString(v.rule(c.Rule), int64(c.Rule)), c.Rights)
	case CauseGrant:
		if c.Group != 0 {
			fmt.Fprintf(b, "grant %d to group %s adds %s", c.Grant, v.group(c.Group), c.Rights)
		} else {
			fmt.Fprintf(b, "grant %d adds %s", c.Grant, c.Rights)
		}
	case CauseDefault:
		fmt.Fprintf(b, "default permission of group %s adds %s", v.group(c.Group), c.Rights)
	case CauseRestriction:
		fmt.Fprintf(b, "%s removes %s", c.Restriction, c.Rights)
	case CauseNearMiss:
		held, verb := d.Relations.String(), "holds and grants"
		if bits.OnesCount16(uint16(d.Relations)) > 1 {
			verb = "hold and grant"
		}
		fmt.Fprintf(b, "nearest miss: %s would grant %s, but %s %s %s", c.Relation, c.Rights, held, verb, c.Held)
	default:
		fmt.Fprintf(b, "cause(%d)", c.Kind)
	}
}

// path explains, for a role cell of a group relation, how the subject is a
// member of the record's team or group (see [Decision] for which
// revision's memberships it shows).
func (d *Decision) path(v names, c Cause) (Membership, bool) {
	if c.Kind != CauseRole || c.Group == 0 || (c.Relation != Team && c.Relation != OtherGroup) {
		return Membership{}, false
	}
	return v.membership(d.Subject, c.Group)
}

// nearMiss adds a CauseNearMiss to a denying decision when the subject's
// role would have granted the action through the fallback relation (Other,
// or Unowned) had no specific relation held, and no restriction would have
// taken it away again. It reads only what the role layer already read.
func (s *snapshot) nearMiss(d *Decision, x subj, f *recordFacts) {
	if AssociateType(x.h.typ) != Internal || d.Relations == 0 {
		return
	}
	fb := Unowned
	if d.Record.Owner != 0 || d.Record.Team != 0 {
		fb = Other
	}
	role := s.roleNodeOf(x.h)
	if d.Relations.Has(fb) || role == nil {
		return
	}
	g := role.rightsAt(f.typ)
	bit := d.Action.right()
	if g == nil || g[fb]&bit == 0 {
		return
	}
	var held CRUD
	for r := Owner; r < numRelations; r++ {
		if d.Relations.Has(r) {
			held |= g[r]
		}
	}
	if held&bit != 0 {
		return // the role granted it; a restriction took it away
	}
	probe := Decision{Subject: d.Subject, Record: d.Record}
	if s.restrict(&probe, x, f, bit) == 0 {
		return
	}
	d.add(cause{kind: CauseNearMiss, rel: fb, rights: g[fb], held: held, id: int64(s.roleIDOf(x))})
}
