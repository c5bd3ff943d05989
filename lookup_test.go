package access_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// lookupNames are the names random models draw from: some fold to the
// same login ("anna", "ANNA"; "sam", "ſam"), some differ only in case,
// which matters for groups.
var lookupNames = []string{"anna", "ANNA", "bob", "Bob", "sam", "ſam", "kim", "\u212aim", "Team A", "team a", "zoe"}

// TestAssociateByName and GroupsByName answer from the snapshot.
func TestLookupByName(t *testing.T) {
	ctx := context.Background()
	s, e := xResolver(t, impOrg())
	xApply(t, s, access.Batch{Groups: []access.Group{{ID: 50, Name: "Support"}}})
	tests := []struct {
		name   string
		lookup string
		want   access.AssociateID
		groups []access.GroupID
	}{
		{"exact", "kim", impKim, nil},
		{"another case", "KIM", impKim, nil},
		{"group, exact, two bear it", "Support", 0, []access.GroupID{impSupport, 50}},
		{"group names keep their case", "support", 0, nil},
		{"unknown", "nobody", 0, nil},
		{"empty", "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := e.AssociateByName(ctx, tt.lookup)
			if tt.want == 0 {
				if !errors.Is(err, access.ErrNotFound) {
					t.Errorf("AssociateByName(%q) = %d, %v; want ErrNotFound", tt.lookup, a.ID, err)
				}
			} else if err != nil || a.ID != tt.want {
				t.Errorf("AssociateByName(%q) = %d, %v; want %d", tt.lookup, a.ID, err, tt.want)
			}
			gs, err := e.GroupsByName(ctx, tt.lookup)
			if tt.groups == nil {
				if !errors.Is(err, access.ErrNotFound) {
					t.Errorf("GroupsByName(%q) = %v, %v; want ErrNotFound", tt.lookup, gs, err)
				}
			} else if diff := cmp.Diff(tt.groups, gs); err != nil || diff != "" {
				t.Errorf("GroupsByName(%q) error %v (-want +got):\n%s", tt.lookup, err, diff)
			}
		})
	}
	// The answer is a copy.
	gs, _ := e.GroupsByName(ctx, "Support")
	gs[0] = 999
	if again, _ := e.GroupsByName(ctx, "Support"); again[0] != impSupport {
		t.Errorf("changing a result changed the resolver: %v", again)
	}
}

// TestLookupByName_ambiguous: data that break the uniqueness of login
// names (a store that did not validate) make the lookup refuse rather than
// pick one.
func TestLookupByName_ambiguous(t *testing.T) {
	st := &dStore{}
	st.set(access.Batch{Associates: []access.Associate{
		{ID: 1, Name: "anna", Active: true}, {ID: 2, Name: "ANNA", Active: true},
	}})
	e, err := access.NewResolver(context.Background(), st, &access.Options{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if a, err := e.AssociateByName(context.Background(), "Anna"); !errors.Is(err, access.ErrInvalid) {
		t.Errorf("AssociateByName of a shared name = %d, %v; want ErrInvalid", a.ID, err)
	}
}

// TestPropLookupByName: after random writes, applied to the resolver
// incrementally, both lookups equal a scan of the store's contents.
func TestPropLookupByName(t *testing.T) { rapid.Check(t, propLookupByName) }

// TestPropLookupByName_clashingHashes is TestPropLookupByName with a
// login hash so weak that most names share one with another: the index
// must tell them apart by the names themselves.
func TestPropLookupByName_clashingHashes(t *testing.T) {
	defer access.SetLoginHash(func(key string) uint64 { return uint64(len(key) % 3) })()
	rapid.Check(t, propLookupByName)
}

func propLookupByName(t *rapid.T) {
	{
		ctx := context.Background()
		s := memory.New()
		e, err := access.NewResolver(ctx, s, &access.Options{PollInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		id := rapid.Int64Range(1, 8)
		for range rapid.IntRange(1, 12).Draw(t, "writes") {
			var b access.Batch
			for range rapid.IntRange(0, 3).Draw(t, "puts") {
				// Resources, which need neither role nor group.
				b.Associates = append(b.Associates, access.Associate{ID: access.AssociateID(id.Draw(t, "associate")),
					Name: rapid.SampledFrom(lookupNames).Draw(t, "name"), Type: access.Resource, Active: true})
			}
			for range rapid.IntRange(0, 3).Draw(t, "group puts") {
				b.Groups = append(b.Groups, access.Group{ID: access.GroupID(id.Draw(t, "group")),
					Name: rapid.SampledFrom(lookupNames).Draw(t, "group name")})
			}
			for range rapid.IntRange(0, 2).Draw(t, "deletes") {
				b.DeleteAssociates = append(b.DeleteAssociates, access.AssociateID(id.Draw(t, "deleted associate")))
			}
			for range rapid.IntRange(0, 2).Draw(t, "group deletes") {
				b.DeleteGroups = append(b.DeleteGroups, access.GroupID(id.Draw(t, "deleted group")))
			}
			// The store refuses what breaks its rules (a taken name, one id
			// twice); the resolver must follow what it accepts.
			_, _ = s.Apply(ctx, b)
		}
		all, err := s.Changes(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if e.Revision() != all.To {
			t.Fatalf("resolver at revision %d, store at %d", e.Revision(), all.To)
		}
		for _, name := range lookupNames {
			var want access.AssociateID
			for _, a := range all.Associates {
				if access.FoldName(a.Name) == access.FoldName(name) {
					want = a.ID
				}
			}
			a, err := e.AssociateByName(ctx, name)
			switch {
			case want == 0 && !errors.Is(err, access.ErrNotFound):
				t.Errorf("AssociateByName(%q) = %d, %v; want ErrNotFound", name, a.ID, err)
			case want != 0 && (err != nil || a.ID != want || a.Name != nameOf(all.Associates, want)):
				t.Errorf("AssociateByName(%q) = %d %q, %v; want %d", name, a.ID, a.Name, err, want)
			}
			var groups []access.GroupID
			for _, g := range all.Groups {
				if g.Name == name {
					groups = append(groups, g.ID)
				}
			}
			slices.Sort(groups)
			gs, err := e.GroupsByName(ctx, name)
			if groups == nil {
				if !errors.Is(err, access.ErrNotFound) {
					t.Errorf("GroupsByName(%q) = %v, %v; want ErrNotFound", name, gs, err)
				}
			} else if diff := cmp.Diff(groups, gs); err != nil || diff != "" {
				t.Errorf("GroupsByName(%q) error %v (-want +got):\n%s", name, err, diff)
			}
		}
	}
}

func nameOf(as []access.Associate, id access.AssociateID) string {
	for _, a := range as {
		if a.ID == id {
			return a.Name
		}
	}
	return ""
}
