package access_test

import (
	"context"
	"errors"
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

// TestPropTransfer: on random valid organisations, a group transfer's
// batch either applies or is refused for a cycle it would close (and then
// nothing changes); once applied, nothing refers to from, every effective
// member of from or of to is one of to, and every other group keeps its
// members. An associate transfer always applies and leaves nothing
// referring to from.
func TestPropTransfer(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		org := drawOrg(t, validOrg)
		drawReferences(t, &org)
		s := memory.New()
		if _, err := s.Apply(ctx, org); err != nil {
			t.Fatalf("a drawn organisation: %v", err)
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
			if from == to || targeted && toA.Type == access.System {
				if !errors.Is(err, access.ErrInvalid) {
					t.Fatalf("TransferAssociate(%d, %d): %v, want ErrInvalid", from, to, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Apply(ctx, b); err != nil {
				t.Fatalf("applying TransferAssociate(%d, %d): %v", from, to, err)
			}
			checkNoReference(t, s, access.Ref{Kind: access.KindAssociate, ID: int64(from)})
			return
		}
		fromG := pick(t, "from", org.Groups)
		toG := pick(t, "to", org.Groups)
		from, to := fromG.ID, toG.ID
		b, err := access.TransferGroup(ctx, s, from, to)
		switch {
		case from == to || toG.Smart != "":
			if !errors.Is(err, access.ErrInvalid) {
				t.Fatalf("TransferGroup(%d, %d): %v, want ErrInvalid", from, to, err)
			}
			return
		case err != nil:
			t.Fatal(err)
		}
		before := map[access.GroupID]map[access.AssociateID]bool{}
		for _, g := range org.Groups {
			before[g.ID] = members(g.ID)
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
		// A smart group's rule does not move: the members it gave from
		// (and through from, to) need not be to's.
		smartFrom := func(id access.AssociateID) bool { return fromG.Smart != "" && before[from][id] }
		for _, g := range []access.GroupID{from, to} {
			for id := range before[g] {
				if !after[id] && !smartFrom(id) {
					t.Errorf("associate %d, a member of group %d before, is no member of %d after", id, g, to)
				}
			}
		}
		for _, g := range org.Groups {
			if g.ID == from || g.ID == to {
				continue
			}
			// A group that included from includes to, and so may gain
			// to's members; it loses none but those a smart from's rule
			// gave it (the rule does not move).
			got := members(g.ID)
			for id := range before[g.ID] {
				if !got[id] && !smartFrom(id) {
					t.Errorf("group %d lost member %d", g.ID, id)
				}
			}
		}
	})
}
