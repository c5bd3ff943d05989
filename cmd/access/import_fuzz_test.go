package main

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/crmaccess/access/store/memory"
)

// FuzzVtigerBatch feeds the vtiger mapping odd data, as a database might
// hold it: parentrole paths that skip, repeat or loop, group nesting that
// loops, names that are empty, too long, not UTF-8 or equal but for case,
// and links to what does not exist. Whatever comes in, the batch must be
// one every store accepts (what cannot be imported is noted instead).
//
// roles holds one parentrole per line; groups one line per group, "ID
// NAME", then "> ID" lines for its member groups; users one line per
// user, "ID NAME ROLE GROUP…".
func FuzzVtigerBatch(f *testing.F) {
	f.Add("H1\nH1::H2\nH1::H2::H3", "2 Team A\n> 3\n3 Sales\n> 2", "5 anna H2 2 3\n6 Anna H3\n7 bo H9 4")
	f.Add("H1::H2\nH2::H1\nX::H1::H2", "0 \n-1 x\n1 a\n> 1", "0 x H1\n1 \xff H1 1")
	f.Add("H5", "1 "+strings.Repeat("g", 300), "1 "+strings.Repeat("u", 300)+" H5 1")
	f.Fuzz(func(t *testing.T, roles, groups, users string) {
		d := &vtigerData{OrgShare: map[int64]int64{}, Tabs: map[int64]string{}}
		for _, path := range strings.Split(roles, "\n") {
			steps := strings.Split(path, "::")
			d.Roles = append(d.Roles, vtRole{ID: steps[len(steps)-1], Name: path, ParentRole: path})
		}
		var group string
		for _, line := range strings.Split(groups, "\n") {
			if m, ok := strings.CutPrefix(line, "> "); ok {
				d.GroupGroups = append(d.GroupGroups, vtLink{group, m})
				continue
			}
			id, name, _ := strings.Cut(line, " ")
			n, err := strconv.ParseInt(id, 10, 64)
			if err != nil {
				continue
			}
			group = id
			d.Groups = append(d.Groups, vtGroup{ID: n, Name: name})
		}
		for _, line := range strings.Split(users, "\n") {
			fields := strings.Fields(line)
			if len(fields) < 3 {
				continue
			}
			n, err := strconv.ParseInt(fields[0], 10, 64)
			if err != nil {
				continue
			}
			d.Users = append(d.Users, vtUser{ID: n, Name: fields[1], Status: "Active", IsAdmin: "on"})
			d.UserRoles = append(d.UserRoles, vtLink{fields[0], fields[2]})
			for _, g := range fields[3:] {
				d.UserGroups = append(d.UserGroups, vtLink{g, fields[0]})
			}
		}
		b, notes := d.batch()
		if _, err := memory.New().Apply(context.Background(), b); err != nil {
			t.Fatalf("%v\nnotes:\n%s", err, strings.Join(notes, "\n"))
		}
	})
}
