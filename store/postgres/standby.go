package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/crmaccess/access"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrStandby marks a write sent to a Store on a hot standby, which is
// read-only: write through a Store on the primary.
var ErrStandby = errors.New("server is a read-only standby")

// Standby reports whether the server was a hot standby (in recovery) when
// the Store opened. A resolver may load from such a Store while writes go
// to the primary: the Store learns of new revisions from the primary's
// notifications ([Options.Primary]) or by polling, and tells its watchers
// only once the standby has replayed them, so [access.Engine.Sync] on a
// revision the primary returned waits for the standby to catch up.
func (s *Store) Standby() bool { return s.standby }

// openStandby finds out whether the server is a standby and, if so and
// Options.Primary names the primary, makes the listener connect there.
func (s *Store) openStandby(ctx context.Context) error {
	if s.opts.StandbyPoll <= 0 {
		s.opts.StandbyPoll = 100 * time.Millisecond
	}
	if err := s.pool.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&s.standby); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if !s.standby || s.opts.Primary == "" {
		return nil
	}
	cfg, err := pgx.ParseConfig(s.opts.Primary)
	if err != nil {
		return fmt.Errorf("postgres: Options.Primary: %w", err)
	}
	s.listenCfg = cfg
	return nil
}

// follow keeps the Store's watchers told of new revisions: by LISTEN on
// the server (or on the primary, for a standby with Options.Primary),
// through a shared Listener, or by polling a standby that has no primary
// to listen to.
func (s *Store) follow(ctx context.Context, report func(error)) {
	switch {
	case s.standby && s.opts.Primary == "":
		s.poll(ctx, report)
	case s.opts.Listener != nil && !s.standby:
		s.opts.Listener.follow(ctx, s, report)
	default:
		s.listen(ctx, report)
	}
}

// revision reads the revision the server holds, on a standby the one it
// has replayed.
func (s *Store) revision(ctx context.Context) (access.Revision, error) {
	var rev int64
	q := "SELECT revision FROM " + pgx.Identifier{s.schema, "access_revision"}.Sanitize()
	if err := s.pool.QueryRow(ctx, q).Scan(&rev); err != nil {
		return 0, err
	}
	return access.Revision(rev), nil
}

// poll asks a standby for its replayed revision every StandbyPoll and
// notifies the watchers when it moves.
func (s *Store) poll(ctx context.Context, report func(error)) {
	var last access.Revision
	healthy := false
	t := time.NewTicker(s.opts.StandbyPoll)
	defer t.Stop()
	for {
		rev, err := s.revision(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			healthy = false
			report(fmt.Errorf("postgres: %w: polling the standby: %w", ErrListenerDown, err))
		case !healthy:
			healthy = true
			report(nil)
			last = rev
			s.core.Force(rev)
		case rev > last:
			last = rev
			s.core.Notify(rev)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// replayed waits until the standby has replayed revision rev, looking
// every few milliseconds at first and at most every StandbyPoll, and
// returns early when ctx ends. The notification that asked for rev came
// from the primary: passing it on before the standby has it would make
// the resolver read an older revision and wait for the next one.
func (s *Store) replayed(ctx context.Context, rev access.Revision) {
	wait := time.Millisecond
	for {
		if got, err := s.revision(ctx); err != nil || got >= rev {
			return // on an error, let the resolver ask and see for itself
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, s.opts.StandbyPoll)
	}
}

// readOnly marks an error from a write on a standby with ErrStandby.
func readOnly(op string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "25006" { // read_only_sql_transaction
		return fmt.Errorf("postgres: %s: %w: %w", op, ErrStandby, err)
	}
	return err
}
