package access

import (
	"context"
	"errors"
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
	if err := checkRequest(act, &Record{Type: typ}); err != nil {
		return Filter{}, err
	}
	if err := e.fresh(); err != nil {
		return Filter{}, err
	}
	s := e.snap.Load()
	return Filter{Type: typ, Revision: s.rev, root: s.filter(who, act, typ, e.now)}, nil
}

// validVisibility admits the visibilities Can accepts; Can rejects others.
var validVisibility = in(colVisibility, []int64{int64(VisibleAll), int64(VisibleGroup), int64(VisibleAssociate)})

func (s *snapshot) filter(who AssociateID, act Action, typ string, now func() time.Time) *cond {
	_, n := s.assoc(who)
	if gate(n, now) != GateNone {
		return condNever
	}
	if n.a.Type == System {
		return validVisibility
	}
	a := &n.a
	bit := act.right()
	fc := s.filterCache()

	// The subject's effective groups, as ids.
	groups := make([]int64, 0, len(n.groups))
	for _, g := range n.groups {
		groups = append(groups, int64(s.groups[g].group.ID))
	}
	own := eq(colOwner, int64(a.ID))

	// Role rights by relation: the union of the cells of the relations
	// that hold, or the fallback's cell when no specific relation holds.
	var role *cond = condNever
	if rn := s.roles[a.Role]; rn != nil {
		if g := rn.rights(typ); g != nil {
			preds := map[Relation]*cond{Owner: own}
			if a.Type == Internal {
				preds[Team] = in(colTeam, groups)
				if a.PrimaryGroup != 0 {
					preds[PrimaryGroup] = eq(colGroup, int64(a.PrimaryGroup))
				} else {
					preds[PrimaryGroup] = condNever
				}
				preds[OtherGroup] = in(colGroup, slices.DeleteFunc(slices.Clone(groups), func(g int64) bool { return g == int64(a.PrimaryGroup) }))
				preds[Subordinate] = in(colOwner, fc.subordinatesOf(s, a.Role))
				preds[CategoryMember] = in(colCategory, s.categoriesOf(n))
			} else if a.Type == External {
				if a.Company != 0 {
					preds[MyCompany] = eq(colCompany, a.Company)
				} else {
					preds[MyCompany] = condNever
				}
				preds[SameProject] = in(colProject, slices.DeleteFunc(slices.Clone(a.Projects), func(p int64) bool { return p == 0 }))
			}
			var granted, withheld []*cond
			for r := Owner; r < numRelations; r++ {
				p, ok := preds[r]
				if !ok {
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
			role = or(granted...)
		}
	}

	// Sharing rules that open records to the subject.
	var sharing []*cond
	for _, list := range [2][]*ruleNode{s.rulesByType[typ], s.rulesByType[Wildcard]} {
		for _, r := range list {
			if r.rule.Rights&bit == 0 || !s.holds(&r.to, a.ID, s.subjOf(n)) {
				continue
			}
			if r.from.everyone {
				sharing = append(sharing, condAlways)
				continue
			}
			o := fc.rules[r.rule.ID]
			sharing = append(sharing, or(in(colOwner, o.owners), in(colTeam, o.teams)))
		}
	}

	// Explicit grants, and group defaults where no grant covers the record.
	var grants []*cond
	typeCovered := false
	for _, t := range [2]string{typ, Wildcard} {
		for _, g := range s.grantsByType[t] {
			if g.applies(s, a.ID, s.subjOf(n)) {
				typeCovered = true
				if g.rights&bit != 0 {
					grants = append(grants, condAlways)
				}
			}
		}
	}
	var covered, allowed []int64
	for _, g := range s.recordGrants[typ] {
		if g.applies(s, a.ID, s.subjOf(n)) {
			covered = append(covered, g.record)
			if g.rights&bit != 0 {
				allowed = append(allowed, g.record)
			}
		}
	}
	grants = append(grants, in(colID, allowed))
	if !typeCovered {
		var defaults CRUD
		for _, gi := range s.defaults {
			if s.memberOf(s.subjOf(n), gi) {
				defs := s.groups[gi].group.Defaults
				c, ok := defs[typ]
				if !ok {
					c = defs[Wildcard]
				}
				defaults |= c
			}
		}
		if defaults&bit != 0 {
			grants = append(grants, not(in(colID, covered)))
		}
	}

	granted := or(role, or(sharing...), or(grants...))

	// Restrictions.
	visible := and(
		or(not(eq(colVisibility, int64(VisibleGroup))), own, in(colGroup, groups)),
		or(not(eq(colVisibility, int64(VisibleAssociate))), own),
	)
	published := condAlways
	if a.Type == External {
		published = or(eq(colPublished, 1), own)
	}
	var okCats []int64
	for id, c := range s.categories {
		if !c.cat.MembersOnly {
			okCats = append(okCats, int64(id))
		} else if direct, g, role := s.inCategory(s.subjOf(n), c); direct || g >= 0 || role {
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
	for id, c := range s.categories {
		if direct, g, role := s.inCategory(s.subjOf(n), c); direct || g >= 0 || role {
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
	owners []int64 // associates (live, or named explicitly) in From
	teams  []int64 // groups that are in From or included in a From group
}

func (s *snapshot) filterCache() *filterCache {
	fc := s.fcache
	fc.once.Do(func() {
		// Count the holders per position, then place them.
		fc.start = make([]int32, len(s.roleByPre)+1)
		for _, n := range s.assocs {
			if n != nil && n.a.Role != 0 {
				if rn := s.roles[n.a.Role]; rn != nil {
					fc.start[rn.pre+1]++
				}
			}
		}
		for p := range s.roleByPre {
			fc.start[p+1] += fc.start[p]
		}
		fc.byPos = make([]int64, fc.start[len(s.roleByPre)])
		next := slices.Clone(fc.start)
		for _, n := range s.assocs {
			if n != nil && n.a.Role != 0 {
				if rn := s.roles[n.a.Role]; rn != nil {
					fc.byPos[next[rn.pre]] = int64(n.a.ID)
					next[rn.pre]++
				}
			}
		}
		fc.rules = make(map[RuleID]ruleOwners, len(s.rules))
		for id, r := range s.rules {
			if r.from.everyone {
				continue
			}
			var o ruleOwners
			for _, x := range r.from.assocs {
				o.owners = append(o.owners, int64(x))
			}
			for _, n := range s.assocs {
				if n != nil && s.holds(&r.from, n.a.ID, s.subjOf(n)) {
					o.owners = append(o.owners, int64(n.a.ID))
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

// Dialect selects the SQL flavour [Filter.SQL] writes.
type Dialect uint8

// The supported SQL dialects.
const (
	_ Dialect = iota
	// PostgreSQL: numbered parameters ($1…) and id lists as bigint[]
	// parameters (col = ANY($n)).
	PostgreSQL
	// SQLite: ? parameters and id lists as JSON array parameters
	// (col IN (SELECT value FROM json_each(?))).
	SQLite
)

// Columns maps record columns to SQL column expressions, such as
// "associate_id" or "c.group_id". An empty name means the table has no such
// column: the filter then takes the column to be 0 (false for Published),
// which is what Can sees for records that leave the field unset.
type Columns struct {
	ID, Owner, Group, Team, Company, Project, Category, Published, Visibility string
}

func (c *Columns) name(col column) string {
	switch col {
	case colID:
		return c.ID
	case colOwner:
		return c.Owner
	case colGroup:
		return c.Group
	case colTeam:
		return c.Team
	case colCompany:
		return c.Company
	case colProject:
		return c.Project
	case colCategory:
		return c.Category
	case colPublished:
		return c.Published
	case colVisibility:
		return c.Visibility
	}
	return ""
}

// ErrColumn marks a column mapping [Filter.SQL] cannot use.
var ErrColumn = errors.New("bad column mapping")

// SQL renders the filter as a WHERE-clause fragment and its arguments, for
// the dialect and the table's column mapping. The fragment's text depends
// on the filter's shape, never on how many ids it carries: id lists travel
// as one array parameter each. Parameters are numbered from firstArg
// (PostgreSQL; use 1 unless the query has earlier ones); SQLite uses ?.
//
// NULL in an ownership column is read as 0 (no owner, no group…), and NULL
// in Published as false, so a row's NULLs never change the answer.
//
// The fragment is fast when the table has B-tree indexes on the owner,
// group and team columns (and category, company, project where they are
// used), so the planner can combine them; see the README's "Listing"
// section.
func (f *Filter) SQL(d Dialect, cols Columns, firstArg int) (string, []any, error) {
	if d != PostgreSQL && d != SQLite {
		return "", nil, fmt.Errorf("access: Filter.SQL: %w: unknown dialect %d", ErrInvalid, d)
	}
	if firstArg < 1 {
		firstArg = 1
	}
	for col := colID; col <= colVisibility; col++ {
		if name := cols.name(col); name != "" && !validIdent(name) {
			return "", nil, fmt.Errorf("access: Filter.SQL: %w: %s column %q is not a plain (optionally qualified, optionally quoted) identifier", ErrColumn, col, name)
		}
	}
	root := f.root
	if root == nil {
		root = condNever
	}
	bound := root.bind(&cols)
	if d == SQLite {
		cols = sqliteQuoted(cols)
	}
	w := sqlWriter{d: d, cols: &cols, next: firstArg}
	w.write(bound)
	return w.b.String(), w.args, nil
}

// sqliteQuoted rewrites double-quoted identifier parts with backticks:
// SQLite reads a double-quoted name that matches no column as a string
// literal, which would silently change what a filter tests, while a
// backquoted name is always an identifier (and a missing one an error).
func sqliteQuoted(c Columns) Columns {
	q := func(name string) string {
		parts := strings.Split(name, ".")
		for i, p := range parts {
			if len(p) >= 2 && p[0] == '"' && p[len(p)-1] == '"' {
				parts[i] = "`" + p[1:len(p)-1] + "`"
			}
		}
		return strings.Join(parts, ".")
	}
	return Columns{ID: q(c.ID), Owner: q(c.Owner), Group: q(c.Group), Team: q(c.Team), Company: q(c.Company),
		Project: q(c.Project), Category: q(c.Category), Published: q(c.Published), Visibility: q(c.Visibility)}
}

// validIdent accepts identifiers like owner_id, c.owner_id and "Owner".
func validIdent(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		if len(part) >= 2 && part[0] == '"' && part[len(part)-1] == '"' {
			if strings.ContainsAny(part[1:len(part)-1], "\"`") {
				return false
			}
			continue
		}
		for i, r := range part {
			ok := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || (i > 0 && r >= '0' && r <= '9')
			if !ok {
				return false
			}
		}
	}
	return true
}

// bind folds away conditions on columns the table does not have, which
// are 0 in every row.
func (c *cond) bind(cols *Columns) *cond {
	switch c.op {
	case condEq, condIn:
		if cols.name(c.col) != "" {
			return c
		}
		if c.match(&Record{}) {
			return condAlways
		}
		return condNever
	case condAnd, condOr:
		kids := make([]*cond, len(c.kids))
		for i, k := range c.kids {
			kids[i] = k.bind(cols)
		}
		return join(c.op, kids)
	case condNot:
		return not(c.kids[0].bind(cols))
	}
	return c
}

type sqlWriter struct {
	d    Dialect
	cols *Columns
	b    strings.Builder
	args []any
	next int
}

func (w *sqlWriter) param(v any) {
	w.args = append(w.args, v)
	if w.d == PostgreSQL {
		w.b.WriteString("$" + strconv.Itoa(w.next))
		w.next++
		return
	}
	w.b.WriteString("?")
}

func (w *sqlWriter) write(c *cond) {
	switch c.op {
	case condFalse:
		w.b.WriteString("FALSE")
	case condTrue:
		w.b.WriteString("TRUE")
	case condEq:
		col := w.cols.name(c.col)
		switch {
		case c.col == colPublished && c.val == 1:
			w.b.WriteString(col + " = TRUE")
		case c.col == colPublished:
			w.b.WriteString("(" + col + " = FALSE OR " + col + " IS NULL)")
		case c.val == 0:
			w.b.WriteString("(" + col + " = 0 OR " + col + " IS NULL)")
		default:
			w.b.WriteString(col + " = ")
			w.param(c.val)
		}
	case condIn:
		col := w.cols.name(c.col)
		zero := c.set[0] <= 0 && slices.Contains(c.set, 0)
		if zero {
			w.b.WriteString("(" + col + " IS NULL OR ")
		}
		if w.d == PostgreSQL {
			w.b.WriteString(col + " = ANY(")
			w.param(slices.Clone(c.set))
			w.b.WriteString(")")
		} else {
			w.b.WriteString(col + " IN (SELECT value FROM json_each(")
			w.param(jsonInts(c.set))
			w.b.WriteString("))")
		}
		if zero {
			w.b.WriteString(")")
		}
	case condNot:
		// IS NOT TRUE, not NOT: NOT NULL is NULL, which would drop the row.
		w.b.WriteString("(")
		w.write(c.kids[0])
		w.b.WriteString(") IS NOT TRUE")
	case condAnd, condOr:
		sep := " AND "
		if c.op == condOr {
			sep = " OR "
		}
		w.b.WriteString("(")
		for i, k := range c.kids {
			if i > 0 {
				w.b.WriteString(sep)
			}
			w.write(k)
		}
		w.b.WriteString(")")
	}
}

func jsonInts(set []int64) string {
	b := make([]byte, 0, 2+len(set)*8)
	b = append(b, '[')
	for i, v := range set {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, v, 10)
	}
	return string(append(b, ']'))
}
