package access_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/orggen"
	"github.com/crmaccess/access/store/memory"
)

// Listing benchmarks on the default orggen organisation (100,000
// associates, 10,000 groups, 50 roles). The targets: building a Filter for
// a user in about 50 effective groups ≤ 20 µs; the first page of a listing
// (SELECT id … WHERE <filter> ORDER BY id LIMIT 50) over 1,000,000 rows in
// PostgreSQL ≤ 20 ms; WhoCan on one record ≤ 20 ms.

const (
	listingType     = "contact"
	listingRows     = 1_000_000
	listingPageSize = 50
	// listingQuery is the first page's query, around the filter's fragment.
	listingQuery = "SELECT id FROM records WHERE %s ORDER BY id LIMIT 50"
	// listingChunk is how many rows the naive listing fetches at a time.
	listingChunk = 1000
)

// listingOrg is the organisation the listing benchmarks share, built once
// per process.
type listingOrg struct {
	batch  access.Batch
	engine *access.Engine
	byID   map[access.AssociateID]*access.Associate
	// level is each role's depth in the role tree (0 at the top).
	level    map[access.RoleID]int
	maxLevel int
	internal []access.AssociateID // active internal associates
	// groups50 is an internal associate in about 50 effective groups.
	groups50 access.AssociateID
}

var (
	listingOnce sync.Once
	listingData *listingOrg
)

func loadListingOrg(b *testing.B) *listingOrg {
	b.Helper()
	listingOnce.Do(func() {
		ctx := context.Background()
		start := time.Now()
		o := &listingOrg{batch: orggen.Generate(orggen.Default()), byID: map[access.AssociateID]*access.Associate{}, level: map[access.RoleID]int{}}
		parent := map[access.RoleID]access.RoleID{}
		for _, r := range o.batch.Roles {
			parent[r.ID] = r.Parent
		}
		for _, r := range o.batch.Roles {
			n := 0
			for p := r.Parent; p != 0; p = parent[p] {
				n++
			}
			o.level[r.ID] = n
			o.maxLevel = max(o.maxLevel, n)
		}
		o.groups50 = addGroups50(&o.batch, o.level, o.maxLevel)
		now := time.Now()
		for i := range o.batch.Associates {
			a := &o.batch.Associates[i]
			o.byID[a.ID] = a
			if a.Type == access.Internal && a.ActiveAt(now) && a.ID != o.groups50 {
				o.internal = append(o.internal, a.ID)
			}
		}
		store := memory.New()
		if _, err := store.Apply(ctx, o.batch.Clone()); err != nil {
			b.Fatalf("loading the organisation: %v", err)
		}
		e, err := access.NewResolver(ctx, store, nil)
		if err != nil {
			b.Fatalf("NewResolver: %v", err)
		}
		o.engine = e

		byLevel := make([][]int, o.maxLevel+1)
		for _, id := range o.internal {
			ms, err := e.EffectiveGroups(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			if lvl, ok := o.level[o.byID[id].Role]; ok {
				byLevel[lvl] = append(byLevel[lvl], len(ms))
			}
		}
		for lvl, ns := range byLevel {
			slices.Sort(ns)
			if len(ns) > 0 {
				b.Logf("role level %d: %d internal associates, effective groups min %d, median %d, max %d", lvl, len(ns), ns[0], ns[len(ns)/2], ns[len(ns)-1])
			}
		}
		b.Logf("setup: organisation of %d associates, %d groups, %d roles generated, loaded and resolved in %v",
			len(o.batch.Associates), len(o.batch.Groups), len(o.batch.Roles), time.Since(start).Round(time.Millisecond))
		listingData = o
	})
	if listingData == nil {
		b.Fatal("the listing organisation failed to load")
	}
	return listingData
}

// addGroups50 adds an internal associate in 50 effective groups. The
// generated organisation has none among the associates whose role has no
// subordinates: there, the groups that list roles put everyone in 77 or
// more. So it gets a role of its own outside the tree, with the rights of
// a role at the bottom, and secondary groups until their closure, with the
// primary group's, reaches 50.
func addGroups50(batch *access.Batch, level map[access.RoleID]int, maxLevel int) access.AssociateID {
	var role access.Role
	var maxRole access.RoleID
	for _, r := range batch.Roles {
		maxRole = max(maxRole, r.ID)
		if level[r.ID] == maxLevel {
			role = r
		}
	}
	role = access.Role{ID: maxRole + 1, Name: "Listing benchmark seller", Rights: role.Rights}
	batch.Roles = append(batch.Roles, role)

	// up: the groups that list each group.
	up := map[access.GroupID][]access.GroupID{}
	smart := map[access.GroupID]bool{}
	for _, g := range batch.Groups {
		smart[g.ID] = g.Smart != ""
		for _, c := range g.Groups {
			up[c] = append(up[c], g.ID)
		}
	}
	in := map[access.GroupID]bool{}
	// closure adds g and the groups that include it, directly or not, to set.
	var closure func(g access.GroupID, set map[access.GroupID]bool)
	closure = func(g access.GroupID, set map[access.GroupID]bool) {
		if in[g] || set[g] {
			return
		}
		set[g] = true
		for _, p := range up[g] {
			closure(p, set)
		}
	}
	var maxAssoc access.AssociateID
	for _, a := range batch.Associates {
		maxAssoc = max(maxAssoc, a.ID)
	}
	a := access.Associate{ID: maxAssoc + 1, Name: "listing-bench-50", Role: role.ID, Active: true, Company: 1}
	rng := rand.New(rand.NewPCG(50, 50))
	for tries := 0; len(in) < 50 && tries < 1e6; tries++ {
		g := batch.Groups[rng.IntN(len(batch.Groups))].ID
		if smart[g] || in[g] {
			continue
		}
		added := map[access.GroupID]bool{}
		closure(g, added)
		if len(in)+len(added) > 50 {
			continue
		}
		if a.PrimaryGroup == 0 {
			a.PrimaryGroup = g
		} else {
			a.Groups = append(a.Groups, g)
		}
		for x := range added {
			in[x] = true
		}
	}
	batch.Associates = append(batch.Associates, a)
	return a.ID
}

// effectiveGroups counts the associate's effective groups.
func (o *listingOrg) effectiveGroups(b *testing.B, who access.AssociateID) int {
	ms, err := o.engine.EffectiveGroups(context.Background(), who)
	if err != nil {
		b.Fatal(err)
	}
	return len(ms)
}

// pick returns the first active associate, from a fixed starting point,
// that satisfies ok.
func (o *listingOrg) pick(b *testing.B, what string, ok func(a *access.Associate) bool) access.AssociateID {
	b.Helper()
	now := time.Now()
	for i := range o.batch.Associates {
		a := &o.batch.Associates[(i+7919)%len(o.batch.Associates)]
		if a.ActiveAt(now) && ok(a) {
			return a.ID
		}
	}
	b.Fatalf("the organisation has no %s", what)
	return 0
}

// BenchmarkFilterBuild measures Engine.Filter plus rendering the
// PostgreSQL fragment, for an associate in about 50 effective groups and
// for managers whose filter lists every subordinate.
func BenchmarkFilterBuild(b *testing.B) {
	o := loadListingOrg(b)
	ctx := context.Background()
	cases := []struct {
		name string
		who  access.AssociateID
	}{
		{"groups50", o.groups50},
		{"seller-typical", o.pick(b, "salesperson", func(a *access.Associate) bool {
			return a.Type == access.Internal && o.level[a.Role] == o.maxLevel
		})},
		{"manager-level1", o.pick(b, "level-1 manager", func(a *access.Associate) bool {
			return a.Type == access.Internal && o.level[a.Role] == 1
		})},
		{"manager-top", o.pick(b, "top manager", func(a *access.Associate) bool {
			return a.Type == access.Internal && o.level[a.Role] == 0
		})},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			// The first filter of a snapshot computes what every filter
			// shares (subordinates, rule owners); that is not per request.
			f, err := o.engine.Filter(ctx, tc.who, access.Read, listingType)
			if err != nil {
				b.Fatal(err)
			}
			_, args, err := f.SQL(access.PostgreSQL, listingColumns, 1)
			if err != nil {
				b.Fatal(err)
			}
			level := "its own role outside the tree"
			if l, ok := o.level[o.byID[tc.who].Role]; ok {
				level = fmt.Sprintf("role level %d", l)
			}
			b.Logf("associate %d: %d effective groups, %s, %d arguments holding %d ids",
				tc.who, o.effectiveGroups(b, tc.who), level, len(args), countIDs(args))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				f, err := o.engine.Filter(ctx, tc.who, access.Read, listingType)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := f.SQL(access.PostgreSQL, listingColumns, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// countIDs adds up the lengths of the id-list arguments.
func countIDs(args []any) int {
	n := 0
	for _, a := range args {
		if ids, ok := a.([]int64); ok {
			n += len(ids)
		}
	}
	return n
}

// BenchmarkWhoCan measures WhoCan over the 100,000 associates for a few
// records.
func BenchmarkWhoCan(b *testing.B) {
	o := loadListingOrg(b)
	ctx := context.Background()
	owner := o.byID[o.internal[len(o.internal)/2]]
	recs := map[string]access.Record{
		"owned":   {Type: listingType, ID: 1, Owner: owner.ID, Group: owner.PrimaryGroup, Company: 1500},
		"team":    {Type: listingType, ID: 2, Owner: owner.ID, Group: owner.PrimaryGroup, Team: owner.PrimaryGroup, Visibility: access.VisibleGroup},
		"unowned": {Type: listingType, ID: 3, Company: 1500, Published: true},
	}
	for _, name := range []string{"owned", "team", "unowned"} {
		rec := recs[name]
		b.Run(name, func(b *testing.B) {
			who, err := o.engine.WhoCan(ctx, access.Update, rec)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(who)), "allowed")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := o.engine.WhoCan(ctx, access.Update, rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// listingColumns maps the filter onto the benchmark's records table.
var listingColumns = access.Columns{
	ID: "id", Owner: "owner_id", Group: "group_id", Team: "team_id", Company: "company_id",
	Project: "project_id", Category: "category_id", Published: "published", Visibility: "visibility",
}

// listingDDL creates the records table and the indexes the README
// recommends: the primary key for ORDER BY id, and B-trees on the owner,
// group, team and category columns.
var listingDDL = []string{
	`CREATE TABLE records (
		id          bigint PRIMARY KEY,
		owner_id    integer,
		group_id    integer,
		team_id     integer,
		company_id  bigint,
		project_id  bigint,
		category_id integer,
		published   boolean NOT NULL,
		visibility  smallint NOT NULL
	)`,
	"CREATE INDEX records_owner_id ON records (owner_id)",
	"CREATE INDEX records_group_id ON records (group_id)",
	"CREATE INDEX records_team_id ON records (team_id)",
	"CREATE INDEX records_category_id ON records (category_id)",
	"ANALYZE records",
}

// loadListingTable creates a schema of its own, fills its records table
// with listingRows rows with COPY, and drops the schema when b ends. The
// rows: owners drawn uniformly from the active internal associates (3%
// unowned), the owner's primary group stamped (5% another group: the owner
// moved), 2% owned by a team, companies, some projects, no categories,
// half published, 5% visible to the group only and 5% to the owner only.
func loadListingTable(b *testing.B, o *listingOrg) *pgx.Conn {
	b.Helper()
	dsn := os.Getenv("ACCESS_TEST_POSTGRES_DSN")
	if dsn == "" {
		b.Skip("ACCESS_TEST_POSTGRES_DSN is not set")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	schema := fmt.Sprintf("access_listing_bench_%016x", rand.Uint64())
	b.Cleanup(func() {
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			b.Errorf("dropping schema %s: %v", schema, err)
		}
		conn.Close(context.Background())
	})
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SET search_path TO "+schema); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if _, err := conn.Exec(ctx, listingDDL[0]); err != nil {
		b.Fatal(err)
	}
	var groups []access.GroupID
	for _, g := range o.batch.Groups {
		groups = append(groups, g.ID)
	}
	rng := rand.New(rand.NewPCG(42, 42))
	id := int64(0)
	row := make([]any, 9)
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"records"},
		[]string{"id", "owner_id", "group_id", "team_id", "company_id", "project_id", "category_id", "published", "visibility"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if id == listingRows {
				return nil, nil
			}
			id++
			clear(row)
			row[0] = id
			if rng.IntN(100) >= 3 {
				owner := o.byID[o.internal[rng.IntN(len(o.internal))]]
				row[1] = int64(owner.ID)
				if rng.IntN(100) < 5 {
					row[2] = int64(groups[rng.IntN(len(groups))])
				} else {
					row[2] = int64(owner.PrimaryGroup)
				}
			}
			if rng.IntN(100) < 2 {
				row[3] = int64(groups[rng.IntN(len(groups))])
			}
			row[4] = int64(1000 + rng.IntN(2000))
			if rng.IntN(100) < 20 {
				row[5] = int64(1 + rng.IntN(500))
			}
			row[7] = rng.IntN(2) == 0
			switch v := rng.IntN(100); {
			case v < 90:
				row[8] = int64(access.VisibleAll)
			case v < 95:
				row[8] = int64(access.VisibleGroup)
			default:
				row[8] = int64(access.VisibleAssociate)
			}
			return row, nil
		}))
	if err != nil {
		b.Fatalf("COPY: %v", err)
	}
	copied := time.Since(start)
	for _, stmt := range listingDDL[1:] {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			b.Fatalf("%s: %v", stmt, err)
		}
	}
	b.Logf("setup: COPY of %d rows %v, indexes and ANALYZE %v", n, copied.Round(time.Millisecond), (time.Since(start) - copied).Round(time.Millisecond))
	return conn
}

// listingCase is a user and action whose first page the benchmark lists.
type listingCase struct {
	name string
	who  access.AssociateID
	act  access.Action
}

// BenchmarkFilterFirstPage measures the first page of a listing in
// PostgreSQL: build the filter, render it, and run SELECT id FROM records
// WHERE <fragment> ORDER BY id LIMIT 50 over 1,000,000 rows. Per case it
// also times the naive listing (fetch rows in id order, 1000 at a time,
// and ask Can about each until 50 are allowed) outside the timed region,
// checks that both pages agree, and reports naive-ms and naive/sql. With
// -v it logs the EXPLAIN ANALYZE plans.
func BenchmarkFilterFirstPage(b *testing.B) {
	if os.Getenv("ACCESS_TEST_POSTGRES_DSN") == "" {
		b.Skip("ACCESS_TEST_POSTGRES_DSN is not set")
	}
	o := loadListingOrg(b)
	conn := loadListingTable(b, o)
	ctx := context.Background()

	bottom := func(a *access.Associate) bool { return a.Type == access.Internal && o.level[a.Role] == o.maxLevel }
	salesperson := o.pick(b, "salesperson", bottom)
	manager := o.pick(b, "level-1 manager", func(a *access.Associate) bool { return a.Type == access.Internal && o.level[a.Role] == 1 })
	external := o.pick(b, "external user", func(a *access.Associate) bool { return a.Type == access.External })
	system := o.pick(b, "system user", func(a *access.Associate) bool { return a.Type == access.System })
	cases := []listingCase{
		{"salesperson/read", salesperson, access.Read},
		{"salesperson/update", salesperson, access.Update},
		{"salesperson/delete", salesperson, access.Delete},
		{"groups50/update", o.groups50, access.Update},
		{"manager/read", manager, access.Read},
		{"manager/delete", manager, access.Delete},
		{"external/read", external, access.Read},
		{"system/read", system, access.Read},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			page, where, args := listingSQLPage(b, ctx, conn, o.engine, tc)
			naive, naiveTime := listingNaive(b, ctx, conn, o.engine, tc)
			if !slices.Equal(page, naive) {
				b.Fatalf("the SQL page and the naive page differ:\nSQL   %v\nnaive %v", page, naive)
			}
			b.Logf("%s: associate %d, %d rows on the page, %d effective groups, %d arguments holding %d ids; naive listing %v",
				tc.name, tc.who, len(page), o.effectiveGroups(b, tc.who), len(args), countIDs(args), naiveTime.Round(time.Microsecond))
			if testing.Verbose() {
				b.Log(listingExplain(b, ctx, conn, where, args))
			}
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				listingSQLPage(b, ctx, conn, o.engine, tc)
			}
			perOp := time.Since(start) / time.Duration(b.N)
			b.StopTimer()
			b.ReportMetric(float64(naiveTime)/1e6, "naive-ms")
			b.ReportMetric(float64(naiveTime)/float64(perOp), "naive/sql")
			// pgx prepares and caches the statement; after five runs
			// PostgreSQL may switch to a generic plan, which cannot see
			// the arrays' contents.
			var generic, custom int64
			if err := conn.QueryRow(ctx, "SELECT coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0) FROM pg_prepared_statements WHERE statement = $1",
				fmt.Sprintf(listingQuery, where)).Scan(&generic, &custom); err != nil {
				b.Fatal(err)
			}
			b.Logf("%s: %d runs with a generic plan, %d with a custom plan", tc.name, generic, custom)
		})
	}
}

// listingSQLPage is the listing as an application does it with a Filter.
func listingSQLPage(b *testing.B, ctx context.Context, conn *pgx.Conn, e *access.Engine, tc listingCase) ([]int64, string, []any) {
	f, err := e.Filter(ctx, tc.who, tc.act, listingType)
	if err != nil {
		b.Fatal(err)
	}
	where, args, err := f.SQL(access.PostgreSQL, listingColumns, 1)
	if err != nil {
		b.Fatal(err)
	}
	rows, err := conn.Query(ctx, fmt.Sprintf(listingQuery, where), args...)
	if err != nil {
		b.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		b.Fatal(err)
	}
	return ids, where, args
}

// listingNaive lists the first page without a filter: it reads the table
// in id order, listingChunk rows at a time, and asks Can about every row
// until a page is full or the table ends. It returns the page and the
// mean time of a few runs.
func listingNaive(b *testing.B, ctx context.Context, conn *pgx.Conn, e *access.Engine, tc listingCase) ([]int64, time.Duration) {
	var page []int64
	runs := 0
	start := time.Now()
	for runs < 3 && (runs == 0 || time.Since(start) < 2*time.Second) {
		page = page[:0]
		after := int64(0)
		for len(page) < listingPageSize {
			rows, err := conn.Query(ctx, "SELECT id, owner_id, group_id, team_id, company_id, project_id, category_id, published, visibility FROM records WHERE id > $1 ORDER BY id LIMIT $2", after, listingChunk)
			if err != nil {
				b.Fatal(err)
			}
			read := 0
			var id int64
			var owner, group, team, company, project, category *int64
			var published bool
			var visibility int64
			for rows.Next() {
				if err := rows.Scan(&id, &owner, &group, &team, &company, &project, &category, &published, &visibility); err != nil {
					b.Fatal(err)
				}
				read++
				after = id
				rec := access.Record{
					Type: listingType, ID: id, Owner: access.AssociateID(deref(owner)), Group: access.GroupID(deref(group)),
					Team: access.GroupID(deref(team)), Company: deref(company), Project: deref(project),
					Category: access.CategoryID(deref(category)), Published: published, Visibility: access.Visibility(visibility),
				}
				if d, _ := e.Can(ctx, tc.who, tc.act, rec); d.Allowed {
					page = append(page, id)
					if len(page) == listingPageSize {
						break
					}
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				b.Fatal(err)
			}
			if read == 0 {
				break
			}
		}
		runs++
	}
	return page, time.Since(start) / time.Duration(runs)
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// listingExplain returns the plans PostgreSQL runs the first page with,
// from EXPLAIN ANALYZE: the custom plan it makes for the first runs of a
// prepared statement, which sees the arguments, and the generic plan it
// may switch to after five runs, which does not.
func listingExplain(b *testing.B, ctx context.Context, conn *pgx.Conn, where string, args []any) string {
	const explain = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) "
	custom := listingPlan(b, ctx, conn, explain+fmt.Sprintf(listingQuery, where), args)

	// EXPLAIN EXECUTE of a statement prepared by name shows the generic
	// plan when plan_cache_mode forces it. The arguments are integers and
	// integer arrays, written here as literals.
	lits := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case int64:
			lits[i] = fmt.Sprint(v)
		case []int64:
			parts := make([]string, len(v))
			for j, x := range v {
				parts[j] = fmt.Sprint(x)
			}
			lits[i] = "'{" + strings.Join(parts, ",") + "}'"
		default:
			b.Fatalf("argument %d: unexpected %T", i+1, a)
		}
	}
	for _, stmt := range []string{"PREPARE listing_generic AS " + fmt.Sprintf(listingQuery, where), "SET plan_cache_mode = force_generic_plan"} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			b.Fatal(err)
		}
	}
	generic := listingPlan(b, ctx, conn, explain+"EXECUTE listing_generic("+strings.Join(lits, ", ")+")", nil)
	for _, stmt := range []string{"RESET plan_cache_mode", "DEALLOCATE listing_generic"} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			b.Fatal(err)
		}
	}
	return "  custom plan:\n" + custom + "\n  generic plan:\n" + generic
}

func listingPlan(b *testing.B, ctx context.Context, conn *pgx.Conn, explain string, args []any) string {
	rows, err := conn.Query(ctx, explain, args...)
	if err != nil {
		b.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		b.Fatal(err)
	}
	var keep []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "Filter:") || strings.HasPrefix(t, "Recheck Cond:") || strings.HasPrefix(t, "Index Cond:") {
			if len(t) > 120 {
				t = t[:120] + "…"
			}
			l = l[:len(l)-len(strings.TrimLeft(l, " "))] + t
		}
		keep = append(keep, "    "+l)
	}
	return strings.Join(keep, "\n")
}
