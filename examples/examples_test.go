// Package examples_test checks the output of every program in examples/
// against a golden file, so that an example whose output changes — because
// the library's behaviour or wording changed, or the example broke — fails
// the tests instead of rotting quietly.
//
// Each example is built and run as a program, exactly as `go run` would,
// and its output (stdout and stderr) compared with
//
//   - <name>/testdata/output.golden: run without ACCESS_TEST_POSTGRES_DSN,
//     always checked;
//   - <name>/testdata/output-postgres.golden: run with it, for the examples
//     whose source reads that variable; checked when it is set, skipped with
//     a message otherwise.
//
// Timings vary from run to run, so durations ("13ms") read as <duration>.
// After a deliberate change, regenerate with
//
//	ACCESS_TEST_POSTGRES_DSN=… go test ./examples -update
package examples_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files with the examples' current output")

const dsnEnv = "ACCESS_TEST_POSTGRES_DSN"

// durations matches what time.Duration.String and rounded timings print.
var durations = regexp.MustCompile(`\b[0-9]+(\.[0-9]+)?(ns|µs|us|ms|s)\b`)

func TestExamplesOutput(t *testing.T) {
	names := exampleNames(t)
	bin := buildExamples(t, names)
	dsn := os.Getenv(dsnEnv)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Run("without PostgreSQL", func(t *testing.T) {
				checkGolden(t, filepath.Join(name, "testdata", "output.golden"), run(t, bin, name, ""))
			})
			src, err := os.ReadFile(filepath.Join(name, "main.go"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(src, []byte(dsnEnv)) {
				return
			}
			t.Run("PostgreSQL", func(t *testing.T) {
				if dsn == "" {
					t.Skipf("set %s to check this example's output on PostgreSQL too", dsnEnv)
				}
				checkGolden(t, filepath.Join(name, "testdata", "output-postgres.golden"), run(t, bin, name, dsn))
			})
		})
	}
}

// exampleNames lists the directories here that hold a main.go.
func exampleNames(t *testing.T) []string {
	t.Helper()
	mains, err := filepath.Glob(filepath.Join("*", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range mains {
		names = append(names, filepath.Dir(m))
	}
	slices.Sort(names)
	if len(names) == 0 {
		t.Fatal("no examples found: the test must run in the examples directory")
	}
	return names
}

// buildExamples builds every example with one go build into a temporary
// directory and returns it.
func buildExamples(t *testing.T, names []string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH, so the examples cannot be built")
	}
	bin := t.TempDir()
	args := []string{"build", "-o", bin + string(filepath.Separator)}
	for _, n := range names {
		args = append(args, "./"+n)
	}
	cmd := exec.Command(goTool, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}

// run runs one example in its directory, with ACCESS_TEST_POSTGRES_DSN set to
// dsn (unset when empty), and returns its output with durations scrubbed.
func run(t *testing.T, bin, name, dsn string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, name))
	cmd.Dir = name
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, dsnEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if dsn != "" {
		cmd.Env = append(cmd.Env, dsnEnv+"="+dsn)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return durations.ReplaceAll(out, []byte("<duration>"))
}

// checkGolden compares got with the golden file at path, or rewrites the
// file under -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./examples -update to create it)", err)
	}
	if diff := cmp.Diff(strings.SplitAfter(string(want), "\n"), strings.SplitAfter(string(got), "\n")); diff != "" {
		t.Errorf("%s: output differs from %s (-want +got):\n%s\nIf the change is intended, regenerate with: go test ./examples -update", filepath.Dir(filepath.Dir(path)), path, diff)
	}
}
