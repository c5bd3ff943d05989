package model

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestParseErrors checks that every kind of mistake is reported with the
// file, line and column where it is, in YAML and in JSON.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, file, src, want string
	}{
		{"yaml unknown key", "m.yaml", "roles:\n  - name: A\n    rigths: {}\n",
			`m.yaml:3:5: invalid: unknown field "rigths"`},
		{"yaml syntax", "m.yaml", "roles:\n  - name: [A\n",
			`m.yaml:2:11: invalid: sequence end token ']' not found`},
		{"yaml wrong type", "m.yaml", "associates:\n  - name: a\n    company: many\n",
			`m.yaml:3:14: invalid: cannot unmarshal string into Go struct field File.Associates of type int64`},
		{"unknown name", "m.yaml", "groups:\n  - name: G\nassociates:\n  - name: a\n    primary group: H\n",
			`m.yaml:5:5: invalid: no group is named "H"`},
		{"name in a list", "m.yaml", "roles:\n  - name: R\ngroups:\n  - name: G\n    roles: [R, S]\n",
			`m.yaml:5:16: invalid: no role is named "S"`},
		{"ambiguous name", "m.yaml", "groups:\n  - name: G\n  - name: G\nassociates:\n  - name: a\n    primary group: G\n",
			`m.yaml:6:5: invalid: 2 groups are named "G" (ids 1, 2): refer to one by id`},
		{"duplicate id", "m.yaml", "roles:\n  - {name: A, id: 3}\n  - {name: B, id: 3}\n",
			`m.yaml:3:15: invalid: id 3 is also the id of roles[0]`},
		{"bad letters", "m.yaml", "roles:\n  - name: A\n    rights:\n      contact: {owner: CRX}\n",
			`m.yaml:4:17: invalid: rights "CRX": use the letters C, R, U and D, or - for none`},
		{"bad relation", "m.yaml", "roles:\n  - name: A\n    rights:\n      contact: {boss: R}\n",
			`m.yaml:4:17: invalid: unknown relation "boss" (owner, team, primary group, other group, subordinate, category member, my company, same project, other, unowned)`},
		{"bad time", "m.yaml", "associates:\n  - name: a\n    valid from: tomorrow\n",
			`m.yaml:3:5: invalid: time "tomorrow": write it as RFC 3339, such as 2026-01-31T09:00:00Z`},
		{"bad type", "m.yaml", "associates:\n  - name: a\n    type: robot\n",
			`m.yaml:3:5: invalid: unknown associate type "robot" (internal, resource, external, anonymous, system)`},
		{"grant to both", "m.yaml", "groups: [{name: G}]\nassociates: [{name: a}]\ngrants:\n  - {associate: a, group: G, type: x, rights: R}\n",
			`m.yaml:4:6: invalid: a grant goes to exactly one associate or one group`},
		{"bad limit scope", "m.yaml", "limits:\n  - {type: contact, max: R, scope: mine}\n",
			`m.yaml:2:29: invalid: scope "mine": use all records or unrelated records`},
		{"json unknown key", "m.json", "{\"roles\": [\n  {\"name\": \"A\", \"rigths\": {}}\n]}",
			`m.json:2:17: invalid: unknown field "rigths"`},
		{"json syntax", "m.json", "{\"roles\": [\n  {\"name\": \"A\",}\n]}",
			`m.json:2:16: invalid: invalid character '}' looking for beginning of object key string`},
		{"json wrong type", "m.json", "{\"associates\": [\n  {\"name\": \"a\", \"company\": \"many\"}\n]}",
			`m.json:2:28: invalid: cannot unmarshal string into Go struct field Associate.associates.company of type int64`},
		{"json unknown name", "m.json", "{\"groups\": [{\"name\": \"G\"}],\n \"associates\": [\n  {\"name\": \"a\",\n   \"primary group\": \"H\"}]}",
			`m.json:4:21: invalid: no group is named "H"`},
		{"yaml reference of the wrong type", "m.yaml", "roles:\n  - name: A\n    parent: 1.5\n",
			`m.yaml:3:13: invalid: a reference is a name (a string) or an id (a positive integer), not 1.5`},
		{"yaml negative id", "m.yaml", "roles:\n  - name: A\n    parent: -3\n",
			`m.yaml:3:13: invalid: id -3 must be positive`},
		{"json reference of the wrong type", "m.json", "{\"roles\": [\n {\"name\": \"A\", \"parent\": [\"a\"]}]}",
			`m.json:2:26: invalid: a reference is a name (a string) or an id (a positive integer), not ["a"]`},
		{"json empty name", "m.json", "{\"roles\": [\n {\"name\": \"A\", \"parent\": \"\"}]}",
			`m.json:2:26: invalid: a reference by name needs a name, not an empty string`},
		{"json trailing data", "m.json", "{}\n{}",
			`m.json:2:1: invalid: data after the document`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(tt.file, []byte(tt.src))
			if err == nil {
				_, _, err = f.Batch()
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, access.ErrInvalid) {
				t.Errorf("error %v does not wrap access.ErrInvalid", err)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Errorf("error %v is not an *Error", err)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAssignIDs: entities without an id are numbered per kind, in file
// order, after the largest id given to that kind.
func TestAssignIDs(t *testing.T) {
	src := `
roles:
  - name: A
  - name: B
    id: 7
  - name: C
groups:
  - name: G
associates:
  - name: a
    primary group: G
    role: C
  - name: b
    id: 2
    primary group: G
    role: 7
`
	f, err := Parse("m.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := f.Batch()
	if err != nil {
		t.Fatal(err)
	}
	want := access.Batch{
		Roles:  []access.Role{{ID: 8, Name: "A"}, {ID: 7, Name: "B"}, {ID: 9, Name: "C"}},
		Groups: []access.Group{{ID: 1, Name: "G"}},
		Associates: []access.Associate{
			{ID: 3, Name: "a", PrimaryGroup: 1, Role: 9, Active: true},
			{ID: 2, Name: "b", PrimaryGroup: 1, Role: 7, Active: true},
		},
	}
	if diff := cmp.Diff(want, b, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("batch (-want +got):\n%s", diff)
	}
	if f.Roles[0].ID != 0 {
		t.Errorf("Batch changed the file: role A has id %d", f.Roles[0].ID)
	}
}

// TestNamesAndIDs: references by id, by a quoted name made of digits,
// and by a login name in another case.
func TestNamesAndIDs(t *testing.T) {
	src := `
roles: [{name: "42", id: 5}]
groups: [{name: G, id: 9}]
associates:
  - {name: Anna, primary group: 9, role: "42"}
  - {name: bo, primary group: G, role: 5}
groups and more: 1
`
	if _, err := Parse("m.yaml", []byte(src)); err == nil || !strings.Contains(err.Error(), `unknown field "groups and more"`) {
		t.Fatalf("unknown top-level key: got %v", err)
	}
	src = strings.Replace(src, "groups and more: 1\n", "grants: [{associate: anna, type: x, rights: R}]\n", 1)
	f, err := Parse("m.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := f.Batch()
	if err != nil {
		t.Fatal(err)
	}
	got := []int64{int64(b.Associates[0].Role), int64(b.Associates[1].Role), int64(b.Associates[0].PrimaryGroup), int64(b.Grants[0].Associate)}
	if diff := cmp.Diff([]int64{5, 5, 9, 1}, got); diff != "" {
		t.Errorf("resolved ids (-want +got):\n%s", diff)
	}
}

func TestParseRecord(t *testing.T) {
	tests := []struct {
		in   string
		want RecordSpec
		err  string
	}{
		{in: "contact", want: RecordSpec{Type: "contact"}},
		{in: " contact {} ", want: RecordSpec{Type: "contact"}},
		{in: "contact{id: 42, owner: bo, group: Oslo sales}", want: RecordSpec{Type: "contact", Fields: []Field{
			{"id", Value{Text: "42"}}, {"owner", Value{Text: "bo"}}, {"group", Value{Text: "Oslo sales"}}}}},
		{in: `sale{owner: "12", team: "A, B {c}"}`, want: RecordSpec{Type: "sale", Fields: []Field{
			{"owner", Value{Text: "12", Quoted: true}}, {"team", Value{Text: "A, B {c}", Quoted: true}}}}},
		{in: "{owner: bo}", err: "the entity type is missing"},
		{in: "contact{boss: bo}", err: `unknown key "boss"`},
		{in: "contact{owner: bo, owner: al}", err: `key "owner" is given twice`},
		{in: "contact{owner bo}", err: `expected ':' after "owner"`},
		{in: "contact{owner: }", err: "owner: the value is missing"},
		{in: "contact{owner: bo", err: `expected ',' or '}' after the value of "owner"`},
		{in: "contact{owner: bo} x", err: `unexpected "x" after the closing brace`},
		{in: `contact{owner: "bo}`, err: "malformed quoted value"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRecord(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, access.ErrInvalid) {
					t.Fatalf("error %v, want one containing %q and wrapping ErrInvalid", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseCheck(t *testing.T) {
	tests := []struct {
		in   string
		want Check
		err  string
	}{
		{in: "anna can update contact{owner: bo}", want: Check{Who: Value{Text: "anna"}, Verb: "can", Action: access.Update,
			Record: RecordSpec{Type: "contact", Fields: []Field{{"owner", Value{Text: "bo"}}}}}},
		{in: "Person 1 cannot read sale", want: Check{Who: Value{Text: "Person 1"}, Verb: "cannot", Action: access.Read, Record: RecordSpec{Type: "sale"}}},
		{in: `"who can" has user-admin`, want: Check{Who: Value{Text: "who can", Quoted: true}, Verb: "has", Right: "user-admin"}},
		{in: "11 lacks export selection", want: Check{Who: Value{Text: "11"}, Verb: "lacks", Right: "export selection"}},
		{in: "anna may read contact", err: "expected WHO, then can, cannot, has or lacks"},
		{in: "anna can fly contact", err: `unknown action "fly"`},
		{in: "anna has", err: "the functional right is missing"},
		{in: "can read contact", err: "expected WHO"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseCheck(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("check (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDocExample: the format example in the package documentation uses
// only keys the format has, and right types.
func TestDocExample(t *testing.T) {
	src, err := os.ReadFile("model.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(src)
	start := strings.Index(doc, "//\troles:\n")
	end := strings.Index(doc, "// # References and ids")
	if start < 0 || end < start {
		t.Fatal("the format example is not where the test looks for it")
	}
	var yamlText strings.Builder
	for _, line := range strings.Split(doc[start:end], "\n") {
		if rest, ok := strings.CutPrefix(line, "//\t"); ok {
			yamlText.WriteString(rest + "\n")
		}
	}
	if _, err := Parse("doc.yaml", []byte(yamlText.String())); err != nil {
		t.Errorf("the documented example does not parse: %v\n%s", err, yamlText.String())
	}
}

// TestLoadErrors: what the store refuses is reported at the entity the
// store's error names, and still matches the library's sentinels.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
		is              error
	}{
		{"role cycle", "roles:\n  - name: A\n    parent: B\n  - name: B\n    parent: A\n",
			"m.yaml:2:5: access: role 1 forms a cycle 1→2→1", access.ErrCycle},
		{"limit keeping a level that is not accumulative", "groups: [{name: G}]\nlimits:\n  - {group: G, type: contact, max: RD}\n",
			"m.yaml:3:6: access: invalid: limit 1: max RD is not an accumulative level (-, R, CR, CRU, CRUD)", access.ErrInvalid},
		{"no primary group", "roles: [{name: A}]\ngroups: [{name: G}]\nassociates:\n  - name: anna\n    role: A\n",
			"m.yaml:4:5: access: invalid: associate 1: internal associates need a primary group", access.ErrInvalid},
		{"same login", "roles: [{name: A}]\ngroups: [{name: G}]\nassociates:\n  - {name: anna, primary group: G, role: A}\n  - {name: ANNA, primary group: G, role: A, id: 7}\n",
			`m.yaml:5:6: access: associate 7: name taken: "ANNA" is also the name of associate 8 in the same batch`, access.ErrNameTaken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("m.yaml", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = Load(context.Background(), memory.New(), f)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}
