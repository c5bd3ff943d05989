// Customer-service shows Customer Service categories: memberships that come
// from usergroups (shown "(from usergroup …)", as the service admin shows
// them), individual ones that can be removed, derived ones that cannot, and
// ticket access through category membership, including a members-only
// category.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

const (
	support access.GroupID = 10 // includes Tier 2
	tier2   access.GroupID = 11
	sales   access.GroupID = 20

	general access.CategoryID = 1
	billing access.CategoryID = 2 // below General, members only
	leads   access.CategoryID = 3

	anna access.AssociateID = 101 // support agent, also an individual member of General
	bo   access.AssociateID = 102 // tier 2 agent
	cy   access.AssociateID = 103 // seller without a service login
)

var names = map[access.AssociateID]string{anna: "anna", bo: "bo", cy: "cy"}

func main() {
	ctx := context.Background()
	store := memory.New()
	agent := access.Grid{access.Owner: access.LevelFull, access.CategoryMember: access.LevelUpdate, access.Other: access.LevelRead, access.Unowned: access.LevelRead}
	_, err := store.Apply(ctx, access.Batch{
		Roles: []access.Role{{ID: 1, Name: "Service agent", Rights: map[string]access.Grid{"ticket": agent}}},
		Groups: []access.Group{
			{ID: support, Name: "Support", Groups: []access.GroupID{tier2}},
			{ID: tier2, Name: "Tier 2"},
			{ID: sales, Name: "Sales"},
		},
		Categories: []access.Category{
			{ID: general, Name: "General", Groups: []access.GroupID{support}},
			{ID: billing, Name: "Billing", Parent: general, MembersOnly: true},
			{ID: leads, Name: "Leads", Groups: []access.GroupID{sales}},
		},
		Associates: []access.Associate{
			{ID: anna, Name: "anna", PrimaryGroup: support, Role: 1, Active: true, ServiceLogin: 1, Categories: []access.CategoryID{general, billing}},
			{ID: bo, Name: "bo", PrimaryGroup: tier2, Role: 1, Active: true, ServiceLogin: 2},
			{ID: cy, Name: "cy", PrimaryGroup: sales, Role: 1, Active: true},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	r, err := access.NewResolver(ctx, store, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	show := func() {
		for _, who := range []access.AssociateID{anna, bo, cy} {
			cats, err := r.Categories(ctx, who)
			if err != nil {
				log.Fatal(err)
			}
			fmt.Printf("%s:\n", names[who])
			if len(cats) == 0 {
				fmt.Println("   no categories")
			}
			for _, c := range cats {
				fmt.Println("  ", c)
			}
		}
	}
	fmt.Println("== category memberships")
	show()
	fmt.Println("(cy is in Sales, which Leads lists, but has no service login; membership of General gives nothing in Billing below it)")

	members, err := r.CategoryMembers(ctx, general)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print("members of General:")
	for _, m := range members {
		fmt.Print(" ", names[m])
	}
	fmt.Println()

	fmt.Println("\n== removing memberships")
	a, err := r.RemoveCategory(ctx, anna, general)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.PutAssociate(ctx, a); err != nil {
		log.Fatal(err)
	}
	fmt.Println("removed anna's individual link to General; her categories now:")
	cats, _ := r.Categories(ctx, anna)
	for _, c := range cats {
		fmt.Println("  ", c)
	}
	_, err = r.RemoveCategory(ctx, bo, general)
	fmt.Println("remove bo from General:", err)
	fmt.Println("  derived:", errors.Is(err, access.ErrDerived))

	fmt.Println("\n== tickets")
	for _, c := range []struct {
		who access.AssociateID
		act access.Action
		cat access.CategoryID
	}{
		{anna, access.Update, general},
		{bo, access.Update, general},
		{anna, access.Read, billing},
		{bo, access.Read, billing},
		{bo, access.Read, leads},
		{bo, access.Update, leads},
	} {
		ticket := access.Record{Type: "ticket", ID: int64(c.cat)*100 + 1, Category: c.cat}
		d, err := r.Can(ctx, c.who, c.act, ticket)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(d)
	}
}
