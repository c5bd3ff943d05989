package access_test

import (
	"cmp"
	"context"
	"flag"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/cputime"
	"github.com/crmaccess/access/internal/orggen"
	"github.com/crmaccess/access/store/memory"
)

// Benchmarks on the default orggen organisation (100,000 associates,
// 10,000 groups) in a memory store with a resolver following it. The
// targets: IsMember ≤ 150 ns and no allocation; a full compile ≤ 1 s and
// ≤ 200 MB of heap; a membership change visible ≤ 20 ms after the write.

// benchOrg is the organisation the benchmarks share. It is built once per
// process: generating and loading it takes seconds.
type benchOrg struct {
	batch  access.Batch
	store  *memory.Store
	engine *access.Engine
	// parents maps a group to the groups that list it.
	parents map[access.GroupID][]access.GroupID
	// pairs are random (internal associate, group) pairs, half of them
	// memberships, made on first use (memberPairs): a million
	// EffectiveGroups calls that only the IsMember benchmark needs.
	pairs     []memberPair
	pairsOnce sync.Once
	internal  []access.AssociateID
	groups    []access.GroupID
	// How long the setup took: generating the organisation, loading it
	// into the store, and NewResolver (Changes(0) and a full compile).
	generate, load, resolve time.Duration
}

type memberPair struct {
	a access.AssociateID
	g access.GroupID
}

var (
	benchOnce sync.Once
	benchData *benchOrg
)

// benchAssociates sizes the benchmark organisations (go test -bench …
// -args -associates 1000000): that many associates and a tenth as many
// groups, but at least orggen's default 10,000, since the write
// benchmarks need two group hierarchies eight levels deep; orggen's shape
// otherwise. 0 is orggen's default, 100,000 associates.
var benchAssociates = flag.Int("associates", 0, "associates in the benchmark organisations (0: orggen's default, 100,000)")

// benchConfig is the orggen configuration the benchmarks share.
func benchConfig() orggen.Config {
	cfg := orggen.Default()
	if n := *benchAssociates; n > 0 {
		cfg.Associates, cfg.Groups = n, max(cfg.Groups, n/10)
	}
	return cfg
}

func loadBenchOrg(b *testing.B) *benchOrg {
	b.Helper()
	benchOnce.Do(func() {
		ctx := context.Background()
		o := &benchOrg{}
		start := time.Now()
		o.batch = orggen.Generate(benchConfig())
		gen := time.Since(start)

		start = time.Now()
		o.store = memory.New()
		if _, err := o.store.Apply(ctx, o.batch.Clone()); err != nil {
			b.Fatalf("loading the organisation: %v", err)
		}
		load := time.Since(start)

		start = time.Now()
		e, err := access.NewResolver(ctx, o.store, &access.Options{PollInterval: -1})
		if err != nil {
			b.Fatalf("NewResolver: %v", err)
		}
		o.engine = e
		o.generate, o.load, o.resolve = gen, load, time.Since(start)

		o.parents = map[access.GroupID][]access.GroupID{}
		for _, g := range o.batch.Groups {
			o.groups = append(o.groups, g.ID)
			for _, c := range g.Groups {
				o.parents[c] = append(o.parents[c], g.ID)
			}
		}
		for _, a := range o.batch.Associates {
			if a.Type == access.Internal {
				o.internal = append(o.internal, a.ID)
			}
		}
		benchData = o
	})
	if benchData == nil {
		b.Fatal("the benchmark organisation failed to load")
	}
	return benchData
}

// memberPairs makes o.pairs, once.
func (o *benchOrg) memberPairs() []memberPair {
	o.pairsOnce.Do(func() {
		ctx, e := context.Background(), o.engine
		rng := rand.New(rand.NewPCG(1, 2))
		// A million pairs, so that the associates asked about are spread
		// over the whole organisation and their memberships are not all
		// in cache: the honest, memory-bound case.
		for len(o.pairs) < 1<<20 {
			a := o.internal[rng.IntN(len(o.internal))]
			g := o.groups[rng.IntN(len(o.groups))]
			if len(o.pairs)%2 == 0 {
				ms, err := e.EffectiveGroups(ctx, a)
				if err != nil || len(ms) == 0 {
					continue
				}
				g = ms[rng.IntN(len(ms))].Group
			}
			o.pairs = append(o.pairs, memberPair{a, g})
		}
	})
	return o.pairs
}

// BenchmarkSetup reports how long the shared setup took, once: generating
// the default organisation, loading it into a memory store in one batch,
// and NewResolver over the store (Changes(0) and a full compile).
func BenchmarkSetup(b *testing.B) {
	o := loadBenchOrg(b)
	for b.Loop() {
	}
	b.ReportMetric(float64(o.generate.Milliseconds()), "generate-ms")
	b.ReportMetric(float64(o.load.Milliseconds()), "load-ms")
	b.ReportMetric(float64(o.resolve.Milliseconds()), "resolver-ms")
	b.ReportMetric(0, "ns/op")
}

// upward returns the groups that include g, directly or not, with the
// shortest distance to each.
func (o *benchOrg) upward(g access.GroupID) map[access.GroupID]int {
	dist := map[access.GroupID]int{g: 0}
	queue := []access.GroupID{g}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		for _, p := range o.parents[x] {
			if _, ok := dist[p]; !ok {
				dist[p] = dist[x] + 1
				queue = append(queue, p)
			}
		}
	}
	return dist
}

// BenchmarkIsMember asks about random (associate, group) pairs, half of
// them memberships: each call touches memory the previous one did not, so
// this is the cold-cache cost. same-associate asks about one associate and
// random groups, as a request deciding many things for one user does.
func BenchmarkIsMember(b *testing.B) {
	o := loadBenchOrg(b)
	o.memberPairs()
	ctx := context.Background()
	// random-pairs cycles through 16,384 random pairs, the usual shape of
	// such a benchmark; spread uses a million, so that the associates asked
	// about span the whole organisation and their memberships are mostly
	// not in cache: the memory-bound case.
	for _, bb := range []struct {
		name string
		n    int
	}{{"random-pairs", 1 << 14}, {"spread", len(o.pairs)}} {
		b.Run(bb.name, func(b *testing.B) {
			mask := bb.n - 1
			hits := 0
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				p := o.pairs[i&mask]
				ok, err := o.engine.IsMember(ctx, p.a, p.g)
				if err != nil {
					b.Fatal(err)
				}
				if ok {
					hits++
				}
			}
			if b.N >= bb.n && hits < b.N/3 {
				b.Fatalf("only %d of %d pairs are memberships; the benchmark measures the wrong thing", hits, b.N)
			}
		})
	}
	b.Run("same-associate", func(b *testing.B) {
		a := o.pairs[0].a
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := o.engine.IsMember(ctx, a, o.pairs[i&(1<<14-1)].g); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEffectiveGroups(b *testing.B) {
	o := loadBenchOrg(b)
	ctx := context.Background()
	total := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ms, err := o.engine.EffectiveGroups(ctx, o.internal[(i*7919)%len(o.internal)])
		if err != nil {
			b.Fatal(err)
		}
		total += len(ms)
	}
	b.ReportMetric(float64(total)/float64(b.N), "groups/op")
}

func BenchmarkMembers(b *testing.B) {
	o := loadBenchOrg(b)
	ctx := context.Background()
	// A top group of the hierarchy has thousands of members, a team a few.
	var top, team []access.GroupID
	for _, g := range o.batch.Groups {
		switch {
		case len(o.parents[g.ID]) == 0 && len(g.Groups) > 0:
			top = append(top, g.ID)
		case len(g.Groups) == 0 && g.Smart == "" && len(g.Roles)+len(g.RolesAndSubordinates) == 0:
			team = append(team, g.ID)
		}
	}
	for _, bb := range []struct {
		name   string
		groups []access.GroupID
	}{{"all", o.groups}, {"top", top}, {"team", team}} {
		b.Run(bb.name, func(b *testing.B) {
			total := 0
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				ids, err := o.engine.Members(ctx, bb.groups[(i*7919)%len(bb.groups)])
				if err != nil {
					b.Fatal(err)
				}
				total += len(ids)
			}
			b.ReportMetric(float64(total)/float64(b.N), "members/op")
		})
	}
}

// fixedStore hands out one model and never changes.
type fixedStore struct{ d access.Delta }

func (s fixedStore) Changes(context.Context, access.Revision) (access.Delta, error) { return s.d, nil }
func (fixedStore) Watch(func(access.Revision)) func()                               { return func() {} }

// BenchmarkCompile measures a full build of the default organisation from
// a Batch, and the heap the resulting resolver holds.
func BenchmarkCompile(b *testing.B) {
	o := loadBenchOrg(b)
	s := fixedStore{access.Delta{To: 1, Full: true, Batch: o.batch}}
	ctx := context.Background()
	var heap float64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		e, err := access.NewResolver(ctx, s, &access.Options{PollInterval: -1})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap += float64(after.HeapAlloc) - float64(before.HeapAlloc)
		runtime.KeepAlive(e)
		e.Close()
		b.StartTimer()
	}
	b.ReportMetric(heap/float64(b.N)/(1<<20), "MB-heap")
}

// BenchmarkMembershipChange adds associates to a group nested at least six
// deep (and takes them out again) through the memory store, and checks
// that the resolver shows them in the top group at once: with Watch the
// resolver catches up before the write returns, so this is the latency of
// a write until it is visible.
func BenchmarkMembershipChange(b *testing.B) {
	o := loadBenchOrg(b)
	ctx := context.Background()
	deep, top := o.deepGroup(b, 6)
	var users []access.Associate
	for _, id := range o.internal {
		if ok, _ := o.engine.IsMember(ctx, id, top); !ok {
			a, err := o.store.Associate(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			users = append(users, a)
		}
		if len(users) == 64 {
			break
		}
	}
	if len(users) == 0 {
		b.Fatalf("every associate is already a member of group %d", top)
	}
	added := make([]bool, len(users))
	toggle := func(i int) {
		a := &users[i]
		if added[i] {
			a.Groups = slices.DeleteFunc(a.Groups, func(g access.GroupID) bool { return g == deep })
		} else {
			a.Groups = append(a.Groups, deep)
		}
		added[i] = !added[i]
		if err := o.store.PutAssociate(ctx, *a); err != nil {
			b.Fatal(err)
		}
		if ok, err := o.engine.IsMember(ctx, a.ID, top); err != nil || ok != added[i] {
			b.Fatalf("IsMember(%d, %d) = %v, %v after the write, want %v", a.ID, top, ok, err, added[i])
		}
	}
	timeWrites(b, len(users), toggle)
	for i := range users {
		if added[i] {
			toggle(i)
		}
	}
}

// BenchmarkRoleChange moves associates between two roles with different
// groups (and back) through the memory store, and checks that the
// resolver shows the move at once, as BenchmarkMembershipChange does for a
// group: every group of either role's closure changes members.
func BenchmarkRoleChange(b *testing.B) {
	o := loadBenchOrg(b)
	ctx := context.Background()
	// The two roles whose holders are in the most groups, with a group the
	// first gives and the second does not.
	groupsOf := func(id access.AssociateID) map[access.GroupID]bool {
		ms, err := o.engine.EffectiveGroups(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		out := map[access.GroupID]bool{}
		for _, m := range ms {
			if m.Reason == access.ViaRole || m.Reason == access.ViaRoleTree {
				out[m.Group] = true
			}
		}
		return out
	}
	byRole := map[access.RoleID][]access.Associate{}
	size := map[access.RoleID]int{}
	for _, id := range o.internal[:min(len(o.internal), 20000)] {
		a, err := o.store.Associate(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		if a.Role != 0 && len(byRole[a.Role]) < 64 {
			if len(byRole[a.Role]) == 0 {
				size[a.Role] = len(groupsOf(id))
			}
			byRole[a.Role] = append(byRole[a.Role], a)
		}
	}
	roles := slices.SortedFunc(maps.Keys(size), func(x, y access.RoleID) int { return cmp.Compare(size[y], size[x]) })
	if len(roles) < 2 {
		b.Skip("fewer than two roles have holders")
	}
	from, to := roles[0], roles[1]
	users := byRole[from]
	var probe access.GroupID
	for g := range groupsOf(users[0].ID) {
		if ok, _ := o.engine.IsMember(ctx, byRole[to][0].ID, g); !ok {
			probe = g
			break
		}
	}
	if probe == 0 {
		b.Skip("the two roles give the same groups")
	}
	moved := make([]bool, len(users))
	toggle := func(i int) {
		a := &users[i]
		if moved[i] {
			a.Role = from
		} else {
			a.Role = to
		}
		moved[i] = !moved[i]
		if err := o.store.PutAssociate(ctx, *a); err != nil {
			b.Fatal(err)
		}
		if ok, err := o.engine.IsMember(ctx, a.ID, probe); err != nil || ok == moved[i] {
			b.Fatalf("IsMember(%d, %d) = %v, %v after the write, want %v", a.ID, probe, ok, err, !moved[i])
		}
	}
	timeWrites(b, len(users), toggle)
	b.ReportMetric(float64(size[from]+size[to]), "role-groups")
	for i := range users {
		if moved[i] {
			toggle(i)
		}
	}
}

// timeWrites times b.N calls of write, on 0 to n-1 in turn, each on its
// own, and reports their median and 90th percentile and the process CPU
// time a call.
func timeWrites(b *testing.B, n int, write func(int)) {
	lat := make([]time.Duration, 0, min(b.N, 1<<20))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		write(i % n)
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
	}
	b.StopTimer()
	reportLatency(b, lat)
	b.ReportMetric(float64(cputime.Process()-cpu0)/1e3/float64(b.N), "cpu-µs/op")
}

// reportLatency reports the median and the 90th percentile of the
// operations timed one by one.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2])/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*9/10])/1e3, "p90-µs")
}

// deepGroup returns a plain group with an ancestor at least hops nesting
// edges away by the shortest path, and that ancestor: the first such pair
// in id order.
func (o *benchOrg) deepGroup(b *testing.B, hops int) (deep, top access.GroupID) {
	for _, g := range o.batch.Groups {
		if g.Smart != "" {
			continue
		}
		up := o.upward(g.ID)
		for _, p := range slices.Sorted(maps.Keys(up)) {
			if up[p] >= hops {
				return g.ID, p
			}
		}
	}
	b.Fatalf("no group is nested %d deep", hops)
	return 0, 0
}

// BenchmarkGroupChange nests a second-level group of one hierarchy under
// the top group of another (and takes it out again): every member of the
// moved subtree changes memberships.
func BenchmarkGroupChange(b *testing.B) {
	o := loadBenchOrg(b)
	ctx := context.Background()
	top, other := benchHierarchies(b, o)
	var moved access.GroupID
	for _, c := range other.Groups {
		if g, _ := o.store.Group(ctx, c); len(g.Groups) > 0 && !slices.Contains(top.Groups, c) {
			moved = c
			break
		}
	}
	benchNesting(b, o, top, moved)
}

// BenchmarkGroupChange1000 is BenchmarkGroupChange for the group of the
// other hierarchy whose members number closest to a thousand (the size
// issue 15's target names), found by descending into the largest child
// while it has at least that many.
func BenchmarkGroupChange1000(b *testing.B) {
	o := loadBenchOrg(b)
	ctx := context.Background()
	top, other := benchHierarchies(b, o)
	size := func(id access.GroupID) int {
		ids, err := o.engine.Members(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		return len(ids)
	}
	dist := func(n int) int { return max(n-1000, 1000-n) }
	moved, n := other.ID, size(other.ID)
	for {
		g, err := o.store.Group(ctx, moved)
		if err != nil {
			b.Fatal(err)
		}
		best, bestN := access.GroupID(0), -1
		for _, c := range g.Groups {
			if cn := size(c); cn > bestN && !slices.Contains(top.Groups, c) {
				best, bestN = c, cn
			}
		}
		if best == 0 || (bestN < 1000 && dist(bestN) >= dist(n)) {
			break
		}
		moved, n = best, bestN
		if bestN < 1000 {
			break
		}
	}
	benchNesting(b, o, top, moved)
}

// benchHierarchies returns the top groups of two hierarchies.
func benchHierarchies(b *testing.B, o *benchOrg) (top, other access.Group) {
	var tops []access.Group
	for _, g := range o.batch.Groups {
		if len(o.parents[g.ID]) == 0 && len(g.Groups) > 0 {
			tops = append(tops, g)
		}
	}
	if len(tops) < 2 {
		b.Fatal("fewer than two hierarchies")
	}
	return tops[0], tops[1]
}

// benchNesting times nesting group moved under top and taking it out
// again, each a write of top visible to readers before the next.
func benchNesting(b *testing.B, o *benchOrg, top access.Group, moved access.GroupID) {
	ctx := context.Background()
	ids, err := o.engine.Members(ctx, moved)
	if err != nil {
		b.Fatal(err)
	}
	var witness access.AssociateID
	for _, id := range ids {
		if ok, _ := o.engine.IsMember(ctx, id, top.ID); !ok {
			witness = id
			break
		}
	}
	if witness == 0 {
		b.Fatalf("every member of group %d is already in group %d", moved, top.ID)
	}
	b.Logf("moving group %d (%d members) in and out of group %d", moved, len(ids), top.ID)
	nested := false
	toggle := func() {
		g := top
		if !nested {
			g.Groups = append(slices.Clone(top.Groups), moved)
		}
		nested = !nested
		if err := o.store.PutGroup(ctx, g); err != nil {
			b.Fatal(err)
		}
		if ok, err := o.engine.IsMember(ctx, witness, top.ID); err != nil || ok != nested {
			b.Fatalf("IsMember(%d, %d) = %v, %v after the write, want %v", witness, top.ID, ok, err, nested)
		}
	}
	lat := make([]time.Duration, 0, min(b.N, 1<<20))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		toggle()
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
	}
	b.StopTimer()
	reportLatency(b, lat)
	b.ReportMetric(float64(cputime.Process()-cpu0)/1e3/float64(b.N), "cpu-µs/op")
	if nested {
		toggle()
	}
}

// TestIsMemberAllocs guards the hot path: IsMember allocates nothing,
// whether the answer is yes or no.
func TestIsMemberAllocs(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Apply(ctx, orggen.Generate(orggen.Config{Associates: 500, Groups: 100, Roles: 10, SmartGroups: 4})); err != nil {
		t.Fatal(err)
	}
	e := newResolver(t, s, nil)
	m := storeModel(t, s)
	var pairs []memberPair
	yes, no := 0, 0
	for a := range m.assocs {
		for g := range m.groups {
			pairs = append(pairs, memberPair{a, g})
			if ok, err := e.IsMember(ctx, a, g); err != nil {
				t.Fatal(err)
			} else if ok {
				yes++
			} else {
				no++
			}
		}
	}
	if yes == 0 || no == 0 {
		t.Fatalf("%d memberships and %d non-memberships: need both", yes, no)
	}
	allocs := testing.AllocsPerRun(10, func() {
		for _, p := range pairs {
			e.IsMember(ctx, p.a, p.g)
		}
	})
	if allocs != 0 {
		t.Errorf("IsMember allocates: %v allocations per %d calls", allocs, len(pairs))
	}
}
