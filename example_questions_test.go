package access_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/crmaccess/access"
)

// Authenticating a request by login name costs no store round trip: the
// resolver answers from its snapshot, comparing login names as the stores
// do, case-insensitively.
func ExampleEngine_AssociateByName() {
	ctx := context.Background()
	_, r := exampleResolver(access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "Sales"}},
		Groups: []access.Group{{ID: 10, Name: "Sales"}, {ID: 11, Name: "Sales"}},
		Associates: []access.Associate{
			{ID: 101, Name: "anna", PrimaryGroup: 10, Role: 1, Active: true},
		},
	})
	defer r.Close()

	a, err := r.AssociateByName(ctx, "Anna")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.ID, a.Name)
	_, err = r.AssociateByName(ctx, "bob")
	fmt.Println(errors.Is(err, access.ErrNotFound))
	// Group names need not be unique: every group of the name comes back.
	gs, _ := r.GroupsByName(ctx, "Sales")
	fmt.Println(gs)
	// Output:
	// 101 anna
	// true
	// [10 11]
}

// An audit hook sees every decision and impersonation, refusals included.
func ExampleOptions_audit() {
	ctx := context.Background()
	s, first := exampleResolver(access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "Sales", Rights: map[string]access.Grid{"contact": {access.Owner: access.LevelFull}}}},
		Groups: []access.Group{{ID: 10, Name: "Sales"}},
		Associates: []access.Associate{
			{ID: 101, Name: "anna", PrimaryGroup: 10, Role: 1, Active: true},
			{ID: 102, Name: "bob", PrimaryGroup: 10, Role: 1, Active: true},
		},
	})
	first.Close()
	r, err := access.NewResolver(ctx, s, &access.Options{
		Audit: func(_ context.Context, ev access.AuditEvent) {
			switch ev.Kind {
			case access.AuditDecision:
				fmt.Printf("%s: %s %s %s %d: %v\n", ev.Kind, ev.TargetName, ev.Decision.Action, ev.Decision.Record.Type, ev.Decision.Record.ID, ev.Decision.Allowed)
			default:
				fmt.Printf("%s: %s as %s: %v\n", ev.Kind, ev.ActorName, ev.TargetName, ev.Err)
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	r.Can(ctx, 101, access.Update, access.Record{Type: "contact", ID: 7, Owner: 101})
	r.Can(ctx, 102, access.Update, access.Record{Type: "contact", ID: 7, Owner: 101})
	r.Impersonate(ctx, 102, 101)
	// Output:
	// decision: anna update contact 7: true
	// decision: bob update contact 7: false
	// impersonation refused: bob as anna: access: associate 102 acting as 101: impersonation refused: no rule allows it
}

// With the entity types registered, a typo in a record type is an error,
// not a silent deny.
func ExampleOptions_entityTypes() {
	ctx := context.Background()
	s, first := exampleResolver(access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "Sales", Rights: map[string]access.Grid{"contact": {access.Owner: access.LevelFull}}}},
		Groups: []access.Group{{ID: 10, Name: "Sales"}},
		Associates: []access.Associate{
			{ID: 101, Name: "anna", PrimaryGroup: 10, Role: 1, Active: true},
		},
	})
	first.Close()
	r, err := access.NewResolver(ctx, s, &access.Options{EntityTypes: []string{"contact", "ticket"}})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	d, err := r.Can(ctx, 101, access.Read, access.Record{Type: "contact", ID: 7, Owner: 101})
	fmt.Println(d.Allowed, err)
	d, err = r.Can(ctx, 101, access.Read, access.Record{Type: "contacts", ID: 7, Owner: 101})
	fmt.Println(d.Allowed, errors.Is(err, access.ErrInvalid))
	// Output:
	// true <nil>
	// false true
}

// Reading the first members of a large group, or streaming them, without
// building the whole list.
func ExampleEngine_MembersSeq() {
	ctx := context.Background()
	b := access.Batch{Roles: []access.Role{{ID: 1, Name: "Agent"}}, Groups: []access.Group{{ID: 10, Name: "Support"}}}
	for id := access.AssociateID(1); id <= 1000; id++ {
		b.Associates = append(b.Associates, access.Associate{ID: id, Name: fmt.Sprint("agent", id), PrimaryGroup: 10, Role: 1, Active: true})
	}
	_, r := exampleResolver(b)
	defer r.Close()

	members, err := r.MembersSeq(ctx, 10)
	if err != nil {
		log.Fatal(err)
	}
	for id := range members {
		if id > 3 {
			break
		}
		fmt.Println(id)
	}
	// Output:
	// 1
	// 2
	// 3
}

// The first page of who can act on a record, deciding no further than it.
func ExampleEngine_WhoCanSeq() {
	ctx := context.Background()
	seller := map[string]access.Grid{"contact": {access.Owner: access.LevelFull, access.Other: access.LevelRead}}
	b := access.Batch{Roles: []access.Role{{ID: 1, Name: "Sales", Rights: seller}}, Groups: []access.Group{{ID: 10, Name: "Sales"}}}
	for id := access.AssociateID(1); id <= 1000; id++ {
		b.Associates = append(b.Associates, access.Associate{ID: id, Name: fmt.Sprint("seller", id), PrimaryGroup: 10, Role: 1, Active: true})
	}
	_, r := exampleResolver(b)
	defer r.Close()

	allowed, err := r.WhoCanSeq(ctx, access.Read, access.Record{Type: "contact", ID: 7, Owner: 500})
	if err != nil {
		log.Fatal(err)
	}
	page := 0
	for a, err := range allowed {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(a.Associate, a.Relations)
		if page++; page == 2 {
			break
		}
	}
	// Output:
	// 1 other
	// 2 other
}

// Middleware that needs only yes or no asks Allowed: the answer Can would
// give, without the explanation, for less. Any error means no.
func ExampleEngine_Allowed() {
	ctx := context.Background()
	seller := map[string]access.Grid{"contact": {access.Owner: access.LevelFull, access.Other: access.LevelRead}}
	_, r := exampleResolver(access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "Sales", Rights: seller}},
		Groups: []access.Group{{ID: 10, Name: "Sales"}},
		Associates: []access.Associate{
			{ID: 101, Name: "anna", PrimaryGroup: 10, Role: 1, Active: true},
			{ID: 102, Name: "ben", PrimaryGroup: 10, Role: 1, Active: true},
		},
	})
	defer r.Close()

	contact := access.Record{Type: "contact", ID: 7, Owner: 101}
	for _, q := range []struct {
		who access.AssociateID
		act access.Action
	}{{101, access.Update}, {102, access.Read}, {102, access.Update}} {
		ok, err := r.Allowed(ctx, q.who, q.act, contact)
		fmt.Println(q.who, q.act, ok, err)
	}
	ok, err := r.Allowed(ctx, 102, access.Read, access.Record{Type: "", ID: 7})
	fmt.Println(ok, errors.Is(err, access.ErrInvalid))
	// Output:
	// 101 update true <nil>
	// 102 read true <nil>
	// 102 update false <nil>
	// false true
}
