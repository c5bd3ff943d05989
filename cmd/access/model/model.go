// Package model reads and writes model files: one document, in YAML or
// JSON, holding everything an access store holds, plus a tests section of
// assertions about what that model decides.
//
// # Format
//
// The top level has the sections roles, groups, associates, sharing rules,
// grants, categories, impersonations, limits, licences and tests, each a list. Keys are
// lower-case words separated by spaces, as the library names things
// ("primary group", "roles and subordinates"). Unknown keys are errors, so
// a typo does not silently drop a setting.
//
//	roles:
//	  - name: Sales
//	    parent: Management          # another role, by name or id
//	    rights:                     # entity type → relation → letters
//	      contact: {owner: CRUD, primary group: CRU, other: R}
//	      "*": {owner: CRUD}
//	    functions: [export-selection]
//	groups:
//	  - name: Oslo
//	    description: Everyone at the Oslo office
//	    groups: [Oslo sales]        # member groups (their members are members)
//	    roles: [Receptionist]       # holders of these roles are members
//	    roles and subordinates: [Management]
//	    smart: attr.city == "Oslo"  # instead of the three above
//	    functions: [backend-login]
//	    defaults: {"*": R}          # default permission per entity type
//	    admins: [anna]
//	    self service: true
//	    fields: {signature: Oslo office}
//	associates:
//	  - name: anna
//	    type: internal              # internal (default), resource, external, anonymous, system
//	    email: anna@example.com
//	    primary group: Oslo
//	    groups: [Bergen]
//	    role: Sales
//	    active: false               # default true
//	    valid from: 2026-01-01T00:00:00Z
//	    valid to: 2027-01-01T00:00:00Z
//	    company: 7
//	    projects: [3, 4]
//	    attributes: {office: Oslo}
//	    service login: 501
//	    categories: [Support]
//	    licences: [Sales Premier]
//	sharing rules:
//	  - name: Oslo reads Bergen
//	    type: contact               # entity type, "*" for all
//	    from: {groups: [Bergen]}    # everyone, associates, groups, roles, roles and subordinates
//	    to: {groups: [Oslo]}
//	    rights: R
//	grants:
//	  - group: Oslo                 # or associate: anna
//	    type: sale
//	    record: 42                  # one record; omit for every record of the type
//	    rights: RU
//	categories:
//	  - name: Support
//	    parent: Service
//	    members only: true
//	    groups: [Oslo]
//	    roles: [Sales]
//	impersonations:
//	  - actor: {associate: anna}    # or {group: …}
//	    target: {group: Bergen}
//	limits:
//	  - group: Temps                # omit for organisation-wide
//	    type: contact               # entity type, "*" for all
//	    record: 42                  # one record; omit for every record of the type
//	    max: R                      # the most kept: "-" (denied), R, CR, CRU, CRUD
//	    scope: unrelated records    # or all records (the default)
//	licences:
//	  - name: Sales Premier
//	    seats: 10                   # 0 or omitted: unlimited
//	    valid from: 2026-01-01T00:00:00Z
//	    valid to: 2027-01-01T00:00:00Z
//	    for: [internal]             # the associate types that need it
//
// # References and ids
//
// Every entity has an optional id. A reference to another entity is its
// name (a string) or its id (an integer): `parent: Management` or
// `parent: 3`. A name must belong to exactly one entity of that kind in the
// file; associates' names are compared as the library compares login names
// ([access.FoldName]). To refer to an entity whose name looks like a
// number, quote it: `role: "42"`. An id that no entity in the file has is
// passed on as it is, so a file may refer to what a store already holds.
//
// Entities without an id get one when the file is loaded: per kind, in file
// order, the next integers after the largest id given explicitly to that
// kind (so a file without ids numbers each kind 1, 2, 3…). Adding an id to
// one entity can therefore renumber the ones after it; give ids where they
// must stay put.
//
// Export writes every id, and refers by name wherever the name is unique
// within its kind, by id otherwise, so that loading an exported file gives
// back exactly the model it came from.
//
// # Tests
//
// The tests section holds assertions, each one of:
//
//	tests:
//	  - check: 'anna can update contact{owner: bo, group: Oslo}'
//	    explain: role Sales      # optional: a substring of the explanation
//	  - check: 'bo cannot delete contact{owner: anna}'
//	  - check: anna has export-selection     # a functional right
//	  - check: bo lacks user-admin
//	  - groups: anna                         # effective groups, exactly these,
//	    paths:                               # each with its path of groups
//	      Oslo: [Oslo]
//	      Norway: [Oslo, Norway]
//	  - who can: 'delete contact{owner: anna}'  # exactly these associates
//	    expect: [anna, admin]
//	  - sign in: anna client → allow           # client or api; allow or deny
//
// A line with a record in it holds ": ", so YAML wants it quoted. In a
// check, WHO runs up to the first of the words can, cannot, has and lacks;
// quote a name that contains one of them.
//
// Each may have a name. See [ParseRecord] for the record syntax and
// [ParseWho] for how an associate is named.
package model

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/crmaccess/access"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// File is a model file as written: names where the author used names,
// letters for rights. [File.Batch] turns it into what a store holds.
type File struct {
	Roles          []Role          `yaml:"roles,omitempty" json:"roles,omitempty"`
	Groups         []Group         `yaml:"groups,omitempty" json:"groups,omitempty"`
	Associates     []Associate     `yaml:"associates,omitempty" json:"associates,omitempty"`
	SharingRules   []SharingRule   `yaml:"sharing rules,omitempty" json:"sharing rules,omitempty"`
	Grants         []Grant         `yaml:"grants,omitempty" json:"grants,omitempty"`
	Categories     []Category      `yaml:"categories,omitempty" json:"categories,omitempty"`
	Impersonations []Impersonation `yaml:"impersonations,omitempty" json:"impersonations,omitempty"`
	Limits         []Limit         `yaml:"limits,omitempty" json:"limits,omitempty"`
	Licences       []Licence       `yaml:"licences,omitempty" json:"licences,omitempty"`
	Tests          []Test          `yaml:"tests,omitempty" json:"tests,omitempty"`

	// name is the file name errors are reported against; pos maps a
	// path such as "groups[2].roles[0]" to where it is in the source.
	name string
	pos  map[string]Pos
}

// Role is an [access.Role]. Rights maps an entity type to a grid from
// relation names ([access.Relation.String]) to rights letters
// ([access.ParseCRUD]).
type Role struct {
	ID        int64           `yaml:"id,omitempty" json:"id,omitempty"`
	Name      string          `yaml:"name" json:"name"`
	Parent    *Ref            `yaml:"parent,omitempty" json:"parent,omitempty"`
	Rights    map[string]Grid `yaml:"rights,omitempty" json:"rights,omitempty"`
	Functions []string        `yaml:"functions,omitempty" json:"functions,omitempty"`
	// LimitTeams makes the team cells apply as written
	// ([access.Role.LimitTeams]); by default a team member is an owner.
	LimitTeams bool `yaml:"limit teams,omitempty" json:"limit teams,omitempty"`
}

// Group is an [access.Group]. Groups are its member groups; Defaults maps
// an entity type to rights letters.
type Group struct {
	ID                   int64             `yaml:"id,omitempty" json:"id,omitempty"`
	Name                 string            `yaml:"name" json:"name"`
	Description          string            `yaml:"description,omitempty" json:"description,omitempty"`
	Groups               []Ref             `yaml:"groups,omitempty,flow" json:"groups,omitempty"`
	Roles                []Ref             `yaml:"roles,omitempty,flow" json:"roles,omitempty"`
	RolesAndSubordinates []Ref             `yaml:"roles and subordinates,omitempty,flow" json:"roles and subordinates,omitempty"`
	Smart                string            `yaml:"smart,omitempty" json:"smart,omitempty"`
	Functions            []string          `yaml:"functions,omitempty" json:"functions,omitempty"`
	Defaults             map[string]string `yaml:"defaults,omitempty" json:"defaults,omitempty"`
	Admins               []Ref             `yaml:"admins,omitempty,flow" json:"admins,omitempty"`
	SelfService          bool              `yaml:"self service,omitempty" json:"self service,omitempty"`
	Fields               map[string]string `yaml:"fields,omitempty" json:"fields,omitempty"`
}

// Associate is an [access.Associate]. Type is a type name (default
// internal); Active defaults to true; ValidFrom and ValidTo are RFC 3339
// times.
type Associate struct {
	ID           int64             `yaml:"id,omitempty" json:"id,omitempty"`
	Name         string            `yaml:"name" json:"name"`
	Type         string            `yaml:"type,omitempty" json:"type,omitempty"`
	Email        string            `yaml:"email,omitempty" json:"email,omitempty"`
	PrimaryGroup *Ref              `yaml:"primary group,omitempty" json:"primary group,omitempty"`
	Groups       []Ref             `yaml:"groups,omitempty,flow" json:"groups,omitempty"`
	Role         *Ref              `yaml:"role,omitempty" json:"role,omitempty"`
	Active       *bool             `yaml:"active,omitempty" json:"active,omitempty"`
	ValidFrom    string            `yaml:"valid from,omitempty" json:"valid from,omitempty"`
	ValidTo      string            `yaml:"valid to,omitempty" json:"valid to,omitempty"`
	Company      int64             `yaml:"company,omitempty" json:"company,omitempty"`
	Projects     []int64           `yaml:"projects,omitempty,flow" json:"projects,omitempty"`
	Attributes   map[string]string `yaml:"attributes,omitempty" json:"attributes,omitempty"`
	ServiceLogin int64             `yaml:"service login,omitempty" json:"service login,omitempty"`
	Categories   []Ref             `yaml:"categories,omitempty,flow" json:"categories,omitempty"`
	Licences     []Ref             `yaml:"licences,omitempty,flow" json:"licences,omitempty"`
}

// Licence is an [access.Licence]. For lists associate type names;
// ValidFrom and ValidTo are RFC 3339 times.
type Licence struct {
	ID        int64    `yaml:"id,omitempty" json:"id,omitempty"`
	Name      string   `yaml:"name" json:"name"`
	Seats     int      `yaml:"seats,omitempty" json:"seats,omitempty"`
	ValidFrom string   `yaml:"valid from,omitempty" json:"valid from,omitempty"`
	ValidTo   string   `yaml:"valid to,omitempty" json:"valid to,omitempty"`
	For       []string `yaml:"for,omitempty,flow" json:"for,omitempty"`
}

// Grid is one row of a role's rights: relation name → rights letters. It
// is written on one line, relations in the library's order (owner first),
// so that a rights change is a one-line diff in review.
type Grid map[string]string

// cells returns the grid's relations in the library's order, unknown
// names last in name order.
func (g Grid) cells() []string {
	return slices.SortedFunc(maps.Keys(g), func(a, b string) int {
		ra, ea := access.ParseRelation(a)
		rb, eb := access.ParseRelation(b)
		switch {
		case ea == nil && eb == nil:
			return cmp.Compare(ra, rb)
		case ea == nil:
			return -1
		case eb == nil:
			return 1
		}
		return strings.Compare(a, b)
	})
}

// MarshalYAML writes the grid in flow style: {owner: CRUD, other: R}.
func (g Grid) MarshalYAML() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, rel := range g.cells() {
		if i > 0 {
			b.WriteString(", ")
		}
		k, err := yaml.Marshal(rel)
		if err != nil {
			return nil, err
		}
		v, err := yaml.Marshal(g[rel])
		if err != nil {
			return nil, err
		}
		b.WriteString(strings.TrimSuffix(string(k), "\n"))
		b.WriteString(": ")
		b.WriteString(strings.TrimSuffix(string(v), "\n"))
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// MarshalJSON writes the relations in the library's order.
func (g Grid) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, rel := range g.cells() {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(rel)
		v, _ := json.Marshal(g[rel])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Principals is an [access.Principals].
type Principals struct {
	Everyone             bool  `yaml:"everyone,omitempty" json:"everyone,omitempty"`
	Associates           []Ref `yaml:"associates,omitempty,flow" json:"associates,omitempty"`
	Groups               []Ref `yaml:"groups,omitempty,flow" json:"groups,omitempty"`
	Roles                []Ref `yaml:"roles,omitempty,flow" json:"roles,omitempty"`
	RolesAndSubordinates []Ref `yaml:"roles and subordinates,omitempty,flow" json:"roles and subordinates,omitempty"`
}

// SharingRule is an [access.SharingRule]; Type is its entity type.
type SharingRule struct {
	ID     int64      `yaml:"id,omitempty" json:"id,omitempty"`
	Name   string     `yaml:"name,omitempty" json:"name,omitempty"`
	Type   string     `yaml:"type" json:"type"`
	From   Principals `yaml:"from" json:"from"`
	To     Principals `yaml:"to" json:"to"`
	Rights string     `yaml:"rights" json:"rights"`
}

// Grant is an [access.Grant]: to Associate or Group, on every record of
// Type, or on the one whose id is Record.
type Grant struct {
	ID        int64  `yaml:"id,omitempty" json:"id,omitempty"`
	Associate *Ref   `yaml:"associate,omitempty" json:"associate,omitempty"`
	Group     *Ref   `yaml:"group,omitempty" json:"group,omitempty"`
	Type      string `yaml:"type" json:"type"`
	Record    int64  `yaml:"record,omitempty" json:"record,omitempty"`
	Rights    string `yaml:"rights" json:"rights"`
}

// Category is an [access.Category].
type Category struct {
	ID          int64  `yaml:"id,omitempty" json:"id,omitempty"`
	Name        string `yaml:"name" json:"name"`
	Parent      *Ref   `yaml:"parent,omitempty" json:"parent,omitempty"`
	MembersOnly bool   `yaml:"members only,omitempty" json:"members only,omitempty"`
	Groups      []Ref  `yaml:"groups,omitempty,flow" json:"groups,omitempty"`
	Roles       []Ref  `yaml:"roles,omitempty,flow" json:"roles,omitempty"`
}

// Principal is an [access.Principal]: one associate or one group.
type Principal struct {
	Associate *Ref `yaml:"associate,omitempty" json:"associate,omitempty"`
	Group     *Ref `yaml:"group,omitempty" json:"group,omitempty"`
}

// Impersonation is an [access.Impersonation].
type Impersonation struct {
	ID     int64     `yaml:"id,omitempty" json:"id,omitempty"`
	Actor  Principal `yaml:"actor" json:"actor"`
	Target Principal `yaml:"target" json:"target"`
}

// Limit is an [access.Limit]: on Group's effective members, or on everyone
// when Group is absent, for every record of Type or the one whose id is
// Record. Max is letters as for rights ("-" for a denial); Scope is "all
// records" (the default when empty) or "unrelated records".
type Limit struct {
	ID     int64  `yaml:"id,omitempty" json:"id,omitempty"`
	Group  *Ref   `yaml:"group,omitempty" json:"group,omitempty"`
	Type   string `yaml:"type" json:"type"`
	Record int64  `yaml:"record,omitempty" json:"record,omitempty"`
	Max    string `yaml:"max" json:"max"`
	Scope  string `yaml:"scope,omitempty" json:"scope,omitempty"`
}

// Test is one assertion; exactly one of Check, Groups, WhoCan and SignIn
// is set.
type Test struct {
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Check is "WHO can ACTION RECORD", "WHO cannot ACTION RECORD",
	// "WHO has RIGHT" or "WHO lacks RIGHT".
	Check string `yaml:"check,omitempty" json:"check,omitempty"`
	// Explain, with a can/cannot check, must be a substring of the
	// decision's explanation ([access.Decision.String]).
	Explain string `yaml:"explain,omitempty" json:"explain,omitempty"`
	// Groups names an associate whose effective groups must be exactly
	// the keys of Paths, each reached through the groups its value lists.
	Groups string              `yaml:"groups,omitempty" json:"groups,omitempty"`
	Paths  map[string][]string `yaml:"paths,omitempty" json:"paths,omitempty"`
	// WhoCan is "ACTION RECORD"; the associates allowed must be exactly
	// those Expect names.
	WhoCan string   `yaml:"who can,omitempty" json:"who can,omitempty"`
	Expect []string `yaml:"expect,omitempty,flow" json:"expect,omitempty"`
	// SignIn is "WHO CHANNEL → allow" or "WHO CHANNEL → deny" (also
	// "->"): whether [access.Engine.SignIn] lets the associate in through
	// the channel ("client" or "api").
	SignIn string `yaml:"sign in,omitempty" json:"sign in,omitempty"`
}

// Ref refers to an entity by name or by id; exactly one is set.
type Ref struct {
	Name string
	ID   int64

	// bad is why a JSON value could not be a reference. UnmarshalJSON
	// keeps it for [File.Batch] to report with the value's position,
	// which encoding/json does not give the errors of custom unmarshalers.
	bad string
}

// Named returns a reference by name.
func Named(name string) Ref { return Ref{Name: name} }

// ByID returns a reference by id.
func ByID(id int64) Ref { return Ref{ID: id} }

// String renders the reference as written: the name, or the id.
func (r Ref) String() string {
	if r.Name != "" {
		return r.Name
	}
	return strconv.FormatInt(r.ID, 10)
}

// UnmarshalYAML reads an integer as an id and a string as a name. Its
// errors carry the node's position, which go-yaml does not add to the
// errors of custom unmarshalers.
func (r *Ref) UnmarshalYAML(node ast.Node) error {
	var err error
	switch n := node.(type) {
	case *ast.IntegerNode:
		err = r.set(n.Value, n.GetToken().Value)
	case *ast.StringNode:
		err = r.set(n.Value, n.GetToken().Value)
	case *ast.LiteralNode: // a block scalar: | or >
		err = r.set(n.Value.Value, n.String())
	default:
		err = r.set(nil, node.String())
	}
	if err != nil {
		var p Pos
		if tk := node.GetToken(); tk != nil && tk.Position != nil {
			p = Pos{tk.Position.Line, tk.Position.Column}
		}
		return &refError{pos: p, err: err}
	}
	return nil
}

// refError is a bad reference found while decoding YAML, with its place.
type refError struct {
	pos Pos
	err error
}

func (e *refError) Error() string { return e.err.Error() }
func (e *refError) Unwrap() error { return e.err }

// UnmarshalJSON reads a number as an id and a string as a name.
func (r *Ref) UnmarshalJSON(data []byte) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return err
	}
	if n, ok := v.(json.Number); ok {
		id, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			v = nil // not an integer
		} else {
			v = id
		}
	}
	if err := r.set(v, string(data)); err != nil {
		*r = Ref{bad: err.Error()}
	}
	return nil
}

// set takes a decoded name or id; text is how it was written.
func (r *Ref) set(v any, text string) error {
	switch v := v.(type) {
	case string:
		if v == "" {
			return fmt.Errorf("a reference by name needs a name, not an empty string")
		}
		*r = Ref{Name: v}
	case int64:
		*r = Ref{ID: v}
	case uint64:
		if v > 1<<62 {
			return fmt.Errorf("id %d is too large", v)
		}
		*r = Ref{ID: int64(v)}
	default:
		return fmt.Errorf("a reference is a name (a string) or an id (a positive integer), not %s", text)
	}
	if r.Name == "" && r.ID <= 0 {
		return fmt.Errorf("id %d must be positive", r.ID)
	}
	return nil
}

// MarshalYAML writes the name or the id; [Marshal] quotes the name when
// it must.
func (r Ref) MarshalYAML() (any, error) {
	if r.Name != "" {
		return r.Name, nil
	}
	return r.ID, nil
}

// MarshalJSON writes the name as a string or the id as a number.
func (r Ref) MarshalJSON() ([]byte, error) {
	if r.Name != "" {
		return json.Marshal(r.Name)
	}
	return []byte(strconv.FormatInt(r.ID, 10)), nil
}

var _ yaml.NodeUnmarshaler = (*Ref)(nil)
