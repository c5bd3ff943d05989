package postgres

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/crmaccess/access"
	"github.com/jackc/pgx/v5"
)

// TestTwoResolvers runs two resolvers, each on its own Store and
// connection pool, as two replicas of a service would: a write through one
// reaches the other by LISTEN/NOTIFY, and Sync serves read-your-writes.
func TestTwoResolvers(t *testing.T) {
	ctx := context.Background()
	dsn := newSchema(t)
	a, b := open(t, dsn, nil), open(t, dsn, nil)
	if _, err := a.Apply(ctx, access.Batch{
		Roles:      []access.Role{{ID: 1, Name: "Sales", Rights: map[string]access.Grid{"*": {access.Team: access.LevelUpdate}}}},
		Groups:     []access.Group{{ID: 10, Name: "Team A"}, {ID: 20, Name: "Team B"}},
		Associates: []access.Associate{{ID: 11, Name: "anna", Type: access.Internal, PrimaryGroup: 10, Role: 1, Active: true}},
	}); err != nil {
		t.Fatal(err)
	}
	ra, err := access.NewResolver(ctx, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ra.Close()
	rb, err := access.NewResolver(ctx, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	rec := access.Record{Type: "contact", ID: 1, Team: 20}
	if d, _ := rb.Can(ctx, 11, access.Update, rec); d.Allowed {
		t.Fatalf("before the write, B allows: %s", d)
	}

	// Write through A; A sees it at once, B by notification.
	rev, err := a.Apply(ctx, access.Batch{Associates: []access.Associate{
		{ID: 11, Name: "anna", Type: access.Internal, PrimaryGroup: 10, Groups: []access.GroupID{20}, Role: 1, Active: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if ra.Revision() < rev {
		t.Errorf("A is at revision %d after its own write of %d", ra.Revision(), rev)
	}
	deadline := time.Now().Add(10 * time.Second)
	for rb.Revision() < rev && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if rb.Revision() < rev {
		t.Fatalf("B did not hear of revision %d by notification within 10 s (at %d)", rev, rb.Revision())
	}
	if d, err := rb.Can(ctx, 11, access.Update, rec); err != nil || !d.Allowed {
		t.Fatalf("after the write, B: %s, %v; want allowed as a Team B member", d, err)
	}

	// Read-your-writes: a request carrying the revision of a write made
	// through A is served consistently by B once Sync returns.
	rev, err = a.Apply(ctx, access.Batch{Associates: []access.Associate{
		{ID: 11, Name: "anna", Type: access.Internal, PrimaryGroup: 10, Role: 1, Active: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := rb.Sync(wait, rev); err != nil {
		t.Fatal(err)
	}
	if ok, err := rb.IsMember(ctx, 11, 20); err != nil || ok {
		t.Fatalf("after Sync(%d), B says anna is in Team B: %v, %v", rev, ok, err)
	}
}

// TestResolverDeadlineWhileLocked: with a background refresh stuck on a
// lock that blocks the store's load, Refresh and Sync with a 500 ms
// deadline return DeadlineExceeded by about that deadline, the background
// refresh gives up after Options.RefreshTimeout and says so, and once the
// lock goes the resolver catches up.
func TestResolverDeadlineWhileLocked(t *testing.T) {
	ctx := context.Background()
	dsn := newSchema(t)
	s := open(t, dsn, nil)
	if _, err := s.Apply(ctx, access.Batch{
		Groups: []access.Group{{ID: 10, Name: "Team A"}},
	}); err != nil {
		t.Fatal(err)
	}
	r, err := access.NewResolver(ctx, s, &access.Options{
		PollInterval: 20 * time.Millisecond, RefreshTimeout: time.Second, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	// Another connection locks the revision counter, which every load
	// reads first, until the test releases it.
	locker, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close(ctx)
	tx, err := locker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	released := false
	release := func() {
		if !released {
			released = true
			if err := tx.Rollback(ctx); err != nil {
				t.Error(err)
			}
		}
	}
	defer release()
	if _, err := tx.Exec(ctx, "LOCK TABLE access_revision IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	// Watched from a third connection: within a transaction,
	// pg_stat_activity does not change.
	observer, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer observer.Close(ctx)
	waitFor(t, "background refresh waiting on the lock", func() bool {
		var n int
		err := observer.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND datname = current_database() AND query LIKE '%access_revision%'`).Scan(&n)
		return err == nil && n > 0
	})

	const deadline = 500 * time.Millisecond
	for _, tc := range []struct {
		name string
		call func(context.Context) error
	}{
		{"Refresh", r.Refresh},
		{"Sync", func(ctx context.Context) error { return r.Sync(ctx, r.Revision()+1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(ctx, deadline)
				defer cancel()
				done <- tc.call(ctx)
			}()
			select {
			case err := <-done:
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("%s with a %v deadline = %v, want DeadlineExceeded", tc.name, deadline, err)
				}
			case <-time.After(3 * deadline):
				t.Fatalf("%s with a %v deadline had not returned after %v", tc.name, deadline, 3*deadline)
			}
		})
	}
	waitFor(t, "background refresh reporting its timeout", func() bool {
		st := r.Stats()
		return st.Failures > 0 && errors.Is(st.LastError, context.DeadlineExceeded)
	})

	release()
	rev, err := s.Apply(ctx, access.Batch{Groups: []access.Group{{ID: 20, Name: "Team B"}}})
	if err != nil {
		t.Fatal(err)
	}
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.Sync(wait, rev); err != nil {
		t.Fatalf("Sync after the lock went: %v", err)
	}
	if err := r.Ready(); err != nil {
		t.Errorf("Ready after catching up: %v", err)
	}
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
