package access

import (
	"context"
	"testing"
)

type fullStore struct{ b Batch }

func (f *fullStore) Changes(ctx context.Context, since Revision) (Delta, error) {
	return Delta{To: 1, Full: true, Batch: f.b.Clone()}, nil
}

func TestSmokeCan(t *testing.T) {
	levels := UserLevels()
	b := Batch{
		Roles: append(levels, Role{ID: 10, Name: "Sales", Rights: map[string]Grid{"*": {Owner: LevelFull, PrimaryGroup: LevelUpdate, OtherGroup: LevelRead, Subordinate: LevelRead}}},
			Role{ID: 11, Name: "Sales Assistant", Parent: 10, Rights: map[string]Grid{"*": {Owner: LevelFull}}}),
		Groups: []Group{{ID: 10, Name: "Team A"}, {ID: 20, Name: "Sales", Groups: []GroupID{10}}},
		Associates: []Associate{
			{ID: 11, Name: "anna", Type: Internal, PrimaryGroup: 10, Role: 10, Active: true},
			{ID: 12, Name: "bob", Type: Internal, PrimaryGroup: 10, Role: 11, Active: true},
			{ID: 13, Name: "sys", Type: System, Role: 1, Active: true},
		},
		SharingRules: []SharingRule{{ID: 1, Name: "public read", EntityType: "*", From: Principals{Everyone: true}, To: Principals{Everyone: true}, Rights: R}},
	}
	e, err := NewResolver(context.Background(), &fullStore{b}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		who AssociateID
		act Action
		rec Record
	}{
		{11, Update, Record{Type: "contact", ID: 42, Owner: 12, Group: 20}},
		{11, Update, Record{Type: "contact", ID: 42, Owner: 12, Group: 10}},
		{11, Delete, Record{Type: "contact", ID: 42, Owner: 11, Group: 10, Visibility: VisibleAssociate}},
		{12, Delete, Record{Type: "contact", ID: 42, Owner: 11, Group: 10, Visibility: VisibleAssociate}},
		{13, Delete, Record{Type: "contact", ID: 42}},
		{99, Read, Record{Type: "contact", ID: 42}},
	} {
		d, err := e.Can(context.Background(), c.who, c.act, c.rec)
		t.Log(d, err)
	}
	for _, r := range UserLevels() {
		if l := r.Lint(); len(l) > 0 {
			t.Error(r.Name, l)
		}
	}
	rec := Record{Type: "contact", ID: 42, Owner: 12, Group: 20}
	allocs := testing.AllocsPerRun(1000, func() { e.Can(context.Background(), 11, Update, rec) })
	t.Log("allocs", allocs)
}
