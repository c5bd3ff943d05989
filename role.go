package access

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// RoleID identifies a role. The zero value names no role.
type RoleID int64

// Role says what its holders may do with the records their ownership
// relations reach, and which functional rights they have. Every associate
// except a resource holds exactly one role. Roles form a tree through Parent;
// a role's subordinates are the roles below it.
//
// Values are copied on the way into a store and on the way out.
type Role struct {
	// ID identifies the role; it must be positive.
	ID RoleID
	// Name is required; it need not be unique.
	Name string
	// Parent is the role directly above this one, or 0 for a top role.
	Parent RoleID
	// Rights maps an entity type ("contact", "sale"…) to the role's grid of
	// rights on records of that type. The type "*" is the default row for
	// types not listed. A type with no row and no "*" row grants nothing.
	Rights map[string]Grid
	// Functions lists the functional rights the role grants, such as
	// "export-selection" or "user-admin".
	Functions []string
	// LimitTeams makes the Team cells of Rights apply as written, so a
	// team member may get less than the owner (Dataverse-style team
	// privileges). By default (false) every effective member of a
	// record's team is an owner of it, as the vtiger document says of
	// records assigned to a group: the Team relation gives the Owner
	// cell, together with anything the Team cell adds.
	LimitTeams bool
}

// Grid gives, for each ownership relation, the rights a role grants on a
// record when that relation holds between the record and the subject.
// A missing relation grants nothing.
type Grid map[Relation]CRUD

// Wildcard is the entity type of the default row of a role's rights.
const Wildcard = "*"

func (r Role) clone() Role {
	if r.Rights != nil {
		rights := make(map[string]Grid, len(r.Rights))
		for t, g := range r.Rights {
			rights[t] = maps.Clone(g)
		}
		r.Rights = rights
	}
	r.Functions = slices.Clone(r.Functions)
	return r
}

// check validates what can be validated without looking anything up.
func (r *Role) check() error {
	if r.ID <= 0 {
		return fmt.Errorf("%w: role id %d must be positive", ErrInvalid, r.ID)
	}
	if r.Name == "" {
		return fmt.Errorf("%w: role %d: name is required", ErrInvalid, r.ID)
	}
	what := noun("role", int64(r.ID))
	if err := checkText(what, "name", r.Name, MaxNameLen); err != nil {
		return err
	}
	if err := checkKeys(what, "rights", r.Rights, nil); err != nil {
		return err
	}
	if err := checkTexts(what, "functional right", r.Functions, MaxKeyLen); err != nil {
		return err
	}
	if r.Parent < 0 {
		return fmt.Errorf("%w: role %d: parent id %d must not be negative", ErrInvalid, r.ID, r.Parent)
	}
	if r.Parent == r.ID {
		return &CycleError{Kind: KindRole, Path: []int64{int64(r.ID), int64(r.ID)}}
	}
	for typ, grid := range r.Rights {
		if typ == "" {
			return fmt.Errorf("%w: role %d: rights for an empty entity type", ErrInvalid, r.ID)
		}
		for rel, c := range grid {
			if !rel.Valid() {
				return fmt.Errorf("%w: role %d: %q: unknown relation %d", ErrInvalid, r.ID, typ, int(rel))
			}
			if !c.Valid() {
				return fmt.Errorf("%w: role %d: %q %s: invalid rights %d", ErrInvalid, r.ID, typ, rel, uint8(c))
			}
			if !c.Accumulative() {
				return fmt.Errorf("%w: role %d: %q %s: rights %s grant %s without read (CRUD is accumulative)", ErrInvalid, r.ID, typ, rel, c, c&^R)
			}
		}
	}
	for _, f := range r.Functions {
		if strings.TrimSpace(f) == "" {
			return fmt.Errorf("%w: role %d: empty functional right", ErrInvalid, r.ID)
		}
	}
	return nil
}

// CRUD is a set of the four record rights. The zero value is the empty set.
type CRUD uint8

// The single rights and the accumulative levels of the SuperOffice admin UI.
// Any union of the single rights is a valid CRUD set.
const (
	R CRUD = 1 << iota // read
	C                  // create
	U                  // update
	D                  // delete

	LevelNone   CRUD = 0         // no rights
	LevelRead   CRUD = R         // R
	LevelCreate CRUD = R | C     // CR
	LevelUpdate CRUD = R | C | U // CRU
	LevelFull   CRUD = R | C | U | D

	allCRUD = LevelFull
)

// Valid reports whether c holds only the four defined rights.
func (c CRUD) Valid() bool { return c&^allCRUD == 0 }

// Accumulative reports whether c is empty or holds read: SuperOffice's
// rights follow "an accumulative CRUD pattern", so create, update or
// delete without read is no valid cell of a role. A role's cells must be
// accumulative; [Role.Lint] also reports accumulative cells that are not
// one of the five levels (such as RU, which skips create).
func (c CRUD) Accumulative() bool { return c == 0 || c&R != 0 }

// Level reports whether c is one of the five accumulative levels: -, R,
// CR, CRU or CRUD.
func (c CRUD) Level() bool {
	switch c {
	case LevelNone, LevelRead, LevelCreate, LevelUpdate, LevelFull:
		return true
	}
	return false
}

// Allows reports whether c contains the right that action a needs.
func (c CRUD) Allows(a Action) bool { return a.Valid() && c&a.right() != 0 }

// String renders the set as letters in the order C, R, U, D, as in the
// SuperOffice admin UI ("CRUD", "R", "CR"…), or "-" when empty.
func (c CRUD) String() string {
	if c == 0 {
		return "-"
	}
	var b strings.Builder
	for _, x := range [...]struct {
		bit CRUD
		ch  byte
	}{{C, 'C'}, {R, 'R'}, {U, 'U'}, {D, 'D'}} {
		if c&x.bit != 0 {
			b.WriteByte(x.ch)
		}
	}
	if !c.Valid() {
		fmt.Fprintf(&b, "+%#x", uint8(c&^allCRUD))
	}
	return b.String()
}

// ParseCRUD parses letters C, R, U and D in any order and case, or "-" or ""
// for the empty set. Other characters are an error wrapping [ErrInvalid].
func ParseCRUD(s string) (CRUD, error) {
	var c CRUD
	if s == "-" {
		return 0, nil
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 'C', 'c':
			c |= C
		case 'R', 'r':
			c |= R
		case 'U', 'u':
			c |= U
		case 'D', 'd':
			c |= D
		default:
			return 0, fmt.Errorf("%w: rights %q: unexpected %q", ErrInvalid, s, s[i])
		}
	}
	return c, nil
}

// Lint is one finding of [Role.Lint] on an entity type's row: either a
// relation farther from the subject grants rights a closer one does not
// (Closer and Farther set), or a cell is not one of the five accumulative
// levels (Closer zero, Farther the cell's relation).
type Lint struct {
	EntityType      string
	Closer, Farther Relation
	// Extra is what Farther grants beyond Closer; for a cell that is no
	// level, the cell's rights.
	Extra CRUD
}

// String renders the finding, for example
// `"contact": other group grants D beyond primary group` or
// `"contact": owner grants RU, which is not one of the levels -, R, CR, CRU, CRUD`.
func (l Lint) String() string {
	if l.Closer == 0 {
		return fmt.Sprintf("%q: %s grants %s, which is not one of the levels -, R, CR, CRU, CRUD", l.EntityType, l.Farther, l.Extra)
	}
	return fmt.Sprintf("%q: %s grants %s beyond %s", l.EntityType, l.Farther, l.Extra, l.Closer)
}

// lintPairs lists (closer, farther) relation pairs: a sane role grants the
// farther relation no more than the closer one.
var lintPairs = [...][2]Relation{
	{Owner, Team}, {Owner, PrimaryGroup}, {Owner, OtherGroup}, {Owner, Subordinate},
	{Owner, CategoryMember}, {Owner, MyCompany}, {Owner, SameProject}, {Owner, Other},
	{PrimaryGroup, OtherGroup},
	{Team, Other}, {PrimaryGroup, Other}, {OtherGroup, Other}, {Subordinate, Other}, {CategoryMember, Other},
}

// Lint reports the cells of the role's rights where a relation farther from
// the subject grants something a closer relation does not (for example
// Other granting Delete while Owner does not). Such a role is legal, but
// only for such roles does it matter that [Engine.Can] takes the union of
// the cells of every relation that holds rather than the single most
// specific one. Lint also reports cells that are not one of the five
// accumulative levels (RU, RD…): legal, but no SuperOffice level looks so.
// Findings are sorted by entity type, then by the closer relation (level
// findings first), then by the farther one.
func (r *Role) Lint() []Lint {
	var out []Lint
	for _, typ := range slices.Sorted(maps.Keys(r.Rights)) {
		g := r.Rights[typ]
		for rel, c := range g {
			if !c.Level() {
				out = append(out, Lint{EntityType: typ, Farther: rel, Extra: c})
			}
		}
		cell := func(rel Relation) CRUD {
			if rel == Team && !r.LimitTeams {
				return g[Team] | g[Owner] // a team member is an owner
			}
			return g[rel]
		}
		for _, p := range lintPairs {
			if extra := cell(p[1]) &^ cell(p[0]); extra != 0 {
				out = append(out, Lint{EntityType: typ, Closer: p[0], Farther: p[1], Extra: extra})
			}
		}
	}
	slices.SortFunc(out, func(a, b Lint) int {
		return cmp.Or(strings.Compare(a.EntityType, b.EntityType), cmp.Compare(a.Closer, b.Closer), cmp.Compare(a.Farther, b.Farther))
	})
	return out
}

// Functional rights the shipped user levels use.
const (
	// FuncAdmin opens system settings and maintenance.
	FuncAdmin = "admin"
	// FuncUserAdmin allows managing users and usergroup membership.
	FuncUserAdmin = "user-admin"
	// FuncListAdmin allows editing lists.
	FuncListAdmin = "list-admin"
	// FuncExportSelection allows exporting selections to a file.
	FuncExportSelection = "export-selection"
	// FuncBulkUpdate allows bulk updates.
	FuncBulkUpdate = "bulk-update"
	// FuncBackendLogin allows signing in to the back office.
	FuncBackendLogin = "backend-login"
)

// UserLevels returns the six default roles of SuperOffice CRM Online, "User
// level 0" (full access) to "User level 5" (read-only), as new values with
// ids 1 to 6 and no parent; change the ids before storing them if those are
// taken. They follow SuperOffice's own one-line descriptions of the
// predefined roles, read in this library's relations: "own data" is what
// the subject owns, alone or as a member of the record's team (a team
// member is an owner, see [Role.LimitTeams]); "own user group" is the
// primary and other group relations; "beyond" is everything else. The
// grids use the "*" row, plus an "appointment" row for level 5. Each level
// grants a subset of the level above, data and functional rights alike,
// so the levels form a monotone ladder; every level may sign in to the
// client (backend-login), as every internal SuperOffice user does.
//
//	level 0  administrator: full access and maintenance. CRUD everywhere;
//	         admin, user-admin, list-admin, export-selection, bulk-update.
//	level 1  full access to data. CRUD everywhere; export-selection,
//	         bulk-update.
//	level 2  full access within the own user group, limited beyond. CRUD
//	         for owner, team, primary and other group; beyond, CRU (no
//	         delete) on records reached through a subordinate, a category
//	         or none (unowned), and R on the rest (other, my company,
//	         same project); export-selection.
//	level 3  full access to own data, reads within the own user group,
//	         limited beyond. CRUD for owner and team; R for everything
//	         else, other included.
//	level 4  full access to own data, limited within the own user group
//	         and beyond. CRUD for owner and team; R for primary and other
//	         group, subordinate, category member, unowned, my company and
//	         same project; nothing for other: records of colleagues the
//	         subject reaches through no relation stay hidden. "Limited
//	         within the own group" is R, the same as level 3 gives there,
//	         because the accumulative levels are -, R, CR, CRU and CRUD:
//	         none lies between R and nothing, so level 4 stays below level
//	         3 by what it gives beyond (nothing for other, where level 3
//	         reads).
//	level 5  read access to most data, limited access to others' data, can
//	         create activities. R for owner, team and every relation level
//	         4 reads; nothing for other; on appointments CR for owner and
//	         team, so it can still create its own activities. "Can create
//	         activities" is modelled as the appointment entity type, the
//	         activity a user creates for itself; an application whose
//	         activities are other types gives them the same row.
//
// "Limited" is not one CRUD set in SuperOffice's wording; here it means
// "less than the level above grants there", chosen so that each level
// differs from the next and the ladder stays monotone.
func UserLevels() []Role {
	all := func(c CRUD) Grid {
		g := Grid{}
		for r := Owner; r < numRelations; r++ {
			g[r] = c
		}
		return g
	}
	l0 := all(LevelFull)
	l2 := Grid{Owner: LevelFull, Team: LevelFull, PrimaryGroup: LevelFull, OtherGroup: LevelFull,
		Subordinate: LevelUpdate, CategoryMember: LevelUpdate, Unowned: LevelUpdate,
		Other: LevelRead, MyCompany: LevelRead, SameProject: LevelRead}
	l3 := Grid{Owner: LevelFull, Team: LevelFull, PrimaryGroup: LevelRead, OtherGroup: LevelRead,
		Subordinate: LevelRead, CategoryMember: LevelRead, Other: LevelRead, Unowned: LevelRead,
		MyCompany: LevelRead, SameProject: LevelRead}
	l4 := Grid{Owner: LevelFull, Team: LevelFull, PrimaryGroup: LevelRead, OtherGroup: LevelRead,
		Subordinate: LevelRead, CategoryMember: LevelRead, Unowned: LevelRead,
		MyCompany: LevelRead, SameProject: LevelRead}
	l5 := Grid{Owner: LevelRead, Team: LevelRead, PrimaryGroup: LevelRead, OtherGroup: LevelRead,
		Subordinate: LevelRead, CategoryMember: LevelRead, Unowned: LevelRead,
		MyCompany: LevelRead, SameProject: LevelRead}
	l5appt := maps.Clone(l5)
	l5appt[Owner], l5appt[Team] = LevelCreate, LevelCreate
	level := func(n int, rights map[string]Grid, funcs ...string) Role {
		return Role{ID: RoleID(n + 1), Name: fmt.Sprintf("User level %d", n), Rights: rights, Functions: funcs}
	}
	return []Role{
		level(0, map[string]Grid{Wildcard: l0}, FuncAdmin, FuncUserAdmin, FuncListAdmin, FuncExportSelection, FuncBulkUpdate, FuncBackendLogin),
		level(1, map[string]Grid{Wildcard: maps.Clone(l0)}, FuncExportSelection, FuncBulkUpdate, FuncBackendLogin),
		level(2, map[string]Grid{Wildcard: l2}, FuncExportSelection, FuncBackendLogin),
		level(3, map[string]Grid{Wildcard: l3}, FuncBackendLogin),
		level(4, map[string]Grid{Wildcard: l4}, FuncBackendLogin),
		level(5, map[string]Grid{Wildcard: l5, "appointment": l5appt}, FuncBackendLogin),
	}
}
