package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/crmaccess/access"
)

// Bump raises the revision counter by one and returns the new revision.
// In PostgreSQL the update also locks the counter row until commit.
func Bump(ctx context.Context, c Conn) (access.Revision, error) {
	rows, err := c.Query(ctx, "UPDATE access_revision SET revision = revision + 1 RETURNING revision")
	if err != nil {
		return 0, fmt.Errorf("raising the revision: %w", err)
	}
	defer rows.Close()
	var rev int64
	if rows.Next() {
		err = rows.Scan(&rev)
	}
	if err == nil {
		err = rows.Err()
	}
	if err == nil && rev <= 0 {
		err = &RowError{Table: "access_revision", Row: "1", Msg: "missing"}
	}
	if err != nil {
		return 0, fmt.Errorf("raising the revision: %w", err)
	}
	return access.Revision(rev), nil
}

// Apply validates b with [access.Batch.Validate] against what c sees and
// writes it, recording revision rev in the change log. The caller holds
// the store's write lock in c's transaction and has raised the revision
// with [Bump]. If must names an entity with a positive id, Apply fails
// with an error wrapping [access.ErrNotFound] unless it exists (an id that
// is not positive is left to Validate, which calls it invalid).
//
// Validation errors are returned as they are; others are wrapped with the
// dialect's name.
func Apply(ctx context.Context, d *Dialect, c Conn, b *access.Batch, must access.Ref, rev access.Revision, now time.Time) error {
	// Check before any of b reaches the database: a driver refuses some
	// values outside the domain with an error of its own (PostgreSQL and
	// a NUL byte), and alters others (invalid UTF-8 in a JSON parameter).
	if err := b.Check(); err != nil {
		return err
	}
	v := NewView(d, c)
	if must.Kind != 0 && must.ID > 0 {
		if err := v.fetch(ctx, Selection{must.Kind: {must.ID}}); err != nil {
			return fmt.Errorf("%s: %w", d.Name, err)
		}
		if !v.m.Has(must) {
			return fmt.Errorf("%s: %s: %w", d.Name, must, access.ErrNotFound)
		}
	}
	b, err := prepare(ctx, d, v, b, rev-1)
	if err != nil {
		return err
	}
	if err := v.Prefetch(ctx, b); err != nil {
		return err
	}
	if err := b.Validate(ctx, v); err != nil {
		return err
	}
	kept, err := b.KeepPastOwners(ctx, v)
	if err != nil {
		return fmt.Errorf("%s: %w", d.Name, err)
	}
	if err := write(ctx, d, c, &kept, rev, now); err != nil {
		return fmt.Errorf("%s: %w", d.Name, err)
	}
	return nil
}

// Bulk is implemented by a [Conn] whose engine writes a large batch
// faster with its per-row checks of the references between tables
// suspended (PostgreSQL checks a foreign key row by row, and at a million
// associates that is most of an import), and then checks every row at once
// when they are restored.
type Bulk interface {
	// Bulk is called by a write that is about to insert rows (about that
	// many) into and delete rows from tables (every table of each kind the
	// write puts or deletes, in the order of [Tables]), before it changes
	// anything. It returns nil when it suspends nothing, which is its
	// choice (a small write, a table the connection may not alter).
	// Otherwise the checks between those tables and any other are
	// suspended until the write calls end, after its last statement; end
	// restores them and checks every row, failing when one refers to what
	// does not exist. While they are suspended a deleted entity's child rows
	// do not go with it on their own, so the write deletes them itself.
	Bulk(ctx context.Context, tables []string, rows int) (end func(ctx context.Context) error, err error)
}

// emptyCheck is the number of entities of one kind from which a write
// first asks whether the kind's table holds any row at all.
const emptyCheck = 1000

// Tables lists every table of every kind, each kind's main table first,
// in the order the code reads them; an engine that locks several of them
// at once locks them in this order, as readers take them.
func Tables() []string {
	var out []string
	for _, k := range kinds {
		for _, t := range k.tables {
			out = append(out, t.name)
		}
	}
	return out
}

// write stores b. Every entity b puts or deletes first loses its rows
// (its child rows go with it, ON DELETE CASCADE); then the puts are
// inserted afresh. Replacing rather than updating lets one batch swap two
// associates' names under the unique index, and keeps the code the same
// for every kind. The foreign keys between entities are deferred to
// commit, so the order of the statements does not matter to them.
//
// The deletes name their ids as a subquery (Dialect.List) rather than
// with Dialect.In: PostgreSQL plans "id = ANY($1)" by looking at every
// element of the array, a tenth of a second per 100,000 ids whether or not
// any row matches. A kind with many puts or deletes whose table is empty
// deletes nothing.
//
// When c is a [Bulk] that suspends its checks for the write, the child
// rows are deleted explicitly, and the checks are restored (checking
// every row) after the last statement.
func write(ctx context.Context, d *Dialect, c Conn, b *access.Batch, rev access.Revision, now time.Time) error {
	type change struct {
		k          *kindSpec
		puts, dels []int64
	}
	w := rowSink{}
	var changes []change
	var touched []string
	rows := 0
	for _, k := range kinds {
		puts, dels := k.puts(b), k.deletes(b)
		if len(puts)+len(dels) == 0 {
			continue
		}
		changes = append(changes, change{k, puts, dels})
		k.encodeAll(d, b, w)
		for _, t := range k.tables {
			touched = append(touched, t.name)
			if r := w[t.name]; r != nil {
				rows += r.n
			}
		}
		rows += len(puts) + len(dels) // the change log
	}
	var end func(ctx context.Context) error
	if bk, ok := c.(Bulk); ok {
		var err error
		if end, err = bk.Bulk(ctx, touched, rows); err != nil {
			return fmt.Errorf("suspending the foreign keys: %w", err)
		}
	}
	var log [][]any
	at := d.Time(now)
	for _, ch := range changes {
		k := ch.k
		if len(ch.puts)+len(ch.dels) >= emptyCheck {
			// An import into an empty table has nothing to delete, and
			// naming a million ids costs a second; the owner keys of the
			// child tables are never deferred, so they are empty too.
			held, err := queryIDs(ctx, c, "SELECT 1 FROM "+k.main()+" LIMIT 1")
			if err != nil {
				return fmt.Errorf("reading %s: %w", k.main(), err)
			}
			if len(held) == 0 {
				for _, id := range ch.puts {
					log = append(log, []any{int64(rev), int64(k.kind), id, false, at})
				}
				continue
			}
		}
		if end != nil {
			ids := d.IDs(append(slices.Clip(ch.puts), ch.dels...))
			for _, t := range k.tables[1:] {
				if err := c.Exec(ctx, "DELETE FROM "+t.name+" WHERE "+t.key+" IN ("+d.List+")", ids); err != nil {
					return fmt.Errorf("writing %s: %w", t.name, err)
				}
			}
		}
		if len(ch.puts) > 0 {
			if err := c.Exec(ctx, "DELETE FROM "+k.main()+" WHERE id IN ("+d.List+")", d.IDs(ch.puts)); err != nil {
				return fmt.Errorf("writing %s: %w", k.main(), err)
			}
			for _, id := range ch.puts {
				log = append(log, []any{int64(rev), int64(k.kind), id, false, at})
			}
		}
		if len(ch.dels) > 0 {
			// Deleting what is not there is no error, and no change.
			gone, err := queryIDs(ctx, c, "DELETE FROM "+k.main()+" WHERE id IN ("+d.List+") RETURNING id", d.IDs(ch.dels))
			if err != nil {
				return fmt.Errorf("writing %s: %w", k.main(), err)
			}
			for _, id := range gone {
				log = append(log, []any{int64(rev), int64(k.kind), id, true, at})
			}
		}
	}
	for _, k := range kinds {
		for _, t := range k.tables {
			if rows := w.rows(t.name); len(rows) > 0 {
				if err := c.Insert(ctx, t.name, t.cols, rows); err != nil {
					return fmt.Errorf("writing %s: %w", t.name, err)
				}
			}
		}
	}
	if len(log) > 0 {
		if err := c.Insert(ctx, "access_change", []string{"revision", "kind", "id", "deleted", "changed_at"}, log); err != nil {
			return fmt.Errorf("writing the change log: %w", err)
		}
	}
	if end != nil {
		if err := end(ctx); err != nil {
			return fmt.Errorf("restoring the foreign keys: %w", err)
		}
	}
	return nil
}

// Trim drops change-log entries so that at most keep remain (keep <= 0:
// no limit by count) and none older than before remains (zero: no limit
// by age). It drops whole revisions and raises the log floor past them,
// so Changes answers a since older than the floor with a full delta. The
// caller holds the store's write lock.
func Trim(ctx context.Context, d *Dialect, c Conn, keep int, before time.Time) error {
	var cut int64
	scan := func(q string, args ...any) error {
		rows, err := c.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		if rows.Next() {
			var r *int64
			if err := rows.Scan(&r); err != nil {
				return err
			}
			if r != nil && *r > cut {
				cut = *r
			}
		}
		return rows.Err()
	}
	if keep > 0 {
		if err := scan("SELECT revision FROM access_change ORDER BY revision DESC LIMIT 1 OFFSET $1", int64(keep)); err != nil {
			return fmt.Errorf("%s: trimming the change log: %w", d.Name, err)
		}
	}
	if !before.IsZero() {
		if err := scan("SELECT max(revision) FROM access_change WHERE changed_at < $1", d.Time(before)); err != nil {
			return fmt.Errorf("%s: trimming the change log: %w", d.Name, err)
		}
	}
	if cut == 0 {
		return nil
	}
	if err := c.Exec(ctx, "DELETE FROM access_change WHERE revision <= $1", cut); err != nil {
		return fmt.Errorf("%s: trimming the change log: %w", d.Name, err)
	}
	if err := c.Exec(ctx, "UPDATE access_revision SET log_floor = $1 WHERE log_floor < $1", cut); err != nil {
		return fmt.Errorf("%s: trimming the change log: %w", d.Name, err)
	}
	return nil
}
