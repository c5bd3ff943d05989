package postgres

import (
	"context"

	"github.com/crmaccess/access"
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
// An error means the batch did not take effect, with one exception: an
// error wrapping [access.ErrCommitUnknown] says the connection was lost (or
// no answer came within 30 seconds, plus 50 microseconds for each row the
// batch writes) while the server was committing, so
// the batch may have taken effect. Its [*access.CommitError] holds the
// revision the batch has if it did, and [Store.Committed] tells whether it
// did. Apply checks ctx once more just before COMMIT and does not let ctx
// cut COMMIT short, so that a deadline never leaves the outcome unknown;
// it may therefore return a COMMIT's round trip after the deadline.
//
// A batch that writes 100,000 rows or more, and at least a quarter as
// many as the tables it writes hold, is written with those tables' foreign
// keys suspended (see the package documentation): readers of the tables
// wait until it commits, and it checks every row of them before it does.
//
// Errors: those of [access.Batch.Validate] (wrapping [access.ErrInvalid],
// [access.ErrCycle], [access.ErrNameTaken] or [access.ErrInUse]), returned
// as they are;
// [access.ErrExists] for a CreateOnly put of a held id,
// [access.ErrConflict] when ExpectRevision is not the store's revision,
// [access.ErrNotFound] for a patch of a missing entity;
// [ErrNotMigrated], [ErrSchemaTooNew], [ErrBadRow] and
// [ErrClosed]; [access.ErrCommitUnknown]; ctx.Err() and database errors,
// wrapped.
func (s *Store) Apply(ctx context.Context, b access.Batch) (access.Revision, error) {
	return s.core.Apply(ctx, &b, access.Ref{})
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
// For a Store opened with [Options.Schema], ApplyTx sets tx's search_path
// to that schema (SET LOCAL) for its own statements and sets the caller's
// value back before it returns, so the caller's statements before and
// after reach the caller's tables; after an error that aborted tx the
// value is restored by the rollback the caller owes. That costs two round
// trips more.
//
// tx should be READ COMMITTED (PostgreSQL's default). In a REPEATABLE READ
// or SERIALIZABLE transaction whose snapshot predates another writer's
// commit, ApplyTx fails with a serialization error rather than validate
// against stale data.
//
// The caller commits tx, so the caller owns the case where the connection
// is lost during COMMIT. To be able to find out afterwards, read the
// transaction id in tx before committing (SELECT
// pg_current_xact_id()::text::bigint) and pass it with the revision to
// [Store.Committed] as an [access.CommitError].
//
// A large write here goes row by row, never by suspending the tables'
// foreign keys as a large [Store.Apply] may: the transaction is the
// caller's, which may hold locks of its own and must not be left, after
// an error, with the keys gone.
//
// Errors: as for Apply, but never [access.ErrCommitUnknown]. After an
// error the caller must roll tx back.
func (s *Store) ApplyTx(ctx context.Context, tx pgx.Tx, b access.Batch) (access.Revision, error) {
	return s.applyTx(ctx, txConn{q: tx}, &b)
}

// Notify calls this Store's watchers with rev, as Apply does after
// commit. Use it after committing a transaction passed to [Store.ApplyTx]
// when the watchers must see the write before NOTIFY arrives.
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
// database errors, wrapped; [access.ErrCommitUnknown] if the connection is
// lost during COMMIT (a trim may simply be repeated).
func (s *Store) Trim(ctx context.Context) error { return s.core.Trim(ctx) }
