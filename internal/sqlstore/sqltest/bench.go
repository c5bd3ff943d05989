package sqltest

import (
	"context"
	"testing"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/orggen"
)

// importBatch is how many associates Import writes per batch.
const importBatch = 5000

// importOrg writes org in batches: the roles and groups, then the
// associates importBatch at a time.
func importOrg(tb testing.TB, s Store, org *access.Batch) {
	ctx := context.Background()
	if _, err := s.Apply(ctx, access.Batch{Roles: org.Roles, Groups: org.Groups}); err != nil {
		tb.Fatal(err)
	}
	for assocs := org.Associates; len(assocs) > 0; {
		n := min(importBatch, len(assocs))
		if _, err := s.Apply(ctx, access.Batch{Associates: assocs[:n]}); err != nil {
			tb.Fatal(err)
		}
		assocs = assocs[n:]
	}
}

// Imported is the database BenchmarkOrg filled, for an adapter's own
// benchmarks on it.
type Imported struct {
	// Addr is the database's address.
	Addr string
	// Store is open on it, and closed when the benchmark ends.
	Store Store
	// Org is what was imported.
	Org access.Batch
}

// BenchmarkOrg runs sub-benchmarks on orggen's default organisation of
// 100,000 associates, 10,000 groups and 50 roles: Import writes it into a
// new database, FullLoad reads it whole. Run it with -benchtime=1x: one
// import takes seconds.
func BenchmarkOrg(b *testing.B, e Engine) Imported {
	ctx := context.Background()
	org := orggen.Generate(orggen.Default())
	var addr string
	b.Run("Import", func(sb *testing.B) {
		for range sb.N {
			sb.StopTimer()
			addr = e.NewDB(b)
			s := e.open(sb, addr, nil)
			sb.StartTimer()
			importOrg(sb, s, &org)
			sb.StopTimer()
			s.Close()
		}
		sb.ReportMetric(float64(len(org.Associates))*float64(sb.N)/sb.Elapsed().Seconds(), "associates/s")
	})

	s := e.open(b, addr, nil)
	b.Run("FullLoad", func(sb *testing.B) {
		for range sb.N {
			d, err := s.Changes(ctx, 0)
			if err != nil {
				sb.Fatal(err)
			}
			if len(d.Associates) != len(org.Associates) || len(d.Groups) != len(org.Groups) || len(d.Roles) != len(org.Roles) {
				sb.Fatalf("loaded %d roles, %d groups, %d associates", len(d.Roles), len(d.Groups), len(d.Associates))
			}
		}
	})
	return Imported{Addr: addr, Store: s, Org: org}
}
