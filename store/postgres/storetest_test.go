package postgres

import (
	"context"
	"sync"
	"testing"

	"github.com/crmaccess/access/store/storetest"
	"github.com/jackc/pgx/v5"
)

// TestStoretest runs the conformance suite on Stores opened from a DSN
// whose search_path names the schema.
func TestStoretest(t *testing.T) {
	testDSN(t)
	recycle(t, func() string { return newSchema(t) },
		func(ctx context.Context, dsn string) (*Store, error) { return Open(ctx, dsn, nil) },
		empty)
}

// recycle runs the conformance suite on migrated Stores that open returns
// for a key (a DSN, a schema name). The suite asks for over a hundred
// empty stores, one after another; creating, migrating and dropping a
// schema for each would take a minute, so a key a subtest is done with is
// emptied and handed to the next one, and fresh makes a new key only when
// none is free. The keys belong to the calling test alone.
func recycle(t *testing.T, fresh func() string, open func(ctx context.Context, key string) (*Store, error), empty func(ctx context.Context, key string) error) {
	var mu sync.Mutex
	var free []string
	storetest.Run(t, func(st *testing.T) storetest.Store {
		mu.Lock()
		var key string
		if n := len(free); n > 0 {
			key, free = free[n-1], free[:n-1]
		} else {
			key = fresh()
		}
		mu.Unlock()
		ctx := context.Background()
		s, err := open(ctx, key)
		if err != nil {
			st.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			s.Close()
			st.Fatal(err)
		}
		st.Cleanup(func() {
			s.Close()
			if err := empty(ctx, key); err != nil {
				st.Error(err)
				return
			}
			mu.Lock()
			free = append(free, key)
			mu.Unlock()
		})
		return s
	})
}

// empty deletes every row of the store's tables and resets the revision.
func empty(ctx context.Context, dsn string) error {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_name LIKE 'access\_%'
		AND table_name NOT IN ('access_schema', 'access_revision')`)
	if err != nil {
		return err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		for _, t := range tables {
			if _, err := tx.Exec(ctx, "DELETE FROM "+pgx.Identifier{t}.Sanitize()); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, "UPDATE access_revision SET revision = 0, log_floor = 0")
		return err
	})
}
