package access

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// stepStore hands out a full model, then each later batch as an
// incremental delta, with no validation: what a custom store, or one over a
// hand-edited database, may do.
type stepStore struct {
	mu    sync.Mutex
	steps []Batch // steps[0] is the model at revision 1; steps[i] the delta to i+1
}

func (s *stepStore) Changes(ctx context.Context, since Revision) (Delta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	last := Revision(len(s.steps))
	switch {
	case since == 0:
		return Delta{To: 1, Full: true, Batch: s.steps[0].Clone()}, nil
	case since >= last:
		return Delta{From: since, To: since}, nil
	}
	return Delta{From: since, To: since + 1, Batch: s.steps[since].Clone()}, nil
}

func (s *stepStore) add(b Batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps = append(s.steps, b)
}

func newStepEngine(t *testing.T, s *stepStore) *Engine {
	t.Helper()
	e, err := NewResolver(context.Background(), s, &Options{Now: func() time.Time { return sqlNow }, PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// generousModel is a model in which every layer gives associate 100
// everything: its role's every cell, a group default, an everyone to
// everyone sharing rule and a grant to it by name. Associate 1 is a
// well-formed internal associate in the same role.
func generousModel(typ AssociateType) Batch {
	all := Grid{}
	for r := Owner; r < numRelations; r++ {
		all[r] = LevelFull
	}
	return Batch{
		Roles:  []Role{{ID: 1, Name: "all", Rights: map[string]Grid{Wildcard: all}, Functions: []string{"user-admin"}}},
		Groups: []Group{{ID: 1, Name: "staff", Defaults: map[string]CRUD{Wildcard: LevelFull}, SelfService: true, Functions: []string{"export"}}},
		Associates: []Associate{
			{ID: 1, Name: "anna", Type: Internal, Role: 1, PrimaryGroup: 1, Active: true},
			{ID: 100, Name: "odd", Type: typ, Role: 1, PrimaryGroup: 1, Groups: []GroupID{1}, Active: true, Company: 40, Projects: []int64{7}},
		},
		SharingRules: []SharingRule{{ID: 1, Name: "open", EntityType: Wildcard, From: Principals{Everyone: true}, To: Principals{Everyone: true}, Rights: LevelFull}},
		Grants:       []Grant{{ID: 1, Associate: 100, EntityType: Wildcard, Rights: LevelFull}},
	}
}

// TestMalformedAssociateType: an associate whose type is none of the five
// fails the gates, on every path that decides, and the explanation names
// the value. Types past 255 are there because the decision header keeps
// the type in a byte: 256 would read as Internal and 269 as System.
func TestMalformedAssociateType(t *testing.T) {
	ctx := context.Background()
	for _, typ := range []AssociateType{9, 2, -1, 256, 269, 271} {
		t.Run(typ.String(), func(t *testing.T) {
			for _, via := range []string{"full load", "delta"} {
				t.Run(via, func(t *testing.T) {
					s := &stepStore{}
					if via == "full load" {
						s.add(generousModel(typ))
					} else {
						s.add(generousModel(Internal))
						s.add(Batch{Associates: generousModel(typ).Associates[1:]})
					}
					e := newStepEngine(t, s)
					if via == "delta" {
						if err := e.Refresh(ctx); err != nil {
							t.Fatal(err)
						}
						if e.Revision() != 2 {
							t.Fatalf("revision %d, want 2", e.Revision())
						}
					}
					checkMalformedDenied(t, e, typ)
				})
			}
		})
	}
}

func checkMalformedDenied(t *testing.T, e *Engine, typ AssociateType) {
	t.Helper()
	ctx := context.Background()
	// The model is generous: the well-formed associate gets its own record.
	if d, err := e.Can(ctx, 1, Delete, Record{Type: "contact", ID: 5, Owner: 1}); err != nil || !d.Allowed {
		t.Fatalf("control: Can(1) = %v, %v; want allowed", d, err)
	}
	for _, rec := range []Record{
		{Type: "contact", ID: 5, Owner: 100, Group: 1, Company: 40, Project: 7, Published: true},
		{Type: "contact", ID: 6},
	} {
		for _, act := range []Action{Read, Create, Update, Delete} {
			d, err := e.Can(ctx, 100, act, rec)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed || d.Gate != GateMalformed || d.Rights != 0 {
				t.Errorf("Can(%s, %+v) = allowed %v, gate %v, rights %s; want a deny at GateMalformed", act, rec, d.Allowed, d.Gate, d.Rights)
			}
			if diff := cmp.Diff([]Cause{{Kind: CauseGate, Gate: GateMalformed, Type: typ}}, d.Causes()); diff != "" {
				t.Errorf("Causes (-want +got):\n%s", diff)
			}
			if want := "unknown associate type " + strconv.Itoa(int(typ)); !strings.Contains(d.String(), want) {
				t.Errorf("Decision.String() = %q, want it to say %q", d.String(), want)
			}
		}
		who, err := e.WhoCan(ctx, Read, rec)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(who, func(a Allowed) bool { return a.Associate == 100 }) {
			t.Errorf("WhoCan(read, %+v) lists associate 100: %+v", rec, who)
		}
		if !slices.ContainsFunc(who, func(a Allowed) bool { return a.Associate == 1 }) {
			t.Errorf("control: WhoCan(read, %+v) = %+v, want associate 1 in it", rec, who)
		}
	}
	f, err := e.Filter(ctx, 100, Read, "contact")
	if err != nil {
		t.Fatal(err)
	}
	if !f.Never() {
		t.Errorf("Filter = %s, want FALSE", f.String())
	}
	if where, _, err := f.SQL(PostgreSQL, Columns{ID: "id", Owner: "owner_id"}, 1); err != nil || where != "FALSE" {
		t.Errorf("Filter.SQL = %q, %v; want FALSE", where, err)
	}
	p, err := e.Permissions(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if p.Gate != GateMalformed || p.System || len(p.Types) > 0 || len(p.Functions) > 0 {
		t.Errorf("Permissions = %+v, want only Gate %v", p, GateMalformed)
	}
	if ok, err := e.Has(ctx, 100, "user-admin"); err != nil || ok {
		t.Errorf("Has(user-admin) = %v, %v; want false", ok, err)
	}
	if ok, err := e.CanJoin(ctx, 100, 1); err != nil || ok {
		t.Errorf("CanJoin = %v, %v; want false", ok, err)
	}
	if ok, err := e.CanManageMembers(ctx, 100, 1); err != nil || ok {
		t.Errorf("CanManageMembers = %v, %v; want false", ok, err)
	}
}

// TestMalformedRights: a rights value with bits beyond C, R, U and D grants
// nothing — not its defined bits either — in each layer that carries one,
// whether it arrives in a full load or in a delta.
func TestMalformedRights(t *testing.T) {
	ctx := context.Background()
	const bad = CRUD(0x10)
	base := func() Batch {
		return Batch{
			Roles:      []Role{{ID: 1, Name: "none"}},
			Groups:     []Group{{ID: 1, Name: "staff"}},
			Associates: []Associate{{ID: 2, Name: "bo", Type: Internal, Role: 1, PrimaryGroup: 1, Active: true}},
		}
	}
	tests := []struct {
		name string
		edit func(b *Batch)
	}{
		{"role cell", func(b *Batch) {
			b.Roles[0].Rights = map[string]Grid{"contact": {Owner: bad | LevelFull, Other: bad | R, Unowned: bad | LevelFull}}
		}},
		{"role cell of an undefined relation", func(b *Batch) {
			b.Roles[0].Rights = map[string]Grid{Wildcard: {numRelations: LevelFull, 0: LevelFull, 200: LevelFull}}
		}},
		{"sharing rule", func(b *Batch) {
			b.SharingRules = []SharingRule{{ID: 1, EntityType: Wildcard, From: Principals{Everyone: true}, To: Principals{Everyone: true}, Rights: bad | LevelFull}}
		}},
		{"grant", func(b *Batch) {
			b.Grants = []Grant{{ID: 1, Associate: 2, EntityType: "contact", Rights: bad | C | D}}
		}},
		{"group default", func(b *Batch) {
			b.Groups[0].Defaults = map[string]CRUD{"contact": 0xF0 | U | R}
		}},
	}
	for _, tt := range tests {
		for _, via := range []string{"full load", "delta"} {
			t.Run(tt.name+"/"+via, func(t *testing.T) {
				s := &stepStore{}
				b := base()
				tt.edit(&b)
				if via == "full load" {
					s.add(b)
				} else {
					s.add(base())
					s.add(b)
				}
				e := newStepEngine(t, s)
				if err := e.Refresh(ctx); err != nil {
					t.Fatal(err)
				}
				for _, rec := range []Record{{Type: "contact", ID: 5, Owner: 2, Group: 1}, {Type: "contact", ID: 6, Owner: 3}, {Type: "contact", ID: 7}} {
					for _, act := range []Action{Read, Create, Update, Delete} {
						d, err := e.Can(ctx, 2, act, rec)
						if err != nil {
							t.Fatal(err)
						}
						if d.Allowed || d.Rights != 0 {
							t.Errorf("Can(%s, %+v) = %v", act, rec, d)
						}
						who, err := e.WhoCan(ctx, act, rec)
						if err != nil {
							t.Fatal(err)
						}
						if len(who) > 0 {
							t.Errorf("WhoCan(%s, %+v) = %+v, want nobody", act, rec, who)
						}
					}
				}
				for _, act := range []Action{Read, Create, Update, Delete} {
					f, err := e.Filter(ctx, 2, act, "contact")
					if err != nil {
						t.Fatal(err)
					}
					if !f.Never() {
						t.Errorf("Filter(%s) = %s, want FALSE", act, f.String())
					}
				}
				p, err := e.Permissions(ctx, 2)
				if err != nil {
					t.Fatal(err)
				}
				for _, tp := range p.Types {
					for rel, c := range tp.Relations {
						if c != 0 {
							t.Errorf("Permissions %q: %s grants %s", tp.EntityType, rel, c)
						}
					}
					for _, r := range tp.Sharing {
						if r.Rights != 0 {
							t.Errorf("Permissions %q: sharing rule %d grants %s", tp.EntityType, r.ID, r.Rights)
						}
					}
					for _, g := range tp.Grants {
						if g.Rights != 0 {
							t.Errorf("Permissions %q: grant %d grants %s", tp.EntityType, g.ID, g.Rights)
						}
					}
					if tp.Default != 0 {
						t.Errorf("Permissions %q: default %s", tp.EntityType, tp.Default)
					}
				}
			})
		}
	}
}
