package model_test

import (
	"fmt"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/cmd/access/model"
)

// An exported model refers by name where names are unique, writes every
// id, and writes each rights row on one line, owner first.
func ExampleFromBatch() {
	b := access.Batch{
		Roles: []access.Role{{ID: 1, Name: "Sales", Rights: map[string]access.Grid{
			"contact": {access.Other: access.R, access.Owner: access.LevelFull, access.PrimaryGroup: access.LevelUpdate},
		}}},
		Groups: []access.Group{{ID: 10, Name: "Oslo"}, {ID: 11, Name: "Team"}, {ID: 12, Name: "Team", Groups: []access.GroupID{10, 11}}},
		Associates: []access.Associate{
			{ID: 101, Name: "anna", PrimaryGroup: 10, Groups: []access.GroupID{11}, Role: 1, Active: true},
		},
	}
	out, err := model.Marshal(model.FromBatch(&b), false)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	// Output:
	// roles:
	//   - id: 1
	//     name: Sales
	//     rights:
	//       contact: {owner: CRUD, primary group: CRU, other: R}
	// groups:
	//   - id: 10
	//     name: Oslo
	//   - id: 11
	//     name: Team
	//   - id: 12
	//     name: Team
	//     groups: [Oslo, 11]
	// associates:
	//   - id: 101
	//     name: anna
	//     primary group: Oslo
	//     groups: [11]
	//     role: Sales
}
