package postgres

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/sqlstore/sqltest"
)

// TestApplyTxSQL writes through a database/sql transaction: rolled back,
// nothing is there; committed, the batch and the application's own row
// are, and the store reads back what was put. A batch big enough to need
// several INSERTs, and a rejected one, go the same way.
func TestApplyTxSQL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := newSchema(t)
	s := open(t, dsn, nil)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE TABLE app_note (associate bigint, note text)"); err != nil {
		t.Fatal(err)
	}
	write := func(b access.Batch) (access.Revision, *sql.Tx, error) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		rev, err := s.ApplyTxSQL(ctx, tx, b)
		if err == nil {
			_, err = tx.ExecContext(ctx, "INSERT INTO app_note VALUES (100, 'hello')")
		}
		if err != nil {
			// Roll back at once: a failed test's cleanup must not wait
			// for the locks tx holds.
			tx.Rollback()
		}
		return rev, tx, err
	}
	notes := func() (n int) {
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM app_note").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	_, tx, err := write(sqltest.Sample())
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	sqltest.CheckEmpty(t, s)

	rev, tx, err := write(sqltest.Sample())
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if rev != 1 || notes() != 1 {
		t.Errorf("after commit: revision %d and %d notes, want 1 and 1", rev, notes())
	}
	d, err := s.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := sqltest.Sample()
	sortOpts := gocmp.Options{cmpopts.EquateEmpty(), cmpopts.SortSlices(func(a, b access.Associate) bool { return a.ID < b.ID }),
		cmpopts.SortSlices(func(a, b access.Group) bool { return a.ID < b.ID }),
		cmpopts.SortSlices(func(a, b access.Role) bool { return a.ID < b.ID })}
	if diff := gocmp.Diff(want.Associates, d.Associates, sortOpts); diff != "" {
		t.Errorf("associates read back (-want +got):\n%s", diff)
	}

	// Rejected: the caller rolls back, and nothing of it is there.
	_, tx, err = write(access.Batch{Patches: []access.Patch{access.JoinGroup(999, 1)}})
	if !errors.Is(err, access.ErrNotFound) {
		t.Errorf("ApplyTxSQL(patch of a missing associate) = %v, want ErrNotFound", err)
	}
	tx.Rollback()

	// More rows than one statement may carry parameters for.
	big := bigBatch(7000)
	for i := range big.Associates {
		big.Associates[i].ID += 1000
		big.Associates[i].Name = "big " + big.Associates[i].Name
	}
	big.Roles[0].ID, big.Groups[0].ID = 900, 900
	for i := range big.Associates {
		big.Associates[i].Role, big.Associates[i].PrimaryGroup, big.Associates[i].Groups = 900, 900, []access.GroupID{900}
	}
	rev, tx, err = write(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	d, err = s.Changes(ctx, rev-1)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Associates) != len(big.Associates) {
		t.Errorf("Changes after the big batch holds %d associates, want %d", len(d.Associates), len(big.Associates))
	}
}
