// Package storetest is the conformance suite for store adapters, in the
// manner of testing/fstest.TestFS: an adapter is correct when
//
//	storetest.Run(t, func(t *testing.T) storetest.Store { return newEmptyStore(t) })
//
// passes, under the race detector. The suite checks what every adapter
// owes the rest of the library: values come back as they were put, every
// write is validated by [access.Batch.Validate] and is all or nothing,
// revisions count committed batches, [access.Store.Changes] reports
// exactly what changed (or the whole model), watchers hear of writes before
// the write returns, and all of it holds under concurrent use.
//
// The suite compares the store with a naive reference model (a map of
// values by [access.Ref]) and never with another store.
package storetest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/crmaccess/access"
)

// Store is what the suite tests: a store that can be written and read.
type Store interface {
	access.Store
	access.Writer
	access.View
}

// Run runs the suite. newStore must return a new, empty store at revision
// 0 each time it is called; it is called for every subtest and every
// table case (about a hundred times), and may use t for cleanup. A store that also implements [access.Watcher] has its
// watchers tested too.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newStore) })
	t.Run("Copies", func(t *testing.T) { testCopies(t, newStore) })
	t.Run("View", func(t *testing.T) { testView(t, newStore) })
	t.Run("Rejected", func(t *testing.T) { testRejected(t, newStore) })
	t.Run("Accepted", func(t *testing.T) { testAccepted(t, newStore) })
	t.Run("Extremes", func(t *testing.T) { testExtremes(t, newStore) })
	t.Run("OutsideLookups", func(t *testing.T) { testOutsideLookups(t, newStore) })
	t.Run("Revisions", func(t *testing.T) { testRevisions(t, newStore) })
	t.Run("Changes", func(t *testing.T) { testChanges(t, newStore) })
	t.Run("Watch", func(t *testing.T) { testWatch(t, newStore) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, newStore) })
	t.Run("NameRace", func(t *testing.T) { testNameRace(t, newStore) })
	t.Run("CreateOnly", func(t *testing.T) { testCreateOnly(t, newStore) })
	t.Run("ExpectRevision", func(t *testing.T) { testExpectRevision(t, newStore) })
	t.Run("Patches", func(t *testing.T) { testPatches(t, newStore) })
	t.Run("ConcurrentPatches", func(t *testing.T) { testConcurrentPatches(t, newStore) })
	t.Run("PatchProperty", func(t *testing.T) { testPatchProperty(t, newStore) })
	t.Run("PastOwners", func(t *testing.T) { testPastOwners(t, newStore) })
	t.Run("MovePastOwners", func(t *testing.T) { testMovePastOwners(t, newStore) })
}

// t0 is a time with no sub-second part, which every database keeps.
var t0 = time.Date(2025, time.March, 1, 8, 30, 0, 0, time.UTC)

// fixture is a small organisation that uses every kind, every field and
// every kind of reference, so that a round trip through it exercises the
// whole schema:
//
//	roles:   1 Chief ← 2 Sales ← 3 Sales Assistant; 1 ← 4 Support
//	groups:  10 Everyone lists 20 Sales and 30 Support; 40 is smart
//	people:  100 anna (primary 20, secondary 30 and the smart 40), 101 Bob
//	         (primary 30, admin of 20), 102 a room, 103 a partner, 104 an
//	         integration, 105 ÅSA (primary 20), 106 an anonymous guest
//	categories: 500 Support cases ← 501 Billing
//	sharing rules 600, 601; grants 700, 701; impersonations 800, 801
func fixture() access.Batch {
	return access.Batch{
		Roles: []access.Role{
			{ID: 1, Name: "Chief",
				Rights: map[string]access.Grid{
					access.Wildcard: {access.Owner: access.LevelFull, access.Other: access.LevelRead},
					"sale":          {access.Owner: access.LevelFull, access.Subordinate: access.R | access.U},
				},
				Functions: []string{"user-admin", "export-selection"}},
			{ID: 2, Name: "Sales", Parent: 1,
				Rights: map[string]access.Grid{"sale": {access.Owner: access.LevelFull, access.PrimaryGroup: access.LevelRead}}},
			{ID: 3, Name: "Sales Assistant", Parent: 2},
			{ID: 4, Name: "Support", Parent: 1, Functions: []string{"service"}},
		},
		Groups: []access.Group{
			{ID: 10, Name: "Everyone", Description: "Every employee, whatever the team", Groups: []access.GroupID{20, 30},
				Functions: []string{"backend-login"}, Defaults: map[string]access.CRUD{access.Wildcard: access.R}},
			{ID: 20, Name: "Sales", RolesAndSubordinates: []access.RoleID{2}, Admins: []access.AssociateID{101}},
			{ID: 30, Name: "Support", Roles: []access.RoleID{4}, SelfService: true,
				Fields: map[string]string{"region": "north"}},
			{ID: 40, Name: "Sales people", Smart: `attr.dept == "sales"`},
		},
		Associates: []access.Associate{
			{ID: 100, Name: "anna", Type: access.Internal, PrimaryGroup: 20, Groups: []access.GroupID{30, 40},
				Role: 2, Active: true, ValidFrom: t0, Company: 1, Projects: []int64{7, 9},
				Attributes:   map[string]string{"dept": "sales", "city": "Oslo"},
				ServiceLogin: 5, Categories: []access.CategoryID{500}, Email: "anna@example.com",
				Licences: []access.LicenceID{900, 901}},
			{ID: 101, Name: "Bob", Type: access.Internal, PrimaryGroup: 30, Role: 4, Active: true},
			{ID: 102, Name: "Meeting room", Type: access.Resource},
			{ID: 103, Name: "partner", Type: access.External, Role: 3, Company: 55, Projects: []int64{7}},
			{ID: 104, Name: "integration", Type: access.System, Role: 1, Active: true, ValidTo: t0.AddDate(5, 0, 0),
				Licences: []access.LicenceID{901}},
			{ID: 105, Name: "ÅSA", Type: access.Internal, PrimaryGroup: 20, Role: 3, Active: true,
				ValidFrom: t0, ValidTo: t0.AddDate(1, 0, 0)},
			{ID: 106, Name: "guest", Type: access.Anonymous, Role: 3},
		},
		Categories: []access.Category{
			{ID: 500, Name: "Support cases", MembersOnly: true, Groups: []access.GroupID{30}, Roles: []access.RoleID{4}},
			{ID: 501, Name: "Billing", Parent: 500},
		},
		SharingRules: []access.SharingRule{
			{ID: 600, Name: "support reads sales", EntityType: "sale",
				From:   access.Principals{Groups: []access.GroupID{20}},
				To:     access.Principals{Groups: []access.GroupID{30}, Associates: []access.AssociateID{103}},
				Rights: access.R},
			{ID: 601, Name: "public read", EntityType: access.Wildcard,
				From: access.Principals{Everyone: true}, To: access.Principals{Everyone: true, RolesAndSubordinates: []access.RoleID{1}},
				Rights: access.R},
		},
		Grants: []access.Grant{
			{ID: 700, Associate: 101, EntityType: "contact", RecordID: 9, Rights: access.R | access.U},
			{ID: 701, Group: 30, EntityType: access.Wildcard, Rights: access.R},
		},
		Impersonations: []access.Impersonation{
			{ID: 800, Actor: access.Principal{Associate: 101}, Target: access.Principal{Associate: 100}},
			{ID: 801, Actor: access.Principal{Group: 30}, Target: access.Principal{Group: 20}},
		},
		Limits: []access.Limit{
			{ID: 900, Group: 30, EntityType: "sale", Max: access.LevelRead},
			{ID: 901, EntityType: "contact", RecordID: 9, Max: access.LevelNone, Scope: access.LimitUnrelated},
		},
		Licences: []access.Licence{
			{ID: 900, Name: "Sales Premier", Seats: 2, ValidFrom: t0, ValidTo: t0.AddDate(1, 0, 0), For: []access.AssociateType{access.Internal}},
			{ID: 901, Name: "Expander Collaboration", For: []access.AssociateType{access.System, access.Anonymous}},
			{ID: 902, Name: "Unassigned", Seats: 1},
		},
	}
}

// internal returns a minimal valid internal associate.
func internal(id access.AssociateID, name string, primary access.GroupID, role access.RoleID) access.Associate {
	return access.Associate{ID: id, Name: name, Type: access.Internal, PrimaryGroup: primary, Role: role, Active: true}
}

// fixtureAssociate returns a copy of the fixture's associate id.
func fixtureAssociate(id access.AssociateID) access.Associate {
	b := fixture()
	for _, a := range b.Associates {
		if a.ID == id {
			return a
		}
	}
	panic("storetest: no fixture associate " + refString(access.KindAssociate, int64(id)))
}

// fixtureGroup returns a copy of the fixture's group id.
func fixtureGroup(id access.GroupID) access.Group {
	b := fixture()
	for _, g := range b.Groups {
		if g.ID == id {
			return g
		}
	}
	panic("storetest: no fixture group " + refString(access.KindGroup, int64(id)))
}

func refString(k access.Kind, id int64) string { return access.Ref{Kind: k, ID: id}.String() }

func mustApply(t *testing.T, s Store, b access.Batch) access.Revision {
	t.Helper()
	rev, err := s.Apply(context.Background(), b)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return rev
}

func mustChanges(t *testing.T, s Store, since access.Revision) access.Delta {
	t.Helper()
	d, err := s.Changes(context.Background(), since)
	if err != nil {
		t.Fatalf("Changes(%d): %v", since, err)
	}
	return d
}

// checkModel fails the test unless the store holds exactly m at revision
// rev, as Changes(0) tells.
func checkModel(t *testing.T, s Store, rev access.Revision, m model) {
	t.Helper()
	d := mustChanges(t, s, 0)
	if d.To != rev {
		t.Errorf("Changes(0).To = %d, want %d", d.To, rev)
	}
	checkFull(t, "Changes(0)", d, m)
}

// checkFull fails the test unless d holds exactly the model m and deletes
// nothing.
func checkFull(t *testing.T, what string, d access.Delta, m model) {
	t.Helper()
	if !d.Full {
		// A delta from revision 0 need not say it is full, but then it
		// must list the whole model and, at most, deletes.
		d.DeleteRoles, d.DeleteGroups, d.DeleteAssociates = nil, nil, nil
		d.DeleteSharingRules, d.DeleteGrants, d.DeleteCategories, d.DeleteImpersonations = nil, nil, nil, nil
		d.DeleteLimits = nil
		d.DeleteLicences = nil
	}
	if diff := diffBatch(m.batch(), d.Batch); diff != "" {
		t.Errorf("%s: model (-want +got):\n%s", what, diff)
	}
}

// checkNames fails the test unless AssociateByName finds, for each of
// the names of the associates in the batches, the associate of m whose name
// folds to the same string, or fails with ErrNotFound when none does.
func checkNames(t *testing.T, s Store, m model, bs ...access.Batch) {
	t.Helper()
	holders := map[string]access.Associate{}
	for _, v := range m {
		if a, ok := v.(access.Associate); ok {
			holders[access.FoldName(a.Name)] = a
		}
	}
	for _, b := range bs {
		for _, x := range b.Associates {
			got, err := s.AssociateByName(context.Background(), x.Name)
			want, held := holders[access.FoldName(x.Name)]
			switch {
			case !held && !errors.Is(err, access.ErrNotFound):
				t.Errorf("AssociateByName(%q) = associate %d, %v; want an error wrapping ErrNotFound", x.Name, got.ID, err)
			case held && err != nil:
				t.Errorf("AssociateByName(%q): %v; want associate %d", x.Name, err, want.ID)
			case held && got.ID != want.ID:
				t.Errorf("AssociateByName(%q) = associate %d, want %d", x.Name, got.ID, want.ID)
			}
		}
	}
}

// checkDependants fails the test unless Dependants agrees with the model
// m for every entity of m and every entity the batches name.
func checkDependants(t *testing.T, s Store, m model, bs ...access.Batch) {
	t.Helper()
	refs := maps.Clone(m)
	for _, b := range bs {
		puts, dels, _ := split(&b)
		maps.Copy(refs, puts)
		for _, r := range dels {
			refs[r] = nil
		}
	}
	want := m.dependants()
	for _, r := range slices.SortedFunc(maps.Keys(refs), compareRefs) {
		got, err := s.Dependants(context.Background(), r)
		if err != nil {
			t.Errorf("Dependants(%s): %v", r, err)
			continue
		}
		got = slices.SortedFunc(slices.Values(got), compareRefs)
		if diff := gocmp.Diff(want[r], got, opts); diff != "" {
			t.Errorf("Dependants(%s) (-want +got):\n%s", r, diff)
		}
	}
}

// checkErr fails the test unless err wraps want and mentions every string
// in mention.
func checkErr(t *testing.T, err, want error, mention ...string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("error = %v, want one wrapping %q", err, want)
		return
	}
	for _, m := range mention {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
}
