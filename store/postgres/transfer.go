package postgres

import (
	"context"
	"fmt"

	"github.com/crmaccess/access"
	"github.com/jackc/pgx/v5"
)

// TransferRecords rewrites the application's records in table inside the
// caller's transaction tx, as t says (see [access.Transfer.SQL]): a group
// transfer moves the group and team columns of cols, an associate
// transfer the owner column. It returns the number of rows changed.
//
// Apply the batch of [access.TransferGroup] or [access.TransferAssociate]
// with [Store.ApplyTx] in the same tx, call TransferRecords for every
// table that holds records, then commit: the model and the records move
// together or not at all. Team-owned records never lose their owners
// that way; deleting a group without it leaves their team column naming a
// deleted group.
//
// Errors: those of [access.Transfer.SQL] (wrapping [access.ErrInvalid]),
// and the database's, as they are. After an error the caller must roll tx
// back; nothing of it then remains.
func TransferRecords(ctx context.Context, tx pgx.Tx, table string, cols access.Columns, t access.Transfer) (int64, error) {
	q, args, err := t.SQL(access.PostgreSQL, table, cols)
	if err != nil {
		return 0, err
	}
	tag, err := tx.Exec(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("postgres: transfer %s in %s: %w", t, table, err)
	}
	return tag.RowsAffected(), nil
}
