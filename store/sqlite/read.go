package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/sqlstore"
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
	var d access.Delta
	err := s.read(ctx, func(c sqlstore.Conn) (err error) {
		d, err = sqlstore.Changes(ctx, dialect, c, since)
		return err
	})
	if err != nil {
		return access.Delta{}, err
	}
	return d, nil
}

// Revision returns the latest committed revision.
//
// Errors: [ErrNotMigrated], [ErrSchemaTooNew], [ErrClosed]; ctx.Err() and
// database errors, wrapped.
func (s *Store) Revision(ctx context.Context) (access.Revision, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	return s.revision(ctx, s.db)
}

// read runs fn in a read-only transaction, so that everything fn reads
// belongs to one committed state.
func (s *Store) read(ctx context.Context, fn func(c sqlstore.Conn) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	defer tx.Rollback()
	if err := fn(conn{tx}); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

// view runs fn with an access.View of the latest committed state.
func (s *Store) view(ctx context.Context, fn func(v *sqlstore.View) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	defer tx.Rollback()
	return fn(sqlstore.NewView(dialect, conn{tx}))
}

// Role returns the role with the given id.
//
// Errors: one wrapping [access.ErrNotFound]; [ErrBadRow]; [ErrNotMigrated],
// [ErrSchemaTooNew], [ErrClosed]; ctx.Err() and database errors, wrapped.
func (s *Store) Role(ctx context.Context, id access.RoleID) (r access.Role, err error) {
	err = s.view(ctx, func(v *sqlstore.View) error { r, err = v.Role(ctx, id); return err })
	return r, err
}

// Group returns the group with the given id.
//
// Errors: as for [Store.Role].
func (s *Store) Group(ctx context.Context, id access.GroupID) (g access.Group, err error) {
	err = s.view(ctx, func(v *sqlstore.View) error { g, err = v.Group(ctx, id); return err })
	return g, err
}

// Associate returns the associate with the given id.
//
// Errors: as for [Store.Role].
func (s *Store) Associate(ctx context.Context, id access.AssociateID) (a access.Associate, err error) {
	err = s.view(ctx, func(v *sqlstore.View) error { a, err = v.Associate(ctx, id); return err })
	return a, err
}

// AssociateByName returns the associate whose name folds (see
// [access.FoldName]) to the same string as name.
//
// Errors: as for [Store.Role].
func (s *Store) AssociateByName(ctx context.Context, name string) (a access.Associate, err error) {
	err = s.view(ctx, func(v *sqlstore.View) error { a, err = v.AssociateByName(ctx, name); return err })
	return a, err
}

// Category returns the category with the given id.
//
// Errors: as for [Store.Role].
func (s *Store) Category(ctx context.Context, id access.CategoryID) (c access.Category, err error) {
	err = s.view(ctx, func(v *sqlstore.View) error { c, err = v.Category(ctx, id); return err })
	return c, err
}

// Dependants lists the entities that refer to ref (see
// [access.View.Dependants]), in kind and id order.
//
// Errors: [ErrNotMigrated], [ErrSchemaTooNew], [ErrClosed]; ctx.Err() and
// database errors, wrapped.
func (s *Store) Dependants(ctx context.Context, ref access.Ref) (deps []access.Ref, err error) {
	err = s.view(ctx, func(v *sqlstore.View) error { deps, err = v.Dependants(ctx, ref); return err })
	return deps, err
}
