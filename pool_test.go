package access_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/orggen"
	"github.com/crmaccess/access/store/memory"
)

// tenantOrg is tenant n's model: the same ids in every tenant, but the
// role's Other cell is R in even tenants and nothing in odd ones, and the
// associate's name carries the tenant.
func tenantOrg(n int) access.Batch {
	other := access.LevelNone
	if n%2 == 0 {
		other = access.R
	}
	return access.Batch{
		Roles:      []access.Role{{ID: 1, Name: "Sales", Rights: map[string]access.Grid{"*": {access.Owner: access.LevelFull, access.Other: other}}}},
		Groups:     []access.Group{{ID: 10, Name: "Oslo"}},
		Associates: []access.Associate{{ID: 1, Name: fmt.Sprintf("Anna of tenant %d", n), PrimaryGroup: 10, Role: 1, Active: true}},
	}
}

// tenantStores opens memory stores holding tenantOrg, counting the opens
// per tenant.
type tenantStores struct {
	mu     sync.Mutex
	stores map[string]*memory.Store
	opens  map[string]int
	fail   map[string]error
	block  chan struct{} // when set, Open waits for it
}

func newTenantStores(t testing.TB, n int) *tenantStores {
	ts := &tenantStores{stores: map[string]*memory.Store{}, opens: map[string]int{}, fail: map[string]error{}}
	for i := range n {
		st := memory.New()
		if _, err := st.Apply(context.Background(), tenantOrg(i)); err != nil {
			t.Fatal(err)
		}
		ts.stores[fmt.Sprint(i)] = st
	}
	return ts
}

func (ts *tenantStores) open(ctx context.Context, tenant string) (access.Store, error) {
	if ts.block != nil {
		<-ts.block
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.opens[tenant]++
	if err := ts.fail[tenant]; err != nil {
		return nil, err
	}
	st, ok := ts.stores[tenant]
	if !ok {
		return nil, fmt.Errorf("no tenant %q: %w", tenant, access.ErrNotFound)
	}
	return st, nil
}

func (ts *tenantStores) opened(tenant string) int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.opens[tenant]
}

func newPool(t testing.TB, o access.PoolOptions) *access.Pool {
	p, err := access.NewPool(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestPoolSingleFlight: a thousand concurrent first requests for one
// tenant load it once, and all get the same resolver.
func TestPoolSingleFlight(t *testing.T) {
	ts := newTenantStores(t, 1)
	ts.block = make(chan struct{})
	p := newPool(t, access.PoolOptions{Open: ts.open})
	var wg sync.WaitGroup
	got := make([]*access.Engine, 1000)
	errs := make([]error, len(got))
	for i := range got {
		wg.Go(func() { got[i], errs[i] = p.Get(context.Background(), "0") })
	}
	close(ts.block)
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i] != got[0] {
			t.Fatalf("request %d: %p, %v; want the one resolver %p", i, got[i], errs[i], got[0])
		}
	}
	if n := ts.opened("0"); n != 1 {
		t.Errorf("Open called %d times, want 1", n)
	}
	if s := p.Stats(); s.Loads != 1 || s.Resident != 1 || s.Bytes <= 0 {
		t.Errorf("Stats = %+v, want one load, one resident tenant with its bytes", s)
	}
}

// TestPoolTenantsApart: many tenants with the same ids and different
// rules, asked in an interleaved order from many goroutines: every answer
// is the asking tenant's, also while the budget evicts and reloads them.
func TestPoolTenantsApart(t *testing.T) {
	const tenants = 40
	ts := newTenantStores(t, tenants)
	probe := newPool(t, access.PoolOptions{Open: ts.open})
	e, err := probe.Get(context.Background(), "0")
	if err != nil {
		t.Fatal(err)
	}
	one := e.Stats().SnapshotBytes
	// Room for about a quarter of the tenants: loads evict all along.
	p := newPool(t, access.PoolOptions{Open: ts.open, Budget: one * tenants / 4})
	rec := access.Record{Type: "contact", ID: 5, Owner: 2}
	var wg sync.WaitGroup
	var wrong atomic.Int64
	for w := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range 500 {
				n := r.IntN(tenants)
				e, err := p.Get(context.Background(), fmt.Sprint(n))
				if err != nil {
					t.Error(err)
					return
				}
				d, err := e.Can(context.Background(), 1, access.Read, rec)
				if err != nil {
					// An evicted resolver may be closed under us; it
					// still answers from its last snapshot.
					t.Error(err)
					return
				}
				if d.Allowed != (n%2 == 0) {
					wrong.Add(1)
				}
				if a, err := e.AssociateByName(context.Background(), fmt.Sprintf("Anna of tenant %d", n)); err != nil || a.ID != 1 {
					wrong.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := wrong.Load(); n != 0 {
		t.Fatalf("%d answers came from another tenant", n)
	}
	s := p.Stats()
	if s.Evictions == 0 || s.Resident > tenants/4+1 {
		t.Errorf("Stats = %+v: want evictions and at most %d resident", s, tenants/4+1)
	}
	if s.Bytes > one*tenants/4+one {
		t.Errorf("resident bytes %d beyond the budget %d plus one tenant", s.Bytes, one*tenants/4)
	}
}

// TestPoolBudgetEvictsLeastRecentlyUsed: the tenant used last stays, the
// one used longest ago goes, and OnEvict hears of it.
func TestPoolBudgetEvictsLeastRecentlyUsed(t *testing.T) {
	ctx := context.Background()
	ts := newTenantStores(t, 4)
	probe := newPool(t, access.PoolOptions{Open: ts.open})
	e, err := probe.Get(ctx, "0")
	if err != nil {
		t.Fatal(err)
	}
	one := e.Stats().SnapshotBytes
	var evicted []string
	var mu sync.Mutex
	p := newPool(t, access.PoolOptions{Open: ts.open, Budget: 2*one + one/2, OnEvict: func(tn string) {
		mu.Lock()
		evicted = append(evicted, tn)
		mu.Unlock()
	}})
	for _, tn := range []string{"0", "1", "0", "2"} { // 1 is now the least recently used
		if _, err := p.Get(ctx, tn); err != nil {
			t.Fatal(err)
		}
	}
	// OnEvict runs after the load that evicted, outside the pool's lock.
	var got string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		mu.Lock()
		got = fmt.Sprint(evicted)
		mu.Unlock()
		if got != "[]" || time.Now().After(deadline) {
			break
		}
	}
	if got != "[1]" {
		t.Errorf("evicted %s, want [1]", got)
	}
	if _, err := p.Get(ctx, "0"); err != nil || ts.opened("0") != 2 { // one open by the probe
		t.Errorf("tenant 0 reloaded: opens %d, err %v; want it resident", ts.opened("0"), err)
	}
	if _, err := p.Get(ctx, "1"); err != nil || ts.opened("1") != 2 {
		t.Errorf("tenant 1 after eviction: opens %d, err %v; want one more load", ts.opened("1"), err)
	}
	if !p.Evict("1") || p.Evict("1") {
		t.Error("Evict: want true for a resident tenant, then false")
	}
}

// TestPoolLoadFailure: a failed load reaches every waiter, is counted,
// and is not kept: the next Get loads again.
func TestPoolLoadFailure(t *testing.T) {
	ctx := context.Background()
	ts := newTenantStores(t, 1)
	boom := errors.New("boom")
	ts.fail["0"] = boom
	p := newPool(t, access.PoolOptions{Open: ts.open})
	if _, err := p.Get(ctx, "0"); !errors.Is(err, boom) {
		t.Fatalf("Get = %v, want boom", err)
	}
	if _, err := p.Get(ctx, "nobody"); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("Get of an unknown tenant = %v, want ErrNotFound", err)
	}
	delete(ts.fail, "0")
	if _, err := p.Get(ctx, "0"); err != nil {
		t.Fatalf("Get after the failure cleared: %v", err)
	}
	if s := p.Stats(); s.LoadFailures != 2 || s.Loads != 3 || s.Resident != 1 {
		t.Errorf("Stats = %+v, want 3 loads, 2 failures, 1 resident", s)
	}
}

// TestPoolWaitHonoursContext: a request that gives up while the tenant
// loads gets its context's error; the load completes for the next one.
func TestPoolWaitHonoursContext(t *testing.T) {
	ts := newTenantStores(t, 1)
	ts.block = make(chan struct{})
	p := newPool(t, access.PoolOptions{Open: ts.open})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Get(ctx, "0"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with a cancelled context = %v", err)
	}
	close(ts.block)
	if _, err := p.Get(context.Background(), "0"); err != nil || ts.opened("0") != 1 {
		t.Fatalf("Get after: %v, opens %d; want the one load", err, ts.opened("0"))
	}
}

// TestPoolChangeWakesOnlyItsTenant: a write to one tenant's store shows
// in that tenant's resolver; another tenant's stays at its revision.
func TestPoolChangeWakesOnlyItsTenant(t *testing.T) {
	ctx := context.Background()
	ts := newTenantStores(t, 2)
	p := newPool(t, access.PoolOptions{Open: ts.open})
	e0, _ := p.Get(ctx, "0")
	e1, err := p.Get(ctx, "1")
	if err != nil {
		t.Fatal(err)
	}
	rev1 := e1.Revision()
	a := tenantOrg(0).Associates[0]
	a.Name = "Anna renamed"
	if _, err := ts.stores["0"].Apply(ctx, access.Batch{Associates: []access.Associate{a}}); err != nil {
		t.Fatal(err)
	}
	if a, err := e0.AssociateByName(ctx, "Anna renamed"); err != nil || a.ID != 1 {
		t.Errorf("tenant 0 after its write: %+v, %v", a, err)
	}
	if e1.Revision() != rev1 {
		t.Errorf("tenant 1 moved from revision %d to %d on tenant 0's write", rev1, e1.Revision())
	}
}

// TestPoolTenantsListsResidents: Tenants lists the resident tenants, most
// recently used first, with their snapshot's size and revision; an
// evicted tenant is gone from the list.
func TestPoolTenantsListsResidents(t *testing.T) {
	ctx := context.Background()
	ts := newTenantStores(t, 3)
	p := newPool(t, access.PoolOptions{Open: ts.open})
	for _, tenant := range []string{"0", "1", "2", "0"} {
		if _, err := p.Get(ctx, tenant); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ts.stores["1"].Apply(ctx, access.Batch{Groups: []access.Group{{ID: 11, Name: "Bergen"}}}); err != nil {
		t.Fatal(err)
	}
	e1, _ := p.Get(ctx, "1")
	if err := e1.Sync(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if top := p.Tenants(1); len(top) != 1 || top[0].Tenant != "1" {
		t.Errorf("Tenants(1) = %+v, want tenant 1 alone", top)
	}
	got := p.Tenants(0)
	var names []string
	var sum int64
	for _, x := range got {
		names = append(names, x.Tenant)
		sum += x.Bytes
		e, _ := p.Get(ctx, x.Tenant)
		if x.Bytes != e.Stats().SnapshotBytes || x.Bytes <= 0 {
			t.Errorf("tenant %s: %d bytes, its resolver says %d", x.Tenant, x.Bytes, e.Stats().SnapshotBytes)
		}
		if want := ts.stores[x.Tenant].Revision(); x.Revision != want {
			t.Errorf("tenant %s at revision %d, its store at %d", x.Tenant, x.Revision, want)
		}
	}
	if diff := cmp.Diff([]string{"1", "0", "2"}, names); diff != "" {
		t.Errorf("Tenants order (-want +got):\n%s", diff)
	}
	if !p.Evict("0") {
		t.Fatal("tenant 0 was not resident")
	}
	names = names[:0]
	for _, x := range p.Tenants(0) {
		names = append(names, x.Tenant)
	}
	if diff := cmp.Diff([]string{"2", "1"}, names); diff != "" {
		t.Errorf("Tenants after evicting 0 (-want +got):\n%s", diff)
	}
}

// TestPoolClosed: Close closes the residents, and Get refuses after it.
func TestPoolClosed(t *testing.T) {
	ts := newTenantStores(t, 1)
	p, err := access.NewPool(access.PoolOptions{Open: ts.open})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Get(context.Background(), "0"); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if _, err := p.Get(context.Background(), "0"); !errors.Is(err, access.ErrPoolClosed) {
		t.Errorf("Get after Close = %v", err)
	}
	if s := p.Stats(); s.Resident != 0 || s.Bytes != 0 {
		t.Errorf("Stats after Close = %+v", s)
	}
	if _, err := access.NewPool(access.PoolOptions{}); !errors.Is(err, access.ErrInvalid) {
		t.Errorf("NewPool without Open = %v, want ErrInvalid", err)
	}
}

// BenchmarkPoolCan: Can through a pool of many small tenants (orggen
// shapes of 20–200 associates) for a random resident tenant ("pool"),
// against the same random tenants' resolvers asked without the pool
// ("direct": what reaching a cold snapshot costs anyway) and one
// resolver asked again and again ("single": always in cache).
func BenchmarkPoolCan(b *testing.B) {
	tenants := 10000
	if testing.Short() {
		tenants = 1000
	}
	ctx := context.Background()
	stores := make([]*memory.Store, tenants)
	for i := range stores {
		stores[i] = memory.New()
		org := orggen.Generate(orggen.Config{Seed: uint64(i), Associates: 20 + i%181, Groups: 8, Roles: 4})
		if _, err := stores[i].Apply(ctx, org); err != nil {
			b.Fatal(err)
		}
	}
	open := func(_ context.Context, tenant string) (access.Store, error) {
		var n int
		fmt.Sscan(tenant, &n)
		return stores[n], nil
	}
	p, err := access.NewPool(access.PoolOptions{Open: open, Budget: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	names := make([]string, tenants)
	for i := range names {
		names[i] = fmt.Sprint(i)
		if _, err := p.Get(ctx, names[i]); err != nil {
			b.Fatal(err)
		}
	}
	s := p.Stats()
	b.Logf("%d tenants: %d resident, %d B each on average, %d evictions, %v per load", tenants, s.Resident, s.Bytes/int64(max(1, s.Resident)), s.Evictions, s.LoadTime/time.Duration(max(1, s.Loads)))
	rec := access.Record{Type: "contact", ID: 1, Owner: 3, Group: 2}
	b.Run("pool", func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 2))
		for b.Loop() {
			e, err := p.Get(ctx, names[r.IntN(tenants)])
			if err != nil {
				b.Fatal(err)
			}
			e.Can(ctx, 2, access.Read, rec)
		}
	})
	// The same random tenants asked directly, without the pool: the cost
	// of reaching a cold tenant's snapshot, which the pool cannot avoid.
	engines := make([]*access.Engine, tenants)
	for i := range engines {
		if engines[i], err = p.Get(ctx, names[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("direct", func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 2))
		for b.Loop() {
			engines[r.IntN(tenants)].Can(ctx, 2, access.Read, rec)
		}
	})
	// The same random tenants found by name in a plain map, as a service
	// that kept its own resolvers would: the pool's own cost is the
	// difference from this.
	byName := make(map[string]*access.Engine, tenants)
	for i, e := range engines {
		byName[names[i]] = e
	}
	b.Run("map", func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 2))
		for b.Loop() {
			byName[names[r.IntN(tenants)]].Can(ctx, 2, access.Read, rec)
		}
	})
	b.Run("single", func(b *testing.B) {
		e, err := p.Get(ctx, names[0])
		if err != nil {
			b.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		for b.Loop() {
			_ = r.IntN(tenants) // the same random draw as the pool's
			e.Can(ctx, 2, access.Read, rec)
		}
	})
}

// A SaaS answers for many organisations: a pool loads each tenant's
// resolver on first use and keeps the recently used ones within a memory
// budget. The same ids mean different people in different tenants.
func ExamplePool() {
	ctx := context.Background()
	stores := map[string]*memory.Store{}
	for i, tenant := range []string{"acme", "globex"} {
		st := memory.New()
		if _, err := st.Apply(ctx, tenantOrg(i)); err != nil {
			panic(err)
		}
		stores[tenant] = st
	}
	pool, err := access.NewPool(access.PoolOptions{
		Open: func(_ context.Context, tenant string) (access.Store, error) {
			st, ok := stores[tenant]
			if !ok {
				return nil, fmt.Errorf("tenant %q: %w", tenant, access.ErrNotFound)
			}
			return st, nil
		},
		Budget: 64 << 20, // bytes of compiled snapshots kept resident
	})
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	rec := access.Record{Type: "contact", ID: 5, Owner: 2}
	for _, tenant := range []string{"acme", "globex", "acme"} {
		r, err := pool.Get(ctx, tenant)
		if err != nil {
			panic(err)
		}
		d, _ := r.Can(ctx, 1, access.Read, rec)
		fmt.Printf("%s: %s\n", tenant, d)
	}
	_, err = pool.Get(ctx, "initech")
	fmt.Println(err)
	s := pool.Stats()
	fmt.Printf("%d resident, %d loads, %d failed\n", s.Resident, s.Loads, s.LoadFailures)
	// Output:
	// acme: allow: Anna of tenant 0 (1) may read contact 5; role Sales (1) grants R for other
	// globex: deny: Anna of tenant 1 (1) needs read on contact 5; role Sales (1) grants - for other; has -
	// acme: allow: Anna of tenant 0 (1) may read contact 5; role Sales (1) grants R for other
	// access: pool: loading tenant "initech": tenant "initech": not found
	// 2 resident, 3 loads, 1 failed
}
