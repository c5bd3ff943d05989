package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/orggen"
)

// The tenant benchmarks' dataset: tenant i lives in schema
// bench_tenant_NNNNN of the test database and holds orggen's organisation
// of seed i+1 with 20 + i%181 associates (20 to 200), 8 groups and 4
// roles. The schemas are made once and kept for later runs (a row in
// public.access_bench_tenant marks each one loaded); drop them with
//
//	DROP SCHEMA bench_tenant_00000 CASCADE; … DROP TABLE public.access_bench_tenant;
//
// or by dropping the database.
func benchOrg(i int) access.Batch {
	return orggen.Generate(orggen.Config{Seed: uint64(i) + 1, Associates: 20 + i%181, Groups: 8, Roles: 4})
}

func benchSchema(i int) string { return fmt.Sprintf("bench_tenant_%05d", i) }

// envInt reads a positive integer from the environment, or def.
func envInt(tb testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// parallel runs fn(i) for i in [0, n) on workers goroutines and returns the
// first error.
func parallel(n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// setupTenants makes sure tenants 0…n-1 exist, migrated and loaded,
// creating the missing ones over pool with workers at once.
func setupTenants(b *testing.B, pool *pgxpool.Pool, n, workers int) {
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "CREATE TABLE IF NOT EXISTS public.access_bench_tenant (n integer PRIMARY KEY)"); err != nil {
		b.Fatal(err)
	}
	have := make([]bool, n)
	rows, err := pool.Query(ctx, "SELECT n FROM public.access_bench_tenant WHERE n < $1", n)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var i int
		if err := rows.Scan(&i); err != nil {
			b.Fatal(err)
		}
		have[i] = true
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	var missing []int
	for i, ok := range have {
		if !ok {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return
	}
	start := time.Now()
	var done atomic.Int64
	err = parallel(len(missing), workers, func(k int) error {
		i := missing[k]
		s, err := New(ctx, pool, &Options{Schema: benchSchema(i)})
		if err != nil {
			return err
		}
		defer s.Close()
		if err := s.Migrate(ctx); err != nil {
			return fmt.Errorf("tenant %d: %w", i, err)
		}
		if rev, _ := s.Revision(ctx); rev == 0 {
			if _, err := s.Apply(ctx, benchOrg(i)); err != nil {
				return fmt.Errorf("tenant %d: %w", i, err)
			}
		}
		if _, err := pool.Exec(ctx, "INSERT INTO public.access_bench_tenant VALUES ($1) ON CONFLICT DO NOTHING", i); err != nil {
			return err
		}
		if d := done.Add(1); d%500 == 0 {
			fmt.Fprintf(os.Stderr, "BenchmarkTenants: %d of %d tenants made in %v\n", d, len(missing), time.Since(start).Round(time.Second))
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("made %d tenant schemas in %v", len(missing), time.Since(start).Round(time.Millisecond))
}

// median returns the median of ds, which it sorts.
func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// tenantsWith returns up to max tenants below n holding associates
// associates, cycling through them when there are fewer.
func tenantsWith(n, associates, max int) []int {
	var ids []int
	for i := associates - 20; i < n; i += 181 {
		ids = append(ids, i)
	}
	if len(ids) == 0 {
		return nil
	}
	out := make([]int, max)
	for k := range out {
		out[k] = ids[k%len(ids)]
	}
	return out
}

// BenchmarkTenants measures a service with many tenants in one
// PostgreSQL database, each in a schema of its own, served by one
// connection pool (8 connections) and one Listener. The tenant count is
// ACCESS_BENCH_TENANTS (default 200; the full size is 10000), made with
// ACCESS_BENCH_WORKERS goroutines (default 4) on first use and kept for
// later runs (see benchOrg). Run it with -benchtime=1x:
//
//	ACCESS_BENCH_TENANTS=10000 go test ./store/postgres -run '^$' -bench BenchmarkTenants -benchtime 1x -timeout 3h
//
// Each sub-benchmark reports its figures as metrics: medians in ms, sizes
// in bytes.
func BenchmarkTenants(b *testing.B) {
	dsn := testDSN(b)
	n := envInt(b, "ACCESS_BENCH_TENANTS", 200)
	workers := envInt(b, "ACCESS_BENCH_WORKERS", 4)
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 8
	// A connection caches catalog entries for every schema it has served
	// (a quarter of a megabyte per tenant): recycle connections, as the
	// README advises, or 8 connections that each served 10,000 tenants
	// would hold 20 GB.
	cfg.MaxConnLifetime, cfg.MaxConnLifetimeJitter = time.Minute, 10*time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	setupTenants(b, pool, n, workers)
	ln, err := NewListener(dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	// The resolvers follow their Stores through the Listener alone: no
	// polling (10,000 tenants polling each second would be 10,000 queries a
	// second) and so no staleness bound, which a quiet tenant would pass.
	ropts := &access.Options{PollInterval: -1, MaxStaleness: -1}
	openStore := func(i int) (*Store, error) {
		return New(ctx, pool, &Options{Schema: benchSchema(i), Listener: ln})
	}

	// ColdLoad200: a 200-associate tenant from nothing in the process to
	// a resolver ready to answer: the Store over the shared pool, then the
	// resolver's first load; the median over 30 loads.
	b.Run("ColdLoad200", func(b *testing.B) {
		ids := tenantsWith(n, 200, 30)
		if ids == nil {
			b.Skip("no 200-associate tenant: ACCESS_BENCH_TENANTS < 181")
		}
		var lat []time.Duration
		for range b.N {
			for _, i := range ids {
				start := time.Now()
				s, err := openStore(i)
				if err != nil {
					b.Fatal(err)
				}
				e, err := access.NewResolver(ctx, s, ropts)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
				e.Close()
				s.Close()
			}
		}
		b.ReportMetric(float64(median(lat).Microseconds())/1000, "ms-median")
		b.ReportMetric(float64(slices.Max(lat).Microseconds())/1000, "ms-max")
	})

	// Resident100: the memory a 100-associate tenant's resolver keeps: the
	// snapshot's own estimate (Stats.SnapshotBytes), and the Go heap that
	// 30 such resolvers with their Stores hold, per resolver.
	b.Run("Resident100", func(b *testing.B) {
		ids := tenantsWith(n, 100, 30)
		if ids == nil {
			b.Skip("no 100-associate tenant: ACCESS_BENCH_TENANTS < 81")
		}
		for range b.N {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			stores := make([]*Store, len(ids))
			engines := make([]*access.Engine, len(ids))
			var est []int64
			for k, i := range ids {
				if stores[k], err = openStore(i); err != nil {
					b.Fatal(err)
				}
				if engines[k], err = access.NewResolver(ctx, stores[k], ropts); err != nil {
					b.Fatal(err)
				}
				est = append(est, engines[k].Stats().SnapshotBytes)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			slices.Sort(est)
			b.ReportMetric(float64(est[len(est)/2]), "snapshot-B")
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(len(ids)), "heap-B/tenant")
			for k := range ids {
				engines[k].Close()
				stores[k].Close()
			}
		}
	})

	// ChangeVisible: every tenant's resolver follows its Store, all
	// through the one Listener; a write to one tenant, made by another
	// Store as another process would, is visible to that tenant's
	// resolver after the median reported, and no other tenant's resolver
	// moves.
	b.Run("ChangeVisible", func(b *testing.B) {
		stores := make([]*Store, n)
		engines := make([]*access.Engine, n)
		defer func() {
			for i := range n {
				if engines[i] != nil {
					engines[i].Close()
				}
				if stores[i] != nil {
					stores[i].Close()
				}
			}
		}()
		start := time.Now()
		err := parallel(n, workers, func(i int) error {
			s, err := openStore(i)
			if err != nil {
				return err
			}
			stores[i] = s
			engines[i], err = access.NewResolver(ctx, s, ropts)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("%d resolvers following through one Listener, loaded in %v", n, time.Since(start).Round(time.Millisecond))
		// Wait until every Store is listening, so a write's
		// notification has somewhere to go.
		for i := range n {
			for stores[i].Health() != nil {
				time.Sleep(time.Millisecond)
			}
		}
		for range b.N {
			revs := make([]access.Revision, n)
			for i := range n {
				revs[i] = engines[i].Revision()
			}
			r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
			changed := map[int]bool{}
			var lat []time.Duration
			for k := range 50 {
				i := r.IntN(n)
				changed[i] = true
				w, err := New(ctx, pool, &Options{Schema: benchSchema(i)})
				if err != nil {
					b.Fatal(err)
				}
				role := benchOrg(i).Roles[0]
				role.Name = fmt.Sprintf("renamed %d %d", k, time.Now().UnixNano())
				start := time.Now()
				rev, err := w.Apply(ctx, access.Batch{Roles: []access.Role{role}})
				if err != nil {
					b.Fatal(err)
				}
				for engines[i].Revision() < rev {
					time.Sleep(50 * time.Microsecond)
				}
				lat = append(lat, time.Since(start))
				w.Close()
			}
			moved := 0
			for i := range n {
				if !changed[i] && engines[i].Revision() != revs[i] {
					moved++
				}
			}
			if moved > 0 {
				b.Fatalf("%d resolvers of tenants nobody wrote to moved", moved)
			}
			b.ReportMetric(float64(median(lat).Microseconds())/1000, "ms-median")
			b.ReportMetric(float64(n-len(changed)), "untouched")
		}
	})

	// PoolCan: an access.Pool over every tenant, with a 1 GB budget and
	// each tenant's Store over the shared pool; Can for a random tenant
	// through the pool (Pool.Get and Can), against the same random
	// tenants' resolvers held directly (what the pool adds), and against
	// one resolver asked again and again (what a random tenant costs: its
	// snapshot is rarely in the CPU's caches).
	b.Run("PoolCan", func(b *testing.B) {
		var mu sync.Mutex
		open := map[string]*Store{}
		p, err := access.NewPool(access.PoolOptions{
			Budget:   1 << 30,
			Resolver: ropts,
			Open: func(ctx context.Context, tenant string) (access.Store, error) {
				i, _ := strconv.Atoi(tenant)
				s, err := openStore(i)
				if err != nil {
					return nil, err
				}
				mu.Lock()
				open[tenant] = s
				mu.Unlock()
				return s, nil
			},
			OnEvict: func(tenant string) {
				mu.Lock()
				s := open[tenant]
				delete(open, tenant)
				mu.Unlock()
				s.Close()
			},
		})
		if err != nil {
			b.Fatal(err)
		}
		defer func() {
			p.Close()
			for _, s := range open {
				s.Close()
			}
		}()
		names := make([]string, n)
		for i := range names {
			names[i] = strconv.Itoa(i)
		}
		start := time.Now()
		if err := parallel(n, workers, func(i int) error { _, err := p.Get(ctx, names[i]); return err }); err != nil {
			b.Fatal(err)
		}
		st := p.Stats()
		b.Logf("%d tenants loaded in %v: %d resident, %d MB, %d B each on average, %d evictions, %v per load",
			n, time.Since(start).Round(time.Millisecond), st.Resident, st.Bytes>>20, st.Bytes/int64(max(1, st.Resident)), st.Evictions,
			st.LoadTime/time.Duration(max(1, st.Loads)))
		rec := access.Record{Type: "contact", ID: 1, Owner: 3, Group: 2}
		engines := make([]*access.Engine, n)
		for i := range engines {
			if engines[i], err = p.Get(ctx, names[i]); err != nil {
				b.Fatal(err)
			}
		}
		const asks = 2_000_000
		// ask times asks questions, each of the engine pick returns for
		// the next of the same random tenant draws.
		ask := func(pick func(i int) *access.Engine) float64 {
			r := rand.New(rand.NewPCG(1, 2))
			t0 := time.Now()
			for range asks {
				if _, err := pick(r.IntN(n)).Can(ctx, 2, access.Read, rec); err != nil {
					b.Fatal(err)
				}
			}
			return float64(time.Since(t0).Nanoseconds()) / asks
		}
		for range b.N {
			poolNs := ask(func(i int) *access.Engine {
				e, err := p.Get(ctx, names[i])
				if err != nil {
					b.Fatal(err)
				}
				return e
			})
			directNs := ask(func(i int) *access.Engine { return engines[i] })
			singleNs := ask(func(int) *access.Engine { return engines[0] })
			b.ReportMetric(poolNs, "pool-ns/Can")
			b.ReportMetric(directNs, "direct-ns/Can")
			b.ReportMetric(singleNs, "single-ns/Can")
			b.ReportMetric(poolNs/directNs, "pool/direct")
			b.ReportMetric(poolNs/singleNs, "pool/single")
			b.ReportMetric(float64(p.Stats().Resident), "resident")
		}
	})
}

// BenchmarkSchemaOption measures what Options.Schema costs: the same
// tenant read and written by a Store whose schema comes from the DSN's
// search_path and by one opened with Options.Schema over a shared pool,
// whose transactions set the search_path in BEGIN's round trip.
func BenchmarkSchemaOption(b *testing.B) {
	ctx := context.Background()
	dsn := newSchema(b)
	viaDSN := open(b, dsn, nil)
	pool, err := pgxpool.New(ctx, testDSN(b))
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	viaOpt, err := New(ctx, pool, &Options{Schema: viaDSN.Schema()})
	if err != nil {
		b.Fatal(err)
	}
	defer viaOpt.Close()
	if _, err := viaDSN.Apply(ctx, benchOrg(80)); err != nil {
		b.Fatal(err)
	}
	// Each operation is timed on the two Stores alternately, so that a
	// busy machine slows both alike; ratio is schema over dsn.
	paired := func(b *testing.B, op func(s *Store, k int) error) {
		var dsnT, optT time.Duration
		k := 0
		for b.Loop() {
			k++
			t0 := time.Now()
			if err := op(viaDSN, k); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if err := op(viaOpt, k); err != nil {
				b.Fatal(err)
			}
			dsnT += t1.Sub(t0)
			optT += time.Since(t1)
		}
		b.ReportMetric(float64(dsnT.Microseconds())/float64(k), "dsn-µs/op")
		b.ReportMetric(float64(optT.Microseconds())/float64(k), "schema-µs/op")
		b.ReportMetric(float64(optT)/float64(dsnT), "ratio")
	}
	// Changes: a resolver's poll that finds nothing new; Revision: a
	// statement outside a transaction, which Options.Schema runs in a
	// short one.
	b.Run("Changes", func(b *testing.B) {
		paired(b, func(s *Store, _ int) error { _, err := s.Changes(ctx, 1); return err })
	})
	b.Run("Revision", func(b *testing.B) {
		paired(b, func(s *Store, _ int) error { _, err := s.Revision(ctx); return err })
	})
	b.Run("Load", func(b *testing.B) {
		paired(b, func(s *Store, _ int) error { _, err := s.Changes(ctx, 0); return err })
	})
	b.Run("Apply", func(b *testing.B) {
		paired(b, func(s *Store, k int) error {
			_, err := s.Apply(ctx, access.Batch{Roles: []access.Role{{ID: 100, Name: fmt.Sprint("r", k)}}})
			return err
		})
	})
}
