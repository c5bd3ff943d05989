package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmaccess/access"
)

// testRevisions checks that every committed batch, and nothing else, moves
// the revision on by one.
func testRevisions(t *testing.T, newStore func(*testing.T) Store) {
	ctx := context.Background()
	s := newStore(t)

	d := mustChanges(t, s, 0)
	if d.To != 0 || !d.Empty() {
		t.Fatalf("a new store: Changes(0) = revision %d with %+v, want revision 0 and nothing", d.To, d.Batch)
	}
	if rev, err := s.Apply(ctx, access.Batch{}); err != nil || rev != 0 {
		t.Errorf("empty Apply on a new store = %d, %v; want 0, nil", rev, err)
	}

	want := access.Revision(0)
	steps := []struct {
		name  string
		batch access.Batch
		ok    bool
	}{
		{"fixture", fixture(), true},
		{"empty batch", access.Batch{}, false},
		{"new associate", access.Batch{Associates: []access.Associate{internal(200, "carl", 20, 2)}}, true},
		{"invalid batch", access.Batch{Associates: []access.Associate{internal(201, "dora", 999, 2)}}, false},
		{"same value again", access.Batch{Associates: []access.Associate{internal(200, "carl", 20, 2)}}, true},
		{"delete", access.Batch{DeleteAssociates: []access.AssociateID{200}}, true},
		{"refused delete", access.Batch{DeleteGroups: []access.GroupID{20}}, false},
		{"several kinds", access.Batch{Roles: []access.Role{{ID: 5, Name: "r"}}, Groups: []access.Group{{ID: 50, Name: "g"}}}, true},
	}
	for _, st := range steps {
		rev, err := s.Apply(ctx, st.batch)
		switch {
		case st.ok && err != nil:
			t.Fatalf("%s: Apply: %v", st.name, err)
		case st.ok:
			want++
			if rev != want {
				t.Errorf("%s: Apply returned revision %d, want %d", st.name, rev, want)
			}
		case err == nil && !st.batch.Empty():
			t.Fatalf("%s: Apply succeeded, want an error", st.name)
		case err == nil && rev != want:
			t.Errorf("%s: empty Apply returned revision %d, want the current %d", st.name, rev, want)
		}
		if d := mustChanges(t, s, 0); d.To != want {
			t.Errorf("after %s: Changes(0).To = %d, want %d", st.name, d.To, want)
		}
	}
}

// history records a store's models revision by revision, as the writes
// the test made to it say they must be.
type history struct {
	models  []model        // models[r] is the model at revision r
	touched [][]access.Ref // touched[r] lists what revision r put or deleted
}

func newHistory() *history {
	return &history{models: []model{{}}, touched: [][]access.Ref{nil}}
}

func (h *history) latest() access.Revision { return access.Revision(len(h.models) - 1) }

func (h *history) add(b access.Batch) {
	h.models = append(h.models, h.models[len(h.models)-1].apply(b))
	h.touched = append(h.touched, touched(b))
}

// want returns the batch Changes(since) must return unless it returns a
// full delta: the latest values of what was written after since, and the
// ids of what was deleted after since and is gone now.
func (h *history) want(since access.Revision) access.Batch {
	now := h.models[h.latest()]
	puts := model{}
	var dels []access.Ref
	seen := map[access.Ref]bool{}
	for r := since + 1; r <= h.latest(); r++ {
		for _, ref := range h.touched[r] {
			if seen[ref] {
				continue
			}
			seen[ref] = true
			if v, ok := now[ref]; ok {
				puts[ref] = v
			} else {
				dels = append(dels, ref)
			}
		}
	}
	return join(puts, dels)
}

// check fails the test unless d is a right answer to Changes(since) with
// nothing written since the history's latest revision.
func (h *history) check(t *testing.T, since access.Revision, d access.Delta) {
	t.Helper()
	what := fmt.Sprintf("Changes(%d)", since)
	if d.To != h.latest() {
		t.Errorf("%s.To = %d, want the latest revision %d", what, d.To, h.latest())
	}
	if since > h.latest() && !d.Full {
		t.Errorf("%s from beyond the latest revision %d: not a full delta", what, h.latest())
	}
	if d.Full {
		checkFull(t, what+" (full)", d, h.models[h.latest()])
		return
	}
	if d.From != since {
		t.Errorf("%s.From = %d, want %d", what, d.From, since)
	}
	if diff := diffBatch(h.want(since), d.Batch); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// testChanges checks the deltas after a series of writes, from every
// revision.
func testChanges(t *testing.T, newStore func(*testing.T) Store) {
	s := newStore(t)
	h := newHistory()
	write := func(b access.Batch) {
		t.Helper()
		rev := mustApply(t, s, b)
		h.add(b)
		if rev != h.latest() {
			t.Fatalf("Apply returned revision %d, want %d", rev, h.latest())
		}
	}
	anne := fixtureAssociate(100)
	anne.Name = "anne"
	room := fixtureAssociate(102)

	write(fixture())                                                                                                    // 1
	write(access.Batch{Associates: []access.Associate{internal(200, "carl", 20, 2)}})                                   // 2
	write(access.Batch{Associates: []access.Associate{anne}})                                                           // 3
	write(access.Batch{DeleteAssociates: []access.AssociateID{200}})                                                    // 4
	write(access.Batch{Groups: []access.Group{{ID: 50, Name: "New"}}})                                                  // 5
	write(access.Batch{DeleteAssociates: []access.AssociateID{102}})                                                    // 6
	write(access.Batch{Associates: []access.Associate{room}})                                                           // 7
	write(access.Batch{Roles: []access.Role{{ID: 4, Name: "Support", Parent: 2}}, DeleteGrants: []access.GrantID{701}}) // 8

	role := func(id int64) access.Ref { return access.Ref{Kind: access.KindRole, ID: id} }
	group := func(id int64) access.Ref { return access.Ref{Kind: access.KindGroup, ID: id} }
	assoc := func(id int64) access.Ref { return access.Ref{Kind: access.KindAssociate, ID: id} }
	grant := func(id int64) access.Ref { return access.Ref{Kind: access.KindGrant, ID: id} }

	// The named cases spell out what the history computes, so that a
	// mistake in the history cannot hide one in the store.
	for _, tc := range []struct {
		name  string
		since access.Revision
		puts  []access.Ref
		dels  []access.Ref
	}{
		{"put then deleted is only deleted", 1, []access.Ref{role(4), group(50), assoc(100), assoc(102)}, []access.Ref{assoc(200), grant(701)}},
		{"deleted then put again is only put", 5, []access.Ref{role(4), assoc(102)}, []access.Ref{grant(701)}},
		{"a rename is a put", 2, []access.Ref{role(4), group(50), assoc(100), assoc(102)}, []access.Ref{assoc(200), grant(701)}},
		{"the last write", 7, []access.Ref{role(4)}, []access.Ref{grant(701)}},
		{"nothing since the latest", 8, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := h.models[h.latest()]
			puts := model{}
			for _, r := range tc.puts {
				puts[r] = now[r]
			}
			want := join(puts, tc.dels)
			if diff := diffBatch(want, h.want(tc.since)); diff != "" {
				t.Fatalf("the test's history disagrees with the case (-case +history):\n%s", diff)
			}
			d := mustChanges(t, s, tc.since)
			h.check(t, tc.since, d)
			if d.Full {
				t.Logf("Changes(%d) is a full delta", tc.since)
			}
		})
	}

	for since := access.Revision(0); since <= h.latest()+2; since++ {
		t.Run(fmt.Sprintf("since %d", since), func(t *testing.T) {
			h.check(t, since, mustChanges(t, s, since))
		})
	}
	t.Run("from a replaced store", func(t *testing.T) {
		d := mustChanges(t, s, 1<<40)
		if !d.Full {
			t.Errorf("Changes(1<<40) on a store at revision %d is not a full delta", h.latest())
		}
		h.check(t, 1<<40, d)
	})
}

// testWatch checks a Watcher: it hears of a write before the write
// returns, may read the store while it is called, is never called
// concurrently with itself, and stops when told.
func testWatch(t *testing.T, newStore func(*testing.T) Store) {
	ctx := context.Background()
	s := newStore(t)
	w, ok := s.(access.Watcher)
	if !ok {
		t.Skip("the store is not an access.Watcher")
	}

	var (
		seen    atomic.Uint64 // the highest revision fn has been told
		calls   atomic.Int64
		inside  atomic.Int32 // calls of fn under way
		overlap atomic.Bool
		readErr atomic.Value
	)
	stop := w.Watch(func(rev access.Revision) {
		if inside.Add(1) > 1 {
			overlap.Store(true)
		}
		defer inside.Add(-1)
		calls.Add(1)
		// A watcher reads the store; the store must not be locked
		// against it.
		d, err := s.Changes(ctx, 0)
		if err != nil {
			readErr.Store(err)
		} else if d.To < rev {
			readErr.Store(fmt.Errorf("told of revision %d, Changes(0) is at %d", rev, d.To))
		}
		for {
			old := seen.Load()
			if uint64(rev) <= old || seen.CompareAndSwap(old, uint64(rev)) {
				break
			}
		}
		time.Sleep(50 * time.Microsecond) // widen the window for overlaps
	})

	// withTimeout fails the test instead of hanging when a watcher
	// deadlocks the store.
	withTimeout := func(what string, f func()) {
		t.Helper()
		done := make(chan struct{})
		go func() { defer close(done); f() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s did not return within 30s: does the store call watchers while it holds a lock Changes needs?", what)
		}
	}

	withTimeout("Apply", func() {
		rev, err := s.Apply(ctx, fixture())
		if err != nil {
			t.Errorf("Apply: %v", err)
			return
		}
		if got := access.Revision(seen.Load()); got < rev {
			t.Errorf("Apply returned revision %d; the watcher had been told of %d", rev, got)
		}
	})

	t.Run("concurrent writes", func(t *testing.T) {
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 10 {
					id := access.AssociateID(1000 + 100*g + i)
					rev, err := s.Apply(ctx, access.Batch{Associates: []access.Associate{internal(id, fmt.Sprint("w", id), 20, 2)}})
					if err != nil {
						t.Errorf("Apply: %v", err)
						return
					}
					if got := access.Revision(seen.Load()); got < rev {
						t.Errorf("Apply returned revision %d; the watcher had been told of %d", rev, got)
					}
				}
			})
		}
		withTimeout("concurrent Apply", wg.Wait)
		if overlap.Load() {
			t.Error("the watcher was called concurrently with itself")
		}
		if err, _ := readErr.Load().(error); err != nil {
			t.Errorf("the watcher's read: %v", err)
		}
	})

	t.Run("stop", func(t *testing.T) {
		stop()
		stop() // stopping twice is fine
		before := calls.Load()
		withTimeout("Apply after stop", func() {
			if _, err := s.Apply(ctx, access.Batch{Associates: []access.Associate{internal(2000, "after stop", 20, 2)}}); err != nil {
				t.Errorf("Apply: %v", err)
			}
		})
		if got := calls.Load(); got != before {
			t.Errorf("the watcher was called %d times after stop", got-before)
		}
	})

	t.Run("stop one of two", func(t *testing.T) {
		var a, b atomic.Int64
		stopA := w.Watch(func(access.Revision) { a.Add(1) })
		stopB := w.Watch(func(access.Revision) { b.Add(1) })
		defer stopB()
		mustApply(t, s, access.Batch{Associates: []access.Associate{internal(2001, "two watchers", 20, 2)}})
		if a.Load() == 0 || b.Load() == 0 {
			t.Fatalf("after a write: watcher A called %d times, B %d times; want both called", a.Load(), b.Load())
		}
		stopA()
		a0, b0 := a.Load(), b.Load()
		mustApply(t, s, access.Batch{Associates: []access.Associate{internal(2002, "one watcher", 20, 2)}})
		if a.Load() != a0 {
			t.Errorf("the stopped watcher was called %d more times", a.Load()-a0)
		}
		if b.Load() == b0 {
			t.Errorf("stopping one watcher stopped the other too")
		}
	})
}

// testConcurrent writes disjoint associates from many goroutines while
// others read, and checks every read is a consistent model and every
// write lands.
func testConcurrent(t *testing.T, newStore func(*testing.T) Store) {
	const writers, perWriter, moves = 8, 25, 40
	ctx := context.Background()
	s := newStore(t)
	base := mustApply(t, s, fixture())

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		revs = map[access.Revision]string{}
		done = make(chan struct{})
	)
	record := func(rev access.Revision, what string) {
		mu.Lock()
		defer mu.Unlock()
		if other, dup := revs[rev]; dup {
			t.Errorf("revision %d committed twice: %s and %s", rev, other, what)
		}
		revs[rev] = what
	}
	// The mover keeps associate 900 in a group that it replaces with
	// every write: create the next group, move 900 into it and delete the
	// last one, in one batch. A read that mixes two revisions sees 900 in
	// a group that does not exist.
	mustApply(t, s, access.Batch{Groups: []access.Group{{ID: 5000, Name: "home 0"}},
		Associates: []access.Associate{internal(900, "mover", 5000, 2)}})
	base++
	want := model{}.apply(fixture())
	for g := range writers {
		var b access.Batch
		for i := range perWriter {
			id := access.AssociateID(1000 + 100*g + i)
			a := internal(id, fmt.Sprintf("writer %d #%d", g, i), 20, 2)
			a.Attributes = map[string]string{"writer": fmt.Sprint(g)}
			b.Associates = append(b.Associates, a)
		}
		want = want.apply(b)
		wg.Go(func() {
			for _, a := range b.Associates {
				rev, err := s.Apply(ctx, access.Batch{Associates: []access.Associate{a}})
				if err != nil {
					t.Errorf("Apply associate %d: %v", a.ID, err)
					return
				}
				record(rev, fmt.Sprint("associate ", a.ID))
			}
		})
	}
	wg.Go(func() { // the mover
		for i := 1; i <= moves; i++ {
			rev, err := s.Apply(ctx, access.Batch{
				Groups:       []access.Group{{ID: access.GroupID(5000 + i), Name: fmt.Sprint("home ", i)}},
				Associates:   []access.Associate{internal(900, "mover", access.GroupID(5000+i), 2)},
				DeleteGroups: []access.GroupID{access.GroupID(5000 + i - 1)},
			})
			if err != nil {
				t.Errorf("move %d: %v", i, err)
				return
			}
			record(rev, fmt.Sprint("move ", i))
		}
	})
	want = want.apply(access.Batch{Groups: []access.Group{{ID: 5000 + moves, Name: fmt.Sprint("home ", moves)}},
		Associates: []access.Associate{internal(900, "mover", 5000+moves, 2)}})

	// Readers: one follows the store with incremental deltas, the others
	// read the whole model and the View.
	var followed model
	var followedAt access.Revision
	var readers sync.WaitGroup
	readers.Go(func() {
		m, at := model{}, access.Revision(0)
		for {
			d, err := s.Changes(ctx, at)
			if err != nil {
				t.Errorf("Changes(%d): %v", at, err)
				return
			}
			if d.To < at {
				t.Errorf("Changes(%d).To = %d went back", at, d.To)
			}
			if !d.Full && d.From != at {
				t.Errorf("Changes(%d).From = %d", at, d.From)
			}
			m, at = m.follow(&d), d.To
			if err := consistent(m); err != nil {
				t.Errorf("following the store to revision %d: %v", at, err)
				return
			}
			select {
			case <-done:
				followed, followedAt = m, at
				return
			default:
			}
		}
	})
	for range 3 {
		readers.Go(func() {
			for {
				d, err := s.Changes(ctx, 0)
				if err != nil {
					t.Errorf("Changes(0): %v", err)
					return
				}
				m, _, _ := split(&d.Batch)
				if err := consistent(m); err != nil {
					t.Errorf("Changes(0) at revision %d: %v", d.To, err)
					return
				}
				if a, err := s.Associate(ctx, 900); err != nil {
					t.Errorf("Associate(900): %v", err)
				} else if _, err := s.Group(ctx, a.PrimaryGroup); err != nil && !errors.Is(err, access.ErrNotFound) {
					t.Errorf("Group(%d): %v", a.PrimaryGroup, err)
				}
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	if t.Failed() {
		return
	}

	last := base + writers*perWriter + moves
	if len(revs) != writers*perWriter+moves {
		t.Errorf("%d revisions recorded, want %d", len(revs), writers*perWriter+moves)
	}
	for r := base + 1; r <= last; r++ {
		if _, ok := revs[r]; !ok {
			t.Errorf("no write committed revision %d", r)
		}
	}
	checkModel(t, s, last, want)
	// The follower catches up to the same model.
	d := mustChanges(t, s, followedAt)
	followed = followed.follow(&d)
	if diff := diffBatch(want.batch(), followed.batch()); diff != "" {
		t.Errorf("following the store with Changes (-want +got):\n%s", diff)
	}
}

// consistent reports the first reference in m to an entity m lacks, which
// a consistent read never shows.
func consistent(m model) error {
	for _, r := range slices.SortedFunc(maps.Keys(m), compareRefs) {
		var to []access.Ref
		switch v := m[r].(type) {
		case access.Associate:
			if v.PrimaryGroup != 0 {
				to = append(to, access.Ref{Kind: access.KindGroup, ID: int64(v.PrimaryGroup)})
			}
			for _, g := range v.Groups {
				to = append(to, access.Ref{Kind: access.KindGroup, ID: int64(g)})
			}
			if v.Role != 0 {
				to = append(to, access.Ref{Kind: access.KindRole, ID: int64(v.Role)})
			}
		case access.Group:
			for _, g := range v.Groups {
				to = append(to, access.Ref{Kind: access.KindGroup, ID: int64(g)})
			}
		}
		for _, x := range to {
			if _, ok := m[x]; !ok {
				return fmt.Errorf("%s refers to %s, which is missing", r, x)
			}
		}
	}
	return nil
}

// testNameRace puts associates with the same login name from many
// goroutines at once: exactly one may win.
func testNameRace(t *testing.T, newStore func(*testing.T) Store) {
	const n = 8
	ctx := context.Background()
	s := newStore(t)
	mustApply(t, s, fixture())
	names := []string{"racer", "RACER", "Racer", "rAcEr"}
	var (
		wg     sync.WaitGroup
		winner atomic.Int64
		wins   atomic.Int32
	)
	for i := range n {
		wg.Go(func() {
			id := access.AssociateID(3000 + i)
			_, err := s.Apply(ctx, access.Batch{Associates: []access.Associate{internal(id, names[i%len(names)], 20, 2)}})
			switch {
			case err == nil:
				wins.Add(1)
				winner.Store(int64(id))
			case !errors.Is(err, access.ErrNameTaken):
				t.Errorf("associate %d: %v, want nil or an error wrapping ErrNameTaken", id, err)
			}
		})
	}
	wg.Wait()
	if got := wins.Load(); got != 1 {
		t.Fatalf("%d writes of the same name succeeded, want 1", got)
	}
	a, err := s.AssociateByName(ctx, "RaCeR")
	if err != nil {
		t.Fatal(err)
	}
	if int64(a.ID) != winner.Load() {
		t.Errorf("AssociateByName found %d, the winner was %d", a.ID, winner.Load())
	}
}
