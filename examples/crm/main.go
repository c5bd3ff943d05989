// Crm walks a small CRM through the life of its records: the default user
// levels as roles, records stamped with their owner and the owner's group,
// decisions with their reasons, a seller moving to another office while
// the records she owned stay with the old one, a sharing rule, an explicit
// grant, an external partner and an integration user.
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

const (
	oslo      access.GroupID = 10
	stockholm access.GroupID = 20

	anna    access.AssociateID = 101 // sales manager in Oslo, user level 2
	bo      access.AssociateID = 102 // seller in Oslo, user level 3
	cy      access.AssociateID = 103 // seller in Stockholm, user level 4
	partner access.AssociateID = 201 // an external partner at company 500
	erp     access.AssociateID = 301 // the ERP integration
)

func main() {
	ctx := context.Background()
	store := memory.New()

	fmt.Println("== user levels")
	levels := access.UserLevels()
	for _, l := range levels {
		g := l.Rights[access.Wildcard]
		fmt.Printf("%s: owner %s, primary group %s, other %s; functions %v; lint findings %d\n",
			l.Name, g[access.Owner], g[access.PrimaryGroup], g[access.Other], l.Functions, len(l.Lint()))
	}

	must(store.Apply(ctx, access.Batch{
		Roles:  levels,
		Groups: []access.Group{{ID: oslo, Name: "Oslo"}, {ID: stockholm, Name: "Stockholm"}},
		Associates: []access.Associate{
			{ID: anna, Name: "anna", PrimaryGroup: oslo, Role: 3, Active: true},
			{ID: bo, Name: "bo", PrimaryGroup: oslo, Role: 4, Active: true},
			{ID: cy, Name: "cy", PrimaryGroup: stockholm, Role: 5, Active: true},
			{ID: partner, Name: "partner", Type: access.External, Role: 5, Company: 500, Active: true},
			{ID: erp, Name: "erp-sync", Type: access.System, Role: 1, Active: true},
		},
	}))
	r, err := access.NewResolver(ctx, store, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	can := func(who access.AssociateID, act access.Action, rec access.Record) {
		d, err := r.Can(ctx, who, act, rec)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(d)
	}
	stamp := func(who access.AssociateID, id int64) access.Record {
		s, err := r.Stamp(ctx, who)
		if err != nil {
			log.Fatal(err)
		}
		return access.Record{Type: "contact", ID: id, Owner: s.Owner, Group: s.Group}
	}

	fmt.Println("\n== stamping records")
	c1 := stamp(anna, 1)
	c2 := stamp(bo, 2)
	fmt.Printf("contact 1: owner %d, group %d\ncontact 2: owner %d, group %d\n", c1.Owner, c1.Group, c2.Owner, c2.Group)

	fmt.Println("\n== decisions")
	can(bo, access.Read, c1)
	can(bo, access.Update, c1)
	can(anna, access.Delete, c2)
	can(cy, access.Read, c1)
	ok, _ := r.Has(ctx, anna, access.FuncExportSelection)
	fmt.Println("anna may export selections:", ok)
	ok, _ = r.Has(ctx, bo, access.FuncExportSelection)
	fmt.Println("bo may export selections:", ok)

	fmt.Println("\n== a sharing rule opens Oslo's contacts to Stockholm, read only")
	must(store.Apply(ctx, access.Batch{SharingRules: []access.SharingRule{{
		ID: 1, Name: "Oslo contacts for Stockholm", EntityType: "contact",
		From:   access.Principals{Groups: []access.GroupID{oslo}},
		To:     access.Principals{Groups: []access.GroupID{stockholm}},
		Rights: access.R,
	}}}))
	can(cy, access.Read, c1)
	can(cy, access.Update, c1)

	fmt.Println("\n== a grant lets cy update contact 1 alone")
	must(store.Apply(ctx, access.Batch{Grants: []access.Grant{{ID: 1, Associate: cy, EntityType: "contact", RecordID: 1, Rights: access.U}}}))
	can(cy, access.Update, c1)
	can(cy, access.Update, access.Record{Type: "contact", ID: 9, Owner: anna, Group: oslo})

	fmt.Println("\n== bo moves to Stockholm; contact 2 stays with Oslo")
	must(store.Apply(ctx, access.Batch{Associates: []access.Associate{
		{ID: bo, Name: "bo", PrimaryGroup: stockholm, Role: 4, Active: true},
	}}))
	c3 := stamp(bo, 3)
	fmt.Printf("contact 2: group %d (as stamped); bo's new contact 3: group %d\n", c2.Group, c3.Group)
	can(anna, access.Update, c2)
	can(cy, access.Read, c2)
	fmt.Println("  (the sharing rule opens records whose owner is in Oslo, and bo no longer is)")
	can(cy, access.Read, c3)

	fmt.Println("\n== an external partner sees its own company's published records")
	shared := access.Record{Type: "contact", ID: 4, Owner: anna, Group: oslo, Company: 500, Published: true}
	can(partner, access.Read, shared)
	shared.Published = false
	can(partner, access.Read, shared)
	can(partner, access.Read, access.Record{Type: "contact", ID: 5, Owner: anna, Group: oslo, Company: 600, Published: true})

	fmt.Println("\n== the integration user bypasses the rules")
	can(erp, access.Delete, c1)
}

func must(_ access.Revision, err error) {
	if err != nil {
		log.Fatal(err)
	}
}
