package sqlite_test

import (
	"context"
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
