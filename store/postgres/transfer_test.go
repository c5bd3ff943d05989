package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/crmaccess/access"
	"github.com/google/go-cmp/cmp"
)

// TestTransferRecords moves a group and then an associate, model and
// records in one transaction: after an error and a rollback, nothing has
// changed; after commit, both have.
func TestTransferRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t, newSchema(t), nil)
	model := access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "Sales"}},
		Groups: []access.Group{{ID: 10, Name: "From"}, {ID: 20, Name: "To"}, {ID: 30, Name: "Home", Groups: []access.GroupID{10}}},
		Associates: []access.Associate{
			{ID: 5, Name: "bo", PrimaryGroup: 30, Groups: []access.GroupID{10}, Role: 1, Active: true},
			{ID: 6, Name: "cy", PrimaryGroup: 30, Role: 1, Active: true},
		},
	}
	cols := access.Columns{ID: "c.id", Owner: "c.owner_id", Group: "group_id", Team: `"team"`}
	if _, err := s.Apply(ctx, model); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `CREATE TABLE contact (id bigint PRIMARY KEY, owner_id bigint, group_id bigint, team bigint);
		INSERT INTO contact VALUES (1, 5, 10, NULL), (2, 6, 20, 10), (3, 5, 10, 10), (4, 6, 30, NULL)`); err != nil {
		t.Fatal(err)
	}
	rows := func() [][4]*int64 {
		r, err := s.Pool().Query(ctx, "SELECT id, owner_id, group_id, team FROM contact ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var out [][4]*int64
		for r.Next() {
			var row [4]*int64
			if err := r.Scan(&row[0], &row[1], &row[2], &row[3]); err != nil {
				t.Fatal(err)
			}
			out = append(out, row)
		}
		return out
	}
	before := rows()
	transfer := func(tr access.Transfer, table string) (int64, error) {
		var b access.Batch
		var err error
		if tr.FromGroup != 0 {
			b, err = access.TransferGroup(ctx, s, tr.FromGroup, tr.ToGroup)
		} else {
			b, err = access.TransferAssociate(ctx, s, tr.FromAssociate, tr.ToAssociate)
		}
		if err != nil {
			t.Fatal(err)
		}
		tx, err := s.Pool().Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ApplyTx(ctx, tx, b); err != nil {
			t.Fatal(err)
		}
		n, err := TransferRecords(ctx, tx, table, cols, tr)
		if err != nil {
			if rerr := tx.Rollback(ctx); rerr != nil {
				t.Fatal(rerr)
			}
			return n, err
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		return n, nil
	}

	if _, err := transfer(access.Transfer{FromGroup: 10, ToGroup: 20}, "contact; DROP TABLE contact"); !errors.Is(err, access.ErrInvalid) {
		t.Fatalf("TransferRecords with a bad table name: %v, want ErrInvalid", err)
	}
	if _, err := s.Group(ctx, 10); err != nil {
		t.Errorf("group 10 after the rolled back transfer: %v", err)
	}
	if diff := cmp.Diff(before, rows()); diff != "" {
		t.Errorf("records after the rolled back transfer (-want +got):\n%s", diff)
	}
	if _, err := transfer(access.Transfer{FromGroup: 10, ToGroup: 20}, "no_such_table"); err == nil {
		t.Fatal("TransferRecords of a missing table succeeded")
	}
	if _, err := s.Group(ctx, 10); err != nil {
		t.Errorf("group 10 after the rolled back transfer: %v", err)
	}

	n, err := transfer(access.Transfer{FromGroup: 10, ToGroup: 20}, "contact")
	if err != nil || n != 3 {
		t.Fatalf("group transfer: %d rows, %v; want 3 rows", n, err)
	}
	if _, err := s.Group(ctx, 10); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("group 10 after the transfer: %v, want ErrNotFound", err)
	}
	n, err = transfer(access.Transfer{FromAssociate: 5, ToAssociate: 6}, "contact")
	if err != nil || n != 2 {
		t.Fatalf("associate transfer: %d rows, %v; want 2 rows", n, err)
	}
	i := func(v int64) *int64 { return &v }
	want := [][4]*int64{{i(1), i(6), i(20), nil}, {i(2), i(6), i(20), i(20)}, {i(3), i(6), i(20), i(20)}, {i(4), i(6), i(30), nil}}
	if diff := cmp.Diff(want, rows()); diff != "" {
		t.Errorf("records after both transfers (-want +got):\n%s", diff)
	}
}
