// Package sqltest holds the tests and benchmarks the SQL store adapters
// (store/postgres and store/sqlite) share, beyond the conformance suite
// store/storetest: migrations, rows written by other programs, several
// Stores on one database, change-log trimming. An adapter describes itself
// with an [Engine] and calls [Run] from a test and [BenchmarkOrg] from a
// benchmark.
//
// It is imported only by tests.
package sqltest

import (
	"context"
	"testing"
	"time"

	"github.com/crmaccess/access"
)

// Store is what the shared tests use of an adapter's Store.
type Store interface {
	access.Store
	access.Writer
	access.View
	access.Watcher
	Revision(ctx context.Context) (access.Revision, error)
	PutGroup(ctx context.Context, g access.Group) error
	DeleteRole(ctx context.Context, id access.RoleID) error
	DeleteAssociate(ctx context.Context, id access.AssociateID) error
	Migrate(ctx context.Context) error
	Trim(ctx context.Context) error
	Health() error
	Close()
}

// Options are the Store options the shared tests set; an [Engine]'s Open
// turns them into the adapter's own.
type Options struct {
	KeepChanges int
	KeepFor     time.Duration
	TrimEvery   int
	Now         func() time.Time
	// PollInterval is for an adapter that polls for other Stores' writes.
	PollInterval time.Duration
}

// Engine is what the shared tests need to know of an adapter.
type Engine struct {
	// Name is the adapter's name, which prefixes its errors.
	Name string
	// NewDB returns the address of a new, empty database (a DSN, a file
	// path), removed when tb's test ends.
	NewDB func(tb testing.TB) string
	// Open opens a Store on the database at addr without migrating it.
	// opts may be nil.
	Open func(ctx context.Context, addr string, opts *Options) (Store, error)
	// MigrateTo migrates s's database up to the given schema version.
	MigrateTo func(ctx context.Context, s Store, version int) error
	// Exec runs SQL, with $1-style parameters, on the database at addr
	// outside any Store, with foreign keys enforced.
	Exec func(ctx context.Context, addr, sql string, args ...any) error
	// Query runs a query on the database at addr outside any Store and
	// returns its rows, integers as int64 and NULL as nil.
	Query func(ctx context.Context, addr, sql string) ([][]any, error)
	// Qualify returns table, a table in the database at addr, qualified by
	// its schema.
	Qualify func(addr, table string) string
	// TransferRecords applies b to s and moves table's records by tr with
	// the adapter's TransferRecords, in one transaction: committed if
	// TransferRecords succeeds, rolled back if not, returning its result.
	TransferRecords func(ctx context.Context, s Store, b access.Batch, table string, cols access.Columns, tr access.Transfer) (int64, error)
	// ErrClosed is the adapter's error for use of a closed Store.
	ErrClosed error
	// BadRows are the adapter's own cases for the BadRows test.
	BadRows []BadRow
}

// open opens a Store on addr, migrated, closed when tb's test ends.
func (e *Engine) open(tb testing.TB, addr string, opts *Options) Store {
	tb.Helper()
	return Migrated(tb, func(ctx context.Context) (Store, error) { return e.Open(ctx, addr, opts) })
}

// exec runs SQL on the database at addr outside any Store, failing the
// test if it fails.
func (e *Engine) exec(tb testing.TB, addr, sql string, args ...any) {
	tb.Helper()
	if err := e.Exec(context.Background(), addr, sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// Migrated opens a Store with open and migrates it, failing the test if
// either fails. The Store is closed when tb's test ends.
func Migrated[S interface {
	Migrate(ctx context.Context) error
	Close()
}](tb testing.TB, open func(ctx context.Context) (S, error)) S {
	tb.Helper()
	ctx := context.Background()
	s, err := open(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	if err := s.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return s
}

// Run runs the shared tests, each as a parallel subtest with databases of
// its own.
func Run(t *testing.T, e Engine) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, e *Engine)
	}{
		{"RoundTrip", testRoundTrip},
		{"IncrementalChanges", testIncrementalChanges},
		{"ValidationErrors", testValidationErrors},
		{"ForeignKeysDeferred", testForeignKeysDeferred},
		{"Migrations", testMigrations},
		{"SchemaTooNew", testSchemaTooNew},
		{"BadRows", testBadRows},
		{"TwoStores", testTwoStores},
		{"CycleRace", testCycleRace},
		{"Trim", testTrim},
		{"TrimByAge", testTrimByAge},
		{"Closed", testClosed},
		{"ApplyDeadline", testApplyDeadline},
		{"TransferRecords", testTransferRecords},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, &e)
		})
	}
}

// CheckEmpty fails unless the store is at revision 0 with nothing in it.
func CheckEmpty(t testing.TB, s access.Store) {
	t.Helper()
	d, err := s.Changes(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.To != 0 || !d.Empty() {
		t.Errorf("store at revision %d with %d roles, %d groups, %d associates; want an empty store at 0",
			d.To, len(d.Roles), len(d.Groups), len(d.Associates))
	}
}

// WaitHealthy waits until s.Health reports nil: until the store follows
// other Stores' writes.
func WaitHealthy(tb testing.TB, s interface{ Health() error }) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.Health() != nil {
		if time.Now().After(deadline) {
			tb.Fatalf("not following other Stores' writes: %v", s.Health())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
