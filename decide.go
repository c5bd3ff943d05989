package access

import (
	"fmt"
	"math/bits"
	"slices"
	"time"
)

// This file is how a snapshot decides one request ([Engine.Can] and
// [Engine.CanAs] hand off to decide). The layers apply in this order, each
// a function of its own below:
//
//  1. gate (gate, checkGate): who gets nothing at all;
//  2. role rights (relations, roleRights): the ownership relations that
//     hold, and the role's cells for them; system users stop before it
//     with everything;
//  3. sharing (sharingRights, ownedBy): rules that open records;
//  4. grants (grantRights): explicit grants, else group defaults;
//  5. limits (limit): what the limits on the subject's groups, or on
//     everyone, take away (see [Limit]): a LimitUnrelated limit caps the
//     role's cells and the group defaults on records the subject is not
//     related to, sharing rules and grants still opening them; a LimitAll
//     limit then caps the sum of everything above. System users never
//     reach this layer. A resolver without limits skips it after one test;
//  6. restrictions (restrict): what the record's visibility, publication
//     and category take away.
//
// A denied decision then looks for the nearest miss (nearMiss). Functional
// rights (has) ride on the same role and group facts and end the file.

// ask is one question as the layers read it: the record, the subject and
// the action, the relations the role layer found, and the decision that
// collects the causes. d is nil for a question that wants the answer
// alone ([Engine.Allowed], and the probes of nearMiss): no cause is
// recorded, no nearest miss looked for, and no [Decision] is filled in,
// so such a question costs a few words of stack instead of a Decision.
type ask struct {
	rec  *Record
	who  AssociateID
	act  Action
	gate Gate      // the gate that stopped the subject, or GateNone
	rels Relations // set by roleRights
	d    *Decision
}

// add records the cause in the decision, if there is one.
func (q *ask) add(c *cause) {
	if d := q.d; d != nil {
		d.add(c)
	}
}

// decide fills in the decision for d.Subject, d.Action and d.Record.
func (s *snapshot) decide(d *Decision, now func() time.Time) {
	q := ask{rec: &d.Record, who: d.Subject, act: d.Action, d: d}
	rights, allowed := s.judge(&q, now)
	d.Relations, d.Gate, d.Rights, d.Allowed = q.rels, q.gate, rights, allowed
}

// allowed answers the question alone: whether who may act on rec.
func (s *snapshot) allowed(who AssociateID, act Action, rec *Record, now func() time.Time) bool {
	q := ask{rec: rec, who: who, act: act}
	_, ok := s.judge(&q, now)
	return ok
}

// judge decides q: it returns the subject's rights on the record and
// whether they allow the action, sets q.gate and q.rels, and records the
// causes in q.d, if any.
func (s *snapshot) judge(q *ask, now func() time.Time) (CRUD, bool) {
	// The record's lookups come first: they do not depend on the subject,
	// so their cache misses overlap the subject's instead of following it.
	f := s.facts(q.rec, q.who)
	x := s.subject(q.who)
	if !plainInternal(x.h) {
		if g := s.gateHot(x.i, x.h, now); g != GateNone {
			q.gate = g
			if q.d != nil {
				c := s.gateCause(x.i, g, now)
				q.d.add(&c)
			}
			return 0, false
		}
		if AssociateType(x.h.typ) == System {
			q.add(&cause{kind: CauseSystem})
			return LevelFull, true
		}
	}
	rights := s.roleRights(q, x, &f)
	// For an external subject roleRights sets only Owner, MyCompany and
	// SameProject, so no relation means the record lies outside its own
	// company and projects: the broad layers stop there.
	// A type no sharing rule, grant or default reaches skips those layers.
	var shared, granted, defaults, held CRUD
	if s.policy.opens(f.typ) {
		outside := AssociateType(x.h.typ) == External && q.rels == 0
		var heldG CRUD
		shared, held = s.sharingRights(q, x, f.typ, outside)
		granted, defaults, heldG = s.grantRights(q, x, f.typ, outside)
		held |= heldG
	}
	base, opened := rights|defaults, shared|granted
	rights = base | opened
	if held &^= rights; held != 0 {
		q.add(&cause{kind: CauseRestriction, sub: uint8(RestrictExternalScope), rights: held})
	}
	if s.policy.limited {
		rights = s.limit(q, x, &f, base, opened)
	}
	rights = s.restrict(q, x, &f, rights)
	ok := rights.Allows(q.act)
	if !ok && q.d != nil {
		s.nearMiss(q, x, &f)
	}
	return rights, ok
}

// plainInternal reports whether the header is that of an active internal
// associate with no validity window and no licence to check: one every
// gate lets through (see checkGate, which it short-cuts for the common
// case). h may be nil.
func plainInternal(h *hotAssoc) bool {
	const need = hotPresent | hotActive | hotWindow | hotLicence
	return h != nil && h.flags&need == hotPresent|hotActive && AssociateType(h.typ) == Internal
}

// recordFacts are what a decision looks up about a record alone.
type recordFacts struct {
	typ         int32     // interned type
	group, team int32     // group indexes, or -1
	ownerRole   *roleNode // the owner's role, or nil (also when the subject is the owner)
}

// facts looks up what the decision for subject who needs about the
// record alone. The owner's role serves only Subordinate, which never
// holds on the subject's own record.
func (s *snapshot) facts(rec *Record, who AssociateID) recordFacts {
	f := recordFacts{typ: s.typeOf(rec.Type), group: -1, team: -1}
	if rec.Owner != 0 && rec.Owner != who {
		f.ownerRole = s.ownerRole(rec.Owner)
	}
	if rec.Group != 0 {
		f.group = s.groupIndex(rec.Group)
	}
	if rec.Team != 0 {
		f.team = s.groupIndex(rec.Team)
	}
	return f
}

// gate returns the first gate the associate fails, or GateNone.
func (s *snapshot) gate(n *assocNode, now func() time.Time) Gate {
	if n == nil {
		return GateUnknown
	}
	var a *Associate
	if n.window() || s.licences.needs(n.a.Type) {
		a = n.a
	}
	return checkGate(n.a.Type, n.a.Active, a, s.licences, now)
}

// checkGate applies the gates to an associate of type typ; a is the
// associate when it has a validity window or its type needs a licence,
// else nil, and lt the licences. It is the gates' one rule: gate (from an
// associate's node) and gateHot (from its decision header, in hot.go) only
// gather its inputs, so Can and the other questions cannot disagree about
// who passes. The gates apply in the order of the Gate constants but for
// the type itself: malformed, inactive, validity window, licence, then
// resource and anonymous.
func checkGate(typ AssociateType, active bool, a *Associate, lt *licenceTable, now func() time.Time) Gate {
	// An undefined type comes first: nothing else about such an associate
	// can be trusted, and every layer below reads the type (an unknown one
	// would otherwise fall through to its role's owner rights).
	if !typ.Valid() {
		return GateMalformed
	}
	if !active {
		return GateInactive
	}
	if a != nil {
		t := now()
		if !a.ValidFrom.IsZero() && t.Before(a.ValidFrom) {
			return GateNotYetValid
		}
		if !a.ValidTo.IsZero() && !t.Before(a.ValidTo) {
			return GateExpired
		}
		if p, _ := lt.check(a, t); p != LicenceOK {
			return GateNoLicence
		}
	}
	switch typ {
	case Resource:
		return GateResource
	case Anonymous:
		return GateAnonymous
	}
	return GateNone
}

// gateCause returns the cause of gate g stopping associate index i
// (whose node must exist for GateNoLicence and GateMalformed).
func (s *snapshot) gateCause(i int32, g Gate, now func() time.Time) cause {
	c := cause{kind: CauseGate, gate: g}
	switch g {
	case GateMalformed:
		// Keep the undefined type, so the explanation can name the
		// value whoever reads the log must look for.
		if i >= 0 && s.assocs.at(i) != nil {
			c.id = int64(s.assocs.at(i).a.Type)
		}
	case GateNoLicence:
		if i >= 0 && s.assocs.at(i) != nil {
			p, id := s.licences.check(s.assocs.at(i).a, now())
			c.sub, c.id = uint8(p), int64(id)
		}
	}
	return c
}

// roleRights works out which ownership relations hold (relations) and
// returns the union of the role's cells for them.
func (s *snapshot) roleRights(q *ask, x subj, f *recordFacts) CRUD {
	rec := q.rec
	role := s.roleOf(x)
	var g *grid
	if role != nil {
		g = role.rightsAt(f.typ)
	}
	if q.d == nil && AssociateType(x.h.typ) == Internal && !s.policy.limited {
		return s.roleAnswer(q, x, f, role, g)
	}
	rels := s.relations(q, x, f, role)
	q.rels = rels
	// The loops visit the relations that hold, in relation order: rels
	// holds only valid ones, each at its own bit.
	d := q.d
	if d == nil {
		// No causes to record: the cells alone.
		var rights CRUD
		if g != nil {
			for m := uint(rels); m != 0; m &= m - 1 {
				rights |= g[bits.TrailingZeros(m)]
			}
		}
		return rights
	}
	roleID := s.roleID(x)
	if g == nil {
		d.add(&cause{kind: CauseNoRole, id: int64(roleID)})
		return 0
	}
	var rights CRUD
	for m := uint(rels); m != 0; m &= m - 1 {
		r := Relation(bits.TrailingZeros(m))
		rights |= g[r]
		// Written in place (see Decision.add).
		c := d.slot()
		if c == nil {
			continue
		}
		c.kind, c.rel, c.rights, c.id = CauseRole, r, g[r], int64(roleID)
		switch r {
		case Team:
			c.group = int64(rec.Team)
		case PrimaryGroup, OtherGroup:
			c.group = int64(rec.Group)
		}
	}
	return rights
}

// relations returns the ownership relations between the subject, whose
// role is role (nil: none), and the record: for an internal subject the
// record's owner, team, group, a subordinate's ownership and the
// category, falling back to Other or Unowned when none holds; for an
// external subject only Owner, MyCompany and SameProject.
func (s *snapshot) relations(q *ask, x subj, f *recordFacts, role *roleNode) Relations {
	rec, who, h := q.rec, q.who, x.h
	var rels Relations
	if rec.Owner != 0 && rec.Owner == who {
		rels = rels.With(Owner)
	}
	switch AssociateType(h.typ) {
	case Internal:
		if f.team >= 0 && s.memberHot(h, f.team) {
			rels = rels.With(Team)
		}
		if rec.Group != 0 {
			switch gi := f.group; {
			case s.inPrimary(q, x, f):
				rels = rels.With(PrimaryGroup)
			case gi >= 0 && s.memberHot(h, gi):
				rels = rels.With(OtherGroup)
			}
		}
		if subordinate(q, f, role) {
			rels = rels.With(Subordinate)
		}
		if rec.Category != 0 && s.inRecordCategory(q, x) {
			rels = rels.With(CategoryMember)
		}
		if rels == 0 {
			if rec.Owner != 0 || rec.Team != 0 {
				rels = rels.With(Other)
			} else {
				rels = rels.With(Unowned)
			}
		}
	case External:
		a := s.assocs.at(x.i).a
		if rec.Company != 0 && rec.Company == a.Company {
			rels = rels.With(MyCompany)
		}
		if rec.Project != 0 && slices.Contains(a.Projects, rec.Project) {
			rels = rels.With(SameProject)
		}
	}
	return rels
}

// inPrimary reports whether the record's group is the internal subject's
// primary group (PrimaryGroup).
func (s *snapshot) inPrimary(q *ask, x subj, f *recordFacts) bool {
	gi := f.group
	return q.rec.Group != 0 && (gi >= 0 && gi == x.h.primary ||
		gi < 0 && x.h.flags&hotOddPrimary != 0 && s.assocs.at(x.i).a.PrimaryGroup == q.rec.Group)
}

// subordinate reports whether the record's owner is the subordinate of
// an internal subject whose role is role (Subordinate). A past owner keeps
// its role (ownerRole), so its superiors keep the relation until its
// records are transferred; an owner deleted and forgotten, or whose role
// is gone, has none.
func subordinate(q *ask, f *recordFacts, role *roleNode) bool {
	or := f.ownerRole
	return or != nil && q.rec.Owner != q.who && role != nil && !role.leaf && role.isAbove(or)
}

// inRecordCategory reports whether the internal subject is a member of
// the record's category (CategoryMember).
func (s *snapshot) inRecordCategory(q *ask, x subj) bool {
	if q.rec.Category == 0 {
		return false
	}
	c := s.policy.categories[q.rec.Category]
	if c == nil {
		return false
	}
	direct, g, byRole := s.inCategory(x, c)
	return direct || g >= 0 || byRole
}

// roleAnswer is roleRights for a question that wants the answer alone
// (q.d nil), from an internal subject, with no limits in the policy: then
// nothing but the role's cells reads the relations, and of the cells only
// the action's bit matters. It returns that bit when the cells grant it,
// else 0, and tests only the relations that can change that: one whose
// cell grants the bit, and, while none is known to hold, when the
// fallback's cell grants it, any (a relation that holds turns the
// fallback off). So a membership that cannot change the answer is never
// looked up. q.rels is left unset.
func (s *snapshot) roleAnswer(q *ask, x subj, f *recordFacts, role *roleNode, g *grid) CRUD {
	bit := q.act.right()
	if g == nil || bit == 0 {
		return 0
	}
	rec, h := q.rec, x.h
	fb := Unowned
	if rec.Owner != 0 || rec.Team != 0 {
		fb = Other
	}
	fallback := g[fb]&bit != 0
	held := false // a specific relation holds
	// need reports whether relation r must be tested.
	need := func(r Relation) bool { return g[r]&bit != 0 || fallback && !held }
	// hit records that r holds and reports whether that settles it.
	hit := func(r Relation) bool {
		held = true
		return g[r]&bit != 0
	}
	if need(Owner) && rec.Owner != 0 && rec.Owner == q.who && hit(Owner) {
		return bit
	}
	primary := s.inPrimary(q, x, f)
	if need(PrimaryGroup) && primary && hit(PrimaryGroup) {
		return bit
	}
	if need(Subordinate) && subordinate(q, f, role) && hit(Subordinate) {
		return bit
	}
	if need(Team) && f.team >= 0 && s.memberHot(h, f.team) && hit(Team) {
		return bit
	}
	if need(OtherGroup) && rec.Group != 0 && !primary && f.group >= 0 && s.memberHot(h, f.group) && hit(OtherGroup) {
		return bit
	}
	if rec.Category != 0 && need(CategoryMember) && s.inRecordCategory(q, x) && hit(CategoryMember) {
		return bit
	}
	if fallback && !held {
		return bit
	}
	return 0
}

// sharingRights adds up the sharing rules that open the record to the
// subject. When outside is set (an external subject, a record outside its
// own company and projects) only rules whose To names the subject apply;
// what the others would have added is returned as held.
func (s *snapshot) sharingRights(q *ask, x subj, t int32, outside bool) (rights, held CRUD) {
	if int(t) >= len(s.policy.rulesAt) {
		t = 0
	}
	for _, r := range s.policy.rulesAt[t] {
		if !s.holds(&r.to, q.who, x) || !s.ownedBy(&r.from, q.rec) {
			continue
		}
		c := cause{kind: CauseSharing, id: int64(r.rule.ID), rights: r.rule.Rights}
		if outside {
			if !r.to.names(q.who) {
				held |= r.rule.Rights
				continue
			}
			c.named = true
		}
		rights |= r.rule.Rights
		q.add(&c)
	}
	return rights, held
}

// ownedBy reports whether the record's owner, or its team, is in the set.
func (s *snapshot) ownedBy(from *principalSet, rec *Record) bool {
	if from.everyone {
		return true
	}
	if rec.Owner != 0 {
		// Only groups and roles need the owner's header, a cache miss.
		owner := subj{i: -1}
		if len(from.groups)+len(from.roles)+len(from.rolesWithSubordinates) > 0 {
			owner = s.subject(rec.Owner)
		}
		if s.holds(from, rec.Owner, owner) {
			return true
		}
		if owner.h == nil {
			if p, ok := s.pastOwner(rec.Owner); ok && s.pastHolds(from, &p) {
				return true
			}
		}
	}
	if rec.Team != 0 {
		if gi := s.groupIndex(rec.Team); gi >= 0 && s.holdsTeam(from, gi) {
			return true
		}
	}
	return false
}

// pastHolds reports whether the past owner p is in the set through its
// role or its primary group (named ids are for holds): in a group of the
// set when its primary group is or is included in one; in a role of the
// set as a live holder of its role would be. A role or group deleted
// since counts as none.
func (s *snapshot) pastHolds(from *principalSet, p *PastOwner) bool {
	if gi := s.groupIndex(p.PrimaryGroup); gi >= 0 && len(from.groups) > 0 {
		for _, u := range s.groups[gi].up {
			if contains(from.groups, u.g) {
				return true
			}
		}
	}
	if s.roles[p.Role] == nil {
		return false
	}
	if slices.Contains(from.roles, p.Role) {
		return true
	}
	for _, r := range from.rolesWithSubordinates {
		if r == p.Role || s.below(p.Role, r) {
			return true
		}
	}
	return false
}

// grantRights adds up the explicit grants on the record to the subject or
// its groups and, where none covers the record, the default permissions of
// the subject's groups. When outside is set (an external subject, a record
// outside its own company and projects) only grants to the subject itself
// apply; what grants to groups and defaults would have added is returned
// as held. What the grants give and what the defaults give are returned
// apart, as limits treat them apart.
func (s *snapshot) grantRights(q *ask, x subj, t int32, outside bool) (rights, defaults, held CRUD) {
	covered := false
	apply := func(list []grantNode) {
		for i := range list {
			g := &list[i]
			if !g.applies(s, q.who, x) {
				continue
			}
			c := cause{kind: CauseGrant, id: int64(g.id), group: int64(g.group), rights: g.rights}
			if outside {
				if g.assoc == 0 {
					held |= g.rights
					continue
				}
				c.named = true
			}
			covered = true
			rights |= g.rights
			q.add(&c)
		}
	}
	if int(t) >= len(s.policy.typeGrantsAt) {
		t = 0
	}
	if id := q.rec.ID; id != 0 && s.policy.recBloomAt[t].mayHave(id) {
		apply(s.policy.recGrantsAt[t][id])
	}
	apply(s.policy.typeGrantsAt[t])
	if covered {
		return rights, 0, held
	}
	for _, e := range s.policy.defaultsAt[t] {
		if e.mask != 0 {
			if !hasBits(x.h, e.mask) {
				continue
			}
		} else if !s.memberHot(x.h, e.g) {
			continue
		}
		if outside {
			held |= e.rights
			continue
		}
		defaults |= e.rights
		q.add(&cause{kind: CauseDefault, group: int64(e.id), rights: e.rights})
	}
	return rights, defaults, held
}

// limit applies the limits on the subject to the record (see [Limit]):
// base is what the role's cells and the group defaults gave, opened what
// sharing rules and grants gave. LimitUnrelated limits cap base when no
// relation in relatedRelations holds; LimitAll limits cap the sum. Each
// limit that took something away is named, with what it took.
func (s *snapshot) limit(q *ask, x subj, f *recordFacts, base, opened CRUD) CRUD {
	p := &s.policy
	t := f.typ
	if int(t) >= len(p.limitsAt) {
		t = 0
	}
	var onRecord []limitNode
	if id := q.rec.ID; id != 0 && p.recLimitBloom[t].mayHave(id) {
		onRecord = p.recLimitsAt[t][id]
	}
	unrelated := q.rels&relatedRelations == 0
	keepBase, keepAll := LevelFull, LevelFull
	for _, list := range [2][]limitNode{p.limitsAt[t], onRecord} {
		for i := range list {
			l := &list[i]
			switch {
			case l.scope == LimitUnrelated && !unrelated, !l.applies(s, x):
			case l.scope == LimitUnrelated:
				keepBase &= l.max
			default:
				keepAll &= l.max
			}
		}
	}
	capped := base&keepBase | opened
	rights := capped & keepAll
	if rights == base|opened || q.d == nil {
		return rights
	}
	for _, list := range [2][]limitNode{p.limitsAt[t], onRecord} {
		for i := range list {
			l := &list[i]
			var took CRUD
			switch {
			case l.scope == LimitUnrelated && !unrelated, !l.applies(s, x):
				continue
			case l.scope == LimitUnrelated:
				took = base &^ l.max &^ opened
			default:
				took = capped &^ l.max
			}
			if took != 0 {
				q.add(&cause{kind: CauseLimit, id: int64(l.id), group: int64(l.group), rights: took, held: l.max, sub: uint8(l.scope), named: l.record != 0})
			}
		}
	}
	return rights
}

// restrict removes rights the record's restrictions take away.
func (s *snapshot) restrict(q *ask, x subj, f *recordFacts, rights CRUD) CRUD {
	rec := q.rec
	cut := func(r Restriction) {
		if rights != 0 {
			q.add(&cause{kind: CauseRestriction, sub: uint8(r), rights: rights})
		}
		rights = 0
	}
	own := rec.Owner != 0 && rec.Owner == q.who
	switch rec.Visibility {
	case VisibleAssociate:
		if !own {
			cut(RestrictVisibleAssociate)
		}
	case VisibleGroup:
		if !own && (f.group < 0 || !s.memberHot(x.h, f.group)) {
			cut(RestrictVisibleGroup)
		}
	}
	if AssociateType(x.h.typ) == External && !rec.Published && !own {
		cut(RestrictUnpublished)
	}
	if rec.Category != 0 {
		// A category the store does not hold is treated as members-only
		// with no members: fail closed.
		c := s.policy.categories[rec.Category]
		if c == nil {
			cut(RestrictMembersOnly)
		} else if c.cat.MembersOnly {
			if direct, g, role := s.inCategory(x, c); !direct && g < 0 && !role {
				cut(RestrictMembersOnly)
			}
		}
	}
	return rights
}

// nearMiss adds a CauseNearMiss to a denying decision when the subject's
// role would have granted the action through the fallback relation (Other,
// or Unowned) had no specific relation held, and no restriction would have
// taken it away again. It reads only what the role layer already read.
func (s *snapshot) nearMiss(q *ask, x subj, f *recordFacts) {
	if AssociateType(x.h.typ) != Internal || q.rels == 0 {
		return
	}
	fb := Unowned
	if q.rec.Owner != 0 || q.rec.Team != 0 {
		fb = Other
	}
	role := s.roleOf(x)
	if q.rels.Has(fb) || role == nil {
		return
	}
	g := role.rightsAt(f.typ)
	bit := q.act.right()
	if g == nil || g[fb]&bit == 0 {
		return
	}
	var held CRUD
	for m := uint(q.rels); m != 0; m &= m - 1 {
		held |= g[bits.TrailingZeros(m)]
	}
	if held&bit != 0 {
		return // the role granted it; a restriction took it away
	}
	probe := ask{rec: q.rec, who: q.who, act: q.act, rels: Relations(0).With(fb)}
	if s.restrict(&probe, x, f, bit) == 0 {
		return
	}
	if s.policy.limited && s.limit(&probe, x, f, bit, 0) == 0 {
		return // a limit would take it away as well
	}
	q.add(&cause{kind: CauseNearMiss, rel: fb, rights: g[fb], held: held, id: int64(s.roleID(x))})
}

// has reports whether the associate's role or one of its effective groups
// grants the functional right. External associates hold none: a
// functional right comes from a role or a group, the broad layers, and is
// not tied to a record, so it cannot be held to the external's company
// and projects. Only internal associates hold FuncBackendLogin: the others
// cannot sign in to the client (see [Engine.SignIn]).
func (s *snapshot) has(x subj, right string) bool {
	if x.h == nil || AssociateType(x.h.typ) == External || !typeMayHold(AssociateType(x.h.typ), right) {
		return false
	}
	if r := s.roleOf(x); r != nil && slices.Contains(r.role.Functions, right) {
		return true
	}
	for _, g := range s.policy.funcGroups[right] {
		if s.memberHot(x.h, g) {
			return true
		}
	}
	return false
}

// impersonate checks, before CanAs decides as the target, that actor may
// act as target now: both pass the gates, the target is no system user,
// and a rule matches — the lowest-id rule naming the target wins over any
// rule matching through a group, and a group rule never lets an actor
// reach a role above its own. It runs on every CanAs, so a revoked rule
// takes effect at once.
func (s *snapshot) impersonate(actor, target AssociateID, now func() time.Time) (Acting, error) {
	if actor == target {
		return Acting{}, fmt.Errorf("access: associate %d: %w", actor, ErrImpersonateSelf)
	}
	_, an := s.assoc(actor)
	_, tn := s.assoc(target)
	if g := s.gate(an, now); g != GateNone {
		return Acting{}, fmt.Errorf("access: associate %d acting as %d: %w (%s)", actor, target, ErrImpersonatorGate, g)
	}
	if g := s.gate(tn, now); g != GateNone {
		return Acting{}, fmt.Errorf("access: associate %d acting as %d: %w (%s)", actor, target, ErrTargetGate, g)
	}
	if tn.a.Type == System {
		return Acting{}, fmt.Errorf("access: associate %d acting as %d: %w", actor, target, ErrImpersonateSystem)
	}
	// The lowest-id rule that names the target explicitly wins; otherwise
	// the lowest-id rule that matches through a group.
	var byName, byGroup *impNode
	for _, m := range s.policy.impersonations {
		a, t := m.imp.Actor, m.imp.Target
		actorOK := (a.Associate != 0 && a.Associate == actor) || (m.actor >= 0 && s.memberOf(s.subjectOfNode(an), m.actor))
		if !actorOK {
			continue
		}
		switch {
		case t.Associate != 0 && t.Associate == target:
			if byName == nil || m.imp.ID < byName.imp.ID {
				byName = m
			}
		case m.target >= 0 && s.memberOf(s.subjectOfNode(tn), m.target):
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

// typeMayHold reports whether an associate of type typ may hold the
// functional right at all: FuncBackendLogin is the client's, which only
// internal associates use, whatever a role or group lists.
func typeMayHold(typ AssociateType, right string) bool {
	return right != FuncBackendLogin || typ == Internal
}
