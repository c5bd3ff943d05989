package access_test

import (
	"context"
	"fmt"
	"log"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// A role whose Other cell grants R on contacts while its primary-group
// cell grants nothing lets a stranger read what a colleague cannot. The
// seeds allow such a role, so the write succeeds; Apply reports why it
// deserves a second look.
func ExampleApply() {
	ctx := context.Background()
	s := memory.New()
	res, err := access.Apply(ctx, s, access.Batch{
		Roles: []access.Role{{ID: 1, Name: "Sales", Rights: map[string]access.Grid{
			"contact": {
				access.Owner:          access.LevelFull,
				access.Team:           access.R,
				access.Subordinate:    access.R,
				access.CategoryMember: access.R,
				access.Other:          access.R,
			},
		}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("revision:", res.Revision)
	for _, l := range res.Lint {
		fmt.Println(l)
	}
	// Output:
	// revision: 1
	// role Sales (1): "contact": other grants R beyond primary group
	// role Sales (1): "contact": other grants R beyond other group
}
