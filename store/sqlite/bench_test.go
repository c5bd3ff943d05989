package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/crmaccess/access"
)

// The generator is store/postgres's, so that the two stores' numbers
// describe the same organisation.

// orgSize sizes a generated organisation.
type orgSize struct {
	Roles, Groups, Associates int
}

// genOrg generates a deterministic organisation: a role tree four wide; a
// forest of groups, each below a lower-numbered parent that lists it, some
// listing roles, a few smart; and associates of every type, mostly
// internal with a primary group and up to three secondary groups.
func genOrg(sz orgSize) (roles []access.Role, groups []access.Group, assocs []access.Associate) {
	rng := rand.New(rand.NewPCG(1, 2))
	types := []string{"contact", "sale", "project", "document"}
	for i := 1; i <= sz.Roles; i++ {
		r := access.Role{ID: access.RoleID(i), Name: fmt.Sprintf("role %d", i), Rights: map[string]access.Grid{}}
		if i > 1 {
			r.Parent = access.RoleID(1 + (i-2)/4)
		}
		for _, t := range types[:1+rng.IntN(len(types))] {
			r.Rights[t] = access.Grid{
				access.Owner:        access.LevelFull,
				access.PrimaryGroup: access.CRUD(rng.IntN(16)),
				access.Other:        access.CRUD(rng.IntN(2)),
			}
		}
		r.Rights[access.Wildcard] = access.Grid{access.Owner: access.LevelFull}
		if i%5 == 0 {
			r.Functions = []string{"export-selection"}
		}
		roles = append(roles, r)
	}
	smart := map[access.GroupID]bool{}
	tops := max(1, sz.Groups/100)
	groups = make([]access.Group, sz.Groups)
	for i := range groups {
		id := access.GroupID(i + 1)
		g := &groups[i]
		*g = access.Group{ID: id, Name: fmt.Sprintf("group %d", id)}
		switch {
		case i%500 == 499:
			g.Smart = fmt.Sprintf(`attr.dept == "d%d"`, rng.IntN(20))
			smart[id] = true
			continue
		case i%20 == 0:
			g.Roles = []access.RoleID{access.RoleID(1 + rng.IntN(sz.Roles))}
		case i%20 == 1:
			g.RolesAndSubordinates = []access.RoleID{access.RoleID(1 + rng.IntN(sz.Roles))}
		}
		if i >= tops {
			// Choose a non-smart parent below this group's id.
			p := access.GroupID(1 + rng.IntN(i))
			for smart[p] {
				p--
			}
			if p > 0 {
				groups[p-1].Groups = append(groups[p-1].Groups, id)
			}
		}
	}
	plain := func() access.GroupID {
		for {
			if g := access.GroupID(1 + rng.IntN(sz.Groups)); !smart[g] {
				return g
			}
		}
	}
	for i := 1; i <= sz.Associates; i++ {
		a := access.Associate{
			ID: access.AssociateID(i), Name: fmt.Sprintf("user%06d", i), Active: i%50 != 0,
			Role:       access.RoleID(1 + rng.IntN(sz.Roles)),
			Attributes: map[string]string{"dept": fmt.Sprintf("d%d", rng.IntN(20)), "city": fmt.Sprintf("c%d", rng.IntN(100))},
		}
		switch n := i % 100; {
		case n < 90:
			a.Type = access.Internal
			a.PrimaryGroup = plain()
			for range rng.IntN(4) {
				if g := plain(); g != a.PrimaryGroup && !slices.Contains(a.Groups, g) {
					a.Groups = append(a.Groups, g)
				}
			}
		case n < 93:
			a.Type, a.Role, a.Attributes = access.Resource, 0, nil
		case n < 98:
			a.Type, a.Company, a.Projects = access.External, int64(1+rng.IntN(1000)), []int64{int64(rng.IntN(500))}
		default:
			a.Type = access.System
		}
		if i%10 == 0 {
			a.ValidTo = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		assocs = append(assocs, a)
	}
	return roles, groups, assocs
}

// importOrg writes the organisation in batches: the roles and groups, then
// the associates importBatch at a time.
const importBatch = 5000

func importOrg(tb testing.TB, s *Store, roles []access.Role, groups []access.Group, assocs []access.Associate) {
	ctx := context.Background()
	if _, err := s.Apply(ctx, access.Batch{Roles: roles, Groups: groups}); err != nil {
		tb.Fatal(err)
	}
	for len(assocs) > 0 {
		n := min(importBatch, len(assocs))
		if _, err := s.Apply(ctx, access.Batch{Associates: assocs[:n]}); err != nil {
			tb.Fatal(err)
		}
		assocs = assocs[n:]
	}
}

var benchSize = orgSize{Roles: 50, Groups: 10_000, Associates: 100_000}

// BenchmarkOrg imports a 100,000-associate, 10,000-group, 50-role
// organisation into a file database and loads it whole. Run it with
// -benchtime=1x: one import takes seconds.
func BenchmarkOrg(b *testing.B) {
	ctx := context.Background()
	roles, groups, assocs := genOrg(benchSize)
	dir := b.TempDir()
	var path string
	b.Run("Import", func(sb *testing.B) {
		for i := range sb.N {
			sb.StopTimer()
			path = filepath.Join(dir, fmt.Sprintf("org%d.db", i))
			s := open(sb, path, nil)
			sb.StartTimer()
			importOrg(sb, s, roles, groups, assocs)
			sb.StopTimer()
			s.Close()
		}
		sb.ReportMetric(float64(len(assocs))*float64(sb.N)/sb.Elapsed().Seconds(), "associates/s")
	})
	s := open(b, path, nil)
	b.Run("FullLoad", func(sb *testing.B) {
		for range sb.N {
			d, err := s.Changes(ctx, 0)
			if err != nil {
				sb.Fatal(err)
			}
			if len(d.Associates) != len(assocs) || len(d.Groups) != len(groups) || len(d.Roles) != len(roles) {
				sb.Fatalf("loaded %d roles, %d groups, %d associates", len(d.Roles), len(d.Groups), len(d.Associates))
			}
		}
	})
}
