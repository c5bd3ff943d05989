package access

// This file is write validation: [Batch.Validate] and the overlay it
// checks a batch through, which answers lookups in the model as the batch
// will leave it. The rules for one value on its own are its noun's (and
// [Batch.Check]'s); the rules here are those against the model: references
// exist, nothing forms a cycle, names stay unique and deletes leave no
// dependants (see refs.go for what refers to what).

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Validate reports the first reason b cannot be applied to the model v
// shows, or nil. Store adapters call it inside the transaction that commits
// b, so that the rules are the same for every store. The errors wrap:
//   - [ErrInvalid]: a bad value, an unknown reference, an id named twice;
//   - [ErrCycle] (as a [*CycleError]): group nesting, the role tree or the
//     category tree would become circular;
//   - [ErrNameTaken]: another associate has the same login name;
//   - [ErrInUse]: a deleted role, group, associate or category is still
//     referred to; the message names the dependants;
//   - whatever error v returns other than [ErrNotFound].
//
// A batch with Patches is validated as [Batch.Patched] makes it, so its
// errors come first. CreateOnly and ExpectRevision are the store's to
// check: v cannot tell.
func (b *Batch) Validate(ctx context.Context, v View) error {
	if err := b.Check(); err != nil {
		return err
	}
	if len(b.Patches) > 0 {
		p, err := b.Patched(ctx, v)
		if err != nil {
			return err
		}
		return p.Validate(ctx, v)
	}
	o, err := newOverlay(b, v)
	if err != nil {
		return err
	}
	if err := o.checkPuts(ctx); err != nil {
		return err
	}
	return o.checkDeletes(ctx)
}

// checkPuts checks each value the batch puts against the model as the
// batch leaves it, kind by kind in the batch's order, and returns the
// first error.
func (o *overlay) checkPuts(ctx context.Context) error {
	b := o.b
	for i := range b.Roles {
		if err := o.checkRole(ctx, &b.Roles[i]); err != nil {
			return err
		}
	}
	for i := range b.Groups {
		if err := o.checkGroup(ctx, &b.Groups[i]); err != nil {
			return err
		}
	}
	for i := range b.Associates {
		if err := o.checkAssociate(ctx, &b.Associates[i]); err != nil {
			return err
		}
	}
	for i := range b.SharingRules {
		if err := o.checkSharingRule(ctx, &b.SharingRules[i]); err != nil {
			return err
		}
	}
	for i := range b.Grants {
		g := &b.Grants[i]
		if err := o.checkPrincipal(ctx, fmt.Sprintf("grant %d", g.ID), Principal{g.Associate, g.Group}); err != nil {
			return err
		}
	}
	for i := range b.Categories {
		if err := o.checkCategory(ctx, &b.Categories[i]); err != nil {
			return err
		}
	}
	for i := range b.Impersonations {
		if err := o.checkImpersonation(ctx, &b.Impersonations[i]); err != nil {
			return err
		}
	}
	for i := range b.Limits {
		if l := &b.Limits[i]; l.Group != 0 {
			if err := o.checkPrincipal(ctx, fmt.Sprintf("limit %d", l.ID), Principal{Group: l.Group}); err != nil {
				return err
			}
		}
	}
	for _, m := range b.MovePastOwners {
		// To becomes a primary group, with an associate's rules for one.
		g, err := o.group(ctx, m.To)
		switch {
		case err != nil:
			return err
		case g == nil:
			return fmt.Errorf("access: %s: %w: group %d does not exist", m, ErrInvalid, m.To)
		case g.IsSmart():
			return fmt.Errorf("access: %s: %w: group %d is a smart group, which cannot be a primary group", m, ErrInvalid, m.To)
		}
	}
	return o.checkSeats(ctx)
}

// checkSeats checks that no licence the batch writes, or assigns to an
// associate it writes, has more holders than seats once the batch is
// applied. Licences are checked in id order, so every store reports the
// same one.
func (o *overlay) checkSeats(ctx context.Context) error {
	touched := map[LicenceID]bool{}
	for _, l := range o.b.Licences {
		touched[l.ID] = true
	}
	for _, a := range o.b.Associates {
		for _, l := range a.Licences {
			touched[l] = true
		}
	}
	for _, id := range slices.Sorted(maps.Keys(touched)) {
		l, err := o.licence(ctx, id)
		if err != nil {
			return err
		}
		if l == nil || l.Seats == 0 {
			continue // a missing licence is checkAssociate's to report
		}
		holders, err := o.dependants(ctx, Ref{KindLicence, int64(id)})
		if err != nil {
			return err
		}
		if len(holders) > l.Seats {
			// Holders exceed the seats, so there are at least two of them;
			// a single seat is the one plural to mind.
			seats := "seats"
			if l.Seats == 1 {
				seats = "seat"
			}
			return fmt.Errorf("access: licence %d (%s): %w: %d holders exceed its %d %s", id, l.Name, ErrInvalid, len(holders), l.Seats, seats)
		}
	}
	return nil
}

// checkSharingRule checks that the principals of both sides exist.
func (o *overlay) checkSharingRule(ctx context.Context, r *SharingRule) error {
	what := fmt.Sprintf("sharing rule %d", r.ID)
	if err := o.checkPrincipals(ctx, what+" from", &r.From); err != nil {
		return err
	}
	return o.checkPrincipals(ctx, what+" to", &r.To)
}

// checkImpersonation checks that actor and target exist and that the
// target is not a system user.
func (o *overlay) checkImpersonation(ctx context.Context, m *Impersonation) error {
	what := fmt.Sprintf("impersonation %d", m.ID)
	if err := o.checkPrincipal(ctx, what+" actor", m.Actor); err != nil {
		return err
	}
	if err := o.checkPrincipal(ctx, what+" target", m.Target); err != nil {
		return err
	}
	if m.Target.Associate != 0 {
		t, err := o.associate(ctx, m.Target.Associate)
		if err != nil {
			return err
		}
		if t.Type == System {
			return fmt.Errorf("access: %s: %w: system user %d cannot be impersonated", what, ErrInvalid, t.ID)
		}
	}
	return nil
}

// checkDeletes checks, in kind and id order, that nothing the batch
// leaves in place still refers to an entity it deletes. Sharing rules,
// grants, impersonation rules and limits have no dependants.
func (o *overlay) checkDeletes(ctx context.Context) error {
	for _, ref := range slices.SortedFunc(maps.Keys(o.deleted), compareRefs) {
		switch ref.Kind {
		case KindRole, KindGroup, KindAssociate, KindCategory, KindLicence:
			if err := o.checkDelete(ctx, ref); err != nil {
				return err
			}
		}
	}
	return nil
}

// overlay answers lookups in the model as it will be once the batch is
// applied: the batch's puts and deletes over the view.
type overlay struct {
	b          *Batch
	v          View
	roles      map[RoleID]*Role
	groups     map[GroupID]*Group
	associates map[AssociateID]*Associate
	categories map[CategoryID]*Category
	licences   map[LicenceID]*Licence
	// put holds the entities the batch puts of the kinds without a map
	// above (see isPut): a bulk load's million associates are in
	// associates alone.
	put     map[Ref]bool
	deleted map[Ref]bool

	// What cycle detection has learnt, shared by the checks of all the
	// batch's roles and groups (see roleOnCycle and groupCycles).
	roleColour map[RoleID]uint8
	groupComp  map[GroupID]int32
	groupKids  map[GroupID][]GroupID

	// byPrimary lists the batch's associates by primary group, built on
	// first use by primaryCandidates.
	byPrimary map[GroupID][]AssociateID
}

// newOverlay indexes what the batch puts and deletes over the view. It
// rejects an id the batch names twice, a delete of an id that cannot
// exist and two associates of the batch with the same login name.
func newOverlay(b *Batch, v View) (*overlay, error) {
	o := &overlay{
		b: b, v: v,
		roles:      make(map[RoleID]*Role, len(b.Roles)),
		groups:     make(map[GroupID]*Group, len(b.Groups)),
		associates: make(map[AssociateID]*Associate, len(b.Associates)),
		categories: make(map[CategoryID]*Category, len(b.Categories)),
		licences:   make(map[LicenceID]*Licence, len(b.Licences)),
		put:        make(map[Ref]bool, len(b.SharingRules)+len(b.Grants)+len(b.Impersonations)+len(b.Limits)),
		deleted:    make(map[Ref]bool),
	}
	if err := o.addPuts(); err != nil {
		return nil, err
	}
	if err := o.addDeletes(); err != nil {
		return nil, err
	}
	return o, nil
}

// addPuts indexes the values the batch puts. Check has vetted every value
// on its own; addPuts looks only for an id named twice and for two
// associates with the same login name.
func (o *overlay) addPuts() error {
	names := make(map[string]AssociateID, len(o.b.Associates))
	return o.b.eachPut(func(r Ref, e any) error {
		// A put whose set does not grow is the second of its id: one map
		// operation a put rather than a lookup and an add (a bulk load
		// puts a million). The overlay is dropped on the error, so the
		// value the second put left in the set does not matter.
		var before, after int
		switch e := e.(type) {
		case *Role:
			before = len(o.roles)
			o.roles[e.ID] = e
			after = len(o.roles)
		case *Group:
			before = len(o.groups)
			o.groups[e.ID] = e
			after = len(o.groups)
		case *Associate:
			before = len(o.associates)
			o.associates[e.ID] = e
			after = len(o.associates)
		case *Category:
			before = len(o.categories)
			o.categories[e.ID] = e
			after = len(o.categories)
		case *Licence:
			before = len(o.licences)
			o.licences[e.ID] = e
			after = len(o.licences)
		default:
			before = len(o.put)
			o.put[r] = true
			after = len(o.put)
		}
		if after == before {
			return fmt.Errorf("access: %w: %s is named twice in one batch", ErrInvalid, r)
		}
		if a, ok := e.(*Associate); ok {
			f := FoldName(a.Name)
			if other, ok := names[f]; ok {
				return fmt.Errorf("access: associate %d: %w: %q is also the name of associate %d in the same batch", a.ID, ErrNameTaken, a.Name, other)
			}
			names[f] = a.ID
		}
		return nil
	})
}

// isPut reports whether the batch puts the entity r.
func (o *overlay) isPut(r Ref) bool {
	switch r.Kind {
	case KindRole:
		return o.roles[RoleID(r.ID)] != nil
	case KindGroup:
		return o.groups[GroupID(r.ID)] != nil
	case KindAssociate:
		return o.associates[AssociateID(r.ID)] != nil
	case KindCategory:
		return o.categories[CategoryID(r.ID)] != nil
	case KindLicence:
		return o.licences[LicenceID(r.ID)] != nil
	}
	return o.put[r]
}

// addDeletes records the ids the batch deletes, rejecting one it also
// puts or deletes twice, and ids that cannot exist.
func (o *overlay) addDeletes() error {
	for _, d := range o.b.deletes() {
		for _, id := range d.ids {
			r := Ref{d.kind, id}
			if o.isPut(r) || o.deleted[r] {
				return fmt.Errorf("access: %w: %s is named twice in one batch", ErrInvalid, r)
			}
			if id <= 0 {
				return fmt.Errorf("access: %w: cannot delete %s: ids are positive", ErrInvalid, r)
			}
			o.deleted[r] = true
		}
	}
	return nil
}

func ids[T ~int64](in []T) []int64 {
	out := make([]int64, len(in))
	for i, v := range in {
		out[i] = int64(v)
	}
	return out
}

// prefix adds the package prefix to errors from the check methods, keeping
// cycle errors (which render their own prefix) as they are.
func prefix(err error) error {
	var ce *CycleError
	if errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf("access: %w", err)
}

// found reports whether err is nil, false for ErrNotFound, and passes other
// errors on.
func found(err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, err
}

// lookup finds id in the batch's puts, then (unless the batch deletes it)
// in the view. It returns nil when the entity will not exist.
func lookup[ID ~int64, T any](ctx context.Context, o *overlay, kind Kind, puts map[ID]*T, id ID,
	get func(context.Context, ID) (T, error)) (*T, error) {
	if v := puts[id]; v != nil {
		return v, nil
	}
	if o.deleted[Ref{kind, int64(id)}] {
		return nil, nil
	}
	v, err := get(ctx, id)
	if ok, err := found(err); !ok {
		return nil, err
	}
	return &v, nil
}

// present is lookup for callers that only ask whether id will exist: it
// does not copy the entity to the heap, which for an associate in many
// groups was an allocation per group on every write.
func present[ID ~int64, T any](ctx context.Context, o *overlay, kind Kind, puts map[ID]*T, id ID,
	get func(context.Context, ID) (T, error)) (bool, error) {
	if puts[id] != nil {
		return true, nil
	}
	if o.deleted[Ref{kind, int64(id)}] {
		return false, nil
	}
	_, err := get(ctx, id)
	return found(err)
}

func (o *overlay) hasRole(ctx context.Context, id RoleID) (bool, error) {
	return present(ctx, o, KindRole, o.roles, id, o.v.Role)
}

func (o *overlay) hasGroup(ctx context.Context, id GroupID) (bool, error) {
	return present(ctx, o, KindGroup, o.groups, id, o.v.Group)
}

func (o *overlay) hasAssociate(ctx context.Context, id AssociateID) (bool, error) {
	return present(ctx, o, KindAssociate, o.associates, id, o.v.Associate)
}

func (o *overlay) hasCategory(ctx context.Context, id CategoryID) (bool, error) {
	return present(ctx, o, KindCategory, o.categories, id, o.v.Category)
}

func (o *overlay) hasLicence(ctx context.Context, id LicenceID) (bool, error) {
	return present(ctx, o, KindLicence, o.licences, id, o.v.Licence)
}

func (o *overlay) role(ctx context.Context, id RoleID) (*Role, error) {
	return lookup(ctx, o, KindRole, o.roles, id, o.v.Role)
}

func (o *overlay) group(ctx context.Context, id GroupID) (*Group, error) {
	return lookup(ctx, o, KindGroup, o.groups, id, o.v.Group)
}

func (o *overlay) associate(ctx context.Context, id AssociateID) (*Associate, error) {
	return lookup(ctx, o, KindAssociate, o.associates, id, o.v.Associate)
}

func (o *overlay) category(ctx context.Context, id CategoryID) (*Category, error) {
	return lookup(ctx, o, KindCategory, o.categories, id, o.v.Category)
}

func (o *overlay) licence(ctx context.Context, id LicenceID) (*Licence, error) {
	return lookup(ctx, o, KindLicence, o.licences, id, o.v.Licence)
}

// exists reports whether every id will exist once the batch is applied, and
// otherwise an ErrInvalid error naming the first missing one.
func exists[ID ~int64](ctx context.Context, what, noun string, ids []ID,
	has func(context.Context, ID) (bool, error)) error {
	return existsNamed(ctx, func() string { return what }, noun, ids, has)
}

// existsNamed is exists naming the entity checked through what, which it
// calls only for the error: a bulk load checks a million associates, and
// formatting each one's name up front was a tenth of its validation.
func existsNamed[ID ~int64](ctx context.Context, what func() string, noun string, ids []ID,
	has func(context.Context, ID) (bool, error)) error {
	for _, id := range ids {
		ok, err := has(ctx, id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("access: %s: %w: %s %d does not exist", what(), ErrInvalid, noun, id)
		}
	}
	return nil
}

func (o *overlay) checkRole(ctx context.Context, r *Role) error {
	if r.Parent == 0 {
		return nil
	}
	p, err := o.role(ctx, r.Parent)
	if err != nil {
		return err
	}
	if p == nil {
		return fmt.Errorf("access: role %d: %w: parent role %d does not exist", r.ID, ErrInvalid, r.Parent)
	}
	cyclic, err := o.roleOnCycle(ctx, r.ID)
	if err != nil || !cyclic {
		return err
	}
	// Name the cycle: r and its ancestors back to r.
	path := []int64{int64(r.ID)}
	for id := r.Parent; ; {
		path = append(path, int64(id))
		if id == r.ID {
			return &CycleError{Kind: KindRole, Path: path}
		}
		p, err := o.role(ctx, id)
		if err != nil || p == nil {
			return err // cannot happen on a cycle found a moment ago
		}
		id = p.Parent
	}
}

// Colours of the walks up the role tree (see roleOnCycle).
const (
	roleUnseen uint8 = iota
	roleOnPath
	roleAcyclic
	roleCyclic
)

// roleOnCycle reports whether role id lies on a parent cycle once the
// batch is applied. Walks up from the batch's roles share what they learn:
// each stops at a role an earlier walk has settled, so validating a chain
// of n roles looks up each role once rather than n²/2 times.
func (o *overlay) roleOnCycle(ctx context.Context, id RoleID) (bool, error) {
	if o.roleColour == nil {
		o.roleColour = map[RoleID]uint8{}
	}
	var path []RoleID
	for x := id; x != 0; {
		switch o.roleColour[x] {
		case roleOnPath:
			// The walk met itself: x and the roles after it form a cycle.
			for i := len(path) - 1; i >= 0; i-- {
				o.roleColour[path[i]] = roleCyclic
				if path[i] == x {
					break
				}
			}
		case roleUnseen:
			o.roleColour[x] = roleOnPath
			path = append(path, x)
			p, err := o.role(ctx, x)
			if err != nil {
				return false, err
			}
			if p != nil {
				x = p.Parent
				continue
			}
		}
		break
	}
	for _, x := range path {
		if o.roleColour[x] == roleOnPath {
			o.roleColour[x] = roleAcyclic
		}
	}
	return o.roleColour[id] == roleCyclic, nil
}

func (o *overlay) checkCategory(ctx context.Context, c *Category) error {
	what := fmt.Sprintf("category %d", c.ID)
	if err := exists(ctx, what, "group", c.Groups, o.hasGroup); err != nil {
		return err
	}
	if err := exists(ctx, what, "role", c.Roles, o.hasRole); err != nil {
		return err
	}
	path := []int64{int64(c.ID)}
	seen := map[CategoryID]bool{c.ID: true}
	for id := c.Parent; id != 0; {
		p, err := o.category(ctx, id)
		if err != nil {
			return err
		}
		if p == nil {
			if id == c.Parent {
				return fmt.Errorf("access: %s: %w: parent category %d does not exist", what, ErrInvalid, id)
			}
			return nil
		}
		path = append(path, int64(id))
		if id == c.ID {
			return &CycleError{Kind: KindCategory, Path: path}
		}
		if seen[id] {
			return nil
		}
		seen[id] = true
		id = p.Parent
	}
	return nil
}

// checkGroup checks a group the batch puts: the groups, roles and admins
// it names exist, its nesting forms no cycle, and a smart group is nobody's
// primary group.
func (o *overlay) checkGroup(ctx context.Context, g *Group) error {
	what := fmt.Sprintf("group %d", g.ID)
	if err := exists(ctx, what, "member group", g.Groups, o.hasGroup); err != nil {
		return err
	}
	if err := exists(ctx, what, "role", slices.Concat(g.Roles, g.RolesAndSubordinates), o.hasRole); err != nil {
		return err
	}
	if err := exists(ctx, what, "admin associate", g.Admins, o.hasAssociate); err != nil {
		return err
	}
	if path, err := o.groupCycle(ctx, g); err != nil {
		return err
	} else if path != nil {
		return &CycleError{Kind: KindGroup, Path: path}
	}
	if g.IsSmart() {
		ids, err := o.primaryCandidates(ctx, g.ID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			a, err := o.associate(ctx, id)
			if err != nil {
				return err
			}
			if a != nil && a.PrimaryGroup == g.ID {
				return fmt.Errorf("access: %s: %w: a smart group cannot be a primary group, and it is associate %d's", what, ErrInvalid, a.ID)
			}
		}
	}
	return nil
}

// groupCycle looks for a path of Groups edges from g back to g and returns
// it as g, c1, …, g (each lists the next), or nil. The first call finds
// every group on a cycle at once (groupCycles); a group on one is then
// traced within its cycle alone.
func (o *overlay) groupCycle(ctx context.Context, g *Group) ([]int64, error) {
	if o.groupComp == nil {
		if o.outsideCycles(ctx, g) {
			return nil, nil
		}
		if err := o.groupCycles(ctx); err != nil {
			return nil, err
		}
	}
	comp, ok := o.groupComp[g.ID]
	if !ok {
		return nil, nil
	}
	// Depth first from g through the groups of its component, children
	// in the order they are listed, without recursion: the first path
	// back to g.
	type frame struct {
		kids []GroupID
		next int
	}
	seen := map[GroupID]bool{}
	path := []int64{int64(g.ID)}
	stack := []frame{{kids: o.groupKids[g.ID]}}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.next == len(f.kids) {
			stack = stack[:len(stack)-1]
			path = path[:len(path)-1]
			continue
		}
		c := f.kids[f.next]
		f.next++
		if c == g.ID {
			return append(path, int64(c)), nil
		}
		if cc, ok := o.groupComp[c]; !ok || cc != comp || seen[c] {
			continue // no way back to g from there, or tried already
		}
		seen[c] = true
		path = append(path, int64(c))
		stack = append(stack, frame{kids: o.groupKids[c]})
	}
	return nil, nil
}

// groupAncestorsMax bounds the includers outsideCycles walks up through
// before it leaves the question to groupCycles.
const groupAncestorsMax = 256

// outsideCycles reports whether g, when it is the one group the batch
// puts, provably lies on no cycle once the batch is applied, by a walk up
// from g rather than down: nesting a group under the top of a large
// hierarchy then costs the few groups above it, not every group below.
// Only g's list changes, so a cycle through g is g, one of the groups it
// lists, and a path back to g that does not pass through g on the way,
// every edge of it one the model lists already (a group the batch deletes
// lists nothing). The walk therefore follows, from g, the groups that
// list each group it reaches (from the view's dependants, each checked
// through the overlay), never through g; g is on a cycle exactly when it
// lists itself or a group the walk reaches. False means "maybe": the
// batch puts other groups, the walk met a group g lists, grew past
// groupAncestorsMax, or the view failed; groupCycles then decides.
func (o *overlay) outsideCycles(ctx context.Context, g *Group) bool {
	if len(o.b.Groups) != 1 || slices.Contains(g.Groups, g.ID) {
		return false
	}
	seen := map[GroupID]bool{g.ID: true}
	queue := []GroupID{g.ID}
	for h := 0; h < len(queue); h++ {
		x := queue[h]
		deps, err := o.v.Dependants(ctx, Ref{KindGroup, int64(x)})
		if err != nil {
			return false
		}
		for _, r := range deps {
			p := GroupID(r.ID)
			if r.Kind != KindGroup || seen[p] {
				continue
			}
			listed, ok, err := o.groupsListed(ctx, p)
			if err != nil {
				return false
			}
			if !ok || !slices.Contains(listed, x) {
				continue
			}
			if slices.Contains(g.Groups, p) || len(queue) == groupAncestorsMax {
				return false
			}
			seen[p] = true
			queue = append(queue, p)
		}
	}
	return true
}

// groupCycles finds the strongly connected components of the Groups
// edges among the groups the batch's groups reach, once the batch is
// applied, in one pass of Tarjan's algorithm without recursion: linear in
// the groups and edges it visits, and no depth of nesting can overflow the
// stack. It records in o.groupComp the component of every group that lies
// on a cycle (a component of more than one group), and in o.groupKids the
// groups each of those lists. A put of a group at the top of a large
// hierarchy visits all of it, so the per-group state is kept in slices by
// visit number, and one map gives the numbers.
func (o *overlay) groupCycles(ctx context.Context) error {
	o.groupComp = map[GroupID]int32{}
	o.groupKids = map[GroupID][]GroupID{}
	index := map[GroupID]int32{} // visit number; -1 for a group that will not exist
	// By visit number: the group's id, what it lists, the lowest visit
	// number it reaches, and whether it is on the stack.
	var (
		ids     []GroupID
		kids    [][]GroupID
		low     []int32
		onStack []bool
		stack   []int32
	)
	type frame struct {
		v    int32
		next int
	}
	var calls []frame
	comps := int32(0)
	visit := func(id GroupID) error {
		listed, ok, err := o.groupsListed(ctx, id)
		if err != nil {
			return err
		}
		if !ok {
			index[id] = -1
			return nil
		}
		v := int32(len(ids))
		index[id] = v
		ids, kids = append(ids, id), append(kids, listed)
		low, onStack = append(low, v), append(onStack, true)
		stack = append(stack, v)
		calls = append(calls, frame{v: v})
		return nil
	}
	for i := range o.b.Groups {
		if _, ok := index[o.b.Groups[i].ID]; ok {
			continue
		}
		if err := visit(o.b.Groups[i].ID); err != nil {
			return err
		}
		for len(calls) > 0 {
			f := &calls[len(calls)-1]
			if ks := kids[f.v]; f.next < len(ks) {
				c := ks[f.next]
				f.next++
				if ci, ok := index[c]; !ok {
					if err := visit(c); err != nil {
						return err
					}
				} else if ci >= 0 && onStack[ci] {
					low[f.v] = min(low[f.v], ci)
				}
				continue
			}
			v := f.v
			calls = calls[:len(calls)-1]
			if len(calls) > 0 {
				p := calls[len(calls)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] != v {
				continue
			}
			k := len(stack) - 1
			for stack[k] != v {
				k--
			}
			for _, m := range stack[k:] {
				onStack[m] = false
				if len(stack)-k > 1 {
					o.groupComp[ids[m]] = comps
					o.groupKids[ids[m]] = kids[m]
				}
			}
			comps++
			stack = stack[:k]
		}
	}
	return nil
}

// groupsListed returns the Groups of group id once the batch is applied,
// and whether it will exist: lookup without copying the group to the heap.
func (o *overlay) groupsListed(ctx context.Context, id GroupID) ([]GroupID, bool, error) {
	if g := o.groups[id]; g != nil {
		return g.Groups, true, nil
	}
	if o.deleted[Ref{KindGroup, int64(id)}] {
		return nil, false, nil
	}
	g, err := o.v.Group(ctx, id)
	if ok, err := found(err); !ok {
		return nil, false, err
	}
	return g.Groups, true, nil
}

// checkAssociate checks an associate the batch puts: its login name is
// free once the batch is applied, and the groups, role and categories it
// names exist, its primary group not a smart one.
func (o *overlay) checkAssociate(ctx context.Context, a *Associate) error {
	what := noun("associate", int64(a.ID))
	other, err := o.v.AssociateByName(ctx, a.Name)
	if ok, err := found(err); err != nil {
		return err
	} else if ok && other.ID != a.ID {
		// The holder keeps the name unless this batch deletes or renames it.
		cur, err := o.associate(ctx, other.ID)
		if err != nil {
			return err
		}
		if cur != nil && FoldName(cur.Name) == FoldName(a.Name) {
			return fmt.Errorf("access: %s: %w: %q is the name of associate %d", what(), ErrNameTaken, a.Name, other.ID)
		}
	}
	if a.PrimaryGroup != 0 {
		g, err := o.group(ctx, a.PrimaryGroup)
		if err != nil {
			return err
		}
		if g == nil {
			return fmt.Errorf("access: %s: %w: primary group %d does not exist", what(), ErrInvalid, a.PrimaryGroup)
		}
		if g.IsSmart() {
			return fmt.Errorf("access: %s: %w: primary group %d is a smart group", what(), ErrInvalid, a.PrimaryGroup)
		}
	}
	if err := existsNamed(ctx, what, "group", a.Groups, o.hasGroup); err != nil {
		return err
	}
	if a.Role != 0 {
		if err := existsNamed(ctx, what, "role", []RoleID{a.Role}, o.hasRole); err != nil {
			return err
		}
	}
	if err := existsNamed(ctx, what, "category", a.Categories, o.hasCategory); err != nil {
		return err
	}
	return existsNamed(ctx, what, "licence", a.Licences, o.hasLicence)
}

func (o *overlay) checkPrincipals(ctx context.Context, what string, p *Principals) error {
	if err := exists(ctx, what, "associate", p.Associates, o.hasAssociate); err != nil {
		return err
	}
	if err := exists(ctx, what, "group", p.Groups, o.hasGroup); err != nil {
		return err
	}
	return exists(ctx, what, "role", slices.Concat(p.Roles, p.RolesAndSubordinates), o.hasRole)
}

func (o *overlay) checkPrincipal(ctx context.Context, what string, p Principal) error {
	if p.Group != 0 {
		return exists(ctx, what, "group", []GroupID{p.Group}, o.hasGroup)
	}
	return exists(ctx, what, "associate", []AssociateID{p.Associate}, o.hasAssociate)
}

// dependants lists what refers to ref once the batch is applied: the
// view's dependants that the batch leaves alone, and the batch's own puts
// that refer to ref.
func (o *overlay) dependants(ctx context.Context, ref Ref) ([]Ref, error) {
	deps, err := o.v.Dependants(ctx, ref)
	if err != nil {
		return nil, err
	}
	var out []Ref
	seen := map[Ref]bool{}
	for _, d := range deps {
		if seen[d] || d == ref || o.deleted[d] || o.isPut(d) {
			continue
		}
		seen[d] = true
		out = append(out, d)
	}
	o.b.eachPut(func(d Ref, e any) error {
		if !seen[d] && d != ref && refersTo(e, ref) {
			seen[d] = true
			out = append(out, d)
		}
		return nil
	})
	slices.SortFunc(out, compareRefs)
	return out, nil
}

// primaryCandidates returns, sorted, the associates that may have group g
// as their primary group once the batch is applied: those the view says
// refer to g, unless the batch puts or deletes them, and those the batch
// puts with g as primary group. The caller checks each one's primary
// group. It is what dependants would list of kind associate, narrowed to
// the ones that can matter, without dependants' walk of every entity the
// batch puts for every smart group it checks.
func (o *overlay) primaryCandidates(ctx context.Context, g GroupID) ([]AssociateID, error) {
	ref := Ref{KindGroup, int64(g)}
	deps, err := o.v.Dependants(ctx, ref)
	if err != nil {
		return nil, err
	}
	var out []AssociateID
	for _, d := range deps {
		if d.Kind == KindAssociate && !o.deleted[d] && !o.isPut(d) {
			out = append(out, AssociateID(d.ID))
		}
	}
	if o.byPrimary == nil {
		o.byPrimary = map[GroupID][]AssociateID{}
		for i := range o.b.Associates {
			a := &o.b.Associates[i]
			o.byPrimary[a.PrimaryGroup] = append(o.byPrimary[a.PrimaryGroup], a.ID)
		}
	}
	out = append(out, o.byPrimary[g]...)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// eachPut calls fn for every entity b puts, kind by kind, with a pointer
// to its value (which [References] reads), and returns the first error fn
// returns.
func (b *Batch) eachPut(fn func(d Ref, e any) error) error {
	for i := range b.Roles {
		if err := fn(Ref{KindRole, int64(b.Roles[i].ID)}, &b.Roles[i]); err != nil {
			return err
		}
	}
	for i := range b.Groups {
		if err := fn(Ref{KindGroup, int64(b.Groups[i].ID)}, &b.Groups[i]); err != nil {
			return err
		}
	}
	for i := range b.Associates {
		if err := fn(Ref{KindAssociate, int64(b.Associates[i].ID)}, &b.Associates[i]); err != nil {
			return err
		}
	}
	for i := range b.SharingRules {
		if err := fn(Ref{KindSharingRule, int64(b.SharingRules[i].ID)}, &b.SharingRules[i]); err != nil {
			return err
		}
	}
	for i := range b.Grants {
		if err := fn(Ref{KindGrant, int64(b.Grants[i].ID)}, &b.Grants[i]); err != nil {
			return err
		}
	}
	for i := range b.Categories {
		if err := fn(Ref{KindCategory, int64(b.Categories[i].ID)}, &b.Categories[i]); err != nil {
			return err
		}
	}
	for i := range b.Impersonations {
		if err := fn(Ref{KindImpersonation, int64(b.Impersonations[i].ID)}, &b.Impersonations[i]); err != nil {
			return err
		}
	}
	for i := range b.Limits {
		if err := fn(Ref{KindLimit, int64(b.Limits[i].ID)}, &b.Limits[i]); err != nil {
			return err
		}
	}
	for i := range b.Licences {
		if err := fn(Ref{KindLicence, int64(b.Licences[i].ID)}, &b.Licences[i]); err != nil {
			return err
		}
	}
	return nil
}

func compareRefs(a, b Ref) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID))
}

func (o *overlay) checkDelete(ctx context.Context, ref Ref) error {
	deps, err := o.dependants(ctx, ref)
	if err != nil || len(deps) == 0 {
		return err
	}
	names := make([]string, 0, min(len(deps), 10))
	for i, d := range deps {
		if i == 10 {
			names = append(names, fmt.Sprintf("and %d more", len(deps)-10))
			break
		}
		names = append(names, d.String())
	}
	return fmt.Errorf("access: cannot delete %s: %w by %s", ref, ErrInUse, strings.Join(names, ", "))
}

// ErrCycle is returned (wrapped in a [*CycleError]) when a write would make
// group nesting or the role tree circular.
var ErrCycle = errors.New("cycle")

// CycleError reports the cycle a write would create. It matches [ErrCycle]
// with errors.Is.
type CycleError struct {
	// Kind is KindGroup for group nesting, KindRole for the role tree.
	Kind Kind
	// Path lists the ids along the cycle; the first and last are the same.
	// For groups, each lists the next in its Groups; for roles, each one's
	// Parent is the next.
	Path []int64
}

// Error renders the cycle, for example "access: group 7 forms a cycle 7→9→12→7".
func (e *CycleError) Error() string {
	ids := make([]string, len(e.Path))
	for i, id := range e.Path {
		ids[i] = strconv.FormatInt(id, 10)
	}
	first := int64(0)
	if len(e.Path) > 0 {
		first = e.Path[0]
	}
	return fmt.Sprintf("access: %s %d forms a cycle %s", e.Kind, first, strings.Join(ids, "→"))
}

// Is makes errors.Is(err, ErrCycle) true.
func (e *CycleError) Is(target error) bool { return target == ErrCycle }

// deletion lists the ids a batch deletes of one kind.
type deletion struct {
	kind Kind
	ids  []int64
}

// deletes lists the batch's deletions by kind, in the order validation
// reports them.
func (b *Batch) deletes() [9]deletion {
	return [...]deletion{
		{KindRole, ids(b.DeleteRoles)},
		{KindGroup, ids(b.DeleteGroups)},
		{KindAssociate, ids(b.DeleteAssociates)},
		{KindSharingRule, ids(b.DeleteSharingRules)},
		{KindGrant, ids(b.DeleteGrants)},
		{KindCategory, ids(b.DeleteCategories)},
		{KindImpersonation, ids(b.DeleteImpersonations)},
		{KindLimit, ids(b.DeleteLimits)},
		{KindLicence, ids(b.DeleteLicences)},
	}
}
