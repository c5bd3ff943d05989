package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"
	"pgregory.net/rapid"
)

// Differential tests of Filter.SQL: the rows a real database returns for
// the rendered fragment must be exactly the rows Can allows, computed in Go
// over the same records.

// postgresDSNEnv names the environment variable holding the DSN of a
// PostgreSQL database the tests may create schemas in. The PostgreSQL tests
// skip when it is unset; CI sets it.
const postgresDSNEnv = "ACCESS_TEST_POSTGRES_DSN"

// sqlNow is the differential tests' clock: after genOrg's expiry date
// (2020) and before the not-yet-valid subjects' start (2030).
var sqlNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// sqlSeeds returns the random organisations (rapid example seeds) each
// differential test runs over, and how many rows each one's table holds.
// The race detector slows modernc.org/sqlite (C translated to Go) some
// thirtyfold, so a race build checks one smaller organisation.
func sqlSeeds() (seeds []int, records int) {
	switch {
	case raceEnabled():
		return []int{1}, 2_000
	case testing.Short():
		return []int{1, 2}, 10_000
	}
	return []int{1, 2, 3, 4, 5, 6}, 10_000
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// allColumns are every record column, in table order.
var allColumns = []column{colID, colOwner, colGroup, colTeam, colCompany, colProject, colCategory, colPublished, colVisibility}

// tableColumns describes the test table's columns: their SQL names and
// types. Every column but id is nullable.
var tableColumns = [...]struct{ name, postgres, sqlite string }{
	colID:         {"id", "bigint PRIMARY KEY", "INTEGER PRIMARY KEY"},
	colOwner:      {"owner_id", "integer", "INTEGER"},
	colGroup:      {"group_id", "integer", "INTEGER"},
	colTeam:       {"team_id", "integer", "INTEGER"},
	colCompany:    {"company_id", "bigint", "INTEGER"},
	colProject:    {"project_id", "bigint", "INTEGER"},
	colCategory:   {"category_id", "integer", "INTEGER"},
	colPublished:  {"published", "boolean", "BOOLEAN"},
	colVisibility: {"visibility", "smallint", "INTEGER"},
}

// indexedColumns get a B-tree index, as the README recommends.
var indexedColumns = []column{colOwner, colGroup, colTeam, colCategory}

// columnsFor maps the present columns to the test table's names and leaves
// the others empty (absent).
func columnsFor(present []column) Columns {
	var c Columns
	for _, col := range present {
		c.set(col, tableColumns[col].name)
	}
	return c
}

// createTable returns the DDL of a records table with the present columns
// and the recommended indexes among them.
func createTable(d Dialect, present []column) []string {
	var defs []string
	for _, col := range present {
		typ := tableColumns[col].postgres
		if d == SQLite {
			typ = tableColumns[col].sqlite
		}
		defs = append(defs, tableColumns[col].name+" "+typ)
	}
	stmts := []string{"CREATE TABLE records (" + strings.Join(defs, ", ") + ")"}
	for _, col := range indexedColumns {
		if slices.Contains(present, col) {
			name := tableColumns[col].name
			stmts = append(stmts, "CREATE INDEX records_"+name+" ON records ("+name+")")
		}
	}
	return stmts
}

// sqlRecord is one row of the records table: the record Can sees, and
// which of its zero-valued columns hold NULL rather than 0 (false).
type sqlRecord struct {
	Record
	nulls uint16 // bit c set: column c is NULL
}

// row returns the values of the present columns, nil for NULL.
func (r *sqlRecord) row(present []column) []any {
	out := make([]any, 0, len(present))
	for _, c := range present {
		switch {
		case r.nulls&(1<<c) != 0:
			out = append(out, nil)
		case c == colPublished:
			out = append(out, r.Published)
		default:
			out = append(out, (&cond{col: c}).value(&r.Record))
		}
	}
	return out
}

// genSQLRecords draws n records with ids 1…n over the organisation's
// associates, groups and categories, plus ids that name nothing. Only the
// present columns are set; about half the zero values are stored as NULL.
func genSQLRecords(rng *rand.Rand, b *Batch, n int, present []column) []sqlRecord {
	var maxAssoc AssociateID
	for _, a := range b.Associates {
		maxAssoc = max(maxAssoc, a.ID)
	}
	// pick returns 0 with probability zeroPct% and 1…hi otherwise.
	pick := func(zeroPct, hi int) int64 {
		if rng.IntN(100) < zeroPct {
			return 0
		}
		return int64(1 + rng.IntN(hi))
	}
	recs := make([]sqlRecord, n)
	for i := range recs {
		r := Record{
			ID:        int64(i + 1),
			Owner:     AssociateID(pick(15, int(maxAssoc)+1)),
			Group:     GroupID(pick(20, len(b.Groups)+1)),
			Team:      GroupID(pick(60, len(b.Groups)+1)),
			Company:   pick(30, 2),
			Project:   pick(30, 2),
			Category:  CategoryID(pick(50, len(b.Categories)+1)),
			Published: rng.IntN(2) == 0,
		}
		switch v := rng.IntN(100); {
		case v < 50:
			r.Visibility = VisibleAll
		case v < 70:
			r.Visibility = VisibleGroup
		case v < 97:
			r.Visibility = VisibleAssociate
		default:
			r.Visibility = 3 // invalid: Can denies, the filter must too
		}
		var zero Record
		var nulls uint16
		for _, c := range allColumns {
			if !slices.Contains(present, c) {
				// The table has no such column: the record holds the zero value.
				setColumn(&r, c, &zero)
				continue
			}
			if c != colID && (&cond{col: c}).value(&r) == 0 && rng.IntN(2) == 0 {
				nulls |= 1 << c
			}
		}
		recs[i] = sqlRecord{Record: r, nulls: nulls}
	}
	return recs
}

// setColumn copies column c of from into r.
func setColumn(r *Record, c column, from *Record) {
	switch c {
	case colID:
		r.ID = from.ID
	case colOwner:
		r.Owner = from.Owner
	case colGroup:
		r.Group = from.Group
	case colTeam:
		r.Team = from.Team
	case colCompany:
		r.Company = from.Company
	case colProject:
		r.Project = from.Project
	case colCategory:
		r.Category = from.Category
	case colPublished:
		r.Published = from.Published
	case colVisibility:
		r.Visibility = from.Visibility
	}
}

// sqlSubject is a subject the differential tests ask about.
type sqlSubject struct {
	kind string
	id   AssociateID
}

// Subject kinds.
const (
	kindInternal    = "internal"
	kindExternal    = "external"
	kindSystem      = "system"
	kindInactive    = "inactive"
	kindOutOfWindow = "out-of-window"
	kindGatedType   = "resource/anonymous"
	kindUnknown     = "unknown"
)

// addSubjects appends one associate of every kind to the organisation, so
// that every kind is asked about whatever genOrg drew, and returns up to
// three subjects of each kind (five internal and external ones), plus
// unknown ids.
func addSubjects(rng *rand.Rand, b *Batch) []sqlSubject {
	var next AssociateID
	for _, a := range b.Associates {
		next = max(next, a.ID)
	}
	role := func() RoleID { return RoleID(1 + rng.IntN(len(b.Roles))) }
	group := func() GroupID { return GroupID(1 + rng.IntN(len(b.Groups))) }
	internal := func() Associate {
		a := Associate{Type: Internal, Role: role(), PrimaryGroup: group(), Groups: []GroupID{group()}, Active: true, Company: 1}
		if len(b.Categories) > 0 {
			a.Categories = []CategoryID{CategoryID(1 + rng.IntN(len(b.Categories)))}
		}
		return a
	}
	inactive, expired, notYet := internal(), internal(), internal()
	inactive.Active = false
	expired.ValidTo = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	notYet.ValidFrom = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	extras := []Associate{
		internal(),
		{Type: External, Role: role(), Active: true, Company: int64(1 + rng.IntN(2)), Projects: []int64{int64(1 + rng.IntN(2))}},
		{Type: System, Role: role(), Active: true},
		inactive, expired, notYet,
		{Type: Resource, Active: true},
		{Type: Anonymous, Role: role(), Active: true},
	}
	for _, a := range extras {
		next++
		a.ID = next
		a.Name = fmt.Sprintf("x%d", a.ID)
		if a.Type == Internal {
			a.ServiceLogin = int64(a.ID)
		}
		b.Associates = append(b.Associates, a)
	}

	var out []sqlSubject
	count := map[string]int{}
	add := func(kind string, id AssociateID) {
		limit := 3
		if kind == kindInternal || kind == kindExternal {
			limit = 5 // the kinds whose answers vary from row to row
		}
		if count[kind] < limit {
			count[kind]++
			out = append(out, sqlSubject{kind, id})
		}
	}
	// The extras first, so each kind has at least one subject.
	for i := len(b.Associates) - 1; i >= 0; i-- {
		a := &b.Associates[i]
		switch {
		case !a.Active:
			add(kindInactive, a.ID)
		case !a.ActiveAt(sqlNow):
			add(kindOutOfWindow, a.ID)
		case a.Type == Internal:
			add(kindInternal, a.ID)
		case a.Type == External:
			add(kindExternal, a.ID)
		case a.Type == System:
			add(kindSystem, a.ID)
		default:
			add(kindGatedType, a.ID)
		}
	}
	add(kindUnknown, next+1)
	add(kindUnknown, 1<<40)
	return out
}

// sqlDB is a database holding one records table.
type sqlDB interface {
	dialect() Dialect
	// exec runs DDL.
	exec(ctx context.Context, stmt string) error
	// insert bulk-loads rows into the records table.
	insert(ctx context.Context, present []column, recs []sqlRecord) error
	// ids runs a query selecting one integer column.
	ids(ctx context.Context, query string, args []any) ([]int64, error)
}

// sqliteDB is an in-memory SQLite database (modernc.org/sqlite).
type sqliteDB struct{ db *sql.DB }

func openSQLite(t testing.TB) *sqliteDB {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	// Every connection to ":memory:" is a database of its own: keep one.
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return &sqliteDB{db}
}

func (s *sqliteDB) dialect() Dialect { return SQLite }

func (s *sqliteDB) exec(ctx context.Context, stmt string) error {
	_, err := s.db.ExecContext(ctx, stmt)
	return err
}

func (s *sqliteDB) insert(ctx context.Context, present []column, recs []sqlRecord) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	names := make([]string, len(present))
	for i, c := range present {
		names[i] = tableColumns[c].name
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(present)), ", ")
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO records ("+strings.Join(names, ", ")+") VALUES ("+marks+")")
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := range recs {
		if _, err := stmt.ExecContext(ctx, recs[i].row(present)...); err != nil {
			return fmt.Errorf("record %d: %w", recs[i].ID, err)
		}
	}
	return tx.Commit()
}

func (s *sqliteDB) ids(ctx context.Context, query string, args []any) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
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

// postgresDB is a connection whose search_path is a fresh schema.
type postgresDB struct{ conn *pgx.Conn }

// openPostgres connects to the database ACCESS_TEST_POSTGRES_DSN names,
// creates a schema of a random name for the test alone, and drops it when
// the test ends. It skips the test when the variable is unset.
func openPostgres(t testing.TB) *postgresDB {
	t.Helper()
	dsn := postgresDSN(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connecting to %s: %v", postgresDSNEnv, err)
	}
	schema := fmt.Sprintf("access_filter_test_%016x", rand.Uint64())
	t.Cleanup(func() {
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
		conn.Close(context.Background())
	})
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SET search_path TO "+schema); err != nil {
		t.Fatal(err)
	}
	return &postgresDB{conn}
}

func (p *postgresDB) dialect() Dialect { return PostgreSQL }

func (p *postgresDB) exec(ctx context.Context, stmt string) error {
	_, err := p.conn.Exec(ctx, stmt)
	return err
}

func (p *postgresDB) insert(ctx context.Context, present []column, recs []sqlRecord) error {
	names := make([]string, len(present))
	for i, c := range present {
		names[i] = tableColumns[c].name
	}
	n, err := p.conn.CopyFrom(ctx, pgx.Identifier{"records"}, names, pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) {
		return recs[i].row(present), nil
	}))
	if err == nil && n != int64(len(recs)) {
		err = fmt.Errorf("COPY wrote %d rows of %d", n, len(recs))
	}
	if err == nil {
		_, err = p.conn.Exec(ctx, "ANALYZE records")
	}
	return err
}

func (p *postgresDB) ids(ctx context.Context, query string, args []any) ([]int64, error) {
	rows, err := p.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// sqlOrg is a random organisation with its subjects and its records table.
type sqlOrg struct {
	batch    Batch
	engine   *Engine
	subjects []sqlSubject
	recs     []sqlRecord
	present  []column
}

// loadSQLOrg draws organisation seed, adds subjects of every kind, and
// loads n random records into db.
func loadSQLOrg(t *testing.T, db sqlDB, seed, n int, present []column) *sqlOrg {
	t.Helper()
	ctx := context.Background()
	o := &sqlOrg{batch: rapid.Custom(genOrg).Example(seed), present: present}
	// The licence gate makes a filter never match before any SQL is
	// rendered (TestFilter_matchesCan covers it); without licences the
	// seeds' subjects keep telling rows apart.
	o.batch.Licences = nil
	for i := range o.batch.Associates {
		o.batch.Associates[i].Licences = nil
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	o.subjects = addSubjects(rng, &o.batch)
	e, err := NewResolver(ctx, &staticStore{o.batch}, &Options{Now: func() time.Time { return sqlNow }, PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	o.engine = e
	o.recs = genSQLRecords(rng, &o.batch, n, present)
	for _, stmt := range createTable(db.dialect(), present) {
		if err := db.exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if err := db.insert(ctx, present, o.recs); err != nil {
		t.Fatalf("loading %d records: %v", len(o.recs), err)
	}
	return o
}

// sqlStats counts how many comparisons had something to tell apart.
type sqlStats struct {
	queries, mixed, empty, full int
}

// check compares, for every type, action and subject, the ids the database
// returns for the filter's fragment with the ids Can allows.
func (o *sqlOrg) check(t *testing.T, db sqlDB, st *sqlStats) {
	t.Helper()
	ctx := context.Background()
	cols := columnsFor(o.present)
	for _, typ := range testTypes {
		for act := Read; act <= Delete; act++ {
			for _, s := range o.subjects {
				f, err := o.engine.Filter(ctx, s.id, act, typ)
				if err != nil {
					t.Fatal(err)
				}
				where, args, err := f.SQL(db.dialect(), cols, 1)
				if err != nil {
					t.Fatalf("Filter.SQL: %v", err)
				}
				got, err := db.ids(ctx, "SELECT id FROM records WHERE "+where, args)
				if err != nil {
					t.Fatalf("%s %s subject %d: query failed: %v\nWHERE %s\nargs %v", typ, act, s.id, err, where, args)
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
				if got == nil {
					got = []int64{}
				}
				st.queries++
				switch len(want) {
				case 0:
					st.empty++
				case len(o.recs):
					st.full++
				default:
					st.mixed++
				}
				if slices.Equal(want, got) {
					continue
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("%s subject %d (%s) %s %s: the rows WHERE selects differ from Can's allows (-want +got):\n%s\nfirst difference: %s\nfilter: %s\nWHERE %s\nargs %v",
						dialectName(db.dialect()), s.id, s.kind, act, typ, diff, o.firstDifference(want, got, typ, s.id, act), f.String(), where, args)
				}
			}
		}
	}
}

// firstDifference explains the lowest id on which the two sets disagree.
func (o *sqlOrg) firstDifference(want, got []int64, typ string, who AssociateID, act Action) string {
	for _, id := range o.recs {
		inWant, inGot := slices.Contains(want, id.ID), slices.Contains(got, id.ID)
		if inWant == inGot {
			continue
		}
		rec := id.Record
		rec.Type = typ
		d, _ := o.engine.Can(context.Background(), who, act, rec)
		var nulls []string
		for _, c := range allColumns {
			if id.nulls&(1<<c) != 0 {
				nulls = append(nulls, tableColumns[c].name)
			}
		}
		return fmt.Sprintf("record %+v (NULL: %v): Can %v, SQL %v; decision: %s", rec, nulls, inWant, inGot, d)
	}
	return "none"
}

func (st *sqlStats) report(t *testing.T) {
	t.Helper()
	t.Logf("%d queries: %d with some rows allowed and some denied, %d all denied, %d all allowed", st.queries, st.mixed, st.empty, st.full)
	if st.mixed == 0 {
		t.Errorf("no query told allowed rows from denied ones: the test compares nothing")
	}
}

// runSQLDifferential checks every seed's organisation against a fresh
// database from open.
func runSQLDifferential(t *testing.T, open func(testing.TB) sqlDB, maxSeeds int, present []column) {
	var st sqlStats
	seeds, n := sqlSeeds()
	for _, seed := range seeds[:min(maxSeeds, len(seeds))] {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			db := open(t)
			o := loadSQLOrg(t, db, seed, n, present)
			o.check(t, db, &st)
		})
	}
	if !t.Failed() && st.queries > 0 {
		st.report(t)
	}
}

func sqliteOpener(t testing.TB) sqlDB   { return openSQLite(t) }
func postgresOpener(t testing.TB) sqlDB { return openPostgres(t) }

func TestFilterSQL_SQLiteMatchesCan(t *testing.T) {
	runSQLDifferential(t, sqliteOpener, math.MaxInt, allColumns)
}

func TestFilterSQL_PostgreSQLMatchesCan(t *testing.T) {
	postgresDSN(t)
	runSQLDifferential(t, postgresOpener, math.MaxInt, allColumns)
}

// TestFilterSQL_absentColumns checks that a column the table lacks (an
// empty name in Columns) reads as 0, false for Published: against records
// whose missing fields are zero, the fragment still selects exactly what
// Can allows.
func TestFilterSQL_absentColumns(t *testing.T) {
	subsets := []struct {
		name    string
		present []column
	}{
		{"owner and group only", []column{colID, colOwner, colGroup}},
		{"no team, company or project", []column{colID, colOwner, colGroup, colCategory, colPublished, colVisibility}},
		{"no published or visibility", []column{colID, colOwner, colGroup, colTeam, colCompany, colProject, colCategory}},
	}
	for _, db := range []struct {
		name string
		open func(testing.TB) sqlDB
	}{{"SQLite", sqliteOpener}, {"PostgreSQL", postgresOpener}} {
		for _, sub := range subsets {
			t.Run(db.name+"/"+sub.name, func(t *testing.T) {
				if db.name == "PostgreSQL" && os.Getenv(postgresDSNEnv) == "" {
					t.Skip(postgresDSNEnv + " is not set")
				}
				runSQLDifferential(t, db.open, 2, sub.present)
			})
		}
	}

	// And in the fragment itself: an external subject's "published or own"
	// restriction without a published column keeps only "own".
	e := newFilterTestEngine(t, Batch{
		Roles: []Role{{ID: 1, Name: "r", Rights: map[string]Grid{Wildcard: {Owner: LevelFull, MyCompany: LevelRead}}}},
		Associates: []Associate{
			{ID: 7, Name: "ext", Type: External, Role: 1, Active: true, Company: 40},
		},
	})
	f := mustFilter(t, e, 7, Read, "contact")
	where, _, err := f.SQL(PostgreSQL, Columns{ID: "id", Owner: "owner_id", Company: "company_id"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := "((owner_id = $1 OR company_id = $2) AND owner_id = $3)"; where != want {
		t.Errorf("without a published column the restriction is \"own records\" alone:\ngot  WHERE %s\nwant WHERE %s", where, want)
	}
}

// newFilterTestEngine resolves a fixed model, unvalidated, at sqlNow.
func newFilterTestEngine(t testing.TB, b Batch) *Engine {
	t.Helper()
	e, err := NewResolver(context.Background(), &staticStore{b}, &Options{Now: func() time.Time { return sqlNow }, PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func mustFilter(t testing.TB, e *Engine, who AssociateID, act Action, typ string) Filter {
	t.Helper()
	f, err := e.Filter(context.Background(), who, act, typ)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestFilterSQL_constantSize checks that the fragment's text does not grow
// with the number of groups: subjects whose filters have the same shape
// get the same text and the same number of arguments, whether their
// groups come from secondary links or from nesting.
func TestFilterSQL_constantSize(t *testing.T) {
	b := Batch{Roles: []Role{{ID: 1, Name: "seller", Rights: map[string]Grid{"contact": {
		Owner: LevelFull, Team: LevelUpdate, PrimaryGroup: LevelUpdate, OtherGroup: LevelRead,
	}}}}}
	for g := GroupID(1); g <= 400; g++ {
		grp := Group{ID: g, Name: fmt.Sprint("g", g)}
		if g >= 300 && g < 349 {
			grp.Groups = []GroupID{299} // 49 groups include group 299
		}
		b.Groups = append(b.Groups, grp)
	}
	secondary := func(from, to GroupID) []GroupID {
		var gs []GroupID
		for g := from; g <= to; g++ {
			gs = append(gs, g)
		}
		return gs
	}
	b.Associates = []Associate{
		{ID: 1, Name: "one", Role: 1, Active: true, PrimaryGroup: 1},
		{ID: 3, Name: "three", Role: 1, Active: true, PrimaryGroup: 1, Groups: secondary(2, 3)},
		{ID: 50, Name: "fifty", Role: 1, Active: true, PrimaryGroup: 1, Groups: secondary(2, 50)},
		{ID: 51, Name: "nested", Role: 1, Active: true, PrimaryGroup: 299, Groups: []GroupID{2}},
		{ID: 250, Name: "many", Role: 1, Active: true, PrimaryGroup: 1, Groups: secondary(2, 250)},
	}
	e := newFilterTestEngine(t, b)
	ctx := context.Background()
	groups := func(who AssociateID) int {
		ms, err := e.EffectiveGroups(ctx, who)
		if err != nil {
			t.Fatal(err)
		}
		return len(ms)
	}
	if n := groups(51); n != 51 {
		t.Fatalf("the nested subject is in %d groups, want 51", n)
	}
	for _, d := range []Dialect{PostgreSQL, SQLite} {
		render := func(who AssociateID) (string, []any) {
			f := mustFilter(t, e, who, Read, "contact")
			where, args, err := f.SQL(d, testColumnsAll, 1)
			if err != nil {
				t.Fatal(err)
			}
			return where, args
		}
		base, baseArgs := render(50)
		for _, who := range []AssociateID{3, 51, 250} {
			where, args := render(who)
			if diff := cmp.Diff(base, where); diff != "" {
				t.Errorf("%s: subject in %d groups vs subject in %d groups: the fragment changed (-50 groups +%d groups):\n%s", dialectName(d), groups(50), groups(who), groups(who), diff)
			}
			if len(args) != len(baseArgs) {
				t.Errorf("%s: subject in %d groups has %d arguments, subject in 50 has %d", dialectName(d), groups(who), len(args), len(baseArgs))
			}
		}
		// A subject in one group has a narrower shape: its one-element lists
		// render as "col = $n", and the "other group" relation drops out.
		// Its fragment is no longer than the 50-group one.
		one, _ := render(1)
		if len(one) > len(base) {
			t.Errorf("%s: the fragment for 1 group (%d bytes) is longer than for 50 (%d bytes):\n%s\n%s", dialectName(d), len(one), len(base), one, base)
		}
		t.Logf("%s: %d bytes for 3, 50, 51 (nested) and 250 groups; %d bytes for 1 group", dialectName(d), len(base), len(one))
	}
}

var testColumnsAll = columnsFor(allColumns)

func dialectName(d Dialect) string {
	switch d {
	case PostgreSQL:
		return "PostgreSQL"
	case SQLite:
		return "SQLite"
	}
	return fmt.Sprintf("dialect(%d)", d)
}

// TestFilterSQL_columnInjection checks that column mappings that are not
// plain identifiers are rejected with ErrColumn before anything renders,
// for every kind of filter, and that a quoted identifier holding SQL stays
// a name.
func TestFilterSQL_columnInjection(t *testing.T) {
	e := newFilterTestEngine(t, Batch{
		Roles:  []Role{{ID: 1, Name: "r", Rights: map[string]Grid{Wildcard: {Owner: LevelFull, OtherGroup: LevelRead}}}},
		Groups: []Group{{ID: 1, Name: "g1"}, {ID: 2, Name: "g2"}},
		Associates: []Associate{
			{ID: 1, Name: "seller", Role: 1, Active: true, PrimaryGroup: 1, Groups: []GroupID{2}},
			{ID: 2, Name: "sys", Type: System, Role: 1, Active: true},
			{ID: 3, Name: "gone", Role: 1, PrimaryGroup: 1},
		},
	})
	filters := map[string]Filter{
		"seller": mustFilter(t, e, 1, Read, "contact"), // owner and group tests
		"system": mustFilter(t, e, 2, Read, "contact"), // visibility only
		"gated":  mustFilter(t, e, 3, Read, "contact"), // FALSE
		"zero":   {},
	}
	bad := []struct {
		name string
		cols func(*Columns)
	}{
		{"statement after a name", func(c *Columns) { c.Owner = "owner_id; DROP TABLE x" }},
		{"comment", func(c *Columns) { c.Group = "group_id -- " }},
		{"expression", func(c *Columns) { c.Team = "team_id OR 1=1" }},
		{"parenthesis", func(c *Columns) { c.ID = "id)" }},
		{"unbalanced quote", func(c *Columns) { c.Visibility = `"visibility` }},
		{"keyword", func(c *Columns) { c.Owner = "TRUE" }},
		{"literal", func(c *Columns) { c.Category = "NULL" }},
		{"number", func(c *Columns) { c.Published = "1" }},
		{"empty part", func(c *Columns) { c.Owner = "c..owner_id" }},
		{"trailing dot", func(c *Columns) { c.Owner = "owner_id." }},
		{"leading digit", func(c *Columns) { c.Project = "1project" }},
		{"space", func(c *Columns) { c.Company = "company id" }},
		{"unused column", func(c *Columns) { c.Published = "published'" }},
	}
	for _, tc := range bad {
		for fname, f := range filters {
			for _, d := range []Dialect{PostgreSQL, SQLite} {
				cols := testColumnsAll
				tc.cols(&cols)
				where, args, err := f.SQL(d, cols, 1)
				if !errors.Is(err, ErrColumn) {
					t.Errorf("%s, %s filter, %s: err = %v, want ErrColumn (WHERE %q)", tc.name, fname, dialectName(d), err, where)
				}
				if where != "" || args != nil {
					t.Errorf("%s, %s filter: rejected mapping still rendered %q %v", tc.name, fname, where, args)
				}
			}
		}
	}
	seller := filters["seller"]
	good := []string{"owner_id", "c.owner_id", "public.records.owner_id", `"Owner"`, `c."owner id"`, "_x9", `"a"" OR TRUE OR ""b"`, `"TRUE"`}
	for _, name := range good {
		cols := testColumnsAll
		cols.Owner = name
		if _, _, err := seller.SQL(PostgreSQL, cols, 1); err != nil {
			t.Errorf("column %q: %v", name, err)
		}
	}

	// A quoted identifier may hold any text (a quote written twice): it is
	// a name, so the database looks for a column of that name and runs
	// nothing else.
	db := openSQLite(t)
	ctx := context.Background()
	for _, stmt := range append(createTable(SQLite, allColumns), "CREATE TABLE x (y INTEGER)") {
		if err := db.exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	cols := testColumnsAll
	cols.Owner = `"owner_id; DROP TABLE x; --"`
	where, args, err := seller.SQL(SQLite, cols, 1)
	if err != nil {
		t.Fatalf("quoted identifier rejected: %v", err)
	}
	// SQLite reads a double-quoted name that matches no column as a string
	// literal (its "double-quoted string literal" quirk), so the query
	// runs; either way nothing but the SELECT does.
	if _, err := db.ids(ctx, "SELECT id FROM records WHERE "+where, args); err != nil {
		t.Logf("query with a quoted odd name: %v", err)
	}
	if _, err := db.ids(ctx, "SELECT count(*) FROM x", nil); err != nil {
		t.Errorf("table x is gone: %v", err)
	}
}

// TestFilterSQL_alwaysNever checks the constant filters: a system user's
// filter is Always, and renders only the visibility check Can makes of
// every record; a subject that fails a gate, or has no rights on the type,
// gets a Never filter that renders FALSE and selects nothing.
func TestFilterSQL_alwaysNever(t *testing.T) {
	past, future := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	e := newFilterTestEngine(t, Batch{
		Roles: []Role{
			{ID: 1, Name: "seller", Rights: map[string]Grid{"contact": {Owner: LevelFull, Other: LevelRead}}},
		},
		Groups: []Group{{ID: 1, Name: "g1"}},
		Associates: []Associate{
			{ID: 1, Name: "seller", Role: 1, Active: true, PrimaryGroup: 1},
			{ID: 2, Name: "sys", Type: System, Role: 1, Active: true},
			{ID: 3, Name: "inactive sys", Type: System, Role: 1},
			{ID: 4, Name: "inactive", Role: 1, PrimaryGroup: 1},
			{ID: 5, Name: "expired", Role: 1, Active: true, PrimaryGroup: 1, ValidTo: past},
			{ID: 6, Name: "not yet", Role: 1, Active: true, PrimaryGroup: 1, ValidFrom: future},
			{ID: 7, Name: "room", Type: Resource, Active: true},
			{ID: 8, Name: "anon", Type: Anonymous, Role: 1, Active: true},
			{ID: 9, Name: "expired sys", Type: System, Role: 1, Active: true, ValidTo: past},
		},
	})
	db := openSQLite(t)
	ctx := context.Background()
	for _, stmt := range createTable(SQLite, allColumns) {
		if err := db.exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	recs := make([]sqlRecord, 0, 5)
	for v := range 4 {
		recs = append(recs, sqlRecord{Record: Record{ID: int64(v + 1), Owner: 1, Visibility: Visibility(v)}})
	}
	recs = append(recs, sqlRecord{Record: Record{ID: 5}, nulls: 1<<colOwner | 1<<colVisibility | 1<<colPublished})
	if err := db.insert(ctx, allColumns, recs); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name         string
		who          AssociateID
		typ          string
		always       bool
		never        bool
		wantSQLite   string
		wantPostgres string
		wantIDs      []int64
	}{
		{name: "system", who: 2, typ: "contact", always: true,
			wantSQLite:   "(visibility IS NULL OR visibility IN (SELECT value FROM json_each(?)))",
			wantPostgres: "(visibility IS NULL OR visibility = ANY($1))",
			wantIDs:      []int64{1, 2, 3, 5}},
		{name: "system, type without rights", who: 2, typ: "sale", always: true,
			wantSQLite:   "(visibility IS NULL OR visibility IN (SELECT value FROM json_each(?)))",
			wantPostgres: "(visibility IS NULL OR visibility = ANY($1))",
			wantIDs:      []int64{1, 2, 3, 5}},
		{name: "seller", who: 1, typ: "contact", wantIDs: []int64{1, 2, 3}},
		{name: "seller, type without rights", who: 1, typ: "sale", never: true, wantSQLite: "0", wantPostgres: "FALSE", wantIDs: []int64{}},
		{name: "inactive system", who: 3, typ: "contact", never: true, wantSQLite: "0", wantPostgres: "FALSE", wantIDs: []int64{}},
		{name: "expired system", who: 9, typ: "contact", never: true, wantSQLite: "0", wantPostgres: "FALSE", wantIDs: []int64{}},
		{name: "inactive", who: 4, typ: "contact", never: true, wantSQLite: "0", wantPostgres: "FALSE", wantIDs: []int64{}},
		{name: "expired", who: 5, typ: "contact", never: true, wantSQLite: "0", wantPostgres: "FALSE", wantIDs: []int64{}},
		{name: "not yet valid", who: 6, typ: "contact", never: true, wantSQLite: "0", wantPostgres: "FALSE", wantIDs: []int64{}},
		{name: "resource", who: 7, typ: "contact", never: true, wantSQLite: "0", wantPostgres: "FALSE", wantIDs: []int64{}},
		{name: "anonymous", who: 8, typ: "contact", never: true, wantSQLite: "0", wantPostgres: "FALSE", wantIDs: []int64{}},
		{name: "unknown", who: 99, typ: "contact", never: true, wantSQLite: "0", wantPostgres: "FALSE", wantIDs: []int64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := mustFilter(t, e, tc.who, Read, tc.typ)
			if f.Always() != tc.always || f.Never() != tc.never {
				t.Errorf("Always() = %v, Never() = %v; want %v, %v (filter %s)", f.Always(), f.Never(), tc.always, tc.never, f.String())
			}
			if tc.wantSQLite != "" {
				for d, want := range map[Dialect]string{SQLite: tc.wantSQLite, PostgreSQL: tc.wantPostgres} {
					where, _, err := f.SQL(d, testColumnsAll, 1)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(want, where); diff != "" {
						t.Errorf("%s WHERE (-want +got):\n%s", dialectName(d), diff)
					}
				}
			}
			where, args, err := f.SQL(SQLite, testColumnsAll, 1)
			if err != nil {
				t.Fatal(err)
			}
			got, err := db.ids(ctx, "SELECT id FROM records WHERE "+where+" ORDER BY id", args)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				got = []int64{}
			}
			if diff := cmp.Diff(tc.wantIDs, got); diff != "" {
				t.Errorf("selected ids (-want +got):\n%s", diff)
			}
			// And Can agrees, row by row.
			for _, r := range recs {
				rec := r.Record
				rec.Type = tc.typ
				d, _ := e.Can(ctx, tc.who, Read, rec)
				if d.Allowed != slices.Contains(tc.wantIDs, rec.ID) {
					t.Errorf("record %d: Can %v, but the test expects the opposite", rec.ID, d.Allowed)
				}
			}
		})
	}

	var zero Filter
	if zero.Always() || !zero.Never() {
		t.Errorf("zero Filter: Always %v, Never %v", zero.Always(), zero.Never())
	}
	if where, args, err := zero.SQL(PostgreSQL, testColumnsAll, 1); where != "FALSE" || len(args) != 0 || err != nil {
		t.Errorf("zero Filter renders %q %v %v, want FALSE", where, args, err)
	}
}
