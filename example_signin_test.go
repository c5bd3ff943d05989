package access_test

import (
	"context"
	"fmt"
	"log"

	"github.com/crmaccess/access"
)

// SignIn answers one question at the login screen: may this associate sign
// in through this channel, and why. Internal users sign in to the client
// when their role or a group grants backend-login; external, system and
// anonymous users use the API only; and once a licence lists a type, its
// associates need a valid one.
func ExampleEngine_SignIn() {
	ctx := context.Background()
	_, r := exampleResolver(access.Batch{
		Roles: []access.Role{
			{ID: 1, Name: "Sales", Functions: []string{access.FuncBackendLogin}},
			{ID: 2, Name: "Partner", Functions: []string{access.FuncBackendLogin}},
		},
		Groups: []access.Group{{ID: 10, Name: "Sales"}},
		Licences: []access.Licence{
			{ID: 1, Name: "Sales Premier", Seats: 10, For: []access.AssociateType{access.Internal}},
		},
		Associates: []access.Associate{
			{ID: 101, Name: "anna", Type: access.Internal, PrimaryGroup: 10, Role: 1, Active: true, Licences: []access.LicenceID{1}},
			{ID: 102, Name: "bob", Type: access.Internal, PrimaryGroup: 10, Role: 1, Active: true},
			{ID: 103, Name: "partner", Type: access.External, Role: 2, Active: true},
		},
	})
	defer r.Close()

	for _, q := range []struct {
		who access.AssociateID
		ch  access.Channel
	}{{101, access.ChannelClient}, {102, access.ChannelAPI}, {103, access.ChannelClient}, {103, access.ChannelAPI}} {
		d, err := r.SignIn(ctx, q.who, q.ch)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(d)
	}
	// Output:
	// allow: anna (101) may sign in through the client; internal associates may use the client; role Sales (1) grants backend-login
	// deny: bob (102) may not sign in through the API; no valid licence: needs licence Sales Premier (1)
	// deny: partner (103) may not sign in through the client; external associates cannot sign in to the client: they use the API
	// allow: partner (103) may sign in through the API; external associates may use the API
}
