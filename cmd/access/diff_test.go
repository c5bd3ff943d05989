package main

import (
	"reflect"
	"testing"

	"github.com/crmaccess/access"
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
		{"diff-change-limit", []string{"diff", quickstart, "--change", "testdata/change-limit.yaml"}},
		{"diff-files-limit", []string{"diff", quickstart, "testdata/diff-after-limit.yaml"}},
		{"diff-change-limit-unrelated", []string{"diff", quickstart, "--change", "testdata/change-limit-unrelated.yaml"}},
		{"diff-change-limit-record", []string{"diff", quickstart, "--change", "testdata/change-limit-record.yaml"}},
		{"diff-change-limit-record-json", []string{"diff", quickstart, "--change", "testdata/change-limit-record.yaml", "--json"}},
		{"diff-files-limit-removed", []string{"diff", "testdata/diff-after-limit.yaml", quickstart}},
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

// TestBatchChangeFields fails when access.Batch gains a field that
// batchChange does not handle: each entity list of a store's model must
// show up in the change when before and after differ in it, and every
// other field must be listed here as no model.
func TestBatchChangeFields(t *testing.T) {
	// Fields a store's Changes from revision 0 never sets, or that are
	// instructions rather than model.
	notModel := map[string]bool{
		"DeleteRoles": true, "DeleteGroups": true, "DeleteAssociates": true,
		"DeleteSharingRules": true, "DeleteGrants": true, "DeleteCategories": true,
		"DeleteImpersonations": true, "DeleteLimits": true, "DeleteLicences": true,
		"ForgetPastOwners": true, "MovePastOwners": true, "Patches": true, "CreateOnly": true, "ExpectRevision": true,
	}
	bt := reflect.TypeFor[access.Batch]()
	for i := range bt.NumField() {
		f := bt.Field(i)
		if notModel[f.Name] {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			if f.Type.Kind() != reflect.Slice || f.Type.Elem().Kind() != reflect.Struct {
				t.Fatalf("Batch.%s is new: handle it in batchChange, or list it in notModel", f.Name)
			}
			// One entity with id 7 in one model and not in the other.
			var one access.Batch
			s := reflect.MakeSlice(f.Type, 1, 1)
			id := s.Index(0).FieldByName("ID")
			if !id.IsValid() {
				t.Fatalf("Batch.%s holds entities without an ID: handle it in batchChange", f.Name)
			}
			id.SetInt(7)
			reflect.ValueOf(&one).Elem().Field(i).Set(s)
			// A past owner only a store writes, when it deletes an
			// associate: a batch cannot add one (see batchChange).
			if c := batchChange(&access.Batch{}, &one); c.Empty() && f.Name != "PastOwners" {
				t.Errorf("batchChange(empty, one %s) is empty", f.Name)
			}
			if c := batchChange(&one, &access.Batch{}); c.Empty() {
				t.Errorf("batchChange(one %s, empty) is empty", f.Name)
			}
			if c := batchChange(&one, &one); !c.Empty() {
				t.Errorf("batchChange(one %s, the same) = %+v, want empty", f.Name, c)
			}
		})
	}
}
