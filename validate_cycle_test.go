package access_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crmaccess/access"
)

// graphView is a model of groups alone, held as given: its nesting may
// be circular, as data written around the validator can be. Dependants
// lists the groups that list a group, from a scan.
type graphView struct {
	dEmptyView
	groups map[access.GroupID]access.Group
	// failDependants makes Dependants fail, as a view that cannot answer.
	failDependants bool
}

func (v graphView) Group(_ context.Context, id access.GroupID) (access.Group, error) {
	if g, ok := v.groups[id]; ok {
		return g, nil
	}
	return access.Group{}, access.ErrNotFound
}

func (v graphView) Dependants(_ context.Context, ref access.Ref) ([]access.Ref, error) {
	if v.failDependants {
		return nil, errors.New("no reverse index")
	}
	var out []access.Ref
	if ref.Kind != access.KindGroup {
		return nil, nil
	}
	for _, g := range v.groups {
		if slices.Contains(g.Groups, access.GroupID(ref.ID)) {
			out = append(out, access.Ref{Kind: access.KindGroup, ID: int64(g.ID)})
		}
	}
	return out, nil
}

// TestPropCycleOneGroupPutOverAnyModel: a batch that puts one group (the
// case Validate answers by walking up from the group rather than down)
// is reported on a cycle exactly when the search Validate replaced finds
// one, with the same path, over models that are themselves circular or
// not, and whether or not the view can list dependants.
func TestPropCycleOneGroupPutOverAnyModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		n := rapid.IntRange(1, 9).Draw(t, "size")
		ids := seqIDs(n)
		v := graphView{groups: map[access.GroupID]access.Group{}}
		for _, id := range ids {
			g := access.Group{ID: access.GroupID(id), Name: "g"}
			for _, c := range subset(t, "members", ids, 3) {
				g.Groups = append(g.Groups, access.GroupID(c))
			}
			v.groups[g.ID] = g
		}
		v.failDependants = rapid.Bool().Draw(t, "no dependants")
		// The put: an existing group or a new one, listing existing ones
		// but not itself (Batch.Check rejects that on its own).
		id := rapid.IntRange(1, n+1).Draw(t, "put")
		g := access.Group{ID: access.GroupID(id), Name: "g"}
		for _, c := range subset(t, "put members", ids, 4) {
			if c != id {
				g.Groups = append(g.Groups, access.GroupID(c))
			}
		}
		after := map[access.GroupID]access.Group{}
		for k, x := range v.groups {
			after[k] = x
		}
		after[g.ID] = g
		var want *access.CycleError
		if p := oldGroupCycle(after, g.ID); p != nil {
			want = &access.CycleError{Kind: access.KindGroup, Path: p}
		}
		b := access.Batch{Groups: []access.Group{g}}
		err := b.Validate(ctx, v)
		var got *access.CycleError
		if err != nil && !errors.As(err, &got) {
			t.Fatalf("Validate: %v; want a cycle error or none", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("cycle (-old search +Validate):\n%s", diff)
		}
	})
}
