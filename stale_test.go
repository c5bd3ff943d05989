package access_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// discard is a logger for tests whose stores fail on purpose.
var discard = slog.New(slog.DiscardHandler)

// staleSeed is a small model with one of everything a question can name.
func staleSeed() access.Batch {
	return access.Batch{
		Roles: []access.Role{{ID: 1, Name: "Sales", Functions: []string{"export"},
			Rights: map[string]access.Grid{"*": {access.Owner: access.LevelFull}}}},
		Groups: []access.Group{{ID: 10, Name: "Team A", SelfService: true, Fields: map[string]string{"region": "north"}}},
		Associates: []access.Associate{
			{ID: 11, Name: "anna", Type: access.Internal, PrimaryGroup: 10, Role: 1, Active: true},
		},
	}
}

// newStaleStore returns a flaky store holding staleSeed.
func newStaleStore(t *testing.T) *flakyStore {
	t.Helper()
	mem := memory.New()
	if _, err := mem.Apply(context.Background(), staleSeed()); err != nil {
		t.Fatal(err)
	}
	return &flakyStore{Store: mem}
}

// notDeciding lists the exported methods of *Engine that read no snapshot
// to decide anything, and why; every other exported method must refuse
// when the resolver is stale.
var notDeciding = map[string]string{
	"Close":     "lifecycle",
	"Refresh":   "lifecycle: it is how a stale resolver recovers",
	"Sync":      "lifecycle: it waits for a revision, refreshing",
	"Revision":  "reports which revision the resolver holds",
	"Staleness": "reports how old the snapshot is",
	"Stats":     "reports the resolver's health",
	"Ready":     "reports whether the resolver answers; it returns ErrStale itself",
}

// TestStale_everyQuestionRefuses calls every exported method of *Engine on
// a stale resolver: each that is not listed in notDeciding must refuse with
// ErrStale, and deny — for every argument, before it looks at them.
func TestStale_everyQuestionRefuses(t *testing.T) {
	ctx := context.Background()
	clock := &manualClock{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	fs := newStaleStore(t)
	e, err := access.NewResolver(ctx, storeOnly{fs}, access.WithClock(&access.Options{
		Now: clock.Now, PollInterval: -1, MaxStaleness: time.Minute, Logger: discard,
	}, clock.Since))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	typ := reflect.TypeOf(e)
	for name := range notDeciding {
		if _, ok := typ.MethodByName(name); !ok {
			t.Errorf("notDeciding lists %s, which *Engine does not have", name)
		}
	}
	// call calls method m with ctx and otherwise zero arguments, and
	// returns its results.
	call := func(m reflect.Method) []reflect.Value {
		args := []reflect.Value{reflect.ValueOf(e)}
		for i := 1; i < m.Type.NumIn(); i++ {
			in := m.Type.In(i)
			if in == reflect.TypeFor[context.Context]() {
				args = append(args, reflect.ValueOf(ctx))
				continue
			}
			args = append(args, reflect.Zero(in))
		}
		return m.Func.Call(args)
	}
	// check reports what is wrong with the results of a stale call.
	check := func(out []reflect.Value, stale bool) string {
		if len(out) == 0 || out[len(out)-1].Type() != reflect.TypeFor[error]() {
			return "does not return an error last: a question must be able to refuse"
		}
		err, _ := out[len(out)-1].Interface().(error)
		if stale != errors.Is(err, access.ErrStale) {
			return "err = " + errString(err)
		}
		if !stale {
			return ""
		}
		for _, v := range out[:len(out)-1] {
			switch x := v.Interface().(type) {
			case bool:
				if x {
					return "answers true while stale"
				}
			case access.Decision:
				if x.Allowed || x.Rights != 0 {
					return "allows while stale: " + x.String()
				}
			}
		}
		return ""
	}

	var questions int
	for i := range typ.NumMethod() {
		m := typ.Method(i)
		if _, ok := notDeciding[m.Name]; ok {
			continue
		}
		questions++
		if msg := check(call(m), false); msg != "" {
			t.Errorf("fresh %s: %s", m.Name, msg)
		}
	}
	// The questions the issue named must be among those found, or the
	// test is not looking at *Engine.
	for _, name := range []string{"Can", "CanAs", "Impersonate", "IsMember", "Members", "EffectiveGroups",
		"Has", "Stamp", "WhoCan", "Permissions", "GroupPermissions", "Categories", "CategoryMembers",
		"RemoveCategory", "CanManageMembers", "CanJoin", "Field", "Filter"} {
		if _, ok := typ.MethodByName(name); !ok {
			t.Errorf("*Engine has no method %s", name)
		}
	}
	if questions < 18 {
		t.Fatalf("only %d questions found by reflection", questions)
	}

	fs.down.Store(true)
	clock.Add(2 * time.Minute)
	for i := range typ.NumMethod() {
		m := typ.Method(i)
		if _, ok := notDeciding[m.Name]; ok {
			continue
		}
		if msg := check(call(m), true); msg != "" {
			t.Errorf("stale %s: %s", m.Name, msg)
		}
	}
	if err := e.Ready(); !errors.Is(err, access.ErrStale) {
		t.Errorf("Ready when stale = %v, want ErrStale", err)
	}
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// TestStale_namedQuestions spells out the refusals the issue named, with
// arguments that answer yes on a fresh snapshot: CanJoin on a self-service
// group and Permissions.
func TestStale_namedQuestions(t *testing.T) {
	ctx := context.Background()
	clock := &manualClock{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	fs := newStaleStore(t)
	e, err := access.NewResolver(ctx, storeOnly{fs}, access.WithClock(&access.Options{
		Now: clock.Now, PollInterval: -1, MaxStaleness: time.Minute, Logger: discard,
	}, clock.Since))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if ok, err := e.CanJoin(ctx, 11, 10); err != nil || !ok {
		t.Fatalf("fresh CanJoin = %v, %v; want true", ok, err)
	}
	fs.down.Store(true)
	clock.Add(61 * time.Second)
	if ok, err := e.CanJoin(ctx, 11, 10); ok || !errors.Is(err, access.ErrStale) {
		t.Errorf("stale CanJoin = %v, %v; want false, ErrStale", ok, err)
	}
	if p, err := e.Permissions(ctx, 11); !errors.Is(err, access.ErrStale) || p.Role.ID != 0 {
		t.Errorf("stale Permissions = %+v, %v; want nothing, ErrStale", p, err)
	}
	if fv, err := e.Field(ctx, 11, "region"); fv.Found || !errors.Is(err, access.ErrStale) {
		t.Errorf("stale Field = %+v, %v; want nothing, ErrStale", fv, err)
	}
}

// TestStale_wallClockStepsBack: staleness runs on the monotonic clock, so a
// wall clock (Options.Now) stepped back an hour during an outage does not
// make the old snapshot look fresh. This uses real time: the watchdog must
// mark the resolver stale by itself.
func TestStale_wallClockStepsBack(t *testing.T) {
	ctx := context.Background()
	wall := &manualClock{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	fs := newStaleStore(t)
	const maxStale = 100 * time.Millisecond
	e, err := access.NewResolver(ctx, storeOnly{fs}, &access.Options{
		Now: wall.Now, PollInterval: -1, MaxStaleness: maxStale, Logger: discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	fs.down.Store(true)
	wall.Add(-time.Hour)
	if err := e.Refresh(ctx); !errors.Is(err, errDown) {
		t.Fatalf("Refresh with the store down = %v, want %v", err, errDown)
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.Ready() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	own := access.Record{Type: "contact", ID: 1, Owner: 11}
	if d, err := e.Can(ctx, 11, access.Read, own); !errors.Is(err, access.ErrStale) || d.Allowed {
		t.Fatalf("Can with the store down past MaxStaleness, wall clock stepped back = %v, %v; want a denial with ErrStale", d.Allowed, err)
	}
	if st := e.Staleness(); st < maxStale {
		t.Errorf("Staleness = %v, want at least %v", st, maxStale)
	}

	// Back up: the next refresh clears it.
	fs.down.Store(false)
	if err := e.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if d, err := e.Can(ctx, 11, access.Read, own); err != nil || !d.Allowed {
		t.Fatalf("Can after the store came back = %v, %v; want allowed", d, err)
	}
}

// TestStale_defaultBound: a store that can fail gets DefaultMaxStaleness
// unless the caller chooses; an Infallible one gets no bound.
func TestStale_defaultBound(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fallible  bool
		opt, want time.Duration
	}{
		{"fallible store, default", true, 0, access.DefaultMaxStaleness},
		{"fallible store, explicit", true, 5 * time.Second, 5 * time.Second},
		{"fallible store, opted out", true, -1, 0},
		{"memory store, default", false, 0, 0},
		{"memory store, explicit", false, 5 * time.Second, 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s access.Store = memory.New()
			if tc.fallible {
				s = storeOnly{s}
			}
			e, err := access.NewResolver(context.Background(), s, &access.Options{PollInterval: -1, MaxStaleness: tc.opt})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if got := e.Stats().MaxStaleness; got != tc.want {
				t.Errorf("MaxStaleness in force = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestStale_closed: a closed resolver whose staleness is bounded still
// goes stale, though no watchdog runs any more.
func TestStale_closed(t *testing.T) {
	ctx := context.Background()
	fs := newStaleStore(t)
	e, err := access.NewResolver(ctx, storeOnly{fs}, &access.Options{PollInterval: -1, MaxStaleness: 50 * time.Millisecond, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	if ok, err := e.IsMember(ctx, 11, 10); err != nil || !ok {
		t.Fatalf("IsMember just after Close = %v, %v; want true", ok, err)
	}
	time.Sleep(60 * time.Millisecond)
	if _, err := e.IsMember(ctx, 11, 10); !errors.Is(err, access.ErrStale) {
		t.Fatalf("IsMember on a closed resolver past MaxStaleness: err = %v, want ErrStale", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the resolver's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestStats_failuresAreReported: failed refreshes show in Stats and in the
// log (the first of a run, then not every one), and so does the recovery.
func TestStats_failuresAreReported(t *testing.T) {
	ctx := context.Background()
	clock := &manualClock{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	fs := newStaleStore(t)
	var logs syncBuffer
	e, err := access.NewResolver(ctx, storeOnly{fs}, access.WithClock(&access.Options{
		Now: clock.Now, PollInterval: -1, MaxStaleness: time.Minute,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	}, clock.Since))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	st := e.Stats()
	if st.Revision != e.Revision() || st.Revision == 0 || st.Failures != 0 || st.LastError != nil || st.Stale {
		t.Errorf("Stats of a fresh resolver = %+v", st)
	}
	// Durations are on the test's clock, which has not moved; see
	// TestStats_durations for real ones.

	fs.down.Store(true)
	clock.Add(10 * time.Second)
	for range 3 {
		if err := e.Refresh(ctx); !errors.Is(err, errDown) {
			t.Fatalf("Refresh with the store down = %v", err)
		}
	}
	st = e.Stats()
	if st.Failures != 3 || !errors.Is(st.LastError, errDown) || st.LastErrorAt.IsZero() ||
		st.Staleness != 10*time.Second || st.Stale {
		t.Errorf("Stats after 3 failures = %+v; want 3 failures, the last error, 10s stale, not yet refusing", st)
	}
	if n := strings.Count(logs.String(), "refresh failed"); n != 1 {
		t.Errorf("logged %d refresh failures, want 1 (the first of the run):\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), errDown.Error()) {
		t.Errorf("the failure log does not say ERROR and the cause:\n%s", logs.String())
	}
	clock.Add(time.Minute)
	if st := e.Stats(); !st.Stale {
		t.Errorf("Stats past MaxStaleness = %+v; want Stale", st)
	}
	if err := e.Refresh(ctx); err == nil {
		t.Fatal("Refresh with the store down succeeded")
	}
	if n := strings.Count(logs.String(), "refresh failed"); n != 2 {
		t.Errorf("logged %d refresh failures after a minute more, want 2:\n%s", n, logs.String())
	}

	fs.down.Store(false)
	if err := e.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	st = e.Stats()
	if st.Failures != 0 || !errors.Is(st.LastError, errDown) || st.Staleness != 0 || st.Stale {
		t.Errorf("Stats after recovering = %+v; want no failures, the old error kept, fresh", st)
	}
	if !strings.Contains(logs.String(), "refresh recovered") {
		t.Errorf("the recovery was not logged:\n%s", logs.String())
	}
}

// TestStats_durations: Stats times the first load on the real clock.
func TestStats_durations(t *testing.T) {
	e, err := access.NewResolver(context.Background(), newStaleStore(t), &access.Options{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if st := e.Stats(); st.Compile <= 0 || st.LastRefresh < st.Compile {
		t.Errorf("Stats: compile %v, last refresh %v; want 0 < compile <= last refresh", st.Compile, st.LastRefresh)
	}
}

// TestStale_watchdogLogs: the resolver turning stale is logged, by the
// watchdog, without any question being asked.
func TestStale_watchdogLogs(t *testing.T) {
	fs := newStaleStore(t)
	var logs syncBuffer
	e, err := access.NewResolver(context.Background(), storeOnly{fs}, &access.Options{
		PollInterval: -1, MaxStaleness: 20 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "resolver is stale") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "resolver is stale") {
		t.Fatalf("no stale log line within 5 s:\n%s", logs.String())
	}
}

// blockingStore answers Changes from a memory store until blocked; then
// every Changes call hangs until released, ignoring its context, as a
// database stuck on a lock behind a driver that does not cancel would.
type blockingStore struct {
	*memory.Store
	blocked atomic.Bool
	calls   atomic.Int32
	release chan struct{}
}

func (b *blockingStore) Changes(ctx context.Context, since access.Revision) (access.Delta, error) {
	if b.blocked.Load() {
		b.calls.Add(1)
		<-b.release
	}
	return b.Store.Changes(ctx, since)
}

// returnsBy runs f and reports whether it returned within limit, and what.
func returnsBy(limit time.Duration, f func() error) (error, bool) {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err, true
	case <-time.After(limit):
		return nil, false
	}
}

// TestRefresh_deadlineWhileStuck: with a background refresh stuck in the
// store, Refresh and Sync return by their deadline, and background
// refreshes give up after RefreshTimeout and say so.
func TestRefresh_deadlineWhileStuck(t *testing.T) {
	ctx := context.Background()
	bs := &blockingStore{Store: memory.New(), release: make(chan struct{})}
	if _, err := bs.Apply(ctx, staleSeed()); err != nil {
		t.Fatal(err)
	}
	e, err := access.NewResolver(ctx, storeOnly{bs}, &access.Options{
		PollInterval: 10 * time.Millisecond, RefreshTimeout: 50 * time.Millisecond, Logger: discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var once sync.Once
	unblock := func() { once.Do(func() { bs.blocked.Store(false); close(bs.release) }) }
	defer unblock()
	bs.blocked.Store(true)
	for deadline := time.Now().Add(5 * time.Second); bs.calls.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no background refresh reached the store within 5 s")
		}
		time.Sleep(time.Millisecond)
	}

	const wait = 200 * time.Millisecond
	for _, tc := range []struct {
		name string
		call func(context.Context) error
	}{
		{"Refresh", e.Refresh},
		{"Sync", func(ctx context.Context) error { return e.Sync(ctx, e.Revision()+1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err, ok := returnsBy(3*wait, func() error {
				ctx, cancel := context.WithTimeout(ctx, wait)
				defer cancel()
				return tc.call(ctx)
			})
			if !ok {
				t.Fatalf("%s with a %v deadline had not returned after %v", tc.name, wait, 3*wait)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%s = %v, want DeadlineExceeded", tc.name, err)
			}
		})
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		if st := e.Stats(); errors.Is(st.LastError, context.DeadlineExceeded) && st.Failures > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("background refreshes reported no timeout within 5 s: %+v", e.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}

	unblock()
	rev, err := bs.Apply(ctx, access.Batch{Groups: []access.Group{{ID: 20, Name: "Team B"}}})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := e.Sync(wctx, rev); err != nil {
		t.Fatalf("Sync after the store came unstuck: %v", err)
	}
}

// TestCan_boundedStaysAllocationFree: bounding staleness adds no
// allocation (and no clock read) to Can.
func TestCan_boundedStaysAllocationFree(t *testing.T) {
	ctx := context.Background()
	fs := newStaleStore(t)
	e, err := access.NewResolver(ctx, storeOnly{fs}, &access.Options{PollInterval: -1, MaxStaleness: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	rec := access.Record{Type: "contact", ID: 1, Owner: 11}
	if d, err := e.Can(ctx, 11, access.Read, rec); err != nil || !d.Allowed {
		t.Fatalf("Can = %v, %v", d, err)
	}
	if n := testing.AllocsPerRun(1000, func() { e.Can(ctx, 11, access.Read, rec) }); n != 0 {
		t.Errorf("Can on a bounded resolver allocates %v times a call", n)
	}
}

// TestNewResolver_deadline: the first load returns by ctx's deadline even
// from a store that ignores ctx.
func TestNewResolver_deadline(t *testing.T) {
	bs := &blockingStore{Store: memory.New(), release: make(chan struct{})}
	bs.blocked.Store(true)
	defer close(bs.release)
	const wait = 100 * time.Millisecond
	err, ok := returnsBy(3*wait, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		_, err := access.NewResolver(ctx, storeOnly{bs}, nil)
		return err
	})
	if !ok {
		t.Fatalf("NewResolver with a %v deadline had not returned after %v", wait, 3*wait)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("NewResolver = %v, want DeadlineExceeded", err)
	}
}
