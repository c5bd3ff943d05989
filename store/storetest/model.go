package storetest

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/crmaccess/access"
)

// model is the naive reference a store is compared with: every entity by
// its ref. Values are deep copies owned by the model.
type model map[access.Ref]any

// split lists the entities b puts, by ref, and the refs it deletes, in
// batch order. It reports any ref the batch names twice, which no store
// may hand out.
func split(b *access.Batch) (puts model, dels []access.Ref, dups []access.Ref) {
	c := b.Clone()
	puts = make(model)
	put := func(r access.Ref, v any) {
		if _, ok := puts[r]; ok {
			dups = append(dups, r)
		}
		puts[r] = v
	}
	for _, v := range c.Roles {
		put(access.Ref{Kind: access.KindRole, ID: int64(v.ID)}, v)
	}
	for _, v := range c.Groups {
		put(access.Ref{Kind: access.KindGroup, ID: int64(v.ID)}, v)
	}
	for _, v := range c.Associates {
		put(access.Ref{Kind: access.KindAssociate, ID: int64(v.ID)}, v)
	}
	for _, v := range c.SharingRules {
		put(access.Ref{Kind: access.KindSharingRule, ID: int64(v.ID)}, v)
	}
	for _, v := range c.Grants {
		put(access.Ref{Kind: access.KindGrant, ID: int64(v.ID)}, v)
	}
	for _, v := range c.Categories {
		put(access.Ref{Kind: access.KindCategory, ID: int64(v.ID)}, v)
	}
	for _, v := range c.Impersonations {
		put(access.Ref{Kind: access.KindImpersonation, ID: int64(v.ID)}, v)
	}
	for _, v := range c.Limits {
		put(access.Ref{Kind: access.KindLimit, ID: int64(v.ID)}, v)
	}
	for _, v := range c.Licences {
		put(access.Ref{Kind: access.KindLicence, ID: int64(v.ID)}, v)
	}
	seen := make(map[access.Ref]bool)
	del := func(k access.Kind, ids []int64) {
		for _, id := range ids {
			r := access.Ref{Kind: k, ID: id}
			if _, ok := puts[r]; ok || seen[r] {
				dups = append(dups, r)
			}
			seen[r] = true
			dels = append(dels, r)
		}
	}
	del(access.KindRole, int64s(c.DeleteRoles))
	del(access.KindGroup, int64s(c.DeleteGroups))
	del(access.KindAssociate, int64s(c.DeleteAssociates))
	del(access.KindSharingRule, int64s(c.DeleteSharingRules))
	del(access.KindGrant, int64s(c.DeleteGrants))
	del(access.KindCategory, int64s(c.DeleteCategories))
	del(access.KindImpersonation, int64s(c.DeleteImpersonations))
	del(access.KindLimit, int64s(c.DeleteLimits))
	del(access.KindLicence, int64s(c.DeleteLicences))
	return puts, dels, dups
}

func int64s[T ~int64](in []T) []int64 {
	out := make([]int64, len(in))
	for i, v := range in {
		out[i] = int64(v)
	}
	return out
}

// join builds the batch that puts the values of m and deletes dels, every
// list in id order. Values are copied.
func join(m model, dels []access.Ref) access.Batch {
	var b access.Batch
	for _, r := range slices.SortedFunc(maps.Keys(m), compareRefs) {
		switch v := m[r].(type) {
		case access.Role:
			b.Roles = append(b.Roles, v)
		case access.Group:
			b.Groups = append(b.Groups, v)
		case access.Associate:
			b.Associates = append(b.Associates, v)
		case access.SharingRule:
			b.SharingRules = append(b.SharingRules, v)
		case access.Grant:
			b.Grants = append(b.Grants, v)
		case access.Category:
			b.Categories = append(b.Categories, v)
		case access.Impersonation:
			b.Impersonations = append(b.Impersonations, v)
		case access.Limit:
			b.Limits = append(b.Limits, v)
		case access.Licence:
			b.Licences = append(b.Licences, v)
		default:
			panic(fmt.Sprintf("storetest: unexpected %T in model", v))
		}
	}
	for _, r := range slices.SortedFunc(slices.Values(dels), compareRefs) {
		switch r.Kind {
		case access.KindRole:
			b.DeleteRoles = append(b.DeleteRoles, access.RoleID(r.ID))
		case access.KindGroup:
			b.DeleteGroups = append(b.DeleteGroups, access.GroupID(r.ID))
		case access.KindAssociate:
			b.DeleteAssociates = append(b.DeleteAssociates, access.AssociateID(r.ID))
		case access.KindSharingRule:
			b.DeleteSharingRules = append(b.DeleteSharingRules, access.RuleID(r.ID))
		case access.KindGrant:
			b.DeleteGrants = append(b.DeleteGrants, access.GrantID(r.ID))
		case access.KindCategory:
			b.DeleteCategories = append(b.DeleteCategories, access.CategoryID(r.ID))
		case access.KindImpersonation:
			b.DeleteImpersonations = append(b.DeleteImpersonations, access.ImpersonationID(r.ID))
		case access.KindLimit:
			b.DeleteLimits = append(b.DeleteLimits, access.LimitID(r.ID))
		case access.KindLicence:
			b.DeleteLicences = append(b.DeleteLicences, access.LicenceID(r.ID))
		}
	}
	return b.Clone()
}

func compareRefs(a, b access.Ref) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID))
}

// apply returns the model after b, which the caller knows was committed.
func (m model) apply(b access.Batch) model {
	next := maps.Clone(m)
	puts, dels, _ := split(&b)
	maps.Copy(next, puts)
	for _, r := range dels {
		delete(next, r)
	}
	return next
}

// follow returns the model after the delta d.
func (m model) follow(d *access.Delta) model {
	if d.Full {
		puts, _, _ := split(&d.Batch)
		return puts
	}
	return m.apply(d.Batch)
}

// batch returns the whole model as a batch of puts.
func (m model) batch() access.Batch { return join(m, nil) }

// touched lists the refs b puts or deletes.
func touched(b access.Batch) []access.Ref {
	puts, dels, _ := split(&b)
	return append(slices.Collect(maps.Keys(puts)), dels...)
}

// opts compare batches: a store may hand back nil for an empty slice or
// map and the other way round (SQL stores cannot tell them apart), and
// times compare with Equal, so a store may change their location.
var opts = gocmp.Options{cmpopts.EquateEmpty()}

// diffBatch compares two batches as sets, whatever their order. A got that
// names one ref twice is reported too.
func diffBatch(want, got access.Batch) string {
	wp, wd, _ := split(&want)
	gp, gd, dups := split(&got)
	d := gocmp.Diff(join(wp, wd), join(gp, gd), opts)
	if len(dups) > 0 {
		d += fmt.Sprintf("\ngot names %v more than once", dups)
	}
	return d
}

// refersTo lists what the value v refers to, as View.Dependants describes
// it from the other side.
func refersTo(v any) []access.Ref {
	var out []access.Ref
	add := func(k access.Kind, ids ...int64) {
		for _, id := range ids {
			if id != 0 {
				out = append(out, access.Ref{Kind: k, ID: id})
			}
		}
	}
	principals := func(p access.Principals) {
		add(access.KindAssociate, int64s(p.Associates)...)
		add(access.KindGroup, int64s(p.Groups)...)
		add(access.KindRole, int64s(p.Roles)...)
		add(access.KindRole, int64s(p.RolesAndSubordinates)...)
	}
	switch v := v.(type) {
	case access.Role:
		add(access.KindRole, int64(v.Parent))
	case access.Group:
		add(access.KindGroup, int64s(v.Groups)...)
		add(access.KindRole, int64s(v.Roles)...)
		add(access.KindRole, int64s(v.RolesAndSubordinates)...)
		add(access.KindAssociate, int64s(v.Admins)...)
	case access.Associate:
		add(access.KindGroup, int64(v.PrimaryGroup))
		add(access.KindGroup, int64s(v.Groups)...)
		add(access.KindRole, int64(v.Role))
		add(access.KindCategory, int64s(v.Categories)...)
		add(access.KindLicence, int64s(v.Licences)...)
	case access.SharingRule:
		principals(v.From)
		principals(v.To)
	case access.Grant:
		add(access.KindAssociate, int64(v.Associate))
		add(access.KindGroup, int64(v.Group))
	case access.Category:
		add(access.KindCategory, int64(v.Parent))
		add(access.KindGroup, int64s(v.Groups)...)
		add(access.KindRole, int64s(v.Roles)...)
	case access.Impersonation:
		add(access.KindAssociate, int64(v.Actor.Associate), int64(v.Target.Associate))
		add(access.KindGroup, int64(v.Actor.Group), int64(v.Target.Group))
	case access.Limit:
		add(access.KindGroup, int64(v.Group))
	}
	return out
}

// dependants returns, for every entity of m that something refers to, the
// sorted set of the entities that do.
func (m model) dependants() map[access.Ref][]access.Ref {
	deps := map[access.Ref][]access.Ref{}
	for from, v := range m {
		for _, to := range refersTo(v) {
			if !slices.Contains(deps[to], from) {
				deps[to] = append(deps[to], from)
			}
		}
	}
	for _, d := range deps {
		slices.SortFunc(d, compareRefs)
	}
	return deps
}
