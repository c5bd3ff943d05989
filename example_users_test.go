package access_test

import (
	"context"
	"fmt"

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
