package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMESamples: every output line the README's section on the
// command shows is real: it is in one of the golden files the tests
// check, or it is what migrate and load print. A sample that drifts from
// the command's output fails here.
func TestREADMESamples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## The access command\n")
	if !ok {
		t.Fatal(`README.md has no section "## The access command"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")

	var known strings.Builder
	goldens, err := filepath.Glob("testdata/*.golden")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range goldens {
		data, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		known.Write(data)
	}
	// migrate and load print the store's name: run them on a model.db
	// and show it by that name.
	dir := t.TempDir()
	db := filepath.Join(dir, "model.db")
	for _, args := range [][]string{{"migrate", db}, {"load", quickstart, "--into", db}} {
		known.WriteString(strings.ReplaceAll(runCmd(args...), db, "model.db"))
	}
	lines := strings.Split(known.String(), "\n")
	has := make(map[string]bool, len(lines))
	for _, l := range lines {
		has[l] = true
	}

	checked := 0
	in := false
	for i, l := range strings.Split(section, "\n") {
		if strings.HasPrefix(l, "```") {
			in = !in
			continue
		}
		if !in || l == "" || l == "…" || strings.HasPrefix(l, "$ ") {
			continue
		}
		checked++
		if !has[l] {
			t.Errorf("README line %d of the section is no output of the command's goldens: %q", i+1, l)
		}
	}
	if checked < 50 {
		t.Errorf("checked %d sample lines; the section's samples went missing", checked)
	}
}
