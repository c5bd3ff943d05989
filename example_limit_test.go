package access_test

import (
	"context"
	"fmt"

	"github.com/crmaccess/access"
)

// Contacts are private organisation-wide, as vtiger's org-wide sharing
// access "private": each seller's role lets it read everybody's contacts,
// but an organisation-wide LimitUnrelated limit keeps only what sellers
// own or reach through their group. A sharing rule then opens the Oslo
// team's contacts to Bergen, beyond the limit. Temps may not delete
// anything at all: a limit on their group beats even the owner's cell.
func ExampleLimit() {
	ctx := context.Background()
	_, r := exampleResolver(access.Batch{
		Roles: []access.Role{{ID: 1, Name: "Seller", Rights: map[string]access.Grid{
			"contact": {access.Owner: access.LevelFull, access.PrimaryGroup: access.LevelUpdate, access.Other: access.LevelRead},
		}}},
		Groups: []access.Group{
			{ID: 10, Name: "Oslo"},
			{ID: 11, Name: "Bergen"},
			{ID: 12, Name: "Tromsø"},
			{ID: 20, Name: "Temps"},
		},
		Associates: []access.Associate{
			{ID: 101, Name: "Olga", PrimaryGroup: 10, Role: 1, Active: true},
			{ID: 102, Name: "Bjørn", PrimaryGroup: 11, Role: 1, Active: true},
			{ID: 103, Name: "Tove", PrimaryGroup: 12, Groups: []access.GroupID{20}, Role: 1, Active: true},
		},
		SharingRules: []access.SharingRule{{ID: 1, Name: "Oslo to Bergen", EntityType: "contact",
			From: access.Principals{Groups: []access.GroupID{10}}, To: access.Principals{Groups: []access.GroupID{11}},
			Rights: access.LevelRead}},
		Limits: []access.Limit{
			{ID: 1, EntityType: "contact", Max: access.LevelNone, Scope: access.LimitUnrelated},
			{ID: 2, Group: 20, EntityType: access.Wildcard, Max: access.LevelUpdate},
		},
	})
	defer r.Close()

	olgas := access.Record{Type: "contact", ID: 7, Owner: 101, Group: 10}
	toves := access.Record{Type: "contact", ID: 8, Owner: 103, Group: 12}
	for _, q := range []struct {
		who access.AssociateID
		act access.Action
		rec access.Record
	}{
		{101, access.Delete, olgas}, // her own
		{102, access.Read, olgas},   // opened by the sharing rule
		{103, access.Read, olgas},   // private: Tromsø has no rule
		{103, access.Delete, toves}, // her own, but she is a temp
	} {
		d, err := r.Can(ctx, q.who, q.act, q.rec)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(d)
	}
	// Output:
	// allow: Olga (101) may delete contact 7; role Seller (1) grants CRUD for owner; role Seller (1) grants CRU for primary group
	// allow: Bjørn (102) may read contact 7; role Seller (1) grants R for other; sharing rule Oslo to Bergen (1) adds R
	// deny: Tove (103) needs read on contact 7; role Seller (1) grants R for other; limit 1 (organisation-wide, unrelated records) keeps at most - on contact: takes away R; has -
	// deny: Tove (103) needs delete on contact 8; role Seller (1) grants CRUD for owner; role Seller (1) grants CRU for primary group; limit 2 (group Temps (20)) keeps at most CRU on contact: takes away D; has CRU
}
