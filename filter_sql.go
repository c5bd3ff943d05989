package access

// This file renders a compiled [Filter] as a SQL WHERE clause: the
// dialects, the column mapping and its identifier checks, and the writer.
// filter.go builds the filter; nothing here decides who sees what.

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Dialect selects the SQL flavour [Filter.SQL] writes.
type Dialect uint8

// The supported SQL dialects.
const (
	_ Dialect = iota
	// PostgreSQL: numbered parameters ($1…) and id lists as bigint[]
	// parameters (col = ANY($n)).
	PostgreSQL
	// SQLite: ? parameters and id lists as JSON array parameters
	// (col IN (SELECT value FROM json_each(?))).
	SQLite
)

// Columns maps record columns to SQL column names, such as "associate_id"
// or "c.group_id". An empty name means the table has no such column: the
// filter then takes the column to be 0 (false for Published), which is
// what Can sees for records that leave the field unset.
//
// A name is an identifier and nothing else, so that no mapping can change
// what a filter means: one to three parts separated by dots ("owner_id",
// "c.owner_id", "public.contacts.owner_id"), each either unquoted —
// ASCII letters, digits and underscores, not starting with a digit, and
// not a keyword (see below) — or double-quoted, holding any text but NUL,
// with a double quote written twice ("Owner", "owner ""id"""). A part may
// be at most 63 bytes long, the longest name PostgreSQL keeps without
// truncating it.
//
// An unquoted part may not be a keyword of SQLite, nor a reserved keyword
// of PostgreSQL (including those that can be function or type names):
// TRUE, NULL, CURRENT_USER, USER, DEFAULT, NOT… would be read as a value or
// an operator rather than a column, and a mapping such as Owner: "TRUE"
// would open every row. Quote such a name: Group: `"group"`.
type Columns struct {
	ID, Owner, Group, Team, Company, Project, Category, Published, Visibility string
}

// columnFields names the Columns field of each column, for errors.
var columnFields = [...]string{
	colID: "ID", colOwner: "Owner", colGroup: "Group", colTeam: "Team", colCompany: "Company",
	colProject: "Project", colCategory: "Category", colPublished: "Published", colVisibility: "Visibility",
}

// field is the mapping's entry for col, or nil for a column it has none for.
func (c *Columns) field(col column) *string {
	switch col {
	case colID:
		return &c.ID
	case colOwner:
		return &c.Owner
	case colGroup:
		return &c.Group
	case colTeam:
		return &c.Team
	case colCompany:
		return &c.Company
	case colProject:
		return &c.Project
	case colCategory:
		return &c.Category
	case colPublished:
		return &c.Published
	case colVisibility:
		return &c.Visibility
	}
	return nil
}

// name is the table column col maps to, "" when absent.
func (c *Columns) name(col column) string {
	if f := c.field(col); f != nil {
		return *f
	}
	return ""
}

// set maps col to name.
func (c *Columns) set(col column, name string) {
	if f := c.field(col); f != nil {
		*f = name
	}
}

// ErrColumn marks a column mapping [Filter.SQL] cannot use. It wraps
// [ErrInvalid].
var ErrColumn = fmt.Errorf("%w: bad column mapping", ErrInvalid)

// SQL renders the filter as a WHERE-clause fragment and its arguments, for
// the dialect and the table's column mapping. The fragment's text depends
// on the filter's shape, never on how many ids it carries: id lists travel
// as one array parameter each. Parameters are numbered from firstArg
// (PostgreSQL; use 1 unless the query has earlier ones); SQLite uses ?.
//
// NULL in an ownership column is read as 0 (no owner, no group…), and NULL
// in Published as false, so a row's NULLs never change the answer.
//
// A column name that is not an identifier (see [Columns]) is an error
// wrapping [ErrColumn] and [ErrInvalid] that names the field and the value,
// whether or not the filter uses that column.
//
// The fragment is fast when the table has B-tree indexes on the owner,
// group and team columns (and category, company, project where they are
// used), so the planner can combine them; see the README's "Listing"
// section.
func (f *Filter) SQL(d Dialect, cols Columns, firstArg int) (string, []any, error) {
	if d != PostgreSQL && d != SQLite {
		return "", nil, fmt.Errorf("access: Filter.SQL: %w: unknown dialect %d", ErrInvalid, d)
	}
	if firstArg < 1 {
		firstArg = 1
	}
	// The names are parsed and written out again in the dialect's quoting,
	// so the SQL holds exactly the identifiers that were checked.
	var quoted Columns
	for col := colID; col <= colVisibility; col++ {
		name := cols.name(col)
		if name == "" {
			continue
		}
		parts, err := parseColumn(name)
		if err != nil {
			return "", nil, fmt.Errorf("access: Filter.SQL: %w: Columns.%s %q: %v", ErrColumn, columnFields[col], name, err)
		}
		quoted.set(col, quoteColumn(d, parts))
	}
	root := f.root
	if root == nil {
		root = condNever
	}
	bound := root.bind(&quoted)
	w := sqlWriter{d: d, cols: &quoted, next: firstArg}
	w.write(bound)
	return w.b.String(), w.args, nil
}

// maxIdentLen is the longest identifier PostgreSQL keeps as written
// (NAMEDATALEN-1 bytes); it silently truncates longer ones.
const maxIdentLen = 63

// identPart is one dot-separated part of a column name, unescaped.
type identPart struct {
	name   string
	quoted bool
}

// parseColumn splits a column name into its parts, or says why it is not
// an identifier (see [Columns] for the grammar).
func parseColumn(s string) ([]identPart, error) {
	var parts []identPart
	for i := 0; ; {
		if len(parts) == 3 {
			return nil, errors.New("more than three dot-separated parts")
		}
		var p identPart
		if i < len(s) && s[i] == '"' {
			var b strings.Builder
			j := i + 1
			for {
				k := strings.IndexByte(s[j:], '"')
				if k < 0 {
					return nil, fmt.Errorf("unterminated quoted identifier at offset %d", i)
				}
				b.WriteString(s[j : j+k])
				j += k + 1
				if j < len(s) && s[j] == '"' { // a doubled quote stands for one
					b.WriteByte('"')
					j++
					continue
				}
				break
			}
			p = identPart{name: b.String(), quoted: true}
			switch {
			case p.name == "":
				return nil, fmt.Errorf("empty quoted identifier at offset %d", i)
			case strings.IndexByte(p.name, 0) >= 0:
				return nil, fmt.Errorf("NUL in quoted identifier at offset %d", i)
			case !utf8.ValidString(p.name):
				return nil, fmt.Errorf("invalid UTF-8 in quoted identifier at offset %d", i)
			}
			i = j
		} else {
			j := i
			for j < len(s) && (s[j] == '_' || 'a' <= s[j] && s[j] <= 'z' || 'A' <= s[j] && s[j] <= 'Z' || j > i && '0' <= s[j] && s[j] <= '9') {
				j++
			}
			if j == i {
				if i < len(s) {
					return nil, fmt.Errorf("unexpected %q at offset %d: not an identifier", s[i], i)
				}
				return nil, fmt.Errorf("missing identifier at offset %d", i)
			}
			p = identPart{name: s[i:j]}
			if sqlKeyword(p.name) {
				return nil, fmt.Errorf("%s is an SQL keyword, not a column name; quote it to mean a column", strings.ToUpper(p.name))
			}
			i = j
		}
		if len(p.name) > maxIdentLen {
			return nil, fmt.Errorf("identifier longer than %d bytes", maxIdentLen)
		}
		parts = append(parts, p)
		switch {
		case i == len(s):
			return parts, nil
		case s[i] != '.':
			return nil, fmt.Errorf("unexpected %q at offset %d: not an identifier", s[i], i)
		}
		i++
	}
}

// quoteColumn writes a parsed column name for the dialect. Quoted parts
// become "…" for PostgreSQL and `…` for SQLite: SQLite reads a
// double-quoted name that matches no column as a string literal, which
// would silently change what a filter tests, while a backquoted name is
// always an identifier (and a missing one an error).
func quoteColumn(d Dialect, parts []identPart) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('.')
		}
		switch {
		case !p.quoted:
			b.WriteString(p.name)
		case d == SQLite:
			b.WriteString("`" + strings.ReplaceAll(p.name, "`", "``") + "`")
		default:
			b.WriteString(`"` + strings.ReplaceAll(p.name, `"`, `""`) + `"`)
		}
	}
	return b.String()
}

// sqlKeyword reports whether an unquoted word is a keyword of SQLite or a
// reserved keyword of PostgreSQL (reserved, or reserved but allowed as a
// function or type name), in any case.
func sqlKeyword(word string) bool {
	if len(word) < 2 || len(word) > len("CURRENT_TIMESTAMP") {
		return false
	}
	var buf [len("CURRENT_TIMESTAMP")]byte
	for i := 0; i < len(word); i++ {
		c := word[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	_, ok := sqlKeywords[string(buf[:len(word)])]
	return ok
}

// sqlKeywords holds the words sqlKeyword looks for: SQLite's keywords
// (sqlite.org/lang_keywords.html), plus TRUE and FALSE, which SQLite reads
// as values when no column has the name (147 and 2); and PostgreSQL's
// keywords of categories "reserved" and "reserved (can be function or
// type)" (pg_get_keywords() catcode R and T) as of version 15, plus
// SYSTEM_USER, reserved since 16. TestColumnsKeywordsOnPostgreSQL checks
// the list against the server it runs on.
var sqlKeywords = func() map[string]struct{} {
	const sqlite = `ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH
AUTOINCREMENT BEFORE BEGIN BETWEEN BY CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT
CONFLICT CONSTRAINT CREATE CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP
DATABASE DEFAULT DEFERRABLE DEFERRED DELETE DESC DETACH DISTINCT DO DROP EACH ELSE
END ESCAPE EXCEPT EXCLUDE EXCLUSIVE EXISTS EXPLAIN FAIL FILTER FIRST FOLLOWING FOR
FOREIGN FROM FULL GENERATED GLOB GROUP GROUPS HAVING IF IGNORE IMMEDIATE IN INDEX
INDEXED INITIALLY INNER INSERT INSTEAD INTERSECT INTO IS ISNULL JOIN KEY LAST LEFT
LIKE LIMIT MATCH MATERIALIZED NATURAL NO NOT NOTHING NOTNULL NULL NULLS OF OFFSET
ON OR ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUERY RAISE
RANGE RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING
RIGHT ROLLBACK ROW ROWS SAVEPOINT SELECT SET TABLE TEMP TEMPORARY THEN TIES TO
TRANSACTION TRIGGER UNBOUNDED UNION UNIQUE UPDATE USING VACUUM VALUES VIEW VIRTUAL
WHEN WHERE WINDOW WITH WITHOUT TRUE FALSE`
	const postgres = `ALL ANALYSE ANALYZE AND ANY ARRAY AS ASC ASYMMETRIC AUTHORIZATION
BINARY BOTH CASE CAST CHECK COLLATE COLLATION COLUMN CONCURRENTLY CONSTRAINT CREATE
CROSS CURRENT_CATALOG CURRENT_DATE CURRENT_ROLE CURRENT_SCHEMA CURRENT_TIME
CURRENT_TIMESTAMP CURRENT_USER DEFAULT DEFERRABLE DESC DISTINCT DO ELSE END EXCEPT
FALSE FETCH FOR FOREIGN FREEZE FROM FULL GRANT GROUP HAVING ILIKE IN INITIALLY INNER
INTERSECT INTO IS ISNULL JOIN LATERAL LEADING LEFT LIKE LIMIT LOCALTIME
LOCALTIMESTAMP NATURAL NOT NOTNULL NULL OFFSET ON ONLY OR ORDER OUTER OVERLAPS
PLACING PRIMARY REFERENCES RETURNING RIGHT SELECT SESSION_USER SIMILAR SOME
SYMMETRIC SYSTEM_USER TABLE TABLESAMPLE THEN TO TRAILING TRUE UNION UNIQUE USER
USING VARIADIC VERBOSE WHEN WHERE WINDOW WITH`
	m := map[string]struct{}{}
	for _, w := range strings.Fields(sqlite + " " + postgres) {
		m[w] = struct{}{}
	}
	return m
}()

// bind folds away conditions on columns the table does not have, which
// are 0 in every row.
func (c *cond) bind(cols *Columns) *cond {
	switch c.op {
	case condEq, condIn:
		if cols.name(c.col) != "" {
			return c
		}
		if c.match(&Record{}) {
			return condAlways
		}
		return condNever
	case condAnd, condOr:
		kids := make([]*cond, len(c.kids))
		for i, k := range c.kids {
			kids[i] = k.bind(cols)
		}
		return join(c.op, kids)
	case condNot:
		return not(c.kids[0].bind(cols))
	}
	return c
}

type sqlWriter struct {
	d    Dialect
	cols *Columns
	b    strings.Builder
	args []any
	next int
}

// bool writes a boolean constant. SQLite reads TRUE and FALSE as the
// names of columns when a table in the query has a column of that name
// (quoted, it may), which would silently change the filter; 1 and 0 are
// always numbers, and SQLite's booleans are those numbers.
func (w *sqlWriter) bool(v bool) string {
	switch {
	case w.d == PostgreSQL && v:
		return "TRUE"
	case w.d == PostgreSQL:
		return "FALSE"
	case v:
		return "1"
	}
	return "0"
}

func (w *sqlWriter) param(v any) {
	w.args = append(w.args, v)
	if w.d == PostgreSQL {
		w.b.WriteString("$" + strconv.Itoa(w.next))
		w.next++
		return
	}
	w.b.WriteString("?")
}

// write renders c. Column tests treat NULL as the 0 Can sees for an unset
// field, and negation is IS NOT TRUE, so that a NULL never drops a row the
// filter admits.
func (w *sqlWriter) write(c *cond) {
	switch c.op {
	case condFalse:
		w.b.WriteString(w.bool(false))
	case condTrue:
		w.b.WriteString(w.bool(true))
	case condEq:
		col := w.cols.name(c.col)
		switch {
		case c.col == colPublished && c.val == 1:
			w.b.WriteString(col + " = " + w.bool(true))
		case c.col == colPublished:
			w.b.WriteString("(" + col + " = " + w.bool(false) + " OR " + col + " IS NULL)")
		case c.val == 0:
			w.b.WriteString("(" + col + " = 0 OR " + col + " IS NULL)")
		default:
			w.b.WriteString(col + " = ")
			w.param(c.val)
		}
	case condIn:
		col := w.cols.name(c.col)
		zero := c.set[0] <= 0 && slices.Contains(c.set, 0)
		if zero {
			w.b.WriteString("(" + col + " IS NULL OR ")
		}
		if w.d == PostgreSQL {
			w.b.WriteString(col + " = ANY(")
			w.param(slices.Clone(c.set))
			w.b.WriteString(")")
		} else {
			w.b.WriteString(col + " IN (SELECT value FROM json_each(")
			w.param(jsonInts(c.set))
			w.b.WriteString("))")
		}
		if zero {
			w.b.WriteString(")")
		}
	case condNot:
		// IS NOT TRUE, not NOT: NOT NULL is NULL, which would drop the row.
		w.b.WriteString("(")
		w.write(c.kids[0])
		w.b.WriteString(") IS NOT " + w.bool(true))
	case condAnd, condOr:
		sep := " AND "
		if c.op == condOr {
			sep = " OR "
		}
		w.b.WriteString("(")
		for i, k := range c.kids {
			if i > 0 {
				w.b.WriteString(sep)
			}
			w.write(k)
		}
		w.b.WriteString(")")
	}
}

func jsonInts(set []int64) string {
	b := make([]byte, 0, 2+len(set)*8)
	b = append(b, '[')
	for i, v := range set {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, v, 10)
	}
	return string(append(b, ']'))
}
