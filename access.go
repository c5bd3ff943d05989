package access

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmaccess/access/internal/intern"
)

// Action is what a subject wants to do with a record. The zero value is not
// an action, and no right allows it.
type Action uint8

// The four record actions.
const (
	_ Action = iota
	Read
	Create
	Update
	Delete
)

// Valid reports whether a is one of the four actions.
func (a Action) Valid() bool { return a >= Read && a <= Delete }

// right is the CRUD bit that allows the action, 0 for none.
func (a Action) right() CRUD {
	// A table, not a switch: every decision asks, for actions in any
	// order, and a branch on them is mispredicted time and again.
	if int(a) < len(actionRights) {
		return actionRights[a]
	}
	return 0
}

// actionRights is the CRUD bit of each action.
var actionRights = [...]CRUD{Read: R, Create: C, Update: U, Delete: D}

// String names the action in lower case.
func (a Action) String() string { return enumName(actionNames[:], a, "action") }

// Resolver answers questions about one organisation: who is in which group
// and who may do what. It resolves against an immutable snapshot of the
// store at some revision, so every answer is consistent with one revision.
//
// Implementations must be safe for concurrent use. Any error means the
// question could not be answered: callers must treat it as deny.
type Resolver interface {
	// EffectiveGroups returns every group the associate is an effective
	// member of, ordered by group id, each with the shortest path that
	// explains it. Membership is structural: an inactive associate keeps
	// its groups (the gates apply to decisions, not to membership).
	// Unknown associate: an error wrapping ErrNotFound.
	EffectiveGroups(ctx context.Context, who AssociateID) ([]Membership, error)
	// IsMember reports whether the associate is an effective member of the
	// group. An unknown associate or group is an error wrapping ErrNotFound.
	IsMember(ctx context.Context, who AssociateID, g GroupID) (bool, error)
	// Members returns the effective members of the group in id order.
	// Unknown group: an error wrapping ErrNotFound.
	Members(ctx context.Context, g GroupID) ([]AssociateID, error)
	// Revision reports the store revision the resolver answers at now.
	Revision() Revision

	// Can decides whether the associate may perform the action on the
	// record, and why. The Decision's zero value denies; an error (bad
	// input, a resolver that cannot vouch for its data) comes with a
	// denying Decision.
	Can(ctx context.Context, who AssociateID, act Action, rec Record) (Decision, error)
	// Has reports whether the associate holds a functional right, through
	// its role or one of its effective groups. System users hold every
	// right; an associate that fails a gate holds none, nor does an
	// external associate, whatever its role lists.
	Has(ctx context.Context, who AssociateID, right string) (bool, error)
	// Stamp returns the ownership columns to write on a record assigned to
	// the associate now. Unknown associate: an error wrapping ErrNotFound.
	Stamp(ctx context.Context, who AssociateID) (Stamp, error)

	// Impersonate checks whether actor may act on behalf of target; CanAs
	// then decides as the target alone, recording the actor.
	Impersonate(ctx context.Context, actor, target AssociateID) (Acting, error)
	CanAs(ctx context.Context, as Acting, act Action, rec Record) (Decision, error)

	// Categories returns the associate's effective Customer Service
	// categories with their provenance; CategoryMembers the reverse.
	Categories(ctx context.Context, who AssociateID) ([]CategoryMembership, error)
	CategoryMembers(ctx context.Context, c CategoryID) ([]AssociateID, error)

	// CanManageMembers reports whether actor may add to or remove from
	// group g's members; CanJoin whether who may add or remove itself.
	CanManageMembers(ctx context.Context, actor AssociateID, g GroupID) (bool, error)
	CanJoin(ctx context.Context, who AssociateID, g GroupID) (bool, error)

	// Field returns a custom field's value for the associate, falling back
	// to its groups.
	Field(ctx context.Context, who AssociateID, key string) (FieldValue, error)

	// Filter describes the records of a type the associate may act on,
	// for listing them in SQL; WhoCan lists the associates allowed on one
	// record; Permissions and GroupPermissions give the permissions matrix
	// of an associate and what a group's membership contributes.
	Filter(ctx context.Context, who AssociateID, act Action, typ string) (Filter, error)
	WhoCan(ctx context.Context, act Action, rec Record) ([]Allowed, error)
	Permissions(ctx context.Context, who AssociateID) (Permissions, error)
	GroupPermissions(ctx context.Context, g GroupID) (GroupPermissions, error)
}

// Options tune a resolver. A nil *Options, or a zero field, means the
// default documented on the field.
type Options struct {
	// Now tells the time for validity windows (Associate.ValidFrom and
	// ValidTo), and only for them. Default: time.Now. Staleness is
	// measured on the monotonic clock whatever Now says, so that neither an
	// injected Now nor a step of the wall clock can make an old snapshot
	// look fresh.
	Now func() time.Time
	// PollInterval is how often the resolver asks the store for changes.
	// It polls even a [Watcher], as a heartbeat that catches missed
	// notifications and keeps staleness low. Default: one second; a
	// negative value turns polling off, and then only notifications and
	// the caller's Refresh and Sync calls keep the resolver fresh: a
	// resolver with bounded staleness goes stale whenever the store is
	// quiet for longer than MaxStaleness.
	PollInterval time.Duration
	// MaxStaleness bounds how long the resolver answers without hearing
	// from its store. Once the store last answered longer ago than that
	// (failed refreshes do not count), every question that decides
	// anything refuses with an error wrapping [ErrStale], and
	// [Engine.Ready] reports it, until a refresh succeeds.
	//
	// Positive: that bound. Zero: the default, [DefaultMaxStaleness] for a
	// store that can fail and no bound for an [Infallible] store
	// (store/memory). Negative: no bound, an explicit opt-out — the
	// resolver then answers from its last snapshot however old it grows
	// (watch [Engine.Stats]).
	MaxStaleness time.Duration
	// RefreshTimeout bounds each refresh the resolver makes on its own
	// (polls and notifications), waiting for its turn included, so that a
	// store stuck on a lock cannot hold refreshes up for ever. Default,
	// and for zero or negative values: [DefaultRefreshTimeout]. Refresh
	// and Sync use the caller's context instead. Over an [Infallible]
	// store, a notification's refresh runs on the store's notifying
	// goroutine and the timeout bounds only its wait for its turn.
	RefreshTimeout time.Duration
	// Logger receives refresh failures (level Error: the first of a run,
	// then at most one a minute), the resolver turning stale (Error) and
	// recovering (Info). Default: [slog.Default], so that a failing store
	// is never silent; pass slog.New(slog.DiscardHandler) to silence it.
	Logger *slog.Logger
	// Audit, when set, receives every decision [Engine.Can] and
	// [Engine.CanAs] make and every impersonation [Engine.Impersonate]
	// grants or refuses, exactly once each, failures included (a question
	// that fails reports a denying decision with its error). It is called
	// synchronously on the request path, before the question returns: it
	// must be fast (hand slow work such as a database write to a queue of
	// its own) and safe for concurrent use. The event is passed by value;
	// neither an unset nor a set hook makes Can allocate.
	Audit func(context.Context, AuditEvent)
	// EntityTypes, when not empty, lists every record type the
	// application has, so that a question about any other type — a typo
	// such as "contacts" — fails with an error wrapping [ErrInvalid] (and
	// a deny) instead of quietly denying: [Engine.Can], [Engine.CanAs],
	// [Engine.Filter] and [Engine.WhoCan] check it. Each must be a
	// concrete type: neither empty nor [Wildcard]. Default: any type is
	// accepted, and one no role or rule names is simply denied.
	EntityTypes []string

	// clock, when set (by tests), replaces the monotonic clock for
	// staleness; the resolver then reads it on every question instead of
	// relying on its watchdog timer, which runs on real time.
	clock func() time.Duration
}

// Defaults for [Options].
const (
	// DefaultMaxStaleness is how long a resolver over a store that can
	// fail answers without hearing from it: long enough to ride out a
	// database restart or failover, short enough that a deactivated user
	// does not keep access through a long outage.
	DefaultMaxStaleness = time.Minute
	// DefaultRefreshTimeout bounds a background refresh: a full load of a
	// large model from a busy database fits in it.
	DefaultRefreshTimeout = 30 * time.Second
)

// failureLogEvery spaces the log lines of a run of refresh failures.
const failureLogEvery = time.Minute

// Engine is the [Resolver] that [NewResolver] returns: it compiles the
// store's model into an immutable snapshot, keeps it current as the store
// changes, and answers from it without locks. It is safe for concurrent use.
type Engine struct {
	store    Store
	now      func() time.Time
	log      *slog.Logger
	maxStale time.Duration // 0: no bound
	timeout  time.Duration // of background refreshes

	audit func(context.Context, AuditEvent) // Options.Audit; nil: no hook
	types map[string]struct{}               // Options.EntityTypes; nil: any

	snap atomic.Pointer[snapshot]
	// freshness tells current how to vouch for the snapshot (freshOK,
	// freshStale, freshAsk). Questions read it instead of the clock: on
	// some machines a clock read costs as much as a whole decision.
	freshness atomic.Uint32
	// clock is the monotonic clock staleness is measured on, as time since
	// the resolver started; lastOK is its reading when the store's last
	// successful answer was asked for.
	clock  func() time.Duration
	lastOK atomic.Int64
	// names remembers the names of entities across revisions, so that
	// decisions can be explained without keeping their snapshots.
	names history
	// advanced is closed and replaced whenever a new snapshot is published,
	// waking Sync callers.
	advanced atomic.Pointer[chan struct{}]

	// sem holds the one refresh under way, so one goroutine builds the next
	// snapshot while readers keep using the published one. A channel rather
	// than a mutex so that a caller waits its turn only as long as its
	// context allows.
	sem chan struct{}
	// jobs hands a refresh to the refresh worker (see refreshWorker);
	// workerIdle, guarded by workerMu, says a worker waits on it.
	jobs       chan refreshJob
	workerMu   sync.Mutex
	workerIdle bool
	// inline says the store is Infallible: its Changes cannot block, so
	// the resolver's own refreshes run on the goroutine that asks for them
	// (see refresh).
	inline bool

	// health guards what follows: the watchdog that marks the resolver
	// stale on time, and the record of refreshes behind Stats.
	health   sync.Mutex
	watchdog *time.Timer // nil when staleness is unbounded or under a test clock
	closed   bool
	record   refreshRecord

	// ctx ends when the resolver is closed, and with it background
	// refreshes.
	ctx       context.Context
	cancel    context.CancelFunc
	stopWatch func()
	closeOnce sync.Once
}

// Values of Engine.freshness.
const (
	// freshOK: answer without looking at the clock; the watchdog will say
	// when the snapshot grows too old.
	freshOK uint32 = iota
	// freshStale: refuse; the watchdog found the snapshot too old, and no
	// refresh has succeeded since.
	freshStale
	// freshAsk: read the clock on every question, because no watchdog runs
	// (the resolver is closed, or a test drives the clock).
	freshAsk
)

// refreshRecord is what Stats reports about refreshes.
type refreshRecord struct {
	failures    int
	lastErr     error
	lastErrAt   time.Time
	lastLog     time.Duration // clock reading of the last failure logged
	lastRefresh time.Duration
	compile     time.Duration
}

var _ Resolver = (*Engine)(nil)

// NewResolver loads the whole model from s, compiles it and returns a
// resolver that follows s: through [Watcher] when s is one (writes made
// through s in this process are visible to the very next call), and by
// polling. It fails if the first load fails, or ctx ends first. Call Close
// to stop following.
func NewResolver(ctx context.Context, s Store, opts *Options) (*Engine, error) {
	if s == nil {
		return nil, fmt.Errorf("access: NewResolver: %w: nil store", ErrInvalid)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PollInterval == 0 {
		o.PollInterval = time.Second
	}
	switch _, infallible := s.(Infallible); {
	case o.MaxStaleness < 0, o.MaxStaleness == 0 && infallible:
		o.MaxStaleness = 0
	case o.MaxStaleness == 0:
		o.MaxStaleness = DefaultMaxStaleness
	}
	if o.RefreshTimeout <= 0 {
		o.RefreshTimeout = DefaultRefreshTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	types, err := entityTypes(o.EntityTypes)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		store: s, now: o.Now, log: o.Logger, maxStale: o.MaxStaleness, timeout: o.RefreshTimeout,
		clock: o.clock, sem: make(chan struct{}, 1), jobs: make(chan refreshJob, 1), audit: o.Audit, types: types,
	}
	if e.clock == nil {
		// time.Now carries a monotonic reading and time.Since uses it; so
		// start must never go through Round, Truncate, UTC or In, which
		// drop it.
		start := time.Now()
		e.clock = func() time.Duration { return time.Since(start) }
	}
	start := e.clock()
	d, err := firstLoad(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("access: NewResolver: loading the model: %w", err)
	}
	loaded := e.clock()
	e.ctx, e.cancel = context.WithCancel(context.Background())
	_, e.inline = s.(Infallible)
	ch := make(chan struct{})
	e.advanced.Store(&ch)
	e.publish(build(d.To, &d.Batch))
	if e.maxStale > 0 && o.clock == nil {
		// Created under the lock, so that a watchdog firing at once finds
		// itself assigned.
		e.health.Lock()
		e.watchdog = time.AfterFunc(e.maxStale, e.watch)
		e.health.Unlock()
	}
	now := e.clock()
	e.succeeded(start, now-start, now-loaded, true)
	if w, ok := s.(Watcher); ok {
		e.stopWatch = w.Watch(func(rev Revision) {
			if rev > e.Revision() {
				e.background(e.inline)
			}
		})
	}
	if o.PollInterval > 0 {
		go e.poll(o.PollInterval)
	}
	return e, nil
}

// firstLoad reads the whole model, returning when ctx ends even if the
// store does not notice.
func firstLoad(ctx context.Context, s Store) (Delta, error) {
	type result struct {
		d   Delta
		err error
	}
	done := make(chan result, 1)
	go func() {
		d, err := s.Changes(readOnly(ctx, s), 0)
		done <- result{d, err}
	}()
	select {
	case r := <-done:
		return r.d, r.err
	case <-ctx.Done():
		return Delta{}, ctx.Err()
	}
}

// readOnly returns ctx, for a call of s.Changes, with the resolver's
// promise never to change the associates it reads (see intern.ReadOnly):
// neither update nor build does, and the resolver hands out copies. The
// promise is made to s itself: a wrapper that embeds a memory store and
// calls it under ctx is not s, so the store hands the wrapper copies,
// which it may change.
func readOnly(ctx context.Context, s Store) context.Context {
	if _, ok := s.(Infallible); ok {
		return intern.ReadOnly(ctx, s)
	}
	return ctx
}

// publish makes s the snapshot readers see and wakes Sync callers.
func (e *Engine) publish(s *snapshot) {
	if s.recomputed != nil {
		// Only what-if reads it, from snapshots it never publishes; a
		// role change can list a million associates.
		s.recomputed = nil
	}
	e.names.advance(s)
	e.snap.Store(s)
	ch := make(chan struct{})
	close(*e.advanced.Swap(&ch))
}

// poll refreshes in the background every interval until the resolver is
// closed: a heartbeat even for a Watcher, which may miss a notification.
func (e *Engine) poll(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
			e.background(false)
		}
	}
}

// background refreshes on the resolver's own behalf, within
// Options.RefreshTimeout. A failure is recorded and logged, not returned.
// With inline, the calling goroutine builds the snapshot itself (see
// refresh): only the watcher of an Infallible store asks for that, whose
// notification follows a write the store has already made.
func (e *Engine) background(inline bool) {
	ctx, cancel := context.WithTimeout(e.ctx, e.timeout)
	defer cancel()
	_ = e.refresh(ctx, true, inline)
}

// Close stops following the store. The resolver keeps answering from its
// last snapshot, and, when its staleness is bounded, refuses with
// [ErrStale] once that snapshot is older than the bound.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		e.cancel()
		if e.stopWatch != nil {
			e.stopWatch()
		}
		e.health.Lock()
		defer e.health.Unlock()
		e.closed = true
		if e.watchdog != nil {
			// A stopped timer lets a dropped resolver's snapshot go now
			// rather than when the timer would have fired.
			e.watchdog.Stop()
		}
		if e.maxStale > 0 {
			e.freshness.CompareAndSwap(freshOK, freshAsk)
		}
	})
	return nil
}

// Refresh brings the resolver up to the store's latest revision now. On
// error the resolver keeps its current snapshot.
//
// Refresh returns by ctx's deadline even while another refresh is stuck in
// the store: it waits for its turn, and for the store, only as long as ctx
// allows. A store call that ignores ctx goes on in the background and
// keeps the turn until it returns.
func (e *Engine) Refresh(ctx context.Context) error {
	return e.refresh(ctx, false, false)
}

// refresh runs one refresh for ctx. A background refresh records every
// failure; a caller's does not record its own context ending, which says
// nothing about the store.
func (e *Engine) refresh(ctx context.Context, background, inline bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("access: refresh: %w", err)
	}
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		err := fmt.Errorf("access: refresh: waiting for the refresh under way: %w", ctx.Err())
		if background && e.ctx.Err() == nil {
			e.failed(err)
		}
		return err
	}
	if inline {
		// The store cannot keep this refresh waiting (it is Infallible),
		// and building is work, not waiting: the goroutine that asked
		// (the store's watcher) does it, and is spared handing it to the
		// worker and waiting to be woken, a sizeable part of a small
		// write's cost. Polls still go to the worker, so RefreshTimeout
		// bounds them even over a wrapper whose Changes blocks.
		defer func() { <-e.sem }()
		return e.refreshHeld(ctx, background)
	}
	done := make(chan error, 1)
	e.startRefresh(refreshJob{ctx: ctx, background: background, done: done})
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		select {
		case err := <-done:
			return err
		default:
			return fmt.Errorf("access: refresh from revision %d: the store has not answered: %w", e.Revision(), ctx.Err())
		}
	}
}

// refreshJob is one refresh for the worker to run: refreshHeld(ctx,
// background), its result sent on done (buffered).
type refreshJob struct {
	ctx        context.Context
	background bool
	done       chan error
}

// refreshLinger is how long the refresh worker waits for the next refresh
// before it exits: long enough for a stream of writes to reuse it (and its
// stack, grown to what an update needs), short enough that an idle
// resolver soon holds no goroutine.
const refreshLinger = 100 * time.Millisecond

// startRefresh runs j on the refresh worker, starting one when none
// waits. The caller holds sem, which the worker releases when j is done;
// so there is one job at a time, and usually one worker.
func (e *Engine) startRefresh(j refreshJob) {
	e.workerMu.Lock()
	idle := e.workerIdle
	e.workerIdle = false
	e.workerMu.Unlock()
	if idle {
		e.jobs <- j // the idle worker takes it, even if it is timing out
		return
	}
	go e.refreshWorker(j)
}

// refreshWorker runs j and the jobs startRefresh hands it after, each in
// turn, on one goroutine, so that a stream of refreshes does not start a
// goroutine (and grow its stack) for each. It exits once it has waited
// refreshLinger for a job, or the resolver is closed.
func (e *Engine) refreshWorker(j refreshJob) {
	var linger *time.Timer
	for {
		j.done <- e.refreshHeld(j.ctx, j.background)
		j = refreshJob{} // let the job's context go while idle
		e.workerMu.Lock()
		e.workerIdle = true
		e.workerMu.Unlock()
		<-e.sem
		if linger == nil {
			linger = time.NewTimer(refreshLinger)
		} else {
			linger.Reset(refreshLinger)
		}
		select {
		case j = <-e.jobs:
			continue
		case <-linger.C:
		case <-e.ctx.Done():
		}
		e.workerMu.Lock()
		idle := e.workerIdle
		e.workerIdle = false
		e.workerMu.Unlock()
		if idle {
			linger.Stop()
			return
		}
		// startRefresh claimed this worker before it could leave: the
		// job is on its way.
		j = <-e.jobs
	}
}

// refreshHeld asks the store for what changed and publishes it; the caller
// holds sem.
func (e *Engine) refreshHeld(ctx context.Context, background bool) error {
	cur := e.snap.Load()
	start := e.clock()
	d, err := e.store.Changes(readOnly(ctx, e.store), cur.rev)
	if err != nil {
		err = fmt.Errorf("access: refresh from revision %d: %w", cur.rev, err)
		if (background && e.ctx.Err() == nil) || (!background && ctx.Err() == nil) {
			e.failed(err)
		}
		return err
	}
	read := e.clock()
	var next *snapshot
	switch {
	case d.Full:
		next = build(d.To, &d.Batch)
	case d.To <= cur.rev:
		// Nothing new.
	case d.From != cur.rev:
		err := fmt.Errorf("access: refresh: store answered from revision %d, asked from %d", d.From, cur.rev)
		e.failed(err)
		return err
	default:
		next = cur.update(&d)
	}
	if next != nil {
		e.publish(next)
	}
	now := e.clock()
	e.succeeded(start, now-start, now-read, next != nil)
	return nil
}

// succeeded records a refresh whose store read began at start (a clock
// reading) and took took in all, compile of it building the snapshot.
func (e *Engine) succeeded(start, took, compile time.Duration, compiled bool) {
	e.health.Lock()
	if int64(start) > e.lastOK.Load() {
		e.lastOK.Store(int64(start))
	}
	r := &e.record
	r.lastRefresh = took
	if compiled {
		r.compile = compile
	}
	failures := r.failures
	r.failures = 0
	wasStale := false
	if e.maxStale > 0 {
		open := freshOK
		if e.watchdog == nil || e.closed {
			open = freshAsk
		}
		wasStale = e.freshness.Swap(open) == freshStale
		if e.watchdog != nil && !e.closed {
			e.watchdog.Reset(e.maxStale - (e.clock() - time.Duration(e.lastOK.Load())))
		}
	}
	e.health.Unlock()
	if failures > 0 {
		e.log.Info("access: refresh recovered", "failures", failures, "was_stale", wasStale, "revision", e.Revision())
	}
}

// failed records a failed refresh and logs the first of a run, then at most
// one a failureLogEvery.
func (e *Engine) failed(err error) {
	now := e.clock()
	e.health.Lock()
	r := &e.record
	r.failures++
	r.lastErr, r.lastErrAt = err, time.Now()
	n := r.failures
	logIt := n == 1 || now-r.lastLog >= failureLogEvery
	if logIt {
		r.lastLog = now
	}
	e.health.Unlock()
	if logIt {
		e.log.Error("access: refresh failed", "err", err, "failures", n,
			"staleness", e.Staleness(), "max_staleness", e.maxStale)
	}
}

// watch is the watchdog: it fires when the snapshot may have grown too old,
// and marks the resolver stale if it has, or sets itself again.
func (e *Engine) watch() {
	e.health.Lock()
	if e.closed {
		e.health.Unlock()
		return
	}
	age := e.clock() - time.Duration(e.lastOK.Load())
	if age <= e.maxStale {
		e.watchdog.Reset(e.maxStale - age + 1)
		e.health.Unlock()
		return
	}
	newly := e.freshness.Swap(freshStale) != freshStale
	lastErr := e.record.lastErr
	e.health.Unlock()
	if newly {
		e.log.Error("access: resolver is stale: questions fail closed until a refresh succeeds",
			"staleness", age, "max_staleness", e.maxStale, "last_err", lastErr)
	}
}

// ErrStale is returned (wrapped) by every question that decides anything
// when the resolver has not heard from its store for longer than
// Options.MaxStaleness.
var ErrStale = errors.New("resolver is stale")

// Staleness reports how long ago the store last answered the resolver, as
// measured from when the resolver asked. Failed refreshes do not count as
// answers.
func (e *Engine) Staleness() time.Duration {
	return max(0, e.clock()-time.Duration(e.lastOK.Load()))
}

// current returns the snapshot to answer from, or an error wrapping
// ErrStale when the resolver must fail closed. Every question that reads a
// snapshot starts with it. It does not allocate unless it fails.
func (e *Engine) current() (*snapshot, error) {
	s := e.snap.Load()
	if e.freshness.Load() != freshOK {
		if err := e.refusal(); err != nil {
			return s, err
		}
	}
	return s, nil
}

// refusal is current's slow path.
func (e *Engine) refusal() error {
	age := e.Staleness()
	if e.freshness.Load() == freshAsk && age <= e.maxStale {
		return nil
	}
	return fmt.Errorf("access: %w: last heard from the store %s ago (maximum %s)", ErrStale, age.Round(time.Millisecond), e.maxStale)
}

// Ready returns nil when the resolver answers questions, and otherwise the
// error they fail with, which wraps [ErrStale]: what an HTTP readiness
// probe should check. A resolver whose staleness is unbounded is always
// ready; [Engine.Stats] tells how it is faring.
func (e *Engine) Ready() error {
	_, err := e.current()
	return err
}

// Stats is a resolver's health at one moment, for metrics and health
// checks.
type Stats struct {
	// Revision is the store revision the resolver answers at.
	Revision Revision
	// Staleness is how long ago the store last answered ([Engine.Staleness]).
	Staleness time.Duration
	// MaxStaleness is the bound in force; 0 when there is none.
	MaxStaleness time.Duration
	// Stale reports whether questions refuse with [ErrStale] now.
	Stale bool
	// Failures counts the refreshes that failed since the last one that
	// succeeded.
	Failures int
	// LastError is the last refresh failure, kept after a recovery, and
	// LastErrorAt when it happened (wall clock); nil and zero if none.
	LastError   error
	LastErrorAt time.Time
	// LastRefresh is how long the last successful refresh took, the store
	// read and the compile together.
	LastRefresh time.Duration
	// Compile is how long building the current snapshot took, from the
	// whole model or incrementally.
	Compile time.Duration
	// SnapshotBytes estimates the bytes the current snapshot's compiled
	// data holds: nodes, membership lists, decision headers, indexes and
	// policy, arrays by capacity and maps by entry, and the associates
	// the nodes point at, which a memory store shares with the snapshot
	// (see store/memory). Snapshots share
	// unchanged parts with their predecessors; these count in full, so
	// the figure is what the snapshot alone keeps alive, not what the
	// last update added. It leaves out the name history and the filter
	// cache, and models neither allocator rounding nor map layout
	// exactly. The walk behind it runs once per snapshot.
	SnapshotBytes int64
}

// Stats reports the resolver's revision, staleness and refresh history.
func (e *Engine) Stats() Stats {
	e.health.Lock()
	r := e.record
	e.health.Unlock()
	return Stats{
		Revision:      e.Revision(),
		Staleness:     e.Staleness(),
		MaxStaleness:  e.maxStale,
		Stale:         e.Ready() != nil,
		Failures:      r.failures,
		LastError:     r.lastErr,
		LastErrorAt:   r.lastErrAt,
		LastRefresh:   r.lastRefresh,
		Compile:       r.compile,
		SnapshotBytes: e.snap.Load().bytes(),
	}
}

// Sync waits until the resolver answers at revision rev or later, asking
// the store as it waits. It gives read-your-writes across replicas: a
// request that carries the revision its user's last write returned is
// served consistently once Sync returns. It returns by ctx's deadline, with
// an error wrapping ctx's, even while a refresh is stuck in the store.
func (e *Engine) Sync(ctx context.Context, rev Revision) error {
	backoff := time.Millisecond
	for {
		if e.Revision() >= rev {
			return nil
		}
		wake := *e.advanced.Load()
		// A failure is recorded and logged by refresh; Sync asks again.
		_ = e.refresh(ctx, false, false)
		if e.Revision() >= rev {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("access: waiting for revision %d (at %d): %w", rev, e.Revision(), ctx.Err())
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("access: waiting for revision %d (at %d): %w", rev, e.Revision(), ctx.Err())
		case <-wake:
		case <-t.C:
		}
		t.Stop()
		backoff = min(backoff*2, 100*time.Millisecond)
	}
}

// Revision reports the store revision the resolver answers at now.
func (e *Engine) Revision() Revision { return e.snap.Load().rev }

// EffectiveGroups implements [Resolver]. The memberships' paths share
// storage (see [Membership.Path]): the call costs time and memory linear in
// the memberships for a chain of groups however deep.
func (e *Engine) EffectiveGroups(ctx context.Context, who AssociateID) ([]Membership, error) {
	s, err := e.current()
	if err != nil {
		return nil, err
	}
	_, n := s.assoc(who)
	if n == nil {
		return nil, fmt.Errorf("access: associate %d: %w", who, ErrNotFound)
	}
	out := s.explainAll(n)
	slices.SortFunc(out, func(a, b Membership) int { return cmp.Compare(a.Group, b.Group) })
	return out, nil
}

// IsMember implements [Resolver]. It does not allocate unless it fails.
func (e *Engine) IsMember(ctx context.Context, who AssociateID, g GroupID) (bool, error) {
	s, err := e.current()
	if err != nil {
		return false, err
	}
	x := s.subject(who)
	if x.h == nil {
		return false, fmt.Errorf("access: associate %d: %w", who, ErrNotFound)
	}
	gi := s.groupIndex(g)
	if gi < 0 {
		return false, fmt.Errorf("access: group %d: %w", g, ErrNotFound)
	}
	return s.memberHot(x.h, gi), nil
}

// Members implements [Resolver].
func (e *Engine) Members(ctx context.Context, g GroupID) ([]AssociateID, error) {
	s, err := e.current()
	if err != nil {
		return nil, err
	}
	gi, gn := s.group(g)
	if gn == nil {
		return nil, fmt.Errorf("access: group %d: %w", g, ErrNotFound)
	}
	ms := s.memberSet(gi)
	out := make([]AssociateID, 0, ms.len())
	for a := range ms.all() {
		out = append(out, s.assocs.at(a).a.ID)
	}
	slices.Sort(out)
	return out, nil
}

// Can implements [Resolver]. The layers apply in this order:
//
//  1. gates: an unknown, inactive or out-of-window associate, one whose
//     type needs a licence it does not validly hold (see [Licence]), a
//     resource or an anonymous associate gets nothing;
//  2. system users get everything, and nothing below applies to them;
//  3. the role's rights for every ownership relation that holds (or the
//     fallback relation when none does); a member of the record's team
//     gets the owner's cell too, unless the role limits teams;
//  4. sharing rules add rights;
//  5. explicit grants add rights, and where no grant to the subject or its
//     groups covers the record, group default permissions do;
//  6. limits take rights away: denials and ceilings on the subject's
//     groups or on everyone, and the organisation-wide ceilings on
//     unrelated records (see [Limit]);
//  7. restrictions (record visibility, unpublished records for external
//     users, members-only categories) remove rights.
//
// An external subject is held to its own company and projects: its role
// cells exist only for [Owner], [MyCompany] and [SameProject], and on a
// record it does not own, of another company and of none of its projects,
// only sharing rules and grants that name the associate itself apply —
// what "everyone", roles and groups would add there is held back, with a
// [RestrictExternalScope] cause.
//
// Can does not allocate, for allows and denies alike.
func (e *Engine) Can(ctx context.Context, who AssociateID, act Action, rec Record) (Decision, error) {
	// Small enough to be inlined, so that can fills the caller's Decision
	// in place instead of a result the caller then copies.
	var d Decision
	err := e.can(ctx, who, act, &rec, &d)
	return d, err
}

// can is Can writing its answer into d, which must be zero.
func (e *Engine) can(ctx context.Context, who AssociateID, act Action, rec *Record, d *Decision) error {
	s, err := e.current()
	d.Action, d.Subject, d.Revision, d.names = act, who, s.rev, s.names
	d.Record = *rec
	if err == nil {
		err = e.checkRequest(act, rec)
	}
	if err == nil {
		s.decide(d, e.now)
	}
	if e.audit != nil {
		e.auditDecision(ctx, s, d, 0, err)
	}
	return err
}

// Allowed reports whether the associate may perform the action on the
// record: the answer [Engine.Can] gives, without its explanation, for
// middleware and filters that need only yes or no. It records no causes
// and returns no [Decision], which makes it cheaper. Any error means
// false. With an audit hook ([Options].Audit) it decides as Can does, so
// that the hook sees every decision with its causes.
//
// Allowed does not allocate, for allows and denies alike.
func (e *Engine) Allowed(ctx context.Context, who AssociateID, act Action, rec Record) (bool, error) {
	s, err := e.current()
	if err == nil && e.audit == nil {
		if err := e.checkRequest(act, &rec); err != nil {
			return false, err
		}
		return s.allowed(who, act, &rec, e.now), nil
	}
	d, err := e.Can(ctx, who, act, rec)
	return d.Allowed, err
}

// Impersonate reports whether actor may act on behalf of target and, if
// so, returns the Acting to decide with. The refusals wrap
// [ErrImpersonation]: [ErrImpersonateSelf], [ErrImpersonatorGate],
// [ErrTargetGate], [ErrImpersonateSystem], [ErrTargetAbove] and
// [ErrNoImpersonationRule].
func (e *Engine) Impersonate(ctx context.Context, actor, target AssociateID) (Acting, error) {
	s, err := e.current()
	var as Acting
	if err == nil {
		as, err = s.impersonate(actor, target, e.now)
	}
	if e.audit != nil {
		e.auditImpersonation(ctx, s, actor, target, as.Rule, err)
	}
	return as, err
}

// CanAs decides as [Engine.Can] does for the impersonated target, and only
// for the target: the actor's own rights play no part. The Decision's
// Actor records the real actor. If the impersonation is no longer allowed
// (a rule was removed, someone was deactivated), CanAs denies and returns
// the refusal.
func (e *Engine) CanAs(ctx context.Context, as Acting, act Action, rec Record) (Decision, error) {
	s, err := e.current()
	d := Decision{Action: act, Subject: as.Target, Actor: as.Actor, Record: rec, Revision: s.rev, names: s.names}
	if err == nil {
		err = e.checkRequest(act, &rec)
	}
	var now Acting
	if err == nil {
		now, err = s.impersonate(as.Actor, as.Target, e.now)
	}
	if err == nil {
		s.decide(&d, e.now)
	}
	if e.audit != nil {
		e.auditDecision(ctx, s, &d, now.Rule, err)
	}
	return d, err
}

// checkRequest is checkRequest, then, when the application registered
// its entity types, a check that the record's type is one of them. It does
// not allocate unless it fails.
func (e *Engine) checkRequest(act Action, rec *Record) error {
	if err := checkRequest(act, rec); err != nil {
		return err
	}
	if e.types != nil {
		if _, ok := e.types[rec.Type]; !ok {
			return fmt.Errorf("access: %w: record type %q is not one of Options.EntityTypes", ErrInvalid, rec.Type)
		}
	}
	return nil
}

// checkRequest rejects a request no store could answer: an unknown action,
// a record without a concrete type or with an unknown visibility. It does
// not allocate unless it fails.
func checkRequest(act Action, rec *Record) error {
	switch {
	case !act.Valid():
		return fmt.Errorf("access: %w: unknown action %d", ErrInvalid, act)
	case rec.Type == "" || rec.Type == Wildcard:
		return fmt.Errorf("access: %w: record type %q: a concrete entity type is required", ErrInvalid, rec.Type)
	case rec.Visibility > VisibleAssociate:
		return fmt.Errorf("access: %w: unknown record visibility %d", ErrInvalid, rec.Visibility)
	}
	return nil
}

// Has implements [Resolver].
func (e *Engine) Has(ctx context.Context, who AssociateID, right string) (bool, error) {
	s, err := e.current()
	if err != nil {
		return false, err
	}
	if right == "" {
		return false, fmt.Errorf("access: Has: %w: empty functional right", ErrInvalid)
	}
	x := s.subject(who)
	if s.gateHot(x.i, x.h, e.now) != GateNone {
		return false, nil
	}
	if !typeMayHold(AssociateType(x.h.typ), right) {
		return false, nil
	}
	return AssociateType(x.h.typ) == System || s.has(x, right), nil
}

// Stamp implements [Resolver].
func (e *Engine) Stamp(ctx context.Context, who AssociateID) (Stamp, error) {
	s, err := e.current()
	if err != nil {
		return Stamp{}, err
	}
	_, n := s.assoc(who)
	if n == nil {
		return Stamp{}, fmt.Errorf("access: Stamp: associate %d: %w", who, ErrNotFound)
	}
	return Stamp{Owner: who, Group: n.a.PrimaryGroup}, nil
}
