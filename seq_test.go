package access_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

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
		if diff := cmp.Diff(want, slices.Collect(seq)); diff != "" {
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
	if diff := cmp.Diff(want, got); diff != "" {
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
