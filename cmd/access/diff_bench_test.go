package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/cmd/access/model"
	"github.com/crmaccess/access/internal/orggen"
	"github.com/crmaccess/access/store/memory"
	"github.com/crmaccess/access/store/sqlite"
)

// nestChange returns the default orggen organisation (100,000
// associates, 10,000 groups) and a one-group model-file fragment: the
// plain group with the most member groups gains the leaf group with the
// most members, as in the root package's BenchmarkWhatIf.
func nestChange(b *testing.B) (access.Batch, []byte) {
	org := orggen.Generate(orggen.Default())
	var top access.Group
	for _, g := range org.Groups {
		if g.Smart == "" && len(g.Groups) > len(top.Groups) {
			top = g
		}
	}
	members := map[access.GroupID]int{}
	for _, a := range org.Associates {
		members[a.PrimaryGroup]++
		for _, g := range a.Groups {
			members[g]++
		}
	}
	var leaf access.Group
	most := -1
	for _, g := range org.Groups {
		if len(g.Groups) > 0 || g.Smart != "" || slices.Contains(top.Groups, g.ID) || g.ID == top.ID {
			continue
		}
		if members[g.ID] > most {
			leaf, most = g, members[g.ID]
		}
	}
	nested := top
	nested.Groups = append(slices.Clone(top.Groups), leaf.ID)
	// Exported on its own, the group refers to the others by id.
	frag, err := model.Marshal(model.FromBatch(&access.Batch{Groups: []access.Group{nested}}), false)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("nesting group %d (%d direct members) in %d", leaf.ID, members[leaf.ID], top.ID)
	return org, frag
}

// BenchmarkDiffCommand runs `access diff big.db --change nest.yaml` in
// the process on an SQLite store of the default orggen organisation: open
// the store and read its model, build the resolver, put the fragment over
// the model (model.File.Change) and preview it (Engine.WhatIf). The
// target is ≤ 5 s per run.
func BenchmarkDiffCommand(b *testing.B) {
	ctx := context.Background()
	org, frag := nestChange(b)
	dir := b.TempDir()
	db := filepath.Join(dir, "big.db")
	s, err := sqlite.Open(ctx, db, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Apply(ctx, org); err != nil {
		b.Fatal(err)
	}
	s.Close()
	change := filepath.Join(dir, "nest.yaml")
	if err := os.WriteFile(change, frag, 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if code := run([]string{"diff", db, "--change", change}, io.Discard, io.Discard); code != exitFalse {
			b.Fatalf("access diff: exit %d, want %d", code, exitFalse)
		}
	}
}

// BenchmarkChangeWhatIf is the what-if path without the store: the
// fragment put over the model in memory, then previewed.
func BenchmarkChangeWhatIf(b *testing.B) {
	ctx := context.Background()
	org, frag := nestChange(b)
	m := memory.New()
	if _, err := m.Apply(ctx, org.Clone()); err != nil {
		b.Fatal(err)
	}
	e, err := access.NewResolver(ctx, m, &access.Options{PollInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	f, err := model.Parse("nest.yaml", frag)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Change", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.Change(&org); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Change+WhatIf", func(b *testing.B) {
		for b.Loop() {
			c, err := f.Change(&org)
			if err != nil {
				b.Fatal(err)
			}
			d, err := e.WhatIf(ctx, c)
			if err != nil {
				b.Fatal(err)
			}
			if d.Empty() {
				b.Fatal("no difference")
			}
		}
	})
}
