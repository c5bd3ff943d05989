package main

import (
	"flag"
	"os"
	"sync"
	"testing"
)

// The tests and benchmarks use a smaller organisation than the command, so
// that `go test` stays quick; the same flags scale it up:
//
//	go test -bench . -associates 100000 -groups 10000 -records 1000000
var testConfig = config{Associates: 5_000, Groups: 500, Records: 50_000, Members: 5_000, Decisions: 5_000, Seed: 1, Count: 1}

func TestMain(m *testing.M) {
	registerFlags(flag.CommandLine, &testConfig)
	flag.Parse()
	os.Exit(m.Run())
}

// fixture builds the workload once and each engine at most once.
var fixture struct {
	once    sync.Once
	w       *workload
	err     error
	mu      sync.Mutex
	engines map[string]engine
}

func testWorkload(tb testing.TB) *workload {
	fixture.once.Do(func() {
		fixture.w, fixture.err = newWorkload(testConfig)
		fixture.engines = map[string]engine{}
	})
	if fixture.err != nil {
		tb.Fatal(fixture.err)
	}
	return fixture.w
}

func testEngine(tb testing.TB, c contender) engine {
	w := testWorkload(tb)
	fixture.mu.Lock()
	defer fixture.mu.Unlock()
	if e, ok := fixture.engines[c.Name]; ok {
		return e
	}
	e, err := c.Build(w)
	if err != nil {
		tb.Fatalf("building %s: %v", c.Name, err)
	}
	fixture.engines[c.Name] = e
	return e
}

// TestAgreement checks that every formulation answers every membership and
// decision query as the library does, without errors.
func TestAgreement(t *testing.T) {
	w := testWorkload(t)
	cs := contenders()
	ref := answer(testEngine(t, cs[0]), w)
	if ref.errors > 0 {
		t.Fatalf("access: %d errors, first: %v", ref.errors, ref.firstErr)
	}
	for _, c := range cs[1:] {
		t.Run(c.Name, func(t *testing.T) {
			got := answer(testEngine(t, c), w)
			if got.errors > 0 {
				t.Errorf("%d errors, first: %v", got.errors, got.firstErr)
			}
			for i, q := range w.Members {
				if got.member[i] != ref.member[i] {
					t.Errorf("associate %d in group %d: got %v, access says %v", q.Who, q.Group, got.member[i], ref.member[i])
				}
			}
			for i, q := range w.Decisions {
				if got.decide[i] != ref.decide[i] {
					t.Errorf("associate %d %s %+v: got %v, access says %v",
						q.Who, q.Action, w.Records[q.Record], got.decide[i], ref.decide[i])
				}
			}
		})
	}
}

// TestCoverage checks that the decision queries exercise every relation of
// the shared policy, and allow as well as deny.
func TestCoverage(t *testing.T) {
	w := testWorkload(t)
	lib := testEngine(t, contenders()[0]).(*libraryEngine)
	t.Log(coverage(w, lib))
	held := map[string]bool{}
	for _, q := range w.Decisions {
		d, err := lib.e.Can(t.Context(), q.Who, q.Action, w.Records[q.Record])
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range d.Relations.All() {
			held[r.String()] = true
		}
		held["allow"] = held["allow"] || d.Allowed
		held["deny"] = held["deny"] || !d.Allowed
	}
	for _, r := range relations {
		if !held[r.String()] {
			t.Errorf("no decision query has relation %s", r)
		}
	}
	if !held["allow"] || !held["deny"] {
		t.Errorf("decisions are all alike: %v", held)
	}
}

// BenchmarkMember times one membership check per op, cycling through the
// workload's membership queries.
func BenchmarkMember(b *testing.B) {
	for _, c := range contenders() {
		b.Run(c.Name, func(b *testing.B) {
			w, e := testWorkload(b), testEngine(b, c)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				e.Member(w.Members[i%len(w.Members)])
			}
		})
	}
}

// BenchmarkDecide times one decision per op, cycling through the
// workload's decision queries.
func BenchmarkDecide(b *testing.B) {
	for _, c := range contenders() {
		b.Run(c.Name, func(b *testing.B) {
			w, e := testWorkload(b), testEngine(b, c)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				e.Decide(w.Decisions[i%len(w.Decisions)])
			}
		})
	}
}
