package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Batch is a set of writes that succeed or fail together: puts of roles,
// groups and associates (insert or replace by id) and deletes by id.
//
// A batch is declarative: its order does not matter, and it is validated as
// a whole against the model it is applied to, so a bulk load may put a group
// and the associates that name it in one batch, or delete a group and move
// its members elsewhere in the same batch. Naming one id twice in a batch
// (two puts, or a put and a delete) is invalid.
type Batch struct {
	Roles      []Role
	Groups     []Group
	Associates []Associate

	DeleteRoles      []RoleID
	DeleteGroups     []GroupID
	DeleteAssociates []AssociateID
}

// Empty reports whether the batch writes nothing.
func (b *Batch) Empty() bool {
	return len(b.Roles)+len(b.Groups)+len(b.Associates)+
		len(b.DeleteRoles)+len(b.DeleteGroups)+len(b.DeleteAssociates) == 0
}

// Clone returns a deep copy of the batch.
func (b *Batch) Clone() Batch {
	c := Batch{
		DeleteRoles:      slices.Clone(b.DeleteRoles),
		DeleteGroups:     slices.Clone(b.DeleteGroups),
		DeleteAssociates: slices.Clone(b.DeleteAssociates),
	}
	for _, r := range b.Roles {
		c.Roles = append(c.Roles, r.clone())
	}
	for _, g := range b.Groups {
		c.Groups = append(c.Groups, g.clone())
	}
	for _, a := range b.Associates {
		c.Associates = append(c.Associates, a.clone())
	}
	return c
}

// Validate reports the first reason b cannot be applied to the model v
// shows, or nil. Store adapters call it inside the transaction that commits
// b, so that the rules are the same for every store. The errors wrap:
//   - [ErrInvalid]: a bad value, an unknown reference, an id named twice;
//   - [ErrCycle] (as a [*CycleError]): group nesting or the role tree would
//     become circular;
//   - [ErrNameTaken]: another associate has the same login name;
//   - [ErrInUse]: a deleted role or group is still referred to;
//   - whatever error v returns other than [ErrNotFound].
func (b *Batch) Validate(ctx context.Context, v View) error {
	o, err := newOverlay(b, v)
	if err != nil {
		return err
	}
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
	for _, id := range b.DeleteRoles {
		if err := o.checkDelete(ctx, Ref{KindRole, int64(id)}); err != nil {
			return err
		}
	}
	for _, id := range b.DeleteGroups {
		if err := o.checkDelete(ctx, Ref{KindGroup, int64(id)}); err != nil {
			return err
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
	deleted    map[Ref]bool
}

func newOverlay(b *Batch, v View) (*overlay, error) {
	o := &overlay{
		b: b, v: v,
		roles:      make(map[RoleID]*Role, len(b.Roles)),
		groups:     make(map[GroupID]*Group, len(b.Groups)),
		associates: make(map[AssociateID]*Associate, len(b.Associates)),
		deleted:    make(map[Ref]bool),
	}
	twice := func(r Ref) error {
		return fmt.Errorf("access: %w: %s is named twice in one batch", ErrInvalid, r)
	}
	for i := range b.Roles {
		r := &b.Roles[i]
		if err := r.check(); err != nil {
			return nil, prefix(err)
		}
		if o.roles[r.ID] != nil {
			return nil, twice(Ref{KindRole, int64(r.ID)})
		}
		o.roles[r.ID] = r
	}
	for i := range b.Groups {
		g := &b.Groups[i]
		if err := g.check(); err != nil {
			return nil, prefix(err)
		}
		if o.groups[g.ID] != nil {
			return nil, twice(Ref{KindGroup, int64(g.ID)})
		}
		o.groups[g.ID] = g
	}
	names := make(map[string]AssociateID, len(b.Associates))
	for i := range b.Associates {
		a := &b.Associates[i]
		if err := a.check(); err != nil {
			return nil, prefix(err)
		}
		if o.associates[a.ID] != nil {
			return nil, twice(Ref{KindAssociate, int64(a.ID)})
		}
		o.associates[a.ID] = a
		f := FoldName(a.Name)
		if other, ok := names[f]; ok {
			return nil, fmt.Errorf("access: associate %d: %w: %q is also the name of associate %d in the same batch", a.ID, ErrNameTaken, a.Name, other)
		}
		names[f] = a.ID
	}
	del := func(r Ref, put bool) error {
		if put || o.deleted[r] {
			return twice(r)
		}
		if r.ID <= 0 {
			return fmt.Errorf("access: %w: cannot delete %s: ids are positive", ErrInvalid, r)
		}
		o.deleted[r] = true
		return nil
	}
	for _, id := range b.DeleteRoles {
		if err := del(Ref{KindRole, int64(id)}, o.roles[id] != nil); err != nil {
			return nil, err
		}
	}
	for _, id := range b.DeleteGroups {
		if err := del(Ref{KindGroup, int64(id)}, o.groups[id] != nil); err != nil {
			return nil, err
		}
	}
	for _, id := range b.DeleteAssociates {
		if err := del(Ref{KindAssociate, int64(id)}, o.associates[id] != nil); err != nil {
			return nil, err
		}
	}
	return o, nil
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

func (o *overlay) role(ctx context.Context, id RoleID) (*Role, error) {
	if r := o.roles[id]; r != nil {
		return r, nil
	}
	if o.deleted[Ref{KindRole, int64(id)}] {
		return nil, nil
	}
	r, err := o.v.Role(ctx, id)
	if ok, err := found(err); !ok {
		return nil, err
	}
	return &r, nil
}

func (o *overlay) group(ctx context.Context, id GroupID) (*Group, error) {
	if g := o.groups[id]; g != nil {
		return g, nil
	}
	if o.deleted[Ref{KindGroup, int64(id)}] {
		return nil, nil
	}
	g, err := o.v.Group(ctx, id)
	if ok, err := found(err); !ok {
		return nil, err
	}
	return &g, nil
}

func (o *overlay) associate(ctx context.Context, id AssociateID) (*Associate, error) {
	if a := o.associates[id]; a != nil {
		return a, nil
	}
	if o.deleted[Ref{KindAssociate, int64(id)}] {
		return nil, nil
	}
	a, err := o.v.Associate(ctx, id)
	if ok, err := found(err); !ok {
		return nil, err
	}
	return &a, nil
}

func (o *overlay) checkRole(ctx context.Context, r *Role) error {
	if r.Parent == 0 {
		return nil
	}
	// Walk up from the parent; meeting r again is a cycle. The walk is
	// bounded by the number of distinct roles seen, so a cycle already in
	// the view (which validation never lets in) cannot loop forever.
	path := []int64{int64(r.ID)}
	seen := map[RoleID]bool{r.ID: true}
	for id := r.Parent; id != 0; {
		p, err := o.role(ctx, id)
		if err != nil {
			return err
		}
		if p == nil {
			if id == r.Parent {
				return fmt.Errorf("access: role %d: %w: parent role %d does not exist", r.ID, ErrInvalid, id)
			}
			return nil // a broken chain above is not this write's doing
		}
		path = append(path, int64(id))
		if id == r.ID {
			return &CycleError{Kind: KindRole, Path: path}
		}
		if seen[id] {
			return nil
		}
		seen[id] = true
		id = p.Parent
	}
	return nil
}

func (o *overlay) checkGroup(ctx context.Context, g *Group) error {
	for _, c := range g.Groups {
		cg, err := o.group(ctx, c)
		if err != nil {
			return err
		}
		if cg == nil {
			return fmt.Errorf("access: group %d: %w: member group %d does not exist", g.ID, ErrInvalid, c)
		}
	}
	for _, r := range slices.Concat(g.Roles, g.RolesAndSubordinates) {
		rr, err := o.role(ctx, r)
		if err != nil {
			return err
		}
		if rr == nil {
			return fmt.Errorf("access: group %d: %w: role %d does not exist", g.ID, ErrInvalid, r)
		}
	}
	if path, err := o.groupCycle(ctx, g); err != nil || path != nil {
		if err != nil {
			return err
		}
		return &CycleError{Kind: KindGroup, Path: path}
	}
	if g.IsSmart() {
		deps, err := o.dependants(ctx, Ref{KindGroup, int64(g.ID)})
		if err != nil {
			return err
		}
		for _, d := range deps {
			if d.Kind != KindAssociate {
				continue
			}
			a, err := o.associate(ctx, AssociateID(d.ID))
			if err != nil {
				return err
			}
			if a != nil && a.PrimaryGroup == g.ID {
				return fmt.Errorf("access: group %d: %w: a smart group cannot be a primary group, and it is associate %d's", g.ID, ErrInvalid, a.ID)
			}
		}
	}
	return nil
}

// groupCycle looks for a path of Groups edges from g back to g and returns
// it as g, c1, …, g (each lists the next), or nil.
func (o *overlay) groupCycle(ctx context.Context, g *Group) ([]int64, error) {
	seen := map[GroupID]bool{}
	var path []int64
	var visit func(id GroupID) (bool, error)
	visit = func(id GroupID) (bool, error) {
		cg, err := o.group(ctx, id)
		if err != nil || cg == nil {
			return false, err
		}
		path = append(path, int64(id))
		for _, c := range cg.Groups {
			if c == g.ID {
				path = append(path, int64(c))
				return true, nil
			}
			if seen[c] {
				continue
			}
			seen[c] = true
			if ok, err := visit(c); ok || err != nil {
				return ok, err
			}
		}
		path = path[:len(path)-1]
		return false, nil
	}
	ok, err := visit(g.ID)
	if !ok || err != nil {
		return nil, err
	}
	return path, nil
}

func (o *overlay) checkAssociate(ctx context.Context, a *Associate) error {
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
			return fmt.Errorf("access: associate %d: %w: %q is the name of associate %d", a.ID, ErrNameTaken, a.Name, other.ID)
		}
	}
	if a.PrimaryGroup != 0 {
		g, err := o.group(ctx, a.PrimaryGroup)
		if err != nil {
			return err
		}
		if g == nil {
			return fmt.Errorf("access: associate %d: %w: primary group %d does not exist", a.ID, ErrInvalid, a.PrimaryGroup)
		}
		if g.IsSmart() {
			return fmt.Errorf("access: associate %d: %w: primary group %d is a smart group", a.ID, ErrInvalid, a.PrimaryGroup)
		}
	}
	for _, id := range a.Groups {
		g, err := o.group(ctx, id)
		if err != nil {
			return err
		}
		if g == nil {
			return fmt.Errorf("access: associate %d: %w: group %d does not exist", a.ID, ErrInvalid, id)
		}
	}
	if a.Role != 0 {
		r, err := o.role(ctx, a.Role)
		if err != nil {
			return err
		}
		if r == nil {
			return fmt.Errorf("access: associate %d: %w: role %d does not exist", a.ID, ErrInvalid, a.Role)
		}
	}
	return nil
}

// dependants lists what refers to ref once the batch is applied.
func (o *overlay) dependants(ctx context.Context, ref Ref) ([]Ref, error) {
	deps, err := o.v.Dependants(ctx, ref)
	if err != nil {
		return nil, err
	}
	for _, r := range o.b.Roles {
		deps = append(deps, Ref{KindRole, int64(r.ID)})
	}
	for _, g := range o.b.Groups {
		deps = append(deps, Ref{KindGroup, int64(g.ID)})
	}
	for _, a := range o.b.Associates {
		deps = append(deps, Ref{KindAssociate, int64(a.ID)})
	}
	// Keep those whose state after the batch still refers to ref.
	var out []Ref
	seen := map[Ref]bool{}
	for _, d := range deps {
		if seen[d] || d == ref {
			continue
		}
		seen[d] = true
		refers, err := o.refersTo(ctx, d, ref)
		if err != nil {
			return nil, err
		}
		if refers {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b Ref) int {
		if a.Kind != b.Kind {
			return int(a.Kind) - int(b.Kind)
		}
		return int(a.ID - b.ID)
	})
	return out, nil
}

func (o *overlay) refersTo(ctx context.Context, from, to Ref) (bool, error) {
	switch from.Kind {
	case KindRole:
		r, err := o.role(ctx, RoleID(from.ID))
		if r == nil || err != nil {
			return false, err
		}
		return to.Kind == KindRole && int64(r.Parent) == to.ID, nil
	case KindGroup:
		g, err := o.group(ctx, GroupID(from.ID))
		if g == nil || err != nil {
			return false, err
		}
		switch to.Kind {
		case KindGroup:
			return slices.Contains(g.Groups, GroupID(to.ID)), nil
		case KindRole:
			return slices.Contains(g.Roles, RoleID(to.ID)) || slices.Contains(g.RolesAndSubordinates, RoleID(to.ID)), nil
		}
	case KindAssociate:
		a, err := o.associate(ctx, AssociateID(from.ID))
		if a == nil || err != nil {
			return false, err
		}
		switch to.Kind {
		case KindGroup:
			return int64(a.PrimaryGroup) == to.ID || slices.Contains(a.Groups, GroupID(to.ID)), nil
		case KindRole:
			return int64(a.Role) == to.ID, nil
		}
	}
	return false, nil
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
