package main

import (
	"fmt"
	"os"

	"github.com/crmaccess/access/cmd/access/model"
)

// A vtiger organisation as the importer reads it from the database: a
// role tree, a group of roles and subordinates nested in a group of
// users, a user in no group and a deleted one. The model file shows what
// it becomes; the notes what had no equivalent.
func Example_importVtiger() {
	d := &vtigerData{
		Roles: []vtRole{
			{ID: "H1", Name: "Organisation", ParentRole: "H1"},
			{ID: "H2", Name: "Sales Manager", ParentRole: "H1::H2"},
			{ID: "H3", Name: "Sales Man", ParentRole: "H1::H2::H3"},
		},
		Users: []vtUser{
			{ID: 5, Name: "anna", Status: "Active"},
			{ID: 6, Name: "bo", Status: "Inactive"},
			{ID: 7, Name: "eve", Status: "Inactive", Deleted: 1},
		},
		UserRoles:   []vtLink{{"5", "H2"}, {"6", "H3"}, {"7", "H3"}},
		Groups:      []vtGroup{{ID: 2, Name: "Team A"}, {ID: 3, Name: "Sales"}},
		UserGroups:  []vtLink{{"2", "5"}},
		GroupGroups: []vtLink{{"3", "2"}},
		GroupRS:     []vtLink{{"3", "H2"}},
	}
	b, notes := d.batch()
	out, err := model.Marshal(model.FromBatch(&b), false)
	if err != nil {
		fmt.Println(err)
		return
	}
	os.Stdout.Write(out)
	for _, n := range notes {
		fmt.Println("#", n)
	}
	// Output:
	// roles:
	//   - id: 1
	//     name: Organisation
	//   - id: 2
	//     name: Sales Manager
	//     parent: Organisation
	//   - id: 3
	//     name: Sales Man
	//     parent: Sales Manager
	// groups:
	//   - id: 2
	//     name: Team A
	//   - id: 3
	//     name: Sales
	//     groups: [Team A]
	//     roles and subordinates: [Sales Manager]
	//   - id: 4
	//     name: vtiger users without a group
	// associates:
	//   - id: 5
	//     name: anna
	//     primary group: Team A
	//     role: Sales Manager
	//   - id: 6
	//     name: bo
	//     primary group: vtiger users without a group
	//     role: Sales Man
	//     active: false
	//
	// # users in no vtiger group get the primary group "vtiger users without a group" (4), which grants nothing
	// # user eve (7): deleted in vtiger; not imported
}
