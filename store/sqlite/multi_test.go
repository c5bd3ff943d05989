package sqlite

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/crmaccess/access"
)

// revisions collects the revisions a watcher is called with.
type revisions struct {
	mu   sync.Mutex
	seen []access.Revision
	ch   chan struct{}
}

func watch(tb testing.TB, s *Store) *revisions {
	r := &revisions{ch: make(chan struct{}, 1)}
	stop := s.Watch(func(rev access.Revision) {
		r.mu.Lock()
		r.seen = append(r.seen, rev)
		r.mu.Unlock()
		select {
		case r.ch <- struct{}{}:
		default:
		}
	})
	tb.Cleanup(stop)
	return r
}

func (r *revisions) waitFor(tb testing.TB, rev access.Revision, timeout time.Duration) {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		for _, s := range r.seen {
			if s >= rev {
				r.mu.Unlock()
				return
			}
		}
		seen := append([]access.Revision(nil), r.seen...)
		r.mu.Unlock()
		select {
		case <-r.ch:
		case <-deadline:
			tb.Fatalf("watcher not called with revision %d within %v; saw %v", rev, timeout, seen)
		}
	}
}

func TestTwoStoresOnOneFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := newPath(t)
	opts := &Options{PollInterval: 10 * time.Millisecond}
	a, b := open(t, path, opts), open(t, path, opts)
	wa, wb := watch(t, a), watch(t, b)

	r1, err := a.Apply(ctx, sample())
	if err != nil {
		t.Fatal(err)
	}
	wa.waitFor(t, r1, time.Millisecond) // synchronous for own writes
	wb.waitFor(t, r1, 5*time.Second)
	if err := b.PutGroup(ctx, access.Group{ID: 50, Name: "from b"}); err != nil {
		t.Fatal(err)
	}
	wa.waitFor(t, r1+1, 5*time.Second)
	d, err := a.Changes(ctx, r1)
	if err != nil {
		t.Fatal(err)
	}
	if d.Full || d.To != r1+1 || len(d.Groups) != 1 || d.Groups[0].Name != "from b" {
		t.Errorf("a.Changes(%d) = %+v", r1, d)
	}
	if a.Health() != nil || b.Health() != nil {
		t.Errorf("Health = %v, %v", a.Health(), b.Health())
	}
}

// TestCycleRace races two Stores on one file, each adding one edge of a
// two-group cycle: exactly one must fail with ErrCycle, every round.
func TestCycleRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := newPath(t)
	a, b := open(t, path, nil), open(t, path, nil)
	const rounds = 40
	var groups []access.Group
	for i := range rounds {
		groups = append(groups,
			access.Group{ID: access.GroupID(2*i + 1), Name: "x"},
			access.Group{ID: access.GroupID(2*i + 2), Name: "y"})
	}
	if _, err := a.Apply(ctx, access.Batch{Groups: groups}); err != nil {
		t.Fatal(err)
	}
	for i := range rounds {
		x, y := access.GroupID(2*i+1), access.GroupID(2*i+2)
		start := make(chan struct{})
		errs := make([]error, 2)
		var wg sync.WaitGroup
		wg.Go(func() {
			<-start
			errs[0] = a.PutGroup(ctx, access.Group{ID: x, Name: "x", Groups: []access.GroupID{y}})
		})
		wg.Go(func() {
			<-start
			errs[1] = b.PutGroup(ctx, access.Group{ID: y, Name: "y", Groups: []access.GroupID{x}})
		})
		close(start)
		wg.Wait()
		oks, cycles := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				oks++
			case errors.Is(err, access.ErrCycle):
				cycles++
			default:
				t.Fatalf("round %d: unexpected error %v", i, err)
			}
		}
		if oks != 1 || cycles != 1 {
			t.Fatalf("round %d: %v; want one success and one ErrCycle", i, errs)
		}
	}
}

func checkEmpty(t *testing.T, s *Store) {
	t.Helper()
	d, err := s.Changes(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.To != 0 || !d.Empty() {
		t.Errorf("store at revision %d, empty %v; want an empty store at 0", d.To, d.Empty())
	}
}

func TestApplyTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, path := range []string{":memory:", newPath(t)} {
		s := open(t, path, nil)
		w := watch(t, s)
		if _, err := s.DB().Exec("CREATE TABLE app_note (associate integer, note text)"); err != nil {
			t.Fatal(err)
		}
		notes := func() (n int) {
			if err := s.DB().QueryRow("SELECT count(*) FROM app_note").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for _, commit := range []bool{false, true} {
			tx, err := s.DB().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			rev, err := s.ApplyTx(ctx, tx, sample())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec("INSERT INTO app_note VALUES (100, 'hello')"); err != nil {
				t.Fatal(err)
			}
			if !commit {
				if err := tx.Rollback(); err != nil {
					t.Fatal(err)
				}
				checkEmpty(t, s)
				if n := notes(); n != 0 {
					t.Errorf("%s: %d notes after rollback", path, n)
				}
				continue
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			s.Notify(rev)
			w.waitFor(t, rev, time.Millisecond)
			if n := notes(); n != 1 || rev != 1 {
				t.Errorf("%s: %d notes and revision %d after commit; want 1 and 1", path, n, rev)
			}
			if _, err := s.AssociateByName(ctx, "anna"); err != nil {
				t.Error(err)
			}
		}
	}
}

// TestForeignKeysDeferred replaces entities others refer to, which the
// store does by deleting and inserting their rows: the deferred keys must
// accept that, and still refuse a dangling reference at commit.
func TestForeignKeysDeferred(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := newPath(t)
	s := open(t, path, nil)
	if _, err := s.Apply(ctx, sample()); err != nil {
		t.Fatal(err)
	}
	b := sample()
	b.Roles[0].Name, b.Groups[0].Name, b.Associates[0].Name = "Boss 2", "Team A 2", "Anna 2"
	if _, err := s.Apply(ctx, access.Batch{Roles: b.Roles[:1], Groups: b.Groups[:1], Associates: b.Associates[:1]}); err != nil {
		t.Fatal(err)
	}
	g, err := s.Group(ctx, 10)
	if err != nil || g.Name != "Team A 2" {
		t.Errorf("Group(10) = %+v, %v", g, err)
	}
	// Bypassing validation, the keys still hold.
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("DELETE FROM access_group WHERE id = 10"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err == nil {
		t.Error("deleting a referenced group committed")
	}
}

func TestTrim(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t, newPath(t), &Options{KeepChanges: 3, TrimEvery: 1})
	for i := range 6 {
		if err := s.PutGroup(ctx, access.Group{ID: access.GroupID(i + 1), Name: "g"}); err != nil {
			t.Fatal(err)
		}
	}
	if d, err := s.Changes(ctx, 1); err != nil || !d.Full || len(d.Groups) != 6 {
		t.Errorf("Changes(1) after trimming: full %v, %d groups, %v; want the full model", d.Full, len(d.Groups), err)
	}
	if d, err := s.Changes(ctx, 5); err != nil || d.Full || len(d.Groups) != 1 || d.Groups[0].ID != 6 {
		t.Errorf("Changes(5): %+v, %v; want group 6 only", d, err)
	}
}

// TestTrimByAge trims entries older than KeepFor, on a clock the test
// moves.
func TestTrimByAge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := open(t, newPath(t), &Options{KeepChanges: -1, KeepFor: 90 * time.Minute, Now: clock})
	for i := range 4 {
		if err := s.PutGroup(ctx, access.Group{ID: access.GroupID(i + 1), Name: "g"}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		now = now.Add(40 * time.Minute)
		mu.Unlock()
	}
	// Revisions 1..4 were written at 0, 40, 80 and 120 minutes; it is now
	// 160 minutes, so 1 and 2 are older than an hour and a half.
	if err := s.Trim(ctx); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Changes(ctx, 1); err != nil || !d.Full {
		t.Errorf("Changes(1) = full %v, %v; want a full delta", d.Full, err)
	}
	if d, err := s.Changes(ctx, 2); err != nil || d.Full || len(d.Groups) != 2 {
		t.Errorf("Changes(2) = %+v, %v; want groups 3 and 4", d, err)
	}
}
