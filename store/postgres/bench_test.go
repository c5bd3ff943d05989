package postgres

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/crmaccess/access"
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
