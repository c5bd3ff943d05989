package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/crmaccess/access"
)

// Load reads the entities sel names (everything for a nil sel) from c,
// with a handful of queries per kind however many entities there are. Ids
// that do not exist are simply absent from the model. A row the code
// cannot understand fails the load with a [*RowError].
func Load(ctx context.Context, d *Dialect, c Conn, sel Selection) (*Model, error) {
	m := NewModel()
	if sel == nil {
		if err := reserveAll(ctx, c, m); err != nil {
			return nil, err
		}
	}
	for _, k := range kinds {
		var ids []int64
		if sel != nil {
			if ids = sel[k.kind]; len(ids) == 0 {
				continue
			}
			k.reserve(m, len(ids))
		}
		for _, t := range k.tables {
			q := "SELECT " + t.sel + " FROM " + t.name
			var args []any
			if sel != nil {
				q += " WHERE " + d.In(t.key)
				args = append(args, d.IDs(ids))
			}
			q += " ORDER BY " + t.order
			if err := loadTable(ctx, c, &loader{d: d, m: m, t: t}, q, args); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// reserveAll makes room for every entity of every kind: growing a slice
// of a hundred thousand values as they arrive costs more than counting
// them. One query counts every kind's main table, so a small model's load
// pays one round trip for it, not one per kind.
func reserveAll(ctx context.Context, c Conn, m *Model) error {
	var q strings.Builder
	q.WriteString("SELECT ")
	for i, k := range kinds {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(SELECT count(*) FROM " + k.main() + ")")
	}
	rows, err := c.Query(ctx, q.String())
	if err != nil {
		return fmt.Errorf("counting the stored entities: %w", err)
	}
	defer rows.Close()
	n := make([]int64, len(kinds))
	dest := make([]any, len(kinds))
	for i := range n {
		dest[i] = &n[i]
	}
	if rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("counting the stored entities: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("counting the stored entities: %w", err)
	}
	for i, k := range kinds {
		k.reserve(m, int(n[i]))
	}
	return nil
}

func loadTable(ctx context.Context, c Conn, l *loader, q string, args []any) error {
	rows, err := c.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("reading table %s: %w", l.t.name, err)
	}
	defer rows.Close()
	dest, add := l.t.rows(l)
	for rows.Next() {
		l.n++
		if err := rows.Scan(dest...); err != nil {
			// A scan fails with the context's error when the deadline
			// ends the query; that says nothing about the row.
			if cerr := ctx.Err(); cerr != nil {
				return fmt.Errorf("reading table %s: %w", l.t.name, cerr)
			}
			return &RowError{Table: l.t.name, Row: fmt.Sprintf("number %d in key order", l.n), Msg: err.Error()}
		}
		if err := add(); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading table %s: %w", l.t.name, err)
	}
	return nil
}

// State reads the revision counter: the latest committed revision and the
// log floor, the revision after which the change log is complete.
func State(ctx context.Context, c Conn) (rev, floor access.Revision, err error) {
	rows, err := c.Query(ctx, "SELECT revision, log_floor FROM access_revision")
	if err != nil {
		return 0, 0, fmt.Errorf("reading the revision: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return 0, 0, fmt.Errorf("reading the revision: %w", err)
		}
		return 0, 0, fmt.Errorf("reading the revision: %w", &RowError{Table: "access_revision", Row: "1", Msg: "missing"})
	}
	var r, f int64
	if err := rows.Scan(&r, &f); err != nil {
		return 0, 0, fmt.Errorf("reading the revision: %w", err)
	}
	if r < 0 || f < 0 || f > r {
		return 0, 0, &RowError{Table: "access_revision", Row: "1", Msg: fmt.Sprintf("revision %d with log floor %d", r, f)}
	}
	return access.Revision(r), access.Revision(f), rows.Err()
}

// Revision reads the latest committed revision, with errors prefixed by
// the dialect's name.
func Revision(ctx context.Context, d *Dialect, c Conn) (access.Revision, error) {
	rev, _, err := State(ctx, c)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", d.Name, err)
	}
	return rev, nil
}

// queryIDs runs q and returns the int64 in the first column of each row.
func queryIDs(ctx context.Context, c Conn, q string, args ...any) ([]int64, error) {
	rows, err := c.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Changes answers [access.Store.Changes] from c, which must be a
// transaction that sees one snapshot: everything changed after since, or
// the whole model when since is 0, older than the change log reaches, or
// newer than the latest revision.
func Changes(ctx context.Context, d *Dialect, c Conn, since access.Revision) (access.Delta, error) {
	rev, floor, err := State(ctx, c)
	if err != nil {
		return access.Delta{}, err
	}
	if since == 0 || since > rev || since < floor {
		m, err := Load(ctx, d, c, nil)
		if err != nil {
			return access.Delta{}, err
		}
		return access.Delta{To: rev, Full: true, Batch: m.Batch()}, nil
	}
	delta := access.Delta{From: since, To: rev}
	if since == rev {
		return delta, nil
	}
	rows, err := c.Query(ctx, "SELECT DISTINCT kind, id FROM access_change WHERE revision > $1", int64(since))
	if err != nil {
		return access.Delta{}, fmt.Errorf("reading the change log: %w", err)
	}
	sel := Selection{}
	for rows.Next() {
		var k, id int64
		if err := rows.Scan(&k, &id); err != nil {
			rows.Close()
			return access.Delta{}, fmt.Errorf("reading the change log: %w", err)
		}
		if k <= 0 || k > 255 || kindOf(access.Kind(k)) == nil {
			rows.Close()
			return access.Delta{}, &RowError{Table: "access_change", Row: key(k, id), Msg: fmt.Sprintf("unknown kind %d", k)}
		}
		sel.add(access.Kind(k), id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return access.Delta{}, fmt.Errorf("reading the change log: %w", err)
	}
	sel.dedup()
	m, err := Load(ctx, d, c, sel)
	if err != nil {
		return access.Delta{}, err
	}
	delta.Batch = m.Batch()
	for _, k := range kinds {
		var gone []int64
		for _, id := range sel[k.kind] {
			if !k.has(m, id) {
				gone = append(gone, id)
			}
		}
		k.setDeleted(&delta.Batch, gone)
	}
	return delta, nil
}

// dependantsSQL maps a kind to one query listing (kind, id) of everything
// that refers to an entity of that kind, given its id as $1.
var dependantsSQL = func() map[access.Kind]string {
	parts := map[access.Kind][]string{}
	for _, k := range kinds {
		for _, r := range k.refs {
			parts[r.to] = append(parts[r.to], fmt.Sprintf("SELECT %d, %s", k.kind, r.sel))
		}
	}
	out := map[access.Kind]string{}
	for k, p := range parts {
		out[k] = strings.Join(p, " UNION ALL ")
	}
	return out
}()

// Dependants answers [access.View.Dependants] from c.
func Dependants(ctx context.Context, c Conn, ref access.Ref) ([]access.Ref, error) {
	q, ok := dependantsSQL[ref.Kind]
	if !ok {
		return nil, nil
	}
	rows, err := c.Query(ctx, q, ref.ID)
	if err != nil {
		return nil, fmt.Errorf("finding the dependants of %s: %w", ref, err)
	}
	defer rows.Close()
	var out []access.Ref
	for rows.Next() {
		var k, id int64
		if err := rows.Scan(&k, &id); err != nil {
			return nil, fmt.Errorf("finding the dependants of %s: %w", ref, err)
		}
		out = append(out, access.Ref{Kind: access.Kind(k), ID: id})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("finding the dependants of %s: %w", ref, err)
	}
	slices.SortFunc(out, func(a, b access.Ref) int { return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID)) })
	return slices.Compact(out), nil
}
