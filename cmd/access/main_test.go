package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/cmd/access/model"
	"github.com/crmaccess/access/store/postgres"
	"github.com/crmaccess/access/store/sqlite"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

var update = flag.Bool("update", false, "rewrite the golden files with the command's current output")

// quickstart is the commented example model, which CI tests with
// `access test`.
const quickstart = "../../examples/model/model.yaml"

// runCmd runs the command in the process and returns what it wrote to
// stdout and stderr, and its exit code, as one text.
func runCmd(args ...string) string {
	var out, errs bytes.Buffer
	code := run(args, &out, &errs)
	var b strings.Builder
	b.WriteString(out.String())
	if errs.Len() > 0 {
		b.WriteString("-- stderr --\n")
		b.WriteString(errs.String())
	}
	fmt.Fprintf(&b, "-- exit %d --\n", code)
	return b.String()
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("output of %s (-want +got):\n%s", name, diff)
	}
}

// TestFiles runs the subcommands that take model files.
func TestFiles(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"test-quickstart", []string{"test", quickstart}},
		{"test-failing", []string{"test", quickstart, "testdata/failing.yaml"}},
		{"test-broken", []string{"test", "testdata/broken.yaml"}},
		{"test-badrights", []string{"test", "testdata/badrights.json"}},
		{"usage", nil},
		{"usage-unknown", []string{"frobnicate"}},
		{"usage-explain", []string{"explain", quickstart, "Person 1"}},
		{"test-not-a-model", []string{"test", "model.db"}},
		{"explain-unknown-who", []string{"explain", quickstart, "Person 9", "read", "contact"}},
		{"explain-unknown-id", []string{"explain", quickstart, "999", "read", "contact"}},
		{"who-can-unknown-owner", []string{"who-can", quickstart, "read", "contact{owner: 999}"}},
		{"explain-bad-record", []string{"explain", quickstart, "Person 1", "read", "contact{boss: x}"}},
		{"matrix-unknown-group", []string{"matrix", quickstart, "Nowhere"}},
		{"load-no-into", []string{"load", quickstart}},
		{"export-flag-without-value", []string{"export", quickstart, "-o"}},
		{"graph-bad-format", []string{"graph", quickstart, "--format", "png"}},
		{"graph-not-a-member", []string{"graph", quickstart, "--around", "Person 1", "--path", "Team B"}},
		{"graph-path-on-group", []string{"graph", quickstart, "--around", "Team A", "--path", "Sales"}},
		{"graph-unknown", []string{"graph", quickstart, "--around", "Nobody"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			checkGolden(t, tt.golden, runCmd(tt.args...))
		})
	}
}

// sourceCommands run against every kind of source and must print the
// same thing for each: the golden files do not depend on the source.
var sourceCommands = []struct {
	golden string
	args   []string // "SRC" stands for the source
}{
	{"explain-allow", []string{"explain", "SRC", "Person 1", "update", "contact{id: 7, owner: 102, group: Team A}"}},
	{"explain-deny", []string{"explain", "SRC", "Person 3", "delete", `contact{owner: "Person 1", group: Team A}`}},
	{"explain-odd-role", []string{"explain", "SRC", "Person 4", "delete", "contact{owner: Person 1, group: Team A}"}},
	{"explain-sharing", []string{"explain", "SRC", "101", "update", "sale{owner: Person 3, group: 11}"}},
	{"who-can", []string{"who-can", "SRC", "read", "sale{owner: Person 3, group: Team B}"}},
	{"groups", []string{"groups", "SRC", "Person 1"}},
	{"groups-by-id", []string{"groups", "SRC", "104"}},
	{"lint", []string{"lint", "SRC"}},
	{"matrix", []string{"matrix", "SRC", "Sales"}},
	{"export", []string{"export", "SRC"}},
	{"categories-from-group", []string{"categories", "SRC", "Person 2"}},
	{"categories-direct", []string{"categories", "SRC", "Person 3"}},
	{"graph-model", []string{"graph", "SRC", "--format", "dot"}},
	{"graph-associate", []string{"graph", "SRC", "--format", "mermaid", "--around", "Person 1", "--path", "Sales"}},
	{"graph-associate-svg", []string{"graph", "SRC", "--around", "Person 1", "--path", "Berlin office"}},
	{"graph-group", []string{"graph", "SRC", "--format", "dot", "--around", "g:Team A"}},
}

func runSources(t *testing.T, src string) {
	for _, tt := range sourceCommands {
		t.Run(tt.golden, func(t *testing.T) {
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, "SRC", src)
			}
			checkGolden(t, tt.golden, runCmd(args...))
		})
	}
}

func TestModelFileSource(t *testing.T) {
	runSources(t, quickstart)
}

// TestJSONModelFile: the quickstart model exported as JSON answers the
// same.
func TestJSONModelFile(t *testing.T) {
	f, err := model.ReadFile(quickstart)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := f.Batch()
	if err != nil {
		t.Fatal(err)
	}
	data, err := model.Marshal(model.FromBatch(&b), true)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if *update {
		t.Skip("golden files come from the YAML source")
	}
	runSources(t, path)
}

// loadQuickstart puts the quickstart model into a migrated store.
func loadQuickstart(t *testing.T, s interface {
	Migrate(context.Context) error
	access.Writer
}) {
	t.Helper()
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f, err := model.ReadFile(quickstart)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := model.Load(ctx, s, f); err != nil {
		t.Fatal(err)
	}
}

func TestSQLiteSource(t *testing.T) {
	if *update {
		t.Skip("golden files come from the model file source")
	}
	path := filepath.Join(t.TempDir(), "model.db")
	s, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	loadQuickstart(t, s)
	s.Close()
	runSources(t, path)
	t.Run("missing file", func(t *testing.T) {
		got := runCmd("lint", filepath.Join(t.TempDir(), "nothing.db"))
		if !strings.Contains(got, "no such file") || !strings.HasSuffix(got, "-- exit 2 --\n") {
			t.Errorf("lint of a missing SQLite file: %s", got)
		}
	})
}

func TestPostgresSource(t *testing.T) {
	if *update {
		t.Skip("golden files come from the model file source")
	}
	dsn := os.Getenv("ACCESS_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("ACCESS_TEST_POSTGRES_DSN is not set")
	}
	ctx := context.Background()
	var b [6]byte
	rand.Read(b[:])
	schema := "access_cli_" + hex.EncodeToString(b[:])
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	defer c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	s, err := postgres.Open(ctx, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	loadQuickstart(t, s)
	s.Close()
	runSources(t, u.String())
}

// readmePicture is the picture of the example model the README shows.
const readmePicture = "../../docs/model-graph.svg"

// TestREADMEPicture: the README's picture of the example model is what
// `access graph` draws today (Person 1's groups, the path into Sales
// highlighted); -update redraws it.
func TestREADMEPicture(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"graph", quickstart, "--around", "Person 1", "--path", "Sales"}, &out, &errs); code != exitOK {
		t.Fatalf("access graph: exit %d: %s", code, errs.String())
	}
	// Well-formed XML, with the associate, its groups and the path into
	// Sales (Person 1 → Team A → Sales) highlighted.
	d := xml.NewDecoder(bytes.NewReader(out.Bytes()))
	var texts []string
	highlighted := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
		switch x := tok.(type) {
		case xml.CharData:
			texts = append(texts, string(x))
		case xml.StartElement:
			for _, a := range x.Attr {
				if a.Name.Local == "class" && strings.Contains(a.Value, "hl") {
					highlighted++
				}
			}
		}
	}
	all := strings.Join(texts, "|")
	for _, want := range []string{"Person 1 (101)", "Team A (10)", "Sales (20)", "Berlin office (40)"} {
		if !strings.Contains(all, want) {
			t.Errorf("the SVG lacks the node %q", want)
		}
	}
	if highlighted < 5 { // three nodes and the two edges between them
		t.Errorf("%d highlighted elements, want the path's three nodes and two edges", highlighted)
	}
	if *update {
		if err := os.WriteFile(readmePicture, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(readmePicture)
	if err != nil {
		t.Fatalf("%v (run with -update to draw it)", err)
	}
	if diff := cmp.Diff(string(want), out.String()); diff != "" {
		t.Errorf("%s is not what access graph draws (-want +got):\n%s", readmePicture, diff)
	}
}

// TestLoadExport: a model file loaded into a new SQLite store with
// `access load` exports as the file itself does, in YAML and in JSON.
func TestLoadExport(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "loaded.db")
	if got := runCmd("load", quickstart, "--into", db); !strings.HasPrefix(got, "loaded ") || !strings.HasSuffix(got, "-- exit 0 --\n") {
		t.Fatalf("access load: %s", got)
	}
	want, got := runCmd("export", quickstart), runCmd("export", db)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("export of the loaded store differs from the file's (-file +store):\n%s", diff)
	}
	js := filepath.Join(dir, "model.json")
	if out := runCmd("export", db, "-o", js); out != "-- exit 0 --\n" {
		t.Fatalf("export -o: %s", out)
	}
	if diff := cmp.Diff(want, runCmd("export", js)); diff != "" {
		t.Errorf("the JSON export read back differs (-file +json):\n%s", diff)
	}
	// Puts replace: loading again changes nothing.
	if got := runCmd("load", quickstart, "--into", db); !strings.HasSuffix(got, "-- exit 0 --\n") {
		t.Errorf("loading the same model twice: %s", got)
	}
	if diff := cmp.Diff(want, runCmd("export", db)); diff != "" {
		t.Errorf("export after loading twice (-file +store):\n%s", diff)
	}
}

// TestMigrate: access migrate creates an SQLite store's schema, says its
// version, and changes nothing the second time; the store then takes a
// load.
func TestMigrate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "new.db")
	want := fmt.Sprintf("%s: schema version %d\n-- exit 0 --\n", db, sqlite.SchemaVersion)
	for range 2 {
		if got := runCmd("migrate", db); got != want {
			t.Fatalf("access migrate: %q, want %q", got, want)
		}
	}
	if got := runCmd("load", quickstart, "--into", db); !strings.HasSuffix(got, "-- exit 0 --\n") {
		t.Errorf("load into the migrated store: %s", got)
	}
	if got := runCmd("migrate"); !strings.Contains(got, "-- exit 2 --") {
		t.Errorf("migrate without a store: %s", got)
	}
}

// TestPastOwners: a store holding a past owner (an associate deleted
// while its records keep its id) loads into another store without it and
// exports without it, and both say so on stderr; before, load failed
// ("past owners are written by the store…", exit 2) and export dropped it
// silently.
func TestPastOwners(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	s, err := sqlite.Open(ctx, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	loadQuickstart(t, s)
	if _, err := s.Apply(ctx, access.Batch{DeleteAssociates: []access.AssociateID{105}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	warning := "access: warning: " + src + ": 1 past owner was %s: Former colleague (105); only a store writes past owners"

	got := runCmd("export", src)
	if !strings.Contains(got, "-- stderr --\n"+fmt.Sprintf(warning, "not exported")) || !strings.HasSuffix(got, "-- exit 0 --\n") {
		t.Errorf("access export: %s", got)
	}
	if strings.Contains(got, "Former colleague") && strings.Index(got, "Former colleague") < strings.Index(got, "-- stderr --") {
		t.Errorf("access export wrote the past owner as an associate:\n%s", got)
	}

	dst := filepath.Join(dir, "dst.db")
	got = runCmd("load", src, "--into", dst)
	if !strings.HasPrefix(got, "loaded 4 roles, 6 groups, 4 associates into "+dst+"\n-- stderr --\n"+fmt.Sprintf(warning, "not loaded")) || !strings.HasSuffix(got, "-- exit 0 --\n") {
		t.Errorf("access load: %s", got)
	}
	// The copy is the source without the past owner.
	want, _, _ := strings.Cut(runCmd("export", src), "-- stderr --")
	if diff := cmp.Diff(want+"-- exit 0 --\n", runCmd("export", dst)); diff != "" {
		t.Errorf("export of the loaded copy (-source +copy):\n%s", diff)
	}
}
