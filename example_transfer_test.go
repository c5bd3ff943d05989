package access_test

import (
	"context"
	"fmt"
	"log"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// Team Oslo closes and hands its responsibilities to Team Bergen, as
// vtiger asks before deleting a group: TransferGroup builds one batch
// that moves every reference to Oslo (members, nesting, sharing rules,
// grants…) to Bergen and deletes Oslo. The batch expects the revision it
// was read at, so a concurrent change makes it fail rather than be lost.
// With a SQL store, apply it with ApplyTx and move the application's
// records with TransferRecords in the same transaction.
func ExampleTransferGroup() {
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Apply(ctx, access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "Sales"}},
		Groups: []access.Group{{ID: 10, Name: "Oslo"}, {ID: 20, Name: "Bergen"}, {ID: 30, Name: "Norway", Groups: []access.GroupID{10, 20}}},
		Associates: []access.Associate{
			{ID: 1, Name: "anna", PrimaryGroup: 10, Role: 1, Active: true},
			{ID: 2, Name: "bo", PrimaryGroup: 20, Groups: []access.GroupID{10}, Role: 1, Active: true},
		},
		Grants: []access.Grant{{ID: 1, Group: 10, EntityType: "contact", RecordID: 42, Rights: access.LevelUpdate}},
	}); err != nil {
		log.Fatal(err)
	}
	b, err := access.TransferGroup(ctx, s, 10, 20)
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range b.Associates {
		fmt.Printf("associate %s: primary group %d, secondary %v\n", a.Name, a.PrimaryGroup, a.Groups)
	}
	for _, g := range b.Groups {
		fmt.Printf("group %s nests %v\n", g.Name, g.Groups)
	}
	fmt.Printf("grant %d: group %d\n", b.Grants[0].ID, b.Grants[0].Group)
	fmt.Println("deletes", b.DeleteGroups, "expecting revision", b.ExpectRevision)
	if _, err := s.Apply(ctx, b); err != nil {
		log.Fatal(err)
	}
	fmt.Println("records to move:", access.Transfer{FromGroup: 10, ToGroup: 20})
	// Output:
	// associate anna: primary group 20, secondary []
	// associate bo: primary group 20, secondary []
	// group Norway nests [20]
	// grant 1: group 20
	// deletes [10] expecting revision 1
	// records to move: group 10 → 20
}
