package sqltest

import (
	"context"
	"errors"
	"testing"

	"github.com/crmaccess/access"
	"github.com/google/go-cmp/cmp"
)

// transferModel has groups 10 (to be transferred) and 20, and associates
// 5 and 6 with their primary group 30.
var transferModel = access.Batch{
	Roles:  []access.Role{{ID: 1, Name: "Sales"}},
	Groups: []access.Group{{ID: 10, Name: "From"}, {ID: 20, Name: "To"}, {ID: 30, Name: "Home", Groups: []access.GroupID{10}}},
	Associates: []access.Associate{
		{ID: 5, Name: "bo", PrimaryGroup: 30, Groups: []access.GroupID{10}, Role: 1, Active: true},
		{ID: 6, Name: "cy", PrimaryGroup: 30, Role: 1, Active: true},
	},
}

var transferCols = access.Columns{ID: "c.id", Owner: "c.owner_id", Group: "group_id", Team: `"team"`}

// testTransferRecords moves a group and then an associate, model and
// records in one transaction: after an error and a rollback, nothing has
// changed; after commit, both have.
func testTransferRecords(t *testing.T, e *Engine) {
	ctx := context.Background()
	addr := e.NewDB(t)
	s := e.open(t, addr, nil)
	if _, err := s.Apply(ctx, transferModel); err != nil {
		t.Fatal(err)
	}
	e.exec(t, addr, `CREATE TABLE contact (id bigint PRIMARY KEY, owner_id bigint, group_id bigint, team bigint)`)
	e.exec(t, addr, `INSERT INTO contact VALUES (1, 5, 10, NULL), (2, 6, 20, 10), (3, 5, 10, 10), (4, 6, 30, NULL)`)
	rows := func() [][]any {
		out, err := e.Query(ctx, addr, "SELECT id, owner_id, group_id, team FROM contact ORDER BY id")
		if err != nil {
			t.Fatal(err)
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
		return e.TransferRecords(ctx, s, b, table, transferCols, tr)
	}

	// A bad table name fails the helper; the rollback undoes the batch.
	if _, err := transfer(access.Transfer{FromGroup: 10, ToGroup: 20}, "contact; DROP TABLE contact"); !errors.Is(err, access.ErrInvalid) {
		t.Fatalf("TransferRecords with a bad table name: %v, want ErrInvalid", err)
	}
	if _, err := s.Group(ctx, 10); err != nil {
		t.Errorf("group 10 after the rolled back transfer: %v", err)
	}
	if diff := cmp.Diff(before, rows()); diff != "" {
		t.Errorf("records after the rolled back transfer (-want +got):\n%s", diff)
	}
	// A database error (no such table) does too.
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
	if a, err := s.Associate(ctx, 5); err != nil || !cmp.Equal(a.Groups, []access.GroupID{20}) {
		t.Errorf("associate 5 after the transfer: groups %v, %v; want [20]", a.Groups, err)
	}
	// A table name qualified by its schema works too.
	n, err = transfer(access.Transfer{FromAssociate: 5, ToAssociate: 6}, e.Qualify(addr, "contact"))
	if err != nil || n != 2 {
		t.Fatalf("associate transfer: %d rows, %v; want 2 rows", n, err)
	}
	want := [][]any{
		{int64(1), int64(6), int64(20), nil}, {int64(2), int64(6), int64(20), int64(20)},
		{int64(3), int64(6), int64(20), int64(20)}, {int64(4), int64(6), int64(30), nil},
	}
	if diff := cmp.Diff(want, rows()); diff != "" {
		t.Errorf("records after both transfers (-want +got):\n%s", diff)
	}
}
