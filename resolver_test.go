package access_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// flakyStore wraps a memory store whose reads can be switched off, as a
// database that goes away and comes back. It is not a Watcher, so the
// resolver learns of changes by polling.
type flakyStore struct {
	*memory.Store
	down atomic.Bool
}

var errDown = errors.New("database unreachable")

func (f *flakyStore) Changes(ctx context.Context, since access.Revision) (access.Delta, error) {
	if f.down.Load() {
		return access.Delta{}, errDown
	}
	return f.Store.Changes(ctx, since)
}

// manualClock is a time source the test moves by hand.
type manualClock struct {
	mu    sync.Mutex
	t     time.Time
	moved time.Duration
}

func (c *manualClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Since is the clock's monotonic reading: how far it has been moved.
func (c *manualClock) Since() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.moved
}
func (c *manualClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.moved += d
	c.mu.Unlock()
}

// storeOnly hides every method but Changes, so the resolver cannot watch.
type storeOnly struct{ s access.Store }

func (s storeOnly) Changes(ctx context.Context, since access.Revision) (access.Delta, error) {
	return s.s.Changes(ctx, since)
}

func TestResolver_storeGoesAway(t *testing.T) {
	ctx := context.Background()
	mem := memory.New()
	if _, err := mem.Apply(ctx, access.Batch{
		Roles:      []access.Role{{ID: 1, Name: "Sales", Rights: map[string]access.Grid{"*": {access.Owner: access.LevelFull}}}},
		Groups:     []access.Group{{ID: 10, Name: "Team A"}, {ID: 20, Name: "Team B"}},
		Associates: []access.Associate{{ID: 11, Name: "anna", Type: access.Internal, PrimaryGroup: 10, Role: 1, Active: true}},
	}); err != nil {
		t.Fatal(err)
	}
	fs := &flakyStore{Store: mem}
	clock := &manualClock{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	r, err := access.NewResolver(ctx, storeOnly{fs}, access.WithClock(&access.Options{
		Now: clock.Now, PollInterval: -1, MaxStaleness: time.Minute, Logger: discard,
	}, clock.Since))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	own := access.Record{Type: "contact", ID: 1, Owner: 11}

	// The database goes away: refreshes fail, answers continue from the
	// last snapshot while it is young enough.
	fs.down.Store(true)
	clock.Add(30 * time.Second)
	if err := r.Refresh(ctx); !errors.Is(err, errDown) {
		t.Fatalf("Refresh with the store down = %v, want %v", err, errDown)
	}
	if d, err := r.Can(ctx, 11, access.Read, own); err != nil || !d.Allowed {
		t.Fatalf("Can 30 s after losing the store = %v, %v; want allowed from the last snapshot", d, err)
	}
	if got := r.Staleness(); got != 30*time.Second {
		t.Errorf("Staleness = %v, want 30s", got)
	}

	// Past MaxStaleness the resolver fails closed.
	clock.Add(31 * time.Second)
	d, err := r.Can(ctx, 11, access.Read, own)
	if !errors.Is(err, access.ErrStale) || d.Allowed {
		t.Fatalf("Can past MaxStaleness = %v, %v; want a denial with ErrStale", d.Allowed, err)
	}
	if _, err := r.IsMember(ctx, 11, 10); !errors.Is(err, access.ErrStale) {
		t.Errorf("IsMember past MaxStaleness: err = %v, want ErrStale", err)
	}
	if _, err := r.Filter(ctx, 11, access.Read, "contact"); !errors.Is(err, access.ErrStale) {
		t.Errorf("Filter past MaxStaleness: err = %v, want ErrStale", err)
	}

	// Meanwhile a write lands; the database comes back; the resolver
	// catches up with it and answers again.
	rev, err := mem.Apply(ctx, access.Batch{Associates: []access.Associate{
		{ID: 11, Name: "anna", Type: access.Internal, PrimaryGroup: 10, Groups: []access.GroupID{20}, Role: 1, Active: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	fs.down.Store(false)
	if err := r.Sync(ctx, rev); err != nil {
		t.Fatalf("Sync(%d) after the store came back: %v", rev, err)
	}
	if ok, err := r.IsMember(ctx, 11, 20); err != nil || !ok {
		t.Fatalf("IsMember after catching up = %v, %v; want true", ok, err)
	}
	if d, err := r.Can(ctx, 11, access.Read, own); err != nil || !d.Allowed {
		t.Fatalf("Can after catching up = %v, %v; want allowed", d, err)
	}
	if r.Staleness() != 0 {
		t.Errorf("Staleness after catching up = %v, want 0", r.Staleness())
	}
}

func TestNewResolver_storeUnreachable(t *testing.T) {
	fs := &flakyStore{Store: memory.New()}
	fs.down.Store(true)
	_, err := access.NewResolver(context.Background(), fs, nil)
	if !errors.Is(err, errDown) {
		t.Fatalf("NewResolver with the store down: err = %v, want it to wrap %v", err, errDown)
	}
}

func TestSync_timesOut(t *testing.T) {
	ctx := context.Background()
	r, err := access.NewResolver(ctx, memory.New(), &access.Options{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	wait, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := r.Sync(wait, 99); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Sync to a revision the store never reaches: err = %v, want DeadlineExceeded", err)
	}
}

// TestResolver_refreshWorkerLeavesWhenIdle checks that a stream of
// refreshes runs on one refresh worker, and that the worker is gone soon
// after the refreshes stop: an idle resolver holds no goroutine for
// refreshing. The worker is found in a dump of every goroutine's stack,
// by the resolver's address, its first argument.
func TestResolver_refreshWorkerLeavesWhenIdle(t *testing.T) {
	ctx := context.Background()
	mem := memory.New()
	if _, err := mem.Apply(ctx, access.Batch{
		Roles:      []access.Role{{ID: 1, Name: "Sales"}},
		Groups:     []access.Group{{ID: 10, Name: "Team A"}},
		Associates: []access.Associate{{ID: 11, Name: "anna", Type: access.Internal, PrimaryGroup: 10, Role: 1, Active: true}},
	}); err != nil {
		t.Fatal(err)
	}
	// Not the memory store itself: the resolver refreshes on the
	// goroutine that asks when its store is Infallible.
	r, err := access.NewResolver(ctx, storeOnly{mem}, &access.Options{PollInterval: -1, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	workers := func() int {
		buf := make([]byte, 1<<20)
		for {
			n := runtime.Stack(buf, true)
			if n < len(buf) {
				return strings.Count(string(buf[:n]), fmt.Sprintf("access.(*Engine).refreshWorker(%p", r))
			}
			buf = make([]byte, 2*len(buf))
		}
	}
	seen := 0 // writes after which the worker waited for the next
	for i := range 50 {
		a := access.Associate{ID: 11, Name: fmt.Sprintf("anna%d", i), Type: access.Internal, PrimaryGroup: 10, Role: 1, Active: true}
		if err := mem.PutAssociate(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := r.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		switch n := workers(); {
		case n > 1:
			t.Fatalf("after refresh %d: %d refresh workers, want at most one", i, n)
		case n == 1:
			seen++
		}
	}
	if seen == 0 {
		t.Error("no refresh worker waited for the next refresh after any of 50")
	}
	if got, want := r.Revision(), mem.Revision(); got != want {
		t.Fatalf("resolver at revision %d after the writes, store at %d", got, want)
	}
	deadline := time.Now().Add(10 * time.Second)
	for workers() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the refresh worker is still there 10 s after the last write")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// taggingStore embeds a memory store, so it is Infallible and a Watcher,
// and edits what it hands on, as an application's decorator might.
type taggingStore struct{ *memory.Store }

func (w taggingStore) Changes(ctx context.Context, since access.Revision) (access.Delta, error) {
	d, err := w.Store.Changes(ctx, since)
	for i := range d.Associates {
		if d.Associates[i].Attributes != nil {
			d.Associates[i].Attributes["via"] = "wrapper"
		}
	}
	return d, err
}

// TestResolverWrapperCannotChangeStore: the resolver's promise not to
// change what the memory store hands it is made to that store only, so a
// wrapper that edits the delta edits a copy, never the store's own rows.
func TestResolverWrapperCannotChangeStore(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Apply(ctx, access.Batch{
		Roles:      []access.Role{{ID: 1, Name: "Sales"}},
		Groups:     []access.Group{{ID: 10, Name: "Team A"}},
		Associates: []access.Associate{{ID: 11, Name: "anna", Role: 1, PrimaryGroup: 10, Active: true, Attributes: map[string]string{"dept": "sales"}}},
	}); err != nil {
		t.Fatal(err)
	}
	e := newResolver(t, taggingStore{s}, nil)
	if err := s.PutAssociate(ctx, access.Associate{ID: 12, Name: "bo", Role: 1, PrimaryGroup: 10, Active: true, Attributes: map[string]string{"dept": "support"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Sync(ctx, s.Revision()); err != nil {
		t.Fatal(err)
	}
	for _, id := range []access.AssociateID{11, 12} {
		a, err := s.Associate(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := a.Attributes["via"]; ok {
			t.Errorf("associate %d: the wrapper's edit reached the store's own row (via=%q)", id, v)
		}
	}
}

// blockedStore embeds a memory store (Infallible) but its Changes blocks
// after the first load until released: each poll asks for the changes
// since the resolver's revision, and waits.
type blockedStore struct {
	*memory.Store
	release chan struct{}
}

func (w *blockedStore) Changes(ctx context.Context, since access.Revision) (access.Delta, error) {
	if since > 0 {
		<-w.release
	}
	return w.Store.Changes(ctx, since)
}

// TestResolverPollTimeoutOverBlockingWrapper: polls go through the
// refresh worker, so RefreshTimeout bounds them even over an Infallible
// store whose wrapper blocks; the failures are counted.
func TestResolverPollTimeoutOverBlockingWrapper(t *testing.T) {
	ctx := context.Background()
	s := &blockedStore{Store: memory.New(), release: make(chan struct{})}
	if _, err := s.Apply(ctx, access.Batch{Roles: []access.Role{{ID: 1, Name: "Sales"}}}); err != nil {
		t.Fatal(err)
	}
	e, err := access.NewResolver(ctx, s, &access.Options{PollInterval: 5 * time.Millisecond, RefreshTimeout: 20 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	defer close(s.release)
	deadline := time.Now().Add(10 * time.Second)
	for e.Stats().Failures == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no background refresh failed in 10 s with RefreshTimeout 20 ms over a blocked store")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := e.Stats().LastError; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("last error %v, want one wrapping context.DeadlineExceeded", err)
	}
}

// handOverStore hands a resolver fixed deltas and keeps them, so that a
// test can check what the resolver did with them.
type handOverStore struct {
	rev    access.Revision
	deltas []access.Delta
	model  access.Batch
	// then holds each delta's associates as handed over, and maps their
	// attribute maps, before the caller could do anything with them.
	then [][]access.Associate
	maps [][]map[string]string
}

func (s *handOverStore) Changes(_ context.Context, since access.Revision) (access.Delta, error) {
	d := access.Delta{From: since, To: s.rev, Full: since == 0 || since > s.rev, Batch: s.model.Clone()}
	if !d.Full {
		d.From, d.Batch = since, access.Batch{}
	}
	s.deltas = append(s.deltas, d)
	s.then = append(s.then, slices.Clone(d.Associates))
	var ms []map[string]string
	for _, a := range d.Associates {
		ms = append(ms, a.Attributes)
	}
	s.maps = append(s.maps, ms)
	return d, nil
}

// TestResolverOnlyReadsDeltas checks that a resolver never writes into the
// associates a store hands it, which a store may share with it (store/memory
// does, under its promise): two associates whose attribute maps are equal
// but distinct keep their own maps in the delta, while the resolver still
// answers from them.
func TestResolverOnlyReadsDeltas(t *testing.T) {
	ctx := context.Background()
	st := &handOverStore{rev: 1, model: access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "Sales"}},
		Groups: []access.Group{{ID: 10, Name: "Team A"}},
		Associates: []access.Associate{
			{ID: 1, Name: "anna", Type: access.Internal, Role: 1, PrimaryGroup: 10, Active: true, Attributes: map[string]string{"city": "Oslo"}},
			{ID: 2, Name: "bo", Type: access.Internal, Role: 1, PrimaryGroup: 10, Active: true, Attributes: map[string]string{"city": "Oslo"}},
		},
	}}
	e, err := access.NewResolver(ctx, st, &access.Options{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if len(st.deltas) == 0 || len(st.deltas[0].Associates) != 2 {
		t.Fatalf("the resolver asked for %d deltas", len(st.deltas))
	}
	handed, want, kept := st.deltas[0].Associates, st.then[0], st.maps[0]
	for _, id := range []access.AssociateID{1, 2} {
		f, err := e.Field(ctx, id, "city")
		if err != nil || f.Value != "Oslo" {
			t.Fatalf("Field(%d, city) = %+v, %v; want Oslo", id, f, err)
		}
	}
	if diff := cmp.Diff(want, handed); diff != "" {
		t.Fatalf("the resolver changed the associates it was handed (-before +after):\n%s", diff)
	}
	for i, m := range kept {
		if reflect.ValueOf(m).UnsafePointer() != reflect.ValueOf(handed[i].Attributes).UnsafePointer() {
			t.Errorf("associate %d: the resolver replaced the attribute map it was handed", handed[i].ID)
		}
	}
}
