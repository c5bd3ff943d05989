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

// Bo leaves. Until the application has moved Bo's sales, they keep their
// owner's place in the role tree: Bo's manager, in another group, still
// reads them as a subordinate's records, and PastOwners lists Bo as
// waiting for the transfer. TransferAssociate then moves the references
// and forgets Bo in one batch.
func ExampleEngine_PastOwners() {
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Apply(ctx, access.Batch{
		Roles: []access.Role{
			{ID: 1, Name: "Manager", Rights: map[string]access.Grid{"sale": {access.Owner: access.LevelFull, access.Subordinate: access.LevelRead}}},
			{ID: 2, Name: "Seller", Parent: 1, Rights: map[string]access.Grid{"sale": {access.Owner: access.LevelFull}}},
		},
		Groups: []access.Group{{ID: 10, Name: "Head office"}, {ID: 20, Name: "Oslo"}},
		Associates: []access.Associate{
			{ID: 1, Name: "mia", PrimaryGroup: 10, Role: 1, Active: true},
			{ID: 2, Name: "bo", PrimaryGroup: 20, Role: 2, Active: true},
			{ID: 3, Name: "cy", PrimaryGroup: 20, Role: 2, Active: true},
		},
	}); err != nil {
		log.Fatal(err)
	}
	r, err := access.NewResolver(ctx, s, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	sale := access.Record{Type: "sale", ID: 7, Owner: 2, Group: 20}

	if _, err := s.Apply(ctx, access.Batch{DeleteAssociates: []access.AssociateID{2}}); err != nil {
		log.Fatal(err)
	}
	d, _ := r.Can(ctx, 1, access.Read, sale)
	fmt.Println(d.Allowed, d.Relations)
	fmt.Println(d)
	past, _ := r.PastOwners(ctx)
	fmt.Printf("waiting: %s (%d), role %d\n", past[0].Name, past[0].ID, past[0].Role)

	// The application moves the sale to cy and forgets bo.
	if _, err := s.Apply(ctx, access.Batch{ForgetPastOwners: []access.AssociateID{2}}); err != nil {
		log.Fatal(err)
	}
	d, _ = r.Can(ctx, 1, access.Read, sale)
	fmt.Println(d.Allowed, d.Relations)
	sale.Owner = 3
	d, _ = r.Can(ctx, 1, access.Read, sale)
	fmt.Println(d.Allowed, d.Relations)
	// Output:
	// true subordinate
	// allow: mia (1) may read sale 7; role Manager (1) grants R for subordinate of bo (2, deleted)
	// waiting: bo (2), role 2
	// false other
	// true subordinate
}
