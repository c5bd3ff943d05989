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
