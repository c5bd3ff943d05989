package access

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// staticStore serves one fixed model, always as a full delta, and skips
// validation on purpose: random models may break write rules (that is
// what a database edited by another tool can hold), and filters must stay
// exact anyway.
type staticStore struct{ b Batch }

func (f *staticStore) Changes(ctx context.Context, since Revision) (Delta, error) {
	return Delta{To: 1, Full: true, Batch: f.b.Clone()}, nil
}

var testTypes = []string{"contact", "sale", "appointment"}

// genOrg draws a small random organisation that exercises every layer.
func genOrg(t *rapid.T) Batch {
	var b Batch
	nRoles := rapid.IntRange(1, 5).Draw(t, "roles")
	crud := rapid.Custom(func(t *rapid.T) CRUD { return CRUD(rapid.IntRange(0, 15).Draw(t, "crud")) })
	for i := 1; i <= nRoles; i++ {
		r := Role{ID: RoleID(i), Name: fmt.Sprintf("r%d", i), Rights: map[string]Grid{}, LimitTeams: rapid.Bool().Draw(t, "limit teams")}
		if i > 1 {
			r.Parent = RoleID(rapid.IntRange(0, i-1).Draw(t, "parent"))
		}
		for _, typ := range append([]string{Wildcard}, testTypes...) {
			if rapid.Bool().Draw(t, "row") {
				g := Grid{}
				for rel := Owner; rel < numRelations; rel++ {
					if c := crud.Draw(t, "cell"); c != 0 {
						g[rel] = c | R // CRUD is accumulative
					} else {
						g[rel] = 0
					}
				}
				r.Rights[typ] = g
			}
		}
		b.Roles = append(b.Roles, r)
	}
	nGroups := rapid.IntRange(1, 6).Draw(t, "groups")
	for i := 1; i <= nGroups; i++ {
		g := Group{ID: GroupID(i), Name: fmt.Sprintf("g%d", i)}
		for j := 1; j < i; j++ {
			if rapid.IntRange(0, 3).Draw(t, "nest") == 0 {
				g.Groups = append(g.Groups, GroupID(j))
			}
		}
		if rapid.IntRange(0, 4).Draw(t, "byrole") == 0 {
			g.Roles = append(g.Roles, RoleID(rapid.IntRange(1, nRoles).Draw(t, "role")))
		}
		if rapid.IntRange(0, 4).Draw(t, "byrs") == 0 {
			g.RolesAndSubordinates = append(g.RolesAndSubordinates, RoleID(rapid.IntRange(1, nRoles).Draw(t, "role")))
		}
		if i > 1 && rapid.IntRange(0, 5).Draw(t, "smart") == 0 {
			g = Group{ID: g.ID, Name: g.Name, Smart: `attr.dept == "sales"`}
		}
		if rapid.IntRange(0, 3).Draw(t, "defaults") == 0 {
			g.Defaults = map[string]CRUD{rapid.SampledFrom(append([]string{Wildcard}, testTypes...)).Draw(t, "dtype"): crud.Draw(t, "d")}
		}
		b.Groups = append(b.Groups, g)
	}
	nCats := rapid.IntRange(0, 3).Draw(t, "cats")
	for i := 1; i <= nCats; i++ {
		c := Category{ID: CategoryID(i), Name: fmt.Sprintf("c%d", i), MembersOnly: rapid.Bool().Draw(t, "mo")}
		if rapid.Bool().Draw(t, "cg") {
			c.Groups = []GroupID{GroupID(rapid.IntRange(1, nGroups).Draw(t, "g"))}
		}
		if rapid.Bool().Draw(t, "cr") {
			c.Roles = []RoleID{RoleID(rapid.IntRange(1, nRoles).Draw(t, "r"))}
		}
		b.Categories = append(b.Categories, c)
	}
	types := []AssociateType{Internal, Internal, Internal, External, System, Resource, Anonymous}
	nAssoc := rapid.IntRange(1, 8).Draw(t, "assocs")
	for i := 1; i <= nAssoc; i++ {
		a := Associate{ID: AssociateID(i), Name: fmt.Sprintf("a%d", i), Type: rapid.SampledFrom(types).Draw(t, "type"),
			Role: RoleID(rapid.IntRange(1, nRoles).Draw(t, "role")), Active: rapid.IntRange(0, 5).Draw(t, "active") > 0,
			Company: int64(rapid.IntRange(0, 2).Draw(t, "company"))}
		if a.Type == Internal {
			a.PrimaryGroup = GroupID(rapid.IntRange(1, nGroups).Draw(t, "pg"))
			if rapid.Bool().Draw(t, "sec") {
				a.Groups = []GroupID{GroupID(rapid.IntRange(1, nGroups).Draw(t, "sg"))}
			}
			if rapid.Bool().Draw(t, "sales") {
				a.Attributes = map[string]string{"dept": "sales"}
			}
			if nCats > 0 && rapid.Bool().Draw(t, "cs") {
				a.ServiceLogin = int64(i)
				if rapid.Bool().Draw(t, "dc") {
					a.Categories = []CategoryID{CategoryID(rapid.IntRange(1, nCats).Draw(t, "c"))}
				}
			}
		}
		if rapid.Bool().Draw(t, "proj") {
			a.Projects = []int64{int64(rapid.IntRange(1, 2).Draw(t, "p"))}
		}
		if rapid.IntRange(0, 6).Draw(t, "window") == 0 {
			a.ValidTo = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		b.Associates = append(b.Associates, a)
	}
	principals := func(t *rapid.T) Principals {
		var p Principals
		switch rapid.IntRange(0, 4).Draw(t, "pkind") {
		case 0:
			p.Everyone = true
		case 1:
			p.Associates = []AssociateID{AssociateID(rapid.IntRange(1, nAssoc+1).Draw(t, "a"))}
		case 2:
			p.Groups = []GroupID{GroupID(rapid.IntRange(1, nGroups).Draw(t, "g"))}
		case 3:
			p.Roles = []RoleID{RoleID(rapid.IntRange(1, nRoles).Draw(t, "r"))}
		case 4:
			p.RolesAndSubordinates = []RoleID{RoleID(rapid.IntRange(1, nRoles).Draw(t, "r"))}
		}
		return p
	}
	for i := 1; i <= rapid.IntRange(0, 3).Draw(t, "rules"); i++ {
		b.SharingRules = append(b.SharingRules, SharingRule{ID: RuleID(i), EntityType: rapid.SampledFrom(append([]string{Wildcard}, testTypes...)).Draw(t, "rtype"),
			From: principals(t), To: principals(t), Rights: crud.Draw(t, "rr") | R})
	}
	for i := 1; i <= rapid.IntRange(0, 4).Draw(t, "grants"); i++ {
		g := Grant{ID: GrantID(i), EntityType: rapid.SampledFrom(append([]string{Wildcard}, testTypes...)).Draw(t, "gtype"), Rights: crud.Draw(t, "gr")}
		if g.EntityType != Wildcard && rapid.Bool().Draw(t, "onrec") {
			g.RecordID = int64(rapid.IntRange(1, 4).Draw(t, "rec"))
		}
		if rapid.Bool().Draw(t, "togroup") {
			g.Group = GroupID(rapid.IntRange(1, nGroups).Draw(t, "g"))
		} else {
			g.Associate = AssociateID(rapid.IntRange(1, nAssoc).Draw(t, "a"))
		}
		b.Grants = append(b.Grants, g)
	}
	levels := []CRUD{LevelNone, LevelRead, LevelCreate, LevelUpdate, LevelFull}
	for i := 1; i <= rapid.IntRange(0, 3).Draw(t, "limits"); i++ {
		l := Limit{ID: LimitID(i), EntityType: rapid.SampledFrom(append([]string{Wildcard}, testTypes...)).Draw(t, "ltype"),
			Max: rapid.SampledFrom(levels).Draw(t, "lmax"), Scope: LimitScope(rapid.IntRange(0, 1).Draw(t, "lscope"))}
		if l.EntityType != Wildcard && rapid.Bool().Draw(t, "lonrec") {
			l.RecordID = int64(rapid.IntRange(1, 4).Draw(t, "lrec"))
		}
		if rapid.Bool().Draw(t, "lgroup") {
			l.Group = GroupID(rapid.IntRange(1, nGroups).Draw(t, "g"))
		}
		b.Limits = append(b.Limits, l)
	}
	// Licences: some types need one, some associates hold one, valid now
	// (2026), expired or not yet valid, so Filter meets the licence gate.
	for i := 1; i <= rapid.IntRange(0, 2).Draw(t, "licences"); i++ {
		l := Licence{ID: LicenceID(i), Name: fmt.Sprintf("l%d", i)}
		for _, typ := range []AssociateType{Internal, External, System, Anonymous} {
			if rapid.Bool().Draw(t, "lfor") {
				l.For = append(l.For, typ)
			}
		}
		switch rapid.IntRange(0, 3).Draw(t, "lwindow") {
		case 0:
			l.ValidTo = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		case 1:
			l.ValidFrom = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		case 2:
			l.ValidFrom = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		b.Licences = append(b.Licences, l)
		for k := range b.Associates {
			if rapid.Bool().Draw(t, "holds") {
				b.Associates[k].Licences = append(b.Associates[k].Licences, l.ID)
			}
		}
	}
	// The id after the last associate, which records may name as owner,
	// is sometimes a past owner; its role or group may be gone.
	if rapid.Bool().Draw(t, "past owner") {
		b.PastOwners = []PastOwner{{ID: AssociateID(nAssoc + 1), Name: "gone", Type: Internal,
			Role:         RoleID(rapid.IntRange(1, nRoles+1).Draw(t, "past role")),
			PrimaryGroup: GroupID(rapid.IntRange(0, nGroups+1).Draw(t, "past group"))}}
	}
	return b
}

func genRecord(t *rapid.T, b *Batch) Record {
	n := func(max int) int { return rapid.IntRange(0, max).Draw(t, "n") }
	return Record{
		Type:       rapid.SampledFrom(testTypes).Draw(t, "type"),
		ID:         int64(n(5)),
		Owner:      AssociateID(n(len(b.Associates) + 1)),
		Group:      GroupID(n(len(b.Groups) + 1)),
		Team:       GroupID(rapid.SampledFrom([]int{0, 0, 1, 2, len(b.Groups) + 1}).Draw(t, "team")),
		Company:    int64(n(2)),
		Project:    int64(n(2)),
		Category:   CategoryID(n(len(b.Categories) + 1)),
		Published:  rapid.Bool().Draw(t, "pub"),
		Visibility: Visibility(rapid.SampledFrom([]int{0, 0, 1, 2, 3}).Draw(t, "vis")),
	}
}

// TestFilter_matchesCan checks the filter's contract: for every record,
// Match equals Can's Allowed — every subject kind, every action.
func TestFilter_matchesCan(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := genOrg(t)
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		e, err := NewResolver(context.Background(), &staticStore{b}, &Options{Now: func() time.Time { return now }, PollInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		recs := make([]Record, 20)
		for i := range recs {
			recs[i] = genRecord(t, &b)
		}
		for who := AssociateID(1); who <= AssociateID(len(b.Associates)+1); who++ {
			for act := Read; act <= Delete; act++ {
				for _, typ := range testTypes {
					f, err := e.Filter(context.Background(), who, act, typ)
					if err != nil {
						t.Fatal(err)
					}
					for _, rec := range recs {
						if rec.Type != typ {
							if f.Match(rec) {
								t.Fatalf("a %s filter matched a %s record", typ, rec.Type)
							}
							continue
						}
						d, _ := e.Can(context.Background(), who, act, rec)
						if got := f.Match(rec); got != d.Allowed {
							var parts []bool
							if f.root.op == condAnd {
								for _, k := range f.root.kids {
									parts = append(parts, k.match(&rec))
								}
							}
							t.Fatalf("subject %d %s %+v: Filter.Match = %v, Can = %v\nfilter: %s\nparts %v\ndecision: %s", who, act, rec, got, d.Allowed, f.String(), parts, d)
						}
					}
				}
			}
		}
	})
}

// TestWhoCan_matchesCan checks that WhoCan lists exactly the associates Can
// allows, and that Permissions adds up to Can's rights on records without
// restrictions.
func TestWhoCan_matchesCan(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := genOrg(t)
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		e, err := NewResolver(context.Background(), &staticStore{b}, &Options{Now: func() time.Time { return now }, PollInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for range 10 {
			rec := genRecord(t, &b)
			rec.Visibility = VisibleAll
			for act := Read; act <= Delete; act++ {
				who, err := e.WhoCan(ctx, act, rec)
				if err != nil {
					t.Fatal(err)
				}
				got := map[AssociateID]Allowed{}
				for _, w := range who {
					got[w.Associate] = w
					if w.Because.Kind == 0 {
						t.Fatalf("WhoCan gave associate %d no cause", w.Associate)
					}
				}
				for id := AssociateID(1); id <= AssociateID(len(b.Associates)); id++ {
					d, _ := e.Can(ctx, id, act, rec)
					w, listed := got[id]
					if d.Allowed != listed {
						t.Fatalf("associate %d %s %+v: WhoCan %v, Can %v (%s)", id, act, rec, listed, d.Allowed, d)
					}
					if !listed {
						continue
					}
					// The answer carries what Can says, with the same names
					// and words.
					if w.Name != b.Associates[id-1].Name || w.Rights != d.Rights || w.Relations != d.Relations {
						t.Fatalf("associate %d: WhoCan %+v, Can %s", id, w, d)
					}
					if !slices.Contains(d.Causes(), w.Because) {
						t.Fatalf("associate %d: WhoCan's cause %+v is not among Can's %+v", id, w.Because, d.Causes())
					}
					if !strings.Contains(d.String()+";", "; "+w.Text+";") {
						t.Fatalf("associate %d: WhoCan's text %q is not part of %q", id, w.Text, d)
					}
				}
			}
			// Permissions: on a record without restrictions, Can's rights are the
			// role cells of the held relations plus what the matrix says the
			// rules, grants and defaults add for this record.
			if rec.Category != 0 || rec.Visibility != VisibleAll {
				continue
			}
			for id := AssociateID(1); id <= AssociateID(len(b.Associates)); id++ {
				d, _ := e.Can(ctx, id, Read, rec)
				p, err := e.Permissions(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if p.Gate != d.Gate {
					t.Fatalf("associate %d: Permissions gate %v, Can gate %v", id, p.Gate, d.Gate)
				}
				if p.Gate != GateNone || p.System {
					continue
				}
				var want, opened CRUD
				var limits []Limit
				snap := e.snap.Load()
				for _, tp := range p.Types {
					if tp.EntityType != rec.Type && !(tp.EntityType == Wildcard && !slices.ContainsFunc(p.Types, func(x TypePermissions) bool { return x.EntityType == rec.Type })) {
						continue
					}
					for _, r := range d.Relations.All() {
						want |= tp.Relations[r]
					}
					// A confined (external) subject on a record outside its
					// company and projects keeps only what names it.
					outside := p.Confined && d.Relations == 0
					covered := false
					for _, g := range tp.Grants {
						if (g.RecordID == 0 || g.RecordID == rec.ID) && (!outside || g.Associate == id) {
							covered = true
							opened |= g.Rights
						}
					}
					limits = append(limits, tp.Limits...)
					if !covered && !outside {
						want |= tp.Default
					}
					for _, r := range tp.Sharing {
						from := snap.compileSet(&r.From)
						if snap.ownedBy(&from, &rec) && (!outside || slices.Contains(r.To.Associates, id)) {
							opened |= r.Rights
						}
					}
				}
				// The limits on the record cap the cells and defaults on
				// unrelated records (LimitUnrelated), then the sum.
				keepAll := LevelFull
				for _, l := range limits {
					if l.RecordID != 0 && l.RecordID != rec.ID {
						continue
					}
					if l.Scope == LimitUnrelated {
						if d.Relations&relatedRelations == 0 {
							want &= l.Max
						}
						continue
					}
					keepAll &= l.Max
				}
				want = (want | opened) & keepAll
				if b.Associates[id-1].Type == External && !rec.Published && rec.Owner != id {
					want = 0
				}
				if want != d.Rights {
					t.Fatalf("associate %d %+v: Permissions add up to %s, Can has %s\n%+v\n%s", id, rec, want, d.Rights, p, d)
				}
			}
		}
	})
}

// TestFilterSQL_sqliteQuotedNames checks that quoted column names reach
// SQLite as backquoted identifiers, which SQLite never reads as strings.
func TestFilterSQL_sqliteQuotedNames(t *testing.T) {
	f := Filter{Type: "contact", root: eq(colOwner, 11)}
	where, args, err := f.SQL(SQLite, Columns{Owner: `c."Owner"`}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := "c.`Owner` = ?"; where != want || len(args) != 1 {
		t.Errorf("SQLite fragment = %q %v, want %q with one argument", where, args, want)
	}
	where, _, err = f.SQL(PostgreSQL, Columns{Owner: `c."Owner"`}, 1)
	if err != nil || where != `c."Owner" = $1` {
		t.Errorf("PostgreSQL fragment = %q, %v; want the quotes kept", where, err)
	}
	if where, _, err := f.SQL(SQLite, Columns{Owner: "\"a`b\""}, 1); err != nil || where != "`a``b` = ?" {
		t.Errorf("a quoted name holding a backquote: %q, %v; want the backquote doubled", where, err)
	}
}
