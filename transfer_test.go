package access_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"
)

// transferBase is the model every transfer case starts from: groups 10
// (from) and 20 (to), 30 and 40; roles 1 and 2; associates 5 and 6 (from
// and to of an associate transfer) in group 30.
func transferBase() access.Batch {
	return access.Batch{
		Roles: []access.Role{{ID: 1, Name: "Sales"}, {ID: 2, Name: "Support"}},
		Groups: []access.Group{
			{ID: 10, Name: "From"}, {ID: 20, Name: "To"}, {ID: 30, Name: "Other"}, {ID: 40, Name: "Member"},
		},
		Associates: []access.Associate{
			{ID: 5, Name: "bo", PrimaryGroup: 30, Role: 1, Active: true},
			{ID: 6, Name: "cy", PrimaryGroup: 30, Role: 1, Active: true},
		},
	}
}

// with returns the base model with the entities of extra replacing or
// joining its own.
func with(extra access.Batch) access.Batch {
	b := transferBase()
	b.Groups = replaceByID(b.Groups, extra.Groups, func(g access.Group) access.GroupID { return g.ID })
	b.Associates = replaceByID(b.Associates, extra.Associates, func(a access.Associate) access.AssociateID { return a.ID })
	b.SharingRules, b.Grants = extra.SharingRules, extra.Grants
	b.Categories, b.Impersonations, b.Limits = extra.Categories, extra.Impersonations, extra.Limits
	return b
}

func replaceByID[T any, ID comparable](base, extra []T, id func(T) ID) []T {
	out := append([]T(nil), base...)
	for _, e := range extra {
		found := false
		for i := range out {
			if id(out[i]) == id(e) {
				out[i], found = e, true
			}
		}
		if !found {
			out = append(out, e)
		}
	}
	return out
}

// transferCase is one model, one transfer, and the puts the transfer's
// batch must hold (deletes and ExpectRevision are checked for every case).
type transferCase struct {
	name  string
	model access.Batch
	want  access.Batch
}

func TestTransferGroup(t *testing.T) {
	ctx := context.Background()
	cases := []transferCase{
		{name: "nothing refers to from"},
		{
			name:  "primary group",
			model: access.Batch{Associates: []access.Associate{{ID: 7, Name: "di", PrimaryGroup: 10, Role: 1}}},
			want:  access.Batch{Associates: []access.Associate{{ID: 7, Name: "di", PrimaryGroup: 20, Role: 1}}},
		},
		{
			name:  "secondary group",
			model: access.Batch{Associates: []access.Associate{{ID: 7, Name: "di", PrimaryGroup: 30, Groups: []access.GroupID{40, 10}, Role: 1}}},
			want:  access.Batch{Associates: []access.Associate{{ID: 7, Name: "di", PrimaryGroup: 30, Groups: []access.GroupID{40, 20}, Role: 1}}},
		},
		{
			name:  "secondary in both collapses",
			model: access.Batch{Associates: []access.Associate{{ID: 7, Name: "di", PrimaryGroup: 30, Groups: []access.GroupID{20, 10}, Role: 1}}},
			want:  access.Batch{Associates: []access.Associate{{ID: 7, Name: "di", PrimaryGroup: 30, Groups: []access.GroupID{20}, Role: 1}}},
		},
		{
			name:  "primary to, secondary from",
			model: access.Batch{Associates: []access.Associate{{ID: 7, Name: "di", PrimaryGroup: 20, Groups: []access.GroupID{10}, Role: 1}}},
			want:  access.Batch{Associates: []access.Associate{{ID: 7, Name: "di", PrimaryGroup: 20, Role: 1}}},
		},
		{
			name:  "nesting from",
			model: access.Batch{Groups: []access.Group{{ID: 30, Name: "Other", Groups: []access.GroupID{10, 40}}}},
			want:  access.Batch{Groups: []access.Group{{ID: 30, Name: "Other", Groups: []access.GroupID{20, 40}}}},
		},
		{
			name:  "nesting both collapses",
			model: access.Batch{Groups: []access.Group{{ID: 30, Name: "Other", Groups: []access.GroupID{20, 10}}}},
			want:  access.Batch{Groups: []access.Group{{ID: 30, Name: "Other", Groups: []access.GroupID{20}}}},
		},
		{
			name:  "to nests from: dropped",
			model: access.Batch{Groups: []access.Group{{ID: 20, Name: "To", Groups: []access.GroupID{10, 40}}}},
			want:  access.Batch{Groups: []access.Group{{ID: 20, Name: "To", Groups: []access.GroupID{40}}}},
		},
		{
			name:  "from nests to: dropped",
			model: access.Batch{Groups: []access.Group{{ID: 10, Name: "From", Groups: []access.GroupID{20}}}},
		},
		{
			name: "what from lists joins to",
			model: access.Batch{Groups: []access.Group{
				{ID: 10, Name: "From", Groups: []access.GroupID{40}, Roles: []access.RoleID{1, 2}, RolesAndSubordinates: []access.RoleID{2}, Admins: []access.AssociateID{5}},
				{ID: 20, Name: "To", Roles: []access.RoleID{2}, Admins: []access.AssociateID{6}},
			}},
			want: access.Batch{Groups: []access.Group{
				{ID: 20, Name: "To", Groups: []access.GroupID{40}, Roles: []access.RoleID{2, 1}, RolesAndSubordinates: []access.RoleID{2}, Admins: []access.AssociateID{6, 5}},
			}},
		},
		{
			name: "sharing rule",
			model: access.Batch{SharingRules: []access.SharingRule{{ID: 1, EntityType: "contact", Rights: access.LevelRead,
				From: access.Principals{Groups: []access.GroupID{10}}, To: access.Principals{Groups: []access.GroupID{20, 10}}}}},
			want: access.Batch{SharingRules: []access.SharingRule{{ID: 1, EntityType: "contact", Rights: access.LevelRead,
				From: access.Principals{Groups: []access.GroupID{20}}, To: access.Principals{Groups: []access.GroupID{20}}}}},
		},
		{
			name:  "grant",
			model: access.Batch{Grants: []access.Grant{{ID: 1, Group: 10, EntityType: "contact", RecordID: 4, Rights: access.LevelRead}}},
			want:  access.Batch{Grants: []access.Grant{{ID: 1, Group: 20, EntityType: "contact", RecordID: 4, Rights: access.LevelRead}}},
		},
		{
			name:  "category",
			model: access.Batch{Categories: []access.Category{{ID: 1, Name: "Support", Groups: []access.GroupID{10}}}},
			want:  access.Batch{Categories: []access.Category{{ID: 1, Name: "Support", Groups: []access.GroupID{20}}}},
		},
		{
			name:  "impersonation",
			model: access.Batch{Impersonations: []access.Impersonation{{ID: 1, Actor: access.Principal{Group: 10}, Target: access.Principal{Group: 30}}}},
			want:  access.Batch{Impersonations: []access.Impersonation{{ID: 1, Actor: access.Principal{Group: 20}, Target: access.Principal{Group: 30}}}},
		},
		{
			name: "limit",
			model: access.Batch{Limits: []access.Limit{
				{ID: 1, Group: 10, EntityType: "*", Max: access.LevelRead}, {ID: 2, EntityType: "contact", Max: access.LevelNone},
			}},
			want: access.Batch{Limits: []access.Limit{{ID: 1, Group: 20, EntityType: "*", Max: access.LevelRead}}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := memory.New()
			rev, err := s.Apply(ctx, with(c.model))
			if err != nil {
				t.Fatal(err)
			}
			got, err := access.TransferGroup(ctx, s, 10, 20)
			if err != nil {
				t.Fatal(err)
			}
			want := c.want
			want.DeleteGroups, want.ExpectRevision = []access.GroupID{10}, rev
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("TransferGroup(10, 20) (-want +got):\n%s", diff)
			}
			if _, err := s.Apply(ctx, got); err != nil {
				t.Fatalf("applying the transfer: %v", err)
			}
			checkNoReference(t, s, access.Ref{Kind: access.KindGroup, ID: 10})
		})
	}
}

func TestTransferAssociate(t *testing.T) {
	ctx := context.Background()
	cases := []transferCase{
		{name: "nothing refers to from"},
		{
			name:  "group admin",
			model: access.Batch{Groups: []access.Group{{ID: 40, Name: "Member", Admins: []access.AssociateID{5, 6}}}},
			want:  access.Batch{Groups: []access.Group{{ID: 40, Name: "Member", Admins: []access.AssociateID{6}}}},
		},
		{
			name: "sharing rule",
			model: access.Batch{SharingRules: []access.SharingRule{{ID: 1, EntityType: "contact", Rights: access.LevelRead,
				From: access.Principals{Associates: []access.AssociateID{5}}, To: access.Principals{Associates: []access.AssociateID{5, 6}}}}},
			want: access.Batch{SharingRules: []access.SharingRule{{ID: 1, EntityType: "contact", Rights: access.LevelRead,
				From: access.Principals{Associates: []access.AssociateID{6}}, To: access.Principals{Associates: []access.AssociateID{6}}}}},
		},
		{
			name:  "grant",
			model: access.Batch{Grants: []access.Grant{{ID: 1, Associate: 5, EntityType: "contact", RecordID: 4, Rights: access.LevelRead}}},
			want:  access.Batch{Grants: []access.Grant{{ID: 1, Associate: 6, EntityType: "contact", RecordID: 4, Rights: access.LevelRead}}},
		},
		{
			name: "impersonation",
			model: access.Batch{Impersonations: []access.Impersonation{
				{ID: 1, Actor: access.Principal{Associate: 5}, Target: access.Principal{Group: 30}},
				{ID: 2, Actor: access.Principal{Group: 40}, Target: access.Principal{Associate: 5}},
			}},
			want: access.Batch{Impersonations: []access.Impersonation{
				{ID: 1, Actor: access.Principal{Associate: 6}, Target: access.Principal{Group: 30}},
				{ID: 2, Actor: access.Principal{Group: 40}, Target: access.Principal{Associate: 6}},
			}},
		},
		{
			name:  "impersonating itself: deleted",
			model: access.Batch{Impersonations: []access.Impersonation{{ID: 1, Actor: access.Principal{Associate: 6}, Target: access.Principal{Associate: 5}}}},
			want:  access.Batch{DeleteImpersonations: []access.ImpersonationID{1}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := memory.New()
			rev, err := s.Apply(ctx, with(c.model))
			if err != nil {
				t.Fatal(err)
			}
			got, err := access.TransferAssociate(ctx, s, 5, 6)
			if err != nil {
				t.Fatal(err)
			}
			want := c.want
			want.DeleteAssociates, want.ForgetPastOwners, want.ExpectRevision = []access.AssociateID{5}, []access.AssociateID{5}, rev
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("TransferAssociate(5, 6) (-want +got):\n%s", diff)
			}
			if _, err := s.Apply(ctx, got); err != nil {
				t.Fatalf("applying the transfer: %v", err)
			}
			checkNoReference(t, s, access.Ref{Kind: access.KindAssociate, ID: 5})
		})
	}
}

// checkNoReference fails t if anything in s refers to ref.
func checkNoReference(t tb, s access.Store, ref access.Ref) {
	t.Helper()
	d, err := s.Changes(context.Background(), 0)
	if err != nil {
		t.Fatalf("%v", err)
	}
	each(&d.Batch, func(e any) {
		access.References(e, func(r access.Ref) bool {
			if r == ref {
				t.Errorf("%+v still refers to %s", e, ref)
			}
			return true
		})
	})
}

// each calls fn with a pointer to every entity b puts.
func each(b *access.Batch, fn func(e any)) {
	eachOf(b.Roles, fn)
	eachOf(b.Groups, fn)
	eachOf(b.Associates, fn)
	eachOf(b.SharingRules, fn)
	eachOf(b.Grants, fn)
	eachOf(b.Categories, fn)
	eachOf(b.Impersonations, fn)
	eachOf(b.Limits, fn)
	eachOf(b.Licences, fn)
}

func eachOf[T any](in []T, fn func(e any)) {
	for i := range in {
		fn(&in[i])
	}
}

func TestTransferErrors(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Apply(ctx, transferBase()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		transfer func() (access.Batch, error)
		want     error
		text     string
	}{
		{"group to itself", func() (access.Batch, error) { return access.TransferGroup(ctx, s, 10, 10) }, access.ErrInvalid, "group 10 to group 10"},
		{"group id 0", func() (access.Batch, error) { return access.TransferGroup(ctx, s, 0, 10) }, access.ErrInvalid, "group 0"},
		{"unknown from group", func() (access.Batch, error) { return access.TransferGroup(ctx, s, 11, 20) }, access.ErrNotFound, "group 11 (from)"},
		{"unknown to group", func() (access.Batch, error) { return access.TransferGroup(ctx, s, 10, 21) }, access.ErrNotFound, "group 21 (to)"},
		{"associate to itself", func() (access.Batch, error) { return access.TransferAssociate(ctx, s, 5, 5) }, access.ErrInvalid, "associate 5 to associate 5"},
		{"unknown from associate", func() (access.Batch, error) { return access.TransferAssociate(ctx, s, 8, 6) }, access.ErrNotFound, "associate 8 (from)"},
		{"unknown to associate", func() (access.Batch, error) { return access.TransferAssociate(ctx, s, 5, 9) }, access.ErrNotFound, "associate 9 (to)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.transfer()
			if !errors.Is(err, c.want) || !contains(err, c.text) {
				t.Errorf("error %v, want one wrapping %v naming %q", err, c.want, c.text)
			}
		})
	}
}

func contains(err error, s string) bool {
	return err != nil && len(s) > 0 && errorsContains(err.Error(), s)
}

func errorsContains(a, b string) bool {
	for i := 0; i+len(b) <= len(a); i++ {
		if a[i:i+len(b)] == b {
			return true
		}
	}
	return false
}

// TestTransferConflict: a write between reading the model and applying
// the transfer fails the transfer's batch, which writes nothing.
func TestTransferConflict(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Apply(ctx, with(access.Batch{Associates: []access.Associate{{ID: 7, Name: "di", PrimaryGroup: 10, Role: 1}}})); err != nil {
		t.Fatal(err)
	}
	b, err := access.TransferGroup(ctx, s, 10, 20)
	if err != nil {
		t.Fatal(err)
	}
	// Someone puts an associate into from meanwhile; without the expected
	// revision the transfer would delete a group still referenced, or
	// overwrite the change.
	if _, err := s.Apply(ctx, access.Batch{Patches: []access.Patch{access.JoinGroup(6, 10)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx, b); !errors.Is(err, access.ErrConflict) {
		t.Fatalf("applying a stale transfer: %v, want ErrConflict", err)
	}
	if _, err := s.Group(ctx, 10); err != nil {
		t.Errorf("group 10 after the failed transfer: %v, want it kept", err)
	}
}

// TestTransferGroupCycle: a transfer that would close a longer cycle (to
// nested in a member group of from) is refused by the store.
func TestTransferGroupCycle(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Apply(ctx, with(access.Batch{Groups: []access.Group{
		{ID: 10, Name: "From", Groups: []access.GroupID{40}},
		{ID: 40, Name: "Member", Groups: []access.GroupID{20}},
	}})); err != nil {
		t.Fatal(err)
	}
	b, err := access.TransferGroup(ctx, s, 10, 20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx, b); !errors.Is(err, access.ErrCycle) {
		t.Fatalf("applying a transfer that closes a cycle: %v, want ErrCycle", err)
	}
}

func TestTransferSQL(t *testing.T) {
	cols := access.Columns{Owner: "c.owner_id", Group: "group_id", Team: `"Team"`}
	for _, c := range []struct {
		name    string
		d       access.Dialect
		tr      access.Transfer
		table   string
		cols    access.Columns
		want    string
		args    []any
		wantErr error
	}{
		{name: "group, PostgreSQL", d: access.PostgreSQL, tr: access.Transfer{FromGroup: 1, ToGroup: 2}, table: "public.contact", cols: cols,
			want: `UPDATE public.contact SET group_id = CASE WHEN group_id = $1 THEN $2 ELSE group_id END, "Team" = CASE WHEN "Team" = $1 THEN $2 ELSE "Team" END WHERE group_id = $1 OR "Team" = $1`,
			args: []any{int64(1), int64(2)}},
		{name: "group, SQLite", d: access.SQLite, tr: access.Transfer{FromGroup: 1, ToGroup: 2}, table: "contact", cols: cols,
			want: "UPDATE contact SET group_id = CASE WHEN group_id = ?1 THEN ?2 ELSE group_id END, `Team` = CASE WHEN `Team` = ?1 THEN ?2 ELSE `Team` END WHERE group_id = ?1 OR `Team` = ?1",
			args: []any{int64(1), int64(2)}},
		{name: "group without team", d: access.PostgreSQL, tr: access.Transfer{FromGroup: 1, ToGroup: 2}, table: "contact", cols: access.Columns{Group: "g"},
			want: `UPDATE contact SET g = CASE WHEN g = $1 THEN $2 ELSE g END WHERE g = $1`, args: []any{int64(1), int64(2)}},
		{name: "associate", d: access.PostgreSQL, tr: access.Transfer{FromAssociate: 7, ToAssociate: 8}, table: "contact", cols: cols,
			want: `UPDATE contact SET owner_id = CASE WHEN owner_id = $1 THEN $2 ELSE owner_id END WHERE owner_id = $1`, args: []any{int64(7), int64(8)}},
		{name: "no owner column", d: access.PostgreSQL, tr: access.Transfer{FromAssociate: 7, ToAssociate: 8}, table: "contact", cols: access.Columns{Group: "g"}, wantErr: access.ErrInvalid},
		{name: "bad table", d: access.PostgreSQL, tr: access.Transfer{FromGroup: 1, ToGroup: 2}, table: "contact x", cols: cols, wantErr: access.ErrInvalid},
		{name: "keyword table", d: access.PostgreSQL, tr: access.Transfer{FromGroup: 1, ToGroup: 2}, table: "user", cols: cols, wantErr: access.ErrInvalid},
		{name: "bad column", d: access.SQLite, tr: access.Transfer{FromGroup: 1, ToGroup: 2}, table: "contact", cols: access.Columns{Group: "g; --"}, wantErr: access.ErrColumn},
		{name: "both pairs", d: access.SQLite, tr: access.Transfer{FromGroup: 1, ToGroup: 2, FromAssociate: 1, ToAssociate: 2}, table: "contact", cols: cols, wantErr: access.ErrInvalid},
		{name: "same ids", d: access.SQLite, tr: access.Transfer{FromGroup: 1, ToGroup: 1}, table: "contact", cols: cols, wantErr: access.ErrInvalid},
		{name: "nothing", d: access.SQLite, table: "contact", cols: cols, wantErr: access.ErrInvalid},
		{name: "unknown dialect", d: access.Dialect(9), tr: access.Transfer{FromGroup: 1, ToGroup: 2}, table: "contact", cols: cols, wantErr: access.ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, args, err := c.tr.SQL(c.d, c.table, c.cols)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("error %v, want one wrapping %v", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, q); diff != "" {
				t.Errorf("SQL (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.args, args); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
}

// drawReferences adds to b sharing rules, grants, limits, categories,
// impersonation rules and group admins naming b's groups and associates.
func drawReferences(t *rapid.T, b *access.Batch) {
	var groups []access.GroupID
	for _, g := range b.Groups {
		groups = append(groups, g.ID)
	}
	var assocs []access.AssociateID
	for _, a := range b.Associates {
		assocs = append(assocs, a.ID)
	}
	for i := range b.Groups {
		b.Groups[i].Admins = subset(t, "admins", assocs, 2)
	}
	for i := range rapid.IntRange(0, 3).Draw(t, "rules") {
		r := access.SharingRule{ID: access.RuleID(i + 1), EntityType: "contact", Rights: access.LevelRead,
			From: access.Principals{Groups: subset(t, "from groups", groups, 2), Associates: subset(t, "from associates", assocs, 2)},
			To:   access.Principals{Groups: subset(t, "to groups", groups, 2), Associates: subset(t, "to associates", assocs, 2)},
		}
		if !r.From.IsEmpty() && !r.To.IsEmpty() {
			b.SharingRules = append(b.SharingRules, r)
		}
	}
	for i := range rapid.IntRange(0, 3).Draw(t, "grants") {
		g := access.Grant{ID: access.GrantID(i + 1), EntityType: "contact", RecordID: 1, Rights: access.LevelRead}
		if len(assocs) > 0 && rapid.Bool().Draw(t, "to associate") {
			g.Associate = pick(t, "grantee", assocs)
		} else {
			g.Group = pick(t, "grantee group", groups)
		}
		b.Grants = append(b.Grants, g)
	}
	for i := range rapid.IntRange(0, 2).Draw(t, "limits") {
		b.Limits = append(b.Limits, access.Limit{ID: access.LimitID(i + 1), Group: pick(t, "limited group", groups), EntityType: "contact", Max: access.LevelRead})
	}
	for i := range rapid.IntRange(0, 2).Draw(t, "categories") {
		b.Categories = append(b.Categories, access.Category{ID: access.CategoryID(i + 1), Name: "c", Groups: subset(t, "category groups", groups, 2)})
	}
	principal := func(label string) access.Principal {
		if len(assocs) > 0 && rapid.Bool().Draw(t, label) {
			return access.Principal{Associate: pick(t, label+" associate", assocs)}
		}
		return access.Principal{Group: pick(t, label+" group", groups)}
	}
	system := map[access.AssociateID]bool{}
	for _, a := range b.Associates {
		system[a.ID] = a.Type == access.System
	}
	for i := range rapid.IntRange(0, 2).Draw(t, "impersonations") {
		m := access.Impersonation{ID: access.ImpersonationID(i + 1), Actor: principal("actor"), Target: principal("target")}
		if !system[m.Target.Associate] {
			b.Impersonations = append(b.Impersonations, m)
		}
	}
}

// TestPropTransfer: on random valid organisations, some with a past
// owner, a group transfer is refused when from is smart and would lose
// members (the error names one), and its batch otherwise either applies
// or is refused for a cycle it would close (and then nothing changes);
// once applied, nothing refers to from, every effective member of from
// or of to is one of to, every other group keeps its members, and a past
// owner whose primary group was from has to. An associate transfer,
// from a live associate or a past owner, always applies, leaves nothing
// referring to from and forgets it as a past owner.
func TestPropTransfer(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		org := drawOrg(t, validOrg)
		drawReferences(t, &org)
		var victim access.AssociateID
		if len(org.Associates) >= 2 && rapid.Bool().Draw(t, "past owner") {
			victim = pick(t, "past owner", org.Associates).ID
			org = withoutAssociate(org, victim)
		}
		s := memory.New()
		if _, err := s.Apply(ctx, org); err != nil {
			t.Fatalf("a drawn organisation: %v", err)
		}
		if victim != 0 {
			if _, err := s.Apply(ctx, access.Batch{DeleteAssociates: []access.AssociateID{victim}}); err != nil {
				t.Fatalf("deleting %d: %v", victim, err)
			}
		}
		pastOwners := func() map[access.AssociateID]access.PastOwner {
			d, err := s.Changes(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			out := map[access.AssociateID]access.PastOwner{}
			for _, p := range d.PastOwners {
				out[p.ID] = p
			}
			return out
		}
		r, err := access.NewResolver(ctx, s, nil)
		if err != nil {
			t.Fatal(err)
		}
		members := func(g access.GroupID) map[access.AssociateID]bool {
			ids, err := r.Members(ctx, g)
			if err != nil {
				t.Fatalf("Members(%d): %v", g, err)
			}
			out := map[access.AssociateID]bool{}
			for _, id := range ids {
				out[id] = true
			}
			return out
		}
		if len(org.Associates) >= 2 && rapid.Bool().Draw(t, "associate transfer") {
			from := pick(t, "from", org.Associates).ID
			toA := pick(t, "to", org.Associates)
			to := toA.ID
			b, err := access.TransferAssociate(ctx, s, from, to)
			// A system user cannot be impersonated: a rule targeting
			// from cannot move to one. A rule whose actor is from or to
			// becomes to acting as to, and is deleted instead.
			targeted := slices.ContainsFunc(org.Impersonations, func(m access.Impersonation) bool {
				return m.Target.Associate == from && m.Actor.Associate != to && m.Actor.Associate != from
			})
			switch {
			case from != to && to == victim:
				if !errors.Is(err, access.ErrNotFound) {
					t.Fatalf("TransferAssociate(%d, past owner %d): %v, want ErrNotFound", from, to, err)
				}
				return
			case from == to || targeted && toA.Type == access.System:
				if !errors.Is(err, access.ErrInvalid) {
					t.Fatalf("TransferAssociate(%d, %d): %v, want ErrInvalid", from, to, err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if _, err := s.Apply(ctx, b); err != nil {
				t.Fatalf("applying TransferAssociate(%d, %d): %v", from, to, err)
			}
			checkNoReference(t, s, access.Ref{Kind: access.KindAssociate, ID: int64(from)})
			if p, ok := pastOwners()[from]; ok {
				t.Fatalf("after TransferAssociate(%d, %d), %d is still a past owner: %+v", from, to, from, p)
			}
			return
		}
		fromG := pick(t, "from", org.Groups)
		// Smart groups are few: draw one as from a third of the time,
		// so that members a transfer would lose are met.
		if smart := slices.DeleteFunc(slices.Clone(org.Groups), func(g access.Group) bool { return g.Smart == "" }); len(smart) > 0 && rapid.IntRange(0, 2).Draw(t, "smart from") == 0 {
			fromG = pick(t, "smart from", smart)
		}
		toG := pick(t, "to", org.Groups)
		// From smart, a plain to other than from most of the time, so
		// that what the transfer would lose is what decides.
		if plain := slices.DeleteFunc(slices.Clone(org.Groups), func(g access.Group) bool { return g.Smart != "" || g.ID == fromG.ID }); fromG.Smart != "" && len(plain) > 0 && rapid.IntRange(0, 3).Draw(t, "plain to") > 0 {
			toG = pick(t, "plain to", plain)
		}
		from, to := fromG.ID, toG.ID
		before := map[access.GroupID]map[access.AssociateID]bool{}
		for _, g := range org.Groups {
			before[g.ID] = members(g.ID)
		}
		past0 := pastOwners()
		b, err := access.TransferGroup(ctx, s, from, to)
		switch {
		case from == to || toG.Smart != "":
			if !errors.Is(err, access.ErrInvalid) {
				t.Fatalf("TransferGroup(%d, %d): %v, want ErrInvalid", from, to, err)
			}
			return
		case fromG.Smart != "" && errors.Is(err, access.ErrInvalid):
			// A smart from whose rule's members to would not have: the
			// error names one of from's members.
			named := false
			for id := range before[from] {
				named = named || contains(err, fmt.Sprintf(" %d (", id))
			}
			if !named || !contains(err, "smart") {
				t.Fatalf("TransferGroup(%d, %d): %v; want it to name a member of %d", from, to, err, from)
			}
			return
		case err != nil:
			t.Fatal(err)
		}
		revision := func() access.Revision {
			d, err := s.Changes(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			return d.To
		}
		rev0 := revision()
		if _, err := s.Apply(ctx, b); err != nil {
			if !errors.Is(err, access.ErrCycle) {
				t.Fatalf("applying TransferGroup(%d, %d): %v, want success or ErrCycle", from, to, err)
			}
			if rev := revision(); rev != rev0 {
				t.Fatalf("a refused transfer moved the revision from %d to %d", rev0, rev)
			}
			return
		}
		checkNoReference(t, s, access.Ref{Kind: access.KindGroup, ID: int64(from)})
		after := members(to)
		// A smart from is transferred only when to keeps every member
		// its rule gave it, so nobody is lost.
		for _, g := range []access.GroupID{from, to} {
			for id := range before[g] {
				if !after[id] {
					t.Errorf("associate %d, a member of group %d before, is no member of %d after", id, g, to)
				}
			}
		}
		for _, g := range org.Groups {
			if g.ID == from || g.ID == to {
				continue
			}
			// A group that included from includes to, and so may gain
			// to's members; it loses none.
			got := members(g.ID)
			for id := range before[g.ID] {
				if !got[id] {
					t.Errorf("group %d lost member %d", g.ID, id)
				}
			}
		}
		for id, p := range pastOwners() {
			want := past0[id]
			if want.PrimaryGroup == from {
				want.PrimaryGroup = to
			}
			if p != want {
				t.Errorf("past owner after the transfer: %+v, want %+v", p, want)
			}
		}
		if len(pastOwners()) != len(past0) {
			t.Errorf("past owners %v after the transfer, want %v", pastOwners(), past0)
		}
	})
}

// TestTransferGroupPastOwner: a reader who reached a past owner's records
// through a sharing rule from the past owner's primary group keeps them
// after the group is transferred: the rule names to, and so does the past
// owner. Can, Filter and WhoCan agree.
func TestTransferGroupPastOwner(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	model := with(access.Batch{
		Associates: []access.Associate{{ID: 7, Name: "di", PrimaryGroup: 10, Role: 1, Active: true}},
		SharingRules: []access.SharingRule{{ID: 1, Name: "from's records to other", EntityType: "contact", Rights: access.LevelRead,
			From: access.Principals{Groups: []access.GroupID{10}}, To: access.Principals{Groups: []access.GroupID{30}}}},
	})
	if _, err := s.Apply(ctx, model); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx, access.Batch{DeleteAssociates: []access.AssociateID{7}}); err != nil {
		t.Fatal(err)
	}
	e, err := access.NewResolver(ctx, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	rec := access.Record{Type: "contact", ID: 1, Owner: 7}
	type answer struct {
		Can, Filter, WhoCan bool
		PrimaryGroup        access.GroupID
	}
	ask := func() answer {
		t.Helper()
		if err := e.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		d, err := e.Can(ctx, 5, access.Read, rec)
		if err != nil {
			t.Fatal(err)
		}
		f, err := e.Filter(ctx, 5, access.Read, "contact")
		if err != nil {
			t.Fatal(err)
		}
		who, err := e.WhoCan(ctx, access.Read, rec)
		if err != nil {
			t.Fatal(err)
		}
		past, err := e.PastOwners(ctx)
		if err != nil || len(past) != 1 {
			t.Fatalf("PastOwners: %v, %v; want past owner 7", past, err)
		}
		return answer{d.Allowed, f.Match(rec), slices.ContainsFunc(who, func(a access.Allowed) bool { return a.Associate == 5 }), past[0].PrimaryGroup}
	}
	if diff := cmp.Diff(answer{true, true, true, 10}, ask()); diff != "" {
		t.Fatalf("before the transfer (-want +got):\n%s", diff)
	}
	b, err := access.TransferGroup(ctx, s, 10, 20)
	if err != nil {
		t.Fatal(err)
	}
	if want := []access.PastOwnerMove{{From: 10, To: 20}}; !cmp.Equal(want, b.MovePastOwners) {
		t.Errorf("TransferGroup(10, 20).MovePastOwners = %v, want %v", b.MovePastOwners, want)
	}
	if _, err := s.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(answer{true, true, true, 20}, ask()); diff != "" {
		t.Errorf("after the transfer (-want +got):\n%s", diff)
	}
}

// TestTransferGroupSmart: a smart from is transferred only when each of
// its effective members is an effective member of to afterwards; the
// error names those who are not.
func TestTransferGroupSmart(t *testing.T) {
	ctx := context.Background()
	sales := map[string]string{"dept": "sales"}
	for _, c := range []struct {
		name   string
		assocs []access.Associate
		lost   string // "" for a transfer that applies
	}{
		{"no members", nil, ""},
		{"members already in to", []access.Associate{
			{ID: 7, Name: "di", PrimaryGroup: 20, Role: 1, Active: true, Attributes: sales},
			{ID: 8, Name: "ed", PrimaryGroup: 30, Groups: []access.GroupID{20}, Role: 1, Active: true, Attributes: sales},
		}, ""},
		{"one would be lost", []access.Associate{
			{ID: 7, Name: "di", PrimaryGroup: 20, Role: 1, Active: true, Attributes: sales},
			{ID: 8, Name: "ed", PrimaryGroup: 30, Role: 1, Active: true, Attributes: sales},
		}, "associate 8 (ed) would not"},
		{"two would be lost", []access.Associate{
			{ID: 7, Name: "di", PrimaryGroup: 30, Role: 1, Active: true, Attributes: sales},
			{ID: 8, Name: "ed", PrimaryGroup: 30, Role: 1, Active: true, Attributes: sales},
		}, "associates 7 (di) and 8 (ed) would not"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := memory.New()
			model := with(access.Batch{
				Groups:     []access.Group{{ID: 10, Name: "From", Smart: `attr.dept == "sales"`}},
				Associates: c.assocs,
			})
			if _, err := s.Apply(ctx, model); err != nil {
				t.Fatal(err)
			}
			b, err := access.TransferGroup(ctx, s, 10, 20)
			if c.lost != "" {
				if !errors.Is(err, access.ErrInvalid) || !contains(err, c.lost) || !contains(err, "smart") {
					t.Fatalf("TransferGroup(10, 20): %v, want ErrInvalid naming %q", err, c.lost)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Apply(ctx, b); err != nil {
				t.Fatalf("applying the transfer: %v", err)
			}
		})
	}
}

// TestTransferAssociatePastOwner: an associate already deleted, kept as
// a past owner, is transferred too: the batch forgets it.
func TestTransferAssociatePastOwner(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Apply(ctx, transferBase()); err != nil {
		t.Fatal(err)
	}
	rev, err := s.Apply(ctx, access.Batch{DeleteAssociates: []access.AssociateID{5}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := access.TransferAssociate(ctx, s, 5, 6)
	if err != nil {
		t.Fatalf("TransferAssociate(past owner 5, 6): %v", err)
	}
	want := access.Batch{ForgetPastOwners: []access.AssociateID{5}, ExpectRevision: rev}
	if diff := cmp.Diff(want, b, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("TransferAssociate(past owner 5, 6) (-want +got):\n%s", diff)
	}
	if _, err := s.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Changes(ctx, 0); err != nil || len(d.PastOwners) != 0 {
		t.Errorf("past owners after the transfer: %v, %v; want none", d.PastOwners, err)
	}
	// Forgotten, it is unknown.
	if _, err := access.TransferAssociate(ctx, s, 5, 6); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("TransferAssociate(forgotten 5, 6): %v, want ErrNotFound", err)
	}
}

// TestDeleteGroupOfPastOwner: a plain delete of a past owner's primary
// group is allowed (a past owner's group is no reference) and leaves the
// past owner naming the id, as PastOwner documents; it then counts as
// having no primary group. A transfer is what moves it.
func TestDeleteGroupOfPastOwner(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Apply(ctx, with(access.Batch{Associates: []access.Associate{{ID: 7, Name: "di", PrimaryGroup: 40, Role: 1, Active: true}}})); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx, access.Batch{DeleteAssociates: []access.AssociateID{7}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx, access.Batch{DeleteGroups: []access.GroupID{40}}); err != nil {
		t.Fatalf("deleting the past owner's primary group: %v", err)
	}
	d, err := s.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []access.PastOwner{{ID: 7, Name: "di", Type: access.Internal, Role: 1, PrimaryGroup: 40}}
	if diff := cmp.Diff(want, d.PastOwners); diff != "" {
		t.Errorf("past owners after deleting group 40 (-want +got):\n%s", diff)
	}
}
