package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/sqlstore/sqltest"
)

// transferRecords applies b and moves table's records in one
// transaction, for the shared test sqltest runs as TransferRecords.
func transferRecords(ctx context.Context, st sqltest.Store, b access.Batch, table string, cols access.Columns, tr access.Transfer) (int64, error) {
	s := st.(*Store)
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	rev, err := s.ApplyTx(ctx, tx, b)
	if err != nil {
		return 0, errors.Join(err, tx.Rollback())
	}
	n, err := TransferRecords(ctx, tx, table, cols, tr)
	if err != nil {
		return n, errors.Join(err, tx.Rollback())
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	s.Notify(rev)
	return n, nil
}

// query runs a query on the database at path outside any Store.
func query(ctx context.Context, path, query string) ([][]any, error) {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	r, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	cols, err := r.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]any
	for r.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, r.Err()
}
