package access_test

import (
	"context"
	"errors"
	"testing"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
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
	b.Categories, b.Impersonations = extra.Categories, extra.Impersonations
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
			want.DeleteAssociates, want.ExpectRevision = []access.AssociateID{5}, rev
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
func checkNoReference(t testing.TB, s access.Store, ref access.Ref) {
	t.Helper()
	d, err := s.Changes(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
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
	for i := range b.Roles {
		fn(&b.Roles[i])
	}
	for i := range b.Groups {
		fn(&b.Groups[i])
	}
	for i := range b.Associates {
		fn(&b.Associates[i])
	}
	for i := range b.SharingRules {
		fn(&b.SharingRules[i])
	}
	for i := range b.Grants {
		fn(&b.Grants[i])
	}
	for i := range b.Categories {
		fn(&b.Categories[i])
	}
	for i := range b.Impersonations {
		fn(&b.Impersonations[i])
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
