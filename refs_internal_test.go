package access

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// idKinds maps each id type to the kind of entity it names.
var idKinds = map[reflect.Type]Kind{
	reflect.TypeFor[RoleID]():          KindRole,
	reflect.TypeFor[GroupID]():         KindGroup,
	reflect.TypeFor[AssociateID]():     KindAssociate,
	reflect.TypeFor[RuleID]():          KindSharingRule,
	reflect.TypeFor[GrantID]():         KindGrant,
	reflect.TypeFor[CategoryID]():      KindCategory,
	reflect.TypeFor[ImpersonationID](): KindImpersonation,
	reflect.TypeFor[LimitID]():         KindLimit,
	reflect.TypeFor[LicenceID]():       KindLicence,
}

// entityOf returns a new zero entity of kind k.
func entityOf(k Kind) any {
	return [...]any{
		KindRole: &Role{}, KindGroup: &Group{}, KindAssociate: &Associate{},
		KindSharingRule: &SharingRule{}, KindGrant: &Grant{}, KindCategory: &Category{},
		KindImpersonation: &Impersonation{}, KindLimit: &Limit{}, KindLicence: &Licence{},
	}[k]
}

// fillIDs sets every id field of v (an id or a list of ids, in v or in a
// struct nested in it) but its own ID to fresh ids, and records which
// field got which id as "Field→kind".
func fillIDs(v reflect.Value, prefix string, next *int64, got map[int64]string) {
	for i := range v.NumField() {
		f, fv := v.Type().Field(i), v.Field(i)
		name := prefix + f.Name
		if name == "ID" {
			continue
		}
		switch {
		case idKinds[f.Type] != 0:
			*next++
			fv.SetInt(*next)
			got[*next] = name + "→" + idKinds[f.Type].String()
		case f.Type.Kind() == reflect.Slice && idKinds[f.Type.Elem()] != 0:
			for range 2 {
				*next++
				fv.Set(reflect.Append(fv, reflect.ValueOf(*next).Convert(f.Type.Elem())))
				got[*next] = name + "→" + idKinds[f.Type.Elem()].String()
			}
		case f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == v.Type().PkgPath():
			fillIDs(fv, name+".", next, got)
		}
	}
}

// TestRefFieldsCoverEveryIDField checks refFields against the entity
// types: every field that holds ids of another entity is in the table,
// under its own name and target kind, and its accessor reads that field.
// A reference added to an entity type and not to the table fails here.
func TestRefFieldsCoverEveryIDField(t *testing.T) {
	for k := KindRole; k <= KindLicence; k++ {
		t.Run(k.String(), func(t *testing.T) {
			e := entityOf(k)
			fields := map[int64]string{}
			var next int64
			fillIDs(reflect.ValueOf(e).Elem(), "", &next, fields)

			want := map[string]bool{}
			for _, f := range fields {
				want[f] = true
			}
			table := map[string]bool{}
			for _, f := range refFields[k] {
				table[f.name+"→"+f.to.String()] = true
			}
			if diff := cmp.Diff(want, table); diff != "" {
				t.Errorf("refFields[%s] against the id fields of the type (-want +got):\n%s", k, diff)
			}

			// Each id References yields must come from the field the table
			// names for it, with the kind of that field.
			got := map[int64]string{}
			References(e, func(r Ref) bool {
				got[r.ID] = fields[r.ID]
				if name := fields[r.ID]; name == "" || !strings.HasSuffix(name, "→"+r.Kind.String()) {
					t.Errorf("References yields %s, which is no %s field", r, k)
				}
				return true
			})
			if diff := cmp.Diff(fields, got); diff != "" {
				t.Errorf("References(%s) by id (-want +got):\n%s", k, diff)
			}
		})
	}
}

// TestReferencesStops checks that References stops when yield returns
// false, and yields nothing for a value that is not an entity.
func TestReferencesStops(t *testing.T) {
	g := &Group{Groups: []GroupID{1, 2}, Roles: []RoleID{3}, Admins: []AssociateID{4}}
	n := 0
	References(g, func(Ref) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("References called yield %d times after it returned false, want 2 calls", n)
	}
	References(Group{Groups: []GroupID{1}}, func(r Ref) bool {
		t.Errorf("References(Group value) yields %s, want nothing", r)
		return true
	})
	if refersTo(&Role{Parent: 0}, Ref{KindRole, 0}) {
		t.Error("a zero Parent refers to role 0, want no reference")
	}
}

// TestRefFieldsMove checks the setter beside each getter: moving every id
// a field holds to a fresh one leaves References yielding the fresh id
// from exactly that field, and nothing of the old; merging a field into
// an empty entity copies its ids.
func TestRefFieldsMove(t *testing.T) {
	for k := KindRole; k <= KindImpersonation; k++ {
		t.Run(k.String(), func(t *testing.T) {
			e := entityOf(k)
			fields := map[int64]string{}
			var next int64
			fillIDs(reflect.ValueOf(e).Elem(), "", &next, fields)
			for _, f := range refFields[k] {
				var old []int64
				f.refs(e, func(r Ref) bool { old = append(old, r.ID); return true })
				fresh := int64(1000)
				for _, id := range old {
					if !f.move(e, id, fresh) {
						t.Errorf("%s.move(%d → %d) reports no change", f.name, id, fresh)
					}
				}
				if f.move(e, 999, 998) {
					t.Errorf("%s.move of an id it does not hold reports a change", f.name)
				}
				var got []int64
				f.refs(e, func(r Ref) bool { got = append(got, r.ID); return true })
				// A list collapses to one fresh id, a single id is it.
				if diff := cmp.Diff([]int64{fresh}, got); diff != "" {
					t.Errorf("%s after moving every id (-want +got):\n%s", f.name, diff)
				}
				empty := entityOf(k)
				if !f.merge(empty, e) {
					t.Errorf("%s.merge into an empty entity reports no change", f.name)
				}
				got = nil
				f.refs(empty, func(r Ref) bool { got = append(got, r.ID); return true })
				if diff := cmp.Diff([]int64{fresh}, got); diff != "" {
					t.Errorf("%s merged into an empty entity (-want +got):\n%s", f.name, diff)
				}
				if f.merge(empty, e) {
					t.Errorf("%s.merge of what is there already reports a change", f.name)
				}
			}
		})
	}
}
