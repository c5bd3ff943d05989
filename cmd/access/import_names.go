package main

import (
	"fmt"
	"maps"
	"slices"

	"github.com/crmaccess/access"
)

// importName returns name when the library accepts it as a name, and
// fallback otherwise, noting why: an import must not fail on one odd row.
func importName(what, name, fallback string, note func(string, ...any)) string {
	switch {
	case name == "":
		note("%s has no name; imported as %q", what, fallback)
		return fallback
	case !access.ValidName(name):
		note("%s: name %.40q is no valid name (at most %d bytes of UTF-8, no NUL); imported as %q", what, name, access.MaxNameLen, fallback)
		return fallback
	}
	return name
}

// logins keeps associates' login names unique as the library compares
// them ([access.FoldName]).
type logins map[string]string

// take reserves name for what, or notes whom it belongs to and reports
// false.
func (l logins) take(what, name string, note func(string, ...any)) bool {
	k := access.FoldName(name)
	if other, ok := l[k]; ok {
		note("%s: login name %q is taken by %s (names are compared ignoring case); not imported", what, name, other)
		return false
	}
	l[k] = what
	return true
}

// breakCycles removes the edges of a directed graph (node → nodes it
// points to) that close a cycle, visiting nodes and edges in order so
// that the result does not depend on map order, and returns them.
func breakCycles(edges map[int64][]int64) [][2]int64 {
	const (
		unseen = iota
		onPath
		done
	)
	state := map[int64]int{}
	var removed [][2]int64
	var visit func(n int64)
	visit = func(n int64) {
		state[n] = onPath
		kept := edges[n][:0:0]
		for _, m := range edges[n] {
			switch state[m] {
			case onPath:
				removed = append(removed, [2]int64{n, m})
				continue
			case unseen:
				visit(m)
			}
			kept = append(kept, m)
		}
		if edges[n] != nil {
			edges[n] = kept
		}
		state[n] = done
	}
	for _, n := range slices.Sorted(maps.Keys(edges)) {
		if state[n] == unseen {
			visit(n)
		}
	}
	return removed
}

// idText is a fallback name.
func idText(kind string, id any) string { return fmt.Sprintf("%s %v", kind, id) }
