package access

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrPoolClosed is returned by [Pool.Get] after [Pool.Close].
var ErrPoolClosed = errors.New("access: pool closed")

// PoolOptions configure a [Pool].
type PoolOptions struct {
	// Open returns the store holding one tenant's model. The pool calls it
	// when the tenant is first asked for, and again after an eviction; it
	// closes nothing Open returns (an application that opens a connection
	// per tenant closes it in OnEvict). Required.
	Open func(ctx context.Context, tenant string) (Store, error)
	// Budget bounds, in bytes, the snapshots the pool keeps resident, as
	// each resolver estimates its own ([Stats.SnapshotBytes]). When a load
	// takes the total above it, the least recently used tenants are
	// evicted until it fits again or only the newest is left. 0 means no
	// bound.
	Budget int64
	// Resolver is the options every tenant's resolver is made with
	// (staleness bound, clock, logger…); nil for the defaults.
	Resolver *Options
	// OnEvict, when set, is called after a tenant's resolver was closed
	// because of the budget or [Pool.Evict], outside the pool's lock.
	OnEvict func(tenant string)
}

// Pool hands out one resolver per tenant, for a service that answers for
// many organisations (a SaaS): a tenant's resolver is loaded on first use,
// once however many requests ask at the same moment (single-flight), and
// kept while the snapshots of all resident tenants fit within a memory
// budget, evicting the least recently used. A tenant's resolver follows
// its store as any resolver does, with the staleness rules of its options,
// so a tenant's change wakes only that tenant's resolver.
//
// A resolver is only ever loaded from the store Open returns for its
// tenant, and is handed out only for that tenant: tenants may use the same
// ids with different rules.
//
// A Pool is safe for concurrent use.
type Pool struct {
	opts PoolOptions

	// tick orders uses: a Get stamps the tenant with the next tick, and
	// eviction takes the smallest stamps first. Stamping under the read
	// lock keeps the common path, a resident tenant, free of writes to
	// shared structure. A tenant stamped within the last fresh ticks
	// keeps its stamp (see touch).
	tick  atomic.Uint64
	fresh atomic.Uint64

	mu       sync.RWMutex
	tenants  map[string]*tenantEntry
	resident int
	bytes    int64 // at the last load or eviction
	closed   bool
	stats    PoolStats
}

// tenantEntry is one tenant: loading (ready open), resident, or failed.
type tenantEntry struct {
	tenant string
	ready  chan struct{} // closed once the load has ended
	engine *Engine       // set when the load succeeded
	err    error         // set when it failed
	used   atomic.Uint64 // the tick of the last Get
}

// PoolStats is what an operator watches in a [Pool].
type PoolStats struct {
	// Resident counts the tenants whose resolver is loaded; Bytes is the
	// sum of their snapshots' estimated sizes when a tenant was last
	// loaded or evicted.
	Resident int
	Bytes    int64
	// Loads and LoadFailures count the loads begun and those that failed;
	// Evictions counts resolvers closed to keep within the budget or by
	// Evict.
	Loads, LoadFailures, Evictions uint64
	// LoadTime is the time spent in successful loads, LastLoad and
	// MaxLoad the latest and the longest one.
	LoadTime, LastLoad, MaxLoad time.Duration
}

// NewPool returns an empty pool. It fails when o.Open is nil or the
// budget is negative.
func NewPool(o PoolOptions) (*Pool, error) {
	if o.Open == nil {
		return nil, fmt.Errorf("%w: pool: Open is required", ErrInvalid)
	}
	if o.Budget < 0 {
		return nil, fmt.Errorf("%w: pool: negative budget %d", ErrInvalid, o.Budget)
	}
	return &Pool{opts: o, tenants: map[string]*tenantEntry{}}, nil
}

// Get returns the tenant's resolver, loading it if it is not resident.
// Concurrent calls for a tenant that is loading wait for that one load;
// if it fails, they all get its error and the next call loads again. Get
// returns early with ctx's error when ctx ends while it waits; the load
// goes on for the others.
//
// Use the resolver for the request at hand and ask Get again for the
// next: a resolver the pool has since evicted is closed, and answers
// from its last snapshot (refusing with [ErrStale] past its staleness
// bound) rather than following its store.
func (p *Pool) Get(ctx context.Context, tenant string) (*Engine, error) {
	p.mu.RLock()
	t := p.tenants[tenant]
	if t != nil && t.engine != nil {
		p.touch(t)
		p.mu.RUnlock()
		return t.engine, nil
	}
	p.mu.RUnlock()

	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrPoolClosed
	}
	t = p.tenants[tenant]
	if t == nil {
		t = &tenantEntry{tenant: tenant, ready: make(chan struct{})}
		p.tenants[tenant] = t
		p.stats.Loads++
		go p.load(t)
	}
	p.mu.Unlock()
	select {
	case <-t.ready:
	case <-ctx.Done():
		return nil, fmt.Errorf("access: pool: waiting for tenant %q: %w", tenant, ctx.Err())
	}
	if t.err != nil {
		return nil, t.err
	}
	p.touch(t)
	return t.engine, nil
}

// touch stamps t as used now. A tenant already among the most recently
// used quarter of the resident ones (stamped within the last fresh ticks)
// keeps its stamp: the order eviction reads is exact for the other three
// quarters, which are the only ones it reaches unless it must evict
// nearly everything, and a busy tenant's Get writes to no shared counter.
func (p *Pool) touch(t *tenantEntry) {
	if u := t.used.Load(); u != 0 && p.tick.Load()-u < p.fresh.Load() {
		return
	}
	t.used.Store(p.tick.Add(1))
}

// load opens and loads one tenant's resolver. It runs on its own
// goroutine, detached from the requests waiting for it, so a request that
// gives up does not fail the load for the others.
func (p *Pool) load(t *tenantEntry) {
	start := time.Now()
	ctx := context.Background()
	var e *Engine
	st, err := p.opts.Open(ctx, t.tenant)
	if err == nil {
		e, err = NewResolver(ctx, st, p.opts.Resolver)
	}
	if err != nil {
		err = fmt.Errorf("access: pool: loading tenant %q: %w", t.tenant, err)
	}
	took := time.Since(start)

	p.mu.Lock()
	var evicted []*tenantEntry
	switch {
	case err != nil:
		t.err = err
		p.stats.LoadFailures++
		delete(p.tenants, t.tenant) // the next Get loads again
	case p.closed:
		t.err = ErrPoolClosed
		delete(p.tenants, t.tenant)
		evicted = append(evicted, &tenantEntry{engine: e})
	default:
		t.engine = e
		t.used.Store(p.tick.Add(1))
		p.resident++
		p.fresh.Store(uint64(p.resident / 4))
		p.stats.LoadTime += took
		p.stats.LastLoad = took
		p.stats.MaxLoad = max(p.stats.MaxLoad, took)
		evicted = p.overBudget(t)
	}
	close(t.ready)
	p.mu.Unlock()
	p.closeAll(evicted, t.engine != nil)
}

// overBudget adds keep's snapshot to the pool's bytes. When the total
// exceeds the budget, it sums the resident snapshots' sizes as they are
// now (each resolver's snapshot grows and shrinks with its store) and
// removes the least recently used tenants other than keep until the rest
// fit. It returns them for closing outside the lock.
func (p *Pool) overBudget(keep *tenantEntry) []*tenantEntry {
	p.bytes += keep.engine.snap.Load().bytes() // Stats.SnapshotBytes, memoised per snapshot
	if p.opts.Budget == 0 || p.bytes <= p.opts.Budget {
		return nil
	}
	type sized struct {
		t     *tenantEntry
		bytes int64
		used  uint64
	}
	var all []sized
	p.bytes = 0
	for _, t := range p.tenants {
		if t.engine == nil {
			continue
		}
		n := t.engine.snap.Load().bytes()
		p.bytes += n
		all = append(all, sized{t, n, t.used.Load()})
	}
	if p.bytes <= p.opts.Budget {
		return nil
	}
	slices.SortFunc(all, func(a, b sized) int { return cmp.Compare(a.used, b.used) })
	var out []*tenantEntry
	for _, x := range all {
		if p.bytes <= p.opts.Budget {
			break
		}
		if x.t == keep {
			continue
		}
		p.remove(x.t)
		p.bytes -= x.bytes
		out = append(out, x.t)
	}
	return out
}

// remove takes a resident tenant out of the pool; the caller adjusts
// the bytes.
func (p *Pool) remove(t *tenantEntry) {
	delete(p.tenants, t.tenant)
	p.resident--
	p.fresh.Store(uint64(p.resident / 4))
	p.stats.Evictions++
}

// closeAll closes evicted resolvers and reports them, outside the lock.
func (p *Pool) closeAll(ts []*tenantEntry, report bool) {
	for _, t := range ts {
		t.engine.Close()
		if report && p.opts.OnEvict != nil && t.tenant != "" {
			p.opts.OnEvict(t.tenant)
		}
	}
}

// Evict closes the tenant's resolver if it is resident, for example after
// the tenant was deleted or moved; the next Get loads it again. It reports
// whether the tenant was resident.
func (p *Pool) Evict(tenant string) bool {
	p.mu.Lock()
	t := p.tenants[tenant]
	if t == nil || t.engine == nil {
		p.mu.Unlock()
		return false
	}
	p.remove(t)
	p.bytes -= t.engine.snap.Load().bytes()
	p.mu.Unlock()
	p.closeAll([]*tenantEntry{t}, true)
	return true
}

// Stats reports the pool's resident tenants, bytes, loads, evictions and
// load latency.
func (p *Pool) Stats() PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Resident = p.resident
	s.Bytes = p.bytes
	return s
}

// PoolTenant is one resident tenant of a [Pool], as [Pool.Tenants] lists
// it.
type PoolTenant struct {
	// Tenant is the name the tenant was asked for by.
	Tenant string
	// Bytes is its snapshot's estimated size ([Stats.SnapshotBytes]).
	Bytes int64
	// Revision is the revision its resolver answers from.
	Revision Revision
	// Staleness is how long its resolver has gone without a successful
	// refresh while the store may have moved on ([Engine.Staleness]).
	Staleness time.Duration
}

// Tenants lists the n most recently used resident tenants (every one when
// n ≤ 0), the most recently used first: the order eviction keeps them in,
// so the tail is what goes next. Only the tenants listed are measured.
func (p *Pool) Tenants(n int) []PoolTenant {
	type used struct {
		t    *tenantEntry
		tick uint64
	}
	p.mu.RLock()
	all := make([]used, 0, p.resident)
	for _, t := range p.tenants {
		if t.engine != nil {
			all = append(all, used{t, t.used.Load()})
		}
	}
	p.mu.RUnlock()
	slices.SortFunc(all, func(a, b used) int {
		return cmp.Or(cmp.Compare(b.tick, a.tick), cmp.Compare(a.t.tenant, b.t.tenant))
	})
	if n > 0 && n < len(all) {
		all = all[:n]
	}
	out := make([]PoolTenant, len(all))
	for i, u := range all {
		e := u.t.engine
		out[i] = PoolTenant{Tenant: u.t.tenant, Bytes: e.snap.Load().bytes(), Revision: e.Revision(), Staleness: e.Staleness()}
	}
	return out
}

// Close closes every resident resolver; Get fails with [ErrPoolClosed]
// afterwards, and loads under way close their resolver when they end.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	var ts []*tenantEntry
	for _, t := range p.tenants {
		if t.engine != nil {
			ts = append(ts, t)
			delete(p.tenants, t.tenant)
		}
	}
	p.resident, p.bytes = 0, 0
	p.fresh.Store(0)
	p.mu.Unlock()
	p.closeAll(ts, false)
	return nil
}
