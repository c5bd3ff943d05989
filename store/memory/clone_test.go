package memory

import (
	"reflect"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/intern"
)

// TestCloneAssociates_fields guards cloneAssociates against a field added
// to access.Associate that it would share with the caller: every field
// that holds memory by reference, or a time, must be one it copies.
func TestCloneAssociates_fields(t *testing.T) {
	copied := map[string]bool{"Groups": true, "Projects": true, "Categories": true, "Licences": true,
		"Attributes": true, "ValidFrom": true, "ValidTo": true}
	typ := reflect.TypeFor[access.Associate]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		switch f.Type.Kind() {
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.String:
			if copied[f.Name] {
				t.Errorf("field %s is now a %s", f.Name, f.Type)
			}
		default:
			if !copied[f.Name] {
				t.Errorf("cloneAssociates does not copy field %s (%s)", f.Name, f.Type)
			}
		}
	}
}

// TestCloneAssociates_asClone checks cloneAssociates against
// access.Batch.Clone on random associates: equal values (nil lists nil,
// empty ones empty, times in UTC), and nothing shared with the input.
func TestCloneAssociates_asClone(t *testing.T) {
	oslo := time.FixedZone("Oslo", 3600)
	list := func(t *rapid.T, label string) []int64 {
		switch rapid.IntRange(0, 2).Draw(t, label+" shape") {
		case 0:
			return nil
		case 1:
			return []int64{}
		}
		return rapid.SliceOfN(rapid.Int64Range(1, 9), 1, 4).Draw(t, label)
	}
	conv := func(in []int64) []access.GroupID {
		if in == nil {
			return nil
		}
		out := make([]access.GroupID, len(in))
		for i, v := range in {
			out[i] = access.GroupID(v)
		}
		return out
	}
	rapid.Check(t, func(t *rapid.T) {
		var in []access.Associate
		if rapid.Bool().Draw(t, "any") {
			in = []access.Associate{}
		}
		for i := range rapid.IntRange(0, 6).Draw(t, "n") {
			a := access.Associate{ID: access.AssociateID(i + 1), Name: "a", Groups: conv(list(t, "groups")),
				Projects: list(t, "projects")}
			for _, c := range list(t, "categories") {
				a.Categories = append(a.Categories, access.CategoryID(c))
			}
			if l := list(t, "licences"); l != nil {
				a.Licences = make([]access.LicenceID, 0, len(l))
				for _, x := range l {
					a.Licences = append(a.Licences, access.LicenceID(x))
				}
			}
			if rapid.Bool().Draw(t, "attributes") {
				a.Attributes = map[string]string{"dept": rapid.SampledFrom([]string{"sales", "support"}).Draw(t, "dept")}
			}
			if rapid.Bool().Draw(t, "valid from") {
				a.ValidFrom = time.Date(2026, 1, 2, 3, 4, 5, 0, oslo)
			}
			in = append(in, a)
		}
		want := (&access.Batch{Associates: in}).Clone().Associates
		var attrs intern.Maps
		got := cloneAssociates(in, &attrs)
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Fatalf("(-Clone +cloneAssociates):\n%s", diff)
		}
		for i := range got {
			if got[i].ValidFrom.Location() != time.UTC || got[i].ValidTo.Location() != time.UTC {
				t.Fatalf("associate %d: times not in UTC: %v, %v", i, got[i].ValidFrom, got[i].ValidTo)
			}
		}
		// Change everything the input holds: the copies must not move.
		for i := range in {
			a := &in[i]
			for j := range a.Groups {
				a.Groups[j] = 99
			}
			for j := range a.Projects {
				a.Projects[j] = 99
			}
			for j := range a.Categories {
				a.Categories[j] = 99
			}
			for j := range a.Licences {
				a.Licences[j] = 99
			}
			if a.Attributes != nil {
				a.Attributes["dept"] = "changed"
			}
		}
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Fatalf("a change to the input reached the copies (-before +after):\n%s", diff)
		}
		// Appending to one copy's list must not write into the next's.
		for i := range got {
			if len(got[i].Groups) > 0 {
				_ = append(got[i].Groups, 77)
			}
		}
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Fatalf("an append to one copy reached another (-before +after):\n%s", diff)
		}
	})
}
