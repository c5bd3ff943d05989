package access_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// limitOrg is a small organisation for the limit tests: Sales (role 1)
// may do everything with its own contacts and read every other contact;
// group Temps (11) is inside Staff (10); anna (101) and tom (102, a
// temp) are both in Sales; sys (103) is a system user; ext (104) is an
// external with the role's rights on its company's records.
func limitOrg(limits ...access.Limit) access.Batch {
	return access.Batch{
		Roles: []access.Role{{ID: 1, Name: "Sales", Rights: map[string]access.Grid{
			"contact": {access.Owner: access.LevelFull, access.PrimaryGroup: access.LevelUpdate, access.Other: access.LevelRead, access.Unowned: access.LevelRead},
			"sale":    {access.Owner: access.LevelFull, access.MyCompany: access.LevelRead},
		}}},
		Groups: []access.Group{
			{ID: 10, Name: "Staff", Groups: []access.GroupID{11}},
			{ID: 11, Name: "Temps", Defaults: map[string]access.CRUD{"sale": access.LevelRead}},
			{ID: 12, Name: "Sellers"},
		},
		Associates: []access.Associate{
			{ID: 101, Name: "anna", Type: access.Internal, Role: 1, PrimaryGroup: 12, Active: true},
			{ID: 102, Name: "tom", Type: access.Internal, Role: 1, PrimaryGroup: 11, Active: true},
			{ID: 103, Name: "sys", Type: access.System, Role: 1, Active: true},
			{ID: 104, Name: "ext", Type: access.External, Role: 1, Company: 7, Active: true},
		},
		SharingRules: []access.SharingRule{{ID: 1, Name: "sellers share", EntityType: "contact",
			From: access.Principals{Groups: []access.GroupID{12}}, To: access.Principals{Groups: []access.GroupID{11}}, Rights: access.LevelRead}},
		Grants: []access.Grant{{ID: 1, Associate: 102, EntityType: "contact", RecordID: 77, Rights: access.LevelFull}},
		Limits: limits,
	}
}

// TestLimit_decisions checks each rule of the limit layer on one
// question, with the decision's rights and its explanation.
func TestLimit_decisions(t *testing.T) {
	annas := access.Record{Type: "contact", ID: 5, Owner: 101}
	toms := access.Record{Type: "contact", ID: 6, Owner: 102}
	unowned := access.Record{Type: "contact", ID: 8}
	for _, tc := range []struct {
		name    string
		limits  []access.Limit
		who     access.AssociateID
		rec     access.Record
		rights  access.CRUD
		explain string // a part of the decision's text, or "" for none
		absent  string // a part the text must not have
	}{
		{name: "no limit", who: 102, rec: toms, rights: access.LevelFull, absent: "limit"},
		{name: "a group's denial on the type beats the owner's cell",
			limits: []access.Limit{{ID: 4, Group: 11, EntityType: "contact", Max: access.LevelNone}},
			who:    102, rec: toms, rights: 0,
			explain: `limit 4 (group Temps (11)) keeps at most - on contact: takes away CRUD`},
		{name: "a denial reaches the members of the groups inside the group",
			limits: []access.Limit{{ID: 4, Group: 10, EntityType: "contact", Max: access.LevelRead}},
			who:    102, rec: toms, rights: access.R,
			explain: `limit 4 (group Staff (10)) keeps at most R on contact: takes away CUD`},
		{name: "a denial beats an explicit grant",
			limits: []access.Limit{{ID: 4, Group: 11, EntityType: "contact", RecordID: 77, Max: access.LevelRead}},
			who:    102, rec: access.Record{Type: "contact", ID: 77, Owner: 101}, rights: access.R,
			explain: `limit 4 (group Temps (11)) keeps at most R on contact 77: takes away CUD`},
		{name: "a limit on one record leaves the others",
			limits: []access.Limit{{ID: 4, Group: 11, EntityType: "contact", RecordID: 77, Max: access.LevelNone}},
			who:    102, rec: toms, rights: access.LevelFull, absent: "limit"},
		{name: "a limit on another group leaves the subject",
			limits: []access.Limit{{ID: 4, Group: 12, EntityType: "contact", Max: access.LevelNone}},
			who:    102, rec: toms, rights: access.LevelFull, absent: "limit"},
		{name: "a limit on \"*\" covers every type",
			limits: []access.Limit{{ID: 4, EntityType: access.Wildcard, Max: access.LevelCreate}},
			who:    101, rec: annas, rights: access.LevelCreate,
			explain: `limit 4 (organisation-wide) keeps at most CR on contact: takes away UD`},
		{name: "several limits: the intersection",
			limits: []access.Limit{{ID: 4, EntityType: "contact", Max: access.LevelUpdate}, {ID: 5, Group: 12, EntityType: access.Wildcard, Max: access.LevelCreate}},
			who:    101, rec: annas, rights: access.LevelCreate,
			explain: `limit 4 (organisation-wide) keeps at most CRU on contact: takes away D; limit 5 (group Sellers (12)) keeps at most CR on contact: takes away UD`},
		{name: "system users bypass limits",
			limits: []access.Limit{{ID: 4, EntityType: access.Wildcard, Max: access.LevelNone}},
			who:    103, rec: toms, rights: access.LevelFull, absent: "limit"},
		{name: "org-wide private: the role's Other cell is capped on others' records",
			limits: []access.Limit{{ID: 4, EntityType: "contact", Max: access.LevelNone, Scope: access.LimitUnrelated}},
			who:    101, rec: toms, rights: 0,
			explain: `limit 4 (organisation-wide, unrelated records) keeps at most - on contact: takes away R`},
		{name: "org-wide private: unowned records are unrelated too",
			limits: []access.Limit{{ID: 4, EntityType: "contact", Max: access.LevelNone, Scope: access.LimitUnrelated}},
			who:    101, rec: unowned, rights: 0},
		{name: "org-wide private leaves the owner's records",
			limits: []access.Limit{{ID: 4, EntityType: "contact", Max: access.LevelNone, Scope: access.LimitUnrelated}},
			who:    101, rec: annas, rights: access.LevelFull, absent: "limit"},
		{name: "org-wide private leaves the records of the subject's group",
			limits: []access.Limit{{ID: 4, EntityType: "contact", Max: access.LevelNone, Scope: access.LimitUnrelated}},
			who:    102, rec: access.Record{Type: "contact", ID: 9, Owner: 101, Group: 11}, rights: access.LevelUpdate, absent: "limit"},
		{name: "org-wide private: a sharing rule still opens records",
			limits: []access.Limit{{ID: 4, EntityType: "contact", Max: access.LevelNone, Scope: access.LimitUnrelated}},
			who:    102, rec: annas, rights: access.R, explain: "sharing rule sellers share (1) adds R", absent: "limit"},
		{name: "org-wide private: a grant still opens records",
			limits: []access.Limit{{ID: 4, EntityType: "contact", Max: access.LevelNone, Scope: access.LimitUnrelated}},
			who:    102, rec: access.Record{Type: "contact", ID: 77}, rights: access.LevelFull, absent: "limit"},
		{name: "org-wide read-only caps group defaults on unrelated records",
			limits: []access.Limit{{ID: 4, EntityType: "sale", Max: access.LevelNone, Scope: access.LimitUnrelated}},
			who:    102, rec: access.Record{Type: "sale", ID: 3, Owner: 101}, rights: 0,
			explain: `limit 4 (organisation-wide, unrelated records) keeps at most - on sale: takes away R`},
		{name: "an external's own company is related",
			limits: []access.Limit{{ID: 4, EntityType: "sale", Max: access.LevelNone, Scope: access.LimitUnrelated}},
			who:    104, rec: access.Record{Type: "sale", ID: 3, Owner: 101, Company: 7, Published: true}, rights: access.R, absent: "limit"},
		{name: "an organisation-wide denial reaches externals",
			limits: []access.Limit{{ID: 4, EntityType: "sale", Max: access.LevelNone}},
			who:    104, rec: access.Record{Type: "sale", ID: 3, Owner: 101, Company: 7, Published: true}, rights: 0,
			explain: `limit 4 (organisation-wide) keeps at most - on sale: takes away R`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := dResolver(t, limitOrg(tc.limits...))
			d, err := e.Can(context.Background(), tc.who, access.Read, tc.rec)
			if err != nil {
				t.Fatal(err)
			}
			if d.Rights != tc.rights {
				t.Errorf("rights = %s, want %s\n%s", d.Rights, tc.rights, d)
			}
			if text := d.String(); tc.explain != "" && !strings.Contains(text, tc.explain) {
				t.Errorf("the explanation lacks %q:\n%s", tc.explain, text)
			}
			if text := d.String(); tc.absent != "" && strings.Contains(text, tc.absent) {
				t.Errorf("the explanation has %q:\n%s", tc.absent, text)
			}
		})
	}
}

// TestLimit_cause checks the typed cause and its JSON form.
func TestLimit_cause(t *testing.T) {
	e, _ := dResolver(t, limitOrg(access.Limit{ID: 4, Group: 11, EntityType: "contact", Max: access.LevelRead}))
	d, err := e.Can(context.Background(), 102, access.Delete, access.Record{Type: "contact", ID: 6, Owner: 102})
	if err != nil || d.Allowed {
		t.Fatalf("Can = %s, %v; want a denial", d, err)
	}
	causes := d.Causes()
	got := causes[len(causes)-1]
	want := access.Cause{Kind: access.CauseLimit, Limit: 4, Group: 11, GroupName: "Temps", Max: access.LevelRead, Rights: access.C | access.U | access.D}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the last cause (-want +got):\n%s", diff)
	}
	js, err := d.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{`"kind":"limit"`, `"limit":4`, `"group":{"id":11,"name":"Temps"}`, `"scope":"all records"`, `"max":"R"`, `"rights":"CUD"`} {
		if !strings.Contains(string(js), part) {
			t.Errorf("JSON lacks %s:\n%s", part, js)
		}
	}
}

// TestLimit_check checks that a write names exactly what is wrong with a
// limit.
func TestLimit_check(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit access.Limit
		want  error
		text  string
	}{
		{"fine", access.Limit{ID: 1, Group: 11, EntityType: "contact", Max: access.LevelRead}, nil, ""},
		{"zero id", access.Limit{EntityType: "contact"}, access.ErrInvalid, "limit id 0 must be positive"},
		{"negative group", access.Limit{ID: 1, Group: -2, EntityType: "contact"}, access.ErrInvalid, "limit 1: group id -2 must not be negative"},
		{"no type", access.Limit{ID: 1}, access.ErrInvalid, "limit 1: entity type is required"},
		{"negative record", access.Limit{ID: 1, EntityType: "contact", RecordID: -5}, access.ErrInvalid, "limit 1: record id -5 must not be negative"},
		{"one record of every type", access.Limit{ID: 1, EntityType: "*", RecordID: 5}, access.ErrInvalid, "limit 1: a limit on one record needs its entity type"},
		{"not accumulative", access.Limit{ID: 1, EntityType: "contact", Max: access.R | access.D}, access.ErrInvalid, "limit 1: max RD is not an accumulative level"},
		{"beyond CRUD", access.Limit{ID: 1, EntityType: "contact", Max: 0x30}, access.ErrInvalid, "limit 1: max"},
		{"undefined scope", access.Limit{ID: 1, EntityType: "contact", Scope: 2}, access.ErrInvalid, "limit 1: undefined scope 2"},
		{"unknown group", access.Limit{ID: 1, Group: 99, EntityType: "contact"}, access.ErrInvalid, "limit 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := limitOrg(tc.limit)
			err := b.Validate(context.Background(), dEmptyView{})
			if !errors.Is(err, tc.want) || (err != nil && !strings.Contains(err.Error(), tc.text)) {
				t.Errorf("Validate = %v, want %v naming %q", err, tc.want, tc.text)
			}
		})
	}
}

// TestLimit_permissions checks that Permissions lists the limits on the
// associate per type and GroupPermissions those on the group.
func TestLimit_permissions(t *testing.T) {
	temps := access.Limit{ID: 4, Group: 10, EntityType: "contact", Max: access.LevelRead}
	orgWide := access.Limit{ID: 5, EntityType: access.Wildcard, Max: access.LevelUpdate, Scope: access.LimitUnrelated}
	onRecord := access.Limit{ID: 6, Group: 12, EntityType: "contact", RecordID: 3, Max: access.LevelNone}
	e, _ := dResolver(t, limitOrg(temps, orgWide, onRecord))
	ctx := context.Background()
	p, err := e.Permissions(ctx, 102)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]access.Limit{}
	maxes := map[string]access.CRUD{}
	for _, tp := range p.Types {
		got[tp.EntityType] = tp.Limits
		maxes[tp.EntityType] = tp.Max()
	}
	want := map[string][]access.Limit{"*": {orgWide}, "contact": {temps, orgWide}, "sale": {orgWide}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Permissions(102) limits per type (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]access.CRUD{"*": access.LevelFull, "contact": access.LevelRead, "sale": access.LevelFull}, maxes); diff != "" {
		t.Errorf("Permissions(102) Max per type (-want +got):\n%s", diff)
	}
	gp, err := e.GroupPermissions(ctx, 11)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]access.Limit{temps}, gp.Limits); diff != "" {
		t.Errorf("GroupPermissions(11).Limits (-want +got):\n%s", diff)
	}
}

// TestLimit_groupInUse checks that a group a limit names cannot be
// deleted.
func TestLimit_groupInUse(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Apply(ctx, limitOrg(access.Limit{ID: 4, Group: 12, EntityType: "contact", Max: access.LevelRead})); err != nil {
		t.Fatal(err)
	}
	// Group 12 is also the From of the sharing rule; move it away first.
	_, err := s.Apply(ctx, access.Batch{DeleteGroups: []access.GroupID{12}, SharingRules: []access.SharingRule{{ID: 1, Name: "x", EntityType: "contact",
		From: access.Principals{Everyone: true}, To: access.Principals{Groups: []access.GroupID{11}}, Rights: access.LevelRead}},
		Associates: []access.Associate{{ID: 101, Name: "anna", Type: access.Internal, Role: 1, PrimaryGroup: 10, Active: true}}})
	if !errors.Is(err, access.ErrInUse) || !strings.Contains(err.Error(), "limit 4") {
		t.Errorf("deleting group 12: %v, want ErrInUse naming limit 4", err)
	}
}

// TestPropLimitsOnlyTakeAway: adding a limit never adds a right, for any
// subject, record and action; Filter and WhoCan follow.
func TestPropLimitsOnlyTakeAway(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := dDrawOrg(t)
		more := o.b.Clone()
		more.Limits = append(more.Limits, dDrawLimit(t, o, 99))
		before, _ := dResolver(t, o.b)
		after, _ := dResolver(t, more)
		ctx := context.Background()
		for range rapid.IntRange(1, 10).Draw(t, "questions") {
			who, r := dDrawQuestion(t, o)
			for act := access.Read; act <= access.Delete; act++ {
				b, err1 := before.Can(ctx, who, act, r)
				a, err2 := after.Can(ctx, who, act, r)
				if err1 != nil || err2 != nil {
					t.Fatalf("Can: %v, %v", err1, err2)
				}
				if gained := a.Rights &^ b.Rights; gained != 0 || (a.Allowed && !b.Allowed) {
					t.Fatalf("adding limit %+v gave %s:\nbefore: %s\nafter:  %s", more.Limits[len(more.Limits)-1], gained, b, a)
				}
				// Filter and WhoCan gain no answer either: a record the
				// filter did not match it does not match now, and nobody
				// joins the list of who can. A filter that fails matches
				// nothing.
				match := func(e *access.Engine) bool {
					f, err := e.Filter(ctx, who, act, r.Type)
					return err == nil && f.Match(r)
				}
				if match(after) && !match(before) {
					t.Fatalf("adding limit %+v: Filter(%d, %s, %q) matches %+v, which it did not before", more.Limits[len(more.Limits)-1], who, act, r.Type, r)
				}
				was, err1 := before.WhoCan(ctx, act, r)
				now, err2 := after.WhoCan(ctx, act, r)
				if err1 != nil || err2 != nil {
					t.Fatalf("WhoCan: %v, %v", err1, err2)
				}
				for _, x := range now {
					if !slices.ContainsFunc(was, func(y access.Allowed) bool { return y.Associate == x.Associate && x.Rights&^y.Rights == 0 }) {
						t.Fatalf("adding limit %+v: WhoCan(%s, %+v) lists %+v, which it did not before (%+v)", more.Limits[len(more.Limits)-1], act, r, x, was)
					}
				}
			}
		}
	})
}
