package orggen_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/orggen"
	"github.com/crmaccess/access/store/memory"
)

// small is an organisation small enough to load in every test run but with
// every feature of the default one.
func small(seed uint64) orggen.Config {
	return orggen.Config{Seed: seed, Associates: 2000, Groups: 300, Roles: 20, SmartGroups: 8}
}

func TestGenerateLoads(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 5; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			b := orggen.Generate(small(seed))
			s := memory.New()
			if _, err := s.Apply(ctx, b); err != nil {
				t.Fatalf("Apply of the generated organisation: %v", err)
			}
			d, err := s.Changes(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(b, d.Batch); diff != "" {
				t.Errorf("the store holds a different organisation (-generated +stored):\n%s", diff)
			}
		})
	}
}

func TestGenerateDefaultLoads(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 100,000 associates")
	}
	if _, err := memory.New().Apply(context.Background(), orggen.Generate(orggen.Default())); err != nil {
		t.Fatalf("Apply of the default organisation: %v", err)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	a, b := orggen.Generate(small(7)), orggen.Generate(small(7))
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same config, different organisations (-first +second):\n%s", diff)
	}
	if c := orggen.Generate(small(8)); cmp.Equal(a, c) {
		t.Errorf("seeds 7 and 8 gave the same organisation")
	}
}

// TestGenerateShape checks that the default organisation has the
// proportions the benchmarks rely on.
func TestGenerateShape(t *testing.T) {
	cfg := orggen.Default()
	b := orggen.Generate(cfg)
	if got := len(b.Associates); got != cfg.Associates {
		t.Errorf("%d associates, want %d", got, cfg.Associates)
	}
	if got := len(b.Groups); got != cfg.Groups {
		t.Errorf("%d groups, want %d", got, cfg.Groups)
	}
	if got := len(b.Roles); got != cfg.Roles {
		t.Errorf("%d roles, want %d", got, cfg.Roles)
	}

	// Role tree depth.
	parent := map[access.RoleID]access.RoleID{}
	for _, r := range b.Roles {
		parent[r.ID] = r.Parent
	}
	deepest := 0
	for id := range parent {
		d := 0
		for r := id; parent[r] != 0; r = parent[r] {
			d++
		}
		deepest = max(deepest, d+1)
	}
	if deepest != cfg.RoleDepth {
		t.Errorf("role tree has %d levels, want %d", deepest, cfg.RoleDepth)
	}

	// Group kinds, shared children and nesting depth. The depth that
	// counts is the shortest way up to the farthest ancestor, since
	// explanations follow shortest paths.
	parents := map[access.GroupID][]access.GroupID{}
	var smart, roles, subs int
	for _, g := range b.Groups {
		for _, c := range g.Groups {
			parents[c] = append(parents[c], g.ID)
		}
		switch {
		case g.Smart != "":
			smart++
		case len(g.Roles) > 0:
			roles++
		case len(g.RolesAndSubordinates) > 0:
			subs++
		}
	}
	shared := 0
	for _, ps := range parents {
		if len(ps) > 1 {
			shared++
		}
	}
	deep := 0
	for _, g := range b.Groups {
		dist := map[access.GroupID]int{g.ID: 0}
		queue := []access.GroupID{g.ID}
		far := 0
		for len(queue) > 0 {
			x := queue[0]
			queue = queue[1:]
			for _, p := range parents[x] {
				if _, ok := dist[p]; !ok {
					dist[p] = dist[x] + 1
					far = max(far, dist[p])
					queue = append(queue, p)
				}
			}
		}
		if far >= 6 {
			deep++
		}
	}
	if smart != cfg.SmartGroups {
		t.Errorf("%d smart groups, want %d", smart, cfg.SmartGroups)
	}
	near := func(what string, got int, share float64) {
		want := share * float64(cfg.Groups)
		if float64(got) < 0.8*want || float64(got) > 1.2*want {
			t.Errorf("%d %s, want about %.0f", got, what, want)
		}
	}
	near("role groups", roles, cfg.RoleGroups)
	near("groups with subordinates", subs, cfg.SubordinateGroups)
	if shared < cfg.Groups/100 {
		t.Errorf("%d groups have two parents, want at least %d", shared, cfg.Groups/100)
	}
	if deep < cfg.Groups/4 {
		t.Errorf("%d groups nest 6 or more deep, want at least %d", deep, cfg.Groups/4)
	}

	// Associates: types, links, and every smart rule matching someone.
	rules := map[access.GroupID]*access.SmartRule{}
	for _, g := range b.Groups {
		if g.Smart != "" {
			r, err := access.ParseSmartRule(g.Smart)
			if err != nil {
				t.Fatalf("group %d: %v", g.ID, err)
			}
			rules[g.ID] = r
		}
	}
	matched := map[access.GroupID]int{}
	types := map[access.AssociateType]int{}
	secondaries := map[int]int{}
	for i := range b.Associates {
		a := &b.Associates[i]
		types[a.Type]++
		if a.Type != access.Internal {
			continue
		}
		secondaries[len(a.Groups)]++
		for id, r := range rules {
			if r.Match(a) {
				matched[id]++
			}
		}
	}
	if got, want := float64(types[access.Internal])/float64(cfg.Associates), cfg.Internal; got < want-0.01 || got > want+0.01 {
		t.Errorf("%.3f of associates are internal, want %.2f", got, want)
	}
	for _, typ := range []access.AssociateType{access.Resource, access.External, access.System, access.Anonymous} {
		if types[typ] == 0 {
			t.Errorf("no %s associates", typ)
		}
	}
	for n := range 4 {
		if secondaries[n] == 0 {
			t.Errorf("no internal associate has %d secondary groups", n)
		}
	}
	for id := range rules {
		if matched[id] == 0 {
			t.Errorf("smart group %d's rule %q matches nobody", id, rules[id])
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	cfg := orggen.Default()
	for b.Loop() {
		orggen.Generate(cfg)
	}
}
