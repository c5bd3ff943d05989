package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/sqlstore/sqltest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// commitQuery is the simple-protocol Query message pgx sends to commit.
var commitQuery = []byte("Q\x00\x00\x00\x0bcommit\x00")

// errLost is what a faultConn returns for a connection it has cut.
var errLost = errors.New("test: connection lost")

// faults arms the connections of one pool with an action on the next
// COMMIT any of them sends.
type faults struct {
	mu       sync.Mutex
	onCommit func(c *faultConn, write func() error) error // nil: pass through
}

// arm sets the action for the next COMMIT.
func (f *faults) arm(fn func(c *faultConn, write func() error) error) {
	f.mu.Lock()
	f.onCommit = fn
	f.mu.Unlock()
}

// take returns the armed action and disarms.
func (f *faults) take() func(c *faultConn, write func() error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn := f.onCommit
	f.onCommit = nil
	return fn
}

// faultConn is a client connection to the server that runs the armed
// action when it carries a COMMIT.
type faultConn struct {
	net.Conn
	f *faults

	mu        sync.Mutex
	loseReply bool          // the next Read waits for the server's answer, drops it and fails
	deadline  chan struct{} // closed when pgx sets a deadline in the past
}

func (c *faultConn) Write(p []byte) (int, error) {
	if !bytes.Contains(p, commitQuery) {
		return c.Conn.Write(p)
	}
	fn := c.f.take()
	if fn == nil {
		return c.Conn.Write(p)
	}
	n := 0
	err := fn(c, func() error {
		var err error
		n, err = c.Conn.Write(p)
		return err
	})
	return n, err
}

func (c *faultConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	lose := c.loseReply
	c.loseReply = false
	c.mu.Unlock()
	if !lose {
		return c.Conn.Read(p)
	}
	// The server has committed once it answers; the client never hears it.
	c.Conn.Read(p)
	c.Conn.Close()
	return 0, errLost
}

func (c *faultConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	if c.deadline != nil && !t.IsZero() && time.Until(t) <= 0 {
		close(c.deadline)
		c.deadline = nil
	}
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

// backendPID returns the pid of the server process serving c, found by
// the client port.
func (c *faultConn) backendPID(ctx context.Context, admin *pgx.Conn) (pid uint32, err error) {
	_, port, err := net.SplitHostPort(c.LocalAddr().String())
	if err != nil {
		return 0, err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return 0, err
	}
	err = admin.QueryRow(ctx, "SELECT pid FROM pg_stat_activity WHERE client_port = $1", p).Scan(&pid)
	return pid, err
}

// openFaulty opens a migrated Store on dsn whose connections carry
// faults.
func openFaulty(t *testing.T, dsn string) (*Store, *faults) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	f := &faults{}
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &faultConn{Conn: c, f: f}, nil
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := sqltest.Migrated(t, func(ctx context.Context) (*Store, error) { return New(ctx, pool, nil) })
	return s, f
}

// TestCommitFaults breaks the connection of an Apply in the middle of its
// COMMIT in three ways, and checks that what Apply reports is what
// happened: a success is visible; an error wrapping ErrCommitUnknown
// carries the write's revision, and Committed tells whether it landed;
// either way the store goes on working.
func TestCommitFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// fault runs when COMMIT is sent; write sends it. cancel ends
		// Apply's context.
		fault         func(t *testing.T, c *faultConn, write func() error, cancel context.CancelFunc) error
		wantUnknown   bool // Apply must fail with ErrCommitUnknown
		wantCommitted bool
	}{
		{
			// The caller's deadline passes after COMMIT is sent: the
			// write lands and must be reported as committed.
			name: "deadline during commit",
			fault: func(t *testing.T, c *faultConn, write func() error, cancel context.CancelFunc) error {
				err := write()
				c.mu.Lock()
				set := make(chan struct{})
				c.deadline = set
				c.mu.Unlock()
				cancel()
				// Let pgx's context watcher, if it watches this context,
				// cut the read short before the answer is read.
				select {
				case <-set:
				case <-time.After(200 * time.Millisecond):
				}
				return err
			},
			wantCommitted: true,
		},
		{
			// The server process dies before COMMIT reaches it.
			name: "backend killed before commit",
			fault: func(t *testing.T, c *faultConn, write func() error, _ context.CancelFunc) error {
				ctx := context.Background()
				admin, err := pgx.Connect(ctx, testDSN(t))
				if err != nil {
					t.Error(err)
					return write()
				}
				defer admin.Close(ctx)
				pid, err := c.backendPID(ctx, admin)
				if err != nil {
					t.Error(err)
					return write()
				}
				if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
					t.Error(err)
				}
				for range 500 {
					var n int
					if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid).Scan(&n); err != nil || n == 0 {
						break
					}
					time.Sleep(2 * time.Millisecond)
				}
				return write()
			},
			wantUnknown: true,
		},
		{
			// COMMIT reaches the server, which commits, but its answer
			// never reaches the client.
			name: "answer lost",
			fault: func(t *testing.T, c *faultConn, write func() error, _ context.CancelFunc) error {
				c.mu.Lock()
				c.loseReply = true
				c.mu.Unlock()
				return write()
			},
			wantUnknown:   true,
			wantCommitted: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bg := context.Background()
			s, f := openFaulty(t, newSchema(t))
			if _, err := s.Apply(bg, access.Batch{Groups: []access.Group{{ID: 1, Name: "before"}}}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			f.arm(func(c *faultConn, write func() error) error { return tc.fault(t, c, write, cancel) })
			rev, err := s.Apply(ctx, access.Batch{Groups: []access.Group{{ID: 2, Name: "the write"}}})
			if f.take() != nil {
				t.Fatal("Apply sent no COMMIT")
			}
			t.Logf("Apply: %d, %v", rev, err)

			committed := err == nil
			if tc.wantUnknown {
				var ce *access.CommitError
				if !errors.Is(err, access.ErrCommitUnknown) || !errors.As(err, &ce) {
					t.Fatalf("Apply = %d, %v; want an error wrapping ErrCommitUnknown", rev, err)
				}
				if ce.Revision != 2 || ce.Txn == 0 {
					t.Errorf("CommitError: revision %d, transaction %d; want revision 2 and a transaction", ce.Revision, ce.Txn)
				}
				cctx, ccancel := context.WithTimeout(bg, 10*time.Second)
				defer ccancel()
				if committed, err = s.Committed(cctx, ce); err != nil {
					t.Fatal(err)
				}
				if committed != tc.wantCommitted {
					t.Errorf("Committed = %v, want %v", committed, tc.wantCommitted)
				}
			} else if err != nil || rev != 2 {
				t.Fatalf("Apply = %d, %v; want revision 2", rev, err)
			}

			// The store shows exactly what Committed or Apply said.
			wantRev := access.Revision(1)
			if committed {
				wantRev = 2
			}
			if got, err := s.Revision(bg); err != nil || got != wantRev {
				t.Errorf("Revision = %d, %v; want %d", got, err, wantRev)
			}
			_, err = s.Group(bg, 2)
			if committed && err != nil || !committed && !errors.Is(err, access.ErrNotFound) {
				t.Errorf("committed %v, and Group(2) = %v", committed, err)
			}
			if got, err := s.Apply(bg, access.Batch{Groups: []access.Group{{ID: 3, Name: "after"}}}); err != nil || got != wantRev+1 {
				t.Errorf("Apply after the fault = %d, %v; want %d", got, err, wantRev+1)
			}
		})
	}
}

// TestCommittedApplyTx follows the procedure ApplyTx documents for a
// caller's own COMMIT: the transaction id read before committing tells
// Committed the outcome, and Committed waits while the transaction is
// open.
func TestCommittedApplyTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t, newSchema(t), nil)
	if _, err := s.Committed(ctx, &access.CommitError{Revision: 1}); !errors.Is(err, access.ErrInvalid) {
		t.Errorf("Committed without a transaction id = %v, want ErrInvalid", err)
	}
	for _, commit := range []bool{false, true} {
		tx, err := s.Pool().Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rev, err := s.ApplyTx(ctx, tx, access.Batch{Groups: []access.Group{{ID: 1, Name: "g"}}})
		if err != nil {
			t.Fatal(err)
		}
		ce := &access.CommitError{Revision: rev}
		if err := tx.QueryRow(ctx, "SELECT pg_current_xact_id()::text::bigint").Scan(&ce.Txn); err != nil {
			t.Fatal(err)
		}
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		got, err := s.Committed(short, ce)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Committed while the transaction is open = %v, %v; want a deadline error", got, err)
		}
		if commit {
			err = tx.Commit(ctx)
		} else {
			err = tx.Rollback(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.Committed(ctx, ce); err != nil || got != commit {
			t.Errorf("Committed after commit=%v: %v, %v", commit, got, err)
		}
	}
}

// TestCommitRefused checks which COMMIT errors count as a certain
// failure: only the server's own ERROR answer or its rollback.
func TestCommitRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"deferred foreign key", &pgconn.PgError{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "23503"}, true},
		{"localized error", &pgconn.PgError{Severity: "ERROR", Code: "40001"}, true},
		{"rolled back", pgx.ErrTxCommitRollback, true},
		{"terminated", &pgconn.PgError{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "57P01"}, false},
		{"panic", &pgconn.PgError{Severity: "PANIC", SeverityUnlocalized: "PANIC"}, false},
		// What pgx returns when reading the answer fails.
		{"conn closed after the answer was lost", fmt.Errorf("wrapped: %w", retrySafe{pgconn.ErrConnClosed}), false},
		{"network", &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}, false},
		{"timeout", context.DeadlineExceeded, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := commitRefused(tc.err); got != tc.want {
				t.Errorf("commitRefused(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// retrySafe is an error pgconn.SafeToRetry calls safe to retry, as pgx's
// own "conn closed" error.
type retrySafe struct{ error }

func (retrySafe) SafeToRetry() bool { return true }

// TestCommitRefusedByServer makes the server refuse a COMMIT (a trigger
// adds a row whose deferred foreign key fails at commit): Apply must
// report a plain failure, not an unknown outcome, and nothing may change.
func TestCommitRefusedByServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := newSchema(t)
	s := open(t, dsn, nil)
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `
CREATE FUNCTION bad_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO access_group_member (group_id, pos, member_id) VALUES (NEW.id, 99, 424242);
	RETURN NEW;
END $$;
CREATE TRIGGER bad_member AFTER INSERT ON access_group FOR EACH ROW WHEN (NEW.id = 2) EXECUTE FUNCTION bad_member();
`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx, access.Batch{Groups: []access.Group{{ID: 1, Name: "fine"}}}); err != nil {
		t.Fatal(err)
	}
	_, err = s.Apply(ctx, access.Batch{Groups: []access.Group{{ID: 2, Name: "refused"}}})
	var pgErr *pgconn.PgError
	if errors.Is(err, access.ErrCommitUnknown) || !errors.As(err, &pgErr) || pgErr.Code != "23503" || !strings.Contains(err.Error(), "commit") {
		t.Fatalf("Apply = %v; want a refused commit (foreign key violation 23503), not an unknown outcome", err)
	}
	if got, err := s.Revision(ctx); err != nil || got != 1 {
		t.Errorf("Revision = %d, %v; want 1", got, err)
	}
	if _, err := s.Group(ctx, 2); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("Group(2) = %v, want ErrNotFound", err)
	}
	if got, err := s.Apply(ctx, access.Batch{Groups: []access.Group{{ID: 3, Name: "after"}}}); err != nil || got != 2 {
		t.Errorf("Apply after the refusal = %d, %v; want revision 2", got, err)
	}
}
