package access_test

import (
	"context"
	"fmt"
	"log"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// An admin UI previews nesting Team B in Sales before saving it: Bo, in
// Team B, would join Sales and with it gain Sales's functional rights —
// backend-login among them, so Bo could sign in to the client — and its
// default permission on documents. Nothing is written.
func ExampleEngine_WhatIf() {
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Apply(ctx, access.Batch{
		Roles: []access.Role{{ID: 1, Name: "Seller"}},
		Groups: []access.Group{
			{ID: 10, Name: "Team A"},
			{ID: 11, Name: "Team B"},
			{ID: 20, Name: "Sales", Groups: []access.GroupID{10}, Functions: []string{"export", access.FuncBackendLogin},
				Defaults: map[string]access.CRUD{"document": access.R}},
		},
		Associates: []access.Associate{
			{ID: 1, Name: "anna", Type: access.Internal, Active: true, PrimaryGroup: 10, Role: 1},
			{ID: 2, Name: "bo", Type: access.Internal, Active: true, PrimaryGroup: 11, Role: 1},
		},
	}); err != nil {
		log.Fatal(err)
	}
	r, err := access.NewResolver(ctx, s, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	d, err := r.WhatIf(ctx, access.Batch{Groups: []access.Group{
		{ID: 20, Name: "Sales", Groups: []access.GroupID{10, 11}, Functions: []string{"export", access.FuncBackendLogin},
			Defaults: map[string]access.CRUD{"document": access.R}},
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(d.String())
	fmt.Println("store still at revision", s.Revision())
	// Output:
	// revision 1: 1 associates: 0 status, memberships +1 -0, 1 rights cells (1 gaining, 0 losing), functional rights +2 -0, sign-in +1 -0
	//
	// bo (2):
	//   memberships (1):
	//     + Sales (20): primary group Team B (11) via Team B (11) → Sales (20)
	//   rights (1):
	//     document, group defaults: - → R (+R)
	//   functional rights (2):
	//     + backend-login
	//     + export
	//   sign-in (1):
	//     + client: allow: bo (2) may sign in through the client; internal associates may use the client; group Sales (20) grants backend-login
	// store still at revision 1
}
