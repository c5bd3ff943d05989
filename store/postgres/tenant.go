package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/sqlstore"
	"github.com/jackc/pgx/v5"
)

// checkSchema checks a name given as Options.Schema: a plain lower-case
// identifier, which PostgreSQL reads alike quoted or not, and not one of
// the names reserved for system schemas.
func checkSchema(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("postgres: Options.Schema %q: %s: %w", name, why, access.ErrInvalid)
	}
	switch {
	case name == "":
		return bad("empty")
	case len(name) > 63:
		return bad("longer than 63 bytes")
	case strings.HasPrefix(name, "pg_"):
		return bad("pg_ names are reserved for system schemas")
	case name[0] >= '0' && name[0] <= '9':
		return bad("starts with a digit")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return bad("only a-z, 0-9 and _ may name a schema")
		}
	}
	return nil
}

// shortConn runs each statement of a Store opened with Options.Schema in
// a short transaction of its own, which sets the search_path first (in
// BEGIN's round trip): it is the Store's DB, for the statements the core
// runs outside a transaction (the schema version, the revision).
type shortConn struct{ s *Store }

func (c shortConn) Query(ctx context.Context, sql string, args ...any) (sqlstore.Rows, error) {
	tx, err := c.s.pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: c.s.beginShort})
	if err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		tx.Rollback(context.WithoutCancel(ctx))
		return nil, err
	}
	return &shortRows{Rows: rows, tx: tx, ctx: ctx}, nil
}

func (c shortConn) Exec(ctx context.Context, sql string, args ...any) error {
	return pgx.BeginTxFunc(ctx, c.s.pool, pgx.TxOptions{BeginQuery: c.s.beginShort}, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, sql, args...)
		return err
	})
}

func (c shortConn) Insert(ctx context.Context, table string, cols []string, rows [][]any) error {
	return pgx.BeginTxFunc(ctx, c.s.pool, pgx.TxOptions{BeginQuery: c.s.beginShort}, func(tx pgx.Tx) error {
		return txConn{q: tx}.Insert(ctx, table, cols, rows)
	})
}

// shortRows are a shortConn query's rows; Close ends their transaction,
// which only read.
type shortRows struct {
	pgx.Rows
	tx  pgx.Tx
	ctx context.Context
	err error
}

func (r *shortRows) Close() {
	if r.tx == nil {
		return
	}
	r.Rows.Close()
	r.err = r.tx.Rollback(context.WithoutCancel(r.ctx))
	r.tx = nil
}

func (r *shortRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	if r.err != nil && !errors.Is(r.err, pgx.ErrTxClosed) {
		return r.err
	}
	return nil
}

// enter sets, for a Store opened with Options.Schema, the search_path of
// the caller's transaction c to the store's schema (local to the
// transaction), and returns the function that puts the caller's back. For
// other Stores it does nothing.
func (s *Store) enter(ctx context.Context, c sqlstore.Conn) (restore func() error, err error) {
	if s.searchPath == "" {
		return func() error { return nil }, nil
	}
	// OFFSET 0 keeps the subquery apart, so the old value is read before
	// the new one is set.
	rows, err := c.Query(ctx, `SELECT o.old, set_config('search_path', $1, true)
		FROM (SELECT current_setting('search_path') AS old OFFSET 0) o`, s.searchPath)
	if err != nil {
		return nil, fmt.Errorf("postgres: apply: setting the search_path: %w", err)
	}
	var old, set string
	if rows.Next() {
		err = rows.Scan(&old, &set)
	}
	rows.Close()
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: apply: setting the search_path: %w", err)
	}
	return func() error {
		if err := c.Exec(context.WithoutCancel(ctx), "SELECT set_config('search_path', $1, true)", old); err != nil {
			return fmt.Errorf("postgres: apply: restoring the search_path: %w", err)
		}
		return nil
	}, nil
}

// applyTx is ApplyTx and ApplyTxSQL: it runs the core's ApplyTx in the
// store's schema and then puts the caller's search_path back, after an
// error as well (as far as the transaction still allows).
func (s *Store) applyTx(ctx context.Context, c sqlstore.Conn, b *access.Batch) (access.Revision, error) {
	if err := s.core.Check(ctx); err != nil {
		return 0, err
	}
	restore, err := s.enter(ctx, c)
	if err != nil {
		return 0, err
	}
	rev, err := s.core.ApplyTx(ctx, c, b)
	if rerr := restore(); err == nil && rerr != nil {
		return 0, rerr
	}
	return rev, err
}
