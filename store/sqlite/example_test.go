package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/sqlite"
)

func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "access")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := sqlite.Open(ctx, filepath.Join(dir, "access.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	rev, err := s.Apply(ctx, access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "Sales"}},
		Groups: []access.Group{{ID: 10, Name: "Oslo"}, {ID: 20, Name: "Norway", Groups: []access.GroupID{10}}},
		Associates: []access.Associate{
			{ID: 100, Name: "anna", Type: access.Internal, PrimaryGroup: 10, Role: 1, Active: true},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("revision", rev)

	// Norway may not become a member of Oslo, which is a member of Norway.
	_, err = s.Apply(ctx, access.Batch{Groups: []access.Group{{ID: 10, Name: "Oslo", Groups: []access.GroupID{20}}}})
	fmt.Println(err)

	d, err := s.Changes(ctx, 0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Full, d.To, len(d.Groups), d.Associates[0].Name)
	// Output:
	// revision 1
	// access: group 10 forms a cycle 10→20→10
	// true 1 2 anna
}

// ExampleTransferRecords deletes a group with a transfer: the model's
// batch (TransferGroup) and the application's own records move in one
// transaction, so the records whose group or team was Oslo are Norway's
// when Oslo is gone, and never name a deleted group.
func ExampleTransferRecords() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "access")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := sqlite.Open(ctx, filepath.Join(dir, "crm.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	if _, err := s.Apply(ctx, access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "Sales"}},
		Groups: []access.Group{{ID: 10, Name: "Oslo"}, {ID: 20, Name: "Norway"}},
		Associates: []access.Associate{
			{ID: 100, Name: "anna", PrimaryGroup: 10, Role: 1, Active: true},
			{ID: 101, Name: "bo", PrimaryGroup: 20, Role: 1, Active: true},
		},
	}); err != nil {
		log.Fatal(err)
	}
	// The application's own table, in the same database.
	if _, err := s.DB().ExecContext(ctx, `CREATE TABLE sale (id INTEGER PRIMARY KEY, owner_id INTEGER, group_id INTEGER, team_id INTEGER);
		INSERT INTO sale VALUES (1, 100, 10, 10), (2, 101, 20, 10), (3, 101, 20, NULL)`); err != nil {
		log.Fatal(err)
	}

	b, err := access.TransferGroup(ctx, s, 10, 20)
	if err != nil {
		log.Fatal(err)
	}
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	rev, err := s.ApplyTx(ctx, tx, b)
	if err != nil {
		tx.Rollback()
		log.Fatal(err)
	}
	cols := access.Columns{ID: "id", Owner: "owner_id", Group: "group_id", Team: "team_id"}
	n, err := sqlite.TransferRecords(ctx, tx, "sale", cols, access.Transfer{FromGroup: 10, ToGroup: 20})
	if err != nil {
		tx.Rollback()
		log.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		log.Fatal(err)
	}
	s.Notify(rev)
	fmt.Println(n, "sales moved")

	rows, err := s.DB().QueryContext(ctx, "SELECT id, group_id, team_id FROM sale ORDER BY id")
	if err != nil {
		log.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, group int64
		var team *int64
		if err := rows.Scan(&id, &group, &team); err != nil {
			log.Fatal(err)
		}
		if team != nil {
			fmt.Printf("sale %d: group %d, team %d\n", id, group, *team)
		} else {
			fmt.Printf("sale %d: group %d, no team\n", id, group)
		}
	}
	anna, err := s.Associate(ctx, 100)
	if err != nil {
		log.Fatal(err)
	}
	_, err = s.Group(ctx, 10)
	fmt.Printf("anna's primary group: %d; Oslo deleted: %v\n", anna.PrimaryGroup, errors.Is(err, access.ErrNotFound))
	// Output:
	// 2 sales moved
	// sale 1: group 20, team 20
	// sale 2: group 20, team 20
	// sale 3: group 20, no team
	// anna's primary group: 20; Oslo deleted: true
}
