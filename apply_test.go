package access_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// lopsided grants read on contacts to every relation and full rights to
// the owner: no findings yet. Tests take a cell away to make it lopsided.
func lopsided(id access.RoleID, name string) access.Role {
	return access.Role{ID: id, Name: name, Rights: map[string]access.Grid{
		"contact": {
			access.Owner: access.LevelFull, access.Team: access.R, access.Subordinate: access.R,
			access.CategoryMember: access.R, access.OtherGroup: access.R, access.PrimaryGroup: access.R,
			access.Other: access.R,
		},
	}}
}

// clean grants every relation the same.
func clean(id access.RoleID, name string) access.Role {
	return access.Role{ID: id, Name: name, Rights: map[string]access.Grid{
		access.Wildcard: {access.Owner: access.LevelFull, access.PrimaryGroup: access.LevelFull, access.Other: access.R,
			access.Team: access.R, access.OtherGroup: access.R, access.Subordinate: access.R, access.CategoryMember: access.R},
	}}
}

func finding(id access.RoleID, name, typ string, closer, farther access.Relation, extra access.CRUD) access.RoleLint {
	return access.RoleLint{Role: id, Name: name, Lint: access.Lint{EntityType: typ, Closer: closer, Farther: farther, Extra: extra}}
}

// failingWriter returns err from every Apply, as a store refusing a write
// does.
type failingWriter struct{ err error }

func (w failingWriter) Apply(context.Context, access.Batch) (access.Revision, error) {
	return 0, w.err
}

// writeOnly hides every method of the store but Apply, as a wrapper that
// embeds only the Writer would.
type writeOnly struct{ w access.Writer }

func (w writeOnly) Apply(ctx context.Context, b access.Batch) (access.Revision, error) {
	return w.w.Apply(ctx, b)
}

func TestApply(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		setup access.Batch // applied first, directly
		b     access.Batch
		wrap  func(access.Writer) access.Writer
		want  []access.RoleLint
		err   error // a sentinel the error must wrap; nil for success
	}{
		{
			name: "put role",
			b:    access.Batch{Roles: []access.Role{clean(1, "Clean"), lopsidedPG(2, "Sales")}},
			want: pgFindings(2, "Sales"),
		},
		{
			name: "clean role",
			b:    access.Batch{Roles: []access.Role{clean(1, "Clean")}},
		},
		{
			name:  "set-cell patch",
			setup: access.Batch{Roles: []access.Role{lopsided(1, "Sales")}},
			b: access.Batch{Patches: []access.Patch{
				access.SetCell(1, "contact", access.PrimaryGroup, access.LevelNone),
				access.SetCell(1, "contact", access.OtherGroup, access.LevelNone),
			}},
			want: []access.RoleLint{
				finding(1, "Sales", "contact", access.PrimaryGroup, access.Other, access.R),
				finding(1, "Sales", "contact", access.OtherGroup, access.Other, access.R),
			},
		},
		{
			name:  "put then patched, in that order",
			setup: access.Batch{Roles: []access.Role{lopsided(1, "Sales")}},
			b: access.Batch{
				Roles:   []access.Role{lopsidedPG(2, "Support")},
				Patches: []access.Patch{access.SetCell(1, "contact", access.PrimaryGroup, access.LevelNone)},
			},
			want: append(pgFindings(2, "Support"),
				finding(1, "Sales", "contact", access.PrimaryGroup, access.OtherGroup, access.R),
				finding(1, "Sales", "contact", access.PrimaryGroup, access.Other, access.R)),
		},
		{
			name:  "patch fixing the role",
			setup: access.Batch{Roles: []access.Role{lopsidedPG(1, "Sales")}},
			b: access.Batch{Patches: []access.Patch{
				access.SetCell(1, "contact", access.PrimaryGroup, access.R),
				access.SetCell(1, "contact", access.OtherGroup, access.R),
			}},
		},
		{
			name:  "writer without Role lints only put roles",
			setup: access.Batch{Roles: []access.Role{lopsided(1, "Sales")}},
			b: access.Batch{
				Roles:   []access.Role{lopsidedPG(2, "Support")},
				Patches: []access.Patch{access.SetCell(1, "contact", access.PrimaryGroup, access.LevelNone)},
			},
			wrap: func(w access.Writer) access.Writer { return writeOnly{w} },
			want: pgFindings(2, "Support"),
		},
		{
			name: "invalid role",
			b:    access.Batch{Roles: []access.Role{lopsidedPG(0, "")}},
			err:  access.ErrInvalid,
		},
		{
			name: "patch of a missing role",
			b:    access.Batch{Patches: []access.Patch{access.SetCell(9, "contact", access.PrimaryGroup, access.LevelNone)}},
			err:  access.ErrNotFound,
		},
		{
			name: "conflict",
			b:    access.Batch{Roles: []access.Role{lopsidedPG(1, "Sales")}, ExpectRevision: 7},
			err:  access.ErrConflict,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := memory.New()
			if !tc.setup.Empty() {
				if _, err := s.Apply(ctx, tc.setup); err != nil {
					t.Fatal(err)
				}
			}
			var w access.Writer = s
			if tc.wrap != nil {
				w = tc.wrap(s)
			}
			got, err := access.Apply(ctx, w, tc.b)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Apply error = %v, want one wrapping %v", err, tc.err)
				}
				if diff := cmp.Diff(access.Applied{}, got); diff != "" {
					t.Errorf("Applied after an error (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if got.Revision != s.Revision() {
				t.Errorf("Revision = %d, store is at %d", got.Revision, s.Revision())
			}
			if diff := cmp.Diff(tc.want, got.Lint); diff != "" {
				t.Errorf("Lint (-want +got):\n%s", diff)
			}
		})
	}
}

// lopsidedPG is lopsided with nothing on the primary group (nor, as
// it may not exceed it, on other groups).
func lopsidedPG(id access.RoleID, name string) access.Role {
	r := lopsided(id, name)
	r.Rights["contact"][access.PrimaryGroup] = access.LevelNone
	// OtherGroup may grant no more than PrimaryGroup, so it drops too and
	// Other beyond it is the second finding.
	r.Rights["contact"][access.OtherGroup] = access.LevelNone
	return r
}

// pgFindings are lopsidedPG's findings.
func pgFindings(id access.RoleID, name string) []access.RoleLint {
	return []access.RoleLint{
		finding(id, name, "contact", access.PrimaryGroup, access.Other, access.R),
		finding(id, name, "contact", access.OtherGroup, access.Other, access.R),
	}
}

// TestApplyErrorUnchanged: the writer's error comes back as the very
// value, so callers matching on it (errors.Is, errors.As, ==) see no
// difference from calling the store directly.
func TestApplyErrorUnchanged(t *testing.T) {
	want := fmt.Errorf("access: role 1: %w", access.ErrInvalid)
	got, err := access.Apply(context.Background(), failingWriter{want}, access.Batch{Roles: []access.Role{lopsidedPG(1, "Sales")}})
	if err != want {
		t.Errorf("Apply error = %v, want the writer's own %v", err, want)
	}
	if !errors.Is(err, access.ErrInvalid) {
		t.Errorf("Apply error %v does not wrap ErrInvalid", err)
	}
	if got.Revision != 0 || got.Lint != nil {
		t.Errorf("Applied = %+v after an error, want zero", got)
	}
}

func TestBatchLint(t *testing.T) {
	b := access.Batch{
		Roles: []access.Role{lopsidedPG(3, "C"), clean(1, "A"), lopsidedPG(2, "B")},
		// A patch is not a put: Batch.Lint cannot see its result.
		Patches: []access.Patch{access.SetCell(4, "contact", access.PrimaryGroup, access.LevelNone)},
	}
	want := append(pgFindings(3, "C"), pgFindings(2, "B")...)
	if diff := cmp.Diff(want, b.Lint()); diff != "" {
		t.Errorf("Batch.Lint (-want +got):\n%s", diff)
	}
	if got := (&access.Batch{Roles: []access.Role{clean(1, "A")}}).Lint(); got != nil {
		t.Errorf("Batch.Lint of a clean role = %v, want none", got)
	}
}

func TestRoleLintString(t *testing.T) {
	got := finding(1, "Sales", "contact", access.PrimaryGroup, access.Other, access.R).String()
	want := `role Sales (1): "contact": other grants R beyond primary group`
	if got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestApplyDeleted: Apply names the groups and associates a write
// deleted, so a delete that did not move the application's records is
// visible; a write deleting nothing names none.
func TestApplyDeleted(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	got, err := access.Apply(ctx, s, transferBase())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Deleted) != 0 {
		t.Errorf("Deleted after a write of puts only: %v, want none", got.Deleted)
	}
	got, err = access.Apply(ctx, s, access.Batch{DeleteGroups: []access.GroupID{40, 10}, DeleteAssociates: []access.AssociateID{6}})
	if err != nil {
		t.Fatal(err)
	}
	want := []access.Ref{{Kind: access.KindGroup, ID: 40}, {Kind: access.KindGroup, ID: 10}, {Kind: access.KindAssociate, ID: 6}}
	if diff := cmp.Diff(want, got.Deleted); diff != "" {
		t.Errorf("Deleted (-want +got):\n%s", diff)
	}
}
