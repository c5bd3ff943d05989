package access_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/cputime"
	"github.com/crmaccess/access/internal/orggen"
)

// Benchmarks of decisions on the default orggen organisation (100,000
// associates, 10,000 groups, 50 roles) with role grids, sharing rules,
// grants, default permissions, categories and impersonation rules added,
// against 1,000,000 random records. The target: Can ≤ 300 ns and no
// allocation, for allows and denies alike.

// dBenchOrg is the organisation the decision benchmarks share, built once
// per process.
type dBenchOrg struct {
	engine *access.Engine
	// rolesOnly decides the same questions with role rights alone (no
	// sharing rules, grants, defaults or categories): the issue's
	// "own/group/other rights" workload.
	rolesOnly *access.Engine
	records   []access.Record
	// mixed are random questions; allow and deny are questions known to
	// be allowed and denied.
	mixed, allow, deny []dQuestion
	acting             []access.Acting
	decisions          []access.Decision
}

// dQuestion is one question with its record inline: a request brings its
// record with it, fresh from the database, so the benchmarks walk the
// questions in order and only the resolver's own data is reached at
// random.
type dQuestion struct {
	who access.AssociateID
	act access.Action
	rec access.Record
}

const (
	dBenchRecords   = 1_000_000
	dBenchQuestions = 1 << 20
	dBenchSplit     = 1 << 18 // questions in each of allow and deny
)

var (
	dBenchOnce sync.Once
	dBenchData *dBenchOrg
)

func dLoadBench(b *testing.B) *dBenchOrg {
	b.Helper()
	dBenchOnce.Do(func() {
		start := time.Now()
		o, err := dBuildBench()
		if err != nil {
			b.Errorf("building the decision benchmark organisation: %v", err)
			return
		}
		b.Logf("setup: %v (%d records, %d allowed and %d denied questions kept)", time.Since(start), len(o.records), len(o.allow), len(o.deny))
		dBenchData = o
	})
	if dBenchData == nil {
		b.Fatal("the decision benchmark organisation failed to load")
	}
	return dBenchData
}

func dBuildBench() (*dBenchOrg, error) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	batch := orggen.Generate(benchConfig())

	// Every role gets a grid (orggen gives most roles one already), and
	// every third one a row of its own for sales.
	for i := range batch.Roles {
		r := &batch.Roles[i]
		if len(r.Rights) == 0 {
			r.Rights = map[string]access.Grid{"*": {
				access.Owner: access.LevelFull, access.Team: access.LevelUpdate, access.PrimaryGroup: access.LevelUpdate,
				access.OtherGroup: access.LevelRead, access.Subordinate: access.LevelRead, access.Other: access.LevelRead,
				access.MyCompany: access.LevelRead, access.SameProject: access.LevelCreate}}
		}
		if i%3 == 0 {
			r.Rights["sale"] = access.Grid{access.Owner: access.LevelFull, access.Team: access.LevelFull,
				access.PrimaryGroup: access.LevelRead, access.CategoryMember: access.LevelRead}
		}
	}

	var internal, all []access.AssociateID
	primary := map[access.AssociateID]access.GroupID{}
	for _, a := range batch.Associates {
		all = append(all, a.ID)
		if a.Type == access.Internal {
			internal = append(internal, a.ID)
			primary[a.ID] = a.PrimaryGroup
		}
	}
	var plain, tops []access.GroupID
	included := map[access.GroupID]bool{}
	for _, g := range batch.Groups {
		for _, c := range g.Groups {
			included[c] = true
		}
	}
	for _, g := range batch.Groups {
		if g.Smart == "" {
			plain = append(plain, g.ID)
			if !included[g.ID] && len(g.Groups) > 0 {
				tops = append(tops, g.ID)
			}
		}
	}
	if len(tops) < 4 {
		return nil, fmt.Errorf("orggen made %d top groups, want at least 4", len(tops))
	}
	pickA := func(from []access.AssociateID, n int) []access.AssociateID {
		out := make([]access.AssociateID, n)
		for i := range out {
			out[i] = from[rng.IntN(len(from))]
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	pickG := func(n int) []access.GroupID {
		out := make([]access.GroupID, n)
		for i := range out {
			out[i] = plain[rng.IntN(len(plain))]
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	role := func() access.RoleID { return batch.Roles[rng.IntN(len(batch.Roles))].ID }

	// Categories, and service logins for some internal associates.
	rolesBatch := batch.Clone()
	for i := range 5 {
		batch.Categories = append(batch.Categories, access.Category{ID: access.CategoryID(i + 1), Name: fmt.Sprintf("Category %d", i+1),
			MembersOnly: i%2 == 0, Groups: pickG(3), Roles: []access.RoleID{role()}})
	}
	for i := range batch.Associates {
		a := &batch.Associates[i]
		if a.Type == access.Internal && rng.IntN(20) == 0 {
			a.ServiceLogin = int64(a.ID)
			a.Categories = []access.CategoryID{access.CategoryID(1 + rng.IntN(5))}
		}
	}
	// Default permissions on a few groups.
	for range 5 {
		g := &batch.Groups[rng.IntN(len(batch.Groups))]
		g.Defaults = map[string]access.CRUD{"contact": access.R, "*": access.LevelNone}
	}

	batch.SharingRules = []access.SharingRule{
		{ID: 1, Name: "Contacts are public in the first region", EntityType: "contact",
			From: access.Principals{Everyone: true}, To: access.Principals{Groups: tops[:1]}, Rights: access.R},
		{ID: 2, Name: "Second region's sales to a role", EntityType: "sale",
			From: access.Principals{Groups: tops[1:2]}, To: access.Principals{Roles: []access.RoleID{role(), role()}}, Rights: access.R | access.U},
		{ID: 3, Name: "Top line appointments", EntityType: "appointment",
			From: access.Principals{RolesAndSubordinates: []access.RoleID{1}}, To: access.Principals{RolesAndSubordinates: []access.RoleID{2}}, Rights: access.R},
		{ID: 4, Name: "A few owners to a few groups", EntityType: "*",
			From: access.Principals{Associates: pickA(internal, 10)}, To: access.Principals{Groups: pickG(3)}, Rights: access.C},
		{ID: 5, Name: "Some roles' sales to some people", EntityType: "sale",
			From: access.Principals{Roles: []access.RoleID{role(), role(), role()}}, To: access.Principals{Associates: pickA(internal, 20)}, Rights: access.D},
	}
	types := []string{"contact", "sale", "appointment"}
	for i := range 200 {
		g := access.Grant{ID: access.GrantID(i + 1), EntityType: types[rng.IntN(3)], RecordID: int64(1 + rng.IntN(dBenchRecords)),
			Rights: access.CRUD(1 + rng.IntN(15))}
		if i%2 == 0 {
			g.Associate = internal[rng.IntN(len(internal))]
		} else {
			g.Group = plain[rng.IntN(len(plain))]
		}
		batch.Grants = append(batch.Grants, g)
	}
	for i := range 10 {
		batch.Grants = append(batch.Grants, access.Grant{ID: access.GrantID(1000 + i), Group: plain[rng.IntN(len(plain))],
			EntityType: append(types, "*")[rng.IntN(4)], Rights: access.CRUD(1 + rng.IntN(15))})
	}
	batch.Impersonations = []access.Impersonation{
		{ID: 1, Actor: access.Principal{Group: tops[0]}, Target: access.Principal{Group: tops[1]}},
		{ID: 2, Actor: access.Principal{Group: tops[2]}, Target: access.Principal{Group: tops[3]}},
		{ID: 3, Actor: access.Principal{Group: tops[1]}, Target: access.Principal{Group: tops[0]}},
	}
	if err := batch.Validate(ctx, dEmptyView{}); err != nil {
		return nil, err
	}
	s := &dStore{}
	s.set(batch)
	// The benchmarks share the resolvers for minutes, unpolled: opt out of
	// the staleness bound, or they would time the refusal. The gate costs
	// the same either way.
	e, err := access.NewResolver(ctx, s, &access.Options{PollInterval: -1, MaxStaleness: -1})
	if err != nil {
		return nil, err
	}
	ps := &dStore{}
	ps.set(rolesBatch)
	ro, err := access.NewResolver(ctx, ps, &access.Options{PollInterval: -1, MaxStaleness: -1})
	if err != nil {
		return nil, err
	}
	o := &dBenchOrg{engine: e, rolesOnly: ro}

	// Records: mostly owned and stamped with the owner's primary group
	// (SuperOffice), some team-owned (vtiger), a few with a deleted
	// owner; some restricted.
	o.records = make([]access.Record, dBenchRecords)
	for i := range o.records {
		r := access.Record{Type: types[rng.IntN(3)], ID: int64(i + 1)}
		switch x := rng.IntN(100); {
		case x < 75:
			r.Owner = all[rng.IntN(len(all))]
			r.Group = primary[r.Owner]
			if rng.IntN(5) == 0 {
				r.Group = plain[rng.IntN(len(plain))]
			}
		case x < 80:
			r.Owner = access.AssociateID(len(all) + 1 + rng.IntN(1000)) // deleted
			r.Group = plain[rng.IntN(len(plain))]
		}
		if rng.IntN(10) == 0 {
			r.Team = plain[rng.IntN(len(plain))]
		}
		if rng.IntN(2) == 0 {
			r.Company = 1
		} else {
			r.Company = int64(1000 + rng.IntN(2000))
		}
		r.Project = int64(rng.IntN(501))
		if rng.IntN(20) == 0 {
			r.Category = access.CategoryID(1 + rng.IntN(5))
		}
		r.Published = rng.IntN(2) == 0
		switch rng.IntN(10) {
		case 0:
			r.Visibility = access.VisibleGroup
		case 1:
			r.Visibility = access.VisibleAssociate
		}
		o.records[i] = r
	}

	question := func() dQuestion {
		q := dQuestion{act: access.Action(1 + rng.IntN(4)), rec: o.records[rng.IntN(len(o.records))]}
		if rng.IntN(10) == 0 {
			q.who = all[rng.IntN(len(all))]
		} else {
			q.who = internal[rng.IntN(len(internal))]
		}
		return q
	}
	o.mixed = make([]dQuestion, dBenchQuestions)
	for i := range o.mixed {
		o.mixed[i] = question()
	}
	for len(o.allow) < dBenchSplit || len(o.deny) < dBenchSplit {
		q := question()
		d, err := e.Can(ctx, q.who, q.act, q.rec)
		if err != nil {
			return nil, err
		}
		if d.Allowed && len(o.allow) < dBenchSplit {
			o.allow = append(o.allow, q)
		} else if !d.Allowed && len(o.deny) < dBenchSplit {
			o.deny = append(o.deny, q)
		}
		if len(o.decisions) < 1024 && d.Gate == access.GateNone {
			o.decisions = append(o.decisions, d)
		}
	}

	actors, err := e.Members(ctx, tops[0])
	if err != nil {
		return nil, err
	}
	targets, err := e.Members(ctx, tops[1])
	if err != nil {
		return nil, err
	}
	for tries := 0; len(o.acting) < 1024 && tries < 1_000_000; tries++ {
		as, err := e.Impersonate(ctx, actors[rng.IntN(len(actors))], targets[rng.IntN(len(targets))])
		if err == nil {
			o.acting = append(o.acting, as)
		}
	}
	if len(o.acting) < 1024 {
		return nil, fmt.Errorf("found only %d impersonations", len(o.acting))
	}
	return o, nil
}

// BenchmarkCan measures Can on random questions (mixed), on questions it
// allows and on questions it denies, and the throughput of parallel
// callers. The random questions reach all over a large heap, so memory
// latency dominates them; "hot" cycles through 1,024 questions whose data
// stays in the caches, which shows the cost of the computation alone.
func BenchmarkCan(b *testing.B) {
	o := dLoadBench(b)
	ctx := context.Background()
	for _, bb := range []struct {
		name string
		qs   []dQuestion
	}{{"mixed", o.mixed}, {"allow", o.allow}, {"deny", o.deny}, {"hot", o.mixed[:1024]}, {"hot16", o.mixed[:16]}} {
		b.Run(bb.name, func(b *testing.B) {
			mask := len(bb.qs) - 1
			allowed := 0
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cputime.Process()
			for i := 0; i < b.N; i++ {
				q := &bb.qs[i&mask]
				d, err := o.engine.Can(ctx, q.who, q.act, q.rec)
				if err != nil {
					b.Fatal(err)
				}
				if d.Allowed {
					allowed++
				}
			}
			b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(allowed)/float64(b.N), "allowed/op")
		})
	}
	// latency times every call on its own and reports the median and tail
	// of the random questions (and of the allowed and denied ones);
	// clock-ns is what reading the clock twice costs, included in the
	// percentiles.
	for _, bb := range []struct {
		name string
		qs   []dQuestion
	}{{"latency", o.mixed}, {"latency-allow", o.allow}, {"latency-deny", o.deny}} {
		b.Run(bb.name, func(b *testing.B) { dLatency(b, o, bb.qs) })
	}
	// allowed-* ask Engine.Allowed the random (and the hot) questions:
	// the yes/no path, which records no causes and returns no Decision.
	for _, bb := range []struct {
		name string
		qs   []dQuestion
	}{{"allowed-mixed", o.mixed}, {"allowed-hot", o.mixed[:1024]}} {
		b.Run(bb.name, func(b *testing.B) {
			mask := len(bb.qs) - 1
			allowed := 0
			b.ReportAllocs()
			cpu := cputime.Process()
			for i := 0; b.Loop(); i++ {
				q := &bb.qs[i&mask]
				ok, err := o.engine.Allowed(ctx, q.who, q.act, q.rec)
				if err != nil {
					b.Fatal(err)
				}
				if ok {
					allowed++
				}
			}
			b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(allowed)/float64(b.N), "allowed/op")
		})
	}
	b.Run("roles-only", func(b *testing.B) {
		mask := len(o.mixed) - 1
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			q := &o.mixed[i&mask]
			if _, err := o.rolesOnly.Can(ctx, q.who, q.act, q.rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			mask := len(o.mixed) - 1
			i := rand.IntN(len(o.mixed))
			for pb.Next() {
				q := &o.mixed[i&mask]
				i++
				if _, err := o.engine.Can(ctx, q.who, q.act, q.rec); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// dLatency times every call to Can on its own, over the questions qs.
func dLatency(b *testing.B, o *dBenchOrg, qs []dQuestion) {
	ctx := context.Background()
	mask := len(qs) - 1
	lat := make([]int64, 0, min(b.N, 1<<22))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := &qs[i&mask]
		t0 := time.Now()
		_, err := o.engine.Can(ctx, q.who, q.act, q.rec)
		d := time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if len(lat) < cap(lat) {
			lat = append(lat, int64(d))
		}
	}
	b.StopTimer()
	clock := make([]int64, 1<<16)
	for i := range clock {
		t0 := time.Now()
		clock[i] = int64(time.Since(t0))
	}
	slices.Sort(lat)
	slices.Sort(clock)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) }
	b.ReportMetric(pct(0.5), "p50-ns")
	b.ReportMetric(pct(0.9), "p90-ns")
	b.ReportMetric(pct(0.99), "p99-ns")
	b.ReportMetric(float64(clock[len(clock)/2]), "clock-ns")
}

// BenchmarkCanAs measures deciding on behalf of another associate, which
// checks the impersonation again on every call.
func BenchmarkCanAs(b *testing.B) {
	o := dLoadBench(b)
	ctx := context.Background()
	mask := len(o.mixed) - 1
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := &o.mixed[i&mask]
		if _, err := o.engine.CanAs(ctx, o.acting[i%len(o.acting)], q.act, q.rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecisionString measures rendering a decision's explanation.
func BenchmarkDecisionString(b *testing.B) {
	o := dLoadBench(b)
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n += len(o.decisions[i%len(o.decisions)].String())
	}
	b.ReportMetric(float64(n)/float64(b.N), "bytes/op")
}
