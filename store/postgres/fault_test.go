package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmaccess/access"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// revisions collects the revisions a watcher is called with.
type revisions struct {
	mu   sync.Mutex
	seen []access.Revision
	ch   chan access.Revision
}

func watch(tb testing.TB, s *Store) *revisions {
	r := &revisions{ch: make(chan access.Revision, 1000)}
	stop := s.Watch(func(rev access.Revision) {
		r.mu.Lock()
		r.seen = append(r.seen, rev)
		r.mu.Unlock()
		select {
		case r.ch <- rev:
		default:
		}
	})
	tb.Cleanup(stop)
	return r
}

// waitFor waits until the watcher has been called with rev or a later
// revision.
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
		r.mu.Unlock()
		select {
		case <-r.ch:
		case <-deadline:
			tb.Fatalf("watcher not called with revision %d within %v; saw %v", rev, timeout, r.all())
		}
	}
}

func (r *revisions) all() []access.Revision {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]access.Revision(nil), r.seen...)
}

// waitHealthy waits until the store's listener is up.
func waitHealthy(tb testing.TB, s *Store) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.Health() != nil {
		if time.Now().After(deadline) {
			tb.Fatalf("listener not up: %v", s.Health())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTwoStoresSeeEachOther(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := newSchema(t)
	a, b := open(t, dsn, nil), open(t, dsn, nil)
	wa, wb := watch(t, a), watch(t, b)
	waitHealthy(t, a)
	waitHealthy(t, b)

	r1, err := a.Apply(ctx, sample())
	if err != nil {
		t.Fatal(err)
	}
	wa.waitFor(t, r1, time.Millisecond) // synchronous for own writes
	wb.waitFor(t, r1, 5*time.Second)
	if d, err := b.Changes(ctx, 0); err != nil || len(d.Associates) != 4 {
		t.Fatalf("b.Changes(0): %d associates, %v", len(d.Associates), err)
	}

	if err := b.PutGroup(ctx, access.Group{ID: 50, Name: "from b"}); err != nil {
		t.Fatal(err)
	}
	r2 := r1 + 1
	wa.waitFor(t, r2, 5*time.Second)
	d, err := a.Changes(ctx, r1)
	if err != nil {
		t.Fatal(err)
	}
	if d.Full || d.From != r1 || d.To != r2 || len(d.Groups) != 1 || d.Groups[0].Name != "from b" {
		t.Errorf("a.Changes(%d) = %+v", r1, d)
	}
}

// TestCycleRace races two writers on separate pools, each adding one edge
// of a two-group cycle. Exactly one must win and the other fail with
// ErrCycle, every round.
func TestCycleRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := newSchema(t)
	a, b := open(t, dsn, nil), open(t, dsn, nil)
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
		for j, w := range []struct {
			s *Store
			g access.Group
		}{
			{a, access.Group{ID: x, Name: "x", Groups: []access.GroupID{y}}},
			{b, access.Group{ID: y, Name: "y", Groups: []access.GroupID{x}}},
		} {
			wg.Go(func() {
				<-start
				errs[j] = w.s.PutGroup(ctx, w.g)
			})
		}
		close(start)
		wg.Wait()
		cycles, oks := 0, 0
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
			t.Fatalf("round %d: %d writes succeeded and %d failed with ErrCycle; want 1 and 1 (%v)", i, oks, cycles, errs)
		}
	}
	// The model holds no cycle: every pair has exactly one edge.
	d, err := a.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	edges := 0
	for _, g := range d.Groups {
		edges += len(g.Groups)
	}
	if edges != rounds {
		t.Errorf("%d edges, want %d", edges, rounds)
	}
}

// bigBatch returns a batch of n associates in one group with one role.
func bigBatch(n int) access.Batch {
	b := access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "r"}},
		Groups: []access.Group{{ID: 1, Name: "g"}},
	}
	for i := range n {
		b.Associates = append(b.Associates, access.Associate{
			ID: access.AssociateID(i + 1), Name: fmt.Sprintf("user%d", i), Type: access.Internal,
			PrimaryGroup: 1, Groups: []access.GroupID{1}, Role: 1, Active: true,
			Attributes: map[string]string{"n": fmt.Sprint(i)},
		})
	}
	return b
}

// checkEmpty fails unless the store is at revision 0 with nothing in it.
func checkEmpty(t *testing.T, s *Store) {
	t.Helper()
	d, err := s.Changes(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.To != 0 || !d.Empty() {
		t.Errorf("store at revision %d with %d roles, %d groups, %d associates; want an empty store at 0",
			d.To, len(d.Roles), len(d.Groups), len(d.Associates))
	}
}

// TestKilledMidBatch kills the backend of a transaction while ApplyTx is
// writing a large batch in it: nothing may be written, and the store must
// go on working.
func TestKilledMidBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := newSchema(t)
	s := open(t, dsn, nil)
	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pid := tx.Conn().PgConn().PID()
	applied := make(chan error, 1)
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := s.ApplyTx(ctx, tx, bigBatch(30_000))
		applied <- err
		<-release
		if err == nil {
			err = tx.Commit(ctx)
		}
		done <- err
	}()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	// Wait until the batch is being copied into the tables, then kill the
	// backend. Should ApplyTx finish first, the kill comes between it and
	// the commit, with the transaction still open.
	phase := "after ApplyTx, before Commit"
wait:
	for {
		select {
		case <-applied:
			break wait
		default:
		}
		var query string
		if err := admin.QueryRow(ctx, "SELECT query FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", pid).Scan(&query); err == nil &&
			strings.HasPrefix(strings.ToLower(query), "copy ") {
			phase = "during " + query
			break
		} else if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Microsecond)
	}
	var killed bool
	if err := admin.QueryRow(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&killed); err != nil || !killed {
		t.Fatalf("pg_terminate_backend: %v, %v", killed, err)
	}
	t.Logf("killed the backend %s", phase)
	close(release)
	if err := <-done; err == nil {
		t.Fatal("ApplyTx and Commit succeeded on a killed connection")
	} else {
		t.Logf("error: %v", err)
	}
	tx.Rollback(ctx)
	checkEmpty(t, s)
	if rev, err := s.Apply(ctx, sample()); err != nil || rev != 1 {
		t.Errorf("Apply after the kill = %d, %v; want revision 1", rev, err)
	}
}

// TestApplyTx writes an associate and an application row in one
// transaction: rolled back, neither is there; committed, both are, and
// another store hears of it.
func TestApplyTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := newSchema(t)
	s := open(t, dsn, nil)
	other := open(t, dsn, nil)
	w := watch(t, other)
	waitHealthy(t, other)
	exec(t, dsn, "CREATE TABLE app_note (associate bigint, note text)")

	write := func() (access.Revision, pgx.Tx) {
		tx, err := s.Pool().Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rev, err := s.ApplyTx(ctx, tx, sample())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO app_note VALUES (100, 'hello')"); err != nil {
			t.Fatal(err)
		}
		return rev, tx
	}
	notes := func() (n int) {
		if err := s.Pool().QueryRow(ctx, "SELECT count(*) FROM app_note").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	_, tx := write()
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	checkEmpty(t, s)
	if n := notes(); n != 0 {
		t.Errorf("%d notes after rollback, want 0", n)
	}

	rev, tx := write()
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if rev != 1 {
		t.Errorf("revision = %d, want 1", rev)
	}
	w.waitFor(t, rev, 5*time.Second)
	if n := notes(); n != 1 {
		t.Errorf("%d notes after commit, want 1", n)
	}
	if _, err := other.AssociateByName(ctx, "anna"); err != nil {
		t.Error(err)
	}
}

// TestListenerReconnect kills the listen connection: the store must
// report it, reconnect, and call its watcher with the revision written
// meanwhile.
func TestListenerReconnect(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := newSchema(t)
	var mu sync.Mutex
	var states []error
	s := open(t, dsn, &Options{OnListen: func(err error) {
		mu.Lock()
		states = append(states, err)
		mu.Unlock()
	}})
	writer := open(t, dsn, nil)
	w := watch(t, s)
	waitHealthy(t, s)
	pid := s.listenPID.Load()

	if _, err := writer.Apply(ctx, sample()); err != nil {
		t.Fatal(err)
	}
	w.waitFor(t, 1, 5*time.Second)

	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	if err := writer.PutGroup(ctx, access.Group{ID: 60, Name: "while down"}); err != nil {
		t.Fatal(err)
	}
	w.waitFor(t, 2, 10*time.Second)
	waitHealthy(t, s)
	if s.listenPID.Load() == pid {
		t.Errorf("listen connection %d was not replaced", pid)
	}
	// Notifications flow on the new connection.
	if err := writer.PutGroup(ctx, access.Group{ID: 61, Name: "after"}); err != nil {
		t.Fatal(err)
	}
	w.waitFor(t, 3, 5*time.Second)

	mu.Lock()
	defer mu.Unlock()
	down := false
	for _, e := range states {
		if errors.Is(e, ErrListenerDown) {
			down = true
		}
	}
	if !down || states[len(states)-1] != nil {
		t.Errorf("OnListen states %v: want a down report and up again last", states)
	}
}

func TestTrim(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t, newSchema(t), &Options{KeepChanges: 3, TrimEvery: 1})
	var revs []access.Revision
	for i := range 6 {
		if err := s.PutGroup(ctx, access.Group{ID: access.GroupID(i + 1), Name: "g"}); err != nil {
			t.Fatal(err)
		}
		rev, err := s.Revision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, rev)
	}
	if d, err := s.Changes(ctx, revs[0]); err != nil || !d.Full || len(d.Groups) != 6 {
		t.Errorf("Changes(%d) after trimming: full %v, %d groups, %v; want the full model", revs[0], d.Full, len(d.Groups), err)
	}
	if d, err := s.Changes(ctx, revs[4]); err != nil || d.Full || len(d.Groups) != 1 || d.Groups[0].ID != 6 {
		t.Errorf("Changes(%d): %+v, %v; want group 6 only", revs[4], d, err)
	}
}

func TestClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t, newSchema(t), nil)
	watch(t, s)
	s.Close()
	s.Close()
	if _, err := s.Changes(ctx, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Changes after Close = %v, want ErrClosed", err)
	}
}

// TestApplyTxStaleSnapshot checks ApplyTx in a REPEATABLE READ transaction
// whose snapshot predates another writer's commit: it must fail rather
// than validate against what it can no longer trust. Here the stale
// snapshot would not see the edge 2→1 and would let 1→2 close a cycle.
func TestApplyTxStaleSnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := newSchema(t)
	s, other := open(t, dsn, nil), open(t, dsn, nil)
	if _, err := s.Apply(ctx, access.Batch{Groups: []access.Group{{ID: 1, Name: "a"}, {ID: 2, Name: "b"}}}); err != nil {
		t.Fatal(err)
	}
	tx, err := s.Pool().BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT count(*) FROM access_group"); err != nil { // takes the snapshot
		t.Fatal(err)
	}
	if err := other.PutGroup(ctx, access.Group{ID: 2, Name: "b", Groups: []access.GroupID{1}}); err != nil {
		t.Fatal(err)
	}
	_, err = s.ApplyTx(ctx, tx, access.Batch{Groups: []access.Group{{ID: 1, Name: "a", Groups: []access.GroupID{2}}}})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "40001" {
		t.Errorf("ApplyTx on a stale snapshot = %v, want a serialization failure (40001)", err)
	}
}

// TestListenerPing lets the listen connection sit idle past ListenPing
// several times: the timed-out waits and pings must keep it healthy, on
// the same connection, still hearing notifications.
func TestListenerPing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := newSchema(t)
	s := open(t, dsn, &Options{ListenPing: 20 * time.Millisecond})
	writer := open(t, dsn, nil)
	w := watch(t, s)
	waitHealthy(t, s)
	pid := s.listenPID.Load()
	time.Sleep(200 * time.Millisecond)
	if err := s.Health(); err != nil || s.listenPID.Load() != pid {
		t.Fatalf("after idling: health %v, connection %d (was %d)", err, s.listenPID.Load(), pid)
	}
	if _, err := writer.Apply(ctx, sample()); err != nil {
		t.Fatal(err)
	}
	w.waitFor(t, 1, 5*time.Second)
}
