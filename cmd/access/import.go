package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/cmd/access/model"
	"github.com/crmaccess/access/store/memory"
	"github.com/crmaccess/access/store/postgres"
	"github.com/crmaccess/access/store/sqlite"
	_ "github.com/go-sql-driver/mysql" // vtiger runs on MySQL and MariaDB
	_ "github.com/jackc/pgx/v5/stdlib" // SuperOffice-shaped PostgreSQL databases
)

// importer reads one seed system's database into a batch, with notes on
// what had no equivalent.
type importer func(ctx context.Context, dsn string, progress func(done, total int)) (access.Batch, []string, error)

var importers = map[string]importer{
	"vtiger": func(ctx context.Context, dsn string, progress func(done, total int)) (access.Batch, []string, error) {
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			return access.Batch{}, nil, fmt.Errorf("vtiger: %w", err)
		}
		defer db.Close()
		d, err := readVtiger(ctx, db, progress)
		if err != nil {
			return access.Batch{}, nil, err
		}
		b, notes := d.batch()
		return b, notes, nil
	},
	"superoffice": func(ctx context.Context, dsn string, progress func(done, total int)) (access.Batch, []string, error) {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return access.Batch{}, nil, fmt.Errorf("superoffice: %w", err)
		}
		defer db.Close()
		d, err := readSuperOffice(ctx, db, progress)
		if err != nil {
			return access.Batch{}, nil, err
		}
		b, notes := d.batch()
		return b, notes, nil
	},
}

// cmdImport is `access import SYSTEM DSN [-o FILE | --into STORE]`: it
// reads the database, checks the result as a store would (nothing is
// written when it does not pass), and writes it as a model file (to
// stdout without -o) or into a store. A summary, with every row that had
// no equivalent, goes to stderr.
func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	pos, flags, err := splitFlags(args, "-o", "--into")
	if err != nil {
		return 0, err
	}
	out, into := flags["-o"], flags["--into"]
	if err := wantArgs(pos, 2, "vtiger|superoffice DSN"); err != nil {
		return 0, err
	}
	if out != "" && into != "" {
		return 0, fmt.Errorf("%w: -o and --into exclude each other", errUsage)
	}
	imp, ok := importers[pos[0]]
	if !ok {
		return 0, fmt.Errorf("%w: import from %q: vtiger or superoffice", errUsage, pos[0])
	}
	b, notes, err := imp(ctx, pos[1], progressBar(stderr, "reading "+pos[0]))
	if err != nil {
		return 0, err
	}
	// A memory store checks the batch exactly as every store would.
	if _, err := memory.New().Apply(ctx, b); err != nil {
		return 0, fmt.Errorf("import %s: the imported model is not valid: %w", pos[0], err)
	}
	switch {
	case into != "":
		if err := applyInto(ctx, into, b); err != nil {
			return 0, err
		}
	default:
		data, err := model.Marshal(model.FromBatch(&b), strings.HasSuffix(strings.ToLower(out), ".json"))
		if err != nil {
			return 0, err
		}
		if out == "" {
			_, err = stdout.Write(data)
		} else {
			err = os.WriteFile(out, data, 0o644)
		}
		if err != nil {
			return 0, err
		}
	}
	fmt.Fprintf(stderr, "imported from %s: %d roles, %d groups, %d associates\n", pos[0], len(b.Roles), len(b.Groups), len(b.Associates))
	if len(notes) > 0 {
		fmt.Fprintf(stderr, "%d notes (what had no equivalent, and choices made):\n", len(notes))
		for _, n := range notes {
			fmt.Fprintf(stderr, "  %s\n", n)
		}
	}
	return exitOK, nil
}

// applyInto writes b into a PostgreSQL store or an SQLite file (created
// when missing) in one write, after migrating the store's schema.
func applyInto(ctx context.Context, target string, b access.Batch) error {
	w, done, err := openWriter(ctx, target)
	if err != nil {
		return err
	}
	defer done()
	if _, err := w.Apply(ctx, b); err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	return nil
}

// migrate brings the schema of the SQL store target up to date and
// returns its version.
func migrate(ctx context.Context, target string) (int, error) {
	_, done, err := openWriter(ctx, target)
	if err != nil {
		return 0, err
	}
	done()
	if isPostgres(target) {
		return postgres.SchemaVersion, nil
	}
	return sqlite.SchemaVersion, nil
}

// isPostgres reports whether target is a PostgreSQL DSN.
func isPostgres(target string) bool {
	return strings.HasPrefix(target, "postgres://") || strings.HasPrefix(target, "postgresql://")
}

// openWriter opens a PostgreSQL store or an SQLite file (created when
// missing) and migrates its schema, which is idempotent and never drops
// data; done closes it.
func openWriter(ctx context.Context, target string) (access.Writer, func(), error) {
	var w interface {
		access.Writer
		Migrate(context.Context) error
		Close()
	}
	if isPostgres(target) {
		p, err := postgres.Open(ctx, target, nil)
		if err != nil {
			return nil, nil, err
		}
		w = p
	} else {
		q, err := sqlite.Open(ctx, target, nil)
		if err != nil {
			return nil, nil, err
		}
		w = q
	}
	if err := w.Migrate(ctx); err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("%s: %w", target, err)
	}
	return w, func() { w.Close() }, nil
}

// progressBar returns a function drawing a progress bar on w when w is a
// terminal, and nil otherwise (so that logs and tests see none).
func progressBar(w io.Writer, label string) func(done, total int) {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	const width = 30
	return func(done, total int) {
		n := width * done / max(total, 1)
		fmt.Fprintf(f, "\r%s [%s%s] %d/%d", label, strings.Repeat("#", n), strings.Repeat(" ", width-n), done, total)
		if done == total {
			fmt.Fprint(f, "\r\033[K")
		}
	}
}

// readRows runs query against db and hands every row to scan; errors
// name the system and the table.
func readRows(ctx context.Context, db *sql.DB, system, table, query string, scan func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", system, table, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("%s: %s: %w", system, table, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %s: %w", system, table, err)
	}
	return nil
}
