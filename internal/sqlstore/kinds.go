package sqlstore

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/intern"
)

// The schema, kind by kind. Each kind has a main table keyed by id and
// child tables keyed by the owner's id; every table is listed once here
// with the columns written, the columns read and how a row becomes part of
// a value. Adding a kind means a migration creating its tables and one
// entry in kinds.
//
// Conventions both schemas follow:
//   - a reference that may be absent is NULL, never 0;
//   - lists keep their order in a pos column (0, 1, …), so values come
//     back exactly as they were written;
//   - enums are stored as their Go numbers; rows with numbers this code
//     does not know fail the load with a [RowError];
//   - string maps (attributes, fields) are JSON objects, NULL for a nil map.

// table is one table as the loaders and writers see it.
type table struct {
	name  string
	key   string   // column holding the owning entity's id
	cols  []string // columns written, in the order encode emits values
	sel   string   // select list, in the order rows' destinations take
	order string
	// rows returns the scan destinations for one row, made once per query
	// so that scanning a row allocates only what the row holds, and a
	// function that adds the row last scanned into them to l.m.
	rows func(l *loader) (dest []any, add func() error)
}

// ref is one way entities of a kind refer to entities of kind to: sel
// selects the ids of the referring entities, given the referred id as $1.
// fields names the Go fields of the referring kind that sel covers, as the
// root package's table of references (access.References) names them;
// TestRefsMatchReferences checks that a kind's refs cover exactly that
// table.
type ref struct {
	to     access.Kind
	fields []string
	sel    string
}

// kindSpec is everything table-driven code needs to know about a kind.
type kindSpec struct {
	kind   access.Kind
	tables []*table // the main table first
	values          // how Batches and Models hold the kind: an entities
	refs   []ref
}

// values is what the table-driven code does with the values of one kind,
// whatever their Go type; [entities] implements it.
type values interface {
	// puts and deletes list the ids the batch puts and deletes.
	puts(b *access.Batch) []int64
	deletes(b *access.Batch) []int64
	// setDeleted sets the batch's delete list.
	setDeleted(b *access.Batch, ids []int64)
	// encodeAll adds the rows of every value the batch puts.
	encodeAll(d *Dialect, b *access.Batch, w rowSink)
	has(m *Model, id int64) bool
	reserve(m *Model, n int)
	// merge copies the values of src into dst.
	merge(dst, src *Model)
	// collect sets the batch's put list to the model's values, in id
	// order.
	collect(m *Model, b *access.Batch)
}

// entities ties a kind to its Go types: the id of a value, the lists of a
// Batch that put and delete values, the set of a Model that holds them,
// and how a value becomes rows.
type entities[ID ~int64, T any] struct {
	id     func(v T) ID
	batch  func(b *access.Batch) (puts *[]T, deletes *[]ID)
	model  func(m *Model) *set[ID, T]
	encode func(d *Dialect, v T, w rowSink)
}

func (e entities[ID, T]) puts(b *access.Batch) []int64 {
	p, _ := e.batch(b)
	return idsOf(*p, e.id)
}

func (e entities[ID, T]) deletes(b *access.Batch) []int64 {
	_, d := e.batch(b)
	return int64s(*d)
}

func (e entities[ID, T]) setDeleted(b *access.Batch, ids []int64) {
	_, d := e.batch(b)
	*d = typed[ID](ids)
}

func (e entities[ID, T]) encodeAll(d *Dialect, b *access.Batch, w rowSink) {
	p, _ := e.batch(b)
	for _, v := range *p {
		e.encode(d, v, w)
	}
}

func (e entities[ID, T]) has(m *Model, id int64) bool { return e.model(m).has(ID(id)) }
func (e entities[ID, T]) reserve(m *Model, n int)     { e.model(m).reserve(n) }
func (e entities[ID, T]) merge(dst, src *Model)       { e.model(dst).merge(e.model(src)) }

func (e entities[ID, T]) collect(m *Model, b *access.Batch) {
	p, _ := e.batch(b)
	*p = e.model(m).sorted()
}

func (k *kindSpec) main() string { return k.tables[0].name }

func kindOf(k access.Kind) *kindSpec {
	for _, s := range kinds {
		if s.kind == k {
			return s
		}
	}
	return nil
}

// rowSink collects rows to insert, by table.
type rowSink map[string]*rowList

func (w rowSink) add(table string, row ...any) {
	r := w[table]
	if r == nil {
		r = &rowList{}
		w[table] = r
	}
	r.add(row)
}

// rows returns the rows added to table, in order.
func (w rowSink) rows(table string) [][]any {
	if r := w[table]; r != nil {
		return r.all()
	}
	return nil
}

// rowList holds the rows of one table. A million associates make five
// million rows: rather than allocate each row's values on their own and
// grow one slice of them a quarter at a time (copying it each time), it
// copies the values into slabs and the rows into chunks, each allocated
// once, twice as large as the one before up to a bound, and never moved,
// and makes the one slice of all the rows at the end.
type rowList struct {
	n      int
	chunks [][][]any
	slab   []any
}

// rowChunk bounds the rows of one chunk (and of one slab).
const rowChunk = 4096

func (r *rowList) add(row []any) {
	if len(r.slab)+len(row) > cap(r.slab) {
		r.slab = make([]any, 0, len(row)*min(max(2*cap(r.slab)/max(len(row), 1), 8), rowChunk))
	}
	start := len(r.slab)
	r.slab = append(r.slab, row...)
	if k := len(r.chunks); k == 0 || len(r.chunks[k-1]) == cap(r.chunks[k-1]) {
		size := 8
		if k > 0 {
			size = min(2*cap(r.chunks[k-1]), rowChunk)
		}
		r.chunks = append(r.chunks, make([][]any, 0, size))
	}
	c := &r.chunks[len(r.chunks)-1]
	*c = append(*c, r.slab[start:len(r.slab):len(r.slab)])
	r.n++
}

func (r *rowList) all() [][]any {
	if len(r.chunks) == 1 {
		return r.chunks[0]
	}
	out := make([][]any, 0, r.n)
	for _, c := range r.chunks {
		out = append(out, c...)
	}
	return out
}

func addIDs[T ~int64](w rowSink, table string, owner int64, vals []T) {
	for i, v := range vals {
		w.add(table, owner, int64(i), int64(v))
	}
}

func addNames(w rowSink, table string, owner int64, vals []string) {
	for i, v := range vals {
		w.add(table, owner, int64(i), v)
	}
}

// null encodes a reference that may be absent.
func null[T ~int64](v T) any {
	if v == 0 {
		return nil
	}
	return int64(v)
}

// jsonMap encodes a string map as a JSON object, nil as NULL.
func jsonMap(m map[string]string) any {
	if m == nil {
		return nil
	}
	b, _ := json.Marshal(m) // a map[string]string always marshals
	return string(b)
}

// loader assembles rows of one table into a model.
type loader struct {
	d    *Dialect
	m    *Model
	t    *table
	n    int      // rows read so far
	strs interned // strings of the string maps read so far
	// maps gives associates with equal attributes one map, as a resolver
	// would otherwise have to (it never changes what a store hands it).
	maps intern.Maps
}

func (l *loader) bad(row string, format string, args ...any) error {
	return &RowError{Table: l.t.name, Row: row, Msg: fmt.Sprintf(format, args...)}
}

func (l *loader) orphan(row string, owner access.Kind, id int64) error {
	return l.bad(row, "%s %d does not exist", owner, id)
}

func key(parts ...any) string {
	s := "("
	for i, p := range parts {
		if i > 0 {
			s += ", "
		}
		if q, ok := p.(string); ok {
			s += fmt.Sprintf("%q", q)
		} else {
			s += fmt.Sprint(p)
		}
	}
	return s + ")"
}

func validCRUD(v int64) bool { return v >= 0 && v <= math.MaxUint8 && access.CRUD(v).Valid() }

// list is a child table holding one ordered list of values of each owner:
// (key, pos, col), col scanned as an S and stored as conv makes it. Rows
// come in owner order, so the owner found for one row is usually the next
// row's too.
func list[S, T, O any](name, keyCol, col string, owner access.Kind, find func(m *Model, id int64) *O, slot func(o *O) *[]T, conv func(S) T) *table {
	return &table{
		name: name, key: keyCol,
		cols:  []string{keyCol, "pos", col},
		sel:   keyCol + ", pos, " + col,
		order: keyCol + ", pos",
		rows: func(l *loader) ([]any, func() error) {
			var id, pos, last int64
			var v S
			var o *O
			return []any{&id, &pos, &v}, func() error {
				if o == nil || id != last {
					if o, last = find(l.m, id), id; o == nil {
						return l.orphan(key(id, pos), owner, id)
					}
				}
				p := slot(o)
				*p = append(*p, conv(v))
				return nil
			}
		},
	}
}

// idList is a list of ids.
func idList[T ~int64, O any](name, keyCol, col string, owner access.Kind, find func(m *Model, id int64) *O, slot func(o *O) *[]T) *table {
	return list(name, keyCol, col, owner, find, slot, func(v int64) T { return T(v) })
}

// nameList is a list of names.
func nameList[O any](name, keyCol, col string, owner access.Kind, find func(m *Model, id int64) *O, slot func(o *O) *[]string) *table {
	return list(name, keyCol, col, owner, find, slot, func(v string) string { return v })
}

// Owner lookups for the child tables.
func findRole(m *Model, id int64) *access.Role   { return m.roles.get(access.RoleID(id)) }
func findGroup(m *Model, id int64) *access.Group { return m.groups.get(access.GroupID(id)) }
func findAssociate(m *Model, id int64) *access.Associate {
	return m.associates.get(access.AssociateID(id))
}
func findCategory(m *Model, id int64) *access.Category {
	return m.categories.get(access.CategoryID(id))
}

var roleKind = &kindSpec{
	kind: access.KindRole,
	tables: []*table{
		{
			name: "access_role", key: "id",
			cols:  []string{"id", "name", "parent_id", "limit_teams"},
			sel:   "id, name, COALESCE(parent_id, 0), limit_teams",
			order: "id",
			rows: func(l *loader) ([]any, func() error) {
				var id, parent int64
				var name string
				var limitTeams bool
				return []any{&id, &name, &parent, &limitTeams}, func() error {
					l.m.roles.put(access.RoleID(id), access.Role{ID: access.RoleID(id), Name: name, Parent: access.RoleID(parent), LimitTeams: limitTeams})
					return nil
				}
			},
		},
		{
			// Relation 0 (no relation) marks an entity type whose grid is
			// empty: such a row still overrides the "*" row.
			name: "access_role_right", key: "role_id",
			cols:  []string{"role_id", "entity_type", "relation", "crud"},
			sel:   "role_id, entity_type, relation, crud",
			order: "role_id, entity_type, relation",
			rows: func(l *loader) ([]any, func() error) {
				var id, rel, crud int64
				var typ string
				return []any{&id, &typ, &rel, &crud}, func() error {
					row := func() string { return key(id, typ, rel) }
					role := l.m.roles.get(access.RoleID(id))
					switch {
					case role == nil:
						return l.orphan(row(), access.KindRole, id)
					case rel == 0 && crud != 0:
						return l.bad(row(), "relation 0 marks an empty grid but has rights %d", crud)
					case rel < 0 || rel > math.MaxUint8 || (rel != 0 && !access.Relation(rel).Valid()):
						return l.bad(row(), "unknown relation %d", rel)
					case !validCRUD(crud):
						return l.bad(row(), "invalid rights %d", crud)
					}
					if role.Rights == nil {
						role.Rights = map[string]access.Grid{}
					}
					g := role.Rights[typ]
					if g == nil {
						g = access.Grid{}
						role.Rights[typ] = g
					}
					if rel != 0 {
						g[access.Relation(rel)] = access.CRUD(crud)
					}
					return nil
				}
			},
		},
		nameList("access_role_function", "role_id", "name", access.KindRole, findRole,
			func(o *access.Role) *[]string { return &o.Functions }),
	},
	values: entities[access.RoleID, access.Role]{
		id:    func(r access.Role) access.RoleID { return r.ID },
		batch: func(b *access.Batch) (*[]access.Role, *[]access.RoleID) { return &b.Roles, &b.DeleteRoles },
		model: func(m *Model) *set[access.RoleID, access.Role] { return &m.roles },
		encode: func(_ *Dialect, r access.Role, w rowSink) {
			id := int64(r.ID)
			w.add("access_role", id, r.Name, null(r.Parent), r.LimitTeams)
			for typ, grid := range r.Rights {
				if len(grid) == 0 {
					w.add("access_role_right", id, typ, int64(0), int64(0))
				}
				for rel, c := range grid {
					w.add("access_role_right", id, typ, int64(rel), int64(c))
				}
			}
			addNames(w, "access_role_function", id, r.Functions)
		},
	},
	refs: []ref{
		{access.KindRole, []string{"Parent"}, "id FROM access_role WHERE parent_id = $1"},
	},
}

var groupKind = &kindSpec{
	kind: access.KindGroup,
	tables: []*table{
		{
			name: "access_group", key: "id",
			cols:  []string{"id", "name", "smart", "self_service", "fields", "description"},
			sel:   "id, name, smart, self_service, fields, description",
			order: "id",
			rows: func(l *loader) ([]any, func() error) {
				var id int64
				var name, smart, desc string
				var self bool
				var fields []byte
				return []any{&id, &name, &smart, &self, &fields, &desc}, func() error {
					row := func() string { return fmt.Sprint(id) }
					if smart != "" {
						if _, err := access.ParseSmartRule(smart); err != nil {
							return l.bad(row(), "smart rule: %v", err)
						}
					}
					f, err := decodeMap(fields)
					if err != nil {
						return l.bad(row(), "fields: %v", err)
					}
					l.m.groups.put(access.GroupID(id), access.Group{ID: access.GroupID(id), Name: name, Description: desc, Smart: smart, SelfService: self, Fields: f})
					return nil
				}
			},
		},
		idList("access_group_member", "group_id", "member_id", access.KindGroup, findGroup,
			func(o *access.Group) *[]access.GroupID { return &o.Groups }),
		{
			// One table for Roles (subordinates false) and
			// RolesAndSubordinates (true), each list in pos order.
			name: "access_group_role", key: "group_id",
			cols:  []string{"group_id", "subordinates", "pos", "role_id"},
			sel:   "group_id, subordinates, pos, role_id",
			order: "group_id, subordinates, pos",
			rows: func(l *loader) ([]any, func() error) {
				var id, pos, role int64
				var sub bool
				return []any{&id, &sub, &pos, &role}, func() error {
					g := l.m.groups.get(access.GroupID(id))
					if g == nil {
						return l.orphan(key(id, sub, pos), access.KindGroup, id)
					}
					if sub {
						g.RolesAndSubordinates = append(g.RolesAndSubordinates, access.RoleID(role))
					} else {
						g.Roles = append(g.Roles, access.RoleID(role))
					}
					return nil
				}
			},
		},
		nameList("access_group_function", "group_id", "name", access.KindGroup, findGroup,
			func(o *access.Group) *[]string { return &o.Functions }),
		{
			name: "access_group_default", key: "group_id",
			cols:  []string{"group_id", "entity_type", "crud"},
			sel:   "group_id, entity_type, crud",
			order: "group_id, entity_type",
			rows: func(l *loader) ([]any, func() error) {
				var id, crud int64
				var typ string
				return []any{&id, &typ, &crud}, func() error {
					row := func() string { return key(id, typ) }
					g := l.m.groups.get(access.GroupID(id))
					switch {
					case g == nil:
						return l.orphan(row(), access.KindGroup, id)
					case !validCRUD(crud):
						return l.bad(row(), "invalid rights %d", crud)
					}
					if g.Defaults == nil {
						g.Defaults = map[string]access.CRUD{}
					}
					g.Defaults[typ] = access.CRUD(crud)
					return nil
				}
			},
		},
		idList("access_group_admin", "group_id", "associate_id", access.KindGroup, findGroup,
			func(o *access.Group) *[]access.AssociateID { return &o.Admins }),
	},
	values: entities[access.GroupID, access.Group]{
		id:    func(g access.Group) access.GroupID { return g.ID },
		batch: func(b *access.Batch) (*[]access.Group, *[]access.GroupID) { return &b.Groups, &b.DeleteGroups },
		model: func(m *Model) *set[access.GroupID, access.Group] { return &m.groups },
		encode: func(_ *Dialect, g access.Group, w rowSink) {
			id := int64(g.ID)
			w.add("access_group", id, g.Name, g.Smart, g.SelfService, jsonMap(g.Fields), g.Description)
			addIDs(w, "access_group_member", id, g.Groups)
			for i, r := range g.Roles {
				w.add("access_group_role", id, false, int64(i), int64(r))
			}
			for i, r := range g.RolesAndSubordinates {
				w.add("access_group_role", id, true, int64(i), int64(r))
			}
			addNames(w, "access_group_function", id, g.Functions)
			for typ, c := range g.Defaults {
				w.add("access_group_default", id, typ, int64(c))
			}
			addIDs(w, "access_group_admin", id, g.Admins)
		},
	},
	refs: []ref{
		{access.KindGroup, []string{"Groups"}, "group_id FROM access_group_member WHERE member_id = $1"},
		{access.KindRole, []string{"Roles", "RolesAndSubordinates"}, "group_id FROM access_group_role WHERE role_id = $1"},
		{access.KindAssociate, []string{"Admins"}, "group_id FROM access_group_admin WHERE associate_id = $1"},
	},
}

var associateKind = &kindSpec{
	kind: access.KindAssociate,
	tables: []*table{
		{
			name: "access_associate", key: "id",
			cols: []string{"id", "name", "name_fold", "type", "primary_group_id", "role_id", "active",
				"valid_from", "valid_to", "company", "attributes", "service_login", "email"},
			sel: "id, name, name_fold, type, COALESCE(primary_group_id, 0), COALESCE(role_id, 0), active, " +
				"valid_from, valid_to, COALESCE(company, 0), attributes, COALESCE(service_login, 0), email",
			order: "id",
			rows: func(l *loader) ([]any, func() error) {
				var id, typ, primary, role, company, login int64
				var name, fold, email string
				var active bool
				var attrs []byte
				fromDest, from := l.d.ScanTime()
				toDest, to := l.d.ScanTime()
				return []any{&id, &name, &fold, &typ, &primary, &role, &active, fromDest, toDest, &company, &attrs, &login, &email}, func() error {
					row := func() string { return fmt.Sprint(id) }
					if typ < math.MinInt32 || typ > math.MaxInt32 || !access.AssociateType(typ).Valid() {
						return l.bad(row(), "unknown associate type %d", typ)
					}
					if f := access.FoldName(name); f != fold {
						return l.bad(row(), "name_fold %q is not the folded name %q", fold, f)
					}
					a := access.Associate{
						ID: access.AssociateID(id), Name: name, Type: access.AssociateType(typ),
						PrimaryGroup: access.GroupID(primary), Role: access.RoleID(role), Active: active,
						Company: company, ServiceLogin: login, Email: email,
					}
					var err error
					if a.ValidFrom, err = from(); err != nil {
						return l.bad(row(), "valid_from: %v", err)
					}
					if a.ValidTo, err = to(); err != nil {
						return l.bad(row(), "valid_to: %v", err)
					}
					// A time outside the domain did not come through
					// Validate; refuse it here rather than hand on what
					// no store could write back.
					for _, t := range [...]struct {
						col string
						t   time.Time
					}{{"valid_from", a.ValidFrom}, {"valid_to", a.ValidTo}} {
						if y := t.t.UTC().Year(); !t.t.IsZero() && (y < access.MinYear || y > access.MaxYear) {
							return l.bad(row(), "%s: %s is outside the years %d to %d", t.col, t.t.UTC().Format(time.RFC3339Nano), access.MinYear, access.MaxYear)
						}
					}
					if l.strs == nil {
						l.strs = interned{}
					}
					if a.Attributes, err = decodeMapIn(attrs, l.strs); err != nil {
						return l.bad(row(), "attributes: %v", err)
					}
					a.Attributes = l.maps.Intern(a.Attributes)
					l.m.associates.put(a.ID, a)
					return nil
				}
			},
		},
		idList("access_associate_group", "associate_id", "group_id", access.KindAssociate, findAssociate,
			func(o *access.Associate) *[]access.GroupID { return &o.Groups }),
		idList("access_associate_project", "associate_id", "project_id", access.KindAssociate, findAssociate,
			func(o *access.Associate) *[]int64 { return &o.Projects }),
		idList("access_associate_category", "associate_id", "category_id", access.KindAssociate, findAssociate,
			func(o *access.Associate) *[]access.CategoryID { return &o.Categories }),
		idList("access_associate_licence", "associate_id", "licence_id", access.KindAssociate, findAssociate,
			func(o *access.Associate) *[]access.LicenceID { return &o.Licences }),
	},
	values: entities[access.AssociateID, access.Associate]{
		id: func(a access.Associate) access.AssociateID { return a.ID },
		batch: func(b *access.Batch) (*[]access.Associate, *[]access.AssociateID) {
			return &b.Associates, &b.DeleteAssociates
		},
		model: func(m *Model) *set[access.AssociateID, access.Associate] { return &m.associates },
		encode: func(d *Dialect, a access.Associate, w rowSink) {
			id := int64(a.ID)
			w.add("access_associate", id, a.Name, access.FoldName(a.Name), int64(a.Type), null(a.PrimaryGroup),
				null(a.Role), a.Active, timeArg(d, a.ValidFrom), timeArg(d, a.ValidTo), null(a.Company),
				jsonMap(a.Attributes), null(a.ServiceLogin), a.Email)
			addIDs(w, "access_associate_group", id, a.Groups)
			addIDs(w, "access_associate_project", id, a.Projects)
			addIDs(w, "access_associate_category", id, a.Categories)
			addIDs(w, "access_associate_licence", id, a.Licences)
		},
	},
	refs: []ref{
		{access.KindRole, []string{"Role"}, "id FROM access_associate WHERE role_id = $1"},
		{access.KindGroup, []string{"PrimaryGroup"}, "id FROM access_associate WHERE primary_group_id = $1"},
		{access.KindGroup, []string{"Groups"}, "associate_id FROM access_associate_group WHERE group_id = $1"},
		{access.KindCategory, []string{"Categories"}, "associate_id FROM access_associate_category WHERE category_id = $1"},
		{access.KindLicence, []string{"Licences"}, "associate_id FROM access_associate_licence WHERE licence_id = $1"},
	},
}

// Sharing rule principals: side 1 is From, 2 is To; list 1 names
// associates, 2 groups, 3 roles, 4 roles and their subordinates.
const (
	sideFrom = 1
	sideTo   = 2

	listAssociates = 1
	listGroups     = 2
	listRoles      = 3
	listRoleTrees  = 4
)

var sharingRuleKind = &kindSpec{
	kind: access.KindSharingRule,
	tables: []*table{
		{
			name: "access_sharing_rule", key: "id",
			cols:  []string{"id", "name", "entity_type", "rights", "from_everyone", "to_everyone"},
			sel:   "id, name, entity_type, rights, from_everyone, to_everyone",
			order: "id",
			rows: func(l *loader) ([]any, func() error) {
				var id, rights int64
				var name, typ string
				var from, to bool
				return []any{&id, &name, &typ, &rights, &from, &to}, func() error {
					if !validCRUD(rights) {
						return l.bad(fmt.Sprint(id), "invalid rights %d", rights)
					}
					l.m.sharingRules.put(access.RuleID(id), access.SharingRule{
						ID: access.RuleID(id), Name: name, EntityType: typ, Rights: access.CRUD(rights),
						From: access.Principals{Everyone: from}, To: access.Principals{Everyone: to},
					})
					return nil
				}
			},
		},
		{
			name: "access_sharing_principal", key: "rule_id",
			cols:  []string{"rule_id", "side", "list", "pos", "member_id"},
			sel:   "rule_id, side, list, pos, member_id",
			order: "rule_id, side, list, pos",
			rows: func(l *loader) ([]any, func() error) {
				var id, side, list, pos, member int64
				return []any{&id, &side, &list, &pos, &member}, func() error {
					row := func() string { return key(id, side, list, pos) }
					rule := l.m.sharingRules.get(access.RuleID(id))
					if rule == nil {
						return l.orphan(row(), access.KindSharingRule, id)
					}
					var p *access.Principals
					switch side {
					case sideFrom:
						p = &rule.From
					case sideTo:
						p = &rule.To
					default:
						return l.bad(row(), "unknown side %d", side)
					}
					switch list {
					case listAssociates:
						p.Associates = append(p.Associates, access.AssociateID(member))
					case listGroups:
						p.Groups = append(p.Groups, access.GroupID(member))
					case listRoles:
						p.Roles = append(p.Roles, access.RoleID(member))
					case listRoleTrees:
						p.RolesAndSubordinates = append(p.RolesAndSubordinates, access.RoleID(member))
					default:
						return l.bad(row(), "unknown principal list %d", list)
					}
					return nil
				}
			},
		},
	},
	values: entities[access.RuleID, access.SharingRule]{
		id: func(r access.SharingRule) access.RuleID { return r.ID },
		batch: func(b *access.Batch) (*[]access.SharingRule, *[]access.RuleID) {
			return &b.SharingRules, &b.DeleteSharingRules
		},
		model: func(m *Model) *set[access.RuleID, access.SharingRule] { return &m.sharingRules },
		encode: func(_ *Dialect, r access.SharingRule, w rowSink) {
			id := int64(r.ID)
			w.add("access_sharing_rule", id, r.Name, r.EntityType, int64(r.Rights), r.From.Everyone, r.To.Everyone)
			for _, s := range [...]struct {
				side int64
				p    *access.Principals
			}{{sideFrom, &r.From}, {sideTo, &r.To}} {
				for _, l := range [...]struct {
					list int64
					ids  []int64
				}{
					{listAssociates, int64s(s.p.Associates)},
					{listGroups, int64s(s.p.Groups)},
					{listRoles, int64s(s.p.Roles)},
					{listRoleTrees, int64s(s.p.RolesAndSubordinates)},
				} {
					for i, m := range l.ids {
						w.add("access_sharing_principal", id, s.side, l.list, int64(i), m)
					}
				}
			}
		},
	},
	refs: []ref{
		{access.KindAssociate, []string{"From.Associates", "To.Associates"}, fmt.Sprintf("rule_id FROM access_sharing_principal WHERE list = %d AND member_id = $1", listAssociates)},
		{access.KindGroup, []string{"From.Groups", "To.Groups"}, fmt.Sprintf("rule_id FROM access_sharing_principal WHERE list = %d AND member_id = $1", listGroups)},
		{access.KindRole, []string{"From.Roles", "From.RolesAndSubordinates", "To.Roles", "To.RolesAndSubordinates"}, fmt.Sprintf("rule_id FROM access_sharing_principal WHERE list IN (%d, %d) AND member_id = $1", listRoles, listRoleTrees)},
	},
}

var grantKind = &kindSpec{
	kind: access.KindGrant,
	tables: []*table{{
		name: "access_grant", key: "id",
		cols:  []string{"id", "associate_id", "group_id", "entity_type", "record_id", "rights"},
		sel:   "id, COALESCE(associate_id, 0), COALESCE(group_id, 0), entity_type, COALESCE(record_id, 0), rights",
		order: "id",
		rows: func(l *loader) ([]any, func() error) {
			var id, assoc, group, record, rights int64
			var typ string
			return []any{&id, &assoc, &group, &typ, &record, &rights}, func() error {
				if !validCRUD(rights) {
					return l.bad(fmt.Sprint(id), "invalid rights %d", rights)
				}
				l.m.grants.put(access.GrantID(id), access.Grant{
					ID: access.GrantID(id), Associate: access.AssociateID(assoc), Group: access.GroupID(group),
					EntityType: typ, RecordID: record, Rights: access.CRUD(rights),
				})
				return nil
			}
		},
	}},
	values: entities[access.GrantID, access.Grant]{
		id:    func(g access.Grant) access.GrantID { return g.ID },
		batch: func(b *access.Batch) (*[]access.Grant, *[]access.GrantID) { return &b.Grants, &b.DeleteGrants },
		model: func(m *Model) *set[access.GrantID, access.Grant] { return &m.grants },
		encode: func(_ *Dialect, g access.Grant, w rowSink) {
			w.add("access_grant", int64(g.ID), null(g.Associate), null(g.Group), g.EntityType, null(g.RecordID), int64(g.Rights))
		},
	},
	refs: []ref{
		{access.KindAssociate, []string{"Associate"}, "id FROM access_grant WHERE associate_id = $1"},
		{access.KindGroup, []string{"Group"}, "id FROM access_grant WHERE group_id = $1"},
	},
}

var categoryKind = &kindSpec{
	kind: access.KindCategory,
	tables: []*table{
		{
			name: "access_category", key: "id",
			cols:  []string{"id", "name", "parent_id", "members_only"},
			sel:   "id, name, COALESCE(parent_id, 0), members_only",
			order: "id",
			rows: func(l *loader) ([]any, func() error) {
				var id, parent int64
				var name string
				var only bool
				return []any{&id, &name, &parent, &only}, func() error {
					l.m.categories.put(access.CategoryID(id), access.Category{
						ID: access.CategoryID(id), Name: name, Parent: access.CategoryID(parent), MembersOnly: only,
					})
					return nil
				}
			},
		},
		idList("access_category_group", "category_id", "group_id", access.KindCategory, findCategory,
			func(o *access.Category) *[]access.GroupID { return &o.Groups }),
		idList("access_category_role", "category_id", "role_id", access.KindCategory, findCategory,
			func(o *access.Category) *[]access.RoleID { return &o.Roles }),
	},
	values: entities[access.CategoryID, access.Category]{
		id: func(c access.Category) access.CategoryID { return c.ID },
		batch: func(b *access.Batch) (*[]access.Category, *[]access.CategoryID) {
			return &b.Categories, &b.DeleteCategories
		},
		model: func(m *Model) *set[access.CategoryID, access.Category] { return &m.categories },
		encode: func(_ *Dialect, c access.Category, w rowSink) {
			id := int64(c.ID)
			w.add("access_category", id, c.Name, null(c.Parent), c.MembersOnly)
			addIDs(w, "access_category_group", id, c.Groups)
			addIDs(w, "access_category_role", id, c.Roles)
		},
	},
	refs: []ref{
		{access.KindCategory, []string{"Parent"}, "id FROM access_category WHERE parent_id = $1"},
		{access.KindGroup, []string{"Groups"}, "category_id FROM access_category_group WHERE group_id = $1"},
		{access.KindRole, []string{"Roles"}, "category_id FROM access_category_role WHERE role_id = $1"},
	},
}

var impersonationKind = &kindSpec{
	kind: access.KindImpersonation,
	tables: []*table{{
		name: "access_impersonation", key: "id",
		cols: []string{"id", "actor_associate_id", "actor_group_id", "target_associate_id", "target_group_id"},
		sel: "id, COALESCE(actor_associate_id, 0), COALESCE(actor_group_id, 0), " +
			"COALESCE(target_associate_id, 0), COALESCE(target_group_id, 0)",
		order: "id",
		rows: func(l *loader) ([]any, func() error) {
			var id, aa, ag, ta, tg int64
			return []any{&id, &aa, &ag, &ta, &tg}, func() error {
				l.m.impersonations.put(access.ImpersonationID(id), access.Impersonation{
					ID:     access.ImpersonationID(id),
					Actor:  access.Principal{Associate: access.AssociateID(aa), Group: access.GroupID(ag)},
					Target: access.Principal{Associate: access.AssociateID(ta), Group: access.GroupID(tg)},
				})
				return nil
			}
		},
	}},
	values: entities[access.ImpersonationID, access.Impersonation]{
		id: func(m access.Impersonation) access.ImpersonationID { return m.ID },
		batch: func(b *access.Batch) (*[]access.Impersonation, *[]access.ImpersonationID) {
			return &b.Impersonations, &b.DeleteImpersonations
		},
		model: func(m *Model) *set[access.ImpersonationID, access.Impersonation] { return &m.impersonations },
		encode: func(_ *Dialect, m access.Impersonation, w rowSink) {
			w.add("access_impersonation", int64(m.ID), null(m.Actor.Associate), null(m.Actor.Group),
				null(m.Target.Associate), null(m.Target.Group))
		},
	},
	refs: []ref{
		{access.KindAssociate, []string{"Actor.Associate", "Target.Associate"}, "id FROM access_impersonation WHERE actor_associate_id = $1 OR target_associate_id = $1"},
		{access.KindGroup, []string{"Actor.Group", "Target.Group"}, "id FROM access_impersonation WHERE actor_group_id = $1 OR target_group_id = $1"},
	},
}

var limitKind = &kindSpec{
	kind: access.KindLimit,
	tables: []*table{{
		name: "access_limit", key: "id",
		cols:  []string{"id", "group_id", "entity_type", "record_id", "max_rights", "scope"},
		sel:   "id, COALESCE(group_id, 0), entity_type, COALESCE(record_id, 0), max_rights, scope",
		order: "id",
		rows: func(l *loader) ([]any, func() error) {
			var id, group, record, max, scope int64
			var typ string
			return []any{&id, &group, &typ, &record, &max, &scope}, func() error {
				if !validCRUD(max) {
					return l.bad(fmt.Sprint(id), "invalid max %d", max)
				}
				if scope < 0 || scope > 255 || !access.LimitScope(scope).Valid() {
					return l.bad(fmt.Sprint(id), "invalid scope %d", scope)
				}
				l.m.limits.put(access.LimitID(id), access.Limit{
					ID: access.LimitID(id), Group: access.GroupID(group), EntityType: typ,
					RecordID: record, Max: access.CRUD(max), Scope: access.LimitScope(scope),
				})
				return nil
			}
		},
	}},
	values: entities[access.LimitID, access.Limit]{
		id:    func(l access.Limit) access.LimitID { return l.ID },
		batch: func(b *access.Batch) (*[]access.Limit, *[]access.LimitID) { return &b.Limits, &b.DeleteLimits },
		model: func(m *Model) *set[access.LimitID, access.Limit] { return &m.limits },
		encode: func(_ *Dialect, l access.Limit, w rowSink) {
			w.add("access_limit", int64(l.ID), null(l.Group), l.EntityType, null(l.RecordID), int64(l.Max), int64(l.Scope))
		},
	},
	refs: []ref{
		{access.KindGroup, []string{"Group"}, "id FROM access_limit WHERE group_id = $1"},
	},
}

// pastOwnerKind keeps deleted associates as past owners. Its role and
// primary group are plain numbers, no foreign keys and no refs: they may
// outlive what they name.
var pastOwnerKind = &kindSpec{
	kind: access.KindPastOwner,
	tables: []*table{{
		name: "access_past_owner", key: "id",
		cols:  []string{"id", "name", "type", "role_id", "company", "primary_group_id"},
		sel:   "id, name, type, COALESCE(role_id, 0), company, COALESCE(primary_group_id, 0)",
		order: "id",
		rows: func(l *loader) ([]any, func() error) {
			var id, typ, role, company, primary int64
			var name string
			return []any{&id, &name, &typ, &role, &company, &primary}, func() error {
				if typ < math.MinInt32 || typ > math.MaxInt32 || !access.AssociateType(typ).Valid() {
					return l.bad(fmt.Sprint(id), "unknown associate type %d", typ)
				}
				l.m.pastOwners.put(access.AssociateID(id), access.PastOwner{
					ID: access.AssociateID(id), Name: name, Type: access.AssociateType(typ),
					Role: access.RoleID(role), Company: company, PrimaryGroup: access.GroupID(primary),
				})
				return nil
			}
		},
	}},
	values: entities[access.AssociateID, access.PastOwner]{
		id: func(p access.PastOwner) access.AssociateID { return p.ID },
		batch: func(b *access.Batch) (*[]access.PastOwner, *[]access.AssociateID) {
			return &b.PastOwners, &b.ForgetPastOwners
		},
		model: func(m *Model) *set[access.AssociateID, access.PastOwner] { return &m.pastOwners },
		encode: func(_ *Dialect, p access.PastOwner, w rowSink) {
			w.add("access_past_owner", int64(p.ID), p.Name, int64(p.Type), null(p.Role), p.Company, null(p.PrimaryGroup))
		},
	},
}

// kinds lists every stored kind. Loads and writes go through it in this
// order.
var kinds = []*kindSpec{roleKind, groupKind, associateKind, sharingRuleKind, grantKind, categoryKind, impersonationKind, limitKind, licenceKind, pastOwnerKind}

var licenceKind = &kindSpec{
	kind: access.KindLicence,
	tables: []*table{
		{
			name: "access_licence", key: "id",
			cols:  []string{"id", "name", "seats", "valid_from", "valid_to"},
			sel:   "id, name, seats, valid_from, valid_to",
			order: "id",
			rows: func(l *loader) ([]any, func() error) {
				var id, seats int64
				var name string
				fromDest, from := l.d.ScanTime()
				toDest, to := l.d.ScanTime()
				return []any{&id, &name, &seats, fromDest, toDest}, func() error {
					row := func() string { return fmt.Sprint(id) }
					if seats < 0 || seats > math.MaxInt32 {
						return l.bad(row(), "seats %d out of range", seats)
					}
					v := access.Licence{ID: access.LicenceID(id), Name: name, Seats: int(seats)}
					var err error
					if v.ValidFrom, err = from(); err != nil {
						return l.bad(row(), "valid_from: %v", err)
					}
					if v.ValidTo, err = to(); err != nil {
						return l.bad(row(), "valid_to: %v", err)
					}
					l.m.licences.put(v.ID, v)
					return nil
				}
			},
		},
		{
			name: "access_licence_for", key: "licence_id",
			cols:  []string{"licence_id", "pos", "type"},
			sel:   "licence_id, pos, type",
			order: "licence_id, pos",
			rows: func(l *loader) ([]any, func() error) {
				var id, pos, typ int64
				return []any{&id, &pos, &typ}, func() error {
					v := l.m.licences.get(access.LicenceID(id))
					switch {
					case v == nil:
						return l.orphan(key(id, pos), access.KindLicence, id)
					case typ < math.MinInt32 || typ > math.MaxInt32 || !access.AssociateType(typ).Valid():
						return l.bad(key(id, pos), "unknown associate type %d", typ)
					}
					v.For = append(v.For, access.AssociateType(typ))
					return nil
				}
			},
		},
	},
	values: entities[access.LicenceID, access.Licence]{
		id: func(v access.Licence) access.LicenceID { return v.ID },
		batch: func(b *access.Batch) (*[]access.Licence, *[]access.LicenceID) {
			return &b.Licences, &b.DeleteLicences
		},
		model: func(m *Model) *set[access.LicenceID, access.Licence] { return &m.licences },
		encode: func(d *Dialect, v access.Licence, w rowSink) {
			id := int64(v.ID)
			w.add("access_licence", id, v.Name, int64(v.Seats), timeArg(d, v.ValidFrom), timeArg(d, v.ValidTo))
			for i, t := range v.For {
				w.add("access_licence_for", id, int64(i), int64(t))
			}
		},
	},
}

func idsOf[T any, ID ~int64](vs []T, id func(T) ID) []int64 {
	out := make([]int64, len(vs))
	for i, v := range vs {
		out[i] = int64(id(v))
	}
	return out
}

func typed[ID ~int64](ids []int64) []ID {
	if len(ids) == 0 {
		return nil
	}
	out := make([]ID, len(ids))
	for i, v := range ids {
		out[i] = ID(v)
	}
	return out
}

func timeArg(d *Dialect, t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return d.Time(t)
}
