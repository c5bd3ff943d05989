package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/sqlstore"
	"github.com/jackc/pgx/v5"
)

// Apply validates b against the store's current model (see
// [access.Batch.Validate]) and commits all of it or none of it in one
// transaction, returning the new revision. Each committed batch raises the
// revision by exactly one; an empty batch commits nothing and returns the
// current revision. Deleting an id the store does not hold is not an error
// and changes nothing. Before Apply returns, every watcher of this Store
// has been called with this revision or a later one; watchers of other
// Stores hear of it through NOTIFY.
//
// Errors: those of [access.Batch.Validate] (wrapping [access.ErrInvalid],
// [access.ErrCycle], [access.ErrNameTaken] or [access.ErrInUse]), returned
// as they are; [ErrNotMigrated], [ErrSchemaTooNew], [ErrBadRow] and
// [ErrClosed]; ctx.Err() and database errors, wrapped.
func (s *Store) Apply(ctx context.Context, b access.Batch) (access.Revision, error) {
	return s.apply(ctx, &b, access.Ref{})
}

// ApplyTx is Apply inside the caller's transaction tx, which the caller
// commits or rolls back: an application writes a user and its own rows
// atomically. It takes the store's write lock (held until tx ends, so keep
// tx short once ApplyTx has been called) and queues the NOTIFY, which
// PostgreSQL delivers at commit. The returned revision is the one the
// batch gets if tx commits. Because the Store cannot see the commit, its
// own watchers hear of the revision through NOTIFY like other Stores'
// (or call [Store.Notify] after committing for an immediate call).
//
// tx should be READ COMMITTED (PostgreSQL's default). In a REPEATABLE READ
// or SERIALIZABLE transaction whose snapshot predates another writer's
// commit, ApplyTx fails with a serialization error rather than validate
// against stale data.
//
// Errors: as for Apply. After an error the caller must roll tx back.
func (s *Store) ApplyTx(ctx context.Context, tx pgx.Tx, b access.Batch) (access.Revision, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	if b.Empty() {
		return s.revision(ctx, tx)
	}
	return s.applyIn(ctx, tx, &b, access.Ref{})
}

// Notify calls this Store's watchers with rev, as Apply does after
// commit. Use it after committing a transaction passed to [Store.ApplyTx]
// when the watchers must see the write before NOTIFY arrives.
func (s *Store) Notify(rev access.Revision) { s.watchers.Notify(rev) }

// PutRole inserts or replaces one role. Errors: as for [Store.Apply].
func (s *Store) PutRole(ctx context.Context, r access.Role) error {
	_, err := s.apply(ctx, &access.Batch{Roles: []access.Role{r}}, access.Ref{})
	return err
}

// PutGroup inserts or replaces one group. Errors: as for [Store.Apply].
func (s *Store) PutGroup(ctx context.Context, g access.Group) error {
	_, err := s.apply(ctx, &access.Batch{Groups: []access.Group{g}}, access.Ref{})
	return err
}

// PutAssociate inserts or replaces one associate. Errors: as for
// [Store.Apply].
func (s *Store) PutAssociate(ctx context.Context, a access.Associate) error {
	_, err := s.apply(ctx, &access.Batch{Associates: []access.Associate{a}}, access.Ref{})
	return err
}

// DeleteRole deletes one role. Errors: one wrapping [access.ErrNotFound]
// if the store does not hold it, [access.ErrInUse] (naming the dependants)
// while anything refers to it, and the others of [Store.Apply].
func (s *Store) DeleteRole(ctx context.Context, id access.RoleID) error {
	_, err := s.apply(ctx, &access.Batch{DeleteRoles: []access.RoleID{id}}, access.Ref{Kind: access.KindRole, ID: int64(id)})
	return err
}

// DeleteGroup deletes one group. Errors: one wrapping [access.ErrNotFound]
// if the store does not hold it, [access.ErrInUse] (naming the dependants)
// while anything refers to it, and the others of [Store.Apply].
func (s *Store) DeleteGroup(ctx context.Context, id access.GroupID) error {
	_, err := s.apply(ctx, &access.Batch{DeleteGroups: []access.GroupID{id}}, access.Ref{Kind: access.KindGroup, ID: int64(id)})
	return err
}

// DeleteAssociate deletes one associate. Errors: one wrapping
// [access.ErrNotFound] if the store does not hold it, [access.ErrInUse]
// (naming the dependants) while a group, rule, grant or impersonation
// names it, and the others of [Store.Apply].
func (s *Store) DeleteAssociate(ctx context.Context, id access.AssociateID) error {
	_, err := s.apply(ctx, &access.Batch{DeleteAssociates: []access.AssociateID{id}}, access.Ref{Kind: access.KindAssociate, ID: int64(id)})
	return err
}

func (s *Store) apply(ctx context.Context, b *access.Batch, must access.Ref) (access.Revision, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	if b.Empty() {
		return s.revision(ctx, s.pool)
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return 0, fmt.Errorf("postgres: apply: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	rev, err := s.applyIn(ctx, tx, b, must)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("postgres: apply: commit: %w", err)
	}
	s.watchers.Notify(rev)
	return rev, nil
}

// applyIn does the work of Apply in tx.
func (s *Store) applyIn(ctx context.Context, tx pgx.Tx, b *access.Batch, must access.Ref) (access.Revision, error) {
	c := txConn{tx}
	// The lock serialises writers for the rest of the transaction: each
	// validates against everything committed before it.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", s.lockKey); err != nil {
		return 0, fmt.Errorf("postgres: apply: taking the write lock: %w", err)
	}
	rev, err := sqlstore.Bump(ctx, c)
	if err != nil {
		return 0, fmt.Errorf("postgres: apply: %w", err)
	}
	if err := sqlstore.Apply(ctx, dialect, c, b, must, rev, s.opts.Now()); err != nil {
		return 0, err
	}
	if s.opts.KeepChanges > 0 || s.opts.KeepFor > 0 {
		if uint64(rev)%uint64(s.opts.TrimEvery) == 0 {
			if err := s.trim(ctx, c); err != nil {
				return 0, err
			}
		}
	}
	if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", s.channel, strconv.FormatUint(uint64(rev), 10)); err != nil {
		return 0, fmt.Errorf("postgres: apply: notify: %w", err)
	}
	return rev, nil
}

// Trim drops change-log entries beyond [Options.KeepChanges] and older than
// [Options.KeepFor] now, rather than at the next automatic trim. Changes
// from a revision before the trimmed entries returns a full delta.
//
// Errors: [ErrNotMigrated], [ErrSchemaTooNew], [ErrClosed]; ctx.Err() and
// database errors, wrapped.
func (s *Store) Trim(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: trim: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", s.lockKey); err != nil {
		return fmt.Errorf("postgres: trim: %w", err)
	}
	if err := s.trim(ctx, txConn{tx}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: trim: %w", err)
	}
	return nil
}

func (s *Store) trim(ctx context.Context, c sqlstore.Conn) error {
	var before time.Time
	if s.opts.KeepFor > 0 {
		before = s.opts.Now().Add(-s.opts.KeepFor)
	}
	return sqlstore.Trim(ctx, dialect, c, s.opts.KeepChanges, before)
}

// revision reads the latest committed revision through q.
func (s *Store) revision(ctx context.Context, q querier) (access.Revision, error) {
	rev, _, err := sqlstore.State(ctx, txConn{q})
	if err != nil {
		return 0, fmt.Errorf("postgres: %w", err)
	}
	return rev, nil
}
