package sqlite

import (
	"context"

	"github.com/crmaccess/access"
)

// Changes returns what changed after revision since, up to the latest
// committed revision, read in one snapshot. The Batch
// holds the current values of the entities written after since and the
// ids of those deleted after since; each list is in id order. For since 0,
// a since older than the trimmed change log, or a since above the latest
// revision (the database was replaced), it returns a full delta: Full is
// true and the Batch holds the whole model.
//
// Errors: [ErrBadRow] (a [*RowError] naming the table and row) for a row
// the code cannot understand; [ErrNotMigrated], [ErrSchemaTooNew],
// [ErrClosed]; ctx.Err() and database errors, wrapped.
func (s *Store) Changes(ctx context.Context, since access.Revision) (access.Delta, error) {
	return s.core.Changes(ctx, since)
}

// Revision returns the latest committed revision.
//
// Errors: [ErrNotMigrated], [ErrSchemaTooNew], [ErrClosed]; ctx.Err() and
// database errors, wrapped.
func (s *Store) Revision(ctx context.Context) (access.Revision, error) {
	return s.core.Revision(ctx)
}

// Role returns the role with the given id.
//
// Errors: one wrapping [access.ErrNotFound]; [ErrBadRow]; [ErrNotMigrated],
// [ErrSchemaTooNew], [ErrClosed]; ctx.Err() and database errors, wrapped.
func (s *Store) Role(ctx context.Context, id access.RoleID) (access.Role, error) {
	return s.core.Role(ctx, id)
}

// Group returns the group with the given id.
//
// Errors: as for [Store.Role].
func (s *Store) Group(ctx context.Context, id access.GroupID) (access.Group, error) {
	return s.core.Group(ctx, id)
}

// Associate returns the associate with the given id.
//
// Errors: as for [Store.Role].
func (s *Store) Associate(ctx context.Context, id access.AssociateID) (access.Associate, error) {
	return s.core.Associate(ctx, id)
}

// AssociateByName returns the associate whose name folds (see
// [access.FoldName]) to the same string as name.
//
// Errors: as for [Store.Role].
func (s *Store) AssociateByName(ctx context.Context, name string) (access.Associate, error) {
	return s.core.AssociateByName(ctx, name)
}

// Category returns the category with the given id.
//
// Errors: as for [Store.Role].
func (s *Store) Category(ctx context.Context, id access.CategoryID) (access.Category, error) {
	return s.core.Category(ctx, id)
}

// Licence returns the licence with the given id.
//
// Errors: as for [Store.Role].
func (s *Store) Licence(ctx context.Context, id access.LicenceID) (access.Licence, error) {
	return s.core.Licence(ctx, id)
}

// PastOwnersIn lists, by id, the past owners whose primary group is g
// (see [access.View.PastOwnersIn]).
//
// Errors: as for [Store.Dependants].
func (s *Store) PastOwnersIn(ctx context.Context, g access.GroupID) ([]access.PastOwner, error) {
	return s.core.PastOwnersIn(ctx, g)
}

// Dependants lists the entities that refer to ref (see
// [access.View.Dependants]), in kind and id order.
//
// Errors: [ErrNotMigrated], [ErrSchemaTooNew], [ErrClosed]; ctx.Err() and
// database errors, wrapped.
func (s *Store) Dependants(ctx context.Context, ref access.Ref) ([]access.Ref, error) {
	return s.core.Dependants(ctx, ref)
}
