package access_test

import (
	"cmp"
	"context"
	"errors"
	"iter"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/crmaccess/access"
)

// TestSeq: MembersSeq and WhoCanSeq yield what Members and WhoCan return,
// in the same order, also once an associate added after the snapshot was
// built has an index out of id order.
func TestSeq(t *testing.T) {
	ctx := context.Background()
	b := impOrg()
	// A large id keeps ids from being their own indexes.
	b.Associates = append(b.Associates, access.Associate{ID: 9_000_000, Name: "big", PrimaryGroup: impCustomers, Role: impCustomer, Active: true})
	s, e := xResolver(t, b)
	xApply(t, s, access.Batch{Associates: []access.Associate{
		{ID: 7, Name: "seven", PrimaryGroup: impCustomers, Role: impCustomer, Active: true},
	}})
	rec := access.Record{Type: "order", ID: 1, Owner: impKim}
	for _, g := range []access.GroupID{impSupport, impCustomers, impManagers, impStaff} {
		want, err := e.Members(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		seq, err := e.MembersSeq(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(want, slices.Collect(seq)); diff != "" {
			t.Errorf("MembersSeq(%d) (-Members +MembersSeq):\n%s", g, diff)
		}
	}
	if ms, _ := e.Members(ctx, impCustomers); !slices.Contains(ms, 7) || !slices.Contains(ms, 9_000_000) {
		t.Fatalf("the test does not test what it says: members %v", ms)
	}
	// Associate 7 owns this one, so it comes after 9,000,000 by index.
	sevens := access.Record{Type: "order", ID: 2, Owner: 7}
	for _, act := range []access.Action{access.Read, access.Delete} {
		for _, rec := range []access.Record{rec, sevens} {
			whoCanSeq(t, e, act, rec)
		}
	}
}

// whoCanSeq checks that WhoCanSeq yields what WhoCan returns.
func whoCanSeq(t *testing.T, e *access.Engine, act access.Action, rec access.Record) {
	t.Helper()
	ctx := context.Background()
	want, err := e.WhoCan(ctx, act, rec)
	if err != nil {
		t.Fatal(err)
	}
	seq, err := e.WhoCanSeq(ctx, act, rec)
	if err != nil {
		t.Fatal(err)
	}
	var got []access.Allowed
	for a, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, a)
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("WhoCanSeq(%s, order %d) (-WhoCan +WhoCanSeq):\n%s", act, rec.ID, diff)
	}
}

// TestSeq_errors: the iterators fail before yielding as the lists do, stop
// when the caller stops, and end with the context's error when it ends.
func TestSeq_errors(t *testing.T) {
	ctx := context.Background()
	_, e := xResolver(t, impOrg())
	if _, err := e.MembersSeq(ctx, 999); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("MembersSeq of an unknown group: %v, want ErrNotFound", err)
	}
	if _, err := e.WhoCanSeq(ctx, 0, access.Record{Type: "order"}); !errors.Is(err, access.ErrInvalid) {
		t.Errorf("WhoCanSeq of no action: %v, want ErrInvalid", err)
	}
	rec := access.Record{Type: "order", ID: 1}
	seq, err := e.WhoCanSeq(ctx, access.Read, rec)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range seq {
		n++
		break
	}
	if n != 1 {
		t.Errorf("a loop that breaks at once ran %d times", n)
	}
	cctx, cancel := context.WithCancel(ctx)
	seq, err = e.WhoCanSeq(cctx, access.Read, rec)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	var last error
	for a, err := range seq {
		if err == nil {
			t.Errorf("yielded %d after the context ended", a.Associate)
		}
		last = err
	}
	if !errors.Is(last, context.Canceled) {
		t.Errorf("last error = %v, want context.Canceled", last)
	}
}

// TestPropListings: GroupsSeq, AssociatesSeq and RolesSeq yield exactly
// the stored values with ids above the one given, in id order, also when
// read page by page.
func TestPropListings(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := drawOrg(t, validOrg)
		for i := range b.Groups {
			b.Groups[i].Description = rapid.SampledFrom([]string{"", "Oslo office", "ÅSA's team"}).Draw(t, "description")
		}
		for i := range b.Associates {
			b.Associates[i].Email = rapid.SampledFrom([]string{"", "a@example.com"}).Draw(t, "email")
		}
		s, e := xResolver(t, b)
		// An associate added after the build has an index out of id order.
		late := access.Associate{ID: 1, Name: "late", Type: access.Resource}
		if !slices.ContainsFunc(b.Associates, func(a access.Associate) bool { return a.ID == late.ID }) {
			xApply(t, s, access.Batch{Associates: []access.Associate{late}})
			b.Associates = append(b.Associates, late)
		}
		page := rapid.IntRange(1, 4).Draw(t, "page")
		checkListing(t, "GroupsSeq", b.Groups, func(g access.Group) access.GroupID { return g.ID }, e.GroupsSeq,
			access.GroupID(rapid.Int64Range(-1, 200).Draw(t, "after group")), page)
		checkListing(t, "AssociatesSeq", b.Associates, func(a access.Associate) access.AssociateID { return a.ID }, e.AssociatesSeq,
			access.AssociateID(rapid.Int64Range(-1, 200).Draw(t, "after associate")), page)
		checkListing(t, "RolesSeq", b.Roles, func(r access.Role) access.RoleID { return r.ID }, e.RolesSeq,
			access.RoleID(rapid.Int64Range(-1, 200).Draw(t, "after role")), page)
	})
}

// checkListing compares a listing from after with the reference (the
// values with greater ids, sorted the slow obvious way), and the whole
// listing read in pages of n with the whole reference.
func checkListing[ID cmp.Ordered, T any](t *rapid.T, name string, all []T, id func(T) ID,
	list func(context.Context, ID) (iter.Seq[T], error), after ID, n int) {
	ctx := context.Background()
	var want []T
	for _, v := range all {
		if id(v) > after {
			want = append(want, v)
		}
	}
	slices.SortFunc(want, func(a, b T) int { return cmp.Compare(id(a), id(b)) })
	seq, err := list(ctx, after)
	if err != nil {
		t.Fatalf("%s(%v): %v", name, after, err)
	}
	if diff := gocmp.Diff(want, slices.Collect(seq), cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("%s(%v) (-want +got):\n%s", name, after, diff)
	}
	var paged []T
	var from ID
	for {
		seq, err := list(ctx, from)
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for v := range seq {
			paged, from = append(paged, v), id(v)
			if got++; got == n {
				break
			}
		}
		if got < n {
			break
		}
	}
	want = slices.SortedFunc(slices.Values(all), func(a, b T) int { return cmp.Compare(id(a), id(b)) })
	if diff := gocmp.Diff(want, paged, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("%s in pages of %d (-want +got):\n%s", name, n, diff)
	}
}

// TestListings_snapshotAndCopies: a listing answers from the snapshot
// current when it was asked for, however the store changes while the caller
// ranges over it, and hands out copies.
func TestListings_snapshotAndCopies(t *testing.T) {
	ctx := context.Background()
	s, e := xResolver(t, access.Batch{
		Roles: []access.Role{{ID: 1, Name: "User", Functions: []string{"export"}}},
		Groups: []access.Group{
			{ID: 10, Name: "Oslo", Description: "Oslo office", Fields: map[string]string{"city": "Oslo"}},
			{ID: 20, Name: "Bergen", Description: "Bergen office"},
		},
		Associates: []access.Associate{
			{ID: 1, Name: "anna", PrimaryGroup: 10, Role: 1, Active: true, Email: "anna@example.com", Groups: []access.GroupID{20}},
			{ID: 2, Name: "bo", PrimaryGroup: 20, Role: 1, Active: true},
		},
	})
	groups, err := e.GroupsSeq(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for g := range groups {
		got = append(got, g.Name+": "+g.Description)
		if g.ID == 10 {
			// A write lands and the resolver follows it mid-listing.
			xApply(t, s, access.Batch{Groups: []access.Group{{ID: 20, Name: "Bergen", Description: "renamed"}, {ID: 30, Name: "Trondheim"}}})
			if err := e.Sync(ctx, s.Revision()); err != nil {
				t.Fatal(err)
			}
			g.Fields["city"] = "changed"
		}
	}
	if diff := gocmp.Diff([]string{"Oslo: Oslo office", "Bergen: Bergen office"}, got); diff != "" {
		t.Errorf("GroupsSeq while the store changes (-want +got):\n%s", diff)
	}
	for g := range must(e.GroupsSeq(ctx, 0)) {
		if g.ID == 10 && g.Fields["city"] != "Oslo" {
			t.Errorf("changing a listed group changed the resolver's: city = %q", g.Fields["city"])
		}
	}
	for a := range must(e.AssociatesSeq(ctx, 0)) {
		a.Groups[0] = 99
		break
	}
	for r := range must(e.RolesSeq(ctx, 0)) {
		r.Functions[0] = "changed"
	}
	first := slices.Collect(must(e.AssociatesSeq(ctx, 0)))[0]
	if first.Groups[0] != 20 || first.Email != "anna@example.com" {
		t.Errorf("AssociatesSeq after a caller changed a copy: %+v", first)
	}
	if r := slices.Collect(must(e.RolesSeq(ctx, 0)))[0]; r.Functions[0] != "export" {
		t.Errorf("RolesSeq after a caller changed a copy: %+v", r)
	}
	if n := len(slices.Collect(must(e.GroupsSeq(ctx, 20)))); n != 1 {
		t.Errorf("GroupsSeq(after 20) yields %d groups, want 1 (Trondheim)", n)
	}
	// A listing asked for after the update sees it, and so does one after
	// an associate's address changes (incremental updates carry both).
	xApply(t, s, access.Batch{Associates: []access.Associate{
		{ID: 2, Name: "bo", PrimaryGroup: 20, Role: 1, Active: true, Email: "bo@example.com"},
	}})
	if err := e.Sync(ctx, s.Revision()); err != nil {
		t.Fatal(err)
	}
	if g := slices.Collect(must(e.GroupsSeq(ctx, 10)))[0]; g.Description != "renamed" {
		t.Errorf("group 20 after the update: %+v, want the description renamed", g)
	}
	if a := slices.Collect(must(e.AssociatesSeq(ctx, 1)))[0]; a.Email != "bo@example.com" {
		t.Errorf("associate 2 after the update: %+v, want bo@example.com", a)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestSeqNewEmptyGroup: a group added by an update with nobody in it lists
// nobody — MembersSeq and ValidateEmails once read its missing member list
// as "every associate".
func TestSeqNewEmptyGroup(t *testing.T) {
	ctx := context.Background()
	s, e := xResolver(t, impOrg())
	xApply(t, s, access.Batch{Groups: []access.Group{{ID: 990, Name: "Empty"}}})
	seq, err := e.MembersSeq(ctx, 990)
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Collect(seq); len(got) != 0 {
		t.Errorf("MembersSeq(new empty group) = %v, want nobody", got)
	}
	res, err := e.ValidateEmails(ctx, 990, access.EmailCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 0 {
		t.Errorf("ValidateEmails(new empty group) = %d results, want none", len(res))
	}
}
