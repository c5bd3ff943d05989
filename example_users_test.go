package access_test

import (
	"context"
	"fmt"
	"net"

	"github.com/crmaccess/access"
)

// A cleared field is no value: the associate whose own phone is blank gets
// the group's, as Dynamicweb's group values are fallbacks "if the field has
// no value on a user".
func ExampleEngine_Field_blank() {
	ctx := context.Background()
	_, r := exampleResolver(access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "Customer"}},
		Groups: []access.Group{{ID: 10, Name: "Head office", Fields: map[string]string{"phone": "+45 70 00 00 00"}}},
		Associates: []access.Associate{
			{ID: 11, Name: "kim", PrimaryGroup: 10, Role: 1, Active: true, Attributes: map[string]string{"phone": ""}},
			{ID: 12, Name: "lars", PrimaryGroup: 10, Role: 1, Active: true, Attributes: map[string]string{"phone": "+45 11 22 33 44"}},
		},
	})
	defer r.Close()
	for _, who := range []access.AssociateID{11, 12} {
		v, _ := r.Field(ctx, who, "phone")
		fmt.Printf("%d: %s (group %d)\n", who, v.Value, v.Group.ID)
	}
	// Output:
	// 11: +45 70 00 00 00 (group 10)
	// 12: +45 11 22 33 44 (group 0)
}

// The admin list view: every group with its description, read a page at a
// time by starting after the last id of the previous page.
func ExampleEngine_GroupsSeq() {
	ctx := context.Background()
	_, r := exampleResolver(access.Batch{
		Roles: []access.Role{{ID: 1, Name: "User"}},
		Groups: []access.Group{
			{ID: 10, Name: "Marketing", Description: "Campaigns and events"},
			{ID: 20, Name: "Sales", Description: "Everyone who sells"},
			{ID: 30, Name: "Support"},
		},
	})
	defer r.Close()
	const pageSize = 2
	var after access.GroupID
	for page := 1; ; page++ {
		groups, err := r.GroupsSeq(ctx, after)
		if err != nil {
			fmt.Println(err)
			return
		}
		n := 0
		for g := range groups {
			fmt.Printf("page %d: %s — %q\n", page, g.Name, g.Description)
			after, n = g.ID, n+1
			if n == pageSize {
				break
			}
		}
		if n < pageSize {
			break
		}
	}
	// Output:
	// page 1: Marketing — "Campaigns and events"
	// page 1: Sales — "Everyone who sells"
	// page 2: Support — ""
}

// Customer Service roles from the obsolete ej_role table become Sales &
// Marketing roles with functional rights; what has no equivalent is
// reported, not dropped.
func ExampleConvertLegacyRoles() {
	roles, gaps := access.ConvertLegacyRoles([]access.LegacyRole{
		{ID: 2, Name: "Support lead", Rights: []string{"edit all tickets", "faq publish", "delete-tickets"}},
		{ID: 1, Name: "Support agent", Rights: []string{"read own tickets", "edit own tickets", "kb"}},
	})
	for _, r := range roles {
		fmt.Println(r.ID, r.Name, r.Functions)
	}
	for _, g := range gaps {
		fmt.Println(g)
	}
	// Output:
	// 1 Support agent [edit-requests-in-own-categories knowledge-base read-requests-in-own-categories]
	// 2 Support lead [administrate-faq edit-all-requests]
	// role 2: right "delete-tickets": deleting requests is a data right: give the role Delete on the request entity type in its Rights
}

// exampleDNS is an in-process stand-in for the domain name system: one
// domain with a mail server, one with only a web server.
type exampleDNS struct{}

func (exampleDNS) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	if name == "example.com." {
		return []*net.MX{{Host: "mail.example.com.", Pref: 10}}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (exampleDNS) LookupHost(ctx context.Context, host string) ([]string, error) {
	if host == "www-only.example." {
		return []string{"192.0.2.1"}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// Dynamicweb's "validate emails": every member of a group, with the reason
// for each invalid address. Without a DNS option the check asks
// net.DefaultResolver.
func ExampleEngine_ValidateEmails() {
	ctx := context.Background()
	_, r := exampleResolver(access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "Customer"}},
		Groups: []access.Group{{ID: 10, Name: "Newsletter"}},
		Associates: []access.Associate{
			{ID: 1, Name: "anna", PrimaryGroup: 10, Role: 1, Active: true, Email: "anna@example.com"},
			{ID: 2, Name: "bo", PrimaryGroup: 10, Role: 1, Active: true, Email: "bo@example"},
			{ID: 3, Name: "carl", PrimaryGroup: 10, Role: 1, Active: true, Email: "carl@www-only.example"},
			{ID: 4, Name: "dan", PrimaryGroup: 10, Role: 1, Active: true, Email: "dan.example.com"},
			{ID: 5, Name: "eva", PrimaryGroup: 10, Role: 1, Active: true},
		},
	})
	defer r.Close()
	results, err := r.ValidateEmails(ctx, 10, access.EmailCheckOptions{DNS: exampleDNS{}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, res := range results {
		if !res.Valid() {
			fmt.Printf("%s <%s>: %s\n", res.Name, res.Email, res.Reason())
		}
	}
	// Output:
	// bo <bo@example>: no such domain
	// carl <carl@www-only.example>: no MX record
	// dan <dan.example.com>: bad format: mail: missing '@' or angle-addr
	// eva <>: no address
}
