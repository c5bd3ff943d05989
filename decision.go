package access

import (
	"encoding/json"
	"log/slog"
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
	// GateNoLicence: some licence lists the associate's type (see
	// [Licence]) and the associate holds none of them that is valid now.
	// The cause names the missing, expired or not yet valid licence.
	GateNoLicence
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
	// CauseNearMiss comes last in a denying decision whose role cells
	// missed the action only because a specific relation held: the
	// fallback relation Cause.Relation (Other or Unowned) would have
	// granted Cause.Rights, which include the action, but the relations
	// that held (Decision.Relations) grant only Cause.Held. Such a role
	// denies a colleague what a stranger gets; [Role.Lint] finds it.
	CauseNearMiss
	// CauseLimit: limit Cause.Limit, on the effective members of
	// Cause.Group (0: organisation-wide), keeps at most Cause.Max and took
	// away Cause.Rights. It applies after grants and before restrictions
	// (see [Limit]); it is numbered last only so that the kinds before it
	// keep their values.
	CauseLimit
)

// Cause is one typed reason behind a [Decision].
type Cause struct {
	Kind CauseKind
	// Gate is set for CauseGate.
	Gate Gate
	// Type is, for CauseGate with [GateMalformed], the associate's
	// undefined type as the store holds it.
	Type AssociateType
	// Licence and LicenceProblem are, for CauseGate with [GateNoLicence],
	// the licence the associate lacks (the lowest-id one its type needs),
	// or holds but expired or not yet valid, and which of these it is.
	Licence        LicenceID
	LicenceProblem LicenceProblem
	// Relation is set for CauseRole.
	Relation Relation
	// Rights is what the cause granted, or for a restriction or a limit
	// what it removed.
	Rights CRUD
	// Role is the subject's role, for CauseRole and CauseNoRole.
	Role RoleID
	// Group is, for CauseRole with a group relation (Team, PrimaryGroup,
	// OtherGroup), the record's group that made it hold; for CauseDefault,
	// the group whose default applied; for CauseGrant to a group, that
	// group; for CauseLimit, the group limited (0: organisation-wide).
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
	// that boundary (see [RestrictExternalScope]). On a CauseLimit it
	// reports a limit on this one record rather than on its whole type.
	Named bool
	// Held is, for CauseNearMiss, what the relations that held grant
	// together.
	Held CRUD
	// Limit, Scope and Max are set for CauseLimit: the limit, which
	// records it caps, and the most it lets the subject keep.
	Limit LimitID
	Scope LimitScope
	Max   CRUD

	// RoleName, GroupName, RuleName and LicenceName name Role, Group,
	// Rule and Licence as they were at the decision's revision, when
	// [Decision.Causes] can tell; they are empty otherwise.
	RoleName, GroupName, RuleName, LicenceName string
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
// resolver's record of names. Keeping a Decision keeps that
// record alive, and the resolver's latest snapshot, but not the snapshot
// the decision was made on, so decisions may be queued for auditing across
// any number of revisions. One part of an explanation is not kept per
// revision: the chain of groups through which the subject is a member of a
// team or group ("via A → B") is the one that holds at the resolver's
// latest revision, and is left out when the subject is no longer a member.
type Decision struct {
	// The fields a decision writes last (Allowed, Rights, Gate,
	// Relations, the count of causes) share the first eight bytes, so that
	// a caller copying the Decision out waits for one word of them to
	// reach the cache, not three.

	// Allowed reports whether the action is allowed.
	Allowed bool
	// Action is the action that was asked about.
	Action Action
	// Rights is the final set of rights the subject has on the record.
	Rights CRUD
	// Gate is the gate that stopped the subject, or GateNone.
	Gate    Gate
	nCauses uint8
	// Relations are the ownership relations that held (including the
	// fallback Other or Unowned when no specific one did).
	Relations Relations
	// Subject is the associate the decision is for: the impersonated
	// target when Actor is set.
	Subject AssociateID
	// Actor is the associate really acting when the decision was made on
	// behalf of Subject (impersonation), or 0.
	Actor AssociateID
	// Record is the record that was asked about.
	Record Record
	// Revision is the store revision the decision was made at.
	Revision Revision

	causes  [maxCauses]cause
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
	if c.Licence != 0 {
		c.LicenceName = v.licence(c.Licence)
	}
	return c
}

// add keeps the cause, or counts it when maxCauses are kept already. It
// takes the cause by address and copies it field by field: the cause is
// built in memory a byte at a time, and copying it whole would read it
// back in 16-byte words, which the processor cannot forward from the
// narrower stores still in flight (a stall of a dozen cycles per cause).
func (d *Decision) add(c *cause) {
	if p := d.slot(); p != nil {
		p.kind, p.gate, p.rel, p.rights, p.named, p.held, p.sub = c.kind, c.gate, c.rel, c.rights, c.named, c.held, c.sub
		p.id, p.group = c.id, c.group
	}
}

// slot returns where the next cause goes, or nil when maxCauses are kept
// already (the cause is counted then). The slot is zero: a Decision's
// causes are written once each, after it is made.
func (d *Decision) slot() *cause {
	if n := d.nCauses; int(n) < maxCauses {
		d.nCauses = n + 1
		return &d.causes[n]
	}
	d.dropped++
	return nil
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
	named  bool // CauseLimit: the limit covers this one record
	held   CRUD // CauseNearMiss: what the relations that held grant; CauseLimit: its Max
	// sub is what only one kind has, which is why they can share a byte:
	// the Restriction of a CauseRestriction, the LimitScope of a
	// CauseLimit, the LicenceProblem of a CauseGate with GateNoLicence.
	// Eight bytes in all before the ids keep a cause at 24 bytes.
	sub uint8
	// id is the Role (CauseRole, CauseNoRole), Rule (CauseSharing),
	// Grant (CauseGrant), Limit (CauseLimit), the undefined type
	// (GateMalformed) or the Licence (GateNoLicence); group is the Group.
	id, group int64
}

func (p cause) unpack() Cause {
	c := Cause{Kind: p.kind, Gate: p.gate, Relation: p.rel, Rights: p.rights, Named: p.named, Held: p.held, Group: GroupID(p.group)}
	switch p.kind {
	case CauseRestriction:
		c.Restriction = Restriction(p.sub)
	case CauseGate:
		if p.gate == GateNoLicence {
			c.Licence, c.LicenceProblem = LicenceID(p.id), LicenceProblem(p.sub)
		} else {
			c.Type = AssociateType(p.id)
		}
	case CauseRole, CauseNoRole, CauseNearMiss:
		c.Role = RoleID(p.id)
	case CauseSharing:
		c.Rule = RuleID(p.id)
	case CauseGrant:
		c.Grant = GrantID(p.id)
	case CauseLimit:
		c.Limit, c.Scope, c.Max, c.Held = LimitID(p.id), LimitScope(p.sub), p.held, 0
	}
	return c
}

// String renders the decision on one line, for example
// "deny: anna (11) needs update on contact 42; role Sales (1) grants R for other group via Team A (10) → Sales (20)".
func (d Decision) String() string {
	v, unlock := d.names.view(d.Revision)
	defer unlock()
	return d.render(v)
}

// MarshalJSON renders the decision as a JSON object, for audit logs and
// "why" endpoints. Names are as at the decision's revision (see
// [Decision]). The shape is stable; fields marked optional are left out
// when empty:
//
//	allowed    bool
//	action     "read", "create", "update" or "delete"
//	subject    {"id", "name"}; name optional (unknown when the store had
//	           no such associate)
//	actor      {"id", "name"}, optional: who really acted (impersonation)
//	record     {"type", "id", "owner", "group", "team", "company",
//	           "project", "category", "published", "visibility"}; all but
//	           type and id optional, visibility "group" or "associate"
//	rights     the final rights as CRUD letters, "-" for none
//	relations  the ownership relations that held, by name ("owner",
//	           "primary group"…), [] for none
//	gate       optional: the gate that stopped the subject, by its
//	           [Gate.MarshalText] name ("inactive", "not yet valid"…)
//	revision   the store revision the decision was made at
//	causes     the reasons in the order the layers applied them (see below)
//	dropped    optional: how many further causes were not kept
//	text       the whole explanation on one line, as String renders it
//
// Each cause is an object with kind (its [CauseKind.MarshalText] name:
// "gate", "role", "sharing rule", "nearest miss"…) and text
// (the cause as String renders it), and, where the kind has them: gate;
// licence {"id", "name"} and licence_problem ("missing", "expired", "not
// yet valid") for the gate "no valid licence";
// role {"id", "name"}; relation; group {"id", "name"}; path {"reason",
// "role", "subordinate", "groups"}, how the subject is a member of group
// (see [Membership]: the groups from the one it entered to group; for the
// reasons "role" and "role or subordinate" the role the first group lists
// and, when the subject's own role is below it, that role); rule {"id",
// "name"}; grant (id); restriction (its [Restriction.MarshalText] name);
// limit (id), scope (its [LimitScope.MarshalText] name) and max (what the
// limit keeps at most); rights, what the cause granted, removed or — for
// near-miss — would have granted; held, for near-miss, what the relations
// that held grant.
func (d Decision) MarshalJSON() ([]byte, error) {
	v, unlock := d.names.view(d.Revision)
	defer unlock()
	out := decisionJSON{
		Allowed:  d.Allowed,
		Action:   d.Action.String(),
		Subject:  refJSON{ID: int64(d.Subject)},
		Record:   recordJSON{Type: d.Record.Type, ID: d.Record.ID, Owner: int64(d.Record.Owner), Group: int64(d.Record.Group), Team: int64(d.Record.Team), Company: d.Record.Company, Project: d.Record.Project, Category: int64(d.Record.Category), Published: d.Record.Published},
		Rights:   d.Rights.String(),
		Revision: d.Revision,
		Causes:   make([]causeJSON, 0, d.nCauses),
		Dropped:  int(d.dropped),
		Text:     d.render(v),
	}
	if d.Gate != GateUnknown {
		out.Subject.Name = v.assoc(d.Subject)
	}
	if d.Actor != 0 {
		out.Actor = &refJSON{ID: int64(d.Actor), Name: v.assoc(d.Actor)}
	}
	if d.Record.Visibility != VisibleAll {
		out.Record.Visibility = d.Record.Visibility.String()
	}
	out.Relations = relationList(d.Relations)
	if d.Gate != GateNone {
		out.Gate = d.Gate.String()
	}
	for _, p := range d.causes[:d.nCauses] {
		out.Causes = append(out.Causes, d.causeJSON(v, p.unpack()))
	}
	return json.Marshal(out)
}

// decisionJSON is the JSON form of a Decision (see Decision.MarshalJSON).
type decisionJSON struct {
	Allowed   bool        `json:"allowed"`
	Action    string      `json:"action"`
	Subject   refJSON     `json:"subject"`
	Actor     *refJSON    `json:"actor,omitempty"`
	Record    recordJSON  `json:"record"`
	Rights    string      `json:"rights"`
	Relations []string    `json:"relations"`
	Gate      string      `json:"gate,omitempty"`
	Revision  Revision    `json:"revision"`
	Causes    []causeJSON `json:"causes"`
	Dropped   int         `json:"dropped,omitempty"`
	Text      string      `json:"text"`
}

type refJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name,omitempty"`
}

type recordJSON struct {
	Type       string `json:"type"`
	ID         int64  `json:"id"`
	Owner      int64  `json:"owner,omitempty"`
	Group      int64  `json:"group,omitempty"`
	Team       int64  `json:"team,omitempty"`
	Company    int64  `json:"company,omitempty"`
	Project    int64  `json:"project,omitempty"`
	Category   int64  `json:"category,omitempty"`
	Published  bool   `json:"published,omitempty"`
	Visibility string `json:"visibility,omitempty"`
}

type causeJSON struct {
	Kind           string    `json:"kind"`
	Gate           string    `json:"gate,omitempty"`
	Licence        *refJSON  `json:"licence,omitempty"`
	LicenceProblem string    `json:"licence_problem,omitempty"`
	Role           *refJSON  `json:"role,omitempty"`
	Relation       string    `json:"relation,omitempty"`
	Group          *refJSON  `json:"group,omitempty"`
	Path           *pathJSON `json:"path,omitempty"`
	Rule           *refJSON  `json:"rule,omitempty"`
	Grant          int64     `json:"grant,omitempty"`
	Restriction    string    `json:"restriction,omitempty"`
	Rights         string    `json:"rights,omitempty"`
	Held           string    `json:"held,omitempty"`
	Limit          int64     `json:"limit,omitempty"`
	Scope          string    `json:"scope,omitempty"`
	Max            string    `json:"max,omitempty"`
	Text           string    `json:"text"`
}

type pathJSON struct {
	Reason      string    `json:"reason"`
	Role        *refJSON  `json:"role,omitempty"`
	Subordinate *refJSON  `json:"subordinate,omitempty"`
	Groups      []refJSON `json:"groups"`
}

// causeJSON is one cause as MarshalJSON writes it: its text, as String
// renders it, and the structured fields (ids with names, the path through
// groups) a log pipeline can query.
func (d *Decision) causeJSON(v names, c Cause) causeJSON {
	var b strings.Builder
	d.writeCause(&b, v, c)
	c = v.named(c)
	out := causeFields(c)
	out.Text = b.String()
	if m, ok := d.path(v, c); ok {
		p := &pathJSON{Reason: m.Reason.String(), Groups: make([]refJSON, len(m.Path))}
		for i, g := range m.Path {
			p.Groups[i] = refJSON{int64(g.ID), g.Name}
		}
		if m.Role.ID != 0 {
			p.Role = &refJSON{int64(m.Role.ID), m.Role.Name}
		}
		if m.Subordinate.ID != 0 {
			p.Subordinate = &refJSON{int64(m.Subordinate.ID), m.Subordinate.Name}
		}
		out.Path = p
	}
	return out
}

// relationList lists the relations of rs by name, in relation order; [] for
// none, so JSON shows an empty list rather than null.
func relationList(rs Relations) []string {
	out := []string{}
	for r := Owner; r < numRelations; r++ {
		if rs.Has(r) {
			out = append(out, r.String())
		}
	}
	return out
}

// causeFields is a named cause's JSON form, but for its text and path.
func causeFields(c Cause) causeJSON {
	out := causeJSON{Kind: c.Kind.String()}
	switch c.Kind {
	case CauseGate:
		out.Gate = c.Gate.String()
		if c.Licence != 0 {
			out.Licence = &refJSON{int64(c.Licence), c.LicenceName}
			out.LicenceProblem = c.LicenceProblem.String()
		}
		return out
	case CauseSystem:
		return out
	case CauseNoRole:
		if c.Role != 0 {
			out.Role = &refJSON{int64(c.Role), c.RoleName}
		}
		return out
	case CauseRole, CauseNearMiss:
		out.Role = &refJSON{int64(c.Role), c.RoleName}
		out.Relation = c.Relation.String()
	case CauseSharing:
		out.Rule = &refJSON{int64(c.Rule), c.RuleName}
	case CauseGrant:
		out.Grant = int64(c.Grant)
	case CauseRestriction:
		out.Restriction = c.Restriction.String()
	case CauseLimit:
		out.Limit, out.Scope, out.Max = int64(c.Limit), c.Scope.String(), c.Max.String()
	}
	if c.Group != 0 {
		out.Group = &refJSON{int64(c.Group), c.GroupName}
	}
	out.Rights = c.Rights.String()
	if c.Kind == CauseNearMiss {
		out.Held = c.Held.String()
	}
	return out
}

// LogValue makes a Decision log as a group of its key fields under
// log/slog: allowed, action, subject, actor (when acting), record type and
// id, rights, gate (when one stopped the subject) and revision. It looks
// up no names, so logging a decision costs little; log
// [Decision.String] or the JSON form for the reasons.
func (d Decision) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, 9)
	attrs = append(attrs,
		slog.Bool("allowed", d.Allowed),
		slog.String("action", d.Action.String()),
		slog.Int64("subject", int64(d.Subject)))
	if d.Actor != 0 {
		attrs = append(attrs, slog.Int64("actor", int64(d.Actor)))
	}
	attrs = append(attrs,
		slog.String("type", d.Record.Type),
		slog.Int64("record", d.Record.ID),
		slog.String("rights", d.Rights.String()))
	if d.Gate != GateNone {
		attrs = append(attrs, slog.String("gate", d.Gate.String()))
	}
	attrs = append(attrs, slog.Uint64("revision", uint64(d.Revision)))
	return slog.GroupValue(attrs...)
}
