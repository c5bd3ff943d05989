package postgres

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/cputime"
	"github.com/crmaccess/access/internal/orggen"
	"github.com/crmaccess/access/internal/sqlstore/sqltest"
)

// BenchmarkOrg imports orggen's 100,000-associate, 10,000-group, 50-role
// organisation, loads it whole (see [sqltest.BenchmarkOrg]), and measures
// how soon a write through one Store reaches a watcher of another Store on
// its own pool. Run it with -benchtime=1x: one import takes seconds.
func BenchmarkOrg(b *testing.B) {
	testDSN(b)
	ctx := context.Background()
	db := sqltest.BenchmarkOrg(b, engine)
	s, assocs, groups := db.Store, db.Org.Associates, db.Org.Groups

	// ResolverLoad: from the database to a resolver ready to answer.
	b.Run("ResolverLoad", func(sb *testing.B) {
		for range sb.N {
			r, err := access.NewResolver(ctx, s, &access.Options{PollInterval: -1})
			if err != nil {
				sb.Fatal(err)
			}
			r.Close()
		}
	})

	// ResolverLatency: a membership change committed through one Store is
	// visible to a resolver on another Store and pool; the median over 50
	// changes.
	b.Run("ResolverLatency", func(sb *testing.B) {
		other := open(sb, db.Addr, nil)
		r, err := access.NewResolver(ctx, other, &access.Options{PollInterval: -1})
		if err != nil {
			sb.Fatal(err)
		}
		defer r.Close()
		var lat []time.Duration
		for range sb.N {
			lat = lat[:0]
			for i := range 50 {
				a := assocs[i*11+3]
				g := groups[(i*17)%len(groups)]
				if a.Type != access.Internal || g.Smart != "" || g.ID == a.PrimaryGroup {
					continue
				}
				a.Groups = []access.GroupID{g.ID}
				start := time.Now()
				if _, err := s.Apply(ctx, access.Batch{Associates: []access.Associate{a}}); err != nil {
					sb.Fatal(err)
				}
				for {
					if ok, _ := r.IsMember(ctx, a.ID, g.ID); ok {
						break
					}
					if time.Since(start) > 10*time.Second {
						sb.Fatalf("change %d not visible after 10 s", i)
					}
					time.Sleep(100 * time.Microsecond)
				}
				lat = append(lat, time.Since(start))
			}
		}
		slices.Sort(lat)
		sb.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-median")
		sb.ReportMetric(float64(lat[len(lat)*9/10].Microseconds())/1000, "ms-p90")
	})

	b.Run("NotifyLatency", func(sb *testing.B) {
		other := open(sb, db.Addr, nil)
		got := make(chan access.Revision, 100)
		stop := other.Watch(func(rev access.Revision) { got <- rev })
		defer stop()
		sqltest.WaitHealthy(sb, other)
		drain := func() {
			for {
				select {
				case <-got:
				default:
					return
				}
			}
		}
		const changes = 50
		var lat []time.Duration
		sb.ResetTimer()
		for range sb.N {
			lat = lat[:0]
			for i := range changes {
				a := assocs[i*7]
				if a.Type != access.Internal {
					continue
				}
				a.Groups = append(slices.Clone(a.Groups[:0:0]), groups[(i*13)%len(groups)].ID)
				if groups[(i*13)%len(groups)].Smart != "" || a.Groups[0] == a.PrimaryGroup {
					a.Groups = nil
				}
				drain()
				start := time.Now()
				rev, err := s.Apply(ctx, access.Batch{Associates: []access.Associate{a}})
				if err != nil {
					sb.Fatal(err)
				}
				for r := range got {
					if r >= rev {
						break
					}
				}
				lat = append(lat, time.Since(start))
			}
		}
		sb.StopTimer()
		slices.Sort(lat)
		sb.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms/median")
		sb.ReportMetric(float64(lat[len(lat)*9/10].Microseconds())/1000, "ms/p90")
		sb.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "ms/max")
	})
}

// BenchmarkScale sizes a machine for PostgreSQL: at each size of
// orggen's default shape (one group per ten associates up to 10,000
// groups, as the root BenchmarkScale) it imports the organisation into a
// new schema in one Apply (import-ms; from 100,000 rows on the import
// suspends the foreign keys, see the package documentation), and builds a
// cold resolver over it (cold-ms: NewResolver reading the whole model and
// compiling it), each also in CPU time of this process (import-cpu-ms,
// cold-cpu-ms: the collector's work included, the server's and other
// processes' excluded; on a shared machine a steadier measure). Before the
// cold build the imported batch is dropped and the garbage collected, as
// in a process that starts cold. Run it with -benchtime=1x; the 1M size
// takes about a minute and 2 GB of the database's disk:
//
//	go test ./store/postgres -run '^$' -bench 'Scale/1M' -benchtime 1x
func BenchmarkScale(b *testing.B) {
	testDSN(b)
	for _, sz := range []struct {
		name string
		n    int
	}{{"1k", 1_000}, {"10k", 10_000}, {"100k", 100_000}, {"1M", 1_000_000}} {
		b.Run(sz.name, func(b *testing.B) {
			ctx := context.Background()
			var imp, cold, impCPU, coldCPU time.Duration
			for range b.N {
				b.StopTimer()
				org := orggen.Generate(orggen.Config{Associates: sz.n, Groups: min(max(sz.n/10, 10), 10_000)})
				s := open(b, newSchema(b), nil)
				b.StartTimer()
				start, cpu := time.Now(), cputime.Process()
				if _, err := s.Apply(ctx, org); err != nil {
					b.Fatal(err)
				}
				imp += time.Since(start)
				impCPU += cputime.Process() - cpu
				b.StopTimer()
				org = access.Batch{}
				runtime.GC()
				b.StartTimer()
				start, cpu = time.Now(), cputime.Process()
				r, err := access.NewResolver(ctx, s, &access.Options{PollInterval: -1})
				if err != nil {
					b.Fatal(err)
				}
				cold += time.Since(start)
				coldCPU += cputime.Process() - cpu
				b.StopTimer()
				r.Close()
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(imp.Milliseconds())/float64(b.N), "import-ms")
			b.ReportMetric(float64(cold.Milliseconds())/float64(b.N), "cold-ms")
			b.ReportMetric(float64(impCPU.Milliseconds())/float64(b.N), "import-cpu-ms")
			b.ReportMetric(float64(coldCPU.Milliseconds())/float64(b.N), "cold-cpu-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}
