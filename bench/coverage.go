package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/crmaccess/access"
)

// coverage summarises what the decision queries exercise, from the
// library's explanations: how often each relation held, and how many
// decisions allowed. It shows that no relation of the shared policy goes
// untested, and how large the membership sets are.
func coverage(w *workload, l *libraryEngine) string {
	held := map[access.Relation]int{}
	allowed, member := 0, 0
	for _, q := range w.Decisions {
		d, err := l.e.Can(context.Background(), q.Who, q.Action, w.Records[q.Record])
		if err != nil {
			continue
		}
		for _, r := range d.Relations.All() {
			held[r]++
		}
		if d.Allowed {
			allowed++
		}
	}
	for _, q := range w.Members {
		if ok, _ := l.e.IsMember(context.Background(), q.Who, q.Group); ok {
			member++
		}
	}
	var b strings.Builder
	pct := func(n, of int) string { return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(max(of, 1))) }
	fmt.Fprintf(&b, "membership answers yes: %s; decisions allow: %s; relations held:", pct(member, len(w.Members)), pct(allowed, len(w.Decisions)))
	for _, r := range relations {
		sep := ","
		if r == relations[len(relations)-1] {
			sep = ""
		}
		fmt.Fprintf(&b, " %s %s%s", r, pct(held[r], len(w.Decisions)), sep)
	}
	// Every tenth internal associate's effective groups: the size of the
	// ancestor set Casbin and Cedar walk on a negative membership check.
	total, most, n := 0, 0, 0
	for i := 0; i < len(w.Org.Associates); i += 10 {
		if a := &w.Org.Associates[i]; a.Type == access.Internal {
			ms, err := l.e.EffectiveGroups(context.Background(), a.ID)
			if err == nil {
				total, most, n = total+len(ms), max(most, len(ms)), n+1
			}
		}
	}
	fmt.Fprintf(&b, "; effective groups per internal associate: mean %.1f, max %d", float64(total)/float64(max(n, 1)), most)
	return b.String()
}
