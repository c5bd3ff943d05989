package access

import (
	"fmt"
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
	// GateMalformed: the store handed over an associate the library cannot
	// read (a type other than the five defined ones, from a custom store or
	// a hand-edited database). Data that cannot be read grants nothing.
	GateMalformed
)

// String describes the gate.
func (g Gate) String() string { return enumName(gateNames[:], g, "gate") }

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
	// RestrictExternalScope: the subject is an external associate and the
	// record is neither its own nor of its company or one of its projects.
	// What reached it through "everyone", a role or a group is held back;
	// only sharing rules and grants that name the associate itself apply.
	RestrictExternalScope
)

// String describes the restriction.
func (r Restriction) String() string { return enumName(restrictionNames[:], r, "restriction") }

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
	// Named is set on a CauseSharing or CauseGrant that gave an external
	// subject rights on a record outside its own company and projects:
	// the rule or grant names the associate itself, the only way past
	// that boundary (see [RestrictExternalScope]).
	Named bool
}

// maxCauses bounds the causes a Decision keeps inline, so that Can does not
// allocate. Further causes are counted, not kept.
const maxCauses = 10

// Decision is the answer to "may this associate do this to that record?",
// with its reasons. The zero value denies.
//
// A Decision is a value: it is safe to copy, keep and read from any
// goroutine. Its String method renders the reasons with names, as they
// were at the revision the decision was made.
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
	snap    *snapshot
}

// Causes returns the typed reasons, in the order the layers applied them.
func (d *Decision) Causes() []Cause {
	out := make([]Cause, d.nCauses)
	for i, c := range d.causes[:d.nCauses] {
		out[i] = c.unpack()
	}
	return out
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
	named  bool
	// id is the Role (CauseRole, CauseNoRole), Rule (CauseSharing) or
	// Grant (CauseGrant); group is the Group.
	id, group int64
}

func (p cause) unpack() Cause {
	c := Cause{Kind: p.kind, Gate: p.gate, Relation: p.rel, Rights: p.rights, Restriction: p.restr, Named: p.named, Group: GroupID(p.group)}
	switch p.kind {
	case CauseRole, CauseNoRole:
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
	var b strings.Builder
	if d.Allowed {
		b.WriteString("allow: ")
	} else {
		b.WriteString("deny: ")
	}
	b.WriteString(d.assocName(d.Subject))
	if d.Actor != 0 {
		fmt.Fprintf(&b, " (acting: %s)", d.assocName(d.Actor))
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
		d.writeCause(&b, c.unpack())
	}
	if d.dropped > 0 {
		fmt.Fprintf(&b, "; and %d more", d.dropped)
	}
	if !d.Allowed && d.Gate == GateNone && d.nCauses > 0 {
		fmt.Fprintf(&b, "; has %s", d.Rights)
	}
	return b.String()
}

func (d *Decision) writeCause(b *strings.Builder, c Cause) {
	switch c.Kind {
	case CauseGate:
		b.WriteString(c.Gate.String())
		if c.Gate == GateMalformed && d.snap != nil {
			// Name the value, so whoever reads the log can find the row.
			if _, n := d.snap.assoc(d.Subject); n != nil {
				fmt.Fprintf(b, " %d", int(n.a.Type))
			}
		}
	case CauseSystem:
		b.WriteString("system user")
	case CauseNoRole:
		if c.Role == 0 {
			b.WriteString("holds no role")
		} else {
			fmt.Fprintf(b, "role %s has no rights on %s", d.roleName(c.Role), d.Record.Type)
		}
	case CauseRole:
		fmt.Fprintf(b, "role %s grants %s for %s", d.roleName(c.Role), c.Rights, c.Relation)
		if c.Group != 0 && (c.Relation == Team || c.Relation == OtherGroup) {
			if path := d.memberPath(c.Group); path != "" {
				b.WriteString(" via ")
				b.WriteString(path)
			}
		}
	case CauseSharing:
		fmt.Fprintf(b, "sharing rule %s adds %s", d.ruleName(c.Rule), c.Rights)
		if c.Named {
			b.WriteString(namedSuffix)
		}
	case CauseGrant:
		if c.Group != 0 {
			fmt.Fprintf(b, "grant %d to group %s adds %s", c.Grant, d.groupName(c.Group), c.Rights)
		} else {
			fmt.Fprintf(b, "grant %d adds %s", c.Grant, c.Rights)
		}
		if c.Named {
			b.WriteString(namedSuffix)
		}
	case CauseDefault:
		fmt.Fprintf(b, "default permission of group %s adds %s", d.groupName(c.Group), c.Rights)
	case CauseRestriction:
		fmt.Fprintf(b, "%s removes %s", c.Restriction, c.Rights)
	default:
		fmt.Fprintf(b, "cause(%d)", c.Kind)
	}
}

// namedSuffix follows a sharing rule or grant that reached an external
// subject beyond its company and projects (Cause.Named).
const namedSuffix = " to the external user by name, beyond its company and projects"

func (d *Decision) assocName(id AssociateID) string {
	if d.snap != nil {
		if _, n := d.snap.assoc(id); n != nil {
			return refString(n.a.Name, int64(id))
		}
	}
	return "associate " + strconv.FormatInt(int64(id), 10)
}

func (d *Decision) roleName(id RoleID) string {
	if d.snap != nil {
		return d.snap.roleRef(id).String()
	}
	return strconv.FormatInt(int64(id), 10)
}

func (d *Decision) groupName(id GroupID) string {
	if d.snap != nil {
		if gi, n := d.snap.group(id); n != nil {
			return d.snap.groupRef(gi).String()
		}
	}
	return strconv.FormatInt(int64(id), 10)
}

func (d *Decision) ruleName(id RuleID) string {
	if d.snap != nil {
		if r := d.snap.rules[id]; r != nil && r.rule.Name != "" {
			return refString(r.rule.Name, int64(id))
		}
	}
	return strconv.FormatInt(int64(id), 10)
}

// memberPath renders how the subject is a member of group id, or "" when
// the membership is direct (nothing to add) or unknown.
func (d *Decision) memberPath(id GroupID) string {
	if d.snap == nil {
		return ""
	}
	_, n := d.snap.assoc(d.Subject)
	gi, g := d.snap.group(id)
	if n == nil || g == nil || !d.snap.memberOf(d.snap.subjOf(n), gi) {
		return ""
	}
	m := d.snap.explain(n, gi)
	if len(m.Path) < 2 && (m.Reason == ViaPrimary || m.Reason == ViaSecondary) {
		return ""
	}
	return m.route()
}
