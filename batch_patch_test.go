package access_test

import (
	"context"
	"errors"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// TestPatchResolverFollows checks that a resolver following a store sees
// the result of patches: they reach it as the patched entities, whole.
func TestPatchResolverFollows(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Apply(ctx, access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "clerk", Rights: map[string]access.Grid{"sale": {access.Owner: access.LevelFull}}}},
		Groups: []access.Group{{ID: 10, Name: "all"}, {ID: 20, Name: "sales"}, {ID: 30, Name: "north"}},
		Associates: []access.Associate{
			{ID: 100, Name: "anna", Type: access.Internal, PrimaryGroup: 10, Role: 1, Active: true},
			{ID: 101, Name: "bob", Type: access.Internal, PrimaryGroup: 10, Role: 1, Active: true},
		},
	}); err != nil {
		t.Fatal(err)
	}
	e, err := access.NewResolver(ctx, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	sale := access.Record{Type: "sale", ID: 1, Owner: 101, Group: 10}
	check := func(when string, member30, canRead bool) {
		t.Helper()
		if got, err := e.IsMember(ctx, 100, 30); err != nil || got != member30 {
			t.Errorf("%s: IsMember(anna, north) = %v, %v; want %v", when, got, err, member30)
		}
		d, err := e.Can(ctx, 100, access.Read, sale)
		if err != nil || d.Allowed != canRead {
			t.Errorf("%s: Can(anna, read, bob's sale) = %v, %v; want %v", when, d.Allowed, err, canRead)
		}
	}
	check("before", false, false)

	// anna joins sales, which north comes to include; the clerk role
	// gains read on the sales of its primary group.
	rev, err := s.Apply(ctx, access.Batch{Patches: []access.Patch{
		access.JoinGroup(100, 20),
		access.NestGroup(30, 20),
		access.SetCell(1, "sale", access.PrimaryGroup, access.R),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Sync(ctx, rev); err != nil {
		t.Fatal(err)
	}
	check("after the patches", true, true)

	rev, err = s.Apply(ctx, access.Batch{Patches: []access.Patch{
		access.LeaveGroup(100, 20),
		access.SetCell(1, "sale", access.PrimaryGroup, access.LevelNone),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Sync(ctx, rev); err != nil {
		t.Fatal(err)
	}
	check("after undoing them", false, false)
}

// TestPatchedLeavesBatch checks that Patched neither changes the batch nor
// shares memory with the view's values, and that Validate judges the
// patched result.
func TestPatchedLeavesBatch(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	groups := []access.GroupID{10}
	if _, err := s.Apply(ctx, access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "clerk"}},
		Groups: []access.Group{{ID: 10, Name: "all"}, {ID: 20, Name: "sales", Groups: groups}},
		Associates: []access.Associate{
			{ID: 100, Name: "anna", Type: access.Internal, PrimaryGroup: 10, Role: 1, Active: true},
		},
	}); err != nil {
		t.Fatal(err)
	}
	extra := make([]access.Group, 1, 4)
	extra[0] = access.Group{ID: 30, Name: "north"}
	b := access.Batch{Groups: extra, Patches: []access.Patch{access.NestGroup(20, 30), access.JoinGroup(100, 20)}}
	before := b.Clone()
	p, err := b.Patched(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if diff := gocmp.Diff(before, b); diff != "" {
		t.Errorf("Patched changed its batch (-before +after):\n%s", diff)
	}
	if extra[:2][1].ID != 0 {
		t.Errorf("Patched appended into the batch's array: %+v", extra[:2])
	}
	want := access.Batch{
		Groups:     []access.Group{{ID: 30, Name: "north"}, {ID: 20, Name: "sales", Groups: []access.GroupID{10, 30}}},
		Associates: []access.Associate{{ID: 100, Name: "anna", Type: access.Internal, PrimaryGroup: 10, Groups: []access.GroupID{20}, Role: 1, Active: true}},
	}
	if diff := gocmp.Diff(want, p); diff != "" {
		t.Errorf("Patched (-want +got):\n%s", diff)
	}
	if err := b.Validate(ctx, s); err != nil {
		t.Errorf("Validate: %v", err)
	}
	cycle := access.Batch{Patches: []access.Patch{access.NestGroup(10, 20)}}
	if err := cycle.Validate(ctx, s); !errors.Is(err, access.ErrCycle) {
		t.Errorf("Validate(nesting 20 in 10, which 20 lists) = %v, want ErrCycle", err)
	}
	if groups[0] != 10 || len(groups) != 1 {
		t.Errorf("the store's group 20 changed: %v", groups)
	}
}

// TestPatchOpString checks the operation names.
func TestPatchOpString(t *testing.T) {
	for op, want := range map[access.PatchOp]string{
		access.PatchJoin: "join", access.PatchLeave: "leave", access.PatchNest: "nest",
		access.PatchUnnest: "unnest", access.PatchSetCell: "set-cell", 0: "patch-op(0)", 9: "patch-op(9)",
	} {
		if got := op.String(); got != want {
			t.Errorf("PatchOp(%d).String() = %q, want %q", uint8(op), got, want)
		}
	}
}
