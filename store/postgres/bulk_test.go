package postgres

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/orggen"
	"github.com/crmaccess/access/internal/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// everyWrite sends every write of a Store through the bulk path, and
// counts the writes that took it.
func everyWrite(s *Store) *atomic.Int64 {
	n := new(atomic.Int64)
	s.bulk = bulkPolicy{rows: 0, share: 0, tries: 2, taken: func() { n.Add(1) }}
	return n
}

// TestStoretestBulk runs the conformance suite on Stores that write every
// batch, however small, with the foreign keys suspended: that path must
// keep every promise the row-by-row path keeps.
func TestStoretestBulk(t *testing.T) {
	testDSN(t)
	var taken atomic.Int64
	recycle(t, func() string { return newSchema(t) },
		func(ctx context.Context, dsn string) (*Store, error) {
			s, err := Open(ctx, dsn, nil)
			if err == nil {
				s.bulk = bulkPolicy{rows: 0, share: 0, tries: 20, taken: func() { taken.Add(1) }}
			}
			return s, err
		},
		empty)
	t.Cleanup(func() {
		if taken.Load() == 0 {
			t.Error("no write took the bulk path")
		}
	})
}

// foreignKeys lists the foreign keys of the schema dsn selects, with
// their definitions.
func foreignKeys(t *testing.T, dsn string) []string {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT t.relname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid) || ' ' || k.convalidated
		FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid
		WHERE k.contype = 'f' AND t.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())`)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

// TestBulkWrites applies the same large batches to a Store that writes
// them with the foreign keys suspended and to one that writes them row by
// row: an import, an invalid batch (rejected alike, leaving nothing
// written), and a batch that replaces and deletes much of what is stored.
// Both must read back alike, and the bulk Store's keys must come back
// exactly as the migrations made them.
func TestBulkWrites(t *testing.T) {
	testDSN(t)
	ctx := context.Background()
	bulkDSN := newSchema(t)
	bulk, rowwise := open(t, bulkDSN, nil), open(t, newSchema(t), nil)
	taken := everyWrite(bulk)
	keys := foreignKeys(t, bulkDSN)
	if len(keys) < 20 {
		t.Fatalf("%d foreign keys: %q", len(keys), keys)
	}

	org := orggen.Generate(orggen.Config{Associates: 3_000, Groups: 300})
	same := func(step string) {
		t.Helper()
		a, err := bulk.Changes(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		b, err := rowwise.Changes(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: the stores differ: %d/%d associates, %d/%d groups", step,
				len(a.Batch.Associates), len(b.Batch.Associates), len(a.Batch.Groups), len(b.Batch.Groups))
		}
		if got := foreignKeys(t, bulkDSN); !slices.Equal(got, keys) {
			t.Fatalf("%s: foreign keys\n%q\nwant\n%q", step, got, keys)
		}
	}
	apply := func(b access.Batch) (error, error) {
		t.Helper()
		_, berr := bulk.Apply(ctx, b)
		_, rerr := rowwise.Apply(ctx, b)
		return berr, rerr
	}

	// An invalid import: one associate in a group that does not exist.
	bad := org
	bad.Associates = slices.Clone(org.Associates)
	bad.Associates[2_000].Groups = append(slices.Clone(bad.Associates[2_000].Groups), 999_999)
	berr, rerr := apply(bad)
	if berr == nil || rerr == nil || berr.Error() != rerr.Error() || !errors.Is(berr, access.ErrInvalid) {
		t.Fatalf("invalid batch: bulk %v, row by row %v", berr, rerr)
	}
	if rev, err := bulk.Revision(ctx); err != nil || rev != 0 {
		t.Fatalf("after an invalid batch: revision %d, %v", rev, err)
	}
	same("invalid import")

	if berr, rerr := apply(org); berr != nil || rerr != nil {
		t.Fatalf("import: bulk %v, row by row %v", berr, rerr)
	}
	same("import")

	// Replace every other associate with fewer groups, move some into
	// another primary group, delete a tenth (with their past owners),
	// and replace the groups.
	var next access.Batch
	next.Groups = org.Groups
	for i, a := range org.Associates {
		switch {
		case i%10 == 5:
			next.DeleteAssociates = append(next.DeleteAssociates, a.ID)
		case i%2 == 0:
			a.Groups = a.Groups[:len(a.Groups)/2]
			a.Projects = nil
			next.Associates = append(next.Associates, a)
		}
	}
	// An invalid replacement first: a group deleted while a stored
	// associate the batch leaves alone still names it.
	g := org.Associates[1].PrimaryGroup
	bad = next
	bad.Groups = nil
	bad.Associates = slices.DeleteFunc(slices.Clone(next.Associates), func(a access.Associate) bool {
		return a.PrimaryGroup == g || slices.Contains(a.Groups, g)
	})
	bad.DeleteGroups = []access.GroupID{g}
	berr, rerr = apply(bad)
	if berr == nil || rerr == nil || berr.Error() != rerr.Error() || !errors.Is(berr, access.ErrInUse) {
		t.Fatalf("invalid replacement: bulk %v, row by row %v", berr, rerr)
	}
	same("invalid replacement")
	berr, rerr = apply(next)
	if berr != nil || rerr != nil {
		t.Fatalf("replacement: bulk %v, row by row %v", berr, rerr)
	}
	same("replacement")
	// The change log of the replacement says the same on both.
	a, err := bulk.Changes(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rowwise.Changes(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) || a.Full || len(a.Batch.DeleteAssociates) != 300 {
		t.Fatalf("changes since 1 differ, or are not the replacement's 300 deletes (%d, full %v)", len(a.Batch.DeleteAssociates), a.Full)
	}
	if n := taken.Load(); n != 2 {
		t.Fatalf("%d writes took the bulk path, want 2", n)
	}
}

// TestBulkDanglingRow: ApplyTx writes row by row even when the policy
// would send every write the bulk way, so a row that refers to nothing,
// written by the application in its transaction, fails that
// transaction's COMMIT with a foreign key violation, as the deferred key
// says, and the keys are never suspended in the caller's transaction.
func TestBulkDanglingRow(t *testing.T) {
	testDSN(t)
	ctx := context.Background()
	s := open(t, newSchema(t), nil)
	taken := everyWrite(s)
	org := orggen.Generate(orggen.Config{Associates: 200, Groups: 20})
	if _, err := s.Apply(ctx, org); err != nil {
		t.Fatal(err)
	}
	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "INSERT INTO access_associate_group (associate_id, pos, group_id) VALUES ($1, 99, 999999)", int64(org.Associates[0].ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyTx(ctx, tx, access.Batch{Associates: org.Associates[1:2]}); err != nil {
		t.Fatalf("ApplyTx: %v", err)
	}
	if n := taken.Load(); n != 1 { // the Apply above
		t.Fatalf("%d writes took the bulk path, want 1: the Apply, not the ApplyTx", n)
	}
	err = tx.Commit(ctx)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23503" {
		t.Fatalf("COMMIT over a dangling row: %v, want a foreign key violation", err)
	}
}

// TestBulkRestoreChecksEveryRow: the keys a bulk write adds back check
// every row of their tables, so a row written while they are suspended
// that refers to nothing fails the write.
func TestBulkRestoreChecksEveryRow(t *testing.T) {
	dsn := newSchema(t)
	ctx := context.Background()
	s := open(t, dsn, nil)
	keys := foreignKeys(t, dsn)
	everyWrite(s)
	for _, tc := range []struct{ name, sql string }{
		{"valid", "INSERT INTO access_group (id, name) VALUES (1, 'g')"},
		{"dangling", "INSERT INTO access_associate_group (associate_id, pos, group_id) VALUES (1, 0, 1)"},
	} {
		tx, err := s.Pool().Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		end, err := txConn{q: tx, bulk: &s.bulk}.Bulk(ctx, []string{"access_associate_group"}, 1)
		if err != nil || end == nil {
			t.Fatalf("%s: Bulk: %v (end %v)", tc.name, err, end != nil)
		}
		if _, err := tx.Exec(ctx, tc.sql); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		err = end(ctx)
		var pgErr *pgconn.PgError
		if tc.name == "valid" && err != nil || tc.name == "dangling" && (!errors.As(err, &pgErr) || pgErr.Code != "23503") {
			t.Fatalf("%s: restoring the keys: %v", tc.name, err)
		}
		if err == nil {
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		} else {
			tx.Rollback(ctx)
		}
		if got := foreignKeys(t, dsn); !slices.Equal(got, keys) {
			t.Fatalf("%s: foreign keys\n%q\nwant\n%q", tc.name, got, keys)
		}
	}
}

// TestBulkLockBusy: while a reader holds a table a large write would lock,
// the write gives up the locks (a few times) and writes row by row, the
// reader unharmed; once the reader is done the next write suspends the
// keys.
func TestBulkLockBusy(t *testing.T) {
	dsn := newSchema(t)
	ctx := context.Background()
	s := open(t, dsn, nil)
	taken := everyWrite(s)
	org := orggen.Generate(orggen.Config{Associates: 300, Groups: 30})
	reader, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close(ctx)
	tx, err := reader.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM access_associate").Scan(&n); err != nil || n != 0 {
		t.Fatalf("reader: %d associates, %v", n, err)
	}
	if _, err := s.Apply(ctx, org); err != nil {
		t.Fatalf("import beside a reader: %v", err)
	}
	if taken.Load() != 0 {
		t.Fatal("the import suspended the keys beside a reader")
	}
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM access_group").Scan(&n); err != nil || n != 0 {
		t.Fatalf("reader after the import: %d groups in its snapshot, %v", n, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	org.Associates = org.Associates[:100]
	if _, err := s.Apply(ctx, org); err != nil {
		t.Fatal(err)
	}
	if taken.Load() != 1 {
		t.Fatalf("%d writes suspended the keys after the reader ended, want 1", taken.Load())
	}
	if rev, err := s.Revision(ctx); err != nil || rev != 2 {
		t.Fatalf("revision %d, %v", rev, err)
	}
}

// TestBulkApplyTxAfterAnother: a large ApplyTx that follows a small one in
// the same transaction (which leaves deferred checks pending, such as a
// new role's parent) succeeds and leaves the keys deferred for the writes
// that follow; it writes row by row, never suspending the keys in the
// caller's transaction, even when the policy would send it the bulk way.
func TestBulkApplyTxAfterAnother(t *testing.T) {
	testDSN(t)
	ctx := context.Background()
	dsn := newSchema(t)
	s := open(t, dsn, nil)
	keys := foreignKeys(t, dsn)
	org := orggen.Generate(orggen.Config{Associates: 200, Groups: 20})
	people := org.Associates
	org.Associates = nil
	if _, err := s.Apply(ctx, org); err != nil {
		t.Fatal(err)
	}
	var taken atomic.Int64
	s.bulk = bulkPolicy{rows: 100, share: 0, tries: 2, taken: func() { taken.Add(1) }}
	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	roles := []access.Role{{ID: 900_001, Name: "top"}, {ID: 900_002, Name: "below", Parent: 900_001}}
	if _, err := s.ApplyTx(ctx, tx, access.Batch{Roles: roles}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyTx(ctx, tx, access.Batch{Associates: people}); err != nil {
		t.Fatalf("a large ApplyTx after a small one: %v", err)
	}
	// The keys are deferred again for what follows: replacing the parent
	// role deletes it before it inserts it afresh.
	if _, err := s.ApplyTx(ctx, tx, access.Batch{Roles: roles[:1]}); err != nil {
		t.Fatalf("a small ApplyTx after a large one: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if taken.Load() != 0 {
		t.Fatalf("%d ApplyTx writes took the bulk path, want 0", taken.Load())
	}
	if got := foreignKeys(t, dsn); !slices.Equal(got, keys) {
		t.Fatalf("foreign keys\n%q\nwant\n%q", got, keys)
	}
}

// TestBulkBesideApplyTxCaller: a transaction that has read a table of the
// store and then calls ApplyTx waits for the write lock of a large write
// under way; that write must not wait for the reader's table lock in turn
// long enough for PostgreSQL to find a deadlock and abort the caller (a
// write row by row never waits for a reader).
func TestBulkBesideApplyTxCaller(t *testing.T) {
	testDSN(t)
	ctx := context.Background()
	dsn := newSchema(t)
	s := open(t, dsn, nil)
	org := orggen.Generate(orggen.Config{Associates: 300, Groups: 30})
	people := org.Associates
	org.Associates = nil
	if _, err := s.Apply(ctx, org); err != nil {
		t.Fatal(err)
	}
	s.bulk = bulkPolicy{rows: 100, share: 0, tries: 4}
	watch, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(ctx)
	for i := range 3 {
		tx, err := s.Pool().Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM access_associate").Scan(&n); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		batch := access.Batch{Associates: people}
		if i > 0 {
			batch = access.Batch{DeleteAssociates: []access.AssociateID{people[i].ID}}
			for _, a := range people[100:] {
				a.Active = i%2 == 0
				batch.Associates = append(batch.Associates, a)
			}
		}
		go func() { _, err := s.Apply(ctx, batch); done <- err }()
		// Wait until the large write holds the write lock.
		for {
			var held bool
			if err := watch.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted)`).Scan(&held); err != nil {
				t.Fatal(err)
			}
			if held {
				break
			}
		}
		_, err = s.ApplyTx(ctx, tx, access.Batch{Roles: []access.Role{{ID: access.RoleID(900_000 + i), Name: "r"}}})
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "40P01" {
			tx.Rollback(ctx)
			<-done
			t.Fatalf("round %d: ApplyTx beside a large write: %v", i, err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestBulkApplicationCascade: an application's table in the store's
// schema whose key refers to access_associate ON DELETE CASCADE loses the
// rows of a deleted associate whether the write goes row by row or with
// the keys suspended.
func TestBulkApplicationCascade(t *testing.T) {
	testDSN(t)
	ctx := context.Background()
	dsn := newSchema(t)
	org := orggen.Generate(orggen.Config{Associates: 50, Groups: 5})
	a := org.Associates[0]
	a.ID, a.Name = 900_001, "note owner"
	org.Associates = append(org.Associates, a)
	for _, bulk := range []bool{false, true} {
		s := open(t, dsn, nil)
		if _, err := s.Apply(ctx, org); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Pool().Exec(ctx, `CREATE TABLE IF NOT EXISTS app_note (associate_id bigint NOT NULL REFERENCES access_associate (id) ON DELETE CASCADE, note text);
			INSERT INTO app_note VALUES (900001, 'n')`); err != nil {
			t.Fatal(err)
		}
		var taken *atomic.Int64
		if bulk {
			taken = everyWrite(s)
		}
		if _, err := s.Apply(ctx, access.Batch{DeleteAssociates: []access.AssociateID{a.ID}}); err != nil {
			t.Fatalf("bulk %v: deleting an associate with an application's row: %v", bulk, err)
		}
		if bulk && taken.Load() != 1 {
			t.Fatalf("%d writes took the bulk path, want 1", taken.Load())
		}
		var n int
		if err := s.Pool().QueryRow(ctx, "SELECT count(*) FROM app_note").Scan(&n); err != nil || n != 0 {
			t.Fatalf("bulk %v: %d notes left, %v", bulk, n, err)
		}
		s.Close()
	}
}

// TestBulkUnanalysedTable: a table PostgreSQL has no estimate for yet
// (never vacuumed nor analysed: reltuples is -1) is counted, not read as
// empty, so a write that is small beside what it holds goes row by row
// rather than suspending the keys and checking the whole table again.
func TestBulkUnanalysedTable(t *testing.T) {
	testDSN(t)
	ctx := context.Background()
	dsn := newSchema(t)
	s := open(t, dsn, nil)
	var taken atomic.Int64
	s.bulk = bulkPolicy{rows: 100, share: 4, tries: 2, taken: func() { taken.Add(1) }}
	// Keep autovacuum from analysing the tables during the test.
	for _, table := range sqlstore.Tables() {
		if _, err := s.Pool().Exec(ctx, "ALTER TABLE "+pgx.Identifier{table}.Sanitize()+" SET (autovacuum_enabled = false)"); err != nil {
			t.Fatal(err)
		}
	}
	org := orggen.Generate(orggen.Config{Associates: 2000, Groups: 50})
	if _, err := s.Apply(ctx, org); err != nil {
		t.Fatal(err)
	}
	if n := taken.Load(); n != 1 {
		t.Fatalf("the import into empty tables: %d bulk writes, want 1", n)
	}
	var estimate float64
	if err := s.Pool().QueryRow(ctx, "SELECT reltuples FROM pg_class WHERE oid = 'access_associate'::regclass").Scan(&estimate); err != nil {
		t.Fatal(err)
	}
	if estimate >= 0 {
		t.Fatalf("access_associate has an estimate (reltuples %v): the test needs a table never analysed", estimate)
	}
	// 150 associates put again: at least 100 rows, far fewer than a
	// quarter of the 2,000 associates and their rows.
	again := slices.Clone(org.Associates[:150])
	for i := range again {
		again[i].Email = "again@example.com"
	}
	if _, err := s.Apply(ctx, access.Batch{Associates: again}); err != nil {
		t.Fatal(err)
	}
	if n := taken.Load(); n != 1 {
		t.Fatalf("a write small beside an unanalysed table took the bulk path (%d bulk writes, want 1)", n)
	}
}
