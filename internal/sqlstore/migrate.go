package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one step of a schema's history: the SQL that takes it from
// Version-1 to Version. Migrations only ever add; they never drop data.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// ParseMigrations reads the files NNNN_name.sql in dir of fsys, which must
// be numbered 1, 2, 3… up to version without gaps.
func ParseMigrations(fsys fs.FS, dir string, version int) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive version and _", name)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(b)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.Name, i+1)
		}
	}
	if len(out) != version {
		return nil, fmt.Errorf("%d migrations for schema version %d", len(out), version)
	}
	return out, nil
}

// SchemaVersion reads the schema version recorded in the access_schema
// table; 0 when the table does not exist.
func SchemaVersion(ctx context.Context, d *Dialect, c Conn) (int, error) {
	rows, err := c.Query(ctx, d.HasTable, "access_schema")
	if err != nil {
		return 0, fmt.Errorf("reading the schema version: %w", err)
	}
	var exists bool
	if rows.Next() {
		err = rows.Scan(&exists)
	}
	rows.Close()
	if err == nil {
		err = rows.Err()
	}
	if err != nil || !exists {
		return 0, err
	}
	rows, err = c.Query(ctx, "SELECT COALESCE(max(version), 0) FROM access_schema")
	if err != nil {
		return 0, fmt.Errorf("reading the schema version: %w", err)
	}
	defer rows.Close()
	var v int64
	if rows.Next() {
		if err := rows.Scan(&v); err != nil {
			return 0, fmt.Errorf("reading the schema version: %w", err)
		}
	}
	return int(v), rows.Err()
}

// CheckVersion reports whether a database at schema version have can be
// used by code that needs version want: nil, or an error wrapping
// [ErrSchemaTooNew] or [ErrNotMigrated].
func CheckVersion(engine string, have, want int) error {
	switch {
	case have > want:
		return fmt.Errorf("%s: %w: the database is at schema version %d, this code knows versions up to %d", engine, ErrSchemaTooNew, have, want)
	case have < want:
		return fmt.Errorf("%s: %w: the database is at schema version %d, this code needs %d; call Migrate", engine, ErrNotMigrated, have, want)
	}
	return nil
}

// Migrate applies the migrations after the database's current version, up
// to version upTo, in c's transaction. The caller holds a lock that keeps
// other migrators out until the transaction ends. Migrate reports an
// error wrapping [ErrSchemaTooNew] when the database is newer than upTo.
func Migrate(ctx context.Context, d *Dialect, c Conn, ms []Migration, upTo int) error {
	engine := d.Name
	if err := c.Exec(ctx, d.SchemaTable); err != nil {
		return fmt.Errorf("%s: creating access_schema: %w", engine, err)
	}
	have, err := SchemaVersion(ctx, d, c)
	if err != nil {
		return fmt.Errorf("%s: %w", engine, err)
	}
	if have > upTo {
		return CheckVersion(engine, have, upTo)
	}
	for _, m := range ms[have:upTo] {
		if err := c.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("%s: migration %s: %w", engine, m.Name, err)
		}
		if err := c.Exec(ctx, "INSERT INTO access_schema (version, name) VALUES ($1, $2)", int64(m.Version), m.Name); err != nil {
			return fmt.Errorf("%s: migration %s: %w", engine, m.Name, err)
		}
	}
	return nil
}
