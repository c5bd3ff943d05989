package sqlite

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmaccess/access"
	msqlite "modernc.org/sqlite"
)

// TestDeadlineDuringCommit ends Apply's context while SQLite is inside
// COMMIT (from a commit hook, which runs before the commit completes and
// lets it complete): the write lands, so Apply must report it committed,
// and the store must show it.
func TestDeadlineDuringCommit(t *testing.T) {
	t.Parallel()
	bg := context.Background()
	s, cancelOnCommit := openCommitHook(t)

	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	ran := cancelOnCommit(cancel)
	rev, err := s.Apply(ctx, access.Batch{Groups: []access.Group{{ID: 1, Name: "the write"}}})
	if !ran() {
		t.Fatal("the commit hook did not run with the write")
	}
	if err != nil || rev != 1 {
		t.Errorf("Apply = %d, %v; want revision 1: the write committed", rev, err)
	}
	if got, err := s.Revision(bg); err != nil || got != 1 {
		t.Errorf("Revision = %d, %v; want 1", got, err)
	}
	if _, err := s.Group(bg, 1); err != nil {
		t.Errorf("Group(1) = %v", err)
	}
	// A context that has ended before COMMIT stops the write.
	if _, err := s.Apply(ctx, access.Batch{Groups: []access.Group{{ID: 2, Name: "too late"}}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Apply with an ended context = %v, want context.Canceled", err)
	}
	if got, err := s.Revision(bg); err != nil || got != 1 {
		t.Errorf("Revision after the late write = %d, %v; want 1", got, err)
	}
}

// TestDeadlineDuringCommitTx does the same to a caller's transaction on
// DB, which ApplyTx documents: the transaction's context ending inside its
// COMMIT must not make a commit that took effect look failed.
func TestDeadlineDuringCommitTx(t *testing.T) {
	t.Parallel()
	bg := context.Background()
	s, cancelOnCommit := openCommitHook(t)
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := s.ApplyTx(ctx, tx, access.Batch{Groups: []access.Group{{ID: 1, Name: "the write"}}})
	if err != nil {
		t.Fatal(err)
	}
	ran := cancelOnCommit(cancel)
	err = tx.Commit()
	if !ran() {
		t.Fatal("the commit hook did not run with the commit")
	}
	got, rerr := s.Revision(bg)
	if rerr != nil {
		t.Fatal(rerr)
	}
	t.Logf("Commit = %v; store at revision %d", err, got)
	if (err == nil) != (got == rev) {
		t.Errorf("Commit = %v, but the store is at revision %d (the write's is %d)", err, got, rev)
	}
}

// openCommitHook opens a store on a file with one connection, so that a
// commit hook on it sees every write. The returned arm makes the next
// COMMIT call cancel from inside SQLite's commit (before the commit
// completes, which it then lets complete), as a deadline that passes
// during COMMIT would; the function arm returns reports whether that
// happened.
func openCommitHook(t *testing.T) (s *Store, arm func(cancel context.CancelFunc) (ran func() bool)) {
	t.Helper()
	s = open(t, newPath(t), &Options{MaxConns: 1})
	var onCommit atomic.Pointer[context.CancelFunc]
	var ran atomic.Bool
	c, err := s.DB().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	err = c.Raw(func(dc any) error {
		hr, ok := dc.(msqlite.HookRegisterer)
		if !ok {
			return errors.New("the driver's connection registers no hooks")
		}
		hr.RegisterCommitHook(func() int32 {
			if cancel := onCommit.Swap(nil); cancel != nil {
				(*cancel)()
				ran.Store(true)
				// Give the driver's watcher of the context time to
				// interrupt the connection.
				time.Sleep(20 * time.Millisecond)
			}
			return 0 // let the commit go ahead
		})
		return nil
	})
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	return s, func(cancel context.CancelFunc) func() bool {
		ran.Store(false)
		onCommit.Store(&cancel)
		return ran.Load
	}
}
