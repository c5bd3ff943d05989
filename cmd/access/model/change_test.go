package model

import (
	"errors"
	"reflect"
	"testing"

	"github.com/crmaccess/access"
	"github.com/google/go-cmp/cmp"
)

// TestChange: a fragment's entities replace those with the same id or
// name and keep their ids, new ones are added after the largest id, an
// entity the fragment repeats unchanged is no put, and nothing is
// deleted.
func TestChange(t *testing.T) {
	base := access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "Sales"}},
		Groups: []access.Group{{ID: 10, Name: "Team A"}, {ID: 20, Name: "Sales"}},
		Associates: []access.Associate{
			{ID: 101, Name: "anna", PrimaryGroup: 10, Role: 1, Active: true},
			{ID: 102, Name: "bo", PrimaryGroup: 10, Role: 1, Active: true, Groups: []access.GroupID{}},
		},
		Limits:   []access.Limit{{ID: 3, EntityType: "sale", Max: access.LevelRead}},
		Licences: []access.Licence{{ID: 1, Name: "Premier"}},
		// A deleted associate whose records wait to be moved: a newcomer
		// must not take its id and so its records.
		PastOwners: []access.PastOwner{{ID: 103, Name: "cy", PrimaryGroup: 10, Role: 1}},
	}
	tests := []struct {
		name, frag string
		want       access.Batch
	}{{
		name: "nest and move",
		frag: `
groups:
  - name: Sales
    groups: [Team A]
  - name: Oslo
associates:
  - name: ANNA
    primary group: Oslo
    role: Sales
`,
		want: access.Batch{
			Groups:     []access.Group{{ID: 20, Name: "Sales", Groups: []access.GroupID{10}}, {ID: 21, Name: "Oslo"}},
			Associates: []access.Associate{{ID: 101, Name: "ANNA", PrimaryGroup: 21, Role: 1, Active: true}},
		},
	}, {
		name: "unchanged is no put",
		frag: `
associates:
  - name: bo
    primary group: Team A
    role: Sales
`,
	}, {
		name: "rename by id, refer by the new name",
		frag: `
groups:
  - id: 10
    name: Team Oslo
associates:
  - name: bo
    primary group: Team Oslo
    role: Sales
    groups: [Team Oslo]
`,
		want: access.Batch{
			Groups:     []access.Group{{ID: 10, Name: "Team Oslo"}},
			Associates: []access.Associate{{ID: 102, Name: "bo", PrimaryGroup: 10, Role: 1, Active: true, Groups: []access.GroupID{10}}},
		},
	}, {
		name: "a new associate takes no past owner's id",
		frag: `
associates:
  - name: di
    primary group: Team A
    role: Sales
`,
		want: access.Batch{
			Associates: []access.Associate{{ID: 104, Name: "di", PrimaryGroup: 10, Role: 1, Active: true}},
		},
	}, {
		name: "limits and licences",
		frag: `
limits:
  - type: contact
    max: "-"
  - id: 3
    type: sale
    max: R
licences:
  - name: Premier
    seats: 5
  - name: Basic
`,
		want: access.Batch{
			Limits:   []access.Limit{{ID: 4, EntityType: "contact", Max: access.LevelNone}},
			Licences: []access.Licence{{ID: 1, Name: "Premier", Seats: 5}, {ID: 2, Name: "Basic"}},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("change.yaml", []byte(tt.frag))
			if err != nil {
				t.Fatal(err)
			}
			before := base.Clone()
			got, err := f.Change(&base)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(normal(tt.want), normal(got)); diff != "" {
				t.Errorf("Change (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(normal(before), normal(base)); diff != "" {
				t.Errorf("Change changed base (-before +after):\n%s", diff)
			}
		})
	}
}

// TestChangeErrors: a bad fragment is an *Error placed in the fragment,
// wrapping access.ErrInvalid.
func TestChangeErrors(t *testing.T) {
	base := access.Batch{Groups: []access.Group{{ID: 1, Name: "A"}, {ID: 2, Name: "A"}}}
	for _, tt := range []struct{ name, frag, want string }{
		{"unknown name", "associates:\n  - name: x\n    primary group: Nowhere\n", `change.yaml:3:5: invalid: no group is named "Nowhere"`},
		{"ambiguous name", "associates:\n  - name: x\n    groups: [A]\n", `change.yaml:3:14: invalid: 2 groups are named "A" (ids 1, 2): refer to one by id`},
		{"id twice", "groups:\n  - id: 1\n    name: B\n  - id: 1\n    name: C\n", `change.yaml:4:5: invalid: id 1 is also the id of groups[0]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("change.yaml", []byte(tt.frag))
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.Change(&base)
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, access.ErrInvalid) {
				t.Fatalf("Change: %v, want an *Error wrapping ErrInvalid", err)
			}
			if err.Error() != tt.want {
				t.Errorf("Change: %q, want %q", err, tt.want)
			}
		})
	}
}

// TestChangeCoversBatch fails when access.Batch gains a kind of entity
// that the model file, and so Change, does not have a section for.
func TestChangeCoversBatch(t *testing.T) {
	ft := reflect.TypeFor[File]()
	bt := reflect.TypeFor[access.Batch]()
	for i := range bt.NumField() {
		f := bt.Field(i)
		if f.Type.Kind() != reflect.Slice || f.Type.Elem().Kind() != reflect.Struct {
			continue // deletes, flags
		}
		switch f.Name {
		case "PastOwners", "Patches", "MovePastOwners": // written by stores; instructions
			continue
		}
		if _, ok := ft.FieldByName(f.Name); !ok {
			t.Errorf("Batch.%s has no section in File: add one, and handle it in File.Batch, FromBatch and File.Change", f.Name)
		}
	}
}
