package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/crmaccess/access"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// Listener is one LISTEN connection shared by many Stores of a process,
// for a service that keeps each tenant in a schema of its own: every
// Store opened with [Options.Listener] set to it hears of its writes
// through this one connection instead of opening its own. A notification
// names its channel — the Store's, derived from its schema — and the
// revision, so a tenant's write wakes only that tenant's Stores.
//
// A Listener connects while at least one Store is watched, reconnects with
// capped backoff when the connection is lost, and after each connection
// tells every Store its current revision, so none misses a write. It is
// safe for concurrent use.
type Listener struct {
	cfg      *pgx.ConnConfig
	retryMax time.Duration
	ping     time.Duration

	mu      sync.Mutex
	subs    map[string]map[*listenSub]bool // by channel
	changed chan struct{}                  // closed and replaced when subs change
	cancel  context.CancelFunc             // stops the connection loop; nil while none runs
	done    chan struct{}
	pid     uint32
	closed  bool
}

// listenSub is one watched Store.
type listenSub struct {
	s      *Store
	report func(error)
}

// NewListener returns a Listener for the server dsn names. It connects
// only once a Store starts watching.
func NewListener(dsn string) (*Listener, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: listener: %w", err)
	}
	return &Listener{cfg: cfg, retryMax: 5 * time.Second, ping: 30 * time.Second,
		subs: map[string]map[*listenSub]bool{}, changed: make(chan struct{})}, nil
}

// Close stops the Listener; the Stores using it report ErrListenerDown
// from then on.
func (l *Listener) Close() {
	l.mu.Lock()
	l.closed = true
	cancel, done := l.cancel, l.done
	l.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// PID returns the server process id of the Listener's connection, 0 when
// it is not connected.
func (l *Listener) PID() uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pid
}

// follow is a Store's Follow when it shares l: it registers the Store
// until ctx ends.
func (l *Listener) follow(ctx context.Context, s *Store, report func(error)) {
	sub := &listenSub{s: s, report: report}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		report(fmt.Errorf("postgres: %w: listener closed", ErrListenerDown))
		<-ctx.Done()
		return
	}
	if l.subs[s.channel] == nil {
		l.subs[s.channel] = map[*listenSub]bool{}
	}
	l.subs[s.channel][sub] = true
	l.notifyChange()
	if l.cancel == nil {
		lctx, cancel := context.WithCancel(context.Background())
		l.cancel, l.done = cancel, make(chan struct{})
		go l.run(lctx, l.done)
	}
	l.mu.Unlock()

	<-ctx.Done()

	l.mu.Lock()
	delete(l.subs[s.channel], sub)
	if len(l.subs[s.channel]) == 0 {
		delete(l.subs, s.channel)
	}
	l.notifyChange()
	var cancel context.CancelFunc
	var done chan struct{}
	if len(l.subs) == 0 && l.cancel != nil {
		cancel, done = l.cancel, l.done
		l.cancel = nil
	}
	l.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// notifyChange wakes the connection loop to LISTEN or UNLISTEN; l.mu is
// held.
func (l *Listener) notifyChange() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// reportAll tells every registered Store the listener's state.
func (l *Listener) reportAll(err error) {
	l.mu.Lock()
	var subs []*listenSub
	for _, m := range l.subs {
		for sub := range m {
			subs = append(subs, sub)
		}
	}
	l.mu.Unlock()
	for _, sub := range subs {
		sub.report(err)
	}
}

// run keeps the connection up until ctx ends.
func (l *Listener) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	const minDelay = 50 * time.Millisecond
	delay := minDelay
	for {
		connected, err := l.runOnce(ctx)
		l.mu.Lock()
		l.pid = 0
		l.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		if connected {
			delay = minDelay
		}
		l.reportAll(fmt.Errorf("postgres: %w: %w", ErrListenerDown, err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(minDelay/2 + rand.N(delay)):
		}
		delay = min(2*delay, l.retryMax)
	}
}

// runOnce connects, keeps the set of LISTENed channels equal to the
// registered Stores' and passes notifications on, until the connection
// fails or ctx ends. It reports whether it got as far as listening.
func (l *Listener) runOnce(ctx context.Context) (bool, error) {
	cfg := l.cfg.Copy()
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = "crmaccess shared listener"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	l.mu.Lock()
	l.pid = conn.PgConn().PID()
	l.mu.Unlock()

	listening := map[string]bool{}
	connected := false
	lastPing := time.Now()
	for {
		// Bring the LISTENed channels in line with the registrations; a
		// newly listened channel's Stores learn their current revision
		// (listening first, reading second: no commit falls between).
		l.mu.Lock()
		changed := l.changed
		want := map[string][]*listenSub{}
		for ch, m := range l.subs {
			for sub := range m {
				want[ch] = append(want[ch], sub)
			}
		}
		l.mu.Unlock()
		for ch := range listening {
			if want[ch] == nil {
				if _, err := conn.Exec(ctx, "UNLISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
					return connected, err
				}
				delete(listening, ch)
			}
		}
		for ch, subs := range want {
			if listening[ch] {
				continue
			}
			if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
				return connected, err
			}
			listening[ch] = true
			for _, sub := range subs {
				var rev int64
				q := "SELECT revision FROM " + pgx.Identifier{sub.s.schema, "access_revision"}.Sanitize()
				if err := conn.QueryRow(ctx, q).Scan(&rev); err != nil {
					return connected, err
				}
				sub.report(nil)
				sub.s.core.Force(access.Revision(rev))
			}
		}
		connected = true

		// Wait for a notification, a change of registrations, or the time
		// to check an idle connection.
		wctx, cancel := context.WithTimeout(ctx, l.ping)
		go func() {
			select {
			case <-changed:
				cancel()
			case <-wctx.Done():
			}
		}()
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			r, perr := strconv.ParseUint(n.Payload, 10, 64)
			if perr != nil {
				continue
			}
			l.mu.Lock()
			var subs []*listenSub
			for sub := range l.subs[n.Channel] {
				subs = append(subs, sub)
			}
			l.mu.Unlock()
			for _, sub := range subs {
				sub.s.core.Notify(access.Revision(r))
			}
		case ctx.Err() != nil:
			return connected, ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
			select {
			case <-changed:
				continue // registrations changed: LISTEN or UNLISTEN
			default:
			}
			if time.Since(lastPing) < l.ping {
				continue
			}
			pctx, cancel := context.WithTimeout(ctx, max(l.ping, pingTimeout))
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return connected, err
			}
			lastPing = time.Now()
		default:
			return connected, err
		}
	}
}
