// Quickstart builds a small organisation in the in-memory store — the
// Sales → Sales Assistant role tree, Team A and Team B inside Sales, a
// role-based group, a roles-and-subordinates group and a smart group — and
// prints every associate's effective groups, each with the reason it holds.
package main

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

func main() {
	ctx := context.Background()
	store := memory.New()

	seller := access.Grid{access.Owner: access.LevelFull, access.PrimaryGroup: access.LevelUpdate, access.OtherGroup: access.LevelRead}
	rights := map[string]access.Grid{access.Wildcard: seller}
	_, err := store.Apply(ctx, access.Batch{
		Roles: []access.Role{
			{ID: 1, Name: "Sales", Rights: rights},
			{ID: 2, Name: "Sales Assistant", Parent: 1, Rights: rights},
			{ID: 3, Name: "Marketing", Rights: rights},
			{ID: 4, Name: "Marketing Assistant", Parent: 3, Rights: rights},
		},
		Groups: []access.Group{
			{ID: 10, Name: "Team A"},
			{ID: 11, Name: "Team B"},
			{ID: 20, Name: "Sales", Groups: []access.GroupID{10, 11}},
			{ID: 30, Name: "Sales and Marketing", Roles: []access.RoleID{1, 3}},
			{ID: 31, Name: "Sales and Marketing, with assistants", RolesAndSubordinates: []access.RoleID{1, 3}},
			{ID: 40, Name: "Berlin office", Smart: `attr.city == "Berlin"`},
		},
		Associates: []access.Associate{
			{ID: 101, Name: "Person 1", PrimaryGroup: 10, Role: 1, Active: true, Attributes: map[string]string{"city": "Berlin"}},
			{ID: 102, Name: "Person 2", PrimaryGroup: 10, Role: 2, Active: true},
			{ID: 103, Name: "Person 3", PrimaryGroup: 11, Role: 3, Active: true},
			{ID: 104, Name: "Person 4", PrimaryGroup: 11, Role: 4, Active: true, Attributes: map[string]string{"city": "Berlin"}},
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

	names := map[access.AssociateID]string{101: "Person 1", 102: "Person 2", 103: "Person 3", 104: "Person 4"}
	for _, who := range []access.AssociateID{101, 102, 103, 104} {
		ms, err := r.EffectiveGroups(ctx, who)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s is in %d groups:\n", names[who], len(ms))
		for _, m := range ms {
			fmt.Println("  ", m)
		}
	}

	fmt.Println()
	groups := map[access.GroupID]string{20: "Sales", 30: "Sales and Marketing", 31: "Sales and Marketing, with assistants", 40: "Berlin office"}
	for _, g := range []access.GroupID{20, 30, 31, 40} {
		members, err := r.Members(ctx, g)
		if err != nil {
			log.Fatal(err)
		}
		var list []string
		for _, m := range members {
			list = append(list, names[m])
		}
		fmt.Printf("members of %s: %s\n", groups[g], strings.Join(list, ", "))
	}
}
