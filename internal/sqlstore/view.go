package sqlstore

import (
	"context"
	"fmt"

	"github.com/crmaccess/access"
)

// View implements [access.View] over one transaction. It remembers what it
// has read, found or not, so it must only be used while nothing else
// writes what the transaction sees: inside a write transaction that holds
// the store's write lock, or in a read-only snapshot.
//
// A View is not safe for concurrent use.
type View struct {
	d       *Dialect
	c       Conn
	m       *Model
	missing map[access.Ref]bool
	names   map[string]access.AssociateID // folded name → id, 0 for none
}

var _ access.View = (*View)(nil)

// NewView returns a view of what c sees.
func NewView(d *Dialect, c Conn) *View {
	return &View{d: d, c: c, m: NewModel(), missing: map[access.Ref]bool{}, names: map[string]access.AssociateID{}}
}

// fetch loads the entities sel names that the view has not seen yet.
func (v *View) fetch(ctx context.Context, sel Selection) error {
	want := Selection{}
	for k, ids := range sel {
		for _, id := range ids {
			ref := access.Ref{Kind: k, ID: id}
			if id > 0 && !v.missing[ref] && !v.m.Has(ref) {
				want[k] = append(want[k], id)
			}
		}
	}
	if len(want) == 0 {
		return nil
	}
	want.dedup()
	m, err := Load(ctx, v.d, v.c, want)
	if err != nil {
		return err
	}
	v.m.merge(m)
	for k, ids := range want {
		for _, id := range ids {
			if ref := (access.Ref{Kind: k, ID: id}); !m.Has(ref) {
				v.missing[ref] = true
			}
		}
	}
	return nil
}

func get[ID ~int64, T any](ctx context.Context, v *View, k access.Kind, id ID, in *set[ID, T]) (T, error) {
	var zero T
	if err := v.fetch(ctx, Selection{k: {int64(id)}}); err != nil {
		return zero, fmt.Errorf("%s: %w", v.d.Name, err)
	}
	p := in.get(id)
	if p == nil {
		return zero, fmt.Errorf("%s: %s %d: %w", v.d.Name, k, id, access.ErrNotFound)
	}
	return *p, nil
}

// Role returns the role with the given id, or an error wrapping
// [access.ErrNotFound].
func (v *View) Role(ctx context.Context, id access.RoleID) (access.Role, error) {
	return get(ctx, v, access.KindRole, id, &v.m.roles)
}

// Group returns the group with the given id, or an error wrapping
// [access.ErrNotFound].
func (v *View) Group(ctx context.Context, id access.GroupID) (access.Group, error) {
	return get(ctx, v, access.KindGroup, id, &v.m.groups)
}

// Associate returns the associate with the given id, or an error wrapping
// [access.ErrNotFound].
func (v *View) Associate(ctx context.Context, id access.AssociateID) (access.Associate, error) {
	return get(ctx, v, access.KindAssociate, id, &v.m.associates)
}

// Category returns the category with the given id, or an error wrapping
// [access.ErrNotFound].
func (v *View) Category(ctx context.Context, id access.CategoryID) (access.Category, error) {
	return get(ctx, v, access.KindCategory, id, &v.m.categories)
}

// Licence returns the licence with the given id, or an error wrapping
// [access.ErrNotFound].
func (v *View) Licence(ctx context.Context, id access.LicenceID) (access.Licence, error) {
	return get(ctx, v, access.KindLicence, id, &v.m.licences)
}

// AssociateByName returns the associate whose name folds to the same
// string as name, or an error wrapping [access.ErrNotFound].
func (v *View) AssociateByName(ctx context.Context, name string) (access.Associate, error) {
	if !access.ValidName(name) {
		// No associate can hold such a name, and the driver might refuse
		// it (PostgreSQL and NUL) or alter it (invalid UTF-8 in JSON).
		return access.Associate{}, fmt.Errorf("%s: associate named %q: %w", v.d.Name, name, access.ErrNotFound)
	}
	f := access.FoldName(name)
	if err := v.fetchNames(ctx, []string{f}); err != nil {
		return access.Associate{}, fmt.Errorf("%s: %w", v.d.Name, err)
	}
	id := v.names[f]
	if id == 0 {
		return access.Associate{}, fmt.Errorf("%s: associate named %q: %w", v.d.Name, name, access.ErrNotFound)
	}
	return v.Associate(ctx, id)
}

// fetchNames looks up the ids of the associates with the given folded
// names, and loads them.
func (v *View) fetchNames(ctx context.Context, folds []string) error {
	var want []string
	for _, f := range folds {
		if _, ok := v.names[f]; !ok {
			want = append(want, f)
			v.names[f] = 0
		}
	}
	if len(want) == 0 {
		return nil
	}
	sel, err := v.lookupNames(ctx, want)
	if err != nil {
		// Forget the lookups, found or not, rather than cache a guess.
		for _, f := range want {
			delete(v.names, f)
		}
		return fmt.Errorf("looking up associate names: %w", err)
	}
	return v.fetch(ctx, sel)
}

func (v *View) lookupNames(ctx context.Context, folds []string) (Selection, error) {
	rows, err := v.c.Query(ctx, "SELECT id, name_fold FROM access_associate WHERE "+v.d.InText("name_fold"), v.d.Texts(folds))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	sel := Selection{}
	for rows.Next() {
		var id int64
		var f string
		if err := rows.Scan(&id, &f); err != nil {
			return nil, err
		}
		v.names[f] = access.AssociateID(id)
		sel.add(access.KindAssociate, id)
	}
	return sel, rows.Err()
}

// PastOwnersIn lists, by id, the past owners whose primary group is g.
func (v *View) PastOwnersIn(ctx context.Context, g access.GroupID) ([]access.PastOwner, error) {
	ids, err := queryIDs(ctx, v.c, "SELECT id FROM access_past_owner WHERE primary_group_id = $1 ORDER BY id", int64(g))
	if err != nil {
		return nil, fmt.Errorf("%s: past owners of group %d: %w", v.d.Name, g, err)
	}
	if err := v.fetch(ctx, Selection{access.KindPastOwner: ids}); err != nil {
		return nil, fmt.Errorf("%s: %w", v.d.Name, err)
	}
	out := make([]access.PastOwner, 0, len(ids))
	for _, id := range ids {
		if p := v.m.pastOwners.get(access.AssociateID(id)); p != nil {
			out = append(out, *p)
		}
	}
	return out, nil
}

// Dependants lists the entities that refer to ref.
func (v *View) Dependants(ctx context.Context, ref access.Ref) ([]access.Ref, error) {
	deps, err := Dependants(ctx, v.c, ref)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", v.d.Name, err)
	}
	return deps, nil
}

// The closures Prefetch follows: from groups down through their member
// groups, from roles and categories up through their parents.
const (
	groupsBelow = "WITH RECURSIVE c(id) AS (%s UNION SELECT m.member_id FROM access_group_member m JOIN c ON m.group_id = c.id) SELECT id FROM c"
	rolesAbove  = "WITH RECURSIVE c(id) AS (%s UNION SELECT r.parent_id FROM access_role r JOIN c ON r.id = c.id WHERE r.parent_id IS NOT NULL) SELECT id FROM c"
	catsAbove   = "WITH RECURSIVE c(id) AS (%s UNION SELECT r.parent_id FROM access_category r JOIN c ON r.id = c.id WHERE r.parent_id IS NOT NULL) SELECT id FROM c"
)

// Prefetch loads, in a few bulk queries, what validating b will look up:
// the entities b refers to, the groups below b's groups (where a cycle
// would show), the roles and categories above b's (likewise), and the
// holders of b's associates' names. Without it a batch of thousands of
// associates would cost thousands of round trips.
func (v *View) Prefetch(ctx context.Context, b *access.Batch) error {
	sel := Selection{}
	var down, roleUp, catUp []int64
	for _, r := range b.Roles {
		roleUp = append(roleUp, int64(r.Parent))
	}
	for _, g := range b.Groups {
		down = append(down, int64s(g.Groups)...)
		sel.add(access.KindRole, int64s(g.Roles)...)
		sel.add(access.KindRole, int64s(g.RolesAndSubordinates)...)
		sel.add(access.KindAssociate, int64s(g.Admins)...)
	}
	folds := make([]string, 0, len(b.Associates))
	for _, a := range b.Associates {
		folds = append(folds, access.FoldName(a.Name))
		sel.add(access.KindGroup, int64(a.PrimaryGroup))
		sel.add(access.KindGroup, int64s(a.Groups)...)
		sel.add(access.KindRole, int64(a.Role))
		sel.add(access.KindCategory, int64s(a.Categories)...)
		sel.add(access.KindLicence, int64s(a.Licences)...)
	}
	principals := func(p *access.Principals) {
		sel.add(access.KindAssociate, int64s(p.Associates)...)
		sel.add(access.KindGroup, int64s(p.Groups)...)
		sel.add(access.KindRole, int64s(p.Roles)...)
		sel.add(access.KindRole, int64s(p.RolesAndSubordinates)...)
	}
	for i := range b.SharingRules {
		principals(&b.SharingRules[i].From)
		principals(&b.SharingRules[i].To)
	}
	for _, g := range b.Grants {
		sel.add(access.KindAssociate, int64(g.Associate))
		sel.add(access.KindGroup, int64(g.Group))
	}
	for _, c := range b.Categories {
		catUp = append(catUp, int64(c.Parent))
		sel.add(access.KindGroup, int64s(c.Groups)...)
		sel.add(access.KindRole, int64s(c.Roles)...)
	}
	for _, m := range b.Impersonations {
		sel.add(access.KindAssociate, int64(m.Actor.Associate), int64(m.Target.Associate))
		sel.add(access.KindGroup, int64(m.Actor.Group), int64(m.Target.Group))
	}
	for _, l := range b.Limits {
		sel.add(access.KindGroup, int64(l.Group))
	}
	for _, c := range [...]struct {
		kind  access.Kind
		query string
		seeds []int64
	}{
		{access.KindGroup, groupsBelow, down},
		{access.KindRole, rolesAbove, roleUp},
		{access.KindCategory, catsAbove, catUp},
	} {
		ids, err := v.closure(ctx, c.query, c.seeds)
		if err != nil {
			return fmt.Errorf("%s: %w", v.d.Name, err)
		}
		sel.add(c.kind, ids...)
	}
	sel.dedup()
	if err := v.fetch(ctx, sel); err != nil {
		return fmt.Errorf("%s: %w", v.d.Name, err)
	}
	if err := v.fetchNames(ctx, folds); err != nil {
		return fmt.Errorf("%s: %w", v.d.Name, err)
	}
	return nil
}

func (v *View) closure(ctx context.Context, query string, seeds []int64) ([]int64, error) {
	var nz []int64
	for _, id := range seeds {
		if id > 0 {
			nz = append(nz, id)
		}
	}
	if len(nz) == 0 {
		return nil, nil
	}
	ids, err := queryIDs(ctx, v.c, fmt.Sprintf(query, v.d.List), v.d.IDs(nz))
	if err != nil {
		return nil, fmt.Errorf("prefetching: %w", err)
	}
	return ids, nil
}
