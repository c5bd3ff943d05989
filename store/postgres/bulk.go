package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/crmaccess/access/internal/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A large write suspends the foreign keys of the tables it writes: it
// drops them before its first row and adds them back after its last,
// which checks every row of each table at once (one join per key),
// where PostgreSQL otherwise checks each row inserted or deleted on its
// own — at a million associates, most of an import's time and all of its
// COMMIT's. Dropping a key takes an ACCESS EXCLUSIVE lock on both its
// tables until the transaction ends, so meanwhile readers of those tables
// wait. The write takes the locks first, all in one statement that never
// waits (see lockAll), so that it neither aborts a reader nor is aborted;
// when it cannot get them it writes row by row.
//
// bulkPolicy says which writes do so: those that insert at least rows
// rows, and at least a share-th of the rows the tables they write already
// hold (PostgreSQL's estimate), since adding the keys back checks the
// whole tables, not only the new rows. Tests lower it to send every write
// this way.
type bulkPolicy struct {
	rows  int
	share int64  // 0: whatever the tables hold (tests)
	tries int    // attempts to lock the tables (see lockAll)
	taken func() // called for each write that takes the path, in tests
}

var defaultBulk = bulkPolicy{rows: 100_000, share: 4, tries: 5}

// foreignKey is a foreign key as the catalogue defines it.
type foreignKey struct {
	name, table, refTable, def string
}

// Bulk suspends the foreign keys between tables and any other table of
// the store, in the store's schema, when the write is large, the current user owns the tables (only their
// owner may alter them) and the write is not small beside what the tables
// hold; see [sqlstore.Bulk]. The keys of an application's tables that
// refer to the store's stay in force: their actions (ON DELETE CASCADE,
// SET NULL) must still act on each row the write deletes.
func (c txConn) Bulk(ctx context.Context, tables []string, rows int) (func(ctx context.Context) error, error) {
	if c.bulk == nil || rows < c.bulk.rows {
		return nil, nil
	}
	res, err := c.q.Query(ctx, `SELECT k.conname, t.relname, r.relname, pg_get_constraintdef(k.oid),
		pg_has_role(t.relowner, 'USAGE') AND pg_has_role(r.relowner, 'USAGE'),
		CASE WHEN t.relname = ANY($1) THEN t.reltuples::bigint ELSE 0 END
		FROM pg_constraint k
		JOIN pg_class t ON t.oid = k.conrelid
		JOIN pg_class r ON r.oid = k.confrelid
		WHERE k.contype = 'f'
		AND t.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
		AND r.relnamespace = t.relnamespace
		AND t.relname = ANY($2) AND r.relname = ANY($2)
		AND (t.relname = ANY($1) OR r.relname = ANY($1))
		ORDER BY t.relname, k.conname`, tables, sqlstore.Tables())
	if err != nil {
		return nil, err
	}
	var keys []foreignKey
	owner := true
	held := map[string]int64{}
	for res.Next() {
		var k foreignKey
		var own bool
		var n int64
		if err := res.Scan(&k.name, &k.table, &k.refTable, &k.def, &own, &n); err != nil {
			res.Close()
			return nil, err
		}
		keys = append(keys, k)
		owner = owner && own
		held[k.table] = n
	}
	res.Close()
	if err := res.Err(); err != nil {
		return nil, err
	}
	if len(keys) == 0 || !owner {
		return nil, nil
	}
	if c.bulk.share > 0 {
		// A table never vacuumed nor analysed has no estimate (-1): count
		// its rows, only as far as the answer needs.
		limit := int64(rows)*c.bulk.share + 1
		var stored int64
		for t, n := range held {
			if n < 0 && stored < limit {
				err := c.q.QueryRow(ctx, "SELECT count(*) FROM (SELECT FROM "+pgx.Identifier{t}.Sanitize()+" LIMIT $1) x", limit).Scan(&n)
				if err != nil {
					return nil, err
				}
			}
			stored += max(n, 0)
		}
		if int64(rows)*c.bulk.share < stored {
			return nil, nil
		}
	}

	// Lock every table a key joins, in the order readers take them.
	order := sqlstore.Tables()
	rank := func(t string) int {
		if i := slices.Index(order, t); i >= 0 {
			return i
		}
		return len(order)
	}
	var lock []string
	for _, k := range keys {
		lock = append(lock, k.table, k.refTable)
	}
	slices.SortStableFunc(lock, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	lock = slices.Compact(lock)
	var lockSQL, drop, add strings.Builder
	lockSQL.WriteString("LOCK TABLE ")
	for i, t := range lock {
		if i > 0 {
			lockSQL.WriteString(", ")
		}
		lockSQL.WriteString(pgx.Identifier{t}.Sanitize())
	}
	lockSQL.WriteString(" IN ACCESS EXCLUSIVE MODE")
	if ok, err := c.lockAll(ctx, lockSQL.String()); err != nil || !ok {
		return nil, err
	}
	// A table with checks still pending in the transaction cannot be
	// altered, nor can the table a dropped key refers to: make them now
	// (an ApplyTx after another, in one transaction), failing as COMMIT
	// would for a row that refers to nothing. The pending checks may be
	// those of any deferrable key with a trigger on a table the keys join,
	// not only of the keys dropped (a new role's parent, when a write of
	// associates drops their key to access_role).
	idents := make([]string, len(lock))
	for i, t := range lock {
		idents[i] = pgx.Identifier{t}.Sanitize()
	}
	res, err = c.q.Query(ctx, `SELECT n.nspname, k.conname, k.condeferred
		FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
		WHERE k.condeferrable
		AND (k.conrelid = ANY($1::text[]::regclass[]) OR k.confrelid = ANY($1::text[]::regclass[]))
		ORDER BY 1, 2`, idents)
	if err != nil {
		return nil, err
	}
	var pending, deferred []string
	for res.Next() {
		var nsp, name string
		var initially bool
		if err := res.Scan(&nsp, &name, &initially); err != nil {
			res.Close()
			return nil, err
		}
		pending = append(pending, pgx.Identifier{nsp, name}.Sanitize())
		if initially {
			deferred = append(deferred, pending[len(pending)-1])
		}
	}
	res.Close()
	if err := res.Err(); err != nil {
		return nil, err
	}
	if len(pending) > 0 {
		drop.WriteString("SET CONSTRAINTS " + strings.Join(pending, ", ") + " IMMEDIATE;\n")
	}
	if len(deferred) > 0 {
		// Back to deferred, for the keys not dropped (a dropped key
		// comes back as its definition says).
		drop.WriteString("SET CONSTRAINTS " + strings.Join(deferred, ", ") + " DEFERRED;\n")
	}
	for i, k := range keys {
		t, name := pgx.Identifier{k.table}.Sanitize(), pgx.Identifier{k.name}.Sanitize()
		if i == 0 || keys[i-1].table != k.table {
			if i > 0 {
				drop.WriteString(";\n")
				add.WriteString(";\n")
			}
			drop.WriteString("ALTER TABLE " + t)
			add.WriteString("ALTER TABLE " + t)
		} else {
			drop.WriteString(",")
			add.WriteString(",")
		}
		drop.WriteString(" DROP CONSTRAINT " + name)
		add.WriteString(" ADD CONSTRAINT " + name + " " + k.def)
	}
	if _, err := c.q.Exec(ctx, drop.String()); err != nil {
		return nil, err
	}
	if c.bulk.taken != nil {
		c.bulk.taken()
	}
	restore := add.String()
	return func(ctx context.Context) error {
		_, err := c.q.Exec(ctx, restore)
		return err
	}, nil
}

// lockAll runs lock, a LOCK TABLE statement, with NOWAIT, in a
// savepoint rolled back (with the locks it got) when a table is held:
// the write never waits for a table lock. It holds the store's write
// lock, and a transaction that holds one of the tables (a reader, or an
// application's transaction that has read or referred to a table) may be
// waiting for that lock, as ApplyTx does; a wait of the write's for the
// table would close the circle, and PostgreSQL's deadlock check would
// abort one of them, however short the wait. It tries again after a
// pause, up to c.bulk.tries times, and then reports false: the write goes
// row by row instead.
func (c txConn) lockAll(ctx context.Context, lock string) (bool, error) {
	for try := 1; ; try++ {
		if _, err := c.q.Exec(ctx, "SAVEPOINT access_bulk_lock"); err != nil {
			return false, err
		}
		_, err := c.q.Exec(ctx, lock+" NOWAIT")
		if err == nil {
			_, err := c.q.Exec(ctx, "RELEASE SAVEPOINT access_bulk_lock")
			return err == nil, err
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "55P03" { // lock_not_available
			return false, err
		}
		if _, err := c.q.Exec(ctx, "ROLLBACK TO SAVEPOINT access_bulk_lock"); err != nil {
			return false, err
		}
		if try >= c.bulk.tries {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(time.Duration(try) * 50 * time.Millisecond):
		}
	}
}
