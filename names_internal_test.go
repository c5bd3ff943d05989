package access

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
	"weak"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// histStore serves a model that tests change by hand: as incremental
// deltas, or as the whole model on every change when full is set.
type histStore struct {
	mu     sync.Mutex
	full   bool
	rev    Revision
	model  Batch
	deltas map[Revision]Delta // by From
}

func (s *histStore) Changes(ctx context.Context, since Revision) (Delta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if since == s.rev {
		return Delta{From: since, To: since}, nil
	}
	if d, ok := s.deltas[since]; ok && !s.full && d.To == s.rev {
		d.Batch = d.Batch.Clone()
		return d, nil
	}
	return Delta{To: s.rev, Full: true, Batch: s.model.Clone()}, nil
}

// put writes the roles, groups, associates and rules in b as one revision.
func (s *histStore) put(b Batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	replace := func(n int, same func(i int) bool, set func(i int), add func()) {
		for i := range n {
			if same(i) {
				set(i)
				return
			}
		}
		add()
	}
	for _, r := range b.Roles {
		replace(len(s.model.Roles), func(i int) bool { return s.model.Roles[i].ID == r.ID },
			func(i int) { s.model.Roles[i] = r }, func() { s.model.Roles = append(s.model.Roles, r) })
	}
	for _, g := range b.Groups {
		replace(len(s.model.Groups), func(i int) bool { return s.model.Groups[i].ID == g.ID },
			func(i int) { s.model.Groups[i] = g }, func() { s.model.Groups = append(s.model.Groups, g) })
	}
	for _, a := range b.Associates {
		replace(len(s.model.Associates), func(i int) bool { return s.model.Associates[i].ID == a.ID },
			func(i int) { s.model.Associates[i] = a }, func() { s.model.Associates = append(s.model.Associates, a) })
	}
	for _, r := range b.SharingRules {
		replace(len(s.model.SharingRules), func(i int) bool { return s.model.SharingRules[i].ID == r.ID },
			func(i int) { s.model.SharingRules[i] = r }, func() { s.model.SharingRules = append(s.model.SharingRules, r) })
	}
	if s.deltas == nil {
		s.deltas = map[Revision]Delta{}
	}
	s.deltas[s.rev] = Delta{From: s.rev, To: s.rev + 1, Batch: b.Clone()}
	s.rev++
}

// TestKeptDecisionDoesNotPinSnapshot keeps a decision while fifty writes
// rename everything it names and add associates: the snapshot it was made
// on must be collected, and the decision must still render as it did, with
// the names of its own revision.
func TestKeptDecisionDoesNotPinSnapshot(t *testing.T) {
	for _, full := range []bool{false, true} {
		t.Run(fmt.Sprintf("full=%v", full), func(t *testing.T) {
			ctx := context.Background()
			role := func(name string) Role {
				return Role{ID: 1, Name: name, Rights: map[string]Grid{"contact": {Team: LevelFull, Other: R, PrimaryGroup: LevelNone}}}
			}
			groups := func(suffix string) []Group {
				return []Group{{ID: 10, Name: "Team A" + suffix}, {ID: 20, Name: "Sales" + suffix, Groups: []GroupID{10}}}
			}
			rule := func(name string) SharingRule {
				return SharingRule{ID: 7, Name: name, EntityType: "contact", From: Principals{Everyone: true},
					To: Principals{Associates: []AssociateID{101}}, Rights: U}
			}
			anna := Associate{ID: 101, Name: "anna", Type: Internal, PrimaryGroup: 10, Role: 1, Active: true}
			st := &histStore{full: full}
			st.put(Batch{Roles: []Role{role("Sales")}, Groups: groups(""), Associates: []Associate{anna},
				SharingRules: []SharingRule{rule("To anna")}})
			e, err := NewResolver(ctx, st, &Options{PollInterval: -1, Now: func() time.Time { return time.Unix(1e9, 0) }})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()

			old := weak.Make(e.snap.Load())
			d, err := e.Can(ctx, 101, Delete, Record{Type: "contact", ID: 1, Team: 20})
			if err != nil {
				t.Fatal(err)
			}
			const want = "allow: anna (101) may delete contact 1; role Sales (1) grants CRUD for team via Team A (10) → Sales (20); sharing rule To anna (7) adds U"
			wantCauses := []Cause{
				{Kind: CauseRole, Relation: Team, Rights: LevelFull, Role: 1, Group: 20, RoleName: "Sales", GroupName: "Sales"},
				{Kind: CauseSharing, Rights: U, Rule: 7, RuleName: "To anna"},
			}
			if got := d.String(); got != want {
				t.Fatalf("fresh decision:\n got %s\nwant %s", got, want)
			}

			for i := 1; i <= 50; i++ {
				v := fmt.Sprintf(" v%d", i)
				a := anna
				a.Name = "anna" + v
				st.put(Batch{Roles: []Role{role("Sales" + v)}, Groups: groups(v), SharingRules: []SharingRule{rule("To anna" + v)},
					Associates: []Associate{a, {ID: AssociateID(1000 + i), Name: "new" + v, Type: Internal, PrimaryGroup: 10, Role: 1, Active: true}}})
				if err := e.Refresh(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if e.Revision() != d.Revision+50 {
				t.Fatalf("resolver at revision %d, want %d", e.Revision(), d.Revision+50)
			}
			for range 3 {
				runtime.GC()
			}
			if old.Value() != nil {
				t.Error("the snapshot of a kept decision is still alive after 50 revisions")
			}
			if got := d.String(); got != want {
				t.Errorf("kept decision after 50 revisions:\n got %s\nwant %s", got, want)
			}
			if diff := cmp.Diff(wantCauses, d.Causes()); diff != "" {
				t.Errorf("kept decision's causes (-want +got):\n%s", diff)
			}
			runtime.KeepAlive(d)

			// A decision at the latest revision uses the latest names.
			now, err := e.Can(ctx, 101, Delete, Record{Type: "contact", ID: 1, Team: 20})
			if err != nil {
				t.Fatal(err)
			}
			const wantNow = "allow: anna v50 (101) may delete contact 1; role Sales v50 (1) grants CRUD for team via Team A v50 (10) → Sales v50 (20); sharing rule To anna v50 (7) adds U"
			if got := now.String(); got != wantNow {
				t.Errorf("latest decision:\n got %s\nwant %s", got, wantNow)
			}
		})
	}
}

// TestNameHistory checks names at every revision against a plain map of
// what was written at each, through renames, deletions and re-creations.
func TestNameHistory(t *testing.T) {
	ctx := context.Background()
	st := &histStore{}
	r := Role{ID: 1, Name: "r0"}
	st.put(Batch{Roles: []Role{r}, Groups: []Group{{ID: 1, Name: "g"}}})
	e, err := NewResolver(ctx, st, &Options{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// written[rev] is the associate 5's name at rev, "" when absent.
	written := map[Revision]string{e.Revision(): ""}
	steps := []string{"a", "b", "", "", "c", "c", "a", ""}
	for _, name := range steps {
		if name == "" {
			st.mu.Lock()
			st.model.Associates = slices.DeleteFunc(st.model.Associates, func(a Associate) bool { return a.ID == 5 })
			st.deltas[st.rev] = Delta{From: st.rev, To: st.rev + 1, Batch: Batch{DeleteAssociates: []AssociateID{5}}}
			st.rev++
			st.mu.Unlock()
		} else {
			st.put(Batch{Associates: []Associate{{ID: 5, Name: name, Type: Internal, PrimaryGroup: 1, Role: 1, Active: true}}})
		}
		if err := e.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		written[e.Revision()] = name
	}
	for rev, want := range written {
		v, unlock := e.names.view(rev)
		got, ok := v.name(nameAssoc, 5)
		unlock()
		if got != want || ok != (want != "") {
			t.Errorf("associate 5 at revision %d: got (%q, %v), want %q", rev, got, ok, want)
		}
	}
}

// TestExplainWhileRefreshing renders kept decisions while the resolver
// publishes renames; run under -race it checks the history's locking.
func TestExplainWhileRefreshing(t *testing.T) {
	ctx := context.Background()
	st := &histStore{}
	st.put(Batch{Roles: []Role{{ID: 1, Name: "r", Rights: map[string]Grid{"*": {Team: R}}}},
		Groups:     []Group{{ID: 1, Name: "g"}, {ID: 2, Name: "top", Groups: []GroupID{1}}},
		Associates: []Associate{{ID: 1, Name: "a", Type: Internal, PrimaryGroup: 1, Role: 1, Active: true}}})
	e, err := NewResolver(ctx, st, &Options{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := range 200 {
			st.put(Batch{Groups: []Group{{ID: 2, Name: fmt.Sprintf("top %d", i), Groups: []GroupID{1}}}})
			if err := e.Refresh(ctx); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				d, err := e.Can(ctx, 1, Read, Record{Type: "contact", ID: 1, Team: 2})
				if err != nil {
					t.Error(err)
					return
				}
				want := fmt.Sprintf("allow: a (1) may read contact 1; role r (1) grants R for team via g (1) → %s (2)", d.Causes()[0].GroupName)
				if got := d.String(); got != want {
					t.Errorf("got %s\nwant %s", got, want)
					return
				}
				if _, err := d.MarshalJSON(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// foldNameByRunes is FoldName as it was before its ASCII path: every rune
// mapped to the smallest rune of its case-folding orbit.
func foldNameByRunes(name string) string {
	var b strings.Builder
	for _, r := range name {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b.WriteRune(m)
	}
	return b.String()
}

// TestFoldName_asciiPathAsRunes checks FoldName's ASCII path against the
// orbit walk it skips: every ASCII byte alone and among others, and
// random names, ASCII or not, valid UTF-8 or not.
func TestFoldName_asciiPathAsRunes(t *testing.T) {
	for c := range utf8.RuneSelf {
		for _, s := range []string{string(rune(c)), "x" + string(rune(c)) + "Y", "ſ" + string(rune(c))} {
			if got, want := FoldName(s), foldNameByRunes(s); got != want {
				t.Errorf("FoldName(%q) = %q, want %q", s, got, want)
			}
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.OneOf(rapid.StringMatching(`[ -~]{0,20}`), rapid.String(),
			rapid.Map(rapid.SliceOf(rapid.Byte()), func(b []byte) string { return string(b) })).Draw(t, "name")
		if got, want := FoldName(s), foldNameByRunes(s); got != want {
			t.Fatalf("FoldName(%q) = %q, want %q", s, got, want)
		}
	})
}
