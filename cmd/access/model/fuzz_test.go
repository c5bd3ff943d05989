package model

import (
	"os"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzParse: the loader never panics, and a file it accepts round-trips:
// export the batch it gives, parse and resolve that, and the batch is the
// same, in YAML and in JSON.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("../../../../examples/model/model.yaml"); err == nil {
		f.Add(data, false)
	}
	f.Add([]byte("roles: [{name: R, rights: {contact: {owner: CRUD}}}]\ngroups: [{name: G}]\nassociates: [{name: a, primary group: G, role: R}]\n"), false)
	f.Add([]byte(`{"roles": [{"name": "R", "id": 3}], "groups": [{"name": "G", "roles": [3]}]}`), true)
	f.Add([]byte("groups:\n  - name: G\n  - name: G\ncategories: [{name: C, groups: [1, 2]}]\n"), false)
	f.Add([]byte("associates: [{name: a, valid from: 2026-01-01T00:00:00+02:00, active: false}]\n"), false)
	f.Add([]byte("groups: [{name: Temps}]\nlimits: [{group: Temps, type: contact, record: 4, max: R}, {type: \"*\", max: \"-\", scope: unrelated records}]\n"), false)
	f.Add([]byte("licences: [{name: L, seats: 2, for: [internal, system], valid to: 2027-01-01T00:00:00Z}]\nassociates: [{name: a, licences: [L]}]\n"), false)
	// go-yaml v1.19.2 panics on this one; Parse must report an error.
	f.Add([]byte("categories: ![name: C, groups:}[1, 2]}]\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, asJSON bool) {
		name := "fuzz.yaml"
		if asJSON {
			name = "fuzz.json"
		}
		file, err := Parse(name, data)
		if err != nil {
			return
		}
		b, _, err := file.Batch()
		if err != nil {
			return
		}
		for _, j := range []bool{false, true} {
			out, err := Marshal(FromBatch(&b), j)
			if err != nil {
				t.Fatalf("marshal of an accepted file: %v", err)
			}
			n := "again.yaml"
			if j {
				n = "again.json"
			}
			again, err := Parse(n, out)
			if err != nil {
				t.Fatalf("the export does not parse: %v\n%s", err, out)
			}
			b2, _, err := again.Batch()
			if err != nil {
				t.Fatalf("the export does not resolve: %v\n%s", err, out)
			}
			sortBatch(&b)
			sortBatch(&b2)
			if diff := gocmp.Diff(b, b2, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("batch after export and parse (-want +got):\n%s\nexport:\n%s", diff, out)
			}
		}
	})
}

// FuzzParseRecord: the record parser never panics, and what it accepts
// it writes back in a form that parses to the same record.
func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{
		"contact", "contact{}", "contact{id: 42, owner: bo, group: Oslo}",
		`sale{owner: "12", team: "A, B {c}"}`, "project{published: true, visibility: group}",
		"contact{owner: bo", "{}", `x{category: "\u00e6"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRecord(s)
		if err != nil {
			return
		}
		again, err := ParseRecord(r.String())
		if err != nil {
			t.Fatalf("%q was accepted, but its rendering %q is not: %v", s, r.String(), err)
		}
		if diff := gocmp.Diff(r, again, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("record after rendering %q (-want +got):\n%s", r.String(), diff)
		}
	})
}
