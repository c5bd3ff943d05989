package access

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// column names a record column a [Filter] tests.
type column uint8

// The record columns. The zero value is not a column.
const (
	_ column = iota
	colID
	colOwner
	colGroup
	colTeam
	colCompany
	colProject
	colCategory
	colPublished
	colVisibility
)

var columnNames = [...]string{
	colID: "id", colOwner: "owner", colGroup: "group", colTeam: "team", colCompany: "company",
	colProject: "project", colCategory: "category", colPublished: "published", colVisibility: "visibility",
}

// String names the column as Record names the field, in lower case.
func (c column) String() string {
	if c > 0 && int(c) < len(columnNames) {
		return columnNames[c]
	}
	return "column(" + strconv.Itoa(int(c)) + ")"
}

// cond is a node of a filter's predicate. Conditions are immutable once
// built; the builders below fold constants as they go.
type cond struct {
	op   condOp
	col  column
	val  int64   // condEq
	set  []int64 // condIn: sorted, distinct
	kids []*cond // condAnd, condOr, condNot
}

type condOp uint8

const (
	condFalse condOp = iota
	condTrue
	condEq  // col = val (Published: val 1 for true)
	condIn  // col ∈ set
	condAnd // all kids
	condOr  // any kid
	condNot // not kids[0]
)

var (
	condNever  = &cond{op: condFalse}
	condAlways = &cond{op: condTrue}
)

func eq(c column, v int64) *cond { return &cond{op: condEq, col: c, val: v} }

// in builds col ∈ set. It keeps a sorted, deduplicated copy of set; the
// sort is skipped for sets that come sorted, such as the cached lists of
// subordinates, which run to tens of thousands of ids.
func in(c column, set []int64) *cond {
	set = slices.Clone(set)
	if !slices.IsSorted(set) {
		slices.Sort(set)
	}
	set = slices.Compact(set)
	switch len(set) {
	case 0:
		return condNever
	case 1:
		return eq(c, set[0])
	}
	return &cond{op: condIn, col: c, set: set}
}

func not(x *cond) *cond {
	switch x.op {
	case condTrue:
		return condNever
	case condFalse:
		return condAlways
	case condNot:
		return x.kids[0]
	}
	return &cond{op: condNot, kids: []*cond{x}}
}

func and(xs ...*cond) *cond { return join(condAnd, xs) }
func or(xs ...*cond) *cond  { return join(condOr, xs) }

func join(op condOp, xs []*cond) *cond {
	absorb, identity := condFalse, condTrue // for and
	if op == condOr {
		absorb, identity = condTrue, condFalse
	}
	var kids []*cond
	for _, x := range xs {
		switch {
		case x.op == absorb:
			return x
		case x.op == identity:
			continue
		case x.op == op:
			kids = append(kids, x.kids...)
		default:
			kids = append(kids, x)
		}
	}
	switch len(kids) {
	case 0:
		if op == condOr {
			return condNever
		}
		return condAlways
	case 1:
		return kids[0]
	}
	return &cond{op: op, kids: kids}
}

func (c *cond) value(rec *Record) int64 {
	switch c.col {
	case colID:
		return rec.ID
	case colOwner:
		return int64(rec.Owner)
	case colGroup:
		return int64(rec.Group)
	case colTeam:
		return int64(rec.Team)
	case colCompany:
		return rec.Company
	case colProject:
		return rec.Project
	case colCategory:
		return int64(rec.Category)
	case colPublished:
		if rec.Published {
			return 1
		}
		return 0
	case colVisibility:
		return int64(rec.Visibility)
	}
	return 0
}

func (c *cond) match(rec *Record) bool {
	switch c.op {
	case condTrue:
		return true
	case condEq:
		return c.value(rec) == c.val
	case condIn:
		_, ok := slices.BinarySearch(c.set, c.value(rec))
		return ok
	case condAnd:
		for _, k := range c.kids {
			if !k.match(rec) {
				return false
			}
		}
		return true
	case condOr:
		for _, k := range c.kids {
			if k.match(rec) {
				return true
			}
		}
		return false
	case condNot:
		return !c.kids[0].match(rec)
	}
	return false
}

// Filter describes exactly the records of one entity type that one
// associate may perform one action on, as a predicate over the record's
// columns. For every record r of that type, f.Match(r) equals
// Can(ctx, who, action, r).Allowed at the revision the filter was built at.
// Render it as a SQL WHERE fragment with [Filter.SQL] to list, count and
// page the records in the database.
//
// A Filter is immutable and safe for concurrent use. The zero Filter
// matches nothing.
type Filter struct {
	// Type is the entity type the filter is for.
	Type string
	// Revision is the store revision it was built at.
	Revision Revision
	root     *cond
}

// Always reports whether the filter matches every record of its type that
// Can accepts (a system user). A record with an undefined visibility, which
// Can rejects, still fails it, so [Filter.SQL] still renders that test.
func (f *Filter) Always() bool {
	// A system user's filter is exactly the visibility check every
	// decision makes, so it is never the bare constant TRUE.
	return f.root != nil && (f.root.op == condTrue || f.root == validVisibility)
}

// Never reports whether the filter matches no record (a subject that fails
// a gate, or has no rights of any kind on the type).
func (f *Filter) Never() bool { return f.root == nil || f.root.op == condFalse }

// Match reports whether the record is one the filter admits. A record of
// another type never matches.
func (f *Filter) Match(rec Record) bool {
	if f.root == nil || rec.Type != f.Type {
		return false
	}
	return f.root.match(&rec)
}

// String renders the predicate for people, for example
// "owner = 11 OR group IN {10, 20}".
func (f *Filter) String() string {
	if f.root == nil {
		return "FALSE"
	}
	var b strings.Builder
	f.root.format(&b)
	return b.String()
}

// format writes c as Filter.String renders it, cutting long id lists.
func (c *cond) format(b *strings.Builder) {
	switch c.op {
	case condFalse:
		b.WriteString("FALSE")
	case condTrue:
		b.WriteString("TRUE")
	case condEq:
		fmt.Fprintf(b, "%s = %d", c.col, c.val)
	case condIn:
		fmt.Fprintf(b, "%s IN {", c.col)
		for i, v := range c.set {
			if i > 0 {
				b.WriteString(", ")
			}
			if i == 8 && len(c.set) > 10 {
				fmt.Fprintf(b, "… %d more", len(c.set)-8)
				break
			}
			b.WriteString(strconv.FormatInt(v, 10))
		}
		b.WriteString("}")
	case condNot:
		b.WriteString("NOT (")
		c.kids[0].format(b)
		b.WriteString(")")
	case condAnd, condOr:
		sep := " AND "
		if c.op == condOr {
			sep = " OR "
		}
		for i, k := range c.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			paren := k.op == condAnd || k.op == condOr
			if paren {
				b.WriteString("(")
			}
			k.format(b)
			if paren {
				b.WriteString(")")
			}
		}
	}
}

// Filter returns the filter of the records of entity type typ that the
// associate may perform act on. It is exact: the same layers as
// [Engine.Can], including fallback relations, restrictions and roles whose
// cells are not monotone. Lists of ids (the subject's groups, a sharing
// rule's owners, the subordinates' ids, records with explicit grants) are
// carried as array parameters, so the SQL text does not grow with them.
//
// Sizes: a list of a few thousand ids costs next to nothing; tens of
// thousands cost PostgreSQL milliseconds of planning (24,000 ids: about
// 4 ms), and the filter itself grows with them (a top manager over 190,000
// subordinates: 0.2 ms to build). Per-record grants become such a list;
// past about 10,000 granted records per subject, keep grants in a table of
// your own and join it instead.
// Invalid action or type: an error wrapping [ErrInvalid]; a stale
// resolver: [ErrStale].
func (e *Engine) Filter(ctx context.Context, who AssociateID, act Action, typ string) (Filter, error) {
	s, err := e.current()
	if err != nil {
		return Filter{}, err
	}
	if err := e.checkRequest(act, &Record{Type: typ}); err != nil {
		return Filter{}, err
	}
	return Filter{Type: typ, Revision: s.rev, root: s.filter(who, act, typ, e.now)}, nil
}

// validVisibility admits the visibilities Can accepts; Can rejects others.
var validVisibility = in(colVisibility, []int64{int64(VisibleAll), int64(VisibleGroup), int64(VisibleAssociate)})

// filter compiles the question "may who perform act on records of type
// typ?" into a condition on a record's columns. It is decide's layers in
// the same order — gate, role rights, sharing, grants, limits,
// restrictions — each answered for every record at once rather than for
// one record's facts: filterRoleRights mirrors roleRights, filterSharing
// sharingRights, filterGrants grantRights, filterLimits limit and
// filterRestrict restrict. A change to one
// encoding of the rules needs the same change in the other;
// the reference and property tests compare the two.
func (s *snapshot) filter(who AssociateID, act Action, typ string, now func() time.Time) *cond {
	_, n := s.assoc(who)
	if s.gate(n, now) != GateNone {
		return condNever
	}
	if n.a.Type == System {
		return validVisibility
	}
	q := s.newFilterSubject(n, act, typ)
	fc := s.filterCache()
	grants, defaults := s.filterGrants(&q)
	base := or(s.filterRoleRights(&q, fc), defaults)
	opened := or(s.filterSharing(&q, fc), grants)
	granted := or(base, opened)
	if s.policy.limited {
		keepBase, keepAll := s.filterLimits(&q, fc)
		granted = and(or(and(base, keepBase), opened), keepAll)
	}
	return s.filterRestrict(&q, granted)
}

// filterSubject is what every layer of a filter needs to know about the
// subject and the question.
type filterSubject struct {
	n   *assocNode
	a   *Associate
	bit CRUD   // the right the action needs
	typ string // the entity type asked about
	// groups are the subject's effective groups, as ids.
	groups []int64
	// own holds for the subject's own records.
	own *cond
	// scope, for an external subject, holds for the records its own
	// company and projects admit; nil for any other subject.
	scope *cond
}

// newFilterSubject gathers what the layers of a filter for associate n,
// action act and entity type typ share.
func (s *snapshot) newFilterSubject(n *assocNode, act Action, typ string) filterSubject {
	a := n.a
	q := filterSubject{n: n, a: a, bit: act.right(), typ: typ, own: eq(colOwner, int64(a.ID))}
	groups := s.groupsOf(n)
	q.groups = make([]int64, 0, len(groups))
	for _, g := range groups {
		q.groups = append(q.groups, int64(s.groups[g].group.ID))
	}
	// An external subject is held to its own company and projects: what
	// reaches it through everyone, a role or a group applies only to the
	// records scope admits; rules and grants that name it apply anywhere.
	if a.Type == External {
		q.scope = or(q.own, in(colProject, nonZero(a.Projects)))
		if a.Company != 0 {
			q.scope = or(q.scope, eq(colCompany, a.Company))
		}
	}
	return q
}

// reach limits c, a condition under which a rule or grant opens records,
// to the subject's scope unless the rule or grant names the subject
// itself.
func (q *filterSubject) reach(named bool, c *cond) *cond {
	if q.scope == nil || named {
		return c
	}
	return and(q.scope, c)
}

// nonZero returns the ids of set but 0, in a new slice.
func nonZero(set []int64) []int64 {
	return slices.DeleteFunc(slices.Clone(set), func(p int64) bool { return p == 0 })
}

// filterRoleRights is roleRights as a condition: the union of the cells
// of the relations that hold, or the fallback's cell (Other, Unowned)
// when no specific relation holds.
func (s *snapshot) filterRoleRights(q *filterSubject, fc *filterCache) *cond {
	a, bit := q.a, q.bit
	rn := s.roles[a.Role]
	if rn == nil {
		return condNever
	}
	g := rn.rights(q.typ)
	if g == nil {
		return condNever
	}
	preds := s.filterRelations(q, fc)
	var granted, withheld []*cond
	for r := Owner; r < numRelations; r++ {
		p := preds[r]
		if p == nil {
			continue
		}
		if g[r]&bit != 0 {
			granted = append(granted, p)
		} else {
			withheld = append(withheld, p)
		}
	}
	if a.Type == Internal {
		// The fallbacks apply when no specific relation holds. Where
		// a granting one holds they add nothing, so "none holds"
		// need only rule out the withheld ones: G ∨ (¬(G ∨ W) ∧ x)
		// is G ∨ (¬W ∧ x). That keeps the granted relations' id
		// lists out of the fragment a second time.
		none := not(or(withheld...))
		owned := or(not(eq(colOwner, 0)), not(eq(colTeam, 0)))
		if g[Other]&bit != 0 {
			if none.op == condTrue {
				// Every relation that can hold grants the action, so
				// every owned record is in, and the relations that
				// imply ownership (owner, team, subordinate) add
				// nothing — which keeps a manager's thousands of
				// subordinates out of the fragment.
				granted = slices.DeleteFunc(granted, impliesOwned)
			}
			granted = append(granted, and(none, owned))
		}
		if g[Unowned]&bit != 0 {
			granted = append(granted, and(none, eq(colOwner, 0), eq(colTeam, 0)))
		}
	}
	return or(granted...)
}

// filterRelations returns, for each specific relation the subject's type
// can have to a record, the condition under which it holds; nil for the
// relations it cannot have.
func (s *snapshot) filterRelations(q *filterSubject, fc *filterCache) (preds [numRelations]*cond) {
	a := q.a
	preds[Owner] = q.own
	switch a.Type {
	case Internal:
		preds[Team] = in(colTeam, q.groups)
		if a.PrimaryGroup != 0 {
			preds[PrimaryGroup] = eq(colGroup, int64(a.PrimaryGroup))
		} else {
			preds[PrimaryGroup] = condNever
		}
		preds[OtherGroup] = in(colGroup, slices.DeleteFunc(slices.Clone(q.groups), func(g int64) bool { return g == int64(a.PrimaryGroup) }))
		preds[Subordinate] = in(colOwner, fc.subordinatesOf(s, a.Role))
		preds[CategoryMember] = in(colCategory, s.categoriesOf(q.n))
	case External:
		if a.Company != 0 {
			preds[MyCompany] = eq(colCompany, a.Company)
		} else {
			preds[MyCompany] = condNever
		}
		preds[SameProject] = in(colProject, nonZero(a.Projects))
	}
	return preds
}

// filterSharing is sharingRights as a condition: the records the sharing
// rules that reach the subject open to it.
func (s *snapshot) filterSharing(q *filterSubject, fc *filterCache) *cond {
	a := q.a
	var sharing []*cond
	for _, list := range [2][]*ruleNode{s.policy.rulesByType[q.typ], s.policy.rulesByType[Wildcard]} {
		for _, r := range list {
			if r.rule.Rights&q.bit == 0 || !s.holds(&r.to, a.ID, s.subjectOfNode(q.n)) {
				continue
			}
			opened := condAlways
			if !r.from.everyone {
				o := fc.rules[r.rule.ID]
				opened = or(in(colOwner, o.owners), in(colTeam, o.teams))
			}
			sharing = append(sharing, q.reach(r.to.names(a.ID), opened))
		}
	}
	return or(sharing...)
}

// filterGrants is grantRights as a condition: explicit grants by type and
// by record, and apart from them the subject's group defaults where no
// grant covers the record.
func (s *snapshot) filterGrants(q *filterSubject) (grants, defaults *cond) {
	a, bit, x := q.a, q.bit, s.subjectOfNode(q.n)
	var granted []*cond
	typeCovered := false
	for _, t := range [2]string{q.typ, Wildcard} {
		for _, g := range s.policy.grantsByType[t] {
			if g.applies(s, a.ID, x) {
				typeCovered = true
				if g.rights&bit != 0 {
					granted = append(granted, q.reach(g.assoc != 0, condAlways))
				}
			}
		}
	}
	var covered, allowed, allowedGroup []int64
	for _, g := range s.policy.recordGrants[q.typ] {
		if g.applies(s, a.ID, x) {
			covered = append(covered, g.record)
			if g.rights&bit == 0 {
				continue
			}
			if g.assoc != 0 || a.Type != External {
				allowed = append(allowed, g.record)
			} else {
				allowedGroup = append(allowedGroup, g.record)
			}
		}
	}
	granted = append(granted, in(colID, allowed), q.reach(false, in(colID, allowedGroup)))
	defaults = condNever
	if !typeCovered {
		var rights CRUD
		for _, gi := range s.policy.defaults {
			if s.memberOf(x, gi) {
				defs := s.groups[gi].group.Defaults
				c, ok := defs[q.typ]
				if !ok {
					c = defs[Wildcard]
				}
				rights |= c
			}
		}
		if rights&bit != 0 {
			defaults = q.reach(false, not(in(colID, covered)))
		}
	}
	return or(granted...), defaults
}

// filterLimits is limit as two conditions: keepBase holds where the
// LimitUnrelated limits on the subject leave the action to the role's
// cells and the defaults (on records the subject is related to, or that no
// such limit denying the action covers), keepAll where the LimitAll
// limits leave it at all.
func (s *snapshot) filterLimits(q *filterSubject, fc *filterCache) (keepBase, keepAll *cond) {
	x := s.subjectOfNode(q.n)
	var allType, unrelType bool
	var allIDs, unrelIDs []int64
	take := func(l *limitNode) {
		if l.max&q.bit != 0 || !l.applies(s, x) {
			return
		}
		switch {
		case l.scope == LimitUnrelated && l.record == 0:
			unrelType = true
		case l.scope == LimitUnrelated:
			unrelIDs = append(unrelIDs, l.record)
		case l.record == 0:
			allType = true
		default:
			allIDs = append(allIDs, l.record)
		}
	}
	for _, t := range [2]string{q.typ, Wildcard} {
		for i := range s.policy.limitsByType[t] {
			take(&s.policy.limitsByType[t][i])
		}
	}
	if q.typ != Wildcard {
		for k, list := range s.policy.limitsByRecord {
			if k.typ == q.typ {
				for i := range list {
					take(&list[i])
				}
			}
		}
	}
	keepAll = not(in(colID, allIDs))
	if allType {
		keepAll = condNever
	}
	keepBase = condAlways
	if unrelType || len(unrelIDs) > 0 {
		preds := s.filterRelations(q, fc)
		var rel []*cond
		for r := Owner; r < numRelations; r++ {
			if relatedRelations&(1<<r) != 0 && preds[r] != nil {
				rel = append(rel, preds[r])
			}
		}
		related := or(rel...)
		keepBase = or(not(in(colID, unrelIDs)), related)
		if unrelType {
			keepBase = related
		}
	}
	return keepBase, keepAll
}

// filterRestrict is restrict as a condition: it limits granted to the
// records the subject may see at all — by visibility, publication (for
// external subjects) and members-only categories — and to the
// visibilities Can accepts.
func (s *snapshot) filterRestrict(q *filterSubject, granted *cond) *cond {
	a, own := q.a, q.own
	visible := and(
		or(not(eq(colVisibility, int64(VisibleGroup))), own, in(colGroup, q.groups)),
		or(not(eq(colVisibility, int64(VisibleAssociate))), own),
	)
	published := condAlways
	if a.Type == External {
		published = or(eq(colPublished, 1), own)
	}
	var okCats []int64
	for id, c := range s.policy.categories {
		if !c.cat.MembersOnly {
			okCats = append(okCats, int64(id))
		} else if direct, g, role := s.inCategory(s.subjectOfNode(q.n), c); direct || g >= 0 || role {
			okCats = append(okCats, int64(id))
		}
	}
	category := or(eq(colCategory, 0), in(colCategory, okCats))
	return and(granted, visible, published, category, validVisibility)
}

// impliesOwned reports whether c holds only for records that have an owner
// or a team: a test of the owner or team column against non-zero ids.
func impliesOwned(c *cond) bool {
	if c.col != colOwner && c.col != colTeam {
		return false
	}
	switch c.op {
	case condEq:
		return c.val != 0
	case condIn:
		_, zero := slices.BinarySearch(c.set, 0)
		return !zero
	}
	return false
}

// categoriesOf lists the ids of the associate's effective categories.
func (s *snapshot) categoriesOf(n *assocNode) []int64 {
	var out []int64
	for id, c := range s.policy.categories {
		if direct, g, role := s.inCategory(s.subjectOfNode(n), c); direct || g >= 0 || role {
			out = append(out, int64(id))
		}
	}
	return out
}

// filterCache holds what filters need that depends on every associate:
// the associates by their role's position in the role tree, from which the
// ids of the associates whose role is strictly below a role are cut (see
// subordinatesOf); per sharing rule, the owners and teams its From set
// holds. It is computed on first use, once per snapshot.
type filterCache struct {
	once sync.Once
	// byPos lists the ids of the associates holding a role, grouped by
	// the role's position (see roletree.go); those at position p are
	// byPos[start[p]:start[p+1]].
	byPos []int64
	start []int32
	rules map[RuleID]ruleOwners

	mu sync.Mutex
	// subordinates caches subordinatesOf per role: only the roles filters
	// are built for, as every role's list would be quadratic in a deep
	// tree.
	subordinates map[RoleID][]int64
}

// subordinatesOf returns, sorted, the ids of the associates whose role is
// strictly below role r. The caller must not change the list.
func (fc *filterCache) subordinatesOf(s *snapshot, r RoleID) []int64 {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if ids, ok := fc.subordinates[r]; ok {
		return ids
	}
	var ids []int64
	if n := s.roles[r]; n != nil && n.lo < n.end {
		ids = slices.Clone(fc.byPos[fc.start[n.lo]:fc.start[n.end]])
		slices.Sort(ids)
		ids = slices.Compact(ids)
	}
	if fc.subordinates == nil {
		fc.subordinates = map[RoleID][]int64{}
	}
	fc.subordinates[r] = ids
	return ids
}

type ruleOwners struct {
	owners []int64 // associates (live, past, or named explicitly) in From
	teams  []int64 // groups that are in From or included in a From group
}

// filterCache returns the snapshot's filterCache, building its per-role
// and per-rule lists on first use: only resolvers that build filters pay
// for them.
func (s *snapshot) filterCache() *filterCache {
	fc := s.filterMemo
	fc.once.Do(func() {
		// Count the holders per position, then place them. Past owners
		// hold their role still: their records are a superior's
		// subordinates' records, as ownerRole makes them for Can.
		fc.start = make([]int32, len(s.roleByPre)+1)
		for _, n := range s.assocs.all() {
			if n != nil && n.a.Role != 0 {
				if rn := s.roles[n.a.Role]; rn != nil {
					fc.start[rn.pre+1]++
				}
			}
		}
		for _, p := range s.past {
			if rn := s.roles[p.Role]; rn != nil {
				fc.start[rn.pre+1]++
			}
		}
		for p := range s.roleByPre {
			fc.start[p+1] += fc.start[p]
		}
		fc.byPos = make([]int64, fc.start[len(s.roleByPre)])
		next := slices.Clone(fc.start)
		for _, n := range s.assocs.all() {
			if n != nil && n.a.Role != 0 {
				if rn := s.roles[n.a.Role]; rn != nil {
					fc.byPos[next[rn.pre]] = int64(n.a.ID)
					next[rn.pre]++
				}
			}
		}
		for _, p := range s.past {
			if rn := s.roles[p.Role]; rn != nil {
				fc.byPos[next[rn.pre]] = int64(p.ID)
				next[rn.pre]++
			}
		}
		fc.rules = make(map[RuleID]ruleOwners, len(s.policy.rules))
		for id, r := range s.policy.rules {
			if r.from.everyone {
				continue
			}
			var o ruleOwners
			for _, x := range r.from.assocs {
				o.owners = append(o.owners, int64(x))
			}
			for _, n := range s.assocs.all() {
				if n != nil && s.holds(&r.from, n.a.ID, s.subjectOfNode(n)) {
					o.owners = append(o.owners, int64(n.a.ID))
				}
			}
			for _, p := range s.past {
				if s.pastHolds(&r.from, &p) {
					o.owners = append(o.owners, int64(p.ID))
				}
			}
			for gi, g := range s.groups {
				if g != nil && s.holdsTeam(&r.from, int32(gi)) {
					o.teams = append(o.teams, int64(g.group.ID))
				}
			}
			fc.rules[id] = o
		}
	})
	return fc
}
