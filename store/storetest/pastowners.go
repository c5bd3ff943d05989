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
