package model

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmaccess/access"
)

// table finds the ids of one kind of entity by name.
type table struct {
	kind   string
	fold   bool               // compare names as login names
	byName map[string][]int64 // folded name → ids, in order
	names  map[int64]string   // id → name
}

func newTable(kind string, fold bool) *table {
	return &table{kind: kind, fold: fold, byName: map[string][]int64{}, names: map[int64]string{}}
}

func (t *table) key(name string) string {
	if t.fold {
		return access.FoldName(name)
	}
	return name
}

func (t *table) add(id int64, name string) {
	k := t.key(name)
	t.byName[k] = append(t.byName[k], id)
	t.names[id] = name
}

// find resolves r. An id is taken as it is; a name must be unique.
func (t *table) find(r Ref) (int64, error) {
	if r.bad != "" {
		return 0, errors.New(r.bad)
	}
	if r.Name == "" {
		if r.ID <= 0 {
			return 0, fmt.Errorf("%s id %d must be positive", t.kind, r.ID)
		}
		return r.ID, nil
	}
	ids := t.byName[t.key(r.Name)]
	switch len(ids) {
	case 0:
		return 0, fmt.Errorf("no %s is named %q", t.kind, r.Name)
	case 1:
		return ids[0], nil
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return 0, fmt.Errorf("%d %ss are named %q (ids %s): refer to one by id", len(ids), t.kind, r.Name, strings.Join(s, ", "))
}

// unique reports whether name refers to exactly one entity.
func (t *table) unique(name string) bool { return name != "" && len(t.byName[t.key(name)]) == 1 }

// Index finds associates, groups, roles and categories by name, and names
// them by id. It is built from a model (a batch) and read only afterwards,
// so it is safe for concurrent reads.
type Index struct {
	roles, groups, assocs, categories, licences *table
	rules                                       map[access.RuleID]string // for explanations
}

// NewIndex indexes the entities b puts.
func NewIndex(b *access.Batch) *Index {
	x := &Index{
		roles:      newTable("role", false),
		groups:     newTable("group", false),
		assocs:     newTable("associate", true),
		categories: newTable("category", false),
		licences:   newTable("licence", false),
	}
	for _, r := range b.Roles {
		x.roles.add(int64(r.ID), r.Name)
	}
	for _, g := range b.Groups {
		x.groups.add(int64(g.ID), g.Name)
	}
	for _, a := range b.Associates {
		x.assocs.add(int64(a.ID), a.Name)
	}
	for _, c := range b.Categories {
		x.categories.add(int64(c.ID), c.Name)
	}
	for _, l := range b.Licences {
		x.licences.add(int64(l.ID), l.Name)
	}
	x.rules = make(map[access.RuleID]string, len(b.SharingRules))
	for _, r := range b.SharingRules {
		x.rules[r.ID] = r.Name
	}
	return x
}

// AssociateName returns the associate's name, or its id as text.
func (x *Index) AssociateName(id access.AssociateID) string {
	if n, ok := x.assocs.names[int64(id)]; ok {
		return n
	}
	return strconv.FormatInt(int64(id), 10)
}

// GroupName returns the group's name, or its id as text.
func (x *Index) GroupName(id access.GroupID) string {
	if n, ok := x.groups.names[int64(id)]; ok {
		return n
	}
	return strconv.FormatInt(int64(id), 10)
}

// Associate resolves a reference to an associate of the indexed model.
// Unlike a reference inside a model file, an id must be one the model has.
func (x *Index) Associate(r Ref) (access.AssociateID, error) {
	id, err := x.assocs.known(r)
	return access.AssociateID(id), err
}

// Group resolves a reference to a group of the indexed model.
func (x *Index) Group(r Ref) (access.GroupID, error) {
	id, err := x.groups.known(r)
	return access.GroupID(id), err
}

// Category resolves a reference to a category of the indexed model.
func (x *Index) Category(r Ref) (access.CategoryID, error) {
	id, err := x.categories.known(r)
	return access.CategoryID(id), err
}

// known is find for a question about the model: the id must exist.
func (t *table) known(r Ref) (int64, error) {
	id, err := t.find(r)
	if err != nil {
		return 0, err
	}
	if _, ok := t.names[id]; !ok {
		return 0, fmt.Errorf("no %s has id %d", t.kind, id)
	}
	return id, nil
}

// assignIDs gives every entity without an id the next free one of its
// kind above floor and the ids given, in file order, and reports an id
// given twice.
func assignIDs(f *File, section string, n int, id func(int) *int64, floor int64) error {
	seen := map[int64]int{}
	top := floor
	for i := range n {
		v := *id(i)
		if v == 0 {
			continue
		}
		p := fmt.Sprintf("%s[%d].id", section, i)
		if v < 0 {
			return f.at(p, "id %d must be positive", v)
		}
		if j, ok := seen[v]; ok {
			return f.at(p, "id %d is also the id of %s[%d]", v, section, j)
		}
		seen[v] = i
		top = max(top, v)
	}
	for i := range n {
		if p := id(i); *p == 0 {
			top++
			*p = top
		}
	}
	return nil
}

// Batch resolves the file's names and returns the batch that puts its
// model, with ids assigned as the package documentation describes, and
// an index of its names. It does not change f. Errors are [*Error]s
// naming where in the file the problem is; a model that breaks the
// library's own rules (a cycle, a missing role) is left for the store's
// Apply to report.
func (f *File) Batch() (access.Batch, *Index, error) {
	c := f.clone()
	if err := c.assign(); err != nil {
		return access.Batch{}, nil, err
	}
	var b access.Batch
	for _, r := range c.Roles {
		b.Roles = append(b.Roles, access.Role{ID: access.RoleID(r.ID), Name: r.Name})
	}
	for _, g := range c.Groups {
		b.Groups = append(b.Groups, access.Group{ID: access.GroupID(g.ID), Name: g.Name})
	}
	for _, a := range c.Associates {
		b.Associates = append(b.Associates, access.Associate{ID: access.AssociateID(a.ID), Name: a.Name})
	}
	for _, k := range c.Categories {
		b.Categories = append(b.Categories, access.Category{ID: access.CategoryID(k.ID), Name: k.Name})
	}
	for _, l := range c.Licences {
		b.Licences = append(b.Licences, access.Licence{ID: access.LicenceID(l.ID), Name: l.Name})
	}
	x := NewIndex(&b)
	r := resolver{f: c, x: x}
	for i, v := range c.Roles {
		r.role(i, v, &b.Roles[i])
	}
	for i, v := range c.Groups {
		r.group(i, v, &b.Groups[i])
	}
	for i, v := range c.Associates {
		r.associate(i, v, &b.Associates[i])
	}
	for i, v := range c.SharingRules {
		b.SharingRules = append(b.SharingRules, r.sharingRule(i, v))
	}
	for i, v := range c.Grants {
		b.Grants = append(b.Grants, r.grant(i, v))
	}
	for i, v := range c.Categories {
		r.category(i, v, &b.Categories[i])
	}
	for i, v := range c.Impersonations {
		b.Impersonations = append(b.Impersonations, r.impersonation(i, v))
	}
	for i, v := range c.Limits {
		b.Limits = append(b.Limits, r.limit(i, v))
	}
	for i, v := range c.Licences {
		r.licence(i, v, &b.Licences[i])
	}
	if r.err != nil {
		return access.Batch{}, nil, r.err
	}
	return b, x, nil
}

// clone copies the slices Batch assigns ids in; the rest is only read.
func (f *File) clone() *File {
	c := *f
	c.Roles = slices.Clone(f.Roles)
	c.Groups = slices.Clone(f.Groups)
	c.Associates = slices.Clone(f.Associates)
	c.SharingRules = slices.Clone(f.SharingRules)
	c.Grants = slices.Clone(f.Grants)
	c.Categories = slices.Clone(f.Categories)
	c.Impersonations = slices.Clone(f.Impersonations)
	c.Limits = slices.Clone(f.Limits)
	c.Licences = slices.Clone(f.Licences)
	return &c
}

func (f *File) assign() error {
	for _, s := range []struct {
		section string
		n       int
		id      func(int) *int64
	}{
		{"roles", len(f.Roles), func(i int) *int64 { return &f.Roles[i].ID }},
		{"groups", len(f.Groups), func(i int) *int64 { return &f.Groups[i].ID }},
		{"associates", len(f.Associates), func(i int) *int64 { return &f.Associates[i].ID }},
		{"sharing rules", len(f.SharingRules), func(i int) *int64 { return &f.SharingRules[i].ID }},
		{"grants", len(f.Grants), func(i int) *int64 { return &f.Grants[i].ID }},
		{"categories", len(f.Categories), func(i int) *int64 { return &f.Categories[i].ID }},
		{"impersonations", len(f.Impersonations), func(i int) *int64 { return &f.Impersonations[i].ID }},
		{"limits", len(f.Limits), func(i int) *int64 { return &f.Limits[i].ID }},
		{"licences", len(f.Licences), func(i int) *int64 { return &f.Licences[i].ID }},
	} {
		if err := assignIDs(f, s.section, s.n, s.id, 0); err != nil {
			return err
		}
	}
	return nil
}

// resolver converts one entity at a time, keeping the first error so the
// conversions read straight through.
type resolver struct {
	f   *File
	x   *Index
	err error
}

func (r *resolver) fail(path, format string, args ...any) {
	if r.err == nil {
		r.err = r.f.at(path, format, args...)
	}
}

func (r *resolver) ref(t *table, path string, ref Ref) int64 {
	id, err := t.find(ref)
	if err != nil {
		r.fail(path, "%v", err)
	}
	return id
}

func refs[T ~int64](r *resolver, t *table, path string, in []Ref) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = T(r.ref(t, fmt.Sprintf("%s[%d]", path, i), v))
	}
	return out
}

func (r *resolver) optRef(t *table, path string, ref *Ref) int64 {
	if ref == nil {
		return 0
	}
	return r.ref(t, path, *ref)
}

func (r *resolver) crud(path, letters string) access.CRUD {
	c, err := access.ParseCRUD(letters)
	if err != nil {
		r.fail(path, "rights %q: use the letters C, R, U and D, or - for none", letters)
	}
	return c
}

func (r *resolver) role(i int, v Role, out *access.Role) {
	p := fmt.Sprintf("roles[%d]", i)
	out.Parent = access.RoleID(r.optRef(r.x.roles, p+".parent", v.Parent))
	out.Functions = slices.Clone(v.Functions)
	out.LimitTeams = v.LimitTeams
	if v.Rights != nil {
		out.Rights = make(map[string]access.Grid, len(v.Rights))
		for typ, cells := range v.Rights {
			g := make(access.Grid, len(cells))
			for rel, letters := range cells {
				cp := p + ".rights." + typ + "." + rel
				rl, err := access.ParseRelation(rel)
				if err != nil {
					r.fail(cp, "unknown relation %q (owner, team, primary group, other group, subordinate, category member, my company, same project, other, unowned)", rel)
				}
				g[rl] = r.crud(cp, letters)
			}
			out.Rights[typ] = g
		}
	}
}

func (r *resolver) group(i int, v Group, out *access.Group) {
	p := fmt.Sprintf("groups[%d]", i)
	out.Groups = refs[access.GroupID](r, r.x.groups, p+".groups", v.Groups)
	out.Roles = refs[access.RoleID](r, r.x.roles, p+".roles", v.Roles)
	out.RolesAndSubordinates = refs[access.RoleID](r, r.x.roles, p+".roles and subordinates", v.RolesAndSubordinates)
	out.Description = v.Description
	out.Smart = v.Smart
	out.Functions = slices.Clone(v.Functions)
	if v.Defaults != nil {
		out.Defaults = make(map[string]access.CRUD, len(v.Defaults))
		for typ, letters := range v.Defaults {
			out.Defaults[typ] = r.crud(p+".defaults."+typ, letters)
		}
	}
	out.Admins = refs[access.AssociateID](r, r.x.assocs, p+".admins", v.Admins)
	out.SelfService = v.SelfService
	if v.Fields != nil {
		out.Fields = make(map[string]string, len(v.Fields))
		for k, val := range v.Fields {
			out.Fields[k] = val
		}
	}
}

func (r *resolver) time(path, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		r.fail(path, "time %q: write it as RFC 3339, such as 2026-01-31T09:00:00Z", s)
	}
	return t
}

func (r *resolver) associate(i int, v Associate, out *access.Associate) {
	p := fmt.Sprintf("associates[%d]", i)
	if v.Type != "" {
		t, err := access.ParseAssociateType(v.Type)
		if err != nil {
			r.fail(p+".type", "unknown associate type %q (internal, resource, external, anonymous, system)", v.Type)
		}
		out.Type = t
	}
	out.PrimaryGroup = access.GroupID(r.optRef(r.x.groups, p+".primary group", v.PrimaryGroup))
	out.Groups = refs[access.GroupID](r, r.x.groups, p+".groups", v.Groups)
	out.Role = access.RoleID(r.optRef(r.x.roles, p+".role", v.Role))
	out.Active = v.Active == nil || *v.Active
	out.ValidFrom = r.time(p+".valid from", v.ValidFrom)
	out.ValidTo = r.time(p+".valid to", v.ValidTo)
	out.Company = v.Company
	out.Projects = slices.Clone(v.Projects)
	if v.Attributes != nil {
		out.Attributes = make(map[string]string, len(v.Attributes))
		for k, val := range v.Attributes {
			out.Attributes[k] = val
		}
	}
	out.ServiceLogin = v.ServiceLogin
	out.Email = v.Email
	out.Categories = refs[access.CategoryID](r, r.x.categories, p+".categories", v.Categories)
	out.Licences = refs[access.LicenceID](r, r.x.licences, p+".licences", v.Licences)
}

func (r *resolver) licence(i int, v Licence, out *access.Licence) {
	p := fmt.Sprintf("licences[%d]", i)
	out.Seats = v.Seats
	out.ValidFrom = r.time(p+".valid from", v.ValidFrom)
	out.ValidTo = r.time(p+".valid to", v.ValidTo)
	for k, name := range v.For {
		t, err := access.ParseAssociateType(name)
		if err != nil {
			r.fail(fmt.Sprintf("%s.for[%d]", p, k), "unknown associate type %q (internal, resource, external, anonymous, system)", name)
		}
		out.For = append(out.For, t)
	}
}

func (r *resolver) principals(p string, v Principals) access.Principals {
	return access.Principals{
		Everyone:             v.Everyone,
		Associates:           refs[access.AssociateID](r, r.x.assocs, p+".associates", v.Associates),
		Groups:               refs[access.GroupID](r, r.x.groups, p+".groups", v.Groups),
		Roles:                refs[access.RoleID](r, r.x.roles, p+".roles", v.Roles),
		RolesAndSubordinates: refs[access.RoleID](r, r.x.roles, p+".roles and subordinates", v.RolesAndSubordinates),
	}
}

func (r *resolver) sharingRule(i int, v SharingRule) access.SharingRule {
	p := fmt.Sprintf("sharing rules[%d]", i)
	return access.SharingRule{
		ID:         access.RuleID(v.ID),
		Name:       v.Name,
		EntityType: v.Type,
		From:       r.principals(p+".from", v.From),
		To:         r.principals(p+".to", v.To),
		Rights:     r.crud(p+".rights", v.Rights),
	}
}

func (r *resolver) grant(i int, v Grant) access.Grant {
	p := fmt.Sprintf("grants[%d]", i)
	if (v.Associate == nil) == (v.Group == nil) {
		r.fail(p, "a grant goes to exactly one associate or one group")
	}
	return access.Grant{
		ID:         access.GrantID(v.ID),
		Associate:  access.AssociateID(r.optRef(r.x.assocs, p+".associate", v.Associate)),
		Group:      access.GroupID(r.optRef(r.x.groups, p+".group", v.Group)),
		EntityType: v.Type,
		RecordID:   v.Record,
		Rights:     r.crud(p+".rights", v.Rights),
	}
}

func (r *resolver) category(i int, v Category, out *access.Category) {
	p := fmt.Sprintf("categories[%d]", i)
	out.Parent = access.CategoryID(r.optRef(r.x.categories, p+".parent", v.Parent))
	out.MembersOnly = v.MembersOnly
	out.Groups = refs[access.GroupID](r, r.x.groups, p+".groups", v.Groups)
	out.Roles = refs[access.RoleID](r, r.x.roles, p+".roles", v.Roles)
}

func (r *resolver) principal(p string, v Principal) access.Principal {
	if (v.Associate == nil) == (v.Group == nil) {
		r.fail(p, "name exactly one associate or one group")
	}
	return access.Principal{
		Associate: access.AssociateID(r.optRef(r.x.assocs, p+".associate", v.Associate)),
		Group:     access.GroupID(r.optRef(r.x.groups, p+".group", v.Group)),
	}
}

func (r *resolver) impersonation(i int, v Impersonation) access.Impersonation {
	p := fmt.Sprintf("impersonations[%d]", i)
	return access.Impersonation{
		ID:     access.ImpersonationID(v.ID),
		Actor:  r.principal(p+".actor", v.Actor),
		Target: r.principal(p+".target", v.Target),
	}
}

func (r *resolver) limit(i int, v Limit) access.Limit {
	p := fmt.Sprintf("limits[%d]", i)
	var scope access.LimitScope
	if v.Scope != "" {
		s, err := access.ParseLimitScope(v.Scope)
		if err != nil {
			r.fail(p+".scope", "scope %q: use all records or unrelated records", v.Scope)
		}
		scope = s
	}
	return access.Limit{
		ID:         access.LimitID(v.ID),
		Group:      access.GroupID(r.optRef(r.x.groups, p+".group", v.Group)),
		EntityType: v.Type,
		RecordID:   v.Record,
		Max:        r.crud(p+".max", v.Max),
		Scope:      scope,
	}
}

// Load puts the file's model into the store through one atomic Apply and
// returns the revision and the index of names. It adds to and replaces
// what the store holds; it deletes nothing.
func Load(ctx context.Context, w access.Writer, f *File) (access.Revision, *Index, error) {
	b, x, err := f.Batch()
	if err != nil {
		return 0, nil, err
	}
	rev, err := w.Apply(ctx, b)
	if err != nil {
		return 0, nil, &Error{File: f.name, Pos: f.blame(&b, err), Err: err}
	}
	return rev, x, nil
}

// mentioned finds the first entity a library error names, as in
// "access: associate 12: …" or "role 1 forms a cycle".
var mentioned = regexp.MustCompile(`\b(role|group|associate|sharing rule|grant|category|impersonation|limit|licence) (\d+)\b`)

// blame returns where in the file the entity is that the store's error
// is about, or the zero Pos.
func (f *File) blame(b *access.Batch, err error) Pos {
	var kind string
	var id int64
	var ce *access.CycleError
	if errors.As(err, &ce) && len(ce.Path) > 0 {
		kind, id = ce.Kind.String(), ce.Path[0]
	} else if m := mentioned.FindStringSubmatch(err.Error()); m != nil {
		kind = m[1]
		id, _ = strconv.ParseInt(m[2], 10, 64)
	}
	var ids []int64
	var section string
	switch kind {
	case "role":
		section, ids = "roles", idsOf(b.Roles, func(v access.Role) int64 { return int64(v.ID) })
	case "group":
		section, ids = "groups", idsOf(b.Groups, func(v access.Group) int64 { return int64(v.ID) })
	case "associate":
		section, ids = "associates", idsOf(b.Associates, func(v access.Associate) int64 { return int64(v.ID) })
	case "sharing rule":
		section, ids = "sharing rules", idsOf(b.SharingRules, func(v access.SharingRule) int64 { return int64(v.ID) })
	case "grant":
		section, ids = "grants", idsOf(b.Grants, func(v access.Grant) int64 { return int64(v.ID) })
	case "category":
		section, ids = "categories", idsOf(b.Categories, func(v access.Category) int64 { return int64(v.ID) })
	case "impersonation":
		section, ids = "impersonations", idsOf(b.Impersonations, func(v access.Impersonation) int64 { return int64(v.ID) })
	case "limit":
		section, ids = "limits", idsOf(b.Limits, func(v access.Limit) int64 { return int64(v.ID) })
	case "licence":
		section, ids = "licences", idsOf(b.Licences, func(v access.Licence) int64 { return int64(v.ID) })
	}
	if i := slices.Index(ids, id); i >= 0 {
		return f.position(fmt.Sprintf("%s[%d]", section, i))
	}
	return Pos{}
}

func idsOf[T any](in []T, id func(T) int64) []int64 {
	out := make([]int64, len(in))
	for i, v := range in {
		out[i] = id(v)
	}
	return out
}
