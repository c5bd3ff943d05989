package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/crmaccess/access/internal/sqlstore/sqltest"
	"github.com/jackc/pgx/v5"
)

// testDSN returns the DSN of the test server, or skips the test when
// ACCESS_TEST_POSTGRES_DSN is unset.
func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("ACCESS_TEST_POSTGRES_DSN")
	if dsn == "" {
		noticePostgresSkipped()
		tb.Skip("ACCESS_TEST_POSTGRES_DSN is not set")
	}
	return dsn
}

// withSearchPath returns dsn with its search_path set to schema.
func withSearchPath(tb testing.TB, dsn, schema string) string {
	tb.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			tb.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// newSchema creates a fresh schema, dropped when the test ends, and
// returns a DSN that selects it.
func newSchema(tb testing.TB) string {
	tb.Helper()
	dsn := testDSN(tb)
	var b [6]byte
	rand.Read(b[:])
	schema := "access_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Error(err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Error(err)
		}
	})
	return withSearchPath(tb, dsn, schema)
}

// open opens a Store on dsn, migrated, closed when the test ends.
func open(tb testing.TB, dsn string, opts *Options) *Store {
	tb.Helper()
	return sqltest.Migrated(tb, func(ctx context.Context) (*Store, error) { return Open(ctx, dsn, opts) })
}

// engine tells the shared tests about this package.
var engine = sqltest.Engine{
	Name:  "postgres",
	NewDB: newSchema,
	Open: func(ctx context.Context, dsn string, o *sqltest.Options) (sqltest.Store, error) {
		var opts *Options
		if o != nil {
			opts = &Options{KeepChanges: o.KeepChanges, KeepFor: o.KeepFor, TrimEvery: o.TrimEvery, Now: o.Now}
		}
		s, err := Open(ctx, dsn, opts)
		if err != nil {
			return nil, err
		}
		return s, nil
	},
	MigrateTo: func(ctx context.Context, s sqltest.Store, version int) error {
		return s.(*Store).migrateTo(ctx, version)
	},
	Exec: func(ctx context.Context, dsn, sql string, args ...any) error {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		_, err = c.Exec(ctx, sql, args...)
		return err
	},
	Query:           query,
	Qualify:         qualify,
	TransferRecords: transferRecords,
	ErrClosed:       ErrClosed,
	BadRows: []sqltest.BadRow{
		{Name: "infinite time", SQL: `UPDATE access_associate SET valid_to = 'infinity' WHERE id = 100`,
			Want: "table access_associate row 100: valid_to: infinity is not a time"},
		{Name: "year 200000", SQL: `UPDATE access_associate SET valid_to = '200000-01-01 00:00:00+00' WHERE id = 100`,
			Want: "table access_associate row 100: valid_to: 200000-01-01T00:00:00Z is outside the years 1 to 9999"},
		{Name: "year 0", SQL: `UPDATE access_associate SET valid_from = '0001-06-01 00:00:00+00 BC' WHERE id = 100`,
			Want: "table access_associate row 100: valid_from: 0000-06-01T00:00:00Z is outside the years 1 to 9999"},
	},
}

// TestSQLTest runs the tests the SQL adapters share.
func TestSQLTest(t *testing.T) {
	testDSN(t)
	t.Parallel()
	sqltest.Run(t, engine)
}

func TestEmbeddedMigrations(t *testing.T) {
	if errMigrations != nil {
		t.Fatal(errMigrations)
	}
}
