package access_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/crmaccess/access"
)

// TestWhatIfDuringPolicyWritesAndGrowth previews changes while the store
// is written and the resolver follows it, as TestWhatIfDuringWrites does,
// with writes that move the policy bits (a group's defaults toggled: the
// update rebuilds every header) and that add associates past the last
// header chunk and mid, while readers decide against every published
// snapshot (run with -race). Afterwards the resolver's headers must be
// right (CheckHeaders) and it must answer as a resolver built afresh from
// the store does.
func TestWhatIfDuringPolicyWritesAndGrowth(t *testing.T) {
	ctx := context.Background()
	s, e := seedResolver(t)
	const writes, per = 24, 48 // 1152 associates: past one mid of headers
	newID := func(k int) access.AssociateID { return access.AssociateID(1_000_000 + 7*k) }
	var wg sync.WaitGroup
	wg.Go(func() {
		for w := range writes {
			b := access.Batch{Groups: []access.Group{{ID: 900, Name: "g900", Groups: []access.GroupID{10}}}}
			if w%2 == 0 {
				b.Groups[0].Defaults = map[string]access.CRUD{"contact": access.R}
			}
			for k := w * per; k < (w+1)*per; k++ {
				b.Associates = append(b.Associates, access.Associate{ID: newID(k), Name: fmt.Sprint("n", k), Type: access.Internal,
					Active: true, PrimaryGroup: 10, Groups: []access.GroupID{900}, Role: access.RoleID(1 + k%5)})
			}
			if _, err := s.Apply(ctx, b); err != nil {
				t.Error(err)
				return
			}
		}
	})
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for k := 0; ; k = (k + 1) % (writes * per) {
			select {
			case <-stop:
				return
			default:
			}
			for _, id := range []access.AssociateID{101, 102, newID(k)} {
				if _, err := e.EffectiveGroups(ctx, id); err != nil && k == 0 {
					t.Log(err)
				}
				_, _ = e.Has(ctx, id, "export")
			}
		}
	})
	change := access.Batch{
		Groups:     []access.Group{{ID: 901, Name: "g901", Groups: []access.GroupID{10}, Defaults: map[string]access.CRUD{"contact": access.U}}},
		Associates: []access.Associate{{ID: 103, Name: "person3", Type: access.Internal, Active: true, PrimaryGroup: 10, Groups: []access.GroupID{901}, Role: 4}},
	}
	for range 40 {
		if _, err := e.WhatIf(ctx, change); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if err := e.Sync(ctx, s.Revision()); err != nil {
		t.Fatal(err)
	}
	close(stop)
	readers.Wait()
	if err := access.CheckHeaders(e); err != nil {
		t.Fatalf("after previews during writes: %v", err)
	}
	fresh := newResolver(t, s, nil)
	ids := []access.AssociateID{101, 102, 103, 104, 105, 106, 107, 108}
	for k := range writes * per {
		ids = append(ids, newID(k))
	}
	for _, id := range ids {
		got, err1 := e.EffectiveGroups(ctx, id)
		want, err2 := fresh.EffectiveGroups(ctx, id)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("associate %d: errors %v and %v", id, err1, err2)
		}
		gotIDs, wantIDs := groupIDs(got), groupIDs(want)
		if !slices.Equal(gotIDs, wantIDs) {
			t.Fatalf("associate %d: groups %v, a fresh resolver says %v", id, gotIDs, wantIDs)
		}
		p1, _ := e.Permissions(ctx, id)
		p2, _ := fresh.Permissions(ctx, id)
		if fmt.Sprint(p1) != fmt.Sprint(p2) {
			t.Fatalf("associate %d: permissions %v, a fresh resolver says %v", id, p1, p2)
		}
	}
}

func groupIDs(ms []access.Membership) []access.GroupID {
	var out []access.GroupID
	for _, m := range ms {
		out = append(out, m.Group)
	}
	slices.Sort(out)
	return out
}
