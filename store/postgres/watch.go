package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/crmaccess/access"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// Watch calls fn with the new revision (or a later one) after each
// committed write: synchronously, before Apply returns, for writes made
// through this Store; through LISTEN on a dedicated connection for writes
// made by other Stores and processes. When the listen connection is lost
// the Store reconnects with capped backoff (see [Store.Health]), and after
// each (re)connection it calls fn with the current revision, so a watcher
// catches up with what it missed. Treat the revision as a hint and ask
// [Store.Changes].
//
// Calls to all the watchers of a Store are serialised, and (except for
// those after a reconnection) carry increasing revisions. fn may read the
// store but must not write to it through this Store: the write would wait
// for fn to return.
//
// The listener runs while at least one watcher is registered. The returned
// stop may be called any number of times; once it has returned, fn is not
// called again unless a call had already begun. Watch panics if fn is nil.
func (s *Store) Watch(fn func(access.Revision)) (stop func()) {
	return s.core.Watch(fn)
}

// Health reports whether notifications from other writers are arriving:
// nil when the listen connection is up or no watcher is registered, an
// error wrapping [ErrListenerDown] (and saying why) while the Store is
// connecting or reconnecting. A resolver that sees an error should poll
// [Store.Changes] until Health is nil again; [Options.OnListen] reports the
// same changes as they happen.
func (s *Store) Health() error { return s.core.Health() }

// listen keeps a listen connection up until ctx is cancelled, reporting
// its state: nil once it is listening, an error wrapping ErrListenerDown
// when it is not.
func (s *Store) listen(ctx context.Context, report func(error)) {
	const minDelay = 50 * time.Millisecond
	delay := minDelay
	for {
		connected, err := s.listenOnce(ctx, report)
		if ctx.Err() != nil {
			return
		}
		if connected {
			delay = minDelay
		}
		report(fmt.Errorf("postgres: %w: %w", ErrListenerDown, err))
		// Full jitter keeps many processes from reconnecting in step after
		// a server restart.
		wait := minDelay/2 + rand.N(delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		delay = min(2*delay, s.opts.ListenRetryMax)
	}
}

// listenOnce connects, listens and passes notifications on until the
// connection fails or ctx is cancelled. It reports whether it got as far
// as listening.
func (s *Store) listenOnce(ctx context.Context, report func(error)) (bool, error) {
	cfg := s.listenCfg.Copy()
	// On a timed-out wait, only interrupt the read: the default handler
	// would also send the server a cancel request, which could hit the
	// ping that follows.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = "crmaccess listener"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return false, err
	}
	// Listening first and reading the revision second means no commit
	// falls between the two unheard.
	var rev int64
	// The table is named with its schema: the listen connection does not
	// run the pool's AfterConnect hook, which may be what sets the
	// search_path.
	q := "SELECT revision FROM " + pgx.Identifier{s.schema, "access_revision"}.Sanitize()
	if err := conn.QueryRow(ctx, q).Scan(&rev); err != nil {
		return false, err
	}
	s.listenPID.Store(conn.PgConn().PID())
	report(nil)
	if s.standby {
		s.replayed(ctx, access.Revision(rev))
	}
	s.core.Force(access.Revision(rev))
	for {
		wctx, cancel := context.WithTimeout(ctx, s.opts.ListenPing)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			if r, err := strconv.ParseUint(n.Payload, 10, 64); err == nil {
				if s.standby {
					s.replayed(ctx, access.Revision(r))
				}
				s.core.Notify(access.Revision(r))
			}
		case ctx.Err() != nil:
			return true, ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			// The ping gets its own, longer deadline: a short ListenPing
			// says how often to check an idle connection, not how fast a
			// busy server must answer.
			pctx, cancel := context.WithTimeout(ctx, max(s.opts.ListenPing, pingTimeout))
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return true, err
			}
		default:
			return true, err
		}
	}
}

// pingTimeout is the least time the listen connection's ping may take
// before the connection is given up and made anew.
const pingTimeout = 5 * time.Second
