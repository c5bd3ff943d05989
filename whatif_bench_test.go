package access_test

import (
	"context"
	"slices"
	"testing"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/orggen"
	"github.com/crmaccess/access/store/memory"
)

// BenchmarkWhatIf previews one-group changes on the default orggen
// organisation (100,000 associates, 10,000 groups). The target is ≤ 5 s
// per preview; the scoped changes take far less.
func BenchmarkWhatIf(b *testing.B) {
	ctx := context.Background()
	org := orggen.Generate(orggen.Default())
	s := memory.New()
	if _, err := s.Apply(ctx, org.Clone()); err != nil {
		b.Fatal(err)
	}
	e, err := access.NewResolver(ctx, s, &access.Options{PollInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	// The group with the most direct children, and the leaf group (it
	// includes no other, so nesting it anywhere forms no cycle) with the
	// most members.
	var top access.Group
	for _, g := range org.Groups {
		if g.Smart == "" && len(g.Groups) > len(top.Groups) {
			top = g
		}
	}
	var leaf access.Group
	most := -1
	for _, g := range org.Groups {
		if len(g.Groups) > 0 || g.Smart != "" || slices.Contains(top.Groups, g.ID) || g.ID == top.ID {
			continue
		}
		ms, err := e.Members(ctx, g.ID)
		if err != nil {
			b.Fatal(err)
		}
		if len(ms) > most {
			leaf, most = g, len(ms)
		}
	}
	nested := top
	nested.Groups = slices.Clone(top.Groups)
	nested.Groups = append(nested.Groups, leaf.ID)
	var joiner access.Associate
	for _, a := range org.Associates {
		if a.Type == access.Internal && !slices.Contains(a.Groups, top.ID) {
			joiner = a
			joiner.Groups = slices.Clone(a.Groups)
			break
		}
	}
	joiner.Groups = append(joiner.Groups, top.ID)
	role := org.Roles[len(org.Roles)-1]
	role.Functions = slices.Clone(role.Functions)
	role.Functions = append(role.Functions, "what-if")
	b.Logf("nesting %d (%d members) in %d; %d joins %d; role %d", leaf.ID, most, top.ID, joiner.ID, top.ID, role.ID)
	for _, bc := range []struct {
		name   string
		change access.Batch
	}{
		{"nest a group", access.Batch{Groups: []access.Group{nested}}},
		{"add a member", access.Batch{Associates: []access.Associate{joiner}}},
		{"role functions", access.Batch{Roles: []access.Role{role}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var d access.Diff
			for b.Loop() {
				var err error
				if d, err = e.WhatIf(ctx, bc.change); err != nil {
					b.Fatal(err)
				}
			}
			c := d.Counts()
			b.ReportMetric(float64(c.Associates), "associates")
			b.ReportMetric(float64(c.MembershipsAdded), "memberships")
		})
	}
}
