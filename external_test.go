package access_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/crmaccess/access"
)

// This file tests that external associates stay inside their company: the
// broad layers ("everyone", roles, groups) reach an external subject only
// on records it owns or of its company or one of its projects; beyond
// them only a sharing rule or grant that names the associate itself does.

// dExtRules and dExtGrants are what the external tests add to the seed.
// The partner (dExt) is in company 500 and project 7 and holds role
// Partner; the freelancer (dExt0) holds Partner too, with no company.
var (
	dExtRules = []access.SharingRule{
		{ID: 1, Name: "Public read", EntityType: "*",
			From: access.Principals{Everyone: true}, To: access.Principals{Everyone: true}, Rights: access.R},
		{ID: 2, Name: "Partners edit contacts", EntityType: "contact",
			From: access.Principals{Everyone: true}, To: access.Principals{Roles: []access.RoleID{dPartner}}, Rights: access.R | access.U},
		{ID: 3, Name: "Partner edits sales", EntityType: "sale",
			From: access.Principals{Everyone: true}, To: access.Principals{Associates: []access.AssociateID{dExt}}, Rights: access.U},
		{ID: 4, Name: "Partners and the clerk", EntityType: "memo",
			From: access.Principals{Everyone: true},
			To:   access.Principals{Associates: []access.AssociateID{dExt}, Roles: []access.RoleID{dPartner}}, Rights: access.D},
	}
	dExtGrants = []access.Grant{
		{ID: 1, Associate: dExt, EntityType: "invoice", Rights: access.D},
		{ID: 2, Group: dTeamA, EntityType: "*", Rights: access.C},
	}
)

func dExtOrg() access.Batch {
	b := dSeed()
	b.SharingRules = dExtRules
	b.Grants = dExtGrants
	return b
}

// TestCanExternalHeldToCompany: on another company's records, rules to
// everyone and to the external's role add nothing; a rule or grant naming
// the external still does, and the unpublished restriction still holds.
// Inside its company and projects the broad rules apply as before.
func TestCanExternalHeldToCompany(t *testing.T) {
	type rec = access.Record
	ru := access.R | access.U
	dRun(t, dExtOrg(), []dCase{
		{name: "everyone and role rules stop at another company", who: dExt, act: access.Read,
			rec: rec{Type: "contact", ID: 1, Owner: dP1, Company: 501, Published: true}},
		{name: "no company, no project: nothing broad reaches it", who: dExt0, act: access.Read,
			rec: rec{Type: "contact", ID: 2, Published: true}},
		{name: "a rule naming the external reaches another company", who: dExt, act: access.Update,
			rec:     rec{Type: "sale", ID: 3, Owner: dP1, Company: 501, Published: true},
			allowed: true, rights: access.U},
		{name: "a rule naming the external and its role counts as naming it", who: dExt, act: access.Delete,
			rec:     rec{Type: "memo", ID: 3, Company: 501, Published: true},
			allowed: true, rights: access.D},
		{name: "the same rule reaches another external only through the role", who: dExt0, act: access.Delete,
			rec: rec{Type: "memo", ID: 3, Company: 501, Published: true}},
		{name: "a grant naming the external reaches another company", who: dExt, act: access.Delete,
			rec:     rec{Type: "invoice", ID: 4, Company: 501, Published: true},
			allowed: true, rights: access.D},
		{name: "naming does not lift the unpublished restriction", who: dExt, act: access.Update,
			rec: rec{Type: "sale", ID: 5, Company: 501}},
		{name: "broad rules apply inside its company", who: dExt, act: access.Update,
			rec:     rec{Type: "contact", ID: 6, Owner: dP1, Company: 500, Published: true},
			allowed: true, rights: ru, rels: dRels(access.MyCompany)},
		{name: "broad rules apply inside its project, any company", who: dExt, act: access.Update,
			rec:     rec{Type: "contact", ID: 7, Company: 501, Project: 7, Published: true},
			allowed: true, rights: access.C | ru, rels: dRels(access.SameProject)},
		{name: "broad rules apply on its own records", who: dExt, act: access.Read,
			rec:     rec{Type: "appointment", ID: 8, Owner: dExt, Company: 501},
			allowed: true, rights: dFull, rels: dRels(access.Owner)},
		{name: "internal subjects are not held", who: dP3, act: access.Read,
			rec:     rec{Type: "contact", ID: 9, Owner: dP1, Company: 501, Published: true},
			allowed: true, rights: access.R, rels: dRels(access.Other)},
	})
}

// TestCanExternalExplains: a decision says when it held an external to
// its company and projects, and when a rule or grant reached it by name.
func TestCanExternalExplains(t *testing.T) {
	e, _ := dResolver(t, dExtOrg())
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		who    access.AssociateID
		act    access.Action
		rec    access.Record
		causes []access.Cause
		text   []string
	}{
		{"held back", dExt, access.Read, access.Record{Type: "contact", ID: 1, Owner: dP1, Company: 501, Published: true},
			[]access.Cause{
				{Kind: access.CauseRestriction, Restriction: access.RestrictExternalScope, Rights: access.R | access.U},
			},
			[]string{"outside the external user's own company and projects removes RU"}},
		{"reached by name", dExt, access.Update, access.Record{Type: "sale", ID: 3, Company: 501, Published: true},
			[]access.Cause{
				{Kind: access.CauseSharing, Rule: 3, Rights: access.U, Named: true},
				{Kind: access.CauseRestriction, Restriction: access.RestrictExternalScope, Rights: access.R},
			},
			[]string{"sharing rule Partner edits sales (3) adds U to the external user by name, beyond its company and projects",
				"outside the external user's own company and projects removes R"}},
		{"granted by name", dExt, access.Delete, access.Record{Type: "invoice", ID: 4, Company: 501, Published: true},
			[]access.Cause{
				{Kind: access.CauseGrant, Grant: 1, Rights: access.D, Named: true},
				{Kind: access.CauseRestriction, Restriction: access.RestrictExternalScope, Rights: access.R},
			},
			[]string{"grant 1 adds D to the external user by name, beyond its company and projects"}},
		{"inside its company nothing is held or named", dExt, access.Update, access.Record{Type: "sale", ID: 3, Company: 500, Published: true},
			[]access.Cause{
				{Kind: access.CauseRole, Relation: access.MyCompany, Rights: access.R, Role: dPartner},
				{Kind: access.CauseSharing, Rule: 3, Rights: access.U},
				{Kind: access.CauseSharing, Rule: 1, Rights: access.R},
			},
			nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := e.Can(ctx, c.who, c.act, c.rec)
			if err != nil {
				t.Fatal(err)
			}
			got := d.Causes()
			if diff := cmp.Diff(c.causes, got, cmpopts.IgnoreFields(access.Cause{}, "RoleName", "GroupName", "RuleName")); diff != "" {
				t.Errorf("causes (-want +got):\n%s\n%s", diff, d)
			}
			for _, s := range c.text {
				if !strings.Contains(d.String(), s) {
					t.Errorf("explanation lacks %q:\n%s", s, d)
				}
			}
			if strings.Contains(d.String(), "by name") != slices.ContainsFunc(got, func(x access.Cause) bool { return x.Named }) {
				t.Errorf("explanation and Cause.Named disagree:\n%s", d)
			}
		})
	}
}

// TestExternalFunctionalRights: an external associate holds no functional
// right, whatever its role lists, so a role with user-admin does not let
// it manage a group's members; being named a group's admin does.
func TestExternalFunctionalRights(t *testing.T) {
	const (
		roleAdmin access.RoleID      = 1
		home      access.GroupID     = 10
		staff     access.GroupID     = 11 // lists the external as an admin
		withFunc  access.GroupID     = 12 // grants user-admin to its members, lists role Admin
		inside    access.AssociateID = 1  // internal, role Admin
		ext       access.AssociateID = 2  // external, role Admin
	)
	b := access.Batch{
		Roles: []access.Role{{ID: roleAdmin, Name: "Admin", Functions: []string{access.FuncUserAdmin, access.FuncExportSelection}}},
		Groups: []access.Group{
			{ID: home, Name: "Home"},
			{ID: staff, Name: "Staff", Admins: []access.AssociateID{ext}},
			{ID: withFunc, Name: "Admins", Roles: []access.RoleID{roleAdmin}, Functions: []string{access.FuncBulkUpdate}},
		},
		Associates: []access.Associate{
			{ID: inside, Name: "inside", PrimaryGroup: home, Role: roleAdmin, Active: true},
			{ID: ext, Name: "ext", Type: access.External, Role: roleAdmin, Active: true, Company: 5},
		},
	}
	_, e := xResolver(t, b)
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		who   access.AssociateID
		right string
		want  bool
	}{
		{"internal: user-admin from the role", inside, access.FuncUserAdmin, true},
		{"internal: bulk-update from the role's group", inside, access.FuncBulkUpdate, true},
		{"external: not user-admin from the role", ext, access.FuncUserAdmin, false},
		{"external: no other right from the role either", ext, access.FuncExportSelection, false},
		{"external: not a group's right through its role", ext, access.FuncBulkUpdate, false},
	} {
		t.Run("Has/"+c.name, func(t *testing.T) {
			if got, err := e.Has(ctx, c.who, c.right); err != nil || got != c.want {
				t.Errorf("Has(%d, %q) = %v, %v; want %v", c.who, c.right, got, err, c.want)
			}
		})
	}
	for _, c := range []struct {
		name  string
		who   access.AssociateID
		group access.GroupID
		want  bool
	}{
		{"internal user-admin, any group", inside, home, true},
		{"external with a user-admin role", ext, home, false},
		{"external named an admin of the group", ext, staff, true},
	} {
		t.Run("CanManageMembers/"+c.name, func(t *testing.T) {
			if got, err := e.CanManageMembers(ctx, c.who, c.group); err != nil || got != c.want {
				t.Errorf("CanManageMembers(%d, %d) = %v, %v; want %v", c.who, c.group, got, err, c.want)
			}
		})
	}
	p, err := e.Permissions(ctx, ext)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Confined || len(p.Functions) != 0 {
		t.Errorf("external's Permissions: Confined %v, Functions %v; want true and none", p.Confined, p.Functions)
	}
	if p, _ := e.Permissions(ctx, inside); p.Confined {
		t.Errorf("internal associate's Permissions are Confined")
	}
}

// TestFilterExternalHeldToCompany: the filter of an external subject holds
// broad rules to its company and projects as Can does, in SQL too.
func TestFilterExternalHeldToCompany(t *testing.T) {
	e, _ := dResolver(t, dExtOrg())
	ctx := context.Background()
	f, err := e.Filter(ctx, dExt, access.Read, "contact")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []access.Record{
		{Type: "contact", ID: 1, Owner: dP1, Company: 501, Published: true},
		{Type: "contact", ID: 2, Owner: dP1, Company: 500, Published: true},
		{Type: "contact", ID: 3, Company: 501, Project: 7, Published: true},
		{Type: "contact", ID: 4, Published: true},
		{Type: "contact", ID: 5, Owner: dExt, Company: 501},
	} {
		d, err := e.Can(ctx, dExt, access.Read, r)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Match(r); got != d.Allowed {
			t.Errorf("%+v: Match %v, Can %v\nfilter: %s\n%s", r, got, d.Allowed, f.String(), d)
		}
	}
	if f.Match(access.Record{Type: "contact", ID: 1, Owner: dP1, Company: 501, Published: true}) {
		t.Errorf("filter admits another company's record: %s", f.String())
	}
}

// TestPropExternalStaysInside: on random policies in which no sharing rule
// or grant names an external associate, that external never gets a right
// on a record it does not own, of another company (or none) and of none
// of its projects — not from Can, Filter or WhoCan.
func TestPropExternalStaysInside(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := dDrawOrg(t)
		b := &o.b
		// Make one associate a working external, then strip every naming
		// of it from rules and grants.
		i := rapid.IntRange(0, len(b.Associates)-1).Draw(t, "external")
		ext := &b.Associates[i]
		ext.Type, ext.Active, ext.PrimaryGroup, ext.Groups = access.External, true, 0, nil
		ext.ValidFrom, ext.ValidTo = dNow.AddDate(-1, 0, 0), dNow.AddDate(1, 0, 0)
		if ext.Role == 0 {
			ext.Role = rapid.SampledFrom(o.roles).Draw(t, "external role")
		}
		who := ext.ID
		// Broad rules the external would be reached by, if nothing held it.
		if rapid.Bool().Draw(t, "everyone rule") {
			b.SharingRules = append(b.SharingRules, access.SharingRule{ID: 90, EntityType: "*",
				From: access.Principals{Everyone: true}, To: access.Principals{Everyone: true}, Rights: dDrawCRUD(t, "everyone rights") | access.R})
		}
		if rapid.Bool().Draw(t, "role rule") {
			b.SharingRules = append(b.SharingRules, access.SharingRule{ID: 91, EntityType: "*",
				From: access.Principals{Everyone: true}, To: access.Principals{RolesAndSubordinates: []access.RoleID{ext.Role}}, Rights: access.R | access.U})
		}
		for j := range b.SharingRules {
			to := &b.SharingRules[j].To
			to.Associates = slices.DeleteFunc(to.Associates, func(x access.AssociateID) bool { return x == who })
			if to.IsEmpty() {
				to.Everyone = true
			}
		}
		b.Grants = slices.DeleteFunc(b.Grants, func(g access.Grant) bool { return g.Associate == who })
		if err := b.Validate(context.Background(), dEmptyView{}); err != nil {
			t.Fatalf("invalid organisation: %v", err)
		}
		e, _ := dResolver(t, *b)
		ctx := context.Background()
		filters := map[access.Action]map[string]access.Filter{}
		for act := access.Read; act <= access.Delete; act++ {
			filters[act] = map[string]access.Filter{}
			for _, typ := range dTypes {
				f, err := e.Filter(ctx, who, act, typ)
				if err != nil {
					t.Fatal(err)
				}
				filters[act][typ] = f
			}
		}
		for range rapid.IntRange(1, 10).Draw(t, "questions") {
			_, r := dDrawQuestion(t, o)
			// Outside: not its own, not its company, none of its projects.
			if r.Owner == who {
				r.Owner = 0
			}
			if r.Company == ext.Company {
				r.Company = ext.Company + 1
			}
			if slices.Contains(ext.Projects, r.Project) {
				r.Project = 0
			}
			for act := access.Read; act <= access.Delete; act++ {
				d, err := e.Can(ctx, who, act, r)
				if err != nil {
					t.Fatal(err)
				}
				if d.Rights != 0 || d.Allowed {
					t.Fatalf("external %d got %s on %+v outside its company and projects:\n%s", who, d.Rights, r, d)
				}
				if f := filters[act][r.Type]; f.Match(r) {
					t.Fatalf("external %d: the %s filter admits %+v: %s", who, act, r, f.String())
				}
			}
			allowed, err := e.WhoCan(ctx, access.Read, r)
			if err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(allowed, func(a access.Allowed) bool { return a.Associate == who }) {
				t.Fatalf("WhoCan lists external %d on %+v", who, r)
			}
		}
	})
}

// TestCanAsExternalTarget: acting on behalf of an external decides as the
// external, held to its company and projects like Can.
func TestCanAsExternalTarget(t *testing.T) {
	b := dExtOrg()
	b.Impersonations = []access.Impersonation{{ID: 1, Actor: access.Principal{Associate: dClerkA}, Target: access.Principal{Associate: dExt}}}
	e, _ := dResolver(t, b)
	ctx := context.Background()
	as, err := e.Impersonate(ctx, dClerkA, dExt)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		rec  access.Record
		want bool
	}{
		{access.Record{Type: "contact", ID: 1, Owner: dP1, Company: 501, Published: true}, false},
		{access.Record{Type: "contact", ID: 2, Owner: dP1, Company: 500, Published: true}, true},
		{access.Record{Type: "invoice", ID: 3, Company: 501, Published: true}, false},
	} {
		d, err := e.CanAs(ctx, as, access.Read, c.rec)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed != c.want {
			t.Errorf("CanAs read %+v: %s; want allowed %v", c.rec, d, c.want)
		}
	}
}
