package storetest

import (
	"context"
	"testing"

	"github.com/crmaccess/access"
	"github.com/google/go-cmp/cmp"
)

// testPastOwners checks that a deleted associate stays as a past owner,
// written in the delete's revision with what relations need, until a
// batch forgets it or puts the associate again; that a caller cannot put
// past owners; and that a past owner's role and group may be deleted.
func testPastOwners(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	s := newStore(t)
	mustApply(t, s, fixture())
	pastOwners := func(since access.Revision) []access.PastOwner {
		t.Helper()
		return mustChanges(t, s, since).PastOwners
	}
	anna := access.PastOwner{ID: 100, Name: "anna", Type: access.Internal, Role: 2, Company: 1, PrimaryGroup: 20}
	partner := access.PastOwner{ID: 103, Name: "partner", Type: access.External, Role: 3, Company: 55}

	// Deleting anna means moving her out of the rules that name her.
	del := access.Batch{DeleteAssociates: []access.AssociateID{100, 103}, DeleteImpersonations: []access.ImpersonationID{800}}
	r := fixture().SharingRules[0]
	r.To.Associates = nil
	del.SharingRules = []access.SharingRule{r}
	before := mustChanges(t, s, 0).To
	rev := mustApply(t, s, del)
	want := []access.PastOwner{anna, partner}
	if diff := cmp.Diff(want, pastOwners(0)); diff != "" {
		t.Errorf("past owners after deleting 100 and 103, Changes(0) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, pastOwners(before)); diff != "" {
		t.Errorf("past owners in Changes(%d), the delete's delta (-want +got):\n%s", before, diff)
	}
	if got := pastOwners(rev); len(got) != 0 {
		t.Errorf("Changes(%d) after the delete lists past owners %+v, want none", rev, got)
	}

	// A past owner's role and group are no references.
	mustApply(t, s, access.Batch{DeleteRoles: []access.RoleID{3}, Associates: []access.Associate{
		func() access.Associate { a := fixtureAssociate(105); a.Role = 2; return a }(),
		func() access.Associate { a := fixtureAssociate(106); a.Role = 2; return a }(),
	}})
	if diff := cmp.Diff(want, pastOwners(0)); diff != "" {
		t.Errorf("past owners after deleting role 3 (-want +got):\n%s", diff)
	}

	// Nothing refers to a past owner, and a past owner refers to
	// nothing: role 3's dependants do not include partner.
	if deps, err := s.Dependants(ctx, access.Ref{Kind: access.KindPastOwner, ID: 100}); err != nil || len(deps) != 0 {
		t.Errorf("Dependants(past owner 100) = %v, %v; want none", deps, err)
	}

	// A caller cannot write past owners; the same error everywhere.
	_, err := s.Apply(ctx, access.Batch{PastOwners: []access.PastOwner{anna}})
	checkErr(t, err, access.ErrInvalid, "past owner 100")
	_, err = s.Apply(ctx, access.Batch{ForgetPastOwners: []access.AssociateID{0}})
	checkErr(t, err, access.ErrInvalid, "past owner 0")

	// Forgetting one; putting the other again.
	before = mustChanges(t, s, 0).To
	mustApply(t, s, access.Batch{ForgetPastOwners: []access.AssociateID{100, 999}})
	if diff := cmp.Diff([]access.PastOwner{partner}, pastOwners(0)); diff != "" {
		t.Errorf("past owners after forgetting 100 (-want +got):\n%s", diff)
	}
	if d := mustChanges(t, s, before); !d.Full && !cmp.Equal([]access.AssociateID{100}, d.ForgetPastOwners) {
		t.Errorf("Changes(%d) forgets %v, want [100]", before, d.ForgetPastOwners)
	}
	p := fixtureAssociate(103)
	p.Role = 2
	mustApply(t, s, access.Batch{Associates: []access.Associate{p}})
	if got := pastOwners(0); len(got) != 0 {
		t.Errorf("past owners after putting 103 again: %+v, want none", got)
	}

	// A delete that forgets in the same batch keeps nothing.
	mustApply(t, s, access.Batch{DeleteAssociates: []access.AssociateID{103}, ForgetPastOwners: []access.AssociateID{103}})
	if got := pastOwners(0); len(got) != 0 {
		t.Errorf("past owners after deleting and forgetting 103: %+v, want none", got)
	}
	// A failed delete keeps no past owner: Bob is still referred to.
	_, err = s.Apply(ctx, access.Batch{DeleteAssociates: []access.AssociateID{101}})
	checkErr(t, err, access.ErrInUse)
	if got := pastOwners(0); len(got) != 0 {
		t.Errorf("past owners after a refused delete: %+v, want none", got)
	}
}

// testMovePastOwners checks Batch.MovePastOwners: refused like any bad
// write, it otherwise gives every past owner in From the group To inside
// the write, including one the same batch keeps, but not one the batch
// forgets; the delta carries the moved past owners as puts. A group
// transfer moves them too.
func testMovePastOwners(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	s := newStore(t)
	mustApply(t, s, fixture())
	pastOwners := func(since access.Revision) []access.PastOwner {
		t.Helper()
		return mustChanges(t, s, since).PastOwners
	}
	r := fixture().SharingRules[0]
	r.To.Associates = nil
	mustApply(t, s, access.Batch{DeleteAssociates: []access.AssociateID{100, 103}, DeleteImpersonations: []access.ImpersonationID{800},
		SharingRules: []access.SharingRule{r}})
	anna := access.PastOwner{ID: 100, Name: "anna", Type: access.Internal, Role: 2, Company: 1, PrimaryGroup: 20}
	partner := access.PastOwner{ID: 103, Name: "partner", Type: access.External, Role: 3, Company: 55}

	for _, c := range []struct {
		name    string
		moves   []access.PastOwnerMove
		mention string
	}{
		{"to itself", []access.PastOwnerMove{{From: 20, To: 20}}, "group 20 → group 20"},
		{"id 0", []access.PastOwnerMove{{From: 0, To: 30}}, "group 0 → group 30"},
		{"from twice", []access.PastOwnerMove{{From: 20, To: 30}, {From: 20, To: 10}}, "group 20 is moved twice"},
		{"unknown to", []access.PastOwnerMove{{From: 20, To: 999}}, "group 999 does not exist"},
		{"smart to", []access.PastOwnerMove{{From: 20, To: 40}}, "group 40 is a smart group"},
	} {
		_, err := s.Apply(ctx, access.Batch{MovePastOwners: c.moves})
		checkErr(t, err, access.ErrInvalid, c.mention)
	}
	// To deleted by the same batch does not exist after it.
	_, err := s.Apply(ctx, access.Batch{MovePastOwners: []access.PastOwnerMove{{From: 20, To: 30}}, DeleteGroups: []access.GroupID{30}})
	checkErr(t, err, access.ErrInvalid)
	if diff := cmp.Diff([]access.PastOwner{anna, partner}, pastOwners(0)); diff != "" {
		t.Errorf("past owners after refused moves (-want +got):\n%s", diff)
	}

	// 20 → 30, and 30 → 10 in the same batch: anna moves once, by her
	// group before the batch.
	before := mustChanges(t, s, 0).To
	mustApply(t, s, access.Batch{MovePastOwners: []access.PastOwnerMove{{From: 30, To: 10}, {From: 20, To: 30}}})
	anna.PrimaryGroup = 30
	if diff := cmp.Diff([]access.PastOwner{anna, partner}, pastOwners(0)); diff != "" {
		t.Errorf("past owners after moving 20 → 30 (-want +got):\n%s", diff)
	}
	if d := mustChanges(t, s, before); !d.Full {
		if diff := cmp.Diff([]access.PastOwner{anna}, d.PastOwners); diff != "" {
			t.Errorf("Changes(%d), the move's delta (-want +got):\n%s", before, diff)
		}
		if len(d.MovePastOwners) != 0 {
			t.Errorf("Changes(%d) carries the moves %v; want them applied as puts", before, d.MovePastOwners)
		}
	}

	// ÅSA (primary 20) deleted with a move of 20 → 10: kept in 10. anna
	// is forgotten in the same batch as a move of her group: gone.
	mustApply(t, s, access.Batch{DeleteAssociates: []access.AssociateID{105}, ForgetPastOwners: []access.AssociateID{100},
		MovePastOwners: []access.PastOwnerMove{{From: 20, To: 10}, {From: 30, To: 20}}})
	asa := access.PastOwner{ID: 105, Name: "ÅSA", Type: access.Internal, Role: 3, PrimaryGroup: 10}
	if diff := cmp.Diff([]access.PastOwner{partner, asa}, pastOwners(0)); diff != "" {
		t.Errorf("past owners after deleting 105 and forgetting 100 with moves (-want +got):\n%s", diff)
	}

	// A group transfer carries the move: ÅSA follows 10 to 30.
	b, err := access.TransferGroup(ctx, s, 10, 30)
	if err != nil {
		t.Fatalf("TransferGroup(10, 30): %v", err)
	}
	mustApply(t, s, b)
	asa.PrimaryGroup = 30
	if diff := cmp.Diff([]access.PastOwner{partner, asa}, pastOwners(0)); diff != "" {
		t.Errorf("past owners after transferring group 10 to 30 (-want +got):\n%s", diff)
	}
}
