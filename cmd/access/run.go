package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/cmd/access/model"
	"github.com/crmaccess/access/store/memory"
	"github.com/crmaccess/access/store/postgres"
	"github.com/crmaccess/access/store/sqlite"
)

const usage = `usage:
  access test FILE…
  access explain SOURCE WHO ACTION RECORD
  access who-can SOURCE ACTION RECORD
  access groups SOURCE WHO
  access lint SOURCE
  access matrix SOURCE GROUP
  access categories SOURCE WHO
  access graph SOURCE [--format dot|mermaid|svg] [--around WHO|GROUP [--path GROUP]]
  access import vtiger|superoffice DSN [-o FILE | --into STORE]
  access export SOURCE [-o FILE]
  access load SOURCE --into STORE
  access migrate STORE
  access diff BEFORE AFTER [--json]
  access diff SOURCE --change FILE [--json]

SOURCE: a model file (*.yaml, *.yml, *.json), a PostgreSQL DSN
(postgres://…), or an SQLite file. WHO: a name, an id, or "a quoted name".
RECORD: TYPE or TYPE{KEY: VALUE, …}, e.g. contact{id: 42, owner: bo, group: Oslo}
DSN: vtiger user:password@tcp(host:3306)/database (MySQL, MariaDB);
superoffice postgres://…. STORE: a PostgreSQL DSN or an SQLite file.
diff: what-if, the difference in effective access a change would make;
exit 0 when there is none, 1 when there is some, 2 on error. FILE is a
model-file fragment: its entities replace those with the same id or name.
`

// Exit codes.
const (
	exitOK    = 0
	exitFalse = 1 // a test failed, a decision denied, lint found something
	exitError = 2
)

// errUsage marks bad arguments; run prints the usage after it.
var errUsage = errors.New("bad usage")

// commands are the subcommands that write only to stdout, by name.
var commands = map[string]func(ctx context.Context, args []string, w io.Writer) (int, error){
	"test": cmdTest, "explain": cmdExplain, "who-can": cmdWhoCan, "groups": cmdGroups,
	"lint": cmdLint, "matrix": cmdMatrix, "categories": cmdCategories, "graph": cmdGraph,
	"migrate": cmdMigrate,
}

// warners are the subcommands that also warn on stderr, by name.
var warners = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error){
	"import": cmdImport, "export": cmdExport, "load": cmdLoad, "diff": cmdDiff,
}

// run is the whole command, with its streams passed in so tests run it in
// the process.
func run(args []string, stdout, stderr io.Writer) int {
	ctx := context.Background()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	var code int
	var err error
	switch cmd, rest := args[0], args[1:]; {
	case cmd == "help" || cmd == "-h" || cmd == "-help" || cmd == "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case warners[cmd] != nil:
		code, err = warners[cmd](ctx, rest, stdout, stderr)
	case commands[cmd] != nil:
		code, err = commands[cmd](ctx, rest, stdout)
	default:
		err = fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
	if err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "access: ") { // the library's errors have it
			msg = "access: " + msg
		}
		fmt.Fprintln(stderr, msg)
		if errors.Is(err, errUsage) {
			fmt.Fprint(stderr, usage)
		}
		return exitError
	}
	return code
}

// source is an opened model: a resolver over it and an index of its names.
type source struct {
	engine *access.Engine
	index  *model.Index
	file   *model.File // for a model file source
	batch  access.Batch
	close  func()
}

func (s *source) Close() {
	s.engine.Close()
	if s.close != nil {
		s.close()
	}
}

// isModelFile reports whether the argument names a model file.
func isModelFile(arg string) bool {
	l := strings.ToLower(arg)
	return strings.HasSuffix(l, ".yaml") || strings.HasSuffix(l, ".yml") || strings.HasSuffix(l, ".json")
}

// open opens SOURCE: a model file into a memory store, a PostgreSQL DSN,
// or an SQLite file, which must exist (Open would create an empty one).
func open(ctx context.Context, arg string) (*source, error) {
	var st access.Store
	s := &source{}
	switch {
	case isModelFile(arg):
		f, err := model.ReadFile(arg)
		if err != nil {
			return nil, err
		}
		m := memory.New()
		if _, _, err := model.Load(ctx, m, f); err != nil {
			return nil, err
		}
		st, s.file = m, f
	case strings.HasPrefix(arg, "postgres://") || strings.HasPrefix(arg, "postgresql://"):
		p, err := postgres.Open(ctx, arg, nil)
		if err != nil {
			return nil, err
		}
		st, s.close = p, p.Close
	default:
		if _, err := os.Stat(arg); err != nil {
			return nil, err
		}
		q, err := sqlite.Open(ctx, arg, nil)
		if err != nil {
			return nil, err
		}
		st, s.close = q, q.Close
	}
	d, err := st.Changes(ctx, 0)
	if err == nil {
		s.batch = d.Batch
		// The resolver's first read is the model just read (a copy: the
		// resolver owns what Changes returns), not a second read of the
		// whole store: at 100,000 associates that read is a second or more.
		d.Batch = d.Batch.Clone()
		s.engine, err = access.NewResolver(ctx, &readOnce{Store: st, first: &d}, nil)
	}
	if err != nil {
		if s.close != nil {
			s.close()
		}
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	s.index = model.NewIndex(&s.batch)
	return s, nil
}

// readOnce is a store whose first whole-model read is one already made.
type readOnce struct {
	access.Store
	mu    sync.Mutex
	first *access.Delta
}

func (r *readOnce) Changes(ctx context.Context, since access.Revision) (access.Delta, error) {
	r.mu.Lock()
	d := r.first
	r.first = nil
	r.mu.Unlock()
	if d != nil && since == 0 {
		return *d, nil
	}
	return r.Store.Changes(ctx, since)
}

func (s *source) who(arg string) (access.AssociateID, error) {
	v, err := model.ParseWho(arg)
	if err != nil {
		return 0, err
	}
	return s.index.Associate(v.Ref())
}

func (s *source) record(arg string) (access.Record, error) {
	spec, err := model.ParseRecord(arg)
	if err != nil {
		return access.Record{}, err
	}
	return s.index.Record(spec)
}

func wantArgs(args []string, n int, names string) error {
	if len(args) != n {
		return fmt.Errorf("%w: expected %s, got %d arguments", errUsage, names, len(args))
	}
	return nil
}

func cmdTest(ctx context.Context, args []string, w io.Writer) (int, error) {
	if len(args) == 0 {
		return 0, fmt.Errorf("%w: test needs at least one model file", errUsage)
	}
	passed, failed := 0, 0
	for _, name := range args {
		if !isModelFile(name) {
			return 0, fmt.Errorf("%w: %s is not a model file (.yaml, .yml, .json)", errUsage, name)
		}
		s, err := open(ctx, name)
		if err != nil {
			return 0, err
		}
		results := model.RunTests(ctx, s.engine, s.index, s.file)
		s.Close()
		n := model.Report(w, name, results)
		failed += n
		passed += len(results) - n
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return exitFalse, nil
	}
	return exitOK, nil
}

func cmdExplain(ctx context.Context, args []string, w io.Writer) (int, error) {
	if err := wantArgs(args, 4, "SOURCE WHO ACTION RECORD"); err != nil {
		return 0, err
	}
	s, err := open(ctx, args[0])
	if err != nil {
		return 0, err
	}
	defer s.Close()
	who, err := s.who(args[1])
	if err != nil {
		return 0, err
	}
	act, err := access.ParseAction(args[2])
	if err != nil {
		return 0, err
	}
	rec, err := s.record(args[3])
	if err != nil {
		return 0, err
	}
	d, err := s.engine.Can(ctx, who, act, rec)
	if err != nil {
		return 0, err
	}
	fmt.Fprintln(w, d)
	for _, c := range d.Causes() {
		fmt.Fprintf(w, "  %s\n", causeText(c))
	}
	if !d.Allowed {
		return exitFalse, nil
	}
	return exitOK, nil
}

// causeText renders one typed cause on its own line.
func causeText(c access.Cause) string {
	var b strings.Builder
	b.WriteString(c.Kind.String())
	add := func(k string, v any) { fmt.Fprintf(&b, ", %s %v", k, v) }
	if c.Kind == access.CauseGate {
		add("gate", c.Gate)
	}
	if c.Role != 0 {
		add("role", ref(c.RoleName, int64(c.Role)))
	}
	if c.Relation != 0 {
		add("relation", c.Relation)
	}
	if c.Group != 0 {
		add("group", ref(c.GroupName, int64(c.Group)))
	}
	if c.Rule != 0 {
		add("rule", ref(c.RuleName, int64(c.Rule)))
	}
	if c.Grant != 0 {
		add("grant", c.Grant)
	}
	if c.Kind == access.CauseRestriction {
		add("restriction", c.Restriction)
	}
	if c.Rights != 0 || c.Kind == access.CauseRole {
		add("rights", c.Rights)
	}
	return b.String()
}

func ref(name string, id int64) string {
	if name == "" {
		return fmt.Sprint(id)
	}
	return fmt.Sprintf("%s (%d)", name, id)
}

func cmdWhoCan(ctx context.Context, args []string, w io.Writer) (int, error) {
	if err := wantArgs(args, 3, "SOURCE ACTION RECORD"); err != nil {
		return 0, err
	}
	s, err := open(ctx, args[0])
	if err != nil {
		return 0, err
	}
	defer s.Close()
	act, err := access.ParseAction(args[1])
	if err != nil {
		return 0, err
	}
	rec, err := s.record(args[2])
	if err != nil {
		return 0, err
	}
	allowed, err := s.engine.WhoCan(ctx, act, rec)
	if err != nil {
		return 0, err
	}
	for _, a := range allowed {
		fmt.Fprintln(w, model.AllowedText(s.index, a))
	}
	fmt.Fprintf(w, "%d associates may %s %s\n", len(allowed), act, args[2])
	return exitOK, nil
}

func cmdGroups(ctx context.Context, args []string, w io.Writer) (int, error) {
	return listFor(ctx, args, w, (*access.Engine).EffectiveGroups)
}

// listFor runs a SOURCE WHO subcommand that prints, one per line, what
// ask returns about the associate.
func listFor[T any](ctx context.Context, args []string, w io.Writer, ask func(*access.Engine, context.Context, access.AssociateID) ([]T, error)) (int, error) {
	if err := wantArgs(args, 2, "SOURCE WHO"); err != nil {
		return 0, err
	}
	s, err := open(ctx, args[0])
	if err != nil {
		return 0, err
	}
	defer s.Close()
	who, err := s.who(args[1])
	if err != nil {
		return 0, err
	}
	items, err := ask(s.engine, ctx, who)
	if err != nil {
		return 0, err
	}
	for _, it := range items {
		fmt.Fprintln(w, it)
	}
	return exitOK, nil
}

func cmdLint(ctx context.Context, args []string, w io.Writer) (int, error) {
	if err := wantArgs(args, 1, "SOURCE"); err != nil {
		return 0, err
	}
	s, err := open(ctx, args[0])
	if err != nil {
		return 0, err
	}
	defer s.Close()
	n := 0
	roles := slices.SortedFunc(slices.Values(s.batch.Roles), func(a, b access.Role) int { return cmp.Compare(a.ID, b.ID) })
	for _, r := range roles {
		for _, l := range r.Lint() {
			fmt.Fprintf(w, "role %s: %s\n", ref(r.Name, int64(r.ID)), l)
			n++
		}
	}
	fmt.Fprintf(w, "%d findings\n", n)
	if n > 0 {
		return exitFalse, nil
	}
	return exitOK, nil
}
