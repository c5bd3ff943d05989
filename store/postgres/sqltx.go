package postgres

import (
	"context"
	"database/sql"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/sqlstore"
)

// ApplyTxSQL is [Store.ApplyTx] for an application that reaches
// PostgreSQL through database/sql: tx must belong to a *sql.DB that uses
// pgx's database/sql driver (github.com/jackc/pgx/v5/stdlib, registered
// as "pgx", or stdlib.OpenDB), which passes the store's array parameters
// through to pgx. Another driver fails with a database error. Everything
// else is as for ApplyTx: the caller commits or rolls back tx, the write
// lock is held until tx ends, the search_path of a Store opened with
// [Options.Schema] is set for the Store's statements and then restored,
// and after an error tx must be rolled back.
//
// Errors: as for [Store.Apply].
func (s *Store) ApplyTxSQL(ctx context.Context, tx *sql.Tx, b access.Batch) (access.Revision, error) {
	return s.applyTx(ctx, sqlConn{tx}, &b)
}

// sqlConn adapts a database/sql transaction over pgx's driver to
// sqlstore.Conn.
type sqlConn struct{ tx *sql.Tx }

var _ sqlstore.Conn = sqlConn{}

func (c sqlConn) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	rows, err := c.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (c sqlConn) Exec(ctx context.Context, q string, args ...any) error {
	_, err := c.tx.ExecContext(ctx, q, args...)
	return err
}

// maxParams is PostgreSQL's limit on the parameters of one statement.
const maxParams = 65535

// Insert writes rows with multi-row INSERTs: database/sql has no COPY.
func (c sqlConn) Insert(ctx context.Context, table string, cols []string, rows [][]any) error {
	per := max(1, maxParams/len(cols))
	for len(rows) > 0 {
		n := min(len(rows), per)
		q, args := insertSQL(table, cols, rows[:n])
		if _, err := c.tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// sqlRows drops the error of Close, which Err reports after the rows are
// read.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }
