package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"
)

// hostileColumns are column mappings that are not identifiers: keywords
// and literals that SQL would read as values, operators and lists.
var hostileColumns = []string{
	"TRUE", "true", "False", "NULL", "null", "DEFAULT", "NOT", "AND", "OR", "IS", "ISNULL", "NOTNULL",
	"CURRENT_USER", "current_date", "CURRENT_TIME", "CURRENT_TIMESTAMP", "LOCALTIME", "LOCALTIMESTAMP",
	"USER", "SESSION_USER", "CURRENT_ROLE", "CURRENT_SCHEMA", "CURRENT_CATALOG", "SYSTEM_USER", "CURRENT",
	"c.TRUE", "NULL.owner_id", "c.owner_id.null",
	"1", "0", "1.5", "1e3", "0x10", "'x'", "x'00'", "X'1F'", "$1", "?", "?1", ":a", "@a", "-owner_id",
	"owner_id = owner_id", "owner_id=1", "owner_id||1", "(owner_id)", "owner_id IS NULL", "CAST(1 AS int)",
	"", " owner_id", "owner_id ", "\towner_id", "owner_id\n", "a.b.c.d", ".a", "a.", "a..b",
	`""`, `"a`, `"a""`, `a"b"`, `"a"b`, `"a"."b`, "\"a\x00b\"", "\"\xff\"", "ownér", "owner\x00",
	"`owner_id`", "[owner_id]", "owner_id;", "owner_id--", "owner_id/*",
	strings.Repeat("a", 64), `"` + strings.Repeat("b", 64) + `"`, `"` + strings.Repeat(`""`, 64) + `"`,
}

// TestColumnsRejectKeywordsAndLiterals: a mapping that SQL would read as
// a value or an expression is an error wrapping ErrColumn and ErrInvalid
// that names the field and the value, whichever field it is in and
// whether or not the filter uses the column.
func TestColumnsRejectKeywordsAndLiterals(t *testing.T) {
	filters := map[string]Filter{
		"owner":  {Type: "contact", root: eq(colOwner, 11)},
		"system": {Type: "contact", root: validVisibility},
		"never":  {},
	}
	for _, bad := range hostileColumns {
		if bad == "" {
			continue // the empty name means "no such column"
		}
		for col := colID; col <= colVisibility; col++ {
			for fname, f := range filters {
				for _, d := range []Dialect{PostgreSQL, SQLite} {
					cols := testColumnsAll
					cols.set(col, bad)
					where, args, err := f.SQL(d, cols, 1)
					if !errors.Is(err, ErrInvalid) || !errors.Is(err, ErrColumn) {
						t.Fatalf("Columns.%s = %q, %s filter, %s: err = %v, want ErrColumn and ErrInvalid (WHERE %s)",
							columnFields[col], bad, fname, dialectName(d), err, where)
					}
					if want := fmt.Sprintf("Columns.%s %q", columnFields[col], bad); !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not name %s", err, want)
					}
					if where != "" || args != nil {
						t.Errorf("rejected mapping still rendered %q %v", where, args)
					}
				}
			}
		}
	}
}

// TestColumnsKeywordsOnPostgreSQL checks the keyword rule against the
// server's own list: every reserved keyword is rejected, and every keyword
// the rule accepts is, rendered into a fragment, a column reference (an
// undefined one here), never a value or a syntax error.
func TestColumnsKeywordsOnPostgreSQL(t *testing.T) {
	db := openPostgres(t)
	ctx := context.Background()
	rows, err := db.conn.Query(ctx, "SELECT word, catcode FROM pg_get_keywords() ORDER BY word")
	if err != nil {
		t.Fatal(err)
	}
	type kw struct{ word, cat string }
	var kws []kw
	for rows.Next() {
		var k kw
		if err := rows.Scan(&k.word, &k.cat); err != nil {
			t.Fatal(err)
		}
		kws = append(kws, k)
	}
	if err := rows.Err(); err != nil || len(kws) < 400 {
		t.Fatalf("pg_get_keywords: %d words, %v", len(kws), err)
	}
	accepted := 0
	for _, k := range kws {
		_, err := parseColumn(k.word)
		reserved := k.cat == "R" || k.cat == "T"
		if reserved {
			if err == nil {
				t.Errorf("reserved keyword %s (category %s) accepted as a column", k.word, k.cat)
			}
			continue
		}
		if err != nil {
			continue // an SQLite keyword
		}
		accepted++
		f := Filter{Type: "contact", root: and(eq(colOwner, 11), eq(colPublished, 1))}
		where, args, err := f.SQL(PostgreSQL, Columns{Owner: k.word, Published: k.word}, 1)
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.ids(ctx, "SELECT x FROM (SELECT 1::bigint AS x) t WHERE "+where, args)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42703" {
			t.Errorf("keyword %s (category %s) as a column: %v, want undefined_column (42703)", k.word, k.cat, err)
		}
	}
	t.Logf("%d keywords, %d accepted as column names", len(kws), accepted)
}

// TestColumnsQuotedQualifiedMatchCan renders filters for column names that
// need quoting or qualification — names that are keywords, that hold
// quotes and backquotes, three-part names — and checks on both engines
// that the rows selected are exactly those Can allows.
func TestColumnsQuotedQualifiedMatchCan(t *testing.T) {
	for _, open := range []func(testing.TB) sqlDB{sqliteOpener, postgresOpener} {
		db := open(t)
		d := db.dialect()
		t.Run(dialectName(d), func(t *testing.T) {
			ctx := context.Background()
			o := loadSQLOrg(t, db, 2, 2_000, allColumns)
			schema := "main"
			if p, ok := db.(*postgresDB); ok {
				if err := p.conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
					t.Fatal(err)
				}
			}
			cols := Columns{
				ID: "odd.id", Owner: `odd."Owner"`, Group: `"group"`, Team: `"True"`, Company: `"null"`,
				Project: `"a""b"`, Category: "\"we`ird\"", Published: `"NOT"`,
				Visibility: schema + `.odd."Visibility ""v"""`,
			}
			// A copy of the records under names that only quoting reaches.
			// (Not a view: SQLite does not find a view's column named True.)
			// A column named True also checks that the SQLite fragment does
			// not write TRUE, which SQLite would read as that column.
			var defs, sources []string
			for _, col := range allColumns {
				parts, err := parseColumn(cols.name(col))
				if err != nil {
					t.Fatal(err)
				}
				typ := tableColumns[col].postgres
				if d == SQLite {
					typ = tableColumns[col].sqlite
				}
				defs = append(defs, quoteColumn(d, parts[len(parts)-1:])+" "+typ)
				sources = append(sources, tableColumns[col].name)
			}
			for _, stmt := range []string{
				"CREATE TABLE odd (" + strings.Join(defs, ", ") + ")",
				"INSERT INTO odd SELECT " + strings.Join(sources, ", ") + " FROM records",
			} {
				if err := db.exec(ctx, stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			var mixed int
			for _, typ := range testTypes {
				for act := Read; act <= Delete; act++ {
					for _, s := range o.subjects {
						f, err := o.engine.Filter(ctx, s.id, act, typ)
						if err != nil {
							t.Fatal(err)
						}
						where, args, err := f.SQL(d, cols, 1)
						if err != nil {
							t.Fatalf("Filter.SQL: %v", err)
						}
						got, err := db.ids(ctx, "SELECT odd.id FROM odd WHERE "+where, args)
						if err != nil {
							t.Fatalf("query failed: %v\nWHERE %s", err, where)
						}
						slices.Sort(got)
						want := []int64{}
						for i := range o.recs {
							rec := o.recs[i].Record
							rec.Type = typ
							if d, _ := o.engine.Can(ctx, s.id, act, rec); d.Allowed {
								want = append(want, rec.ID)
							}
						}
						if len(want) > 0 && len(want) < len(o.recs) {
							mixed++
						}
						if got == nil {
							got = []int64{}
						}
						if diff := cmp.Diff(want, got); diff != "" {
							t.Fatalf("subject %d %s %s (-want +got):\n%s\nWHERE %s", s.id, act, typ, diff, where)
						}
					}
				}
			}
			if mixed == 0 {
				t.Error("no query told allowed rows from denied ones: the test compares nothing")
			}
		})
	}
}

// TestParseColumn pins the grammar on examples.
func TestParseColumn(t *testing.T) {
	tests := []struct {
		in         string
		want       []identPart
		pg, sqlite string
	}{
		{"owner_id", []identPart{{"owner_id", false}}, "owner_id", "owner_id"},
		{"c.owner_id", []identPart{{"c", false}, {"owner_id", false}}, "c.owner_id", "c.owner_id"},
		{"public.contacts.owner", []identPart{{"public", false}, {"contacts", false}, {"owner", false}}, "public.contacts.owner", "public.contacts.owner"},
		{`"TRUE"`, []identPart{{"TRUE", true}}, `"TRUE"`, "`TRUE`"},
		{`c."a ""b"" c"`, []identPart{{"c", false}, {`a "b" c`, true}}, `c."a ""b"" c"`, "c.`a \"b\" c`"},
		{"\"a`b\"", []identPart{{"a`b", true}}, "\"a`b\"", "`a``b`"},
		{`"a.b".c`, []identPart{{"a.b", true}, {"c", false}}, `"a.b".c`, "`a.b`.c"},
		{`"x"" OR TRUE OR ""y"`, []identPart{{`x" OR TRUE OR "y`, true}}, `"x"" OR TRUE OR ""y"`, "`x\" OR TRUE OR \"y`"},
		{"_9", []identPart{{"_9", false}}, "_9", "_9"},
		{strings.Repeat("a", 63), []identPart{{strings.Repeat("a", 63), false}}, strings.Repeat("a", 63), strings.Repeat("a", 63)},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseColumn(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(identPart{})); diff != "" {
				t.Errorf("parts (-want +got):\n%s", diff)
			}
			if pg := quoteColumn(PostgreSQL, got); pg != tc.pg {
				t.Errorf("PostgreSQL: %s, want %s", pg, tc.pg)
			}
			if lite := quoteColumn(SQLite, got); lite != tc.sqlite {
				t.Errorf("SQLite: %s, want %s", lite, tc.sqlite)
			}
		})
	}
}

// FuzzColumnName: whatever the check accepts is an identifier. Its parts
// are no keywords; written out again it parses to the same parts; and
// SQLite, asked to select it from a table without such a column, reports
// "no such column" — it never finds a value there instead. What the check
// rejects, Filter.SQL rejects with ErrColumn.
func FuzzColumnName(f *testing.F) {
	for _, s := range hostileColumns {
		f.Add(s)
	}
	for _, s := range []string{"owner_id", "c.owner_id", "public.records.owner_id", `"Owner"`, `c."owner id"`, `"TRUE"`,
		`"NULL"`, `"a""b"`, "\"a`b\"", `"a.b".c`, "main.t.x", "x", "rowid", "oid", "_rowid_", "excluded", "new", "old"} {
		f.Add(s)
	}
	db := openSQLite(f)
	ctx := context.Background()
	if err := db.exec(ctx, "CREATE TABLE t (x INTEGER)"); err != nil {
		f.Fatal(err)
	}
	if err := db.exec(ctx, "INSERT INTO t VALUES (7)"); err != nil {
		f.Fatal(err)
	}
	filter := Filter{Type: "contact", root: or(eq(colOwner, 11), eq(colPublished, 1))}
	f.Fuzz(func(t *testing.T, s string) {
		parts, err := parseColumn(s)
		_, _, sqlErr := filter.SQL(SQLite, Columns{Owner: s, Published: s}, 1)
		if err != nil {
			if s != "" && !errors.Is(sqlErr, ErrColumn) {
				t.Fatalf("parseColumn(%q) failed (%v) but Filter.SQL says %v", s, err, sqlErr)
			}
			return
		}
		if sqlErr != nil {
			t.Fatalf("parseColumn(%q) accepted it but Filter.SQL says %v", s, sqlErr)
		}
		for _, p := range parts {
			if !p.quoted && sqlKeyword(p.name) {
				t.Fatalf("%q: unquoted keyword %q accepted", s, p.name)
			}
		}
		// Written out again (the PostgreSQL form; SQLite's backquotes are
		// not input syntax), it is the same name.
		if again, err := parseColumn(quoteColumn(PostgreSQL, parts)); err != nil || !slices.Equal(again, parts) {
			t.Fatalf("%q written as %q parses to %v, %v", s, quoteColumn(PostgreSQL, parts), again, err)
		}
		name := quoteColumn(SQLite, parts)
		isX := strings.EqualFold(parts[len(parts)-1].name, "x") && len(parts) <= 3 ||
			len(parts) == 1 && slices.Contains([]string{"rowid", "oid", "_rowid_"}, strings.ToLower(parts[0].name))
		got, err := db.ids(ctx, "SELECT "+name+" FROM t", nil)
		switch {
		case err == nil && !isX:
			t.Fatalf("SELECT %s FROM t returned %v: a value, not a missing column", name, got)
		case err != nil && !strings.Contains(err.Error(), "no such column"):
			t.Fatalf("SELECT %s FROM t: %v, want no such column", name, err)
		}
	})
}
