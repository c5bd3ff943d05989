// Command bench compares this library with Casbin and cedar-go on one
// workload: an orggen organisation (100,000 associates and 10,000 nested,
// role-based groups by default), a million records with owner, group and
// team, and random membership and decision queries.
//
// It builds every engine from the same organisation, checks that each one
// answers every query exactly as the library does, times both kinds of
// query with testing.Benchmark, and prints one table. It exits with status
// 1 if any engine disagrees with the library or fails to answer.
//
// Usage:
//
//	go run . [-associates N] [-groups N] [-depth N] [-records N]
//	         [-members N] [-decisions N] [-seed N] [-engines list]
//	         [-count N] [-test.benchtime d]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmaccess/access/internal/cputime"
)

func main() {
	testing.Init() // registers -test.benchtime, which testing.Benchmark honours
	cfg := defaultConfig()
	registerFlags(flag.CommandLine, &cfg)
	only := flag.String("engines", "", "comma-separated engines to run after the library (default: all): "+
		strings.Join(contenderNames(contenders()[1:]), ", ")+"; the library and the floor always run")
	flag.Parse()

	var run []contender
	for i, c := range contenders() {
		if i == 0 || c.Name == floorName || *only == "" || slices.Contains(strings.Split(*only, ","), c.Name) {
			run = append(run, c)
		}
	}
	rows, err := compare(os.Stdout, cfg, run)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	printTable(os.Stdout, cfg, rows)
	for _, r := range rows {
		if r.Disagree > 0 || r.Errors > 0 {
			os.Exit(1)
		}
	}
}

func contenderNames(cs []contender) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// defaultConfig is the size of the organisation.
func defaultConfig() config {
	return config{Associates: 100_000, Groups: 10_000, Records: 1_000_000, Members: 100_000, Decisions: 100_000, Seed: 1, Count: 3}
}

// registerFlags binds the workload's size to flags, with cfg's values as
// defaults.
func registerFlags(fs *flag.FlagSet, cfg *config) {
	fs.IntVar(&cfg.Associates, "associates", cfg.Associates, "associates in the organisation")
	fs.IntVar(&cfg.Groups, "groups", cfg.Groups, "usergroups in the organisation")
	fs.IntVar(&cfg.GroupDepth, "depth", cfg.GroupDepth, "levels of group nesting (0: orggen's default, 8)")
	fs.IntVar(&cfg.Records, "records", cfg.Records, "records, each with an owner, a group and maybe a team")
	fs.IntVar(&cfg.Members, "members", cfg.Members, "membership queries each engine answers and is checked on")
	fs.IntVar(&cfg.Decisions, "decisions", cfg.Decisions, "decision queries each engine answers and is checked on")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the organisation, records and queries")
	fs.IntVar(&cfg.Count, "count", cfg.Count, "times each timing runs; the table shows the run with the least CPU time per op (the machine may be shared)")
}

// row is one engine's line of the table.
type row struct {
	Name, Formulation string
	Load              time.Duration
	Heap              int64
	LoadCPU           time.Duration
	Member, Decide    timing
	Checked           int // queries answered and compared with the library
	Disagree, Errors  int
}

// compare builds the workload and then, one engine at a time (so that each
// one's heap is measured alone), builds the engine, checks it against the
// library's answers and times it. cs[0] must be the library.
func compare(log io.Writer, cfg config, cs []contender) ([]row, error) {
	start := time.Now()
	w, err := newWorkload(cfg)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "load average %s; ", loadAvg())
	fmt.Fprintf(log, "Go %s, %s/%s, %d CPUs\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	fmt.Fprintf(log, "workload: %d associates, %d groups (%d smart groups made plain), %d roles, %d records, "+
		"%d membership and %d decision queries; generated in %v\n",
		len(w.Org.Associates), len(w.Org.Groups), w.StrippedSmart, len(w.Org.Roles), len(w.Records),
		len(w.Members), len(w.Decisions), time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(log, "heap with the workload alone: %s\n", mib(int64(heapAlloc())))

	var ref *answers
	var rows []row
	for _, c := range cs {
		fmt.Fprintf(log, "%s: building… ", c.Name)
		b, err := build(c, w)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Name, err)
		}
		fmt.Fprintf(log, "%v (CPU %v), %s; checking… ", b.Load.Round(time.Millisecond), b.LoadCPU.Round(time.Millisecond), mib(b.Heap))
		t := time.Now()
		got := answer(b, w)
		fmt.Fprintf(log, "%v; ", time.Since(t).Round(time.Millisecond))
		r := row{Name: c.Name, Formulation: c.Formulation, Load: b.Load, LoadCPU: b.LoadCPU, Heap: b.Heap,
			Checked: len(w.Members) + len(w.Decisions), Errors: got.errors}
		if ref == nil {
			ref = got
			if lib, ok := b.engine.(*libraryEngine); ok {
				fmt.Fprintf(log, "\n  build: Apply to store/memory %v, NewResolver %v\n  %s\n  ",
					lib.apply.Round(time.Millisecond), lib.compile.Round(time.Millisecond), coverage(w, lib))
			}
		} else {
			r.Disagree = disagreements(log, c.Name, w, ref, got)
		}
		if got.firstErr != nil {
			fmt.Fprintf(log, "%d errors, first: %v; ", got.errors, got.firstErr)
		}
		fmt.Fprintf(log, "timing… ")
		r.Member = timeIt(cfg.Count, len(w.Members), func(i int) { b.Member(w.Members[i]) })
		r.Decide = timeIt(cfg.Count, len(w.Decisions), func(i int) { b.Decide(w.Decisions[i]) })
		fmt.Fprintf(log, "member %s ns/op (CPU %s), decide %s ns/op (CPU %s)\n",
			nsPerOp(r.Member.BenchmarkResult), r.Member.CPUPerOp(), nsPerOp(r.Decide.BenchmarkResult), r.Decide.CPUPerOp())
		b.Close()
		rows = append(rows, r)
	}
	return rows, nil
}

// answers are one engine's answers to every query of the workload.
type answers struct {
	member, decide []bool
	errors         int
	firstErr       error
}

func answer(e engine, w *workload) *answers {
	a := &answers{member: make([]bool, len(w.Members)), decide: make([]bool, len(w.Decisions))}
	note := func(err error) {
		if err != nil {
			if a.errors == 0 {
				a.firstErr = err
			}
			a.errors++
		}
	}
	for i, q := range w.Members {
		ok, err := e.Member(q)
		a.member[i] = ok
		note(err)
	}
	for i, q := range w.Decisions {
		ok, err := e.Decide(q)
		a.decide[i] = ok
		note(err)
	}
	return a
}

// disagreements counts the queries on which got differs from the library's
// answers and logs the first few.
func disagreements(log io.Writer, name string, w *workload, ref, got *answers) int {
	n := 0
	for i := range ref.member {
		if ref.member[i] != got.member[i] {
			if n++; n <= 5 {
				q := w.Members[i]
				fmt.Fprintf(log, "\n  DISAGREE member: associate %d in group %d: access %v, %s %v",
					q.Who, q.Group, ref.member[i], name, got.member[i])
			}
		}
	}
	for i := range ref.decide {
		if ref.decide[i] != got.decide[i] {
			if n++; n <= 5 {
				q := w.Decisions[i]
				fmt.Fprintf(log, "\n  DISAGREE decide: associate %d %s %+v: access %v, %s %v",
					q.Who, q.Action, w.Records[q.Record], ref.decide[i], name, got.decide[i])
			}
		}
	}
	if n > 0 {
		fmt.Fprintf(log, "\n  %d disagreements\n  ", n)
	} else {
		fmt.Fprintf(log, "agrees on all %d queries; ", len(ref.member)+len(ref.decide))
	}
	return n
}

// timing is a benchmark result with the CPU time its last run used.
type timing struct {
	testing.BenchmarkResult
	CPU time.Duration // process CPU time over the result's N operations
}

// CPUPerOp renders the CPU time per operation like nsPerOp.
func (t timing) CPUPerOp() string {
	if t.N == 0 || t.CPU == 0 {
		return "-"
	}
	return formatNs(float64(t.CPU.Nanoseconds()) / float64(t.N))
}

// timeIt measures f over the n queries, in order, round and round, count
// times, and returns the run that used the least CPU time: on a shared
// machine the others measure the neighbours too.
func timeIt(count, n int, f func(i int)) timing {
	var best timing
	if n == 0 {
		return best
	}
	for range max(count, 1) {
		// testing.Benchmark calls the function with a growing b.N and
		// returns the last call's result; cpu keeps the last call's time.
		var cpu time.Duration
		r := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			start := cputime.Process()
			for i := 0; i < b.N; i++ {
				f(i % n)
			}
			cpu = cputime.Process() - start
		})
		t := timing{r, cpu}
		if best.N == 0 || t.CPU*time.Duration(best.N) < best.CPU*time.Duration(t.N) {
			best = t
		}
	}
	return best
}

// loadAvg returns the 1-, 5- and 15-minute load averages, or "unknown":
// the numbers mean little if other work shared the machine.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// printTable prints the rows as a Markdown table, then the formulations.
func printTable(out io.Writer, cfg config, rows []row) {
	fmt.Fprintf(out, "\n%d associates, %d groups, %d records; %d membership + %d decision queries per engine; "+
		"best of %d timings; load average %s\n\n",
		cfg.Associates, cfg.Groups, cfg.Records, cfg.Members, cfg.Decisions, max(cfg.Count, 1), loadAvg())
	var floor *row
	for i := range rows {
		if rows[i].Name == floorName {
			floor = &rows[i]
		}
	}
	fmt.Fprintln(out, "| engine | load (CPU) | heap after load | member ns/op (CPU) | member allocs/op | member ÷ floor (CPU) | decide ns/op (CPU) | decide allocs/op | decide ÷ floor (CPU) | queries checked | disagreements |")
	fmt.Fprintln(out, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rows {
		agree := fmt.Sprint(r.Disagree)
		if r.Name == rows[0].Name {
			agree = "(reference)"
		}
		if r.Errors > 0 {
			agree += fmt.Sprintf(" + %d errors", r.Errors)
		}
		memberRatio, decideRatio := "-", "-"
		if floor != nil {
			memberRatio, decideRatio = ratio(r.Member, floor.Member), ratio(r.Decide, floor.Decide)
		}
		fmt.Fprintf(out, "| %s | %v (%v) | %s | %s (%s) | %d | %s | %s (%s) | %d | %s | %d | %s |\n",
			r.Name, r.Load.Round(time.Millisecond), r.LoadCPU.Round(time.Millisecond), mib(r.Heap),
			nsPerOp(r.Member.BenchmarkResult), r.Member.CPUPerOp(), r.Member.AllocsPerOp(), memberRatio,
			nsPerOp(r.Decide.BenchmarkResult), r.Decide.CPUPerOp(), r.Decide.AllocsPerOp(), decideRatio, r.Checked, agree)
	}
	fmt.Fprintln(out)
	for _, r := range rows {
		fmt.Fprintf(out, "- %s: %s\n", r.Name, r.Formulation)
	}
}

// ratio renders t's CPU time per operation as a multiple of the floor's:
// on a shared machine wall time also counts the time the process waited
// for a core. Without CPU times it compares wall times.
func ratio(t, floor timing) string {
	if t.N == 0 || floor.N == 0 || floor.T == 0 {
		return "-"
	}
	x := (float64(t.T) / float64(t.N)) / (float64(floor.T) / float64(floor.N))
	if t.CPU > 0 && floor.CPU > 0 {
		x = (float64(t.CPU) / float64(t.N)) / (float64(floor.CPU) / float64(floor.N))
	}
	if x < 10 {
		return fmt.Sprintf("%.2f×", x)
	}
	return fmt.Sprintf("%.0f×", x)
}

// nsPerOp renders a result's wall time per operation with a thousands
// separator, and with one decimal below 100 ns.
func nsPerOp(r testing.BenchmarkResult) string {
	if r.N == 0 {
		return "-"
	}
	return formatNs(float64(r.T.Nanoseconds()) / float64(r.N))
}

func formatNs(ns float64) string {
	if ns < 100 {
		return fmt.Sprintf("%.1f", ns)
	}
	s := fmt.Sprintf("%.0f", ns)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
