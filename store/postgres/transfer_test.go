package postgres

import (
	"context"
	"errors"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/sqlstore/sqltest"
	"github.com/jackc/pgx/v5"
)

// transferRecords applies b and moves table's records in one
// transaction, for the shared test sqltest runs as TransferRecords.
func transferRecords(ctx context.Context, st sqltest.Store, b access.Batch, table string, cols access.Columns, tr access.Transfer) (int64, error) {
	s := st.(*Store)
	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		return 0, err
	}
	if _, err := s.ApplyTx(ctx, tx, b); err != nil {
		return 0, errors.Join(err, tx.Rollback(ctx))
	}
	n, err := TransferRecords(ctx, tx, table, cols, tr)
	if err != nil {
		return n, errors.Join(err, tx.Rollback(ctx))
	}
	return n, tx.Commit(ctx)
}

// query runs a query on the database at dsn outside any Store.
func query(ctx context.Context, dsn, query string) ([][]any, error) {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer c.Close(ctx)
	r, err := c.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out [][]any
	for r.Next() {
		row, err := r.Values()
		if err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, r.Err()
}

// qualify returns table qualified by the schema dsn's search_path selects.
func qualify(dsn, table string) string {
	c, err := pgx.ParseConfig(dsn)
	if err != nil {
		return table
	}
	return c.RuntimeParams["search_path"] + "." + table
}
