package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/crmaccess/access"
)

// tenantBatch is a small organisation: 100 associates in 10 groups with
// 5 roles.
func tenantBatch() access.Batch {
	var b access.Batch
	for i := range 5 {
		b.Roles = append(b.Roles, access.Role{ID: access.RoleID(i + 1), Name: fmt.Sprint("role ", i)})
	}
	for i := range 10 {
		b.Groups = append(b.Groups, access.Group{ID: access.GroupID(i + 1), Name: fmt.Sprint("group ", i)})
	}
	for i := range 100 {
		b.Associates = append(b.Associates, access.Associate{ID: access.AssociateID(i + 1), Name: fmt.Sprint("user ", i),
			Type: access.Internal, Role: access.RoleID(i%5 + 1), PrimaryGroup: access.GroupID(i%10 + 1), Active: true})
	}
	return b
}

// tenantFile makes a file of n tenants (t0, t1, …), each as Migrate
// makes it and holding [tenantBatch]. Tenant t0 is made through a Store;
// the others copy its schema objects (as sqlite_master holds them, with
// the columns migrations added) and its rows, which is what Migrate and
// Apply would leave, made in a fraction of the time: each of the
// migrations' ALTER TABLE statements makes SQLite parse the whole
// schema again, so migrating tenant after tenant costs time quadratic in
// their number.
func tenantFile(tb testing.TB, n int) string {
	tb.Helper()
	ctx := context.Background()
	path := newPath(tb)
	s := openTenant(tb, path, "t0", nil)
	if _, err := s.Apply(ctx, tenantBatch()); err != nil {
		tb.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var objects, tables []string
	rows, err := db.QueryContext(ctx, `SELECT type, name, sql FROM sqlite_master WHERE name LIKE 'access\_t0\_\_%' ESCAPE '\' AND sql IS NOT NULL ORDER BY rowid`)
	if err != nil {
		tb.Fatal(err)
	}
	for rows.Next() {
		var typ, name, stmt string
		if err := rows.Scan(&typ, &name, &stmt); err != nil {
			tb.Fatal(err)
		}
		objects = append(objects, stmt)
		if typ == "table" {
			tables = append(tables, name)
		}
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	rows.Close()
	for i := 1; i < n; i += 100 {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			tb.Fatal(err)
		}
		for k := i; k < min(n, i+100); k++ {
			to := fmt.Sprintf("access_t%d__", k)
			for _, o := range objects {
				if _, err := tx.ExecContext(ctx, strings.ReplaceAll(o, "access_t0__", to)); err != nil {
					tb.Fatal(err)
				}
			}
			for _, t := range tables {
				if _, err := tx.ExecContext(ctx, "INSERT INTO "+strings.Replace(t, "access_t0__", to, 1)+" SELECT * FROM "+t); err != nil {
					tb.Fatal(err)
				}
			}
		}
		if err := tx.Commit(); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, "VACUUM"); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkTenants measures, in files of 1, 10, 100 and 1,000 tenants of
// 100 associates each: opening one tenant's Store and loading its model
// (SQLite parses the whole file's schema on each new connection), reading
// an associate by id on that Store, opening another tenant on its
// connections with [Store.Tenant] and loading it, and migrating one more
// tenant into the file. It reports the file size.
// Run it with -benchtime=1x.
func BenchmarkTenants(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprint("tenants=", n), func(b *testing.B) {
			start := time.Now()
			path := tenantFile(b, n)
			b.Logf("made the file of %d tenants in %v", n, time.Since(start))
			fi, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			var first, open, read, shared, migrate time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				s, err := Open(ctx, path, &Options{Tenant: fmt.Sprint("t", n/2)})
				if err != nil {
					b.Fatal(err)
				}
				first += time.Since(start)
				d, err := s.Changes(ctx, 0)
				if err != nil || len(d.Associates) != 100 {
					b.Fatalf("Changes(0): %d associates, %v", len(d.Associates), err)
				}
				open += time.Since(start)
				// Twice: the second pass, on connections that have
				// parsed the schema, is the steady state.
				for range 2 {
					start = time.Now()
					for id := range 100 {
						if _, err := s.Associate(ctx, access.AssociateID(id+1)); err != nil {
							b.Fatal(err)
						}
					}
				}
				read += time.Since(start)

				// Another tenant on the warm connections of the first.
				start = time.Now()
				t, err := s.Tenant(ctx, fmt.Sprint("t", n-1))
				if err != nil {
					b.Fatal(err)
				}
				if d, err := t.Changes(ctx, 0); err != nil || len(d.Associates) != 100 {
					b.Fatalf("Changes(0): %d associates, %v", len(d.Associates), err)
				}
				shared += time.Since(start)
				t.Close()
				s.Close()

				b.StopTimer()
				s, err = Open(ctx, path, &Options{Tenant: fmt.Sprint("new", i)})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start = time.Now()
				if err := s.Migrate(ctx); err != nil {
					b.Fatal(err)
				}
				migrate += time.Since(start)
				s.Close()
			}
			b.ReportMetric(float64(fi.Size())/(1<<20), "MiB")
			b.ReportMetric(float64(fi.Size())/float64(n)/(1<<10), "KiB/tenant")
			b.ReportMetric(float64(first.Microseconds())/1000/float64(b.N), "ms/open")
			b.ReportMetric(float64(open.Microseconds())/1000/float64(b.N), "ms/open+load")
			b.ReportMetric(float64(read.Microseconds())/100/float64(b.N), "µs/read")
			b.ReportMetric(float64(shared.Microseconds())/1000/float64(b.N), "ms/Tenant+load")
			b.ReportMetric(float64(migrate.Microseconds())/1000/float64(b.N), "ms/migrate")
		})
	}
}

// BenchmarkTenantRead compares a small read (one associate by id) on the
// default tenant and on a named tenant of the same content, each alone in
// a file: the rewrite of each statement is cached, so the two should be
// level.
func BenchmarkTenantRead(b *testing.B) {
	ctx := context.Background()
	for _, name := range []string{"acme", ""} {
		s := openTenant(b, newPath(b), name, nil)
		if _, err := s.Apply(ctx, tenantBatch()); err != nil {
			b.Fatal(err)
		}
		label := name
		if label == "" {
			label = "default"
		}
		b.Run("tenant="+label, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Associate(ctx, 42); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTenantRewrite is the cost a tenant's Store adds to each
// statement: a lookup of its rewritten text.
func BenchmarkTenantRewrite(b *testing.B) {
	t := newTenant("acme")
	const q = "SELECT id, name, name_fold, type FROM access_associate WHERE id IN (SELECT value FROM json_each($1)) ORDER BY id"
	t.rewrite(q)
	b.ReportAllocs()
	for b.Loop() {
		if t.rewrite(q) == q {
			b.Fatal("not rewritten")
		}
	}
}
