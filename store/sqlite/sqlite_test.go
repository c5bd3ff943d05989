package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/crmaccess/access/internal/sqlstore/sqltest"
)

// newPath returns the path of a fresh database file, removed when the
// test ends.
func newPath(tb testing.TB) string {
	return filepath.Join(tb.TempDir(), "access.db")
}

// open opens a Store on path, migrated, closed when the test ends.
func open(tb testing.TB, path string, opts *Options) *Store {
	tb.Helper()
	return sqltest.Migrated(tb, func(ctx context.Context) (*Store, error) { return Open(ctx, path, opts) })
}

// engine tells the shared tests about this package.
var engine = sqltest.Engine{
	Name:  "sqlite",
	NewDB: newPath,
	Open: func(ctx context.Context, path string, o *sqltest.Options) (sqltest.Store, error) {
		var opts *Options
		if o != nil {
			opts = &Options{KeepChanges: o.KeepChanges, KeepFor: o.KeepFor, TrimEvery: o.TrimEvery, Now: o.Now,
				PollInterval: o.PollInterval}
		}
		s, err := Open(ctx, path, opts)
		if err != nil {
			return nil, err
		}
		return s, nil
	},
	MigrateTo: func(ctx context.Context, s sqltest.Store, version int) error {
		return s.(*Store).migrateTo(ctx, version)
	},
	Exec: func(ctx context.Context, path, query string, args ...any) error {
		db, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)")
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(ctx, query, args...)
		return err
	},
	Query:           query,
	Qualify:         func(_, table string) string { return "main." + table },
	TransferRecords: transferRecords,
	ErrClosed:       ErrClosed,
	BadRows: []sqltest.BadRow{
		{Name: "time", SQL: `UPDATE access_associate SET valid_to = 'soon' WHERE id = 100`,
			Want: `table access_associate row 100: valid_to: "soon" is not a time`},
		// What the code wrote before years were bounded: a load must name
		// the row rather than stop every resolver without saying where.
		{Name: "year 10000", SQL: `UPDATE access_associate SET valid_to = '10000-01-01T00:00:00.000000000Z' WHERE id = 100`,
			Want: `table access_associate row 100: valid_to: "10000-01-01T00:00:00.000000000Z" is not a time`},
		{Name: "year 0", SQL: `UPDATE access_associate SET valid_from = '0000-06-01T00:00:00Z' WHERE id = 100`,
			Want: `table access_associate row 100: valid_from: 0000-06-01T00:00:00Z is outside the years 1 to 9999`},
		{Name: "type affinity", SQL: `UPDATE access_associate SET company = 'ACME' WHERE id = 102`,
			Want: "table access_associate row number 3 in key order: "},
		{Name: "orphan", SQL: `PRAGMA foreign_keys = OFF; INSERT INTO access_associate_project VALUES (999, 0, 1)`,
			Want: "table access_associate_project row (999, 0): associate 999 does not exist", NotLogged: true},
	},
}

// TestSQLTest runs the tests the SQL adapters share.
func TestSQLTest(t *testing.T) {
	t.Parallel()
	sqltest.Run(t, engine)
}

func TestEmbeddedMigrations(t *testing.T) {
	if errMigrations != nil {
		t.Fatal(errMigrations)
	}
}

// TestApplyTx writes an associate and an application row in one
// transaction, in an in-memory and a file database: rolled back, neither
// is there; committed, both are, and Notify tells the watchers.
func TestApplyTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, path := range []string{":memory:", newPath(t)} {
		s := open(t, path, nil)
		w := sqltest.Watch(t, s)
		if _, err := s.DB().Exec("CREATE TABLE app_note (associate integer, note text)"); err != nil {
			t.Fatal(err)
		}
		notes := func() (n int) {
			if err := s.DB().QueryRow("SELECT count(*) FROM app_note").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for _, commit := range []bool{false, true} {
			tx, err := s.DB().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			rev, err := s.ApplyTx(ctx, tx, sqltest.Sample())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec("INSERT INTO app_note VALUES (100, 'hello')"); err != nil {
				t.Fatal(err)
			}
			if !commit {
				if err := tx.Rollback(); err != nil {
					t.Fatal(err)
				}
				sqltest.CheckEmpty(t, s)
				if n := notes(); n != 0 {
					t.Errorf("%s: %d notes after rollback", path, n)
				}
				continue
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			s.Notify(rev)
			w.WaitFor(t, rev, time.Millisecond)
			if n := notes(); n != 1 || rev != 1 {
				t.Errorf("%s: %d notes and revision %d after commit; want 1 and 1", path, n, rev)
			}
			if _, err := s.AssociateByName(ctx, "anna"); err != nil {
				t.Error(err)
			}
		}
	}
}
