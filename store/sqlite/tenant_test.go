package sqlite

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/sqlstore/sqltest"
	"github.com/crmaccess/access/store/storetest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// openTenant opens tenant's Store on path, migrated, closed when the test
// ends.
func openTenant(tb testing.TB, path, tenant string, opts *Options) *Store {
	tb.Helper()
	o := Options{}
	if opts != nil {
		o = *opts
	}
	o.Tenant = tenant
	return open(tb, path, &o)
}

// schemaObjects lists the names of the tables, indexes and triggers in the
// file at path, in name order.
func schemaObjects(tb testing.TB, path string) []string {
	tb.Helper()
	rows, err := query(context.Background(), path, "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r[0].(string))
	}
	return out
}

// TestStoretestTenant runs the conformance suite on a tenant's Store, in
// a file that holds no other tenant: a statement the Store failed to
// rewrite for its tenant would find no table. The Store is made by
// [Store.Tenant] from a maker closed at once, so the connections it shares
// must stay open for it (Options.Tenant, the other way to a tenant, sets
// the same rewrite and runs in TestTenants and TestSQLTestTenant).
// Afterwards the file holds the tenant's objects and nothing else.
func TestStoretestTenant(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		path := newPath(t)
		t.Cleanup(func() {
			for _, name := range schemaObjects(t, path) {
				if !strings.HasPrefix(name, "access_acme__") {
					t.Errorf("tenant acme's store made %s", name)
				}
			}
		})
		return sqltest.Migrated(t, func(ctx context.Context) (*Store, error) {
			maker, err := Open(ctx, path, nil)
			if err != nil {
				return nil, err
			}
			defer maker.Close()
			return maker.Tenant(ctx, "acme")
		})
	})
}

// tenantEngine is engine for tenant acme in files that hold the default
// tenant and a tenant "other" as well, both with sqltest's sample: a
// statement the Store failed to rewrite would read or write a
// neighbour's rows. Its raw SQL is rewritten for the tenant as the Store
// rewrites its own.
var tenantEngine = func() sqltest.Engine {
	e := engine
	const tenant = "acme"
	prefix := tablePrefix + tenant + "__"
	e.Name = "sqlite tenant " + tenant
	e.NewDB = func(tb testing.TB) string {
		path := newPath(tb)
		for _, neighbour := range []string{"", "other"} {
			ctx := context.Background()
			s := openTenant(tb, path, neighbour, nil)
			if _, err := s.Apply(ctx, sqltest.Sample()); err != nil {
				tb.Fatal(err)
			}
			want, err := s.Changes(ctx, 0)
			if err != nil {
				tb.Fatal(err)
			}
			// After the test, whatever it did to tenant acme.
			tb.Cleanup(func() {
				got, err := s.Changes(ctx, 0)
				if err != nil {
					tb.Fatalf("tenant %q after the test: %v", neighbour, err)
				}
				if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					tb.Errorf("tenant %q changed (-before +after):\n%s", neighbour, diff)
				}
			})
		}
		return path
	}
	e.Open = func(ctx context.Context, path string, o *sqltest.Options) (sqltest.Store, error) {
		opts := &Options{Tenant: tenant}
		if o != nil {
			opts = &Options{KeepChanges: o.KeepChanges, KeepFor: o.KeepFor, TrimEvery: o.TrimEvery, Now: o.Now,
				PollInterval: o.PollInterval, Tenant: tenant}
		}
		s, err := Open(ctx, path, opts)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	exec := e.Exec
	e.Exec = func(ctx context.Context, path, query string, args ...any) error {
		return exec(ctx, path, rewriteSQL(query, prefix), args...)
	}
	e.Query = func(ctx context.Context, path, q string) ([][]any, error) {
		return query(ctx, path, rewriteSQL(q, prefix))
	}
	return e
}()

// TestSQLTestTenant runs the shared SQL tests on tenant acme's Store in a
// file its neighbours share, and then checks that the neighbours still
// hold exactly the sample.
func TestSQLTestTenant(t *testing.T) {
	t.Parallel()
	sqltest.Run(t, tenantEngine)
}

// TestTenantsIsolated keeps three tenants in one file, the default among
// them, with the same ids and different content: each reads back exactly
// what was written to it, at its own revisions, with its own change log.
func TestTenantsIsolated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := newPath(t)
	names := []string{"", "a", "b"}
	stores := map[string]*Store{}
	for _, name := range names {
		stores[name] = openTenant(t, path, name, nil)
	}
	// Tenant i writes i+1 batches: associate 11 and group 20, named for the
	// tenant and the batch.
	batch := func(name string, n int) access.Batch {
		tag := name + "#" + string(rune('0'+n))
		return access.Batch{
			Roles:      []access.Role{{ID: 5, Name: "role " + tag}},
			Groups:     []access.Group{{ID: 20, Name: "group " + tag}},
			Associates: []access.Associate{{ID: 11, Name: "anna " + tag, Type: access.Internal, Role: 5, PrimaryGroup: 20, Active: true}},
		}
	}
	for i, name := range names {
		for n := range i + 1 {
			rev, err := stores[name].Apply(ctx, batch(name, n))
			if err != nil {
				t.Fatalf("tenant %q batch %d: %v", name, n, err)
			}
			if rev != access.Revision(n+1) {
				t.Errorf("tenant %q batch %d: revision %d, want %d", name, n, rev, n+1)
			}
		}
	}
	for i, name := range names {
		s := stores[name]
		want := batch(name, i)
		if rev, err := s.Revision(ctx); err != nil || rev != access.Revision(i+1) {
			t.Errorf("tenant %q: Revision = %d, %v; want %d", name, rev, err, i+1)
		}
		d, err := s.Changes(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, d.Batch, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("tenant %q: Changes(0) (-want +got):\n%s", name, diff)
		}
		a, err := s.Associate(ctx, 11)
		if err != nil || a.Name != want.Associates[0].Name {
			t.Errorf("tenant %q: Associate(11) = %q, %v; want %q", name, a.Name, err, want.Associates[0].Name)
		}
		if a, err := s.AssociateByName(ctx, want.Associates[0].Name); err != nil || a.ID != 11 {
			t.Errorf("tenant %q: AssociateByName(%q) = %v, %v", name, want.Associates[0].Name, a.ID, err)
		}
		for j, other := range names {
			if other == name {
				continue
			}
			theirs := batch(other, j).Associates[0].Name
			if _, err := s.AssociateByName(ctx, theirs); !errors.Is(err, access.ErrNotFound) {
				t.Errorf("tenant %q finds tenant %q's associate: %v", name, other, err)
			}
		}
		// The change log holds this tenant's revisions only: since its
		// first, exactly its later batches.
		d, err = s.Changes(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		wantEmpty := i == 0
		if d.Full || d.From != 1 || d.To != access.Revision(i+1) || d.Empty() != wantEmpty {
			t.Errorf("tenant %q: Changes(1) = from %d to %d, full %v, empty %v", name, d.From, d.To, d.Full, d.Empty())
		}
	}
}

// TestTenantCrossReference: tenant a holds group 20, tenant b does not. A
// batch of b naming group 20 is refused and b is unchanged; written past
// validation, b's foreign keys refuse it too, since every key of b's
// tables refers to b's tables.
func TestTenantCrossReference(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := newPath(t)
	a, b := openTenant(t, path, "a", nil), openTenant(t, path, "b", nil)
	if err := a.PutGroup(ctx, access.Group{ID: 20, Name: "a's group"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Apply(ctx, access.Batch{
		Roles:      []access.Role{{ID: 5, Name: "b's role"}},
		Groups:     []access.Group{{ID: 30, Name: "b's group"}},
		Associates: []access.Associate{{ID: 11, Name: "bob", Type: access.Internal, Role: 5, PrimaryGroup: 30, Active: true}},
	}); err != nil {
		t.Fatal(err)
	}
	before, err := b.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Apply(ctx, access.Batch{Associates: []access.Associate{
		{ID: 11, Name: "bob", Type: access.Internal, Role: 5, PrimaryGroup: 20, Active: true},
	}})
	if !errors.Is(err, access.ErrInvalid) {
		t.Errorf("b naming a's group 20: %v, want ErrInvalid", err)
	}
	after, err := b.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("tenant b changed by a refused batch (-before +after):\n%s", diff)
	}

	// Past validation, in a transaction of its own.
	tx, err := b.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO access_b__associate_group (associate_id, pos, group_id) VALUES (11, 0, 20)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
		t.Errorf("committing b's associate in a's group 20: %v, want a foreign key error", err)
	}
	tx.Rollback()
	if a, err := b.Associate(ctx, 11); err != nil || len(a.Groups) != 0 {
		t.Errorf("b's associate 11 after the refused commit: %+v, %v", a, err)
	}

	// Every reference in b's schema names a table of b.
	rows, err := query(ctx, path, "SELECT name, sql FROM sqlite_master WHERE name LIKE 'access\\_b\\_\\_%' ESCAPE '\\' AND sql IS NOT NULL")
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`(?i)REFERENCES\s+"?(\w+)`)
	n := 0
	for _, r := range rows {
		for _, m := range refs.FindAllStringSubmatch(r[1].(string), -1) {
			n++
			if !strings.HasPrefix(m[1], "access_b__") {
				t.Errorf("%s refers to %s", r[0], m[1])
			}
		}
	}
	if n < 20 {
		t.Errorf("found %d references in tenant b's schema; the pattern missed them", n)
	}
}

// TestTenantWatch: a watcher on tenant a hears of tenant a's writes made
// by another Store on the file, and never of tenant b's, which run ahead
// of a's revisions.
func TestTenantWatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := newPath(t)
	opts := &Options{PollInterval: 5 * time.Millisecond}
	watched := openTenant(t, path, "a", opts)
	a, b := openTenant(t, path, "a", opts), openTenant(t, path, "b", opts)
	var (
		mu   sync.Mutex
		seen []access.Revision
	)
	stop := watched.Watch(func(rev access.Revision) {
		mu.Lock()
		seen = append(seen, rev)
		mu.Unlock()
	})
	t.Cleanup(stop)
	w := sqltest.Watch(t, watched)
	sqltest.WaitHealthy(t, watched)
	wb := sqltest.Watch(t, b)

	for round := 1; round <= 2; round++ {
		for i := range 3 {
			if err := b.PutRole(ctx, access.Role{ID: access.RoleID(i + 1), Name: "b"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.PutRole(ctx, access.Role{ID: 1, Name: "a" + string(rune('0'+round))}); err != nil {
			t.Fatal(err)
		}
		w.WaitFor(t, access.Revision(round), 5*time.Second)
		if r, err := watched.Role(ctx, 1); err != nil || r.Name != "a"+string(rune('0'+round)) {
			t.Errorf("round %d: the watched Store reads role 1 = %+v, %v", round, r, err)
		}
	}
	wb.WaitFor(t, 6, time.Millisecond)
	mu.Lock()
	got := slices.Clone(seen)
	mu.Unlock()
	if diff := cmp.Diff([]access.Revision{1, 2}, got); diff != "" {
		t.Errorf("tenant a's watcher saw (-want +got):\n%s", diff)
	}
}

func TestValidTenant(t *testing.T) {
	for _, name := range []string{"", "a", "acme", "org_42", "7", "a_b_c", strings.Repeat("x", 32)} {
		if err := ValidTenant(name); err != nil {
			t.Errorf("ValidTenant(%q) = %v, want nil", name, err)
		}
	}
	for _, name := range []string{"Acme", "_a", "a_", "a__b", "a-b", "a b", "a.b", "é", "a\x00", strings.Repeat("x", 33), "'; DROP TABLE x; --"} {
		err := ValidTenant(name)
		if !errors.Is(err, access.ErrInvalid) {
			t.Errorf("ValidTenant(%q) = %v, want ErrInvalid", name, err)
		}
		if _, err := Open(context.Background(), ":memory:", &Options{Tenant: name}); !errors.Is(err, access.ErrInvalid) {
			t.Errorf("Open with tenant %q = %v, want ErrInvalid", name, err)
		}
	}
}

// baseTables are the names of the schema's objects for the default
// tenant, read from a migrated file.
func baseTables(tb testing.TB) []string {
	tb.Helper()
	path := newPath(tb)
	open(tb, path, nil)
	return schemaObjects(tb, path)
}

// FuzzValidTenant: a name ValidTenant accepts is made of the allowed
// characters, and a table name made with it splits back, at its first
// "__", into the tenant and the default tenant's name, which never holds
// "__": no two tenants, nor a tenant and the default, share a table.
func FuzzValidTenant(f *testing.F) {
	for _, s := range []string{"", "acme", "org_42", "a__b", "_", "a_", "Acme", "x\xff", strings.Repeat("ab_", 12)} {
		f.Add(s)
	}
	bases := baseTables(f)
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidTenant(name)
		if err != nil {
			if !errors.Is(err, access.ErrInvalid) {
				t.Fatalf("ValidTenant(%q) = %v, not ErrInvalid", name, err)
			}
			return
		}
		if name == "" {
			return
		}
		if len(name) > maxTenantLen || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			t.Fatalf("ValidTenant accepted %q", name)
		}
		tn := newTenant(name)
		for _, base := range bases {
			if strings.Contains(base, "__") {
				t.Fatalf("the schema's %s holds __", base)
			}
			full := tn.table(base)
			rest, ok := strings.CutPrefix(full, tablePrefix)
			if !ok {
				t.Fatalf("%s for tenant %q is %s", base, name, full)
			}
			gotTenant, gotBase, ok := strings.Cut(rest, "__")
			if !ok || gotTenant != name || tablePrefix+gotBase != base {
				t.Fatalf("%s for tenant %q is %s, which reads as tenant %q and %s", base, name, full, gotTenant, gotBase)
			}
			if t2, ok := tenantOfSchemaTable(tn.table("access_schema")); !ok || t2 != name {
				t.Fatalf("tenant %q's schema table reads as tenant %q, %v", name, t2, ok)
			}
		}
	})
}

func TestRewriteSQL(t *testing.T) {
	const p = "access_t__"
	for _, tc := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT id FROM access_role WHERE parent_id = $1", "SELECT id FROM access_t__role WHERE parent_id = $1"},
		{"SELECT m.id FROM access_group_member m JOIN access_group g ON g.id=m.group_id",
			"SELECT m.id FROM access_t__group_member m JOIN access_t__group g ON g.id=m.group_id"},
		{"INSERT INTO main.access_role(id) VALUES (1)", "INSERT INTO main.access_t__role(id) VALUES (1)"},
		{`SELECT * FROM "access_role", [access_group], ` + "`access_x`", `SELECT * FROM "access_t__role", [access_t__group], ` + "`access_t__x`"},
		{"SELECT * FROM ACCESS_ROLE", "SELECT * FROM access_t__ROLE"},
		{"SELECT 'access_role', 'it''s access_role' FROM access_role", "SELECT 'access_role', 'it''s access_role' FROM access_t__role"},
		{"-- access_role\nCREATE TABLE access_role (x) /* access_role */;", "-- access_role\nCREATE TABLE access_t__role (x) /* access_role */;"},
		{"SELECT my_access_role, access_role.x, x1access_role FROM access_role", "SELECT my_access_role, access_t__role.x, x1access_role FROM access_t__role"},
		{"SELECT 'unterminated access_role", "SELECT 'unterminated access_role"},
		{"SELECT 1 /* unterminated access_role", "SELECT 1 /* unterminated access_role"},
		{`SELECT "unterminated`, `SELECT "unterminated`},
		{"access_role", "access_t__role"},
	} {
		if got := rewriteSQL(tc.in, p); got != tc.want {
			t.Errorf("rewriteSQL(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

// FuzzRewriteSQL: rewriting only ever inserts the tenant's part after an
// access_, so taking it out again gives back the statement, and a
// statement without access_ comes back as it is.
func FuzzRewriteSQL(f *testing.F) {
	for _, m := range migrations {
		f.Add(m.SQL)
	}
	f.Add(dialect.SchemaTable)
	f.Add(`SELECT 'a''access_x' "access_y" [access_z --`)
	const p = "access_t__"
	f.Fuzz(func(t *testing.T, sql string) {
		if strings.Contains(strings.ToLower(sql), "t__") {
			return
		}
		got := rewriteSQL(sql, p)
		if !strings.Contains(strings.ToLower(sql), tablePrefix) && got != sql {
			t.Fatalf("rewriteSQL(%q) = %q, want it unchanged", sql, got)
		}
		if back := strings.ReplaceAll(got, p, tablePrefix); !strings.EqualFold(back, sql) {
			t.Fatalf("rewriteSQL(%q) = %q, which is not the statement with the tenant's part inserted", sql, got)
		}
	})
}

// TestTenantAddedToSingleTenantFile: a file of the default tenant, with
// data written before tenants existed, keeps all of it when tenants are
// added, migrated and written; a new tenant starts unmigrated and empty
// however many tenants the file holds; Migrate is idempotent.
func TestTenantAddedToSingleTenantFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := newPath(t)
	def := open(t, path, nil)
	if _, err := def.Apply(ctx, sqltest.Sample()); err != nil {
		t.Fatal(err)
	}
	before, err := def.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	baseObjects := schemaObjects(t, path)
	def.Close()

	for _, name := range []string{"b", "a", "c"} {
		s, err := Open(ctx, path, &Options{Tenant: name})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		if _, err := s.Changes(ctx, 0); !errors.Is(err, ErrNotMigrated) {
			t.Errorf("tenant %s before Migrate: %v, want ErrNotMigrated", name, err)
		}
		for range 2 {
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		sqltest.CheckEmpty(t, s)
		if _, err := s.Apply(ctx, access.Batch{Roles: []access.Role{{ID: 1, Name: name}}}); err != nil {
			t.Fatal(err)
		}
	}
	def = open(t, path, nil)
	after, err := def.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("the default tenant (-before +after):\n%s", diff)
	}
	tenants, err := def.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"", "a", "b", "c"}, tenants); diff != "" {
		t.Errorf("Tenants (-want +got):\n%s", diff)
	}
	// Each tenant has the default's objects under its own names.
	all := schemaObjects(t, path)
	for _, name := range []string{"a", "b", "c"} {
		var got []string
		for _, o := range all {
			if rest, ok := strings.CutPrefix(o, "access_"+name+"__"); ok {
				got = append(got, "access_"+rest)
			}
		}
		if diff := cmp.Diff(baseObjects, got); diff != "" {
			t.Errorf("tenant %s's objects (-default's +tenant's):\n%s", name, diff)
		}
	}
	if len(all) != 4*len(baseObjects) {
		t.Errorf("%d objects in a file of 4 tenants with %d each", len(all), len(baseObjects))
	}
}

// TestTenantMemory: a tenant in a private in-memory database, whose one
// connection every statement shares.
func TestTenantMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTenant(t, ":memory:", "acme", nil)
	if _, err := s.Apply(ctx, sqltest.Sample()); err != nil {
		t.Fatal(err)
	}
	if tenants, err := s.Tenants(ctx); err != nil || !slices.Equal(tenants, []string{"acme"}) {
		t.Errorf("Tenants = %q, %v", tenants, err)
	}
	if a, err := s.AssociateByName(ctx, "anna"); err != nil || a.ID != 100 {
		t.Errorf("AssociateByName(anna) = %+v, %v", a, err)
	}
}

// TestTenantShared: Stores of several tenants on one connection pool (an
// in-memory database's single connection, and a file's) keep apart; the
// pool closes with the last of them.
func TestTenantShared(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, path := range []string{":memory:", newPath(t)} {
		def := open(t, path, nil)
		stores := []*Store{def}
		for _, name := range []string{"a", "b"} {
			s, err := def.Tenant(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			stores = append(stores, s)
		}
		for i, s := range stores {
			if s.DB() != def.DB() {
				t.Errorf("%s: store %d has a pool of its own", path, i)
			}
			for n := range i + 1 {
				if err := s.PutRole(ctx, access.Role{ID: 1, Name: fmt.Sprint("store ", i, " write ", n)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		for i, s := range stores {
			r, err := s.Role(ctx, 1)
			if want := fmt.Sprint("store ", i, " write ", i); err != nil || r.Name != want {
				t.Errorf("%s: store %d: role 1 = %q, %v; want %q", path, i, r.Name, err, want)
			}
			if rev, err := s.Revision(ctx); err != nil || rev != access.Revision(i+1) {
				t.Errorf("%s: store %d: revision %d, %v; want %d", path, i, rev, err, i+1)
			}
		}
		if tenants, err := stores[1].Tenants(ctx); err != nil || !slices.Equal(tenants, []string{"", "a", "b"}) {
			t.Errorf("%s: Tenants = %q, %v", path, tenants, err)
		}
		if _, err := def.Tenant(ctx, "B"); !errors.Is(err, access.ErrInvalid) {
			t.Errorf("Tenant(B) = %v, want ErrInvalid", err)
		}

		// Closing the maker leaves the others working; the pool closes
		// with the last.
		def.Close()
		if _, err := def.Tenant(ctx, "c"); !errors.Is(err, ErrClosed) {
			t.Errorf("Tenant on a closed Store = %v, want ErrClosed", err)
		}
		if _, err := stores[2].Role(ctx, 1); err != nil {
			t.Errorf("%s: tenant b after its maker closed: %v", path, err)
		}
		stores[1].Close()
		if _, err := stores[2].Role(ctx, 1); err != nil {
			t.Errorf("%s: tenant b after tenant a closed: %v", path, err)
		}
		if err := def.DB().PingContext(ctx); err != nil {
			t.Errorf("%s: the pool closed while tenant b is open: %v", path, err)
		}
		stores[2].Close()
		if err := def.DB().PingContext(ctx); err == nil {
			t.Errorf("%s: the pool is open after its last Store closed", path)
		}
	}
}

// TestTenants runs the conformance suite's tenant cases on tenants of one
// file: a Store per tenant opened with Options.Tenant, and the first
// tenant's Store.Tenant for the rest, so that both ways of reaching a
// tenant are held to the same cases.
func TestTenants(t *testing.T) {
	path := newPath(t)
	var mu sync.Mutex
	var first *Store
	storetest.Tenants(t, func(st *testing.T, tenant string) storetest.Store {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = openTenant(t, path, tenant, nil)
			return first
		}
		s, err := first.Tenant(context.Background(), tenant)
		if err != nil {
			st.Fatal(err)
		}
		if err := s.Migrate(context.Background()); err != nil {
			st.Fatal(err)
		}
		st.Cleanup(s.Close)
		return s
	})
}
