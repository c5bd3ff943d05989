package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/cmd/access/model"
)

// cmdExport writes the whole model of SOURCE as a model file: YAML on w,
// or to FILE with -o (JSON when FILE ends in .json). Exporting a model
// file and loading the export gives the same model back. A model file has
// no past owners (only a store writes them, when it deletes an
// associate): the export leaves them out and says so on stderr.
func cmdExport(ctx context.Context, args []string, w, stderr io.Writer) (int, error) {
	pos, flags, err := splitFlags(args, "-o")
	if err != nil {
		return 0, err
	}
	if err := wantArgs(pos, 1, "SOURCE [-o FILE]"); err != nil {
		return 0, err
	}
	s, err := open(ctx, pos[0])
	if err != nil {
		return 0, err
	}
	defer s.Close()
	warnPastOwners(stderr, pos[0], &s.batch, "not exported")
	out := flags["-o"]
	data, err := model.Marshal(model.FromBatch(&s.batch), strings.HasSuffix(strings.ToLower(out), ".json"))
	if err != nil {
		return 0, err
	}
	if out == "" {
		_, err = w.Write(data)
	} else {
		err = os.WriteFile(out, data, 0o644)
	}
	return exitOK, err
}

// cmdLoad writes the model SOURCE holds (a model file, or another store)
// into STORE, a PostgreSQL DSN or an SQLite file (created when missing),
// migrating its schema first, in one write: all of it or nothing. Past
// owners of a source store are not loaded (a batch cannot write them;
// see access.PastOwner): load says how many on stderr.
func cmdLoad(ctx context.Context, args []string, w, stderr io.Writer) (int, error) {
	pos, flags, err := splitFlags(args, "--into")
	if err != nil {
		return 0, err
	}
	into := flags["--into"]
	if len(pos) != 1 || into == "" {
		return 0, fmt.Errorf("%w: expected SOURCE --into STORE", errUsage)
	}
	s, err := open(ctx, pos[0])
	if err != nil {
		return 0, err
	}
	defer s.Close()
	warnPastOwners(stderr, pos[0], &s.batch, "not loaded")
	b := s.batch
	b.PastOwners = nil
	if err := applyInto(ctx, into, b); err != nil {
		return 0, err
	}
	fmt.Fprintf(w, "loaded %d roles, %d groups, %d associates into %s\n", len(b.Roles), len(b.Groups), len(b.Associates), into)
	return exitOK, nil
}

// warnPastOwners tells on stderr that the past owners b holds, if any,
// are left out: a model file cannot hold them and a batch cannot write
// them. Their records keep their owner ids; the relations a past owner
// kept (a superior's Subordinate, sharing rules from its role or group)
// no longer hold for them in the copy.
func warnPastOwners(stderr io.Writer, source string, b *access.Batch, what string) {
	n := len(b.PastOwners)
	if n == 0 {
		return
	}
	names := make([]string, 0, min(n, 5))
	for _, p := range b.PastOwners[:min(n, 5)] {
		names = append(names, fmt.Sprintf("%s (%d)", p.Name, p.ID))
	}
	if n > 5 {
		names = append(names, "…")
	}
	noun := "past owners were"
	if n == 1 {
		noun = "past owner was"
	}
	fmt.Fprintf(stderr, "access: warning: %s: %d %s %s: %s; only a store writes past owners, when it deletes an associate, so the copy loses the relations they keep for their records (a superior's subordinate relation, sharing rules from their role or group)\n",
		source, n, noun, what, strings.Join(names, ", "))
}

// cmdMigrate brings the schema of STORE, a PostgreSQL DSN or an SQLite
// file, up to the version this command's library writes. Migrations only
// ever add; running it on a current schema changes nothing.
func cmdMigrate(ctx context.Context, args []string, w io.Writer) (int, error) {
	if err := wantArgs(args, 1, "STORE"); err != nil {
		return 0, err
	}
	v, err := migrate(ctx, args[0])
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(w, "%s: schema version %d\n", args[0], v)
	return exitOK, nil
}

// splitFlags separates the flags named, each taking a value, from the
// positional arguments, wherever they stand.
func splitFlags(args []string, names ...string) (pos []string, flags map[string]string, err error) {
	flags = map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		known := false
		for _, n := range names {
			known = known || a == n
		}
		if !known {
			pos = append(pos, a)
			continue
		}
		if i+1 >= len(args) {
			return nil, nil, fmt.Errorf("%w: %s needs a value", errUsage, a)
		}
		i++
		flags[a] = args[i]
	}
	return pos, flags, nil
}
