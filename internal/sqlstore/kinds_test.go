package sqlstore

import (
	"reflect"
	"testing"

	"github.com/crmaccess/access"
	"github.com/google/go-cmp/cmp"
)

// TestRefsMatchReferences checks that the dependant queries of each kind
// cover exactly the references the root package defines
// (access.References): each field once, with its target kind. A reference
// added to the root table and not to a kind's refs (or the other way
// round) fails here.
func TestRefsMatchReferences(t *testing.T) {
	entities := map[access.Kind]any{
		access.KindRole: &access.Role{}, access.KindGroup: &access.Group{},
		access.KindAssociate: &access.Associate{}, access.KindSharingRule: &access.SharingRule{},
		access.KindGrant: &access.Grant{}, access.KindCategory: &access.Category{},
		access.KindImpersonation: &access.Impersonation{}, access.KindLimit: &access.Limit{},
		access.KindLicence: &access.Licence{},
		// A past owner's role and group are no references.
		access.KindPastOwner: &access.PastOwner{},
	}
	if len(kinds) != len(entities) {
		t.Fatalf("sqlstore has %d kinds, want %d", len(kinds), len(entities))
	}
	for _, k := range kinds {
		t.Run(k.kind.String(), func(t *testing.T) {
			// Give every id field a distinct id, and learn from
			// access.References which fields it reads, by id.
			e := entities[k.kind]
			names := map[int64]string{}
			var next int64
			fillIDs(reflect.ValueOf(e).Elem(), "", &next, names)
			want := map[string]int{}
			access.References(e, func(r access.Ref) bool {
				want[names[r.ID]+"→"+r.Kind.String()] = 1
				return true
			})

			got := map[string]int{}
			for _, r := range k.refs {
				for _, f := range r.fields {
					got[f+"→"+r.to.String()]++
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("dependant queries of %s against access.References (-want +got):\n%s", k.kind, diff)
			}
		})
	}
}

// fillIDs sets every field of v that holds an id or a list of ids (in v or
// in a struct of the access package nested in it), but its own ID, to
// fresh ids, and records each id's field name.
func fillIDs(v reflect.Value, prefix string, next *int64, names map[int64]string) {
	for i := range v.NumField() {
		f, fv := v.Type().Field(i), v.Field(i)
		name := prefix + f.Name
		switch {
		case name == "ID":
		case f.Type.Kind() == reflect.Int64 && f.Type.PkgPath() == v.Type().PkgPath():
			*next++
			fv.SetInt(*next)
			names[*next] = name
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Int64:
			*next++
			fv.Set(reflect.Append(fv, reflect.ValueOf(*next).Convert(f.Type.Elem())))
			names[*next] = name
		case f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == v.Type().PkgPath():
			fillIDs(fv, name+".", next, names)
		}
	}
}
