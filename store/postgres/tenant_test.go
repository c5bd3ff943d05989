package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/storetest"
)

// decoySchema is the search_path of the tenant tests' shared pools: a
// schema that does not exist, so that any statement a Store runs outside
// its own schema fails instead of finding tables elsewhere.
const decoySchema = "access_no_such_schema"

// tenantPool returns a pool for the tenants of one test, with at most
// maxConns connections and decoySchema as its search_path, and a function
// that maps a tenant's name to a schema of this test alone; the schemas
// are dropped when the test ends.
func tenantPool(t *testing.T, maxConns int32) (*pgxpool.Pool, func(name string) string) {
	t.Helper()
	dsn := testDSN(t)
	cfg, err := pgxpool.ParseConfig(withSearchPath(t, dsn, decoySchema))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = maxConns
	ctx := context.Background()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	rand.Read(b[:])
	prefix := "tt_" + hex.EncodeToString(b[:]) + "_"
	t.Cleanup(func() {
		defer pool.Close()
		rows, err := pool.Query(ctx, "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)", prefix)
		if err != nil {
			t.Error(err)
			return
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Error(err)
			return
		}
		for _, n := range names {
			if _, err := pool.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{n}.Sanitize()+" CASCADE"); err != nil {
				t.Error(err)
			}
		}
	})
	return pool, func(name string) string { return prefix + name }
}

// openTenant opens and migrates the Store of schema over pool, closed when
// the test ends.
func openTenant(t *testing.T, pool *pgxpool.Pool, schema string, l *Listener) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := New(ctx, pool, &Options{Schema: schema, Listener: l})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTenants runs the conformance suite's tenant cases with every tenant
// in a schema of its own, all over one pool of 4 connections and one
// shared Listener.
func TestTenants(t *testing.T) {
	pool, schema := tenantPool(t, 4)
	l, err := NewListener(testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	storetest.Tenants(t, func(st *testing.T, tenant string) storetest.Store {
		return openTenant(st, pool, schema(tenant), l)
	})
}

// TestStoretestSchemaOption runs the whole conformance suite on Stores
// opened with Options.Schema over one pool whose own search_path names no
// schema: every statement the Store runs must set its schema. As in
// TestStoretest, a schema a subtest is done with is emptied and handed to
// the next.
func TestStoretestSchemaOption(t *testing.T) {
	pool, schema := tenantPool(t, 4)
	n := 0
	recycle(t, func() string { n++; return schema(fmt.Sprint("s", n)) },
		func(ctx context.Context, name string) (*Store, error) { return New(ctx, pool, &Options{Schema: name}) },
		func(ctx context.Context, name string) error { return emptySchema(ctx, pool, name) })
}

// emptySchema deletes every row of the store's tables in schema and
// resets the revision.
func emptySchema(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	rows, err := pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = $1 AND table_name LIKE 'access\_%'
		AND table_name NOT IN ('access_schema', 'access_revision')`, schema)
	if err != nil {
		return err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for _, t := range tables {
			if _, err := tx.Exec(ctx, "DELETE FROM "+pgx.Identifier{schema, t}.Sanitize()); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, "UPDATE "+pgx.Identifier{schema, "access_revision"}.Sanitize()+" SET revision = 0, log_floor = 0")
		return err
	})
}

// TestSchemaOptionInvalid: a schema name that is not a plain lower-case
// identifier is refused with ErrInvalid, before any connection is made.
func TestSchemaOptionInvalid(t *testing.T) {
	for _, name := range []string{
		"Tenant", "1tenant", "pg_tenant", "ten-ant", "ten ant", `ten"ant`, "ten'ant", "tenänt", "a;b",
		strings.Repeat("a", 64),
	} {
		// A nil pool would panic if New reached it.
		if _, err := New(context.Background(), nil, &Options{Schema: name}); !errors.Is(err, access.ErrInvalid) {
			t.Errorf("Options.Schema %q: %v, want an error wrapping ErrInvalid", name, err)
		}
	}
	for _, name := range []string{"t", "_t", "tenant_42", "select", strings.Repeat("a", 63)} {
		if err := checkSchema(name); err != nil {
			t.Errorf("Options.Schema %q: %v, want it accepted", name, err)
		}
	}
}

// TestSchemaOptionMigrateCreates: a Store for a schema that does not exist
// reports ErrNotMigrated until Migrate, which creates the schema.
func TestSchemaOptionMigrateCreates(t *testing.T) {
	ctx := context.Background()
	pool, schema := tenantPool(t, 2)
	s, err := New(ctx, pool, &Options{Schema: schema("fresh")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Changes(ctx, 0); !errors.Is(err, ErrNotMigrated) {
		t.Fatalf("Changes before Migrate: %v, want ErrNotMigrated", err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", schema("fresh")+".access_revision").Scan(&exists); err != nil || !exists {
		t.Fatalf("access_revision in the new schema: %v, %v", exists, err)
	}
	if rev, err := s.Apply(ctx, access.Batch{Roles: []access.Role{{ID: 1, Name: "r"}}}); err != nil || rev != 1 {
		t.Fatalf("Apply = %d, %v", rev, err)
	}
	if got := s.Schema(); got != schema("fresh") {
		t.Errorf("Schema() = %q", got)
	}

	// A second Store on the migrated schema reads its version and revision
	// outside any transaction of its own, and answers an empty batch.
	s2, err := New(ctx, pool, &Options{Schema: schema("fresh")})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if rev, err := s2.Revision(ctx); err != nil || rev != 1 {
		t.Errorf("second Store: Revision = %d, %v; want 1", rev, err)
	}
	if rev, err := s2.Apply(ctx, access.Batch{}); err != nil || rev != 1 {
		t.Errorf("second Store: Apply(empty) = %d, %v; want 1", rev, err)
	}
}

// TestSchemaOptionSmallPool: 50 tenants' Stores, used at once, share a
// pool of 2 connections; each keeps its own model and the pool's
// connections keep their own search_path.
func TestSchemaOptionSmallPool(t *testing.T) {
	ctx := context.Background()
	pool, schema := tenantPool(t, 2)
	const tenants = 50
	stores := make([]*Store, tenants)
	var wg sync.WaitGroup
	errs := make(chan error, tenants)
	for i := range tenants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := New(ctx, pool, &Options{Schema: schema(fmt.Sprint("t", i))})
			if err != nil {
				errs <- err
				return
			}
			stores[i] = s
			if err := s.Migrate(ctx); err != nil {
				errs <- fmt.Errorf("tenant %d: migrate: %w", i, err)
				return
			}
			for j := range 3 {
				b := access.Batch{Roles: []access.Role{{ID: 1, Name: fmt.Sprintf("tenant %d write %d", i, j)}}}
				if _, err := s.Apply(ctx, b); err != nil {
					errs <- fmt.Errorf("tenant %d: apply: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	for i, s := range stores {
		defer s.Close()
		d, err := s.Changes(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("tenant %d write 2", i)
		if d.To != 3 || len(d.Roles) != 1 || d.Roles[0].Name != want {
			t.Errorf("tenant %d: revision %d, roles %+v; want revision 3 and role %q", i, d.To, d.Roles, want)
		}
	}
	if n := pool.Stat().TotalConns(); n > 2 {
		t.Errorf("pool holds %d connections, want at most 2", n)
	}
	// Every connection of the pool still has the pool's search_path.
	conns := make([]*pgxpool.Conn, 0, 2)
	for range 2 {
		c, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var path string
		if err := c.QueryRow(ctx, "SHOW search_path").Scan(&path); err != nil || path != decoySchema {
			t.Errorf("a pool connection's search_path is %q, %v; want %q", path, err, decoySchema)
		}
	}
	for _, c := range conns {
		c.Release()
	}
}

// TestSchemaOptionApplyTx: ApplyTx and ApplyTxSQL write to the tenant's
// schema inside the caller's transaction and leave its search_path as it
// was, after a rejected batch as well, so the caller's own statements reach
// the caller's tables.
func TestSchemaOptionApplyTx(t *testing.T) {
	ctx := context.Background()
	pool, schema := tenantPool(t, 2)
	s := openTenant(t, pool, schema("apply_tx"), nil)
	app := schema("app")
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+app+"; CREATE TABLE "+app+".app_note (note text)"); err != nil {
		t.Fatal(err)
	}
	callerPath := app + ", public"

	// check runs one write in a transaction whose search_path the caller
	// set, and checks the path after it and that an unqualified insert
	// reaches the caller's table.
	type txLike interface {
		Exec(ctx context.Context, q string) error
		Path(ctx context.Context) string
	}
	check := func(name string, tx txLike, apply func(access.Batch) (access.Revision, error), b access.Batch, wantErr error) {
		t.Helper()
		if err := tx.Exec(ctx, "SET LOCAL search_path = "+callerPath); err != nil {
			t.Fatal(err)
		}
		_, err := apply(b)
		if !errors.Is(err, wantErr) && !(wantErr == nil && err == nil) {
			t.Fatalf("%s: %v, want %v", name, err, wantErr)
		}
		if got := tx.Path(ctx); got != callerPath {
			t.Errorf("%s: search_path after ApplyTx is %q, want the caller's %q", name, got, callerPath)
		}
		if err := tx.Exec(ctx, "INSERT INTO app_note VALUES ('"+name+"')"); err != nil {
			t.Errorf("%s: the caller's insert after ApplyTx: %v", name, err)
		}
	}

	// pgx: a rejected batch, rolled back as ApplyTx asks, then one that
	// commits.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	apply := func(b access.Batch) (access.Revision, error) { return s.ApplyTx(ctx, tx, b) }
	check("pgx rejected", pgxTx{tx}, apply, access.Batch{Associates: []access.Associate{{ID: 1, Name: "x", PrimaryGroup: 99, Active: true}}}, access.ErrInvalid)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if tx, err = pool.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	check("pgx", pgxTx{tx}, apply, access.Batch{Roles: []access.Role{{ID: 1, Name: "via pgx"}}}, nil)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	// database/sql.
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	stx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	apply = func(b access.Batch) (access.Revision, error) { return s.ApplyTxSQL(ctx, stx, b) }
	check("sql", sqlTx{stx}, apply, access.Batch{Roles: []access.Role{{ID: 2, Name: "via sql"}}}, nil)
	if err := stx.Commit(); err != nil {
		t.Fatal(err)
	}

	d, err := s.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.To != 2 || len(d.Roles) != 2 || d.Roles[0].Name != "via pgx" || d.Roles[1].Name != "via sql" {
		t.Errorf("tenant after the two transactions: revision %d, roles %+v", d.To, d.Roles)
	}
	var notes int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+app+".app_note").Scan(&notes); err != nil || notes != 2 {
		t.Errorf("the caller's table holds %d rows, %v; want 2", notes, err)
	}
}

type pgxTx struct{ tx pgx.Tx }

func (p pgxTx) Exec(ctx context.Context, q string) error { _, err := p.tx.Exec(ctx, q); return err }
func (p pgxTx) Path(ctx context.Context) (s string) {
	p.tx.QueryRow(ctx, "SHOW search_path").Scan(&s)
	return s
}

type sqlTx struct{ tx *sql.Tx }

func (p sqlTx) Exec(ctx context.Context, q string) error {
	_, err := p.tx.ExecContext(ctx, q)
	return err
}
func (p sqlTx) Path(ctx context.Context) (s string) {
	p.tx.QueryRowContext(ctx, "SHOW search_path").Scan(&s)
	return s
}
