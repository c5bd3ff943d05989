// Webshop models a Dynamicweb-style shop's users: customer groups nested in
// a parent group, a smart group, a group default permission, support
// agents impersonating customers (and being refused), group admins, a
// self-service newsletter group, and custom fields that fall back to the
// groups.
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

const (
	staff      access.GroupID = 1
	support    access.GroupID = 2
	customers  access.GroupID = 10 // includes Retail and Wholesale
	retail     access.GroupID = 11
	wholesale  access.GroupID = 12
	danes      access.GroupID = 20 // smart: every user in Denmark
	newsletter access.GroupID = 30 // self-service

	ada  access.AssociateID = 1  // shop admin, also a test customer
	sam  access.AssociateID = 2  // support agent, admin of Wholesale
	kim  access.AssociateID = 11 // retail customer
	lars access.AssociateID = 12 // wholesale customer
)

func main() {
	ctx := context.Background()
	store := memory.New()
	own := map[string]access.Grid{access.Wildcard: {access.Owner: access.LevelFull}}
	_, err := store.Apply(ctx, access.Batch{
		Roles: []access.Role{
			{ID: 1, Name: "Shop admin", Rights: map[string]access.Grid{access.Wildcard: {access.Owner: access.LevelFull, access.Other: access.LevelFull}},
				Functions: []string{access.FuncUserAdmin}},
			{ID: 2, Name: "Support", Parent: 1, Rights: own},
			{ID: 3, Name: "Customer", Parent: 2, Rights: own},
		},
		Groups: []access.Group{
			{ID: staff, Name: "Staff"},
			{ID: support, Name: "Support"},
			{ID: customers, Name: "Customers", Groups: []access.GroupID{retail, wholesale},
				Fields: map[string]string{"currency": "EUR", "shipping": "standard"}},
			{ID: retail, Name: "Retail"},
			{ID: wholesale, Name: "Wholesale", Admins: []access.AssociateID{sam},
				Defaults: map[string]access.CRUD{"price-list": access.R},
				Fields:   map[string]string{"currency": "DKK"}},
			{ID: danes, Name: "Customers in Denmark", Smart: `attr.country == "DK"`},
			{ID: newsletter, Name: "Newsletter", SelfService: true},
		},
		Associates: []access.Associate{
			{ID: ada, Name: "ada", PrimaryGroup: staff, Groups: []access.GroupID{retail}, Role: 1, Active: true},
			{ID: sam, Name: "sam", PrimaryGroup: support, Role: 2, Active: true},
			{ID: kim, Name: "kim", PrimaryGroup: retail, Role: 3, Active: true, Attributes: map[string]string{"country": "DK"}},
			{ID: lars, Name: "lars", PrimaryGroup: wholesale, Role: 3, Active: true,
				Attributes: map[string]string{"country": "SE", "shipping": "express"}},
		},
		// Support agents may act as any customer.
		Impersonations: []access.Impersonation{{ID: 1, Actor: access.Principal{Group: support}, Target: access.Principal{Group: customers}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	r, err := access.NewResolver(ctx, store, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	fmt.Println("== groups")
	for _, who := range []access.AssociateID{kim, lars} {
		ms, _ := r.EffectiveGroups(ctx, who)
		for _, m := range ms {
			fmt.Println(m)
		}
	}

	fmt.Println("\n== default permission: Wholesale members read price lists")
	priceList := access.Record{Type: "price-list", ID: 7}
	for _, who := range []access.AssociateID{lars, kim} {
		d, _ := r.Can(ctx, who, access.Read, priceList)
		fmt.Println(d)
	}
	// An explicit grant that covers a record replaces the default there.
	if _, err := store.Apply(ctx, access.Batch{Grants: []access.Grant{
		{ID: 1, Associate: lars, EntityType: "price-list", RecordID: 8, Rights: access.U},
	}}); err != nil {
		log.Fatal(err)
	}
	for _, act := range []access.Action{access.Update, access.Read} {
		d, _ := r.Can(ctx, lars, act, access.Record{Type: "price-list", ID: 8})
		fmt.Println(d)
	}

	fmt.Println("\n== impersonation")
	kimsOrder := access.Record{Type: "order", ID: 1001, Owner: kim}
	larsOrder := access.Record{Type: "order", ID: 1002, Owner: lars}
	as, err := r.Impersonate(ctx, sam, kim)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("sam acts as kim under rule %d\n", as.Rule)
	for _, rec := range []access.Record{kimsOrder, larsOrder} {
		d, _ := r.CanAs(ctx, as, access.Update, rec)
		fmt.Println(d)
	}
	_, err = r.Impersonate(ctx, sam, ada)
	fmt.Println("sam as ada:", err)
	_, err = r.Impersonate(ctx, kim, lars)
	fmt.Println("kim as lars:", err)

	fmt.Println("\n== managing members")
	groupNames := map[access.GroupID]string{customers: "Customers", wholesale: "Wholesale", danes: "Customers in Denmark", newsletter: "Newsletter"}
	for _, c := range []struct {
		who   access.AssociateID
		name  string
		group access.GroupID
	}{
		{sam, "sam", wholesale}, {sam, "sam", customers}, {ada, "ada", customers}, {kim, "kim", wholesale}, {ada, "ada", danes},
	} {
		ok, err := r.CanManageMembers(ctx, c.who, c.group)
		fmt.Printf("%s may manage %s: %v%s\n", c.name, groupNames[c.group], ok, errOrNothing(err))
	}
	for _, g := range []access.GroupID{newsletter, wholesale} {
		ok, _ := r.CanJoin(ctx, kim, g)
		fmt.Printf("kim may join or leave %s herself: %v\n", groupNames[g], ok)
	}

	fmt.Println("\n== custom fields")
	for _, c := range []struct {
		who       access.AssociateID
		name, key string
	}{
		{kim, "kim", "currency"}, {lars, "lars", "currency"}, {lars, "lars", "shipping"}, {kim, "kim", "shipping"}, {kim, "kim", "vat-id"},
	} {
		v, _ := r.Field(ctx, c.who, c.key)
		switch {
		case !v.Found:
			fmt.Printf("%s %s: not set\n", c.name, c.key)
		case v.Group.ID == 0:
			fmt.Printf("%s %s: %s (own value)\n", c.name, c.key, v.Value)
		default:
			fmt.Printf("%s %s: %s (from %s)\n", c.name, c.key, v.Value, v.Group)
		}
	}
}

func errOrNothing(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}
