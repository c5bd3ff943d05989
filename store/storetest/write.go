package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/crmaccess/access"
)

// testRoundTrip checks that what is put is what comes back, through
// Changes and through the View getters.
func testRoundTrip(t *testing.T, newStore func(*testing.T) Store) {
	ctx := context.Background()
	s := newStore(t)
	b := fixture()
	rev := mustApply(t, s, b)
	if rev != 1 {
		t.Errorf("first Apply returned revision %d, want 1", rev)
	}
	want := model{}.apply(b)
	checkModel(t, s, rev, want)

	checkGets(t, "Role", b.Roles, func(r access.Role) access.RoleID { return r.ID }, func(id access.RoleID) (access.Role, error) { return s.Role(ctx, id) })
	checkGets(t, "Group", b.Groups, func(g access.Group) access.GroupID { return g.ID }, func(id access.GroupID) (access.Group, error) { return s.Group(ctx, id) })
	checkGets(t, "Associate", b.Associates, func(a access.Associate) access.AssociateID { return a.ID }, func(id access.AssociateID) (access.Associate, error) { return s.Associate(ctx, id) })
	checkGets(t, "Category", b.Categories, func(c access.Category) access.CategoryID { return c.ID }, func(id access.CategoryID) (access.Category, error) { return s.Category(ctx, id) })
	checkGets(t, "Licence", b.Licences, func(l access.Licence) access.LicenceID { return l.ID }, func(id access.LicenceID) (access.Licence, error) { return s.Licence(ctx, id) })
}

// testCopies checks that the store shares no memory with its callers:
// changing a value after putting it, or a value read back, changes nothing
// stored.
func testCopies(t *testing.T, newStore func(*testing.T) Store) {
	ctx := context.Background()
	s := newStore(t)
	b := fixture()
	rev := mustApply(t, s, b)
	want := model{}.apply(fixture())

	t.Run("put", func(t *testing.T) {
		scribble(&b)
		checkModel(t, s, rev, want)
	})
	t.Run("Changes", func(t *testing.T) {
		d := mustChanges(t, s, 0)
		scribble(&d.Batch)
		checkModel(t, s, rev, want)
	})
	t.Run("getters", func(t *testing.T) {
		// Read, scribble, read again: the second read must match the
		// fixture.
		for range 2 {
			r, err1 := s.Role(ctx, 1)
			g, err2 := s.Group(ctx, 10)
			a, err3 := s.Associate(ctx, 100)
			n, err4 := s.AssociateByName(ctx, "anna")
			c, err5 := s.Category(ctx, 500)
			if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
				t.Fatal(err)
			}
			scribble(&access.Batch{Roles: []access.Role{r}, Groups: []access.Group{g},
				Associates: []access.Associate{a, n}, Categories: []access.Category{c}})
		}
		checkModel(t, s, rev, want)
	})
	t.Run("Changes since", func(t *testing.T) {
		a := fixtureAssociate(100)
		a.Attributes["city"] = "Bergen"
		rev := mustApply(t, s, access.Batch{Associates: []access.Associate{a}})
		want := want.apply(access.Batch{Associates: []access.Associate{a}})
		scribble(&access.Batch{Associates: []access.Associate{a}})
		d := mustChanges(t, s, rev-1)
		scribble(&d.Batch)
		checkModel(t, s, rev, want)
	})
}

// scribble changes every slice element and map entry in b in place,
// without replacing any slice or map.
func scribble(b *access.Batch) {
	ids := func(s []int64) {
		for i := range s {
			s[i] += 1000
		}
	}
	strs := func(s []string) {
		for i := range s {
			s[i] += "!"
		}
	}
	kv := func(m map[string]string) {
		for k := range m {
			m[k] += "!"
		}
		if m != nil {
			m["scribbled"] = "yes"
		}
	}
	principals := func(p *access.Principals) {
		for i := range p.Associates {
			p.Associates[i] += 1000
		}
		for i := range p.Groups {
			p.Groups[i] += 1000
		}
		for i := range p.Roles {
			p.Roles[i] += 1000
		}
		for i := range p.RolesAndSubordinates {
			p.RolesAndSubordinates[i] += 1000
		}
	}
	for _, r := range b.Roles {
		for _, g := range r.Rights {
			for rel := range g {
				g[rel] = 0
			}
			g[access.Unowned] = access.LevelFull
		}
		if r.Rights != nil {
			r.Rights["scribbled"] = access.Grid{}
		}
		strs(r.Functions)
	}
	for _, g := range b.Groups {
		for i := range g.Groups {
			g.Groups[i] += 1000
		}
		for i := range g.Roles {
			g.Roles[i] += 1000
		}
		for i := range g.RolesAndSubordinates {
			g.RolesAndSubordinates[i] += 1000
		}
		for i := range g.Admins {
			g.Admins[i] += 1000
		}
		strs(g.Functions)
		for k := range g.Defaults {
			g.Defaults[k] = access.LevelFull
		}
		kv(g.Fields)
	}
	for _, a := range b.Associates {
		for i := range a.Groups {
			a.Groups[i] += 1000
		}
		ids(a.Projects)
		kv(a.Attributes)
		for i := range a.Categories {
			a.Categories[i] += 1000
		}
		for i := range a.Licences {
			a.Licences[i] += 1000
		}
	}
	for _, l := range b.Licences {
		for i := range l.For {
			l.For[i] = access.Resource
		}
	}
	for i := range b.SharingRules {
		principals(&b.SharingRules[i].From)
		principals(&b.SharingRules[i].To)
	}
	for _, c := range b.Categories {
		for i := range c.Groups {
			c.Groups[i] += 1000
		}
		for i := range c.Roles {
			c.Roles[i] += 1000
		}
	}
}

// testView checks the View methods the validator relies on, beyond plain
// lookups: not-found errors, lookup by folded name, and dependants.
func testView(t *testing.T, newStore func(*testing.T) Store) {
	ctx := context.Background()
	s := newStore(t)
	mustApply(t, s, fixture())

	t.Run("not found", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			call func() error
		}{
			{"Role", func() error { _, err := s.Role(ctx, 999); return err }},
			{"Group", func() error { _, err := s.Group(ctx, 999); return err }},
			{"Associate", func() error { _, err := s.Associate(ctx, 999); return err }},
			{"Category", func() error { _, err := s.Category(ctx, 999); return err }},
			{"AssociateByName", func() error { _, err := s.AssociateByName(ctx, "nobody"); return err }},
			{"AssociateByName empty", func() error { _, err := s.AssociateByName(ctx, ""); return err }},
		} {
			t.Run(tc.name, func(t *testing.T) { checkErr(t, tc.call(), access.ErrNotFound) })
		}
	})

	t.Run("AssociateByName", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			want access.AssociateID
		}{
			{"anna", 100},
			{"ANNA", 100},
			{"Anna", 100},
			{"bob", 101},
			{"ÅSA", 105},
			{"åsa", 105},
			{"Åsa", 105},
			{"MEETING ROOM", 102},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a, err := s.AssociateByName(ctx, tc.name)
				if err != nil {
					t.Fatal(err)
				}
				if a.ID != tc.want {
					t.Errorf("AssociateByName(%q).ID = %d, want %d", tc.name, a.ID, tc.want)
				}
				if diff := gocmp.Diff(fixtureAssociate(tc.want), a, opts); diff != "" {
					t.Errorf("AssociateByName(%q) (-want +got):\n%s", tc.name, diff)
				}
			})
		}
	})

	t.Run("Dependants", func(t *testing.T) {
		role := func(id int64) access.Ref { return access.Ref{Kind: access.KindRole, ID: id} }
		group := func(id int64) access.Ref { return access.Ref{Kind: access.KindGroup, ID: id} }
		assoc := func(id int64) access.Ref { return access.Ref{Kind: access.KindAssociate, ID: id} }
		rule := func(id int64) access.Ref { return access.Ref{Kind: access.KindSharingRule, ID: id} }
		grant := func(id int64) access.Ref { return access.Ref{Kind: access.KindGrant, ID: id} }
		cat := func(id int64) access.Ref { return access.Ref{Kind: access.KindCategory, ID: id} }
		imp := func(id int64) access.Ref { return access.Ref{Kind: access.KindImpersonation, ID: id} }
		lim := func(id int64) access.Ref { return access.Ref{Kind: access.KindLimit, ID: id} }
		for _, tc := range []struct {
			name string
			of   access.Ref
			want []access.Ref
		}{
			{"top role", role(1), []access.Ref{role(2), role(4), assoc(104), rule(601)}},
			{"role with child, group and holder", role(2), []access.Ref{role(3), group(20), assoc(100)}},
			{"role held three times", role(3), []access.Ref{assoc(103), assoc(105), assoc(106)}},
			{"role listed by a category", role(4), []access.Ref{group(30), assoc(101), cat(500)}},
			{"group as primary and nested", group(20), []access.Ref{group(10), assoc(100), assoc(105), rule(600), imp(801)}},
			{"group named everywhere", group(30), []access.Ref{group(10), assoc(100), assoc(101), rule(600), grant(701), cat(500), imp(801), lim(900)}},
			{"top group", group(10), nil},
			{"smart group as secondary", group(40), []access.Ref{assoc(100)}},
			{"associate as admin, grantee and actor", assoc(101), []access.Ref{group(20), grant(700), imp(800)}},
			{"associate in a sharing rule", assoc(103), []access.Ref{rule(600)}},
			{"associate impersonated", assoc(100), []access.Ref{imp(800)}},
			{"associate nobody names", assoc(102), nil},
			{"category", cat(500), []access.Ref{assoc(100), cat(501)}},
			{"unknown role", role(999), nil},
			{"unknown group", group(999), nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.Dependants(ctx, tc.of)
				if err != nil {
					t.Fatalf("Dependants(%s): %v", tc.of, err)
				}
				got = slices.SortedFunc(slices.Values(got), compareRefs)
				if diff := gocmp.Diff(tc.want, got, opts); diff != "" {
					t.Errorf("Dependants(%s) (-want +got):\n%s", tc.of, diff)
				}
			})
		}
	})
}

// rejectCase is a write the store must refuse, leaving everything as it
// was.
type rejectCase struct {
	name string
	// setup is applied on top of the fixture first, and must succeed.
	setup access.Batch
	batch access.Batch
	want  error
	// cycle, when set, is the CycleError the write must fail with.
	cycle *access.CycleError
	// mention lists strings the error message must contain, such as the
	// dependants that block a delete.
	mention []string
	// lacks lists strings the error message must not contain, such as a
	// wrong plural.
	lacks []string
}

// rejectCases lists the batches every store must reject, each with the
// sentinel its error wraps and the words its message names, so that the
// stores agree on the error as well as on the refusal.
func rejectCases() []rejectCase {
	putR := func(r ...access.Role) access.Batch { return access.Batch{Roles: r} }
	putG := func(g ...access.Group) access.Batch { return access.Batch{Groups: g} }
	putA := func(a ...access.Associate) access.Batch { return access.Batch{Associates: a} }
	putC := func(c ...access.Category) access.Batch { return access.Batch{Categories: c} }
	withA := func(id access.AssociateID, f func(a *access.Associate)) access.Associate {
		a := fixtureAssociate(id)
		f(&a)
		return a
	}
	withG := func(id access.GroupID, f func(g *access.Group)) access.Group {
		g := fixtureGroup(id)
		f(&g)
		return g
	}
	newA := func(f func(a *access.Associate)) access.Associate {
		a := internal(200, "carl", 20, 2)
		f(&a)
		return a
	}
	rights := func(g access.Grid) map[string]access.Grid { return map[string]access.Grid{"contact": g} }
	// dependants sets up entities that depend on groups 60–62 and 66 and
	// on roles 70 and 72–74, one way each.
	dependants := access.Batch{
		Roles: []access.Role{
			{ID: 70, Name: "parent"}, {ID: 71, Name: "child", Parent: 70},
			{ID: 72, Name: "listed"}, {ID: 73, Name: "listed with subordinates"}, {ID: 74, Name: "held"},
		},
		Groups: []access.Group{
			{ID: 60, Name: "primary"}, {ID: 61, Name: "secondary"}, {ID: 62, Name: "nested"},
			{ID: 63, Name: "nests 62", Groups: []access.GroupID{62}},
			{ID: 64, Name: "lists role 72", Roles: []access.RoleID{72}},
			{ID: 65, Name: "lists role 73", RolesAndSubordinates: []access.RoleID{73}},
			{ID: 66, Name: "granted"},
		},
		Associates: []access.Associate{
			internal(300, "in 60", 60, 2),
			{ID: 301, Name: "in 61", Type: access.Internal, PrimaryGroup: 20, Groups: []access.GroupID{61}, Role: 2},
			{ID: 302, Name: "holds 74", Type: access.External, Role: 74},
		},
		Grants: []access.Grant{{ID: 702, Group: 66, EntityType: "sale", Rights: access.R}},
	}
	// chain sets up groups 7, 9 and 12 with 9 listing 12 and 12 listing 7.
	chain := putG(access.Group{ID: 7, Name: "seven"},
		access.Group{ID: 12, Name: "twelve", Groups: []access.GroupID{7}},
		access.Group{ID: 9, Name: "nine", Groups: []access.GroupID{12}})

	return append([]rejectCase{
		// Ids.
		{name: "associate id zero", batch: putA(newA(func(a *access.Associate) { a.ID = 0 })), want: access.ErrInvalid},
		{name: "associate id negative", batch: putA(newA(func(a *access.Associate) { a.ID = -5 })), want: access.ErrInvalid},
		{name: "group id zero", batch: putG(access.Group{Name: "zero"}), want: access.ErrInvalid},
		{name: "role id negative", batch: putR(access.Role{ID: -1, Name: "neg"}), want: access.ErrInvalid},
		{name: "category id zero", batch: putC(access.Category{Name: "zero"}), want: access.ErrInvalid},
		{name: "member group id negative", batch: putG(access.Group{ID: 50, Name: "x", Groups: []access.GroupID{-1}}), want: access.ErrInvalid},
		{name: "secondary group id zero", batch: putA(newA(func(a *access.Associate) { a.Groups = []access.GroupID{0} })), want: access.ErrInvalid},
		{name: "delete id zero", batch: access.Batch{DeleteGroups: []access.GroupID{0}}, want: access.ErrInvalid},
		{name: "delete id negative", batch: access.Batch{DeleteAssociates: []access.AssociateID{-100}}, want: access.ErrInvalid},

		// Names and values.
		{name: "associate without name", batch: putA(newA(func(a *access.Associate) { a.Name = "" })), want: access.ErrInvalid},
		{name: "group without name", batch: putG(access.Group{ID: 50}), want: access.ErrInvalid},
		{name: "role without name", batch: putR(access.Role{ID: 5}), want: access.ErrInvalid},
		{name: "category without name", batch: putC(access.Category{ID: 502}), want: access.ErrInvalid},
		{name: "empty validity window", batch: putA(newA(func(a *access.Associate) { a.ValidFrom, a.ValidTo = t0, t0 })), want: access.ErrInvalid},
		{name: "backwards validity window", batch: putA(newA(func(a *access.Associate) { a.ValidFrom, a.ValidTo = t0, t0.AddDate(0, 0, -1) })), want: access.ErrInvalid},
		{name: "rights for an unknown relation", batch: putR(access.Role{ID: 5, Name: "r", Rights: rights(access.Grid{access.Relation(99): access.R})}), want: access.ErrInvalid},
		{name: "rights beyond CRUD", batch: putR(access.Role{ID: 5, Name: "r", Rights: rights(access.Grid{access.Owner: access.CRUD(0x10)})}), want: access.ErrInvalid},
		{name: "update without read", batch: putR(access.Role{ID: 5, Name: "r", Rights: rights(access.Grid{access.Owner: access.U})}), want: access.ErrInvalid},
		{name: "rights for an empty entity type", batch: putR(access.Role{ID: 5, Name: "r", Rights: map[string]access.Grid{"": {access.Owner: access.R}}}), want: access.ErrInvalid},
		{name: "empty functional right", batch: putR(access.Role{ID: 5, Name: "r", Functions: []string{" "}}), want: access.ErrInvalid},

		// Associate types.
		{name: "unknown associate type", batch: putA(newA(func(a *access.Associate) { a.Type = 2 })), want: access.ErrInvalid},
		{name: "external with a primary group", batch: putA(withA(103, func(a *access.Associate) { a.PrimaryGroup = 20 })), want: access.ErrInvalid},
		{name: "system with a secondary group", batch: putA(withA(104, func(a *access.Associate) { a.Groups = []access.GroupID{30} })), want: access.ErrInvalid},
		{name: "anonymous with groups", batch: putA(withA(106, func(a *access.Associate) { a.PrimaryGroup, a.Groups = 20, []access.GroupID{30} })), want: access.ErrInvalid},
		{name: "resource with a primary group", batch: putA(withA(102, func(a *access.Associate) { a.PrimaryGroup = 30 })), want: access.ErrInvalid},
		{name: "internal without a primary group", batch: putA(newA(func(a *access.Associate) { a.PrimaryGroup = 0 })), want: access.ErrInvalid},
		{name: "internal without a role", batch: putA(newA(func(a *access.Associate) { a.Role = 0 })), want: access.ErrInvalid},
		{name: "external without a role", batch: putA(withA(103, func(a *access.Associate) { a.Role = 0 })), want: access.ErrInvalid},
		{name: "system without a role", batch: putA(withA(104, func(a *access.Associate) { a.Role = 0 })), want: access.ErrInvalid},
		{name: "categories without a service login", batch: putA(withA(100, func(a *access.Associate) { a.ServiceLogin = 0 })), want: access.ErrInvalid},

		// References.
		{name: "unknown primary group", batch: putA(newA(func(a *access.Associate) { a.PrimaryGroup = 999 })), want: access.ErrInvalid, mention: []string{"999"}},
		{name: "unknown secondary group", batch: putA(newA(func(a *access.Associate) { a.Groups = []access.GroupID{30, 999} })), want: access.ErrInvalid, mention: []string{"999"}},
		{name: "unknown role of an associate", batch: putA(newA(func(a *access.Associate) { a.Role = 999 })), want: access.ErrInvalid, mention: []string{"999"}},
		{name: "unknown role of a resource", batch: putA(withA(102, func(a *access.Associate) { a.Role = 999 })), want: access.ErrInvalid},
		{name: "unknown category of an associate", batch: putA(withA(100, func(a *access.Associate) { a.Categories = []access.CategoryID{999} })), want: access.ErrInvalid},
		{name: "group lists an unknown group", batch: putG(access.Group{ID: 50, Name: "x", Groups: []access.GroupID{20, 999}}), want: access.ErrInvalid, mention: []string{"999"}},
		{name: "group lists an unknown role", batch: putG(access.Group{ID: 50, Name: "x", Roles: []access.RoleID{999}}), want: access.ErrInvalid},
		{name: "group lists an unknown role with subordinates", batch: putG(access.Group{ID: 50, Name: "x", RolesAndSubordinates: []access.RoleID{999}}), want: access.ErrInvalid},
		{name: "group lists an unknown admin", batch: putG(access.Group{ID: 50, Name: "x", Admins: []access.AssociateID{999}}), want: access.ErrInvalid},
		{name: "role parent missing", batch: putR(access.Role{ID: 5, Name: "orphan", Parent: 999}), want: access.ErrInvalid, mention: []string{"999"}},
		{name: "category parent missing", batch: putC(access.Category{ID: 502, Name: "orphan", Parent: 999}), want: access.ErrInvalid},
		{name: "category lists an unknown group", batch: putC(access.Category{ID: 502, Name: "x", Groups: []access.GroupID{999}}), want: access.ErrInvalid},
		{name: "sharing rule names an unknown role", batch: access.Batch{SharingRules: []access.SharingRule{{ID: 602, EntityType: "sale", Rights: access.R,
			From: access.Principals{Everyone: true}, To: access.Principals{Roles: []access.RoleID{999}}}}}, want: access.ErrInvalid},
		{name: "sharing rule to nobody", batch: access.Batch{SharingRules: []access.SharingRule{{ID: 602, EntityType: "sale", Rights: access.R,
			From: access.Principals{Everyone: true}}}}, want: access.ErrInvalid},
		{name: "grant to an unknown group", batch: access.Batch{Grants: []access.Grant{{ID: 702, Group: 999, EntityType: "sale", Rights: access.R}}}, want: access.ErrInvalid},
		{name: "grant to an associate and a group", batch: access.Batch{Grants: []access.Grant{{ID: 702, Associate: 100, Group: 20, EntityType: "sale", Rights: access.R}}}, want: access.ErrInvalid},
		{name: "limit on an unknown group", batch: access.Batch{Limits: []access.Limit{{ID: 902, Group: 999, EntityType: "sale", Max: access.LevelRead}}}, want: access.ErrInvalid, mention: []string{"limit 902", "999"}},
		{name: "limit keeping a level that is not accumulative", batch: access.Batch{Limits: []access.Limit{{ID: 902, EntityType: "sale", Max: access.C}}}, want: access.ErrInvalid, mention: []string{"limit 902", "accumulative"}},
		{name: "limit with a negative group", batch: access.Batch{Limits: []access.Limit{{ID: 902, Group: -3, EntityType: "sale", Max: access.LevelRead}}}, want: access.ErrInvalid, mention: []string{"limit 902", "-3"}},
		{name: "limit with a negative id", batch: access.Batch{Limits: []access.Limit{{ID: -902, EntityType: "sale", Max: access.LevelRead}}}, want: access.ErrInvalid, mention: []string{"-902"}},
		{name: "limit on one record of every type", batch: access.Batch{Limits: []access.Limit{{ID: 902, EntityType: access.Wildcard, RecordID: 4, Max: access.LevelRead}}}, want: access.ErrInvalid, mention: []string{"limit 902", "entity type"}},
		{name: "limit with an undefined scope", batch: access.Batch{Limits: []access.Limit{{ID: 902, EntityType: "sale", Max: access.LevelRead, Scope: 7}}}, want: access.ErrInvalid, mention: []string{"limit 902", "scope"}},
		{name: "delete a group a limit names", batch: access.Batch{DeleteGroups: []access.GroupID{30}, Associates: []access.Associate{
			withA(100, func(a *access.Associate) { a.Groups = []access.GroupID{40} }), withA(101, func(a *access.Associate) { a.PrimaryGroup = 20 })},
			Groups:     []access.Group{withG(10, func(g *access.Group) { g.Groups = []access.GroupID{20} })},
			Categories: []access.Category{{ID: 500, Name: "Support cases", Roles: []access.RoleID{4}}}, DeleteGrants: []access.GrantID{701},
			SharingRules:   []access.SharingRule{{ID: 600, EntityType: "sale", Rights: access.R, From: access.Principals{Groups: []access.GroupID{20}}, To: access.Principals{Associates: []access.AssociateID{103}}}},
			Impersonations: []access.Impersonation{{ID: 801, Actor: access.Principal{Associate: 101}, Target: access.Principal{Group: 20}}}},
			want: access.ErrInUse, mention: []string{"limit 900"}},
		{name: "impersonating an unknown associate", batch: access.Batch{Impersonations: []access.Impersonation{{ID: 802,
			Actor: access.Principal{Associate: 101}, Target: access.Principal{Associate: 999}}}}, want: access.ErrInvalid},
		{name: "associate holds an unknown licence", batch: putA(withA(101, func(a *access.Associate) { a.Licences = []access.LicenceID{999} })), want: access.ErrInvalid, mention: []string{"licence 999"}},
		{name: "associate holds a licence twice", batch: putA(withA(101, func(a *access.Associate) { a.Licences = []access.LicenceID{902, 902} })), want: access.ErrInvalid},
		{name: "licence past its seats", batch: putA(withA(101, func(a *access.Associate) { a.Licences = []access.LicenceID{900} }),
			withA(105, func(a *access.Associate) { a.Licences = []access.LicenceID{900} })), want: access.ErrInvalid,
			mention: []string{"licence 900 (Sales Premier)", "3 holders exceed its 2 seats"}},
		{name: "licence seats below its holders", batch: access.Batch{Licences: []access.Licence{{ID: 901, Name: "Expander Collaboration", Seats: 1}}},
			want: access.ErrInvalid, mention: []string{"2 holders exceed its 1 seat"}, lacks: []string{"1 seats"}},
		{name: "licence with negative seats", batch: access.Batch{Licences: []access.Licence{{ID: 903, Name: "x", Seats: -1}}}, want: access.ErrInvalid},
		{name: "licence without a name", batch: access.Batch{Licences: []access.Licence{{ID: 903}}}, want: access.ErrInvalid},
		{name: "licence for an unknown type", batch: access.Batch{Licences: []access.Licence{{ID: 903, Name: "x", For: []access.AssociateType{3}}}}, want: access.ErrInvalid},
		{name: "licence with an empty window", batch: access.Batch{Licences: []access.Licence{{ID: 903, Name: "x",
			ValidFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ValidTo: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}}, want: access.ErrInvalid},
		{name: "impersonating a system user", batch: access.Batch{Impersonations: []access.Impersonation{{ID: 802,
			Actor: access.Principal{Associate: 101}, Target: access.Principal{Associate: 104}}}}, want: access.ErrInvalid},

		// Cycles.
		{name: "role is its own parent", batch: putR(access.Role{ID: 5, Name: "self", Parent: 5}), want: access.ErrCycle,
			cycle: &access.CycleError{Kind: access.KindRole, Path: []int64{5, 5}}},
		{name: "role tree cycle", batch: putR(access.Role{ID: 1, Name: "Chief", Parent: 3}), want: access.ErrCycle,
			cycle: &access.CycleError{Kind: access.KindRole, Path: []int64{1, 3, 2, 1}}},
		{name: "group nests itself", batch: putG(withG(10, func(g *access.Group) { g.Groups = append(g.Groups, 10) })), want: access.ErrCycle,
			cycle: &access.CycleError{Kind: access.KindGroup, Path: []int64{10, 10}}},
		{name: "group nests its parent", batch: putG(withG(20, func(g *access.Group) { g.Groups = []access.GroupID{10} })), want: access.ErrCycle,
			cycle: &access.CycleError{Kind: access.KindGroup, Path: []int64{20, 10, 20}}},
		{name: "group cycle of three", setup: chain, batch: putG(access.Group{ID: 7, Name: "seven", Groups: []access.GroupID{9}}), want: access.ErrCycle,
			cycle: &access.CycleError{Kind: access.KindGroup, Path: []int64{7, 9, 12, 7}}, mention: []string{"7→9→12→7"}},
		{name: "category is its own parent", batch: putC(access.Category{ID: 502, Name: "self", Parent: 502}), want: access.ErrCycle,
			cycle: &access.CycleError{Kind: access.KindCategory, Path: []int64{502, 502}}},
		{name: "category tree cycle", batch: putC(access.Category{ID: 500, Name: "Support cases", Parent: 501}), want: access.ErrCycle,
			cycle: &access.CycleError{Kind: access.KindCategory, Path: []int64{500, 501, 500}}},

		// Smart groups.
		{name: "smart group lists groups", batch: putG(access.Group{ID: 50, Name: "x", Smart: `name == "anna"`, Groups: []access.GroupID{20}}), want: access.ErrInvalid},
		{name: "smart group lists roles", batch: putG(access.Group{ID: 50, Name: "x", Smart: `name == "anna"`, Roles: []access.RoleID{2}}), want: access.ErrInvalid},
		{name: "smart group lists roles with subordinates", batch: putG(access.Group{ID: 50, Name: "x", Smart: `name == "anna"`, RolesAndSubordinates: []access.RoleID{2}}), want: access.ErrInvalid},
		{name: "smart group as a primary group", batch: putA(newA(func(a *access.Associate) { a.PrimaryGroup = 40 })), want: access.ErrInvalid, mention: []string{"smart"}},
		{name: "making a primary group smart", batch: putG(access.Group{ID: 20, Name: "Sales", Smart: `attr.dept == "sales"`}), want: access.ErrInvalid, mention: []string{"primary"}},
		{name: "invalid smart rule", batch: putG(access.Group{ID: 50, Name: "x", Smart: `dept ===`}), want: access.ErrInvalid},

		// Login names.
		{name: "name taken in another case", batch: putA(newA(func(a *access.Associate) { a.Name = "ANNA" })), want: access.ErrNameTaken, mention: []string{"100"}},
		{name: "non-ASCII name taken in another case", batch: putA(newA(func(a *access.Associate) { a.Name = "åsa" })), want: access.ErrNameTaken, mention: []string{"105"}},
		{name: "rename onto a taken name", batch: putA(withA(101, func(a *access.Associate) { a.Name = "Anna" })), want: access.ErrNameTaken},
		{name: "one name twice in a batch", batch: putA(internal(200, "carl", 20, 2), internal(201, "CARL", 20, 2)), want: access.ErrNameTaken},

		// One id twice.
		{name: "associate put twice", batch: putA(newA(func(*access.Associate) {}), withA(100, func(a *access.Associate) { a.ID = 200; a.Name = "other" })), want: access.ErrInvalid},
		{name: "group put and deleted", batch: access.Batch{Groups: []access.Group{{ID: 50, Name: "x"}}, DeleteGroups: []access.GroupID{50}}, want: access.ErrInvalid},
		{name: "role deleted twice", setup: putR(access.Role{ID: 5, Name: "spare"}), batch: access.Batch{DeleteRoles: []access.RoleID{5, 5}}, want: access.ErrInvalid},

		// Deletes of things in use.
		{name: "delete a primary group", setup: dependants, batch: access.Batch{DeleteGroups: []access.GroupID{60}}, want: access.ErrInUse, mention: []string{"associate 300"}},
		{name: "delete a secondary group", setup: dependants, batch: access.Batch{DeleteGroups: []access.GroupID{61}}, want: access.ErrInUse, mention: []string{"associate 301"}},
		{name: "delete a nested group", setup: dependants, batch: access.Batch{DeleteGroups: []access.GroupID{62}}, want: access.ErrInUse, mention: []string{"group 63"}},
		{name: "delete a granted group", setup: dependants, batch: access.Batch{DeleteGroups: []access.GroupID{66}}, want: access.ErrInUse, mention: []string{"grant 702"}},
		{name: "delete a group used every way", batch: access.Batch{DeleteGroups: []access.GroupID{30}}, want: access.ErrInUse,
			mention: []string{"group 10", "associate 100", "associate 101", "sharing rule 600", "grant 701", "category 500", "impersonation 801"}},
		{name: "delete a parent role", setup: dependants, batch: access.Batch{DeleteRoles: []access.RoleID{70}}, want: access.ErrInUse, mention: []string{"role 71"}},
		{name: "delete a role a group lists", setup: dependants, batch: access.Batch{DeleteRoles: []access.RoleID{72}}, want: access.ErrInUse, mention: []string{"group 64"}},
		{name: "delete a role a group lists with subordinates", setup: dependants, batch: access.Batch{DeleteRoles: []access.RoleID{73}}, want: access.ErrInUse, mention: []string{"group 65"}},
		{name: "delete a held licence", batch: access.Batch{DeleteLicences: []access.LicenceID{901}}, want: access.ErrInUse, mention: []string{"associate 100", "associate 104"}},
		{name: "delete a held role", setup: dependants, batch: access.Batch{DeleteRoles: []access.RoleID{74}}, want: access.ErrInUse, mention: []string{"associate 302"}},
		{name: "delete a group admin", batch: access.Batch{DeleteAssociates: []access.AssociateID{101}}, want: access.ErrInUse,
			mention: []string{"group 20", "grant 700", "impersonation 800"}},
		{name: "delete a category in use", batch: access.Batch{DeleteCategories: []access.CategoryID{500}}, want: access.ErrInUse,
			mention: []string{"category 501", "associate 100"}},
		{name: "delete a group and only some of its members", batch: access.Batch{
			DeleteGroups: []access.GroupID{20},
			Associates:   []access.Associate{withA(100, func(a *access.Associate) { a.PrimaryGroup = 30 })},
			Groups:       []access.Group{withG(10, func(g *access.Group) { g.Groups = []access.GroupID{30} })},
		}, want: access.ErrInUse, mention: []string{"associate 105"}},

		// One bad item spoils a batch of good ones.
		{name: "one bad item among good ones", batch: access.Batch{
			Roles:      []access.Role{{ID: 5, Name: "new role"}},
			Groups:     []access.Group{{ID: 50, Name: "new group"}},
			Associates: []access.Associate{internal(200, "carl", 50, 5), internal(201, "dora", 999, 5)},
		}, want: access.ErrInvalid, mention: []string{"999"}},
	}, domainRejectCases()...)
}

// testRejected checks every refused write: its error, and that it changed
// nothing, not even the revision.
func testRejected(t *testing.T, newStore func(*testing.T) Store) {
	for _, tc := range rejectCases() {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			m := model{}.apply(fixture())
			rev := mustApply(t, s, fixture())
			if !tc.setup.Empty() {
				rev = mustApply(t, s, tc.setup)
				m = m.apply(tc.setup)
			}

			got, err := s.Apply(context.Background(), tc.batch)
			if err == nil {
				t.Fatalf("Apply succeeded at revision %d, want an error wrapping %q", got, tc.want)
			}
			checkErr(t, err, tc.want, tc.mention...)
			for _, w := range tc.lacks {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error %q contains %q", err, w)
				}
			}
			// What Check refuses, every store refuses with Check's own
			// error: the same message everywhere, and no driver's.
			if cerr := tc.batch.Check(); cerr != nil && err.Error() != cerr.Error() {
				t.Errorf("error = %q, want Check's %q", err, cerr)
			}
			if tc.cycle != nil {
				var ce *access.CycleError
				if !errors.As(err, &ce) {
					t.Errorf("error %q is not a *CycleError", err)
				} else if diff := gocmp.Diff(tc.cycle, ce); diff != "" {
					t.Errorf("cycle (-want +got):\n%s", diff)
				}
			}

			checkModel(t, s, rev, m)
			checkNames(t, s, m, fixture(), tc.batch)
			checkDependants(t, s, m, tc.batch)
			// The failed write used up no revision.
			next := mustApply(t, s, access.Batch{Roles: []access.Role{{ID: 999, Name: "after"}}})
			if next != rev+1 {
				t.Errorf("the write after the failed one committed revision %d, want %d", next, rev+1)
			}
		})
	}
}

// testAccepted checks writes that look risky but are valid, mostly batches
// that are valid only as a whole.
func testAccepted(t *testing.T, newStore func(*testing.T) Store) {
	withA := func(id access.AssociateID, f func(a *access.Associate)) access.Associate {
		a := fixtureAssociate(id)
		f(&a)
		return a
	}
	withG := func(id access.GroupID, f func(g *access.Group)) access.Group {
		g := fixtureGroup(id)
		f(&g)
		return g
	}
	for _, tc := range []struct {
		name  string
		batch access.Batch
	}{
		{"a group and the associates that name it", access.Batch{
			Groups: []access.Group{{ID: 50, Name: "New team"}},
			Associates: []access.Associate{
				internal(200, "carl", 50, 2),
				{ID: 201, Name: "dora", Type: access.Internal, PrimaryGroup: 20, Groups: []access.GroupID{50}, Role: 3},
			},
		}},
		{"a role, a group listing it and its holder", access.Batch{
			Roles:      []access.Role{{ID: 5, Name: "Trainee", Parent: 3}},
			Groups:     []access.Group{{ID: 50, Name: "Trainees", Roles: []access.RoleID{5}, Groups: []access.GroupID{20}}},
			Associates: []access.Associate{internal(200, "carl", 50, 5)},
		}},
		{"delete a group and move its members", access.Batch{
			DeleteGroups: []access.GroupID{30},
			Associates: []access.Associate{
				withA(100, func(a *access.Associate) { a.Groups = []access.GroupID{40} }),
				withA(101, func(a *access.Associate) { a.PrimaryGroup = 20 }),
			},
			Groups:         []access.Group{withG(10, func(g *access.Group) { g.Groups = []access.GroupID{20} })},
			Categories:     []access.Category{{ID: 500, Name: "Support cases", Roles: []access.RoleID{4}}},
			DeleteGrants:   []access.GrantID{701},
			SharingRules:   []access.SharingRule{{ID: 600, EntityType: "sale", Rights: access.R, From: access.Principals{Groups: []access.GroupID{20}}, To: access.Principals{Associates: []access.AssociateID{103}}}},
			Impersonations: []access.Impersonation{{ID: 801, Actor: access.Principal{Associate: 101}, Target: access.Principal{Group: 20}}},
			Limits:         []access.Limit{{ID: 900, Group: 20, EntityType: "sale", Max: access.LevelRead}},
		}},
		{"make a group smart after moving its members", access.Batch{
			Groups: []access.Group{{ID: 30, Name: "Support", Smart: `role == 4`}},
			Associates: []access.Associate{
				withA(101, func(a *access.Associate) { a.PrimaryGroup = 20 }),
			},
		}},
		{"delete a role with its holders", access.Batch{
			DeleteRoles:        []access.RoleID{3},
			DeleteAssociates:   []access.AssociateID{103, 105, 106},
			DeleteSharingRules: []access.RuleID{600},
		}},
		{"delete an associate with what names it", access.Batch{
			DeleteAssociates:     []access.AssociateID{101},
			Groups:               []access.Group{withG(20, func(g *access.Group) { g.Admins = nil })},
			DeleteGrants:         []access.GrantID{700},
			DeleteImpersonations: []access.ImpersonationID{800},
		}},
		{"delete an associate nothing names", access.Batch{DeleteAssociates: []access.AssociateID{102}}},
		{"a licence and its holders", access.Batch{
			Licences: []access.Licence{{ID: 903, Name: "Service", Seats: 2, For: []access.AssociateType{access.Internal, access.External}}},
			Associates: []access.Associate{
				withA(101, func(a *access.Associate) { a.Licences = []access.LicenceID{903, 902} }),
				withA(103, func(a *access.Associate) { a.Licences = []access.LicenceID{903} }),
			},
		}},
		{"move a seat", access.Batch{Associates: []access.Associate{
			withA(100, func(a *access.Associate) { a.Licences = []access.LicenceID{901} }),
			withA(101, func(a *access.Associate) { a.Licences = []access.LicenceID{900} }),
		}}},
		{"delete a licence with its holders' assignments", access.Batch{
			DeleteLicences: []access.LicenceID{900},
			Associates:     []access.Associate{withA(100, func(a *access.Associate) { a.Licences = []access.LicenceID{901} })},
		}},
		{"delete a sharing rule, a grant and an impersonation", access.Batch{
			DeleteSharingRules:   []access.RuleID{601},
			DeleteGrants:         []access.GrantID{701},
			DeleteImpersonations: []access.ImpersonationID{801},
		}},
		{"put and delete limits", access.Batch{
			Limits: []access.Limit{
				{ID: 902, EntityType: access.Wildcard, Max: access.LevelFull, Scope: access.LimitUnrelated},
				{ID: 903, Group: 20, EntityType: "contact", RecordID: 1 << 40, Max: access.LevelUpdate},
			},
			DeleteLimits: []access.LimitID{901},
		}},
		{"delete a category tree", access.Batch{
			DeleteCategories: []access.CategoryID{500, 501},
			Associates:       []access.Associate{withA(100, func(a *access.Associate) { a.Categories = nil })},
		}},
		{"rename frees a name for another", access.Batch{Associates: []access.Associate{
			withA(100, func(a *access.Associate) { a.Name = "annie" }),
			internal(200, "Anna", 20, 2),
		}}},
		{"swap two names", access.Batch{Associates: []access.Associate{
			withA(100, func(a *access.Associate) { a.Name = "bob" }),
			withA(101, func(a *access.Associate) { a.Name = "ANNA" }),
		}}},
		{"delete frees a name", access.Batch{
			DeleteAssociates: []access.AssociateID{105},
			Associates:       []access.Associate{internal(200, "åsa", 20, 3)},
		}},
		{"rename in another case keeps the name", access.Batch{Associates: []access.Associate{
			withA(100, func(a *access.Associate) { a.Name = "ANNA" }),
		}}},
		{"resource without a role", access.Batch{Associates: []access.Associate{
			{ID: 200, Name: "Projector", Type: access.Resource},
		}}},
		{"secondary link to a smart group", access.Batch{Associates: []access.Associate{
			withA(101, func(a *access.Associate) { a.Groups = []access.GroupID{40} }),
		}}},
		{"smart group nested in another", access.Batch{Groups: []access.Group{
			withG(10, func(g *access.Group) { g.Groups = append(g.Groups, 40) }),
		}}},
		{"deeper nesting without a cycle", access.Batch{Groups: []access.Group{
			{ID: 50, Name: "All", Groups: []access.GroupID{10, 20}},
		}}},
		{"re-parent a role", access.Batch{Roles: []access.Role{{ID: 4, Name: "Support", Parent: 2}}}},
		{"a role that limits teams", access.Batch{Roles: []access.Role{{ID: 4, Name: "Support", Parent: 1, LimitTeams: true, Rights: map[string]access.Grid{"ticket": {access.Owner: access.LevelFull, access.Team: access.R}}}}}},
		{"replace a role's rights", access.Batch{Roles: []access.Role{{ID: 2, Name: "Sales", Parent: 1, Rights: map[string]access.Grid{"contact": {access.Owner: access.R}}}}}},
		{"everything at once", fixtureAgain()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			rev := mustApply(t, s, fixture())
			got, err := s.Apply(context.Background(), tc.batch)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if got != rev+1 {
				t.Errorf("Apply returned revision %d, want %d", got, rev+1)
			}
			m := model{}.apply(fixture()).apply(tc.batch)
			checkModel(t, s, rev+1, m)
			checkNames(t, s, m, fixture(), tc.batch)
			checkDependants(t, s, m, fixture(), tc.batch)
		})
	}
}

// fixtureAgain is the fixture with every value changed a little, so that
// applying it over the fixture replaces everything at once.
func fixtureAgain() access.Batch {
	b := fixture()
	for i := range b.Roles {
		b.Roles[i].Name += " (2)"
	}
	for i := range b.Groups {
		b.Groups[i].Name += " (2)"
	}
	for i := range b.Associates {
		b.Associates[i].Name += " (2)"
		b.Associates[i].Active = !b.Associates[i].Active
	}
	for i := range b.Categories {
		b.Categories[i].Name += " (2)"
	}
	for i := range b.SharingRules {
		b.SharingRules[i].Rights |= access.U
	}
	for i := range b.Grants {
		b.Grants[i].Rights |= access.D
	}
	b.Impersonations[0].Target, b.Impersonations[0].Actor = b.Impersonations[0].Actor, b.Impersonations[0].Target
	for i := range b.Limits {
		b.Limits[i].Max, b.Limits[i].Scope = access.LevelCreate, 1-b.Limits[i].Scope
	}
	return b
}

// checkGets reads every value in want back through get, by id, and
// reports any that differ.
func checkGets[ID ~int64, T any](t *testing.T, what string, want []T, id func(T) ID, get func(ID) (T, error)) {
	t.Helper()
	for _, w := range want {
		got, err := get(id(w))
		if err != nil {
			t.Errorf("%s(%d): %v", what, id(w), err)
		} else if diff := gocmp.Diff(w, got, opts); diff != "" {
			t.Errorf("%s(%d) (-want +got):\n%s", what, id(w), diff)
		}
	}
}
