package sqlite

import (
	"context"
	"database/sql"

	"github.com/crmaccess/access"
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
// An error means the batch did not take effect: Apply never returns
// [access.ErrCommitUnknown]. SQLite commits locally and says whether it
// did; Apply checks ctx just before COMMIT and does not let ctx interrupt
// COMMIT, so it may return a COMMIT's duration (writing the batch's pages)
// after the deadline.
//
// Errors: those of [access.Batch.Validate] (wrapping [access.ErrInvalid],
// [access.ErrCycle], [access.ErrNameTaken] or [access.ErrInUse]), returned
// as they are;
// [access.ErrExists] for a CreateOnly put of a held id,
// [access.ErrConflict] when ExpectRevision is not the store's revision,
// [access.ErrNotFound] for a patch of a missing entity;
// [ErrNotMigrated], [ErrSchemaTooNew], [ErrBadRow] and
// [ErrClosed]; ctx.Err() and database errors (SQLITE_BUSY after
// [Options.BusyTimeout]), wrapped.
func (s *Store) Apply(ctx context.Context, b access.Batch) (access.Revision, error) {
	return s.core.Apply(ctx, &b, access.Ref{})
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
// The caller commits tx. SQLite commits locally, and the driver's
// transactions (those begun on DB) report a COMMIT that ran as a success
// even if their context ends during it, so a Commit error means the batch
// did not take effect.
//
// Errors: as for Apply. After an error the caller must roll tx back.
func (s *Store) ApplyTx(ctx context.Context, tx *sql.Tx, b access.Batch) (access.Revision, error) {
	return s.core.ApplyTx(ctx, s.conn(tx), &b)
}

// Notify calls this Store's watchers with rev, as Apply does after
// commit. Use it after committing a transaction passed to [Store.ApplyTx].
func (s *Store) Notify(rev access.Revision) { s.core.Notify(rev) }

// PutRole inserts or replaces one role. Errors: as for [Store.Apply].
func (s *Store) PutRole(ctx context.Context, r access.Role) error {
	return s.core.PutRole(ctx, r)
}

// PutGroup inserts or replaces one group. Errors: as for [Store.Apply].
func (s *Store) PutGroup(ctx context.Context, g access.Group) error {
	return s.core.PutGroup(ctx, g)
}

// PutAssociate inserts or replaces one associate. Errors: as for
// [Store.Apply].
func (s *Store) PutAssociate(ctx context.Context, a access.Associate) error {
	return s.core.PutAssociate(ctx, a)
}

// DeleteRole deletes one role. Errors: one wrapping [access.ErrNotFound]
// if the store does not hold it, [access.ErrInUse] (naming the dependants)
// while anything refers to it, and the others of [Store.Apply].
func (s *Store) DeleteRole(ctx context.Context, id access.RoleID) error {
	return s.core.DeleteRole(ctx, id)
}

// DeleteGroup deletes one group. Errors: one wrapping [access.ErrNotFound]
// if the store does not hold it, [access.ErrInUse] (naming the dependants)
// while anything refers to it, and the others of [Store.Apply].
func (s *Store) DeleteGroup(ctx context.Context, id access.GroupID) error {
	return s.core.DeleteGroup(ctx, id)
}

// DeleteAssociate deletes one associate. Errors: one wrapping
// [access.ErrNotFound] if the store does not hold it, [access.ErrInUse]
// (naming the dependants) while a group, rule, grant or impersonation
// names it, and the others of [Store.Apply].
func (s *Store) DeleteAssociate(ctx context.Context, id access.AssociateID) error {
	return s.core.DeleteAssociate(ctx, id)
}

// Trim drops change-log entries beyond [Options.KeepChanges] and older than
// [Options.KeepFor] now, rather than at the next automatic trim. Changes
// from a revision before the trimmed entries returns a full delta.
//
// Errors: [ErrNotMigrated], [ErrSchemaTooNew], [ErrClosed]; ctx.Err() and
// database errors, wrapped.
func (s *Store) Trim(ctx context.Context) error {
	return s.core.Trim(ctx)
}
