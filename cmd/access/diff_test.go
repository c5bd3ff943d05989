package main

import (
	"testing"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/cmd/access/model"
	"github.com/google/go-cmp/cmp"
)

// TestDiff runs `access diff` end to end: exit 0 for no difference, 1 for
// some, 2 for a change the store would refuse or a bad fragment.
func TestDiff(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"diff-change", []string{"diff", quickstart, "--change", "testdata/change-nest.yaml"}},
		{"diff-change-json", []string{"diff", quickstart, "--change", "testdata/change-nest.yaml", "--json"}},
		{"diff-none", []string{"diff", quickstart, "--change", "testdata/change-none.yaml"}},
		{"diff-files", []string{"diff", quickstart, "testdata/diff-after.yaml"}},
		{"diff-same", []string{"diff", quickstart, quickstart}},
		{"diff-cycle", []string{"diff", quickstart, "--change", "testdata/change-bad.yaml"}},
		{"diff-unknown-name", []string{"diff", quickstart, "--change", "testdata/change-unknown.yaml"}},
		{"diff-usage", []string{"diff", quickstart}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			checkGolden(t, tt.golden, runCmd(tt.args...))
		})
	}
}

// TestFragmentChange: a fragment's entities replace those with the same
// id or name, keep their ids, and new ones are added.
func TestFragmentChange(t *testing.T) {
	base := access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "Sales"}},
		Groups: []access.Group{{ID: 10, Name: "Team A"}, {ID: 20, Name: "Sales"}},
		Associates: []access.Associate{{ID: 101, Name: "anna", PrimaryGroup: 10, Role: 1, Active: true,
			Type: access.Internal}},
	}
	frag, err := model.Parse("change.yaml", []byte(`
groups:
  - name: Sales
    groups: [Team A]
  - name: Oslo
associates:
  - name: ANNA
    primary group: Oslo
    role: Sales
`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := fragmentChange(&base, frag)
	if err != nil {
		t.Fatal(err)
	}
	want := access.Batch{
		Groups: []access.Group{{ID: 20, Name: "Sales", Groups: []access.GroupID{10}}, {ID: 21, Name: "Oslo"}},
		Associates: []access.Associate{{ID: 101, Name: "ANNA", PrimaryGroup: 21, Role: 1, Active: true,
			Type: access.Internal}},
	}
	if diff := cmp.Diff(normal(want), normal(got)); diff != "" {
		t.Errorf("fragmentChange (-want +got):\n%s", diff)
	}
}
