package model

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/crmaccess/access"
)

// Change returns the batch that putting the fragment f over the model
// base (what a store holds, as [access.Store.Changes] from revision 0
// gives it) makes: a put of every entity of f that base lacks or holds
// differently. A fragment only puts; what it does not mention stays, so
// the batch deletes nothing.
//
// An entity of f replaces the entity of base with the same id or, when
// it has no id, the one entity of its kind with the same name (associates'
// names compared as login names, [access.FoldName]); any other is new and
// gets the next free id of its kind, in file order. Grants,
// impersonations and limits have no names: without an id they are new.
// Names in f resolve against base with f put over it, so a fragment may
// refer to what it adds or renames.
//
// Only the entities f names are converted and compared, so the cost
// grows with the fragment, not with base (apart from indexing base's
// names once). f is not changed. Errors are [*Error]s placed in f and
// wrap [access.ErrInvalid]; a change the library refuses (a cycle) is
// left for [access.Engine.WhatIf] or the store's Apply to report.
//
// Change with [access.Engine.WhatIf] previews a fragment before it is
// saved: the `access diff --change` command and the debug pages' what-if
// use them together.
func (f *File) Change(base *access.Batch) (access.Batch, error) {
	c := f.clone()
	x := NewIndex(base)
	rules := newTable("sharing rule", false)
	for _, r := range base.SharingRules {
		rules.add(int64(r.ID), r.Name)
	}
	// A new associate must not take a past owner's id: putting it would
	// end the past owner, and the newcomer would own its records.
	var pastTop int64
	for _, p := range base.PastOwners {
		pastTop = max(pastTop, int64(p.ID))
	}
	if err := place(c, "roles", c.Roles, func(v *Role) (*int64, string) { return &v.ID, v.Name }, x.roles, base.Roles, func(v access.Role) int64 { return int64(v.ID) }, 0); err != nil {
		return access.Batch{}, err
	}
	if err := place(c, "groups", c.Groups, func(v *Group) (*int64, string) { return &v.ID, v.Name }, x.groups, base.Groups, func(v access.Group) int64 { return int64(v.ID) }, 0); err != nil {
		return access.Batch{}, err
	}
	if err := place(c, "associates", c.Associates, func(v *Associate) (*int64, string) { return &v.ID, v.Name }, x.assocs, base.Associates, func(v access.Associate) int64 { return int64(v.ID) }, pastTop); err != nil {
		return access.Batch{}, err
	}
	if err := place(c, "sharing rules", c.SharingRules, func(v *SharingRule) (*int64, string) { return &v.ID, v.Name }, rules, base.SharingRules, func(v access.SharingRule) int64 { return int64(v.ID) }, 0); err != nil {
		return access.Batch{}, err
	}
	if err := place(c, "grants", c.Grants, func(v *Grant) (*int64, string) { return &v.ID, "" }, nil, base.Grants, func(v access.Grant) int64 { return int64(v.ID) }, 0); err != nil {
		return access.Batch{}, err
	}
	if err := place(c, "categories", c.Categories, func(v *Category) (*int64, string) { return &v.ID, v.Name }, x.categories, base.Categories, func(v access.Category) int64 { return int64(v.ID) }, 0); err != nil {
		return access.Batch{}, err
	}
	if err := place(c, "impersonations", c.Impersonations, func(v *Impersonation) (*int64, string) { return &v.ID, "" }, nil, base.Impersonations, func(v access.Impersonation) int64 { return int64(v.ID) }, 0); err != nil {
		return access.Batch{}, err
	}
	if err := place(c, "limits", c.Limits, func(v *Limit) (*int64, string) { return &v.ID, "" }, nil, base.Limits, func(v access.Limit) int64 { return int64(v.ID) }, 0); err != nil {
		return access.Batch{}, err
	}
	if err := place(c, "licences", c.Licences, func(v *Licence) (*int64, string) { return &v.ID, v.Name }, x.licences, base.Licences, func(v access.Licence) int64 { return int64(v.ID) }, 0); err != nil {
		return access.Batch{}, err
	}
	for _, v := range c.SharingRules {
		x.rules[access.RuleID(v.ID)] = v.Name
	}

	r := resolver{f: c, x: x}
	var b access.Batch
	for i, v := range c.Roles {
		out := access.Role{ID: access.RoleID(v.ID), Name: v.Name}
		r.role(i, v, &out)
		b.Roles = append(b.Roles, out)
	}
	for i, v := range c.Groups {
		out := access.Group{ID: access.GroupID(v.ID), Name: v.Name}
		r.group(i, v, &out)
		b.Groups = append(b.Groups, out)
	}
	for i, v := range c.Associates {
		out := access.Associate{ID: access.AssociateID(v.ID), Name: v.Name}
		r.associate(i, v, &out)
		b.Associates = append(b.Associates, out)
	}
	for i, v := range c.SharingRules {
		b.SharingRules = append(b.SharingRules, r.sharingRule(i, v))
	}
	for i, v := range c.Grants {
		b.Grants = append(b.Grants, r.grant(i, v))
	}
	for i, v := range c.Categories {
		out := access.Category{ID: access.CategoryID(v.ID), Name: v.Name}
		r.category(i, v, &out)
		b.Categories = append(b.Categories, out)
	}
	for i, v := range c.Impersonations {
		b.Impersonations = append(b.Impersonations, r.impersonation(i, v))
	}
	for i, v := range c.Limits {
		b.Limits = append(b.Limits, r.limit(i, v))
	}
	for i, v := range c.Licences {
		out := access.Licence{ID: access.LicenceID(v.ID), Name: v.Name}
		r.licence(i, v, &out)
		b.Licences = append(b.Licences, out)
	}
	if r.err != nil {
		return access.Batch{}, r.err
	}

	b.Roles = unchanged(b.Roles, base.Roles, func(v access.Role) access.RoleID { return v.ID })
	b.Groups = unchanged(b.Groups, base.Groups, func(v access.Group) access.GroupID { return v.ID })
	b.Associates = unchanged(b.Associates, base.Associates, func(v access.Associate) access.AssociateID { return v.ID })
	b.SharingRules = unchanged(b.SharingRules, base.SharingRules, func(v access.SharingRule) access.RuleID { return v.ID })
	b.Grants = unchanged(b.Grants, base.Grants, func(v access.Grant) access.GrantID { return v.ID })
	b.Categories = unchanged(b.Categories, base.Categories, func(v access.Category) access.CategoryID { return v.ID })
	b.Impersonations = unchanged(b.Impersonations, base.Impersonations, func(v access.Impersonation) access.ImpersonationID { return v.ID })
	b.Limits = unchanged(b.Limits, base.Limits, func(v access.Limit) access.LimitID { return v.ID })
	b.Licences = unchanged(b.Licences, base.Licences, func(v access.Licence) access.LicenceID { return v.ID })
	return b, nil
}

// ChangeParser returns a reader of model-file fragments (YAML or JSON)
// that puts each over the model s holds at the time, with [File.Change]:
// what accessdebug.Options.ParseChange takes, so that the debug pages'
// what-if accepts a fragment of a model file instead of a JSON batch. It
// reads the whole model from s on every call.
func ChangeParser(s access.Store) func(ctx context.Context, text string) (access.Batch, error) {
	return func(ctx context.Context, text string) (access.Batch, error) {
		name := "change.yaml"
		if t := strings.TrimSpace(text); strings.HasPrefix(t, "{") {
			name = "change.json"
		}
		f, err := Parse(name, []byte(text))
		if err != nil {
			return access.Batch{}, err
		}
		d, err := s.Changes(ctx, 0)
		if err != nil {
			return access.Batch{}, err
		}
		return f.Change(&d.Batch)
	}
}

// place gives each entity of one section of a fragment its id in the
// model it goes over: its own, the id of the one entity of base with its
// name (t finds names; nil for a kind without), or the next free id
// above base's, the fragment's and floor. It then records the fragment's names
// in t, so that references resolve against the model after the change.
func place[T, B any](f *File, section string, frag []T, key func(*T) (*int64, string), t *table, base []B, baseID func(B) int64, floor int64) error {
	if len(frag) == 0 {
		return nil
	}
	top := floor
	for _, v := range base {
		top = max(top, baseID(v))
	}
	for i := range frag {
		id, name := key(&frag[i])
		if *id == 0 && t != nil && name != "" {
			if ids := t.byName[t.key(name)]; len(ids) == 1 {
				*id = ids[0]
			}
		}
	}
	if err := assignIDs(f, section, len(frag), func(i int) *int64 { id, _ := key(&frag[i]); return id }, top); err != nil {
		return err
	}
	if t != nil {
		for i := range frag {
			id, name := key(&frag[i])
			t.put(*id, name)
		}
	}
	return nil
}

// put names id name, replacing the name it had.
func (t *table) put(id int64, name string) {
	if old, ok := t.names[id]; ok {
		if old == name {
			return
		}
		k := t.key(old)
		ids := slices.DeleteFunc(slices.Clone(t.byName[k]), func(v int64) bool { return v == id })
		if len(ids) == 0 {
			delete(t.byName, k)
		} else {
			t.byName[k] = ids
		}
	}
	t.add(id, name)
}

// unchanged returns puts without the entities base holds with the same
// value. Only the ids puts names are looked up in base.
func unchanged[T any, ID ~int64](puts, base []T, id func(T) ID) []T {
	if len(puts) == 0 {
		return nil
	}
	want := make(map[ID]int, len(puts))
	for i, v := range puts {
		want[id(v)] = i
	}
	same := make([]bool, len(puts))
	for _, old := range base {
		if i, ok := want[id(old)]; ok {
			same[i] = equal(old, puts[i])
		}
	}
	var out []T
	for i, v := range puts {
		if !same[i] {
			out = append(out, v)
		}
	}
	return out
}

// equal reports whether two entities are the same model, a nil and an
// empty list or map (which a store may hand back for one another)
// counting as equal.
func equal(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	return reflect.DeepEqual(normal(a), normal(b))
}

// normal returns v through JSON with empty lists, maps and nulls left
// out.
func normal(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var x any
	if json.Unmarshal(data, &x) != nil {
		return string(data)
	}
	return dropEmpty(x)
}

func dropEmpty(x any) any {
	switch x := x.(type) {
	case map[string]any:
		for k, v := range x {
			v = dropEmpty(v)
			x[k] = v
			switch v := v.(type) {
			case nil:
				delete(x, k)
			case []any:
				if len(v) == 0 {
					delete(x, k)
				}
			case map[string]any:
				if len(v) == 0 {
					delete(x, k)
				}
			}
		}
	case []any:
		for i := range x {
			x[i] = dropEmpty(x[i])
		}
	}
	return x
}
