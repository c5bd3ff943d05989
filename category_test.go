package access_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// This file tests Customer Service categories: effective membership and its
// provenance, removing individual memberships, the reverse lookup, the
// CategoryMember relation and the members-only restriction. It also holds
// the small harness that impersonation_test.go and admin_test.go share.

// ---- Harness ----

// xNow is the clock of every resolver made by xResolver.
var xNow = time.Date(2025, time.June, 1, 12, 0, 0, 0, time.UTC)

// xTB is what the harness needs of *testing.T and *rapid.T alike.
type xTB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// xResolver loads b into a fresh memory store and returns the store and a
// resolver following it, whose clock stands at xNow. The store is a
// Watcher, so a write through it is visible to the resolver's next call.
func xResolver(t xTB, b access.Batch) (*memory.Store, *access.Engine) {
	t.Helper()
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Apply(ctx, b.Clone()); err != nil {
		t.Fatalf("loading the organisation: %v", err)
	}
	e, err := access.NewResolver(ctx, s, &access.Options{Now: func() time.Time { return xNow }})
	if err != nil {
		t.Fatalf("NewResolver: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return s, e
}

// xApply writes b through s and fails the test if the store refuses it.
func xApply(t xTB, s *memory.Store, b access.Batch) {
	t.Helper()
	if _, err := s.Apply(context.Background(), b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

// xErrIs reports whether err matches want, counting a nil want as "no
// error".
func xErrIs(err, want error) bool {
	if want == nil {
		return err == nil
	}
	return errors.Is(err, want)
}

// ---- The category organisation ----

// Roles.
const (
	catHead    access.RoleID = 1
	catAgent   access.RoleID = 2 // below Head
	catTrainee access.RoleID = 3 // below Agent
	catSeller  access.RoleID = 4
)

// Groups.
const (
	catSupport   access.GroupID = 10
	catTier2     access.GroupID = 11
	catHelpdesk  access.GroupID = 12 // includes Tier 2
	catAgents    access.GroupID = 13 // role Agent
	catAgentTree access.GroupID = 14 // role Agent and subordinates
	catDanes     access.GroupID = 15 // smart: attr.country == "DK"
	catSales     access.GroupID = 16
	catStaff     access.GroupID = 17 // linked to no category
)

// Categories.
const (
	catGeneral  access.CategoryID = 1  // group Support
	catLeads    access.CategoryID = 2  // group Sales
	catEscal    access.CategoryID = 3  // group Helpdesk
	catAgentsC  access.CategoryID = 4  // group Agents
	catTraining access.CategoryID = 5  // group Agent tree
	catDenmark  access.CategoryID = 6  // group Danes
	catQuotes   access.CategoryID = 7  // role Seller
	catFeedback access.CategoryID = 8  // individual members only
	catBilling  access.CategoryID = 9  // below General, no links
	catVIP      access.CategoryID = 10 // members only, group Tier 2
	catMulti    access.CategoryID = 11 // groups Support and Sales, role Seller
	catMissing  access.CategoryID = 99 // no such category
)

// Associates. Every one but catNoLogin and catSys has a service login.
const (
	catPia     access.AssociateID = 101 // primary Support
	catSid     access.AssociateID = 102 // secondary Sales
	catNed     access.AssociateID = 103 // primary Tier 2, so in Helpdesk
	catRob     access.AssociateID = 104 // role Agent
	catTia     access.AssociateID = 105 // role Trainee
	catDan     access.AssociateID = 106 // in Denmark
	catSel     access.AssociateID = 107 // role Seller
	catDia     access.AssociateID = 108 // individual member of Feedback
	catNoLogin access.AssociateID = 109 // qualifies for much, has no service login
	catKid     access.AssociateID = 110 // individual member of Billing only
	catMix     access.AssociateID = 111 // members in every way at once
	catSys     access.AssociateID = 112 // a system user
	catGone    access.AssociateID = 999 // no such associate
)

// catTicketGrid is every role's grid on tickets.
var catTicketGrid = access.Grid{
	access.Owner:          access.LevelFull,
	access.CategoryMember: access.LevelUpdate,
	access.Other:          access.LevelRead,
	access.Unowned:        access.LevelRead,
}

func catOrg() access.Batch {
	rights := map[string]access.Grid{"ticket": catTicketGrid}
	sl := func(id access.AssociateID) int64 { return int64(id) }
	internal := func(id access.AssociateID, name string, primary access.GroupID, role access.RoleID) access.Associate {
		return access.Associate{ID: id, Name: name, PrimaryGroup: primary, Role: role, Active: true, ServiceLogin: sl(id)}
	}
	sid := internal(catSid, "sid", catStaff, catHead)
	sid.Groups = []access.GroupID{catSales}
	dan := internal(catDan, "dan", catStaff, catHead)
	dan.Attributes = map[string]string{"country": "DK"}
	dia := internal(catDia, "dia", catStaff, catHead)
	dia.Categories = []access.CategoryID{catFeedback}
	noLogin := internal(catNoLogin, "nolan", catSupport, catSeller)
	noLogin.Groups = []access.GroupID{catSales, catTier2}
	noLogin.Attributes = map[string]string{"country": "DK"}
	noLogin.ServiceLogin = 0
	kid := internal(catKid, "kid", catStaff, catHead)
	kid.Categories = []access.CategoryID{catBilling}
	mix := internal(catMix, "mix", catSupport, catSeller)
	mix.Groups = []access.GroupID{catSales}
	mix.Categories = []access.CategoryID{catGeneral, catMulti}
	return access.Batch{
		Roles: []access.Role{
			{ID: catHead, Name: "Head", Rights: rights},
			{ID: catAgent, Name: "Agent", Parent: catHead, Rights: rights},
			{ID: catTrainee, Name: "Trainee", Parent: catAgent, Rights: rights},
			{ID: catSeller, Name: "Seller", Rights: rights},
		},
		Groups: []access.Group{
			{ID: catSupport, Name: "Support"},
			{ID: catTier2, Name: "Tier 2"},
			{ID: catHelpdesk, Name: "Helpdesk", Groups: []access.GroupID{catTier2}},
			{ID: catAgents, Name: "Agents", Roles: []access.RoleID{catAgent}},
			{ID: catAgentTree, Name: "Agent tree", RolesAndSubordinates: []access.RoleID{catAgent}},
			{ID: catDanes, Name: "Danes", Smart: `attr.country == "DK"`},
			{ID: catSales, Name: "Sales"},
			{ID: catStaff, Name: "Staff"},
		},
		Categories: []access.Category{
			{ID: catGeneral, Name: "General", Groups: []access.GroupID{catSupport}},
			{ID: catLeads, Name: "Leads", Groups: []access.GroupID{catSales}},
			{ID: catEscal, Name: "Escalations", Groups: []access.GroupID{catHelpdesk}},
			{ID: catAgentsC, Name: "Agents only", Groups: []access.GroupID{catAgents}},
			{ID: catTraining, Name: "Training", Groups: []access.GroupID{catAgentTree}},
			{ID: catDenmark, Name: "Denmark", Groups: []access.GroupID{catDanes}},
			{ID: catQuotes, Name: "Quotes", Roles: []access.RoleID{catSeller}},
			{ID: catFeedback, Name: "Feedback"},
			{ID: catBilling, Name: "Billing", Parent: catGeneral},
			{ID: catVIP, Name: "VIP", MembersOnly: true, Groups: []access.GroupID{catTier2}},
			{ID: catMulti, Name: "Multi", Groups: []access.GroupID{catSales, catSupport}, Roles: []access.RoleID{catSeller}},
		},
		Associates: []access.Associate{
			internal(catPia, "pia", catSupport, catHead),
			sid,
			internal(catNed, "ned", catTier2, catHead),
			internal(catRob, "rob", catStaff, catAgent),
			internal(catTia, "tia", catStaff, catTrainee),
			dan,
			internal(catSel, "sel", catStaff, catSeller),
			dia,
			noLogin,
			kid,
			mix,
			{ID: catSys, Name: "sys", Type: access.System, Role: catHead, Active: true},
		},
		// Pia's grant on the VIP ticket, which members-only takes away.
		Grants: []access.Grant{{ID: 1, Associate: catPia, EntityType: "ticket", RecordID: 1010, Rights: access.LevelFull}},
	}
}

// catView is what the tests compare of a CategoryMembership: the
// category, whether it is individual, each usergroup membership explained
// by Membership.String, and the role.
type catView struct {
	Cat    access.CategoryID
	Direct bool
	Groups []string
	Role   access.RoleID
}

func catViews(ms []access.CategoryMembership) []catView {
	out := []catView{}
	for _, m := range ms {
		v := catView{Cat: m.Category.ID, Direct: m.Direct, Role: m.Role.ID}
		for _, g := range m.Groups {
			v.Groups = append(v.Groups, g.String())
		}
		out = append(out, v)
	}
	return out
}

func TestCategoriesEffective(t *testing.T) {
	_, e := xResolver(t, catOrg())
	var (
		support = "Support (10): primary group Support (10)"
		sales   = "Sales (16): member of Sales (16)"
	)
	tests := []struct {
		name string
		who  access.AssociateID
		want []catView
	}{
		{"primary usergroup", catPia, []catView{
			{Cat: catGeneral, Groups: []string{support}},
			{Cat: catMulti, Groups: []string{support}},
		}},
		{"secondary usergroup", catSid, []catView{
			{Cat: catLeads, Groups: []string{sales}},
			{Cat: catMulti, Groups: []string{sales}},
		}},
		{"nested usergroup", catNed, []catView{
			{Cat: catEscal, Groups: []string{"Helpdesk (12): primary group Tier 2 (11) via Tier 2 (11) → Helpdesk (12)"}},
			{Cat: catVIP, Groups: []string{"Tier 2 (11): primary group Tier 2 (11)"}},
		}},
		{"role-based and roles-and-subordinates usergroups", catRob, []catView{
			{Cat: catAgentsC, Groups: []string{"Agents (13): role Agent (2) (Roles of Agents (13))"}},
			{Cat: catTraining, Groups: []string{"Agent tree (14): role Agent (2) (RolesAndSubordinates of Agent tree (14))"}},
		}},
		{"subordinate role", catTia, []catView{
			{Cat: catTraining, Groups: []string{"Agent tree (14): role Trainee (3) ⊂ Agent (2) (RolesAndSubordinates of Agent tree (14))"}},
		}},
		{"smart usergroup", catDan, []catView{
			{Cat: catDenmark, Groups: []string{"Danes (15): smart rule of Danes (15)"}},
		}},
		{"role", catSel, []catView{
			{Cat: catQuotes, Role: catSeller},
			{Cat: catMulti, Role: catSeller},
		}},
		{"individual", catDia, []catView{{Cat: catFeedback, Direct: true}}},
		{"no service login", catNoLogin, []catView{}},
		{"system user without a login", catSys, []catView{}},
		{"a subcategory does not make a member of its parent", catKid, []catView{{Cat: catBilling, Direct: true}}},
		{"every way at once", catMix, []catView{
			{Cat: catGeneral, Direct: true, Groups: []string{support}},
			{Cat: catLeads, Groups: []string{sales}},
			{Cat: catQuotes, Role: catSeller},
			{Cat: catMulti, Direct: true, Groups: []string{support, sales}, Role: catSeller},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Categories(context.Background(), tt.who)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, catViews(got)); diff != "" {
				t.Errorf("Categories(%d) (-want +got):\n%s", tt.who, diff)
			}
		})
	}
	t.Run("parent membership gives no subcategory", func(t *testing.T) {
		// Pia is in General through Support; Billing sits below General.
		got, _ := e.Categories(context.Background(), catPia)
		for _, m := range got {
			if m.Category.ID == catBilling {
				t.Errorf("pia is a member of Billing: %v", m)
			}
		}
	})
	t.Run("unknown associate", func(t *testing.T) {
		if _, err := e.Categories(context.Background(), catGone); !errors.Is(err, access.ErrNotFound) {
			t.Errorf("Categories(unknown) error = %v, want ErrNotFound", err)
		}
	})
}

func TestCategoryMembershipString(t *testing.T) {
	_, e := xResolver(t, catOrg())
	tests := []struct {
		who       access.AssociateID
		cat       access.CategoryID
		want      string
		fromGroup bool
	}{
		{catPia, catGeneral, "General (1) (from usergroup Support (10))", true},
		{catNed, catEscal, "Escalations (3) (from usergroup Tier 2 (11) → Helpdesk (12))", true},
		{catRob, catAgentsC, "Agents only (4) (from usergroup role Agent (2) → Agents (13))", true},
		{catTia, catTraining, "Training (5) (from usergroup role Trainee (3) → Agent tree (14))", true},
		{catDan, catDenmark, "Denmark (6) (from usergroup smart rule → Danes (15))", true},
		{catSel, catQuotes, "Quotes (7) (from role Seller (4))", false},
		{catDia, catFeedback, "Feedback (8) (individual)", false},
		{catMix, catMulti, "Multi (11) (individual) (from usergroup Support (10)) (from usergroup Sales (16)) (from role Seller (4))", true},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			ms, err := e.Categories(context.Background(), tt.who)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(ms, func(m access.CategoryMembership) bool { return m.Category.ID == tt.cat })
			if i < 0 {
				t.Fatalf("associate %d is not a member of category %d", tt.who, tt.cat)
			}
			if got := ms[i].String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := ms[i].FromGroup(); got != tt.fromGroup {
				t.Errorf("FromGroup() = %v, want %v", got, tt.fromGroup)
			}
		})
	}
}

func TestRemoveCategory(t *testing.T) {
	ctx := context.Background()
	t.Run("individual and group-derived: the link goes, the membership stays", func(t *testing.T) {
		s, e := xResolver(t, catOrg())
		a, err := e.RemoveCategory(ctx, catMix, catGeneral)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]access.CategoryID{catMulti}, a.Categories); diff != "" {
			t.Errorf("returned Categories (-want +got):\n%s", diff)
		}
		if a.ID != catMix || a.Name != "mix" || a.PrimaryGroup != catSupport {
			t.Errorf("returned associate %+v is not mix with one link fewer", a)
		}
		// Nothing changes until the caller writes it.
		before, _ := e.Categories(ctx, catMix)
		if !before[0].Direct {
			t.Fatalf("RemoveCategory changed the resolver's answer before the write: %v", before[0])
		}
		if err := s.PutAssociate(ctx, a); err != nil {
			t.Fatal(err)
		}
		got, err := e.Categories(ctx, catMix)
		if err != nil {
			t.Fatal(err)
		}
		want := []catView{
			{Cat: catGeneral, Groups: []string{"Support (10): primary group Support (10)"}},
			{Cat: catLeads, Groups: []string{"Sales (16): member of Sales (16)"}},
			{Cat: catQuotes, Role: catSeller},
			{Cat: catMulti, Direct: true, Groups: []string{"Support (10): primary group Support (10)", "Sales (16): member of Sales (16)"}, Role: catSeller},
		}
		if diff := cmp.Diff(want, catViews(got)); diff != "" {
			t.Errorf("Categories after the write (-want +got):\n%s", diff)
		}
		if got := got[0].String(); got != "General (1) (from usergroup Support (10))" {
			t.Errorf("General now reads %q", got)
		}
		// A second removal has no link left to remove.
		if _, err := e.RemoveCategory(ctx, catMix, catGeneral); !errors.Is(err, access.ErrDerived) {
			t.Errorf("second RemoveCategory error = %v, want ErrDerived", err)
		}
	})
	t.Run("individual only: the membership ends", func(t *testing.T) {
		s, e := xResolver(t, catOrg())
		a, err := e.RemoveCategory(ctx, catDia, catFeedback)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Categories) != 0 {
			t.Errorf("returned Categories = %v, want none", a.Categories)
		}
		if err := s.PutAssociate(ctx, a); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.Categories(ctx, catDia); len(got) != 0 {
			t.Errorf("dia still has %v", got)
		}
		if got, _ := e.CategoryMembers(ctx, catFeedback); len(got) != 0 {
			t.Errorf("Feedback still has members %v", got)
		}
	})
	for _, tt := range []struct {
		name    string
		who     access.AssociateID
		cat     access.CategoryID
		want    error
		mention string // the message names what to change
	}{
		{"group only", catPia, catGeneral, access.ErrDerived, "usergroup Support (10)"},
		{"secondary group only", catSid, catLeads, access.ErrDerived, "usergroup Sales (16)"},
		{"smart group only", catDan, catDenmark, access.ErrDerived, "usergroup Danes (15)"},
		{"nested group only", catNed, catEscal, access.ErrDerived, "usergroup"},
		{"role only", catSel, catQuotes, access.ErrDerived, "role Seller (4)"},
		{"group and role", catSid, catMulti, access.ErrDerived, "usergroup Sales (16)"},
		{"not a member", catPia, catLeads, access.ErrNotFound, ""},
		{"parent membership is not a membership", catPia, catBilling, access.ErrNotFound, ""},
		{"no service login", catNoLogin, catGeneral, access.ErrNotFound, ""},
		{"unknown associate", catGone, catGeneral, access.ErrNotFound, ""},
		{"unknown category", catPia, catMissing, access.ErrNotFound, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, e := xResolver(t, catOrg())
			a, err := e.RemoveCategory(ctx, tt.who, tt.cat)
			if !errors.Is(err, tt.want) {
				t.Fatalf("RemoveCategory(%d, %d) = %v, want an error wrapping %v", tt.who, tt.cat, err, tt.want)
			}
			if tt.want == access.ErrDerived && errors.Is(err, access.ErrNotFound) {
				t.Errorf("error %v wraps ErrNotFound as well", err)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
			if a.ID != 0 {
				t.Errorf("RemoveCategory returned %+v with its error", a)
			}
		})
	}
}

func TestCategoryMembers(t *testing.T) {
	ctx := context.Background()
	b := catOrg()
	_, e := xResolver(t, b)
	want := map[access.CategoryID][]access.AssociateID{
		catGeneral:  {catPia, catMix},
		catLeads:    {catSid, catMix},
		catEscal:    {catNed},
		catAgentsC:  {catRob},
		catTraining: {catRob, catTia},
		catDenmark:  {catDan},
		catQuotes:   {catSel, catMix},
		catFeedback: {catDia},
		catBilling:  {catKid},
		catVIP:      {catNed},
		catMulti:    {catPia, catSid, catSel, catMix},
	}
	for _, c := range b.Categories {
		got, err := e.CategoryMembers(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want[c.ID], got); diff != "" {
			t.Errorf("CategoryMembers(%d) (-want +got):\n%s", c.ID, diff)
		}
	}
	// The reverse lookup agrees with Categories for every associate.
	for _, a := range b.Associates {
		ms, err := e.Categories(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range b.Categories {
			member := slices.ContainsFunc(ms, func(m access.CategoryMembership) bool { return m.Category.ID == c.ID })
			if listed := slices.Contains(want[c.ID], a.ID); member != listed {
				t.Errorf("associate %d: member of category %d per Categories %v, per CategoryMembers %v", a.ID, c.ID, member, listed)
			}
		}
	}
	if _, err := e.CategoryMembers(ctx, catMissing); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("CategoryMembers(unknown) error = %v, want ErrNotFound", err)
	}
}

// catTicket is a ticket in category c owned by the system user, so that no
// subject in these tests owns it.
func catTicket(id int64, c access.CategoryID) access.Record {
	return access.Record{Type: "ticket", ID: id, Owner: catSys, Category: c}
}

func TestCategoryDecisions(t *testing.T) {
	_, e := xResolver(t, catOrg())
	member := access.Relations(0).With(access.CategoryMember)
	other := access.Relations(0).With(access.Other)
	vip := catTicket(1010, catVIP)
	tests := []struct {
		name     string
		who      access.AssociateID
		act      access.Action
		rec      access.Record
		allowed  bool
		rights   access.CRUD
		rels     access.Relations
		restrict access.Restriction // a restriction among the causes, or 0
	}{
		{"primary group member", catPia, access.Update, catTicket(1, catGeneral), true, access.LevelUpdate, member, 0},
		{"secondary group member", catSid, access.Update, catTicket(2, catLeads), true, access.LevelUpdate, member, 0},
		{"nested group member", catNed, access.Update, catTicket(3, catEscal), true, access.LevelUpdate, member, 0},
		{"role-based group member", catRob, access.Update, catTicket(4, catAgentsC), true, access.LevelUpdate, member, 0},
		{"subordinate role group member", catTia, access.Update, catTicket(5, catTraining), true, access.LevelUpdate, member, 0},
		{"smart group member", catDan, access.Update, catTicket(6, catDenmark), true, access.LevelUpdate, member, 0},
		{"role member", catSel, access.Update, catTicket(7, catQuotes), true, access.LevelUpdate, member, 0},
		{"individual member", catDia, access.Update, catTicket(8, catFeedback), true, access.LevelUpdate, member, 0},
		{"member may not delete", catPia, access.Delete, catTicket(1, catGeneral), false, access.LevelUpdate, member, 0},
		{"non-member", catSid, access.Update, catTicket(1, catGeneral), false, access.R, other, 0},
		{"no service login", catNoLogin, access.Update, catTicket(1, catGeneral), false, access.R, other, 0},
		{"parent member in a subcategory", catPia, access.Update, catTicket(9, catBilling), false, access.R, other, 0},
		{"subcategory member in the parent", catKid, access.Update, catTicket(1, catGeneral), false, access.R, other, 0},
		{"members only: member", catNed, access.Read, vip, true, access.LevelUpdate, member, 0},
		{"members only: non-member loses what the role gives", catSid, access.Read, vip, false, 0, other, access.RestrictMembersOnly},
		{"members only: non-member loses what a grant gives", catPia, access.Read, vip, false, 0, other, access.RestrictMembersOnly},
		{"members only: an owner who is not a member", catPia, access.Read,
			access.Record{Type: "ticket", ID: 1011, Owner: catPia, Category: catVIP}, false, 0, access.Relations(0).With(access.Owner), access.RestrictMembersOnly},
		{"members only: no service login", catNoLogin, access.Read, vip, false, 0, other, access.RestrictMembersOnly},
		{"members only: system user", catSys, access.Delete, vip, true, access.LevelFull, 0, 0},
		{"unknown category fails closed", catPia, access.Read, catTicket(12, catMissing), false, 0, other, access.RestrictMembersOnly},
		{"unknown category: system user", catSys, access.Read, catTicket(12, catMissing), true, access.LevelFull, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := e.Can(context.Background(), tt.who, tt.act, tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed != tt.allowed || d.Rights != tt.rights || d.Relations != tt.rels {
				t.Errorf("got allowed %v, rights %s, relations %s; want %v, %s, %s\n%s",
					d.Allowed, d.Rights, d.Relations, tt.allowed, tt.rights, tt.rels, d)
			}
			restricted := slices.ContainsFunc(d.Causes(), func(c access.Cause) bool {
				return c.Kind == access.CauseRestriction && c.Restriction == access.RestrictMembersOnly
			})
			if restricted != (tt.restrict != 0) {
				t.Errorf("members-only restriction among the causes: %v, want %v\n%s", restricted, tt.restrict != 0, d)
			}
		})
	}
}

// ---- Properties ----

// catDrawOrg draws a small valid organisation with categories: a role
// forest, plain groups nesting only groups with lower ids, smart groups,
// internal associates with and without service logins, and categories
// linked to groups and roles. Role grids on tickets are drawn too, for the
// members-only property.
func catDrawOrg(t *rapid.T) access.Batch {
	var b access.Batch
	relations := []access.Relation{access.Owner, access.PrimaryGroup, access.OtherGroup, access.CategoryMember, access.Other, access.Unowned}
	nRoles := rapid.IntRange(1, 4).Draw(t, "roles")
	var roles []access.RoleID
	for i := 1; i <= nRoles; i++ {
		r := access.Role{ID: access.RoleID(i), Name: fmt.Sprintf("r%d", i), Rights: map[string]access.Grid{"ticket": {}}}
		if i > 1 {
			r.Parent = rapid.SampledFrom(append([]access.RoleID{0}, roles...)).Draw(t, "parent")
		}
		for _, rel := range relations {
			r.Rights["ticket"][rel] = cellOf(access.CRUD(rapid.IntRange(0, 15).Draw(t, "rights")))
		}
		roles = append(roles, r.ID)
		b.Roles = append(b.Roles, r)
	}
	nGroups := rapid.IntRange(1, 6).Draw(t, "groups")
	var groups, plain []access.GroupID
	for i := 1; i <= nGroups; i++ {
		g := access.Group{ID: access.GroupID(10 + i), Name: fmt.Sprintf("g%d", i)}
		if i > 1 && rapid.IntRange(0, 4).Draw(t, "smart?") == 0 {
			g.Smart = rapid.SampledFrom([]string{`attr.k == "x"`, `role in [1, 2]`, `not attr.k == "x"`}).Draw(t, "rule")
		} else {
			g.Groups = catSubset(t, "nested", groups)
			g.Roles = catSubset(t, "group roles", roles)
			g.RolesAndSubordinates = catSubset(t, "group role trees", roles)
			plain = append(plain, g.ID)
		}
		groups = append(groups, g.ID)
		b.Groups = append(b.Groups, g)
	}
	nCats := rapid.IntRange(1, 5).Draw(t, "categories")
	var cats []access.CategoryID
	for i := 1; i <= nCats; i++ {
		c := access.Category{
			ID: access.CategoryID(i), Name: fmt.Sprintf("c%d", i),
			Groups:      catSubset(t, "category groups", groups),
			Roles:       catSubset(t, "category roles", roles),
			MembersOnly: rapid.Bool().Draw(t, "members only"),
		}
		if i > 1 {
			c.Parent = rapid.SampledFrom(append([]access.CategoryID{0}, cats...)).Draw(t, "category parent")
		}
		cats = append(cats, c.ID)
		b.Categories = append(b.Categories, c)
	}
	nAssocs := rapid.IntRange(1, 5).Draw(t, "associates")
	for i := 1; i <= nAssocs; i++ {
		a := access.Associate{
			ID: access.AssociateID(100 + i), Name: fmt.Sprintf("a%d", i), Active: true,
			PrimaryGroup: rapid.SampledFrom(plain).Draw(t, "primary"),
			Groups:       catSubset(t, "secondary", groups),
			Role:         rapid.SampledFrom(roles).Draw(t, "role"),
			Attributes:   map[string]string{"k": rapid.SampledFrom([]string{"x", "y"}).Draw(t, "k")},
		}
		if rapid.Bool().Draw(t, "service login") {
			a.ServiceLogin = int64(i)
			a.Categories = catSubset(t, "individual categories", cats)
		}
		b.Associates = append(b.Associates, a)
	}
	b.Associates = append(b.Associates, access.Associate{ID: 200, Name: "sys", Type: access.System, Role: roles[0], Active: true})
	return b
}

// catSubset draws a subset of from, in from's order.
func catSubset[T any](t *rapid.T, label string, from []T) []T {
	var out []T
	for _, v := range from {
		if rapid.IntRange(0, 2).Draw(t, label) == 0 {
			out = append(out, v)
		}
	}
	return out
}

// catRef is the reference for one effective category: computed from the
// reference model's effective groups (reference_test.go) and the
// definition, with no knowledge of the engine.
func catRef(m *refModel, a access.Associate, c access.Category) (v catView, member bool) {
	if a.ServiceLogin == 0 {
		return catView{}, false
	}
	eff, _ := m.effective(a.ID)
	v = catView{Cat: c.ID, Direct: slices.Contains(a.Categories, c.ID)}
	var groups []access.GroupID
	for _, g := range c.Groups {
		if _, ok := eff[g]; ok {
			groups = append(groups, g)
		}
	}
	slices.Sort(groups)
	for _, g := range groups {
		v.Groups = append(v.Groups, fmt.Sprint(g))
	}
	if slices.Contains(c.Roles, a.Role) {
		v.Role = a.Role
	}
	return v, v.Direct || len(v.Groups) > 0 || v.Role != 0
}

// TestPropCategoriesMatchReference: an associate's effective categories
// are exactly its individual ones, those of its effective usergroups and
// those of its role, and only with a service login; CategoryMembers is
// the same relation read the other way.
func TestPropCategoriesMatchReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		b := catDrawOrg(t)
		_, e := xResolver(t, b)
		m := refFromBatch(&b)
		members := map[access.CategoryID][]access.AssociateID{}
		for _, a := range b.Associates {
			want := []catView{}
			for _, c := range b.Categories {
				if v, ok := catRef(m, a, c); ok {
					want = append(want, v)
					members[c.ID] = append(members[c.ID], a.ID)
				}
			}
			got, err := e.Categories(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			gotViews := []catView{}
			for _, g := range got {
				v := catView{Cat: g.Category.ID, Direct: g.Direct, Role: g.Role.ID}
				for _, mb := range g.Groups {
					v.Groups = append(v.Groups, fmt.Sprint(mb.Group))
				}
				gotViews = append(gotViews, v)
			}
			if diff := cmp.Diff(want, gotViews); diff != "" {
				t.Fatalf("Categories(%d) (-want +got):\n%s", a.ID, diff)
			}
		}
		for _, c := range b.Categories {
			got, err := e.CategoryMembers(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(members[c.ID], got); diff != "" {
				t.Fatalf("CategoryMembers(%d) (-want +got):\n%s", c.ID, diff)
			}
		}
	})
}

// TestPropMembersOnlyNeverAdds: making a record's category members-only
// never adds a right; it leaves members (and system users) exactly as they
// were and takes everything from anyone else.
func TestPropMembersOnlyNeverAdds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		b := catDrawOrg(t)
		cat := rapid.SampledFrom(b.Categories).Draw(t, "category")
		open, closed := b.Clone(), b.Clone()
		for i := range b.Categories {
			if b.Categories[i].ID == cat.ID {
				open.Categories[i].MembersOnly = false
				closed.Categories[i].MembersOnly = true
			}
		}
		_, eOpen := xResolver(t, open)
		_, eClosed := xResolver(t, closed)

		ids := slices.Collect(maps.Keys(refFromBatch(&b).assocs))
		slices.Sort(ids)
		groups := []access.GroupID{0}
		for _, g := range b.Groups {
			groups = append(groups, g.ID)
		}
		rec := access.Record{
			Type: "ticket", ID: 1, Category: cat.ID,
			Owner: rapid.SampledFrom(append([]access.AssociateID{0}, ids...)).Draw(t, "owner"),
			Group: rapid.SampledFrom(groups).Draw(t, "record group"),
		}
		if rapid.Bool().Draw(t, "grant?") {
			g := access.Grant{ID: 1, Associate: rapid.SampledFrom(ids).Draw(t, "grantee"), EntityType: "ticket", RecordID: 1, Rights: access.LevelFull}
			open.Grants, closed.Grants = []access.Grant{g}, []access.Grant{g}
			_, eOpen = xResolver(t, open)
			_, eClosed = xResolver(t, closed)
		}
		who := rapid.SampledFrom(ids).Draw(t, "subject")
		act := rapid.SampledFrom([]access.Action{access.Read, access.Create, access.Update, access.Delete}).Draw(t, "action")

		before, err := eOpen.Can(ctx, who, act, rec)
		if err != nil {
			t.Fatal(err)
		}
		after, err := eClosed.Can(ctx, who, act, rec)
		if err != nil {
			t.Fatal(err)
		}
		if after.Rights&^before.Rights != 0 || (after.Allowed && !before.Allowed) {
			t.Fatalf("members-only added rights: %s → %s\nbefore: %s\nafter:  %s", before.Rights, after.Rights, before, after)
		}
		m := refFromBatch(&b)
		a := m.assocs[who]
		_, member := catRef(m, a, cat)
		switch {
		case member || a.Type == access.System:
			if after.Rights != before.Rights || after.Allowed != before.Allowed {
				t.Fatalf("members-only changed a member's rights: %s → %s\n%s", before.Rights, after.Rights, after)
			}
		case after.Rights != 0 || after.Allowed:
			t.Fatalf("a non-member keeps %s on a members-only record:\n%s", after.Rights, after)
		}
	})
}
