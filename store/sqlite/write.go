package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/sqlstore"
)

// Apply validates b against the store's current model (see
// [access.Batch.Validate]) and commits all of it or none of it in one
// write transaction, returning the new revision. Each committed batch
// raises the revision by exactly one; an empty batch commits nothing and
// returns the current revision. Deleting an id the store does not hold is
// not an error and changes nothing. Before Apply returns, every watcher of
// this Store has been called with this revision or a later one; other
// Stores on the same file learn of it when they next poll.
//
// Errors: those of [access.Batch.Validate] (wrapping [access.ErrInvalid],
// [access.ErrCycle], [access.ErrNameTaken] or [access.ErrInUse]), returned
// as they are; [ErrNotMigrated], [ErrSchemaTooNew], [ErrBadRow] and
// [ErrClosed]; ctx.Err() and database errors (SQLITE_BUSY after
// [Options.BusyTimeout]), wrapped.
func (s *Store) Apply(ctx context.Context, b access.Batch) (access.Revision, error) {
	return s.apply(ctx, &b, access.Ref{})
}

// ApplyTx is Apply inside the caller's transaction tx, which the caller
// commits or rolls back: an application writes a user and its own rows
// atomically. Begin tx on [Store.DB], whose transactions take the write
// lock at once; a transaction on another handle must not have read the
// database before ApplyTx, or SQLite may refuse its write as stale
// (SQLITE_BUSY). The returned revision is the batch's if tx commits.
// Because the Store cannot see the commit, call [Store.Notify] afterwards
// for its watchers to hear of it at once; otherwise they learn of it at
// the next poll.
//
// Errors: as for Apply. After an error the caller must roll tx back.
func (s *Store) ApplyTx(ctx context.Context, tx *sql.Tx, b access.Batch) (access.Revision, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	if b.Empty() {
		return s.revision(ctx, tx)
	}
	return s.applyIn(ctx, conn{tx}, &b, access.Ref{})
}

// Notify calls this Store's watchers with rev, as Apply does after
// commit. Use it after committing a transaction passed to [Store.ApplyTx].
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
		return s.revision(ctx, s.db)
	}
	rev, err := s.write(ctx, func(c sqlstore.Conn) (access.Revision, error) {
		return s.applyIn(ctx, c, b, must)
	})
	if err != nil {
		return 0, err
	}
	s.watchers.Notify(rev)
	return rev, nil
}

// applyIn does the work of Apply in c's transaction.
func (s *Store) applyIn(ctx context.Context, c sqlstore.Conn, b *access.Batch, must access.Ref) (access.Revision, error) {
	// Raising the revision first takes the write lock (if the transaction
	// does not hold it yet) before anything is validated.
	rev, err := sqlstore.Bump(ctx, c)
	if err != nil {
		return 0, fmt.Errorf("sqlite: apply: %w", err)
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
	_, err := s.write(ctx, func(c sqlstore.Conn) (access.Revision, error) { return 0, s.trim(ctx, c) })
	return err
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
	rev, _, err := sqlstore.State(ctx, conn{q})
	if err != nil {
		return 0, fmt.Errorf("sqlite: %w", err)
	}
	return rev, nil
}
