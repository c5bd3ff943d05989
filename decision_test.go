package access_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/orggen"
	"github.com/crmaccess/access/store/memory"
)

var update = flag.Bool("update", false, "rewrite golden files")

// dNow is the clock of every resolver in these tests.
var dNow = time.Date(2025, time.June, 1, 12, 0, 0, 0, time.UTC)

// ---- Harness ----

// dStore is a Store that answers with the whole model whenever it has
// changed, so a resolver rebuilds from scratch on every Refresh that finds
// something new. It is a Watcher that never calls back: resolvers follow
// it by Refresh alone.
type dStore struct {
	mu   sync.Mutex
	b    access.Batch
	rev  access.Revision
	down bool // Changes fails
}

var errDStoreDown = errors.New("store unreachable")

func (s *dStore) Changes(ctx context.Context, since access.Revision) (access.Delta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return access.Delta{}, errDStoreDown
	}
	if since == s.rev {
		return access.Delta{From: since, To: s.rev}, nil
	}
	return access.Delta{To: s.rev, Full: true, Batch: s.b.Clone()}, nil
}

func (s *dStore) Watch(func(access.Revision)) func() { return func() {} }

func (s *dStore) set(b access.Batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = b.Clone()
	s.rev++
}

// dEmptyView is the empty model, to validate whole organisations against.
type dEmptyView struct{}

func (dEmptyView) Role(context.Context, access.RoleID) (access.Role, error) {
	return access.Role{}, access.ErrNotFound
}
func (dEmptyView) Group(context.Context, access.GroupID) (access.Group, error) {
	return access.Group{}, access.ErrNotFound
}
func (dEmptyView) Associate(context.Context, access.AssociateID) (access.Associate, error) {
	return access.Associate{}, access.ErrNotFound
}
func (dEmptyView) AssociateByName(context.Context, string) (access.Associate, error) {
	return access.Associate{}, access.ErrNotFound
}
func (dEmptyView) Category(context.Context, access.CategoryID) (access.Category, error) {
	return access.Category{}, access.ErrNotFound
}
func (dEmptyView) Licence(context.Context, access.LicenceID) (access.Licence, error) {
	return access.Licence{}, access.ErrNotFound
}
func (dEmptyView) PastOwnersIn(context.Context, access.GroupID) ([]access.PastOwner, error) {
	return nil, nil
}
func (dEmptyView) Dependants(context.Context, access.Ref) ([]access.Ref, error) { return nil, nil }

type dTB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// dResolver validates b as a whole organisation and returns a resolver on
// it whose clock stands at dNow and which does not poll.
func dResolver(t dTB, b access.Batch) (*access.Engine, *dStore) {
	t.Helper()
	if err := b.Validate(context.Background(), dEmptyView{}); err != nil {
		t.Fatalf("the organisation is not valid: %v", err)
	}
	s := &dStore{}
	s.set(b)
	e, err := access.NewResolver(context.Background(), s, &access.Options{Now: func() time.Time { return dNow }, PollInterval: -1})
	if err != nil {
		t.Fatalf("NewResolver: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e, s
}

func dRels(rs ...access.Relation) access.Relations {
	var out access.Relations
	for _, r := range rs {
		out = out.With(r)
	}
	return out
}

// ---- The seed organisation ----

// Roles.
const (
	dCEO       access.RoleID = 1
	dSales     access.RoleID = 2  // below CEO
	dSalesAsst access.RoleID = 3  // below Sales
	dMkt       access.RoleID = 4  // below CEO
	dMktAsst   access.RoleID = 5  // below Marketing
	dPartner   access.RoleID = 6  // for external users
	dSupport   access.RoleID = 7  // no data rights at all
	dIntegr    access.RoleID = 8  // system users'
	dClerk     access.RoleID = 9  // a top role of its own
	dSaleOnly  access.RoleID = 10 // a sale row and no "*" row
)

// Groups.
const (
	dTeamA      access.GroupID = 10
	dTeamB      access.GroupID = 11
	dSalesGrp   access.GroupID = 20 // Team A + Team B
	dRoleGrp    access.GroupID = 30 // roles Sales and Marketing
	dTreeGrp    access.GroupID = 31 // roles Sales and Marketing with subordinates
	dOslo       access.GroupID = 40 // smart: attr.city == "Oslo"
	dRegion     access.GroupID = 50 // Sales group + Oslo
	dHome       access.GroupID = 60
	dHelpdesk   access.GroupID = 61 // includes 62; default permission
	dHelpOslo   access.GroupID = 62
	dReaders    access.GroupID = 63 // default permission
	dKeyAccts   access.GroupID = 70 // Team A, role Marketing, and 71
	dFieldTeam  access.GroupID = 71 // includes the smart group Oslo
	dMissingGrp access.GroupID = 99 // no such group
)

// Associates.
const (
	dP1         access.AssociateID = 101 // Sales, primary Team A
	dP2         access.AssociateID = 102 // Sales Assistant, secondary Team A
	dP3         access.AssociateID = 103 // Marketing, primary Team B
	dP4         access.AssociateID = 104 // Marketing Assistant, secondary Team B
	dClerkA     access.AssociateID = 105
	dOsloA      access.AssociateID = 106 // a clerk in Oslo
	dCEOA       access.AssociateID = 107
	dExt        access.AssociateID = 110 // external, company 500, project 7
	dSys        access.AssociateID = 111
	dInactive   access.AssociateID = 112
	dFuture     access.AssociateID = 113
	dExpired    access.AssociateID = 114
	dRoom       access.AssociateID = 115
	dAnon       access.AssociateID = 116
	dSysOff     access.AssociateID = 117 // an inactive system user
	dAgent      access.AssociateID = 118 // a clerk with a service login, category 1
	dWindow     access.AssociateID = 119 // inside its validity window
	dExt0       access.AssociateID = 120 // external without a company
	dHelper     access.AssociateID = 121 // Support role, Helpdesk Oslo + Readers
	dSysExpired access.AssociateID = 122
	dSupportA   access.AssociateID = 123 // Support role: no data rights
	dOffRoom    access.AssociateID = 124 // an inactive resource
	dSeller     access.AssociateID = 125 // role with a sale row only
	dGone       access.AssociateID = 999 // no such associate: a deleted owner
)

// Categories.
const (
	dCatSupport    access.CategoryID = 1 // members only, no group
	dCatBilling    access.CategoryID = 2 // open, group Team A
	dCatComplaints access.CategoryID = 3 // members only, role Clerk
	dCatMissing    access.CategoryID = 9 // no such category
)

// Short names for the accumulative levels.
const (
	dFull = access.LevelFull   // CRUD
	dCRU  = access.LevelUpdate // CRU
	dCR   = access.LevelCreate // CR
	dR    = access.LevelRead   // R
)

// dSeed returns the seed organisation: the vtiger and SuperOffice examples
// side by side. It has no sharing rules, grants or impersonation rules;
// tests add what they need.
func dSeed() access.Batch {
	grid := func(g access.Grid) map[string]access.Grid { return map[string]access.Grid{"*": g} }
	return access.Batch{
		Roles: []access.Role{
			{ID: dCEO, Name: "CEO", Rights: grid(access.Grid{
				access.Owner: dFull, access.Team: dFull, access.PrimaryGroup: dCRU, access.OtherGroup: dR,
				access.Subordinate: dFull, access.CategoryMember: dR, access.Other: dR, access.Unowned: dCR}),
				Functions: []string{access.FuncUserAdmin}},
			{ID: dSales, Name: "Sales", Parent: dCEO, Rights: map[string]access.Grid{
				"*": {access.Owner: dFull, access.Team: dFull, access.PrimaryGroup: dCRU, access.OtherGroup: dCR,
					access.Subordinate: access.R | access.U, access.CategoryMember: dR},
				"sale": {access.Owner: dFull},
			}, Functions: []string{access.FuncExportSelection}},
			{ID: dSalesAsst, Name: "Sales Assistant", Parent: dSales, Rights: grid(access.Grid{
				access.Owner: dFull, access.Team: dFull, access.PrimaryGroup: dR, access.OtherGroup: dR})},
			{ID: dMkt, Name: "Marketing", Parent: dCEO, Rights: grid(access.Grid{
				access.Owner: dFull, access.Team: dFull, access.PrimaryGroup: dCRU, access.OtherGroup: dR})},
			{ID: dMktAsst, Name: "Marketing Assistant", Parent: dMkt, Rights: grid(access.Grid{
				access.Owner: dFull, access.Team: dFull})},
			// Other, Unowned and PrimaryGroup cells that externals must
			// never reach.
			{ID: dPartner, Name: "Partner", Rights: grid(access.Grid{
				access.Owner: dFull, access.MyCompany: dR, access.SameProject: dCRU,
				access.Other: dFull, access.Unowned: dFull, access.PrimaryGroup: dFull})},
			{ID: dSupport, Name: "Support"},
			{ID: dIntegr, Name: "Integration"},
			{ID: dClerk, Name: "Clerk", Rights: grid(access.Grid{
				access.Owner: dFull, access.Team: dFull, access.PrimaryGroup: dCRU, access.OtherGroup: dR,
				access.CategoryMember: dCRU, access.Other: dR, access.Unowned: dCR})},
			{ID: dSaleOnly, Name: "Seller", Rights: map[string]access.Grid{"sale": {access.Owner: dFull}}},
		},
		Groups: []access.Group{
			{ID: dTeamA, Name: "Team A"},
			{ID: dTeamB, Name: "Team B"},
			{ID: dSalesGrp, Name: "Sales", Groups: []access.GroupID{dTeamA, dTeamB}, Functions: []string{access.FuncBackendLogin}},
			{ID: dRoleGrp, Name: "Sales and Marketing", Roles: []access.RoleID{dSales, dMkt}},
			{ID: dTreeGrp, Name: "Sales and Marketing with assistants", RolesAndSubordinates: []access.RoleID{dSales, dMkt}},
			{ID: dOslo, Name: "Oslo", Smart: `attr.city == "Oslo"`},
			{ID: dRegion, Name: "Region North", Groups: []access.GroupID{dSalesGrp, dOslo}},
			{ID: dHome, Name: "Head office"},
			{ID: dHelpdesk, Name: "Helpdesk", Groups: []access.GroupID{dHelpOslo},
				Defaults: map[string]access.CRUD{"contact": dR, "*": access.C}},
			{ID: dHelpOslo, Name: "Helpdesk Oslo"},
			{ID: dReaders, Name: "Readers", Defaults: map[string]access.CRUD{"*": access.U}},
			{ID: dKeyAccts, Name: "Key accounts", Groups: []access.GroupID{dTeamA, dFieldTeam}, Roles: []access.RoleID{dMkt}},
			{ID: dFieldTeam, Name: "Field team", Groups: []access.GroupID{dOslo}},
		},
		Associates: []access.Associate{
			{ID: dP1, Name: "person1", PrimaryGroup: dTeamA, Role: dSales, Active: true, ServiceLogin: 1},
			{ID: dP2, Name: "person2", PrimaryGroup: dHome, Groups: []access.GroupID{dTeamA}, Role: dSalesAsst, Active: true},
			{ID: dP3, Name: "person3", PrimaryGroup: dTeamB, Role: dMkt, Active: true},
			{ID: dP4, Name: "person4", PrimaryGroup: dHome, Groups: []access.GroupID{dTeamB}, Role: dMktAsst, Active: true},
			{ID: dClerkA, Name: "clerk", PrimaryGroup: dHome, Role: dClerk, Active: true},
			{ID: dOsloA, Name: "oslo", PrimaryGroup: dHome, Role: dClerk, Active: true, Attributes: map[string]string{"city": "Oslo"}},
			{ID: dCEOA, Name: "ceo", PrimaryGroup: dHome, Role: dCEO, Active: true},
			{ID: dExt, Name: "partner", Type: access.External, Role: dPartner, Active: true, Company: 500, Projects: []int64{7}},
			{ID: dSys, Name: "integration", Type: access.System, Role: dIntegr, Active: true},
			{ID: dInactive, Name: "inactive", PrimaryGroup: dHome, Role: dCEO},
			{ID: dFuture, Name: "future", PrimaryGroup: dHome, Role: dCEO, Active: true, ValidFrom: dNow.Add(time.Hour)},
			{ID: dExpired, Name: "expired", PrimaryGroup: dHome, Role: dCEO, Active: true, ValidTo: dNow},
			{ID: dRoom, Name: "room", Type: access.Resource, Active: true},
			{ID: dAnon, Name: "anonymous", Type: access.Anonymous, Role: dPartner, Active: true},
			{ID: dSysOff, Name: "old-integration", Type: access.System, Role: dIntegr},
			{ID: dAgent, Name: "agent", PrimaryGroup: dHome, Role: dClerk, Active: true, ServiceLogin: 2,
				Categories: []access.CategoryID{dCatSupport}},
			{ID: dWindow, Name: "temp", PrimaryGroup: dHome, Role: dClerk, Active: true,
				ValidFrom: dNow.Add(-time.Hour), ValidTo: dNow.Add(time.Hour)},
			{ID: dExt0, Name: "freelancer", Type: access.External, Role: dPartner, Active: true},
			{ID: dHelper, Name: "helper", PrimaryGroup: dHelpOslo, Groups: []access.GroupID{dReaders}, Role: dSupport, Active: true},
			{ID: dSysExpired, Name: "expired-integration", Type: access.System, Role: dIntegr, Active: true, ValidTo: dNow.Add(-time.Hour)},
			{ID: dSupportA, Name: "support", PrimaryGroup: dHome, Role: dSupport, Active: true},
			{ID: dOffRoom, Name: "old-room", Type: access.Resource},
			{ID: dSeller, Name: "seller", PrimaryGroup: dHome, Role: dSaleOnly, Active: true},
		},
		Categories: []access.Category{
			{ID: dCatSupport, Name: "Support", MembersOnly: true},
			{ID: dCatBilling, Name: "Billing", Groups: []access.GroupID{dTeamA}},
			{ID: dCatComplaints, Name: "Complaints", MembersOnly: true, Roles: []access.RoleID{dClerk}},
		},
	}
}

// ---- Table tests ----

type dCase struct {
	name    string
	who     access.AssociateID
	act     access.Action
	rec     access.Record
	allowed bool
	rights  access.CRUD
	rels    access.Relations
	gate    access.Gate
}

// dOutcome is what a case pins of a decision.
type dOutcome struct {
	Allowed   bool
	Rights    string
	Relations string
	Gate      string
}

// dRun checks each case against the resolver on b and, so that the
// reference is checked too, against the reference model. Expectations are
// worked out by hand from the rules.
func dRun(t *testing.T, b access.Batch, cases []dCase) {
	t.Helper()
	e, _ := dResolver(t, b)
	m := newDecModel(&b)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := dOutcome{c.allowed, c.rights.String(), c.rels.String(), c.gate.String()}
			d, err := e.Can(context.Background(), c.who, c.act, c.rec)
			if err != nil {
				t.Fatalf("Can: %v", err)
			}
			got := dOutcome{d.Allowed, d.Rights.String(), d.Relations.String(), d.Gate.String()}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Can(%d, %s, %+v) (-want +got):\n%s%s", c.who, c.act, c.rec, diff, d)
			}
			r := m.decide(c.who, c.act, c.rec, dNow)
			ref := dOutcome{r.allowed, r.rights.String(), r.rels.String(), r.gate.String()}
			if diff := cmp.Diff(want, ref); diff != "" {
				t.Errorf("reference (-want +got):\n%s", diff)
			}
			if d.Subject != c.who || d.Action != c.act || d.Record != c.rec {
				t.Errorf("the decision is about %d %s %+v, asked about %d %s %+v", d.Subject, d.Action, d.Record, c.who, c.act, c.rec)
			}
		})
	}
}

// TestCanRelations: the ownership relations of an internal subject, and
// the role cells they select. Memberships in the seed: person1 is in Team
// A (primary), Sales, Region North, Key accounts and both role groups;
// person2 in Head office (primary), Team A (secondary), Sales, Region
// North, Key accounts and the role-tree group.
func TestCanRelations(t *testing.T) {
	type rec = access.Record
	dRun(t, dSeed(), []dCase{
		{name: "owner", who: dP1, act: access.Delete, rec: rec{Type: "contact", ID: 1, Owner: dP1},
			allowed: true, rights: dFull, rels: dRels(access.Owner)},
		{name: "team, direct member", who: dP2, act: access.Delete, rec: rec{Type: "contact", ID: 2, Team: dTeamA},
			allowed: true, rights: dFull, rels: dRels(access.Team)},
		{name: "team through nesting", who: dP1, act: access.Delete, rec: rec{Type: "contact", ID: 3, Team: dSalesGrp},
			allowed: true, rights: dFull, rels: dRels(access.Team)},
		{name: "primary group", who: dP1, act: access.Update, rec: rec{Type: "contact", ID: 4, Owner: dClerkA, Group: dTeamA},
			allowed: true, rights: dCRU, rels: dRels(access.PrimaryGroup)},
		{name: "other group, secondary link", who: dP2, act: access.Read, rec: rec{Type: "contact", ID: 5, Owner: dClerkA, Group: dTeamA},
			allowed: true, rights: dR, rels: dRels(access.OtherGroup)},
		{name: "other group through nesting", who: dP1, act: access.Create, rec: rec{Type: "contact", ID: 6, Owner: dClerkA, Group: dSalesGrp},
			allowed: true, rights: dCR, rels: dRels(access.OtherGroup)},
		{name: "other group grants only its cell", who: dP1, act: access.Update, rec: rec{Type: "contact", ID: 6, Owner: dClerkA, Group: dSalesGrp},
			allowed: false, rights: dCR, rels: dRels(access.OtherGroup)},
		{name: "subordinate", who: dP1, act: access.Update, rec: rec{Type: "contact", ID: 7, Owner: dP2, Group: dHome},
			allowed: true, rights: access.R | access.U, rels: dRels(access.Subordinate)},
		{name: "subordinate two levels down", who: dCEOA, act: access.Delete, rec: rec{Type: "contact", ID: 8, Owner: dP2},
			allowed: true, rights: dFull, rels: dRels(access.Subordinate)},
		{name: "no subordinate upward", who: dP2, act: access.Read, rec: rec{Type: "contact", ID: 9, Owner: dP1},
			allowed: false, rights: 0, rels: dRels(access.Other)},
		{name: "no subordinate between peers", who: dP1, act: access.Read, rec: rec{Type: "contact", ID: 10, Owner: dP3},
			allowed: false, rights: 0, rels: dRels(access.Other)},
		{name: "deleted owner has no role", who: dCEOA, act: access.Delete, rec: rec{Type: "contact", ID: 11, Owner: dGone},
			allowed: false, rights: dR, rels: dRels(access.Other)},
		{name: "deleted owner keeps the stamped group", who: dP1, act: access.Update, rec: rec{Type: "contact", ID: 12, Owner: dGone, Group: dTeamA},
			allowed: true, rights: dCRU, rels: dRels(access.PrimaryGroup)},
		{name: "category member individually", who: dAgent, act: access.Update, rec: rec{Type: "contact", ID: 13, Owner: dClerkA, Category: dCatSupport},
			allowed: true, rights: dCRU, rels: dRels(access.CategoryMember)},
		{name: "category member through a group", who: dP1, act: access.Update, rec: rec{Type: "contact", ID: 14, Owner: dClerkA, Category: dCatBilling},
			allowed: false, rights: dR, rels: dRels(access.CategoryMember)},
		{name: "category member through the role", who: dAgent, act: access.Update, rec: rec{Type: "contact", ID: 15, Category: dCatComplaints},
			allowed: true, rights: dCRU, rels: dRels(access.CategoryMember)},
		{name: "no category without a service login", who: dP2, act: access.Read, rec: rec{Type: "contact", ID: 16, Owner: dClerkA, Category: dCatBilling},
			allowed: false, rights: 0, rels: dRels(access.Other)},
		{name: "other", who: dClerkA, act: access.Read, rec: rec{Type: "contact", ID: 17, Owner: dP1},
			allowed: true, rights: dR, rels: dRels(access.Other)},
		{name: "a team-owned record is owned", who: dClerkA, act: access.Create, rec: rec{Type: "contact", ID: 18, Team: dTeamB},
			allowed: false, rights: dR, rels: dRels(access.Other)},
		{name: "unknown team", who: dClerkA, act: access.Read, rec: rec{Type: "contact", ID: 19, Team: dMissingGrp},
			allowed: true, rights: dR, rels: dRels(access.Other)},
		{name: "unowned", who: dClerkA, act: access.Create, rec: rec{Type: "contact", ID: 20},
			allowed: true, rights: dCR, rels: dRels(access.Unowned)},
		{name: "unknown group is no group of mine", who: dP1, act: access.Read, rec: rec{Type: "contact", ID: 21, Group: dMissingGrp},
			allowed: false, rights: 0, rels: dRels(access.Unowned)},
		{name: "type row replaces the * row", who: dP1, act: access.Update, rec: rec{Type: "sale", ID: 22, Owner: dClerkA, Group: dTeamA},
			allowed: false, rights: 0, rels: dRels(access.PrimaryGroup)},
		{name: "type row, owner", who: dP1, act: access.Delete, rec: rec{Type: "sale", ID: 23, Owner: dP1},
			allowed: true, rights: dFull, rels: dRels(access.Owner)},
		{name: "a type row and no * row: other types get nothing", who: dSeller, act: access.Read, rec: rec{Type: "contact", ID: 28, Owner: dSeller},
			allowed: false, rights: 0, rels: dRels(access.Owner)},
		{name: "a type row and no * row: that type", who: dSeller, act: access.Delete, rec: rec{Type: "sale", ID: 28, Owner: dSeller},
			allowed: true, rights: dFull, rels: dRels(access.Owner)},
		{name: "role without rights", who: dSupportA, act: access.Read, rec: rec{Type: "contact", ID: 24, Owner: dSupportA},
			allowed: false, rights: 0, rels: dRels(access.Owner)},
		{name: "union of cells, create from other group", who: dP1, act: access.Create, rec: rec{Type: "contact", ID: 25, Owner: dP2, Group: dSalesGrp},
			allowed: true, rights: dCRU, rels: dRels(access.OtherGroup, access.Subordinate)},
		{name: "union of cells, update from subordinate", who: dP1, act: access.Update, rec: rec{Type: "contact", ID: 25, Owner: dP2, Group: dSalesGrp},
			allowed: true, rights: dCRU, rels: dRels(access.OtherGroup, access.Subordinate)},
		{name: "several relations at once", who: dP1, act: access.Delete, rec: rec{Type: "contact", ID: 26, Owner: dP1, Team: dKeyAccts, Group: dTeamA, Category: dCatBilling},
			allowed: true, rights: dFull, rels: dRels(access.Owner, access.Team, access.PrimaryGroup, access.CategoryMember)},
		{name: "inside the validity window", who: dWindow, act: access.Create, rec: rec{Type: "contact", ID: 27},
			allowed: true, rights: dCR, rels: dRels(access.Unowned)},
	})
}

// TestCanExternal: external subjects relate to records only as owner, by
// company and by project, never by the fallbacks, and see only published
// records they do not own.
func TestCanExternal(t *testing.T) {
	type rec = access.Record
	dRun(t, dSeed(), []dCase{
		{name: "my company", who: dExt, act: access.Read, rec: rec{Type: "contact", ID: 1, Company: 500, Published: true},
			allowed: true, rights: dR, rels: dRels(access.MyCompany)},
		{name: "my company, update", who: dExt, act: access.Update, rec: rec{Type: "contact", ID: 1, Company: 500, Published: true},
			allowed: false, rights: dR, rels: dRels(access.MyCompany)},
		{name: "same project", who: dExt, act: access.Update, rec: rec{Type: "sale", ID: 2, Project: 7, Published: true},
			allowed: true, rights: dCRU, rels: dRels(access.SameProject)},
		{name: "company and project", who: dExt, act: access.Update, rec: rec{Type: "contact", ID: 3, Company: 500, Project: 7, Published: true},
			allowed: true, rights: dCRU, rels: dRels(access.MyCompany, access.SameProject)},
		{name: "own unpublished record", who: dExt, act: access.Delete, rec: rec{Type: "contact", ID: 4, Owner: dExt, Company: 501},
			allowed: true, rights: dFull, rels: dRels(access.Owner)},
		{name: "unpublished company record", who: dExt, act: access.Read, rec: rec{Type: "contact", ID: 5, Company: 500},
			allowed: false, rights: 0, rels: dRels(access.MyCompany)},
		{name: "unpublished project record", who: dExt, act: access.Read, rec: rec{Type: "sale", ID: 6, Project: 7},
			allowed: false, rights: 0, rels: dRels(access.SameProject)},
		{name: "no fallback to other", who: dExt, act: access.Read, rec: rec{Type: "contact", ID: 7, Owner: dP1, Published: true},
			allowed: false, rights: 0, rels: 0},
		{name: "no fallback to unowned", who: dExt, act: access.Read, rec: rec{Type: "contact", ID: 8, Published: true},
			allowed: false, rights: 0, rels: 0},
		{name: "no group relations", who: dExt, act: access.Read, rec: rec{Type: "contact", ID: 9, Group: dTeamA, Team: dTeamA, Published: true},
			allowed: false, rights: 0, rels: 0},
		{name: "another company", who: dExt, act: access.Read, rec: rec{Type: "contact", ID: 10, Company: 501, Project: 8, Published: true},
			allowed: false, rights: 0, rels: 0},
		{name: "company 0 is no company", who: dExt0, act: access.Read, rec: rec{Type: "contact", ID: 11, Published: true},
			allowed: false, rights: 0, rels: 0},
	})
}

// TestCanGates: a subject that fails a gate gets nothing, system users
// included, even on its own record.
func TestCanGates(t *testing.T) {
	own := func(who access.AssociateID) access.Record {
		return access.Record{Type: "contact", ID: 1, Owner: who}
	}
	dRun(t, dSeed(), []dCase{
		{name: "unknown", who: dGone, act: access.Read, rec: own(dGone), gate: access.GateUnknown},
		{name: "inactive", who: dInactive, act: access.Read, rec: own(dInactive), gate: access.GateInactive},
		{name: "not yet valid", who: dFuture, act: access.Read, rec: own(dFuture), gate: access.GateNotYetValid},
		{name: "expired at ValidTo", who: dExpired, act: access.Read, rec: own(dExpired), gate: access.GateExpired},
		{name: "resource", who: dRoom, act: access.Read, rec: own(dRoom), gate: access.GateResource},
		{name: "anonymous", who: dAnon, act: access.Read, rec: own(dAnon), gate: access.GateAnonymous},
		{name: "inactive before type", who: dOffRoom, act: access.Read, rec: own(dOffRoom), gate: access.GateInactive},
		{name: "inactive system user", who: dSysOff, act: access.Read, rec: own(dSysOff), gate: access.GateInactive},
		{name: "expired system user", who: dSysExpired, act: access.Read, rec: own(dSysExpired), gate: access.GateExpired},
		{name: "inside the window", who: dWindow, act: access.Delete, rec: own(dWindow),
			allowed: true, rights: dFull, rels: dRels(access.Owner)},
	})
}

// TestCanSystemUser: a system user that passes the gates may do anything,
// and no restriction applies to it.
func TestCanSystemUser(t *testing.T) {
	type rec = access.Record
	recs := map[string]rec{
		"someone else's private record": {Type: "contact", ID: 1, Owner: dP1, Visibility: access.VisibleAssociate},
		"a group-only record":           {Type: "sale", ID: 2, Owner: dP1, Group: dTeamA, Visibility: access.VisibleGroup},
		"a members-only category":       {Type: "contact", ID: 3, Category: dCatSupport},
		"an unknown category":           {Type: "contact", ID: 4, Category: dCatMissing},
		"an unpublished record":         {Type: "contact", ID: 5, Company: 500},
	}
	var cases []dCase
	for _, name := range slices.Sorted(maps.Keys(recs)) {
		for act := access.Read; act <= access.Delete; act++ {
			cases = append(cases, dCase{name: name + "/" + act.String(), who: dSys, act: act, rec: recs[name],
				allowed: true, rights: dFull})
		}
	}
	dRun(t, dSeed(), cases)

	e, _ := dResolver(t, dSeed())
	d, err := e.Can(context.Background(), dSys, access.Delete, recs["an unknown category"])
	if err != nil {
		t.Fatal(err)
	}
	want := []access.Cause{{Kind: access.CauseSystem}}
	if diff := cmp.Diff(want, d.Causes()); diff != "" {
		t.Errorf("causes (-want +got):\n%s", diff)
	}
}

// dSharingRules are the rules TestCanSharingRules adds to the seed.
var dSharingRules = []access.SharingRule{
	{ID: 1, Name: "Team A contacts to the clerk", EntityType: "contact",
		From: access.Principals{Groups: []access.GroupID{dTeamA}}, To: access.Principals{Associates: []access.AssociateID{dClerkA}},
		Rights: access.R | access.U},
	{ID: 2, Name: "Sales teams to Oslo", EntityType: "*",
		From: access.Principals{Groups: []access.GroupID{dSalesGrp}}, To: access.Principals{Groups: []access.GroupID{dOslo}},
		Rights: access.C},
	{ID: 3, Name: "Assistants' sales to clerks", EntityType: "sale",
		From: access.Principals{Roles: []access.RoleID{dSalesAsst}}, To: access.Principals{Roles: []access.RoleID{dClerk}},
		Rights: access.D},
	{ID: 4, Name: "Marketing line appointments", EntityType: "appointment",
		From: access.Principals{RolesAndSubordinates: []access.RoleID{dMkt}}, To: access.Principals{Associates: []access.AssociateID{dClerkA}},
		Rights: access.U},
	{ID: 5, Name: "Open leads", EntityType: "lead",
		From: access.Principals{Everyone: true}, To: access.Principals{RolesAndSubordinates: []access.RoleID{dSales}},
		Rights: access.R},
	{ID: 6, Name: "Sales memos to the clerk", EntityType: "memo",
		From: access.Principals{Groups: []access.GroupID{dSalesGrp}}, To: access.Principals{Associates: []access.AssociateID{dClerkA}},
		Rights: access.U},
}

// TestCanSharingRules: a rule adds its rights when the record's owner (by
// id, group, role or role tree) or its team (one of From's groups or
// nested in one) is in From, the subject is in To and the type matches.
func TestCanSharingRules(t *testing.T) {
	type rec = access.Record
	b := dSeed()
	b.SharingRules = dSharingRules
	ru := access.R | access.U
	dRun(t, b, []dCase{
		{name: "owner in a From group", who: dClerkA, act: access.Update, rec: rec{Type: "contact", ID: 1, Owner: dP2},
			allowed: true, rights: ru, rels: dRels(access.Other)},
		{name: "rule for another type", who: dClerkA, act: access.Update, rec: rec{Type: "sale", ID: 2, Owner: dP2},
			allowed: false, rights: access.R | access.D, rels: dRels(access.Other)},
		{name: "owner's role in From", who: dClerkA, act: access.Delete, rec: rec{Type: "sale", ID: 2, Owner: dP2},
			allowed: true, rights: access.R | access.D, rels: dRels(access.Other)},
		{name: "owner's role not in From", who: dClerkA, act: access.Delete, rec: rec{Type: "sale", ID: 3, Owner: dP1},
			allowed: false, rights: dR, rels: dRels(access.Other)},
		{name: "team is a From group", who: dClerkA, act: access.Update, rec: rec{Type: "contact", ID: 4, Team: dTeamA},
			allowed: true, rights: ru, rels: dRels(access.Other)},
		{name: "team nested in a From group, subject in a smart To group", who: dOsloA, act: access.Create, rec: rec{Type: "contact", ID: 5, Team: dTeamB},
			allowed: true, rights: dCR, rels: dRels(access.Other)},
		{name: "team nested in a From group", who: dClerkA, act: access.Update, rec: rec{Type: "memo", ID: 6, Team: dTeamA},
			allowed: true, rights: ru, rels: dRels(access.Other)},
		{name: "team that includes a From group", who: dClerkA, act: access.Update, rec: rec{Type: "memo", ID: 7, Team: dRegion},
			allowed: false, rights: dR, rels: dRels(access.Other)},
		{name: "owner's role below a From role", who: dClerkA, act: access.Update, rec: rec{Type: "appointment", ID: 8, Owner: dP4},
			allowed: true, rights: ru, rels: dRels(access.Other)},
		{name: "owner holds the From role itself", who: dClerkA, act: access.Update, rec: rec{Type: "appointment", ID: 9, Owner: dP3},
			allowed: true, rights: ru, rels: dRels(access.Other)},
		{name: "owner's role outside the From tree", who: dClerkA, act: access.Update, rec: rec{Type: "appointment", ID: 10, Owner: dP1},
			allowed: false, rights: dR, rels: dRels(access.Other)},
		{name: "from everyone: unowned records too", who: dP2, act: access.Read, rec: rec{Type: "lead", ID: 11},
			allowed: true, rights: dR, rels: dRels(access.Unowned)},
		{name: "subject not in To", who: dP3, act: access.Read, rec: rec{Type: "lead", ID: 11},
			allowed: false, rights: 0, rels: dRels(access.Unowned)},
		{name: "subject not in To either", who: dP3, act: access.Update, rec: rec{Type: "contact", ID: 12, Owner: dP2},
			allowed: false, rights: 0, rels: dRels(access.Other)},
		{name: "deleted owner is in no From group", who: dClerkA, act: access.Update, rec: rec{Type: "contact", ID: 13, Owner: dGone},
			allowed: false, rights: dR, rels: dRels(access.Other)},
	})
}

// dGrants are the grants TestCanGrants adds to the seed. The helper is in
// Helpdesk Oslo (primary), so in Helpdesk (which includes it) and Readers
// (secondary): its default permissions are Helpdesk's {contact: R, *: C}
// and Readers' {*: U}.
var dGrants = []access.Grant{
	{ID: 1, Associate: dHelper, EntityType: "contact", RecordID: 5, Rights: access.U},
	{ID: 2, Group: dHelpdesk, EntityType: "sale", Rights: access.D},
	{ID: 3, Group: dTeamB, EntityType: "*", Rights: access.R},
	{ID: 4, Associate: dHelper, EntityType: "task", Rights: 0},
	{ID: 5, Associate: dSupportA, EntityType: "contact", RecordID: 5, Rights: access.C},
}

// TestCanGrants: grants to the subject or its groups add rights; group
// default permissions apply only where no grant covers the record.
func TestCanGrants(t *testing.T) {
	type rec = access.Record
	b := dSeed()
	b.Grants = dGrants
	dRun(t, b, []dCase{
		{name: "defaults of a nested group and a secondary one", who: dHelper, act: access.Read, rec: rec{Type: "contact", ID: 6},
			allowed: true, rights: access.R | access.U, rels: dRels(access.Unowned)},
		{name: "a default's type row replaces its * row", who: dHelper, act: access.Create, rec: rec{Type: "contact", ID: 6},
			allowed: false, rights: access.R | access.U, rels: dRels(access.Unowned)},
		{name: "a default's * row", who: dHelper, act: access.Create, rec: rec{Type: "appointment", ID: 6},
			allowed: true, rights: access.C | access.U, rels: dRels(access.Unowned)},
		{name: "a record grant replaces the defaults", who: dHelper, act: access.Read, rec: rec{Type: "contact", ID: 5},
			allowed: false, rights: access.U, rels: dRels(access.Unowned)},
		{name: "a record grant", who: dHelper, act: access.Update, rec: rec{Type: "contact", ID: 5},
			allowed: true, rights: access.U, rels: dRels(access.Unowned)},
		{name: "a record grant does not cover record 0", who: dHelper, act: access.Read, rec: rec{Type: "contact"},
			allowed: true, rights: access.R | access.U, rels: dRels(access.Unowned)},
		{name: "a record grant does not cover another type", who: dHelper, act: access.Read, rec: rec{Type: "memo", ID: 5},
			allowed: false, rights: access.C | access.U, rels: dRels(access.Unowned)},
		{name: "a type grant to a group the subject is in through nesting", who: dHelper, act: access.Delete, rec: rec{Type: "sale", ID: 9},
			allowed: true, rights: access.D, rels: dRels(access.Unowned)},
		{name: "a type grant replaces the defaults", who: dHelper, act: access.Create, rec: rec{Type: "sale", ID: 9},
			allowed: false, rights: access.D, rels: dRels(access.Unowned)},
		{name: "a * grant to a group", who: dP4, act: access.Read, rec: rec{Type: "invoice", ID: 1, Owner: dP1},
			allowed: true, rights: dR, rels: dRels(access.Other)},
		{name: "a grant to a group the subject is not in", who: dP2, act: access.Read, rec: rec{Type: "invoice", ID: 1, Owner: dP1},
			allowed: false, rights: 0, rels: dRels(access.Other)},
		{name: "an empty grant still covers the record", who: dHelper, act: access.Read, rec: rec{Type: "task", ID: 1},
			allowed: false, rights: 0, rels: dRels(access.Unowned)},
		{name: "a record grant adds to a role without rights", who: dSupportA, act: access.Create, rec: rec{Type: "contact", ID: 5},
			allowed: true, rights: access.C, rels: dRels(access.Unowned)},
	})
}

// TestCanRestrictions: visibility, publication and members-only
// categories take everything away, whatever granted it.
func TestCanRestrictions(t *testing.T) {
	type rec = access.Record
	b := dSeed()
	b.SharingRules = []access.SharingRule{{ID: 7, Name: "Public notes", EntityType: "note",
		From: access.Principals{Everyone: true}, To: access.Principals{Everyone: true}, Rights: access.R}}
	b.Grants = []access.Grant{{ID: 6, Group: dHome, EntityType: "note", Rights: dFull}}
	assoc, group := access.VisibleAssociate, access.VisibleGroup
	dRun(t, b, []dCase{
		{name: "associate only: the owner keeps", who: dP1, act: access.Delete, rec: rec{Type: "contact", ID: 1, Owner: dP1, Group: dTeamA, Visibility: assoc},
			allowed: true, rights: dFull, rels: dRels(access.Owner, access.PrimaryGroup)},
		{name: "associate only: a group member loses", who: dP2, act: access.Read, rec: rec{Type: "contact", ID: 1, Owner: dP1, Group: dTeamA, Visibility: assoc},
			allowed: false, rights: 0, rels: dRels(access.OtherGroup)},
		{name: "associate only: a superior loses", who: dCEOA, act: access.Read, rec: rec{Type: "contact", ID: 2, Owner: dP2, Visibility: assoc},
			allowed: false, rights: 0, rels: dRels(access.Subordinate)},
		{name: "group only: a member keeps", who: dP2, act: access.Read, rec: rec{Type: "contact", ID: 3, Owner: dP1, Group: dTeamA, Visibility: group},
			allowed: true, rights: dR, rels: dRels(access.OtherGroup)},
		{name: "group only: a member through nesting keeps", who: dP1, act: access.Create, rec: rec{Type: "contact", ID: 4, Owner: dClerkA, Group: dSalesGrp, Visibility: group},
			allowed: true, rights: dCR, rels: dRels(access.OtherGroup)},
		{name: "group only: others lose", who: dClerkA, act: access.Read, rec: rec{Type: "contact", ID: 3, Owner: dP1, Group: dTeamA, Visibility: group},
			allowed: false, rights: 0, rels: dRels(access.Other)},
		{name: "group only: a superior outside the group loses", who: dCEOA, act: access.Read, rec: rec{Type: "contact", ID: 5, Owner: dP2, Group: dTeamA, Visibility: group},
			allowed: false, rights: 0, rels: dRels(access.Subordinate)},
		{name: "group only without a group: the owner keeps", who: dP1, act: access.Read, rec: rec{Type: "contact", ID: 6, Owner: dP1, Visibility: group},
			allowed: true, rights: dFull, rels: dRels(access.Owner)},
		{name: "group only without a group: others lose", who: dClerkA, act: access.Read, rec: rec{Type: "contact", ID: 6, Owner: dP1, Visibility: group},
			allowed: false, rights: 0, rels: dRels(access.Other)},
		{name: "without a restriction the rule and grant apply", who: dClerkA, act: access.Delete, rec: rec{Type: "note", ID: 7, Owner: dP1},
			allowed: true, rights: dFull, rels: dRels(access.Other)},
		{name: "restrictions remove what rules and grants add", who: dClerkA, act: access.Read, rec: rec{Type: "note", ID: 7, Owner: dP1, Visibility: assoc},
			allowed: false, rights: 0, rels: dRels(access.Other)},
		{name: "published: an external reads by company and rule", who: dExt, act: access.Read, rec: rec{Type: "note", ID: 8, Company: 500, Published: true},
			allowed: true, rights: dR, rels: dRels(access.MyCompany)},
		{name: "unpublished: an external loses role and rule rights", who: dExt, act: access.Read, rec: rec{Type: "note", ID: 8, Company: 500},
			allowed: false, rights: 0, rels: dRels(access.MyCompany)},
		{name: "unpublished: internals keep", who: dClerkA, act: access.Read, rec: rec{Type: "contact", ID: 9, Owner: dP1},
			allowed: true, rights: dR, rels: dRels(access.Other)},
		{name: "members only: a member keeps", who: dAgent, act: access.Update, rec: rec{Type: "contact", ID: 10, Owner: dClerkA, Category: dCatSupport},
			allowed: true, rights: dCRU, rels: dRels(access.CategoryMember)},
		{name: "members only: a non-member loses", who: dClerkA, act: access.Read, rec: rec{Type: "contact", ID: 10, Owner: dP1, Category: dCatSupport},
			allowed: false, rights: 0, rels: dRels(access.Other)},
		{name: "members only: even the owner loses", who: dP1, act: access.Read, rec: rec{Type: "contact", ID: 11, Owner: dP1, Category: dCatSupport},
			allowed: false, rights: 0, rels: dRels(access.Owner)},
		{name: "members only: the role is listed but there is no service login", who: dClerkA, act: access.Read, rec: rec{Type: "contact", ID: 12, Category: dCatComplaints},
			allowed: false, rights: 0, rels: dRels(access.Unowned)},
		{name: "members only: grants are removed too", who: dClerkA, act: access.Read, rec: rec{Type: "note", ID: 13, Category: dCatSupport},
			allowed: false, rights: 0, rels: dRels(access.Unowned)},
		{name: "unknown category fails closed", who: dP1, act: access.Read, rec: rec{Type: "contact", ID: 14, Owner: dP1, Category: dCatMissing},
			allowed: false, rights: 0, rels: dRels(access.Owner)},
		{name: "an open category restricts nothing", who: dClerkA, act: access.Read, rec: rec{Type: "contact", ID: 15, Owner: dP1, Category: dCatBilling},
			allowed: true, rights: dR, rels: dRels(access.Other)},
	})
}

// TestSeedGroupOwnedRecords: the vtiger examples. A record assigned to a
// group is owned by every effective member of it: the role's Team cell
// applies to each of them, whether they are members directly, through a
// nested group, through their role (with or without subordinates) or
// through a smart rule. Everyone else falls back to Other.
func TestSeedGroupOwnedRecords(t *testing.T) {
	type rec = access.Record
	owned := func(name string, team access.GroupID, owners, others []access.AssociateID) []dCase {
		var cases []dCase
		r := rec{Type: "appointment", ID: int64(team), Team: team}
		for _, who := range owners {
			cases = append(cases, dCase{name: fmt.Sprintf("%s/%d is an owner", name, who), who: who, act: access.Delete, rec: r,
				allowed: true, rights: dFull, rels: dRels(access.Team)})
		}
		for _, who := range others {
			var rights access.CRUD
			if who == dClerkA || who == dOsloA || who == dCEOA {
				rights = dR // the Other cell of Clerk and CEO
			}
			cases = append(cases, dCase{name: fmt.Sprintf("%s/%d is not", name, who), who: who, act: access.Delete, rec: r,
				allowed: false, rights: rights, rels: dRels(access.Other)})
		}
		return cases
	}
	var cases []dCase
	// Team A and Team B hold persons 1–2 and 3–4; the group "Sales"
	// includes both teams.
	cases = append(cases, owned("Team A", dTeamA, []access.AssociateID{dP1, dP2}, []access.AssociateID{dP3, dP4, dClerkA})...)
	cases = append(cases, owned("group of groups Sales", dSalesGrp,
		[]access.AssociateID{dP1, dP2, dP3, dP4}, []access.AssociateID{dClerkA, dCEOA, dOsloA})...)
	// The group of roles lists Sales and Marketing: their assistants are
	// not members.
	cases = append(cases, owned("group of roles", dRoleGrp,
		[]access.AssociateID{dP1, dP3}, []access.AssociateID{dP2, dP4, dCEOA})...)
	// With subordinates, the assistants are members; the CEO above is not.
	cases = append(cases, owned("roles and subordinates", dTreeGrp,
		[]access.AssociateID{dP1, dP2, dP3, dP4}, []access.AssociateID{dCEOA, dClerkA})...)
	// Key accounts lists Team A, the role Marketing (not its subordinates)
	// and Field team, which lists the smart group Oslo.
	cases = append(cases, owned("nesting, roles and smart rules", dKeyAccts,
		[]access.AssociateID{dP1, dP2, dP3, dOsloA}, []access.AssociateID{dP4, dClerkA, dCEOA})...)
	dRun(t, dSeed(), cases)
}

// TestStampStaysWithGroup: the SuperOffice rule. A record keeps the group
// stamped on it when it was assigned, so when its owner moves to another
// primary group, or is deleted, the record stays with the members of the
// old group and does not follow the owner.
func TestStampStaysWithGroup(t *testing.T) {
	ctx := context.Background()
	const mover, teamBClerk access.AssociateID = 130, 131
	b := dSeed()
	b.Associates = append(b.Associates,
		access.Associate{ID: mover, Name: "mover", PrimaryGroup: dTeamA, Role: dClerk, Active: true},
		access.Associate{ID: teamBClerk, Name: "team-b-clerk", PrimaryGroup: dTeamB, Role: dClerk, Active: true})
	e, s := dResolver(t, b)

	check := func(step string, who access.AssociateID, act access.Action, r access.Record, allowed bool, rels access.Relations) {
		t.Helper()
		d, err := e.Can(ctx, who, act, r)
		if err != nil {
			t.Fatalf("%s: Can: %v", step, err)
		}
		if d.Allowed != allowed || d.Relations != rels {
			t.Errorf("%s: %d %s on %+v: allowed %v with relations %s, want %v with %s\n%s",
				step, who, act, r, d.Allowed, d.Relations, allowed, rels, d)
		}
	}
	stamp := func(who access.AssociateID) access.Stamp {
		t.Helper()
		st, err := e.Stamp(ctx, who)
		if err != nil {
			t.Fatalf("Stamp(%d): %v", who, err)
		}
		return st
	}

	st := stamp(mover)
	if want := (access.Stamp{Owner: mover, Group: dTeamA}); st != want {
		t.Fatalf("Stamp = %+v, want %+v", st, want)
	}
	old := access.Record{Type: "appointment", ID: 1, Owner: st.Owner, Group: st.Group}
	check("assigned", dP1, access.Update, old, true, dRels(access.PrimaryGroup))
	check("assigned", teamBClerk, access.Update, old, false, dRels(access.Other))

	// The mover changes primary group from Team A to Team B.
	for i := range b.Associates {
		if b.Associates[i].ID == mover {
			b.Associates[i].PrimaryGroup = dTeamB
		}
	}
	s.set(b)
	if err := e.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	st = stamp(mover)
	if want := (access.Stamp{Owner: mover, Group: dTeamB}); st != want {
		t.Fatalf("after the move: Stamp = %+v, want %+v", st, want)
	}
	check("moved", dP1, access.Update, old, true, dRels(access.PrimaryGroup))
	check("moved", teamBClerk, access.Update, old, false, dRels(access.Other))
	check("moved", mover, access.Delete, old, true, dRels(access.Owner))
	assigned := access.Record{Type: "appointment", ID: 2, Owner: st.Owner, Group: st.Group}
	check("assigned after the move", teamBClerk, access.Update, assigned, true, dRels(access.PrimaryGroup))
	check("assigned after the move", dP1, access.Update, assigned, false, dRels(access.Other))

	// The mover is deleted.
	b.Associates = slices.DeleteFunc(b.Associates, func(a access.Associate) bool { return a.ID == mover })
	s.set(b)
	if err := e.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Stamp(ctx, mover); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("Stamp of a deleted associate: %v, want ErrNotFound", err)
	}
	check("deleted", dP1, access.Update, old, true, dRels(access.PrimaryGroup))
	check("deleted", teamBClerk, access.Update, old, false, dRels(access.Other))
	check("deleted", teamBClerk, access.Update, assigned, true, dRels(access.PrimaryGroup))
}

// TestStamp: the stamp is the associate and its current primary group;
// associates without usergroups stamp no group.
func TestStamp(t *testing.T) {
	e, _ := dResolver(t, dSeed())
	for _, c := range []struct {
		who  access.AssociateID
		want access.Stamp
	}{
		{dP1, access.Stamp{Owner: dP1, Group: dTeamA}},
		{dP2, access.Stamp{Owner: dP2, Group: dHome}},
		{dHelper, access.Stamp{Owner: dHelper, Group: dHelpOslo}},
		{dExt, access.Stamp{Owner: dExt}},
		{dSys, access.Stamp{Owner: dSys}},
		{dInactive, access.Stamp{Owner: dInactive, Group: dHome}},
	} {
		got, err := e.Stamp(context.Background(), c.who)
		if err != nil || got != c.want {
			t.Errorf("Stamp(%d) = %+v, %v; want %+v", c.who, got, err, c.want)
		}
	}
	if _, err := e.Stamp(context.Background(), dGone); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("Stamp(unknown): %v, want ErrNotFound", err)
	}
}

// TestCanDeletedOwner: deleting an associate ends the Subordinate relation
// to its records (a deleted owner has no role), while the stamped group
// still relates them to its members.
func TestCanDeletedOwner(t *testing.T) {
	ctx := context.Background()
	b := dSeed()
	e, s := dResolver(t, b)
	r := access.Record{Type: "contact", ID: 1, Owner: dP2, Group: dHome}
	before, err := e.Can(ctx, dCEOA, access.Delete, r)
	if err != nil {
		t.Fatal(err)
	}
	// The CEO is in Head office too: primary group and subordinate.
	if !before.Allowed || before.Relations != dRels(access.PrimaryGroup, access.Subordinate) {
		t.Fatalf("before: %s (relations %s)", before, before.Relations)
	}
	b.Associates = slices.DeleteFunc(b.Associates, func(a access.Associate) bool { return a.ID == dP2 })
	s.set(b)
	if err := e.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := e.Can(ctx, dCEOA, access.Delete, r)
	if err != nil {
		t.Fatal(err)
	}
	want := dOutcome{false, dCRU.String(), dRels(access.PrimaryGroup).String(), "passed"}
	got := dOutcome{after.Allowed, after.Rights.String(), after.Relations.String(), after.Gate.String()}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after deleting the owner (-want +got):\n%s%s", diff, after)
	}
}

// TestHas: functional rights come from the role or any effective group;
// system users hold all of them; a subject that fails a gate none.
func TestHas(t *testing.T) {
	b := dSeed()
	e, _ := dResolver(t, b)
	m := newDecModel(&b)
	for _, c := range []struct {
		name  string
		who   access.AssociateID
		right string
		want  bool
	}{
		{"from the role", dP1, access.FuncExportSelection, true},
		{"not the superior's", dP2, access.FuncExportSelection, false},
		{"from a group through nesting", dP1, access.FuncBackendLogin, true},
		{"from a group through a secondary link and nesting", dP4, access.FuncBackendLogin, true},
		{"from no group", dClerkA, access.FuncBackendLogin, false},
		{"from the top role", dCEOA, access.FuncUserAdmin, true},
		{"system user", dSys, "anything at all", true},
		{"inactive system user", dSysOff, "anything at all", false},
		{"inactive, though the role has it", dInactive, access.FuncUserAdmin, false},
		{"expired, though the role has it", dExpired, access.FuncUserAdmin, false},
		{"unknown", dGone, access.FuncUserAdmin, false},
		{"external without it", dExt, access.FuncBackendLogin, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := e.Has(context.Background(), c.who, c.right)
			if err != nil || got != c.want {
				t.Errorf("Has(%d, %q) = %v, %v; want %v", c.who, c.right, got, err, c.want)
			}
			if ref := m.has(c.who, c.right, dNow); ref != c.want {
				t.Errorf("reference: %v, want %v", ref, c.want)
			}
		})
	}
	if ok, err := e.Has(context.Background(), dSys, ""); ok || !errors.Is(err, access.ErrInvalid) {
		t.Errorf("Has(empty right) = %v, %v; want false and ErrInvalid", ok, err)
	}
}

// dLevelRows transcribes the table in the UserLevels documentation: the
// "*" row of each level, relation by relation.
func dLevelRows() []access.Grid {
	all := func(c access.CRUD) access.Grid {
		g := access.Grid{}
		for r := access.Owner; r <= access.Unowned; r++ {
			g[r] = c
		}
		return g
	}
	return []access.Grid{
		all(dFull),
		all(dFull),
		{access.Owner: dFull, access.Team: dFull, access.PrimaryGroup: dFull, access.OtherGroup: dFull,
			access.Subordinate: dCRU, access.CategoryMember: dCRU, access.Unowned: dCRU,
			access.Other: dR, access.MyCompany: dR, access.SameProject: dR},
		{access.Owner: dFull, access.Team: dFull, access.PrimaryGroup: dR, access.OtherGroup: dR,
			access.Subordinate: dR, access.CategoryMember: dR, access.Other: dR, access.Unowned: dR,
			access.MyCompany: dR, access.SameProject: dR},
		{access.Owner: dFull, access.Team: dFull, access.PrimaryGroup: dR, access.OtherGroup: dR,
			access.Subordinate: dR, access.CategoryMember: dR, access.Unowned: dR,
			access.MyCompany: dR, access.SameProject: dR},
		{access.Owner: dR, access.Team: dR, access.PrimaryGroup: dR, access.OtherGroup: dR,
			access.Subordinate: dR, access.CategoryMember: dR, access.Unowned: dR,
			access.MyCompany: dR, access.SameProject: dR},
	}
}

// TestUserLevels: the six default roles are as documented, each is lint
// clean, and each level's rights — every cell of every row, with the "*"
// fallback, and the functional rights — are a strict subset of the level
// above's.
func TestUserLevels(t *testing.T) {
	levels := access.UserLevels()
	if len(levels) != 6 {
		t.Fatalf("UserLevels returned %d roles, want 6", len(levels))
	}
	rows := dLevelRows()
	for i, l := range levels {
		if want := fmt.Sprintf("User level %d", i); l.Name != want || l.ID != access.RoleID(i+1) || l.Parent != 0 {
			t.Errorf("level %d: id %d, name %q, parent %d; want id %d, %q, no parent", i, l.ID, l.Name, l.Parent, i+1, want)
		}
		if diff := cmp.Diff(rows[i], dNonEmpty(l.Rights["*"])); diff != "" {
			t.Errorf("level %d: * row differs from the documentation (-want +got):\n%s", i, diff)
		}
		if lint := l.Lint(); len(lint) != 0 {
			t.Errorf("level %d: Lint: %v", i, lint)
		}
	}
	appt := dNonEmpty(levels[5].Rights["appointment"])
	wantAppt := rows[5]
	wantAppt[access.Owner], wantAppt[access.Team] = dCR, dCR
	if diff := cmp.Diff(wantAppt, appt); diff != "" {
		t.Errorf("level 5: appointment row (-want +got):\n%s", diff)
	}

	types := []string{"*", "appointment", "contact"} // contact: no row, falls back to *
	cell := func(r access.Role, typ string, rel access.Relation) access.CRUD {
		g, ok := r.Rights[typ]
		if !ok {
			g = r.Rights["*"]
		}
		return g[rel]
	}
	for i := 1; i < len(levels); i++ {
		hi, lo := levels[i-1], levels[i]
		strict := false
		for _, typ := range types {
			for rel := access.Owner; rel <= access.Unowned; rel++ {
				h, l := cell(hi, typ, rel), cell(lo, typ, rel)
				if l&^h != 0 {
					t.Errorf("%s grants %s on %q for %s beyond %s's %s", lo.Name, l&^h, typ, rel, hi.Name, h)
				}
				strict = strict || h&^l != 0
			}
		}
		for _, f := range lo.Functions {
			if !slices.Contains(hi.Functions, f) {
				t.Errorf("%s has functional right %q, %s does not", lo.Name, f, hi.Name)
			}
		}
		strict = strict || len(lo.Functions) < len(hi.Functions)
		if !strict {
			t.Errorf("%s has every right %s has: not a strict subset", hi.Name, lo.Name)
		}
	}

	// Each call hands out new values.
	levels[0].Rights["*"][access.Owner] = 0
	levels[0].Functions[0] = "changed"
	again := access.UserLevels()
	if again[0].Rights["*"][access.Owner] != dFull || again[0].Functions[0] == "changed" {
		t.Error("UserLevels shares its values between calls")
	}
}

// dNonEmpty drops the empty cells of a grid, which grant nothing.
func dNonEmpty(g access.Grid) access.Grid {
	out := access.Grid{}
	for r, c := range g {
		if c != 0 {
			out[r] = c
		}
	}
	return out
}

// TestLevelPresets: each preset includes the one below it, so that an
// action allowed at a level is allowed at every level above, Full ⇒
// Update ⇒ Create ⇒ Read.
func TestLevelPresets(t *testing.T) {
	presets := []struct {
		c    access.CRUD
		name string
		may  []access.Action
	}{
		{access.LevelNone, "-", nil},
		{access.LevelRead, "R", []access.Action{access.Read}},
		{access.LevelCreate, "CR", []access.Action{access.Read, access.Create}},
		{access.LevelUpdate, "CRU", []access.Action{access.Read, access.Create, access.Update}},
		{access.LevelFull, "CRUD", []access.Action{access.Read, access.Create, access.Update, access.Delete}},
	}
	for i, p := range presets {
		if p.c.String() != p.name {
			t.Errorf("preset %d renders %q, want %q", i, p.c, p.name)
		}
		for act := access.Read; act <= access.Delete; act++ {
			if got, want := p.c.Allows(act), slices.Contains(p.may, act); got != want {
				t.Errorf("%s.Allows(%s) = %v, want %v", p.c, act, got, want)
			}
		}
		if p.c.Allows(access.Delete) && !p.c.Allows(access.Update) ||
			p.c.Allows(access.Update) && !p.c.Allows(access.Create) ||
			p.c.Allows(access.Create) && !p.c.Allows(access.Read) {
			t.Errorf("%s breaks Full ⇒ Update ⇒ Create ⇒ Read", p.c)
		}
		if i > 0 {
			below := presets[i-1].c
			if below&^p.c != 0 || below == p.c {
				t.Errorf("%s does not strictly include %s", p.c, below)
			}
		}
	}
}

// TestRoleLint: Lint reports each cell where a relation farther from the
// subject grants what a closer one does not, per entity type.
func TestRoleLint(t *testing.T) {
	for _, c := range []struct {
		name   string
		rights map[string]access.Grid
		want   []access.Lint
	}{
		{"empty", nil, nil},
		{"monotone", map[string]access.Grid{"*": {access.Owner: dFull, access.Team: dFull, access.PrimaryGroup: dCRU,
			access.OtherGroup: dR, access.Subordinate: dR, access.CategoryMember: dR, access.Other: dR}}, nil},
		// Other is farther than every relation but the external ones.
		{"other beyond everything", map[string]access.Grid{"*": {access.Owner: dR, access.Other: dFull}}, []access.Lint{
			{EntityType: "*", Closer: access.Owner, Farther: access.Other, Extra: access.C | access.U | access.D},
			// A team member is an owner: the team's cell is the owner's.
			{EntityType: "*", Closer: access.Team, Farther: access.Other, Extra: access.C | access.U | access.D},
			{EntityType: "*", Closer: access.PrimaryGroup, Farther: access.Other, Extra: dFull},
			{EntityType: "*", Closer: access.OtherGroup, Farther: access.Other, Extra: dFull},
			{EntityType: "*", Closer: access.Subordinate, Farther: access.Other, Extra: dFull},
			{EntityType: "*", Closer: access.CategoryMember, Farther: access.Other, Extra: dFull},
		}},
		{"other group beyond primary group", map[string]access.Grid{"contact": {
			access.Owner: dFull, access.PrimaryGroup: dR, access.OtherGroup: access.R | access.D}}, []access.Lint{
			{EntityType: "contact", Farther: access.OtherGroup, Extra: access.R | access.D}, // RD is no level
			{EntityType: "contact", Closer: access.PrimaryGroup, Farther: access.OtherGroup, Extra: access.D},
		}},
		{"a limited team", map[string]access.Grid{"*": {access.Owner: dFull, access.Team: dR, access.Other: access.R | access.U}}, []access.Lint{
			{EntityType: "*", Farther: access.Other, Extra: access.R | access.U},
			{EntityType: "*", Closer: access.Team, Farther: access.Other, Extra: access.U},
			{EntityType: "*", Closer: access.PrimaryGroup, Farther: access.Other, Extra: access.R | access.U},
			{EntityType: "*", Closer: access.OtherGroup, Farther: access.Other, Extra: access.R | access.U},
			{EntityType: "*", Closer: access.Subordinate, Farther: access.Other, Extra: access.R | access.U},
			{EntityType: "*", Closer: access.CategoryMember, Farther: access.Other, Extra: access.R | access.U},
		}},
		{"per type", map[string]access.Grid{
			"sale": {access.Owner: dFull, access.Team: dFull, access.Other: dR},
			"*":    {access.Subordinate: dR, access.MyCompany: access.C},
		}, []access.Lint{
			{EntityType: "*", Closer: access.Owner, Farther: access.Subordinate, Extra: dR},
			{EntityType: "*", Farther: access.MyCompany, Extra: access.C},
			{EntityType: "*", Closer: access.Owner, Farther: access.MyCompany, Extra: access.C},
			{EntityType: "sale", Closer: access.PrimaryGroup, Farther: access.Other, Extra: dR},
			{EntityType: "sale", Closer: access.OtherGroup, Farther: access.Other, Extra: dR},
			{EntityType: "sale", Closer: access.Subordinate, Farther: access.Other, Extra: dR},
			{EntityType: "sale", Closer: access.CategoryMember, Farther: access.Other, Extra: dR},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := access.Role{ID: 1, Name: c.name, Rights: c.rights, LimitTeams: c.name == "a limited team"}
			got := r.Lint()
			// The documented order is by entity type; within a type the
			// order of relation pairs is not pinned, so compare as sets.
			for i := 1; i < len(got); i++ {
				if got[i-1].EntityType > got[i].EntityType {
					t.Errorf("findings not sorted by entity type: %v", got)
				}
			}
			key := func(l access.Lint) string { return l.String() }
			sortLints := func(ls []access.Lint) []access.Lint {
				ls = slices.Clone(ls)
				slices.SortFunc(ls, func(a, b access.Lint) int { return strings.Compare(key(a), key(b)) })
				return ls
			}
			if diff := cmp.Diff(sortLints(c.want), sortLints(got)); diff != "" {
				t.Errorf("Lint (-want +got):\n%s", diff)
			}
		})
	}
	l := access.Lint{EntityType: "contact", Closer: access.PrimaryGroup, Farther: access.OtherGroup, Extra: access.D}
	if got, want := l.String(), `"contact": other group grants D beyond primary group`; got != want {
		t.Errorf("Lint.String() = %q, want %q", got, want)
	}
}

// TestCanInvalidRequestDenies: an invalid action, record type or
// visibility is an error, and the decision that comes with it denies,
// even for a system user or the record's owner.
func TestCanInvalidRequestDenies(t *testing.T) {
	b := dSeed()
	b.Impersonations = []access.Impersonation{{ID: 1, Actor: access.Principal{Associate: dClerkA}, Target: access.Principal{Associate: dP1}}}
	e, _ := dResolver(t, b)
	ctx := context.Background()
	as, err := e.Impersonate(ctx, dClerkA, dP1)
	if err != nil {
		t.Fatal(err)
	}
	own := access.Record{Type: "contact", ID: 1, Owner: dP1}
	for _, c := range []struct {
		name string
		act  access.Action
		rec  access.Record
	}{
		{"action 0", 0, own},
		{"action 5", access.Delete + 1, own},
		{"action 255", 255, own},
		{"empty type", access.Read, access.Record{ID: 1, Owner: dP1}},
		{"wildcard type", access.Read, access.Record{Type: "*", ID: 1, Owner: dP1}},
		{"visibility 3", access.Read, access.Record{Type: "contact", ID: 1, Owner: dP1, Visibility: access.VisibleAssociate + 1}},
		{"visibility 200", access.Read, access.Record{Type: "contact", ID: 1, Owner: dP1, Visibility: 200}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, who := range []access.AssociateID{dP1, dSys} {
				d, err := e.Can(ctx, who, c.act, c.rec)
				if !errors.Is(err, access.ErrInvalid) {
					t.Errorf("Can(%d): error %v, want ErrInvalid", who, err)
				}
				if d.Allowed || d.Rights != 0 {
					t.Errorf("Can(%d) with an error: %s (rights %s)", who, d, d.Rights)
				}
			}
			d, err := e.CanAs(ctx, as, c.act, c.rec)
			if !errors.Is(err, access.ErrInvalid) || d.Allowed || d.Rights != 0 {
				t.Errorf("CanAs: %s, %v; want a deny and ErrInvalid", d, err)
			}
		})
	}
	// A zero Decision denies.
	var zero access.Decision
	if zero.Allowed || zero.Rights != 0 {
		t.Error("the zero Decision allows")
	}
}

// TestCanStaleDenies: a resolver that has not heard from its store for
// longer than MaxStaleness fails closed: every decision denies with an
// error, until a refresh succeeds.
func TestCanStaleDenies(t *testing.T) {
	ctx := context.Background()
	b := dSeed()
	b.Impersonations = []access.Impersonation{{ID: 1, Actor: access.Principal{Associate: dClerkA}, Target: access.Principal{Associate: dP2}}}
	var clock sync.Mutex
	now := dNow
	tick := func(d time.Duration) { clock.Lock(); now = now.Add(d); clock.Unlock() }
	s := &dStore{}
	s.set(b)
	e, err := access.NewResolver(ctx, s, access.WithClock(&access.Options{PollInterval: -1, MaxStaleness: time.Minute,
		Logger: discard, Now: func() time.Time { clock.Lock(); defer clock.Unlock(); return now }},
		func() time.Duration { clock.Lock(); defer clock.Unlock(); return now.Sub(dNow) }))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	own := access.Record{Type: "contact", ID: 1, Owner: dP2}
	as, err := e.Impersonate(ctx, dClerkA, dP2)
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, stale bool) {
		t.Helper()
		for _, who := range []access.AssociateID{dP2, dSys} {
			d, err := e.Can(ctx, who, access.Delete, own)
			if stale != errors.Is(err, access.ErrStale) || d.Allowed == stale {
				t.Errorf("%s: Can(%d) = %s, %v; stale %v", step, who, d, err, stale)
			}
			if stale && d.Rights != 0 {
				t.Errorf("%s: a stale decision holds rights %s", step, d.Rights)
			}
		}
		d, err := e.CanAs(ctx, as, access.Delete, own)
		if stale != errors.Is(err, access.ErrStale) || d.Allowed == stale {
			t.Errorf("%s: CanAs = %s, %v; stale %v", step, d, err, stale)
		}
		ok, err := e.Has(ctx, dSys, "anything")
		if stale != errors.Is(err, access.ErrStale) || ok == stale {
			t.Errorf("%s: Has = %v, %v; stale %v", step, ok, err, stale)
		}
	}
	check("fresh", false)
	tick(59 * time.Second)
	check("just within the limit", false)
	tick(2 * time.Second)
	check("past the limit", true)
	if err := e.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	check("refreshed", false)
	s.mu.Lock()
	s.down = true
	s.mu.Unlock()
	if err := e.Refresh(ctx); !errors.Is(err, errDStoreDown) {
		t.Fatalf("Refresh with the store down: %v", err)
	}
	check("store down, not yet stale", false)
	tick(2 * time.Minute)
	check("store down and stale", true)
}

// TestCanAsDecidesAsTarget: acting on behalf of another associate decides as that
// associate alone and records the actor; a refused impersonation denies
// with the refusal.
func TestCanAsDecidesAsTarget(t *testing.T) {
	b := dSeed()
	b.Impersonations = []access.Impersonation{{ID: 1, Actor: access.Principal{Associate: dClerkA}, Target: access.Principal{Associate: dP2}}}
	e, _ := dResolver(t, b)
	ctx := context.Background()
	as, err := e.Impersonate(ctx, dClerkA, dP2)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []access.Record{
		{Type: "contact", ID: 1, Owner: dP1},                // the clerk may read it (Other), person2 not
		{Type: "contact", ID: 2, Owner: dClerkA},            // the clerk's own
		{Type: "contact", ID: 3, Team: dTeamA},              // person2's team
		{Type: "contact", ID: 4, Owner: dP1, Group: dTeamA}, // person2's other group
	} {
		for act := access.Read; act <= access.Delete; act++ {
			got, err := e.CanAs(ctx, as, act, r)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := e.Can(ctx, dP2, act, r)
			if got.Allowed != want.Allowed || got.Rights != want.Rights || got.Relations != want.Relations {
				t.Errorf("CanAs %s %+v: %s; as person2 alone: %s", act, r, got, want)
			}
			if got.Actor != dClerkA || got.Subject != dP2 {
				t.Errorf("CanAs: actor %d, subject %d; want %d, %d", got.Actor, got.Subject, dClerkA, dP2)
			}
		}
	}
	d, err := e.CanAs(ctx, access.Acting{Actor: dClerkA, Target: dP1, Rule: 1}, access.Read, access.Record{Type: "contact", Owner: dP1})
	if !errors.Is(err, access.ErrImpersonation) || d.Allowed {
		t.Errorf("CanAs without a rule: %s, %v; want a deny and ErrImpersonation", d, err)
	}
}

// ---- Explanations ----

// dGoldenOrg is the seed with the sharing rules and grants of the tests
// above, an impersonation rule, and enough rules and grants on memos to
// overflow a decision's inline causes.
func dGoldenOrg() access.Batch {
	b := dSeed()
	b.SharingRules = slices.Clone(dSharingRules)
	for i, c := range []access.CRUD{access.R, access.C, access.U, access.D} {
		b.SharingRules = append(b.SharingRules, access.SharingRule{ID: access.RuleID(11 + i), EntityType: "memo",
			From: access.Principals{Everyone: true}, To: access.Principals{Associates: []access.AssociateID{dP1}}, Rights: c})
	}
	b.Grants = slices.Clone(dGrants)
	for i := range 3 {
		b.Grants = append(b.Grants, access.Grant{ID: access.GrantID(11 + i), Associate: dP1, EntityType: "memo", Rights: access.R})
	}
	b.Impersonations = []access.Impersonation{{ID: 1, Actor: access.Principal{Associate: dClerkA}, Target: access.Principal{Associate: dP2}}}
	// A role whose primary group cell grants less than its other cell.
	b.Roles = append(b.Roles, access.Role{ID: dFrontRole, Name: "Front desk", Rights: map[string]access.Grid{
		"*": {access.Owner: dFull, access.PrimaryGroup: access.LevelNone, access.Other: dR}}})
	b.Associates = append(b.Associates, access.Associate{ID: dFront, Name: "frontdesk", PrimaryGroup: dHome, Role: dFrontRole, Active: true})
	return b
}

// The golden organisation's front desk: a role whose primary group cell
// grants less than its other cell, and its one holder.
const (
	dFrontRole access.RoleID      = 11
	dFront     access.AssociateID = 126
)

// TestDecisionGolden pins Decision.String for decisions from every layer.
// Run with -update to rewrite testdata/decisions.golden, then check each
// line against the rules before committing it.
func TestDecisionGolden(t *testing.T) {
	var b strings.Builder
	for _, c := range dGoldenDecisions(t) {
		fmt.Fprintf(&b, "=== %s\n%s\n", c.name, c.d)
	}
	dGolden(t, "decisions.golden", b.String())
}

// dNamedDecision is one decision of the golden files.
type dNamedDecision struct {
	name string
	d    access.Decision
}

// dGoldenDecisions makes a decision from every layer, on dGoldenOrg.
func dGoldenDecisions(t *testing.T) []dNamedDecision {
	t.Helper()
	ctx := context.Background()
	e, _ := dResolver(t, dGoldenOrg())
	type rec = access.Record
	can := func(who access.AssociateID, act access.Action, r rec) access.Decision {
		d, _ := e.Can(ctx, who, act, r)
		return d
	}
	as, err := e.Impersonate(ctx, dClerkA, dP2)
	if err != nil {
		t.Fatal(err)
	}
	acting, err := e.CanAs(ctx, as, access.Read, rec{Type: "contact", ID: 16, Team: dTeamA})
	if err != nil {
		t.Fatal(err)
	}
	return []dNamedDecision{
		{"allow as owner", can(dP1, access.Update, rec{Type: "contact", ID: 1, Owner: dP1})},
		{"allow as team member through a nested group", can(dP1, access.Delete, rec{Type: "contact", ID: 2, Team: dSalesGrp})},
		{"allow as team member through the role", can(dP3, access.Delete, rec{Type: "appointment", ID: 3, Team: dKeyAccts})},
		{"allow as team member through a smart rule", can(dOsloA, access.Delete, rec{Type: "appointment", ID: 4, Team: dKeyAccts})},
		{"allow in another group through the role tree", can(dP2, access.Read, rec{Type: "contact", ID: 5, Owner: dClerkA, Group: dTreeGrp})},
		{"allow as superior", can(dCEOA, access.Delete, rec{Type: "contact", ID: 17, Owner: dP2})},
		{"deny by the role cell", can(dP2, access.Update, rec{Type: "contact", ID: 6, Owner: dP1, Group: dTeamA})},
		{"deny: role without rights", can(dSupportA, access.Read, rec{Type: "contact", ID: 7, Owner: dSupportA})},
		{"deny: nothing grants it", can(dExt, access.Read, rec{Type: "contact", ID: 8, Owner: dP1, Published: true})},
		{"gate: unknown", can(dGone, access.Read, rec{Type: "contact", ID: 1})},
		{"gate: inactive", can(dInactive, access.Read, rec{Type: "contact", ID: 1})},
		{"gate: not yet valid", can(dFuture, access.Read, rec{Type: "contact", ID: 1})},
		{"gate: expired", can(dExpired, access.Read, rec{Type: "contact", ID: 1})},
		{"gate: resource", can(dRoom, access.Read, rec{Type: "contact", ID: 1})},
		{"gate: anonymous", can(dAnon, access.Read, rec{Type: "contact", ID: 1})},
		{"system user", can(dSys, access.Delete, rec{Type: "contact", ID: 1, Owner: dP1, Visibility: access.VisibleAssociate})},
		{"sharing rule", can(dClerkA, access.Update, rec{Type: "contact", ID: 9, Owner: dP2})},
		{"grant to a group", can(dHelper, access.Delete, rec{Type: "sale", ID: 10})},
		{"grant to the associate", can(dHelper, access.Update, rec{Type: "contact", ID: 5})},
		{"default permissions", can(dHelper, access.Read, rec{Type: "contact", ID: 11})},
		{"restriction: visible to the owner only", can(dP2, access.Read, rec{Type: "contact", ID: 12, Owner: dP1, Group: dTeamA, Visibility: access.VisibleAssociate})},
		{"restriction: visible to the group only", can(dClerkA, access.Read, rec{Type: "contact", ID: 13, Owner: dP1, Group: dTeamA, Visibility: access.VisibleGroup})},
		{"restriction: unpublished", can(dExt, access.Read, rec{Type: "contact", ID: 14, Company: 500})},
		{"restriction: members only", can(dClerkA, access.Read, rec{Type: "contact", ID: 15, Owner: dP1, Category: dCatSupport})},
		{"restriction: unknown category", can(dP1, access.Read, rec{Type: "contact", ID: 15, Owner: dP1, Category: dCatMissing})},
		{"more causes than a decision keeps", can(dP1, access.Read, rec{Type: "memo", ID: 1, Owner: dP1, Team: dKeyAccts, Group: dTeamA, Category: dCatBilling})},
		{"nearest miss: other", can(dFront, access.Read, rec{Type: "contact", ID: 20, Owner: dCEOA, Group: dHome})},
		{"nearest miss: unowned", can(dOsloA, access.Create, rec{Type: "contact", ID: 21, Group: dOslo})},
		{"no nearest miss when a restriction would take it", can(dFront, access.Read, rec{Type: "contact", ID: 22, Owner: dCEOA, Group: dHome, Visibility: access.VisibleAssociate})},
		{"acting on behalf of another", acting},
		{"invalid request", can(dP1, 0, rec{Type: "contact", ID: 18, Owner: dP1})},
		{"zero decision", access.Decision{}},
	}
}

// dGolden compares got with testdata/name, which -update rewrites.
func dGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

// TestCanAllocs: Can and Allowed allocate nothing, for allows and denies
// alike, with sharing rules and grants to look through.
func TestCanAllocs(t *testing.T) {
	e, _ := dResolver(t, dGoldenOrg())
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		who     access.AssociateID
		act     access.Action
		rec     access.Record
		allowed bool
	}{
		{"allow by a sharing rule", dClerkA, access.Update, access.Record{Type: "contact", ID: 9, Owner: dP2}, true},
		{"allow through a nested team", dP1, access.Delete, access.Record{Type: "contact", ID: 2, Team: dSalesGrp, Group: dTeamA}, true},
		{"allow by defaults", dHelper, access.Read, access.Record{Type: "contact", ID: 11}, true},
		{"deny by a grant", dHelper, access.Create, access.Record{Type: "sale", ID: 9}, false},
		{"deny by a restriction", dP1, access.Read, access.Record{Type: "contact", ID: 15, Owner: dP1, Category: dCatSupport}, false},
		{"deny at a gate", dGone, access.Read, access.Record{Type: "contact", ID: 1}, false},
		{"overflowing causes", dP1, access.Read, access.Record{Type: "memo", ID: 1, Owner: dP1, Team: dKeyAccts, Group: dTeamA, Category: dCatBilling}, true},
		{"system user", dSys, access.Delete, access.Record{Type: "contact", ID: 1}, true},
		{"deny with a nearest miss", dFront, access.Read, access.Record{Type: "contact", ID: 20, Owner: dCEOA, Group: dHome}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var d access.Decision
			allocs := testing.AllocsPerRun(1000, func() {
				d, _ = e.Can(ctx, c.who, c.act, c.rec)
			})
			if d.Allowed != c.allowed {
				t.Fatalf("Allowed = %v, want %v: %s", d.Allowed, c.allowed, d)
			}
			if allocs != 0 {
				t.Errorf("Can allocates %v times per call, want 0", allocs)
			}
			var ok bool
			allocs = testing.AllocsPerRun(1000, func() {
				ok, _ = e.Allowed(ctx, c.who, c.act, c.rec)
			})
			if ok != c.allowed {
				t.Fatalf("Allowed answers %v, want %v", ok, c.allowed)
			}
			if allocs != 0 {
				t.Errorf("Allowed allocates %v times per call, want 0", allocs)
			}
		})
	}
}

// ---- Properties ----

// dTypes are the record types of random organisations; roles, rules,
// grants and defaults name some of them or "*".
var dTypes = []string{"contact", "sale", "appointment"}

func dDrawCRUD(t *rapid.T, label string) access.CRUD {
	return access.CRUD(rapid.IntRange(0, 15).Draw(t, label))
}

// dDrawCell draws a role's cell: CRUD is accumulative, so a cell that
// grants anything grants read.
func dDrawCell(t *rapid.T, label string) access.CRUD {
	return cellOf(dDrawCRUD(t, label))
}

// cellOf makes c an accumulative cell.
func cellOf(c access.CRUD) access.CRUD {
	if c != 0 {
		c |= access.R
	}
	return c
}

// dSubset draws a subset of from, in from's order.
func dSubset[T any](t *rapid.T, label string, from []T) []T {
	var out []T
	for _, v := range from {
		if rapid.IntRange(0, 3).Draw(t, label) == 0 {
			out = append(out, v)
		}
	}
	return out
}

// dOrg is a random organisation with the ids it uses.
type dOrg struct {
	b        access.Batch
	roles    []access.RoleID
	groups   []access.GroupID
	assocs   []access.AssociateID
	cats     []access.CategoryID
	licences []access.LicenceID
}

// dDrawLicence draws a licence for some associate types, valid at dNow or
// not, with unlimited or a few seats (ids 301…).
func dDrawLicence(t *rapid.T, id access.LicenceID) access.Licence {
	l := access.Licence{ID: id, Name: fmt.Sprintf("licence %d", id), Seats: rapid.IntRange(0, 2).Draw(t, "seats")}
	l.For = dSubset(t, "licence for", []access.AssociateType{access.Internal, access.External, access.System, access.Anonymous, access.Resource})
	switch rapid.IntRange(0, 3).Draw(t, "licence window") {
	case 0:
		l.ValidFrom = dNow.Add(time.Duration(rapid.IntRange(-2, 2).Draw(t, "licence from")) * time.Hour)
	case 1:
		l.ValidTo = dNow.Add(time.Duration(rapid.IntRange(-2, 2).Draw(t, "licence to")) * time.Hour)
	}
	return l
}

// dDrawOrg draws a valid organisation. Ids of different kinds come from
// different ranges (roles 1…, groups 11…, associates 101…, categories
// 201…), so that mixing kinds up cannot go unnoticed.
func dDrawOrg(t *rapid.T) *dOrg {
	o := &dOrg{}
	b := &o.b
	for i := range rapid.IntRange(1, 5).Draw(t, "roles") {
		id := access.RoleID(1 + i)
		r := access.Role{ID: id, Name: fmt.Sprintf("role %d", id), LimitTeams: rapid.IntRange(0, 3).Draw(t, "limit teams") == 0}
		if i > 0 && rapid.IntRange(0, 3).Draw(t, "top role") != 0 {
			r.Parent = rapid.SampledFrom(o.roles).Draw(t, "parent")
		}
		for _, typ := range append([]string{"*"}, dTypes...) {
			if rapid.IntRange(0, 2).Draw(t, "row") == 0 {
				continue
			}
			g := access.Grid{}
			for rel := access.Owner; rel <= access.Unowned; rel++ {
				if c := dDrawCell(t, "cell"); c != 0 && rapid.Bool().Draw(t, "set cell") {
					g[rel] = c
				}
			}
			if r.Rights == nil {
				r.Rights = map[string]access.Grid{}
			}
			r.Rights[typ] = g
		}
		r.Functions = dSubset(t, "role functions", []string{"f1", "f2", access.FuncBackendLogin})
		b.Roles = append(b.Roles, r)
		o.roles = append(o.roles, id)
	}
	var homes []access.GroupID
	for i := range rapid.IntRange(1, 7).Draw(t, "groups") {
		id := access.GroupID(11 + i)
		g := access.Group{ID: id, Name: fmt.Sprintf("group %d", id)}
		if i > 0 && rapid.IntRange(0, 4).Draw(t, "smart") == 0 {
			g.Smart = rapid.SampledFrom([]string{
				fmt.Sprintf("role in [%d]", rapid.SampledFrom(o.roles).Draw(t, "smart role")),
				`attr.dept == "d1"`,
				"company == 1",
			}).Draw(t, "rule")
		} else {
			// Only earlier groups, so nesting stays acyclic.
			g.Groups = dSubset(t, "nested", o.groups)
			g.Roles = dSubset(t, "group roles", o.roles)
			g.RolesAndSubordinates = dSubset(t, "group role trees", o.roles)
			homes = append(homes, id)
		}
		g.Functions = dSubset(t, "group functions", []string{"f2", "f3", access.FuncBackendLogin})
		if rapid.IntRange(0, 2).Draw(t, "defaults") == 0 {
			g.Defaults = map[string]access.CRUD{}
			for _, typ := range dSubset(t, "default types", append([]string{"*"}, dTypes...)) {
				g.Defaults[typ] = dDrawCRUD(t, "default")
			}
		}
		b.Groups = append(b.Groups, g)
		o.groups = append(o.groups, id)
	}
	for i := range rapid.IntRange(0, 3).Draw(t, "categories") {
		id := access.CategoryID(201 + i)
		b.Categories = append(b.Categories, access.Category{ID: id, Name: fmt.Sprintf("category %d", id),
			MembersOnly: rapid.Bool().Draw(t, "members only"),
			Groups:      dSubset(t, "category groups", o.groups),
			Roles:       dSubset(t, "category roles", o.roles)})
		o.cats = append(o.cats, id)
	}
	types := []access.AssociateType{access.Internal, access.Internal, access.Internal, access.Internal, access.Internal,
		access.Internal, access.External, access.External, access.System, access.Resource, access.Anonymous}
	for i := range rapid.IntRange(1, 7).Draw(t, "associates") {
		id := access.AssociateID(101 + i)
		a := access.Associate{ID: id, Name: fmt.Sprintf("a%d", id), Type: rapid.SampledFrom(types).Draw(t, "type"),
			Active: rapid.IntRange(0, 14).Draw(t, "inactive") != 0}
		switch rapid.IntRange(0, 9).Draw(t, "window") {
		case 0:
			a.ValidFrom = dNow.Add(time.Duration(rapid.IntRange(-2, 2).Draw(t, "from")) * time.Hour)
		case 1:
			a.ValidTo = dNow.Add(time.Duration(rapid.IntRange(-2, 2).Draw(t, "to")) * time.Hour)
		}
		if a.Type != access.Resource || rapid.Bool().Draw(t, "resource role") {
			a.Role = rapid.SampledFrom(o.roles).Draw(t, "role")
		}
		if a.Type == access.Internal {
			a.PrimaryGroup = rapid.SampledFrom(homes).Draw(t, "primary")
			a.Groups = dSubset(t, "secondary", o.groups)
		}
		a.Company = int64(rapid.IntRange(0, 2).Draw(t, "company"))
		a.Projects = dSubset(t, "projects", []int64{1, 2, 3})
		if rapid.Bool().Draw(t, "dept") {
			a.Attributes = map[string]string{"dept": rapid.SampledFrom([]string{"d1", "d2"}).Draw(t, "dept value")}
		}
		if rapid.Bool().Draw(t, "service login") {
			a.ServiceLogin = int64(i + 1)
			a.Categories = dSubset(t, "categories", o.cats)
		}
		b.Associates = append(b.Associates, a)
		o.assocs = append(o.assocs, id)
	}
	for i := range rapid.IntRange(0, 3).Draw(t, "rules") {
		b.SharingRules = append(b.SharingRules, dDrawRule(t, o, access.RuleID(1+i)))
	}
	for i := range rapid.IntRange(0, 4).Draw(t, "grants") {
		b.Grants = append(b.Grants, dDrawGrant(t, o, access.GrantID(1+i)))
	}
	for i := range rapid.IntRange(0, 3).Draw(t, "limits") {
		b.Limits = append(b.Limits, dDrawLimit(t, o, access.LimitID(1+i)))
	}
	for i := range rapid.IntRange(0, 2).Draw(t, "licences") {
		l := dDrawLicence(t, access.LicenceID(301+i))
		holders := 0
		for k := range b.Associates {
			if rapid.IntRange(0, 2).Draw(t, "holds") != 0 {
				b.Associates[k].Licences = append(b.Associates[k].Licences, l.ID)
				holders++
			}
		}
		if l.Seats > 0 {
			l.Seats = max(l.Seats, holders)
		}
		b.Licences = append(b.Licences, l)
		o.licences = append(o.licences, l.ID)
	}
	if err := b.Validate(context.Background(), dEmptyView{}); err != nil {
		t.Fatalf("the generator drew an invalid organisation: %v", err)
	}
	return o
}

func dDrawPrincipals(t *rapid.T, o *dOrg, label string) access.Principals {
	var p access.Principals
	for p.IsEmpty() {
		p = access.Principals{
			Everyone:             rapid.IntRange(0, 5).Draw(t, label+" everyone") == 0,
			Associates:           dSubset(t, label+" associates", o.assocs),
			Groups:               dSubset(t, label+" groups", o.groups),
			Roles:                dSubset(t, label+" roles", o.roles),
			RolesAndSubordinates: dSubset(t, label+" role trees", o.roles),
		}
	}
	return p
}

func dDrawRule(t *rapid.T, o *dOrg, id access.RuleID) access.SharingRule {
	return access.SharingRule{ID: id, Name: fmt.Sprintf("rule %d", id),
		EntityType: rapid.SampledFrom([]string{"*", "contact", "sale"}).Draw(t, "rule type"),
		From:       dDrawPrincipals(t, o, "from"), To: dDrawPrincipals(t, o, "to"),
		Rights: access.CRUD(rapid.IntRange(1, 15).Draw(t, "rule rights"))}
}

func dDrawGrant(t *rapid.T, o *dOrg, id access.GrantID) access.Grant {
	g := access.Grant{ID: id, EntityType: rapid.SampledFrom([]string{"*", "contact", "sale"}).Draw(t, "grant type"),
		Rights: dDrawCRUD(t, "grant rights")}
	if g.EntityType != "*" {
		g.RecordID = int64(rapid.IntRange(0, 3).Draw(t, "grant record"))
	}
	if rapid.Bool().Draw(t, "to a group") {
		g.Group = rapid.SampledFrom(o.groups).Draw(t, "grant group")
	} else {
		g.Associate = rapid.SampledFrom(o.assocs).Draw(t, "grant associate")
	}
	return g
}

// dDrawLimit draws a limit: organisation-wide or on a group, on a type,
// "*" or one record, with any accumulative level and either scope.
func dDrawLimit(t *rapid.T, o *dOrg, id access.LimitID) access.Limit {
	l := access.Limit{ID: id, EntityType: rapid.SampledFrom([]string{"*", "contact", "sale"}).Draw(t, "limit type"),
		Max: rapid.SampledFrom([]access.CRUD{access.LevelNone, access.LevelRead, access.LevelCreate,
			access.LevelUpdate, access.LevelFull}).Draw(t, "limit max"),
		Scope: rapid.SampledFrom([]access.LimitScope{access.LimitAll, access.LimitUnrelated}).Draw(t, "limit scope")}
	if l.EntityType != "*" {
		l.RecordID = int64(rapid.IntRange(0, 3).Draw(t, "limit record"))
	}
	if rapid.Bool().Draw(t, "limit a group") {
		l.Group = rapid.SampledFrom(o.groups).Draw(t, "limit group")
	}
	return l
}

// dDrawQuestion draws a subject (sometimes unknown) and a record whose
// columns name existing and missing entities alike.
func dDrawQuestion(t *rapid.T, o *dOrg) (access.AssociateID, access.Record) {
	who := dGone
	if rapid.IntRange(0, 7).Draw(t, "unknown subject") != 0 {
		who = rapid.SampledFrom(o.assocs).Draw(t, "subject")
	}
	pick := func(label string, n, first int) int64 {
		if rapid.IntRange(0, 3).Draw(t, label+"?") == 0 {
			return 0
		}
		return int64(rapid.IntRange(first, first+n).Draw(t, label)) // first+n does not exist
	}
	r := access.Record{
		Type:       rapid.SampledFrom(dTypes).Draw(t, "record type"),
		ID:         int64(rapid.IntRange(0, 3).Draw(t, "record id")),
		Owner:      access.AssociateID(pick("owner", len(o.assocs), 101)),
		Group:      access.GroupID(pick("group", len(o.groups), 11)),
		Team:       access.GroupID(pick("team", len(o.groups), 11)),
		Company:    int64(rapid.IntRange(0, 2).Draw(t, "record company")),
		Project:    int64(rapid.IntRange(0, 3).Draw(t, "record project")),
		Published:  rapid.Bool().Draw(t, "published"),
		Visibility: access.Visibility(rapid.IntRange(0, 2).Draw(t, "visibility")),
	}
	if rapid.IntRange(0, 2).Draw(t, "categorised") == 0 {
		r.Category = access.CategoryID(rapid.IntRange(201, 201+len(o.cats)).Draw(t, "category"))
	}
	if rapid.IntRange(0, 3).Draw(t, "teamless") != 0 {
		r.Team = 0
	}
	return who, r
}

// dCheckAgainstRef compares one decision with the reference.
func dCheckAgainstRef(t *rapid.T, e *access.Engine, m *decModel, who access.AssociateID, act access.Action, r access.Record) access.Decision {
	d, err := e.Can(context.Background(), who, act, r)
	ref := m.decide(who, act, r, dNow)
	if err != nil {
		t.Fatalf("Can(%d, %s, %+v): %v", who, act, r, err)
	}
	want := dOutcome{ref.allowed, ref.rights.String(), ref.rels.String(), ref.gate.String()}
	got := dOutcome{d.Allowed, d.Rights.String(), d.Relations.String(), d.Gate.String()}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Can(%d, %s, %+v) differs from the reference (-want +got):\n%s%s", who, act, r, diff, d)
	}
	if ok, err := e.Allowed(context.Background(), who, act, r); err != nil || ok != d.Allowed {
		t.Fatalf("Allowed(%d, %s, %+v) = %v, %v; Can allowed %v: %s", who, act, r, ok, err, d.Allowed, d)
	}
	return d
}

// TestPropCanMatchesReference: on random organisations, Can agrees with
// the reference for every action — allowed, final rights, relations and
// gate — and so do Has and Stamp.
func TestPropCanMatchesReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := dDrawOrg(t)
		e, _ := dResolver(t, o.b)
		m := newDecModel(&o.b)
		ctx := context.Background()
		for range rapid.IntRange(1, 10).Draw(t, "questions") {
			who, r := dDrawQuestion(t, o)
			for act := access.Read; act <= access.Delete; act++ {
				dCheckAgainstRef(t, e, m, who, act, r)
			}
			for _, f := range []string{"f1", "f2", "f3", access.FuncBackendLogin} {
				got, err := e.Has(ctx, who, f)
				if want := m.has(who, f, dNow); err != nil || got != want {
					t.Fatalf("Has(%d, %q) = %v, %v; reference %v", who, f, got, err, want)
				}
			}
			st, err := e.Stamp(ctx, who)
			if a, ok := m.assocs[who]; ok {
				if want := (access.Stamp{Owner: who, Group: a.PrimaryGroup}); err != nil || st != want {
					t.Fatalf("Stamp(%d) = %+v, %v; want %+v", who, st, err, want)
				}
			} else if !errors.Is(err, access.ErrNotFound) {
				t.Fatalf("Stamp(unknown %d): %v, want ErrNotFound", who, err)
			}
		}
	})
}

// TestPropRulesAndGrantsOnlyAdd: adding a sharing rule never takes a
// right away. Adding a grant never takes away a right that anything other
// than a group default permission gave: a grant that covers the record
// replaces the defaults, by design.
func TestPropRulesAndGrantsOnlyAdd(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := dDrawOrg(t)
		more := o.b.Clone()
		addsRule := rapid.Bool().Draw(t, "add a rule")
		if addsRule {
			more.SharingRules = append(more.SharingRules, dDrawRule(t, o, 99))
		} else {
			more.Grants = append(more.Grants, dDrawGrant(t, o, 99))
		}
		before, _ := dResolver(t, o.b)
		after, _ := dResolver(t, more)
		// What the subject has without any default permission.
		plain := o.b.Clone()
		for i := range plain.Groups {
			plain.Groups[i].Defaults = nil
		}
		noDefaults := newDecModel(&plain)
		ctx := context.Background()
		for range rapid.IntRange(1, 10).Draw(t, "questions") {
			who, r := dDrawQuestion(t, o)
			b, err1 := before.Can(ctx, who, access.Read, r)
			a, err2 := after.Can(ctx, who, access.Read, r)
			if err1 != nil || err2 != nil {
				t.Fatalf("Can: %v, %v", err1, err2)
			}
			lost := b.Rights &^ a.Rights
			if addsRule && lost != 0 {
				t.Fatalf("adding rule %+v took %s away:\nbefore: %s\nafter:  %s", more.SharingRules[len(more.SharingRules)-1], lost, b, a)
			}
			if !addsRule {
				if plain := noDefaults.decide(who, access.Read, r, dNow).rights; lost&plain != 0 {
					t.Fatalf("adding grant %+v took %s away, not all from defaults:\nbefore: %s\nafter:  %s", more.Grants[len(more.Grants)-1], lost, b, a)
				}
			}
		}
	})
}

// TestPropRestrictionsOnlyRemove: narrowing a record's visibility,
// unpublishing it, or making its category members-only never adds a
// right, for any subject.
func TestPropRestrictionsOnlyRemove(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := dDrawOrg(t)
		e, _ := dResolver(t, o.b)
		closed := o.b.Clone()
		for i := range closed.Categories {
			closed.Categories[i].MembersOnly = true
		}
		ec, _ := dResolver(t, closed)
		ctx := context.Background()
		rights := func(e *access.Engine, who access.AssociateID, r access.Record) access.CRUD {
			d, err := e.Can(ctx, who, access.Read, r)
			if err != nil {
				t.Fatalf("Can: %v", err)
			}
			return d.Rights
		}
		for range rapid.IntRange(1, 10).Draw(t, "questions") {
			who, r := dDrawQuestion(t, o)
			r.Visibility, r.Published = access.VisibleAll, true
			open := rights(e, who, r)
			steps := []struct {
				name string
				e    *access.Engine
				edit func(*access.Record)
			}{
				{"visible to the group only", e, func(r *access.Record) { r.Visibility = access.VisibleGroup }},
				{"visible to the owner only", e, func(r *access.Record) { r.Visibility = access.VisibleAssociate }},
				{"unpublished", e, func(r *access.Record) { r.Published = false }},
				{"members-only categories", ec, func(*access.Record) {}},
			}
			for _, s := range steps {
				nr := r
				s.edit(&nr)
				if got := rights(s.e, who, nr); got&^open != 0 {
					t.Fatalf("%s adds %s for %d on %+v", s.name, got&^open, who, nr)
				}
			}
			group, assoc := r, r
			group.Visibility, assoc.Visibility = access.VisibleGroup, access.VisibleAssociate
			if extra := rights(e, who, assoc) &^ rights(e, who, group); extra != 0 {
				t.Fatalf("owner-only visibility keeps %s that group visibility removes", extra)
			}
		}
	})
}

// TestPropErrorsDeny: whatever the request, a decision that comes with an
// error never allows, and the error comes exactly when the request is
// invalid.
func TestPropErrorsDeny(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := dDrawOrg(t)
		e, _ := dResolver(t, o.b)
		m := newDecModel(&o.b)
		for range rapid.IntRange(1, 10).Draw(t, "questions") {
			who, r := dDrawQuestion(t, o)
			act := access.Action(rapid.IntRange(0, 6).Draw(t, "action"))
			r.Type = rapid.SampledFrom([]string{"", "*", "contact", "sale"}).Draw(t, "type")
			r.Visibility = access.Visibility(rapid.IntRange(0, 4).Draw(t, "visibility"))
			d, err := e.Can(context.Background(), who, act, r)
			if err != nil && (d.Allowed || d.Rights != 0) {
				t.Fatalf("Can(%d, %s, %+v) errs (%v) yet gives %s", who, act, r, err, d)
			}
			if ok, aerr := e.Allowed(context.Background(), who, act, r); ok != d.Allowed || (aerr != nil) != (err != nil) || (aerr != nil && ok) {
				t.Fatalf("Allowed(%d, %s, %+v) = %v, %v; Can: %v, %v", who, act, r, ok, aerr, d.Allowed, err)
			}
			if invalid := m.decide(who, act, r, dNow).invalid; (err != nil) != invalid {
				t.Fatalf("Can(%d, %s, %+v): error %v; the request is invalid: %v", who, act, r, err, invalid)
			}
			if err != nil && !errors.Is(err, access.ErrInvalid) {
				t.Fatalf("Can: %v, want ErrInvalid", err)
			}
		}
	})
}

// TestCanConcurrentWrites: Can runs in parallel with writes through the
// memory store, and every decision is the one the model held at the
// revision it reports. Run it with -race.
func TestCanConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	b := dSeed()
	org := access.Batch{Roles: b.Roles, Groups: b.Groups, Associates: b.Associates, Categories: b.Categories}
	rev0, err := st.Apply(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	e, err := access.NewResolver(ctx, st, &access.Options{Now: func() time.Time { return dNow }})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	// person2 alternates between being in Team A (a secondary link) and
	// not: on a Team A record that is the difference between the Team
	// cell (CRUD) and Other (nothing).
	var p2 access.Associate
	for _, a := range org.Associates {
		if a.ID == dP2 {
			p2 = a
		}
	}
	teamRec := access.Record{Type: "contact", ID: 1, Team: dTeamA}
	var mu sync.Mutex
	inTeam := map[access.Revision]bool{rev0: true}

	const writes, readers = 200, 8
	done := make(chan struct{})
	var wg sync.WaitGroup
	type seen struct {
		rev     access.Revision
		allowed bool
	}
	seenBy := make([][]seen, readers)
	// The writer starts once every reader has decided once, and each
	// reader keeps going until the writer is done.
	var started sync.WaitGroup
	started.Add(readers)
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				if n > 0 {
					select {
					case <-done:
						return
					default:
					}
				}
				d, err := e.Can(ctx, dP2, access.Update, teamRec)
				if err != nil {
					t.Error(err)
					return
				}
				seenBy[i] = append(seenBy[i], seen{d.Revision, d.Allowed})
				if n == 0 {
					started.Done()
				}
				// Leave the writer room to write.
				time.Sleep(10 * time.Microsecond)
				// person1 is in Team A throughout.
				if d, _ := e.Can(ctx, dP1, access.Delete, teamRec); !d.Allowed {
					t.Errorf("person1 lost Team A: %s", d)
				}
			}
		}()
	}
	started.Wait()
	for i := range writes {
		member := i%2 == 1
		a := p2
		a.Groups = nil
		if member {
			a.Groups = []access.GroupID{dTeamA}
		}
		rev, err := st.Apply(ctx, access.Batch{Associates: []access.Associate{a}})
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		inTeam[rev] = member
		mu.Unlock()
		// Read your writes: the store calls the resolver back before
		// Apply returns.
		d, _ := e.Can(ctx, dP2, access.Update, teamRec)
		if d.Revision < rev || d.Allowed != member {
			t.Errorf("after write %d (revision %d, member %v): %s at revision %d", i, rev, member, d, d.Revision)
		}
		time.Sleep(20 * time.Microsecond) // let readers see this revision
	}
	close(done)
	wg.Wait()
	n, revs := 0, map[access.Revision]bool{}
	for _, list := range seenBy {
		for _, s := range list {
			revs[s.rev] = true
			want, ok := inTeam[s.rev]
			if !ok {
				t.Fatalf("a decision at revision %d, which no write produced", s.rev)
			}
			if s.allowed != want {
				t.Errorf("at revision %d person2 is in Team A: %v, but the decision allowed: %v", s.rev, want, s.allowed)
			}
			n++
		}
	}
	t.Logf("%d decisions checked, made at %d of the %d revisions", n, len(revs), len(inTeam))
}

// TestPropCanAfterWrites: a resolver following the memory store through
// incremental deltas keeps agreeing with the reference built from the
// store's whole model, as rules, grants, limits, categories, roles, groups
// and associates change.
func TestPropCanAfterWrites(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		o := dDrawOrg(t)
		st := memory.New()
		if _, err := st.Apply(ctx, o.b.Clone()); err != nil {
			t.Fatalf("a valid organisation does not load: %v", err)
		}
		e, err := access.NewResolver(ctx, st, &access.Options{Now: func() time.Time { return dNow }, PollInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		for i := range rapid.IntRange(1, 6).Draw(t, "writes") {
			full, err := st.Changes(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			w := dDrawWrite(t, o, &full.Batch)
			rev, err := st.Apply(ctx, w)
			if err != nil {
				t.Logf("write %d refused: %v", i, err)
				continue
			}
			if e.Revision() != rev {
				t.Fatalf("after a write at revision %d the resolver answers at %d", rev, e.Revision())
			}
			full, err = st.Changes(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			m := newDecModel(&full.Batch)
			for range rapid.IntRange(1, 5).Draw(t, "questions") {
				who, r := dDrawQuestion(t, o)
				for act := access.Read; act <= access.Delete; act++ {
					dCheckAgainstRef(t, e, m, who, act, r)
				}
			}
		}
	})
}

// dDrawWrite draws one write to the model cur holds, keeping to o's ids.
// It may be refused by validation (a delete of something in use).
func dDrawWrite(t *rapid.T, o *dOrg, cur *access.Batch) access.Batch {
	var w access.Batch
	switch rapid.SampledFrom([]string{"rule", "delete rule", "grant", "delete grant", "associate", "delete associate",
		"group", "category", "role", "limit", "delete limit", "licence", "delete licence", "assign licence"}).Draw(t, "write") {
	case "limit":
		w.Limits = append(w.Limits, dDrawLimit(t, o, access.LimitID(rapid.IntRange(1, 4).Draw(t, "limit id"))))
	case "delete limit":
		w.DeleteLimits = append(w.DeleteLimits, access.LimitID(rapid.IntRange(1, 4).Draw(t, "limit id")))
	case "licence":
		l := dDrawLicence(t, access.LicenceID(rapid.IntRange(301, 303).Draw(t, "licence id")))
		l.Seats = 0
		w.Licences = append(w.Licences, l)
	case "delete licence":
		w.DeleteLicences = append(w.DeleteLicences, access.LicenceID(rapid.IntRange(301, 303).Draw(t, "licence id")))
	case "assign licence":
		if len(cur.Associates) == 0 || len(cur.Licences) == 0 {
			return w
		}
		a := rapid.SampledFrom(cur.Associates).Draw(t, "associate")
		a.Licences = nil
		for _, l := range cur.Licences {
			if rapid.Bool().Draw(t, "holds") {
				a.Licences = append(a.Licences, l.ID)
			}
		}
		w.Associates = append(w.Associates, a)
	case "rule":
		w.SharingRules = append(w.SharingRules, dDrawRule(t, o, access.RuleID(rapid.IntRange(1, 4).Draw(t, "rule id"))))
	case "delete rule":
		w.DeleteSharingRules = append(w.DeleteSharingRules, access.RuleID(rapid.IntRange(1, 4).Draw(t, "rule id")))
	case "grant":
		w.Grants = append(w.Grants, dDrawGrant(t, o, access.GrantID(rapid.IntRange(1, 5).Draw(t, "grant id"))))
	case "delete grant":
		w.DeleteGrants = append(w.DeleteGrants, access.GrantID(rapid.IntRange(1, 5).Draw(t, "grant id")))
	case "associate":
		if len(cur.Associates) == 0 {
			return w
		}
		a := rapid.SampledFrom(cur.Associates).Draw(t, "associate")
		a.Active = rapid.IntRange(0, 4).Draw(t, "active") != 0
		if a.Type != access.Resource {
			a.Role = rapid.SampledFrom(o.roles).Draw(t, "role")
		}
		if a.Type == access.Internal {
			var homes []access.GroupID
			for _, g := range cur.Groups {
				if g.Smart == "" {
					homes = append(homes, g.ID)
				}
			}
			a.PrimaryGroup = rapid.SampledFrom(homes).Draw(t, "primary")
			a.Groups = dSubset(t, "secondary", o.groups)
		}
		w.Associates = append(w.Associates, a)
	case "delete associate":
		w.DeleteAssociates = append(w.DeleteAssociates, rapid.SampledFrom(o.assocs).Draw(t, "associate id"))
	case "group":
		g := rapid.SampledFrom(cur.Groups).Draw(t, "group")
		if g.Smart == "" {
			var lower []access.GroupID
			for _, id := range o.groups {
				if id < g.ID {
					lower = append(lower, id)
				}
			}
			g.Groups = dSubset(t, "nested", lower)
			g.Roles = dSubset(t, "group roles", o.roles)
			g.RolesAndSubordinates = dSubset(t, "group role trees", o.roles)
		}
		g.Defaults = nil
		if rapid.Bool().Draw(t, "defaults") {
			g.Defaults = map[string]access.CRUD{rapid.SampledFrom(append([]string{"*"}, dTypes...)).Draw(t, "default type"): dDrawCRUD(t, "default")}
		}
		w.Groups = append(w.Groups, g)
	case "category":
		if len(cur.Categories) == 0 {
			return w
		}
		c := rapid.SampledFrom(cur.Categories).Draw(t, "category")
		c.MembersOnly = !c.MembersOnly
		c.Groups = dSubset(t, "category groups", o.groups)
		w.Categories = append(w.Categories, c)
	case "role":
		r := rapid.SampledFrom(cur.Roles).Draw(t, "role")
		r.Rights = map[string]access.Grid{rapid.SampledFrom(append([]string{"*"}, dTypes...)).Draw(t, "row"): {
			rapid.SampledFrom([]access.Relation{access.Owner, access.Team, access.PrimaryGroup, access.OtherGroup,
				access.Subordinate, access.Other, access.Unowned, access.MyCompany}).Draw(t, "relation"): dDrawCell(t, "cell")}}
		r.Functions = dSubset(t, "role functions", []string{"f1", "f2", access.FuncBackendLogin})
		w.Roles = append(w.Roles, r)
	}
	return w
}

// TestSparseAssociateIDs checks that an organisation decides the same with
// small, dense associate ids (an associate's index is then its id) and with
// the same ids moved past 2^40 (looked up through the id index), before and
// after incremental writes.
func TestSparseAssociateIDs(t *testing.T) {
	ctx := context.Background()
	const shift = access.AssociateID(1) << 40
	dense := orggen.Generate(orggen.Config{Seed: 5, Associates: 600, Groups: 300, Roles: 12, SmartGroups: 4})
	for i := range dense.Roles {
		dense.Roles[i].Rights = map[string]access.Grid{"*": {access.Owner: access.LevelFull, access.Team: access.LevelUpdate,
			access.PrimaryGroup: access.LevelCreate, access.OtherGroup: access.LevelRead, access.Subordinate: access.LevelUpdate}}
	}
	sparse := dense.Clone()
	for i := range sparse.Associates {
		sparse.Associates[i].ID += shift
	}
	ds, ss := newRawStore(dense), newRawStore(sparse)
	de, se := newResolver(t, ds, nil), newResolver(t, ss, nil)

	rng := rand.New(rand.NewPCG(5, 6))
	ids := func() []access.AssociateID {
		var out []access.AssociateID
		for _, a := range ds.snapshot().assocs {
			out = append(out, a.ID)
		}
		slices.Sort(out)
		return out
	}
	check := func(stage string) {
		t.Helper()
		all := ids()
		groups := dense.Groups
		for range 3000 {
			who, owner := all[rng.IntN(len(all))], all[rng.IntN(len(all))]
			g := groups[rng.IntN(len(groups))].ID
			rec := access.Record{Type: "contact", ID: 1, Owner: owner, Group: g, Team: groups[rng.IntN(len(groups))].ID}
			if rng.IntN(4) == 0 {
				rec.Owner = 0
			}
			want, err1 := de.Can(ctx, who, access.Update, rec)
			if rec.Owner != 0 {
				rec.Owner += shift
			}
			got, err2 := se.Can(ctx, who+shift, access.Update, rec)
			if err1 != nil || err2 != nil {
				t.Fatalf("%s: Can: %v, %v", stage, err1, err2)
			}
			if want.Allowed != got.Allowed || want.Rights != got.Rights || want.Relations != got.Relations || want.Gate != got.Gate {
				t.Fatalf("%s: associate %d on %+v: dense ids decide %v %s %v, sparse ids %v %s %v", stage, who, rec,
					want.Allowed, want.Rights, want.Relations, got.Allowed, got.Rights, got.Relations)
			}
			m1, err1 := de.IsMember(ctx, who, g)
			m2, err2 := se.IsMember(ctx, who+shift, g)
			if err1 != nil || err2 != nil || m1 != m2 {
				t.Fatalf("%s: IsMember(%d, %d): dense %v (%v), sparse %v (%v)", stage, who, g, m1, err1, m2, err2)
			}
		}
		for _, e := range []*access.Engine{de, se} {
			if err := access.CheckHeaders(e); err != nil {
				t.Fatalf("%s: %v", stage, err)
			}
		}
	}
	check("loaded")

	// New associates (one inside the reserved id range, one far past it),
	// a move, a deletion.
	all := ids()
	var plain []access.GroupID
	for _, g := range dense.Groups {
		if g.Smart == "" {
			plain = append(plain, g.ID)
		}
	}
	moved := ds.snapshot().assocs[all[7]]
	moved.PrimaryGroup = plain[rng.IntN(len(plain))]
	fresh := []access.Associate{moved,
		{ID: all[len(all)-1] + 5, Name: "new", Type: access.Internal, Active: true, PrimaryGroup: moved.PrimaryGroup, Role: dense.Roles[1].ID},
		{ID: 5_000_000, Name: "far", Type: access.Internal, Active: true, PrimaryGroup: moved.PrimaryGroup, Role: dense.Roles[2].ID}}
	for _, w := range []struct {
		s    *rawStore
		e    *access.Engine
		by   access.AssociateID
		news []access.Associate
	}{{ds, de, 0, fresh}, {ss, se, shift, fresh}} {
		b := access.Batch{DeleteAssociates: []access.AssociateID{all[3] + w.by}}
		for _, a := range w.news {
			a.ID += w.by
			b.Associates = append(b.Associates, a)
		}
		w.s.write(b)
		if err := w.e.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	check("after writes")
}
