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
	"github.com/crmaccess/access/internal/sqlstore/sqltest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

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
	sqltest.CheckEmpty(t, s)
	if rev, err := s.Apply(ctx, sqltest.Sample()); err != nil || rev != 1 {
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
	w := sqltest.Watch(t, other)
	sqltest.WaitHealthy(t, other)
	if _, err := s.Pool().Exec(ctx, "CREATE TABLE app_note (associate bigint, note text)"); err != nil {
		t.Fatal(err)
	}

	write := func() (access.Revision, pgx.Tx) {
		tx, err := s.Pool().Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rev, err := s.ApplyTx(ctx, tx, sqltest.Sample())
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
	sqltest.CheckEmpty(t, s)
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
	w.WaitFor(t, rev, 5*time.Second)
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
	w := sqltest.Watch(t, s)
	sqltest.WaitHealthy(t, s)
	pid := s.listenPID.Load()

	if _, err := writer.Apply(ctx, sqltest.Sample()); err != nil {
		t.Fatal(err)
	}
	w.WaitFor(t, 1, 5*time.Second)

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
	w.WaitFor(t, 2, 10*time.Second)
	sqltest.WaitHealthy(t, s)
	if s.listenPID.Load() == pid {
		t.Errorf("listen connection %d was not replaced", pid)
	}
	// Notifications flow on the new connection.
	if err := writer.PutGroup(ctx, access.Group{ID: 61, Name: "after"}); err != nil {
		t.Fatal(err)
	}
	w.WaitFor(t, 3, 5*time.Second)

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
	w := sqltest.Watch(t, s)
	sqltest.WaitHealthy(t, s)
	pid := s.listenPID.Load()
	time.Sleep(200 * time.Millisecond)
	if err := s.Health(); err != nil || s.listenPID.Load() != pid {
		t.Fatalf("after idling: health %v, connection %d (was %d)", err, s.listenPID.Load(), pid)
	}
	if _, err := writer.Apply(ctx, sqltest.Sample()); err != nil {
		t.Fatal(err)
	}
	w.WaitFor(t, 1, 5*time.Second)
}
