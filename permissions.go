package access

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// Allowed is one associate that [Engine.WhoCan] found allowed, with what
// lets it.
type Allowed struct {
	Associate AssociateID
	// Name is the associate's name.
	Name string
	// Rights is the associate's final rights on the record.
	Rights CRUD
	// Relations are the ownership relations that held.
	Relations Relations
	// Because is the first cause that granted the action: a role cell, a
	// sharing rule, a grant, a default permission, or the system bypass,
	// with its role, group and rule names filled in (as [Decision.Causes]
	// fills them).
	Because Cause
	// Text renders Because as a decision's explanation does ("role Sales
	// (1) grants CRU for owner").
	Text string
}

// WhoCan returns every associate allowed to perform the action on the
// record, in id order, each with what lets it. It is exact: it asks the
// same question Can answers, of every associate in the snapshot, spread
// over the available cores. Invalid action or record: an error wrapping
// [ErrInvalid].
func (e *Engine) WhoCan(ctx context.Context, act Action, rec Record) ([]Allowed, error) {
	s, err := e.current()
	if err != nil {
		return nil, err
	}
	if err := e.checkRequest(act, &rec); err != nil {
		return nil, err
	}
	workers := min(runtime.GOMAXPROCS(0), max(1, s.assocs.len()/8192))
	parts := make([][]Allowed, workers)
	var wg sync.WaitGroup
	chunk := (s.assocs.len() + workers - 1) / workers
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, s.assocs.len())
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				n := s.assocs.at(int32(i))
				if n == nil || ctx.Err() != nil {
					continue
				}
				d := Decision{Action: act, Subject: n.a.ID, Record: rec}
				s.decide(&d, e.now)
				if d.Allowed {
					parts[w] = append(parts[w], Allowed{Associate: n.a.ID, Rights: d.Rights, Relations: d.Relations, Because: d.granting()})
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("access: WhoCan: %w", err)
	}
	out := slices.Concat(parts...)
	slices.SortFunc(out, func(a, b Allowed) int { return cmp.Compare(a.Associate, b.Associate) })
	s.nameAllowed(act, rec, out)
	return out, nil
}

// nameAllowed fills in the names and texts of a WhoCan answer, once the
// deciding is done, so that the parallel loop above stays free of the name
// history's lock.
func (s *snapshot) nameAllowed(act Action, rec Record, out []Allowed) {
	v, done := s.names.view(s.rev)
	defer done()
	var b strings.Builder
	for i := range out {
		a := &out[i]
		a.Name = v.assoc(a.Associate)
		d := Decision{Action: act, Subject: a.Associate, Record: rec, Relations: a.Relations, Revision: s.rev}
		b.Reset()
		d.writeCause(&b, v, a.Because)
		a.Text = b.String()
		a.Because = v.named(a.Because)
	}
}

// MarshalJSON renders the answer as a JSON object: associate {"id",
// "name"}, rights (CRUD letters), relations (by name) and because, the
// granting cause in the shape [Decision.MarshalJSON] gives causes (without
// a path).
func (a Allowed) MarshalJSON() ([]byte, error) {
	because := causeFields(a.Because)
	because.Text = a.Text
	out := struct {
		Associate refJSON   `json:"associate"`
		Rights    string    `json:"rights"`
		Relations []string  `json:"relations"`
		Because   causeJSON `json:"because"`
	}{refJSON{int64(a.Associate), a.Name}, a.Rights.String(), relationList(a.Relations), because}
	return json.Marshal(out)
}

// granting returns the first cause that grants the decision's action.
func (d *Decision) granting() Cause {
	bit := d.Action.right()
	for _, p := range d.causes[:d.nCauses] {
		if c := p.unpack(); c.Kind == CauseSystem || (c.Kind != CauseRestriction && c.Kind != CauseNearMiss && c.Kind != CauseLimit && c.Rights&bit != 0) {
			return c
		}
	}
	return Cause{}
}

// Permissions is everything an associate can do: per entity type, its
// role's rights by relation, what sharing rules, grants and group
// defaults add and the limits that cap them, plus its functional rights
// and categories. It is the
// permissions matrix an admin UI shows.
type Permissions struct {
	Associate AssociateID
	// Gate is the gate the associate fails; it then has no permissions.
	Gate Gate
	// System reports a system user, which may do everything.
	System bool
	// Confined reports an external associate, held to its own company and
	// projects: on a record it does not own, of another company and of
	// none of its projects, only the Sharing rules whose To lists it and
	// the Grants to it apply (see [RestrictExternalScope]).
	Confined bool
	Role     RoleRef
	// Types lists, by entity type ("*" first, then in order), what the
	// associate's role and the rules give it.
	Types []TypePermissions
	// Functions are the functional rights from the role and the groups,
	// sorted; none for an external associate (see [Engine.Has]).
	Functions []string
	// Categories are the effective Customer Service categories.
	Categories []CategoryMembership
	// SignIn lists the channels the associate may sign in through, as
	// [Engine.SignIn] decides; an anonymous associate may use the API
	// though it fails a gate.
	SignIn []Channel
}

// TypePermissions is what an associate may do with records of one entity
// type. On a record the associate has the union of Relations' cells for the
// relations that hold (or the fallback's), plus Sharing rules whose owners
// include the record's, plus Grants that cover it, plus Default where no
// grant covers it — capped by the Limits that cover the record, then minus
// the record's restrictions. Of the limits, those with [LimitUnrelated]
// cap only the cells and Default, and only on a record none of the related
// relations holds for (see [Limit]); those with [LimitAll] cap the sum.
// A limit with a RecordID covers that one record only, so Max, which
// counts only whole-type limits, is what the associate keeps at most on
// every record of the type.
type TypePermissions struct {
	EntityType string
	// Relations is the role's grid for the type (its own row, or "*").
	Relations Grid
	// Sharing lists the sharing rules that open records of the type to
	// the associate.
	Sharing []SharingRule
	// Grants lists the grants on the type or on its records to the
	// associate or its groups.
	Grants []Grant
	// Default is what the associate's groups' default permissions give
	// for the type.
	Default CRUD
	// Limits lists the limits on the associate (on one of its groups, or
	// organisation-wide) for the type or "*", whole-type and per-record
	// alike, in id order.
	Limits []Limit
}

// Max returns the most the associate keeps on any record of the type
// under the whole-type [LimitAll] limits in Limits: LevelFull when none
// caps it.
func (tp *TypePermissions) Max() CRUD {
	keep := LevelFull
	for _, l := range tp.Limits {
		if l.RecordID == 0 && l.Scope == LimitAll {
			keep &= l.Max
		}
	}
	return keep
}

// Permissions returns the associate's permissions matrix. Unknown
// associate: an error wrapping [ErrNotFound].
//
// It reads the layers [Engine.Can] applies, in the same order, but for
// every record type at once: the gates first (an associate that fails one,
// or a system user, gets no matrix), then what reaches the associate
// (permissionSources), laid out per type (typePermissions), and last the
// functional rights and categories.
func (e *Engine) Permissions(ctx context.Context, who AssociateID) (Permissions, error) {
	s, err := e.current()
	if err != nil {
		return Permissions{}, err
	}
	_, n := s.assoc(who)
	if n == nil {
		return Permissions{}, fmt.Errorf("access: Permissions: associate %d: %w", who, ErrNotFound)
	}
	p := Permissions{Associate: who, Role: s.roleRef(n.a.Role), Gate: s.gate(n, e.now)}
	for _, ch := range channels {
		if s.signIn(who, ch, e.now).Allowed {
			p.SignIn = append(p.SignIn, ch)
		}
	}
	if p.Gate != GateNone {
		return p, nil
	}
	if n.a.Type == System {
		p.System = true
		return p, nil
	}
	p.Confined = n.a.Type == External
	rn := s.roles[n.a.Role]
	src := s.permissionSources(who, n, rn)
	for _, t := range src.typeOrder() {
		p.Types = append(p.Types, src.typePermissions(rn, t))
	}
	p.Functions = s.functions(n, rn, p.Confined)
	p.Categories = s.effectiveCategories(n)
	return p, nil
}

// permissionSources is what reaches one associate, before it is laid out
// per record type: the sharing rules, grants and group defaults that apply
// to it, and every type its role or those name.
type permissionSources struct {
	types         map[string]bool
	rules         []SharingRule
	grants        []Grant
	limits        []Limit
	defaultGroups []map[string]CRUD // the Defaults of each group it is in
}

// permissionSources collects the sharing rules (by id), grants (by id) and
// group defaults that apply to the associate, whose role is rn (nil: none).
func (s *snapshot) permissionSources(who AssociateID, n *assocNode, rn *roleNode) permissionSources {
	src := permissionSources{types: map[string]bool{}}
	if rn != nil {
		for t := range rn.role.Rights {
			src.types[t] = true
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.policy.rules)) {
		r := s.policy.rules[id]
		if s.holds(&r.to, who, s.subjectOfNode(n)) {
			src.rules = append(src.rules, r.rule.clone())
			src.types[r.rule.EntityType] = true
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.policy.grants)) {
		g := s.policy.grants[id]
		gn := grantNode{assoc: g.Associate, gidx: -1}
		if gi, gg := s.group(g.Group); gg != nil {
			gn.gidx = gi
		}
		if gn.applies(s, who, s.subjectOfNode(n)) {
			src.grants = append(src.grants, g)
			src.types[g.EntityType] = true
		}
	}
	for _, gi := range s.policy.defaults {
		if s.memberOf(s.subjectOfNode(n), gi) {
			defs := s.groups[gi].group.Defaults
			src.defaultGroups = append(src.defaultGroups, defs)
			for t := range defs {
				src.types[t] = true
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.policy.limits)) {
		l := s.policy.limits[id]
		ln := limitNode{group: l.Group, gidx: -1}
		if gi, gg := s.group(l.Group); l.Group != 0 && gg != nil {
			ln.gidx = gi
		}
		if ln.applies(s, s.subjectOfNode(n)) {
			src.limits = append(src.limits, l)
			src.types[l.EntityType] = true
		}
	}
	return src
}

// typeOrder returns the record types the matrix has a row for: Wildcard
// first, then the others in order.
func (src *permissionSources) typeOrder() []string {
	order := slices.Sorted(maps.Keys(src.types))
	if i := slices.Index(order, Wildcard); i > 0 {
		order = slices.Insert(slices.Delete(order, i, i+1), 0, Wildcard)
	}
	return order
}

// typePermissions is the matrix's row for record type t: the role's cells
// (rn nil: none), the rules and grants for t or Wildcard, and the groups'
// defaults.
func (src *permissionSources) typePermissions(rn *roleNode, t string) TypePermissions {
	tp := TypePermissions{EntityType: t}
	if rn != nil {
		if g := rn.rights(t); g != nil {
			tp.Relations = Grid{}
			for r := Owner; r < numRelations; r++ {
				if g[r] != 0 {
					tp.Relations[r] = g[r]
				}
			}
		}
	}
	for _, r := range src.rules {
		if r.EntityType == t || r.EntityType == Wildcard {
			tp.Sharing = append(tp.Sharing, r)
		}
	}
	for _, g := range src.grants {
		if g.EntityType == t || g.EntityType == Wildcard {
			tp.Grants = append(tp.Grants, g)
		}
	}
	for _, l := range src.limits {
		if l.EntityType == t || l.EntityType == Wildcard {
			tp.Limits = append(tp.Limits, l)
		}
	}
	// Each group falls back to its own "*" default, as Can does.
	for _, defs := range src.defaultGroups {
		if c, ok := defs[t]; ok {
			tp.Default |= c
		} else {
			tp.Default |= defs[Wildcard]
		}
	}
	return tp
}

// functions returns the functional rights the associate holds through its
// role rn (nil: none) and its groups, sorted; none when confined (an
// external associate), as [Engine.Has] answers.
func (s *snapshot) functions(n *assocNode, rn *roleNode, confined bool) []string {
	funcs := map[string]bool{}
	if rn != nil && !confined {
		for _, f := range rn.role.Functions {
			funcs[f] = true
		}
	}
	for f, gs := range s.policy.funcGroups {
		for _, g := range gs {
			if !confined && s.memberOf(s.subjectOfNode(n), g) {
				funcs[f] = true
			}
		}
	}
	if n.a.Type != Internal {
		delete(funcs, FuncBackendLogin)
	}
	return slices.Sorted(maps.Keys(funcs))
}

// GroupPermissions is what being an effective member of a group
// contributes: what the group itself grants and what every group that
// includes it grants, each with the group it comes from.
type GroupPermissions struct {
	Group GroupRef
	// Includes are the groups that include this one, nearest first: a
	// member of this group is a member of each.
	Includes []GroupRef
	// Functions maps each functional right to the group granting it.
	Functions map[string]GroupRef
	// Defaults lists default permissions by group.
	Defaults []GroupDefault
	// Grants are the grants to the group or to the groups including it.
	Grants []Grant
	// Sharing are the sharing rules whose subjects include the group's
	// members by group.
	Sharing []SharingRule
	// Categories are the categories the group's members belong to
	// through it (for members with a service login).
	Categories []CategoryRef
	// Limits are the limits on the group or on the groups including it,
	// in id order; organisation-wide limits, which membership does not
	// bring, are left out.
	Limits []Limit
}

// GroupDefault is a group's default permission for one entity type.
type GroupDefault struct {
	Group      GroupRef
	EntityType string
	Rights     CRUD
}

// GroupPermissions returns what membership of group g contributes. Unknown
// group: an error wrapping [ErrNotFound].
func (e *Engine) GroupPermissions(ctx context.Context, g GroupID) (GroupPermissions, error) {
	s, err := e.current()
	if err != nil {
		return GroupPermissions{}, err
	}
	gi, gn := s.group(g)
	if gn == nil {
		return GroupPermissions{}, fmt.Errorf("access: GroupPermissions: group %d: %w", g, ErrNotFound)
	}
	out := GroupPermissions{Group: s.groupRef(gi), Functions: map[string]GroupRef{}}
	up := slices.Clone(gn.up)
	slices.SortStableFunc(up, func(a, b upEdge) int {
		return cmp.Or(cmp.Compare(a.dist, b.dist), cmp.Compare(s.groups[a.g].group.ID, s.groups[b.g].group.ID))
	})
	inUp := map[GroupID]bool{}
	for _, u := range up {
		ref := s.groupRef(u.g)
		inUp[ref.ID] = true
		if u.g != gi {
			out.Includes = append(out.Includes, ref)
		}
		grp := &s.groups[u.g].group
		for _, f := range grp.Functions {
			if _, ok := out.Functions[f]; !ok {
				out.Functions[f] = ref
			}
		}
		for _, t := range slices.Sorted(maps.Keys(grp.Defaults)) {
			out.Defaults = append(out.Defaults, GroupDefault{Group: ref, EntityType: t, Rights: grp.Defaults[t]})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.policy.grants)) {
		if gr := s.policy.grants[id]; gr.Group != 0 && inUp[gr.Group] {
			out.Grants = append(out.Grants, gr)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.policy.rules)) {
		r := s.policy.rules[id]
		if slices.ContainsFunc(r.rule.To.Groups, func(x GroupID) bool { return inUp[x] }) {
			out.Sharing = append(out.Sharing, r.rule.clone())
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.policy.categories)) {
		c := s.policy.categories[id]
		if slices.ContainsFunc(c.cat.Groups, func(x GroupID) bool { return inUp[x] }) {
			out.Categories = append(out.Categories, CategoryRef{c.cat.ID, c.cat.Name})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.policy.limits)) {
		if l := s.policy.limits[id]; l.Group != 0 && inUp[l.Group] {
			out.Limits = append(out.Limits, l)
		}
	}
	return out, nil
}
