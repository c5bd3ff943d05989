package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/crmaccess/access"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5"
)

// testDSN returns the DSN of the test server, or skips the test when
// ACCESS_TEST_POSTGRES_DSN is unset.
func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("ACCESS_TEST_POSTGRES_DSN")
	if dsn == "" {
		tb.Skip("ACCESS_TEST_POSTGRES_DSN is not set")
	}
	return dsn
}

// withSearchPath returns dsn with its search_path set to schema.
func withSearchPath(tb testing.TB, dsn, schema string) string {
	tb.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			tb.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// newSchema creates a fresh schema, dropped when the test ends, and
// returns a DSN that selects it.
func newSchema(tb testing.TB) string {
	tb.Helper()
	dsn := testDSN(tb)
	var b [6]byte
	rand.Read(b[:])
	schema := "access_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Error(err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Error(err)
		}
	})
	return withSearchPath(tb, dsn, schema)
}

// open opens a Store on dsn, migrated, closed when the test ends.
func open(tb testing.TB, dsn string, opts *Options) *Store {
	tb.Helper()
	ctx := context.Background()
	s, err := Open(ctx, dsn, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	if err := s.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return s
}

// exec runs SQL on dsn outside any Store.
func exec(tb testing.TB, dsn, sql string, args ...any) {
	tb.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// sample is a small model using every kind and every field.
func sample() access.Batch {
	return access.Batch{
		Roles: []access.Role{
			{ID: 1, Name: "Boss", Rights: map[string]access.Grid{
				"*":       {access.Owner: access.LevelFull, access.Other: access.LevelRead},
				"contact": {},
			}, Functions: []string{"user-admin", "export-selection"}},
			{ID: 2, Name: "Seller", Parent: 1, Rights: map[string]access.Grid{
				"sale": {access.Owner: access.LevelUpdate, access.Team: access.R | access.U, access.Unowned: access.LevelNone},
			}},
		},
		Groups: []access.Group{
			{ID: 10, Name: "Team A", Roles: []access.RoleID{2}, Functions: []string{"backend"},
				Defaults: map[string]access.CRUD{"*": access.LevelRead}, SelfService: true,
				Fields: map[string]string{"region": "north"}},
			{ID: 11, Name: "Team B", RolesAndSubordinates: []access.RoleID{1}, Admins: []access.AssociateID{100}},
			{ID: 20, Name: "Sales", Groups: []access.GroupID{11, 10}},
			{ID: 30, Name: "Smart", Smart: `attr.region == "north"`},
		},
		Associates: []access.Associate{
			{ID: 100, Name: "Anna", Type: access.Internal, PrimaryGroup: 10, Groups: []access.GroupID{20, 11},
				Role: 1, Active: true, ValidFrom: date(2020, 1, 1), ValidTo: date(2030, 1, 1),
				Company: 7, Projects: []int64{3, 1}, Attributes: map[string]string{"region": "north", "x": "y"},
				ServiceLogin: 55, Categories: []access.CategoryID{200}},
			{ID: 101, Name: "Room 1", Type: access.Resource},
			{ID: 102, Name: "Partner", Type: access.External, Role: 2, Active: true, Company: 9},
			{ID: 103, Name: "sync", Type: access.System, Role: 1, Active: true},
		},
		SharingRules: []access.SharingRule{
			{ID: 300, Name: "open sales", EntityType: "sale",
				From:   access.Principals{Groups: []access.GroupID{10}, Roles: []access.RoleID{2}},
				To:     access.Principals{Everyone: true, Associates: []access.AssociateID{102}, RolesAndSubordinates: []access.RoleID{1}},
				Rights: access.LevelRead},
		},
		Grants: []access.Grant{
			{ID: 400, Associate: 102, EntityType: "contact", RecordID: 5, Rights: access.LevelUpdate},
			{ID: 401, Group: 20, EntityType: "*", Rights: access.R},
		},
		Categories: []access.Category{
			{ID: 200, Name: "Support", Groups: []access.GroupID{10}, Roles: []access.RoleID{2}},
			{ID: 201, Name: "Billing", Parent: 200, MembersOnly: true},
		},
		Impersonations: []access.Impersonation{
			{ID: 500, Actor: access.Principal{Associate: 100}, Target: access.Principal{Group: 11}},
		},
	}
}

var cmpOpts = cmp.Options{cmpopts.EquateEmpty()}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t, newSchema(t), nil)
	want := sample()
	rev, err := s.Apply(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	if rev != 1 {
		t.Errorf("first revision = %d, want 1", rev)
	}
	d, err := s.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Full || d.To != rev {
		t.Errorf("Changes(0): Full %v To %d, want true %d", d.Full, d.To, rev)
	}
	if diff := cmp.Diff(want, d.Batch, cmpOpts); diff != "" {
		t.Errorf("Changes(0) (-want +got):\n%s", diff)
	}
	a, err := s.AssociateByName(ctx, "ANNA")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.Associates[0], a, cmpOpts); diff != "" {
		t.Errorf("AssociateByName (-want +got):\n%s", diff)
	}
	deps, err := s.Dependants(ctx, access.Ref{Kind: access.KindGroup, ID: 10})
	if err != nil {
		t.Fatal(err)
	}
	wantDeps := []access.Ref{
		{Kind: access.KindGroup, ID: 20}, {Kind: access.KindAssociate, ID: 100},
		{Kind: access.KindSharingRule, ID: 300}, {Kind: access.KindCategory, ID: 200},
	}
	if diff := cmp.Diff(wantDeps, deps); diff != "" {
		t.Errorf("Dependants(group 10) (-want +got):\n%s", diff)
	}
	if _, err := s.Role(ctx, 99); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("Role(99) = %v, want ErrNotFound", err)
	}
}

func TestIncrementalChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t, newSchema(t), nil)
	r1, err := s.Apply(ctx, sample())
	if err != nil {
		t.Fatal(err)
	}
	// Swap two names in one batch, delete a grant, and add a group.
	b := sample()
	anna, partner := b.Associates[0], b.Associates[2]
	anna.Name, partner.Name = partner.Name, anna.Name
	r2, err := s.Apply(ctx, access.Batch{
		Associates:   []access.Associate{anna, partner},
		Groups:       []access.Group{{ID: 40, Name: "New"}},
		DeleteGrants: []access.GrantID{400, 999},
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.Changes(ctx, r1)
	if err != nil {
		t.Fatal(err)
	}
	want := access.Delta{From: r1, To: r2, Batch: access.Batch{
		Groups:       []access.Group{{ID: 40, Name: "New"}},
		Associates:   []access.Associate{anna, partner},
		DeleteGrants: []access.GrantID{400},
	}}
	if diff := cmp.Diff(want, d, cmpOpts); diff != "" {
		t.Errorf("Changes(%d) (-want +got):\n%s", r1, diff)
	}
	if d, err := s.Changes(ctx, r2); err != nil || d.Full || !d.Empty() || d.From != r2 || d.To != r2 {
		t.Errorf("Changes(latest) = %+v, %v; want an empty delta", d, err)
	}
	if d, err := s.Changes(ctx, r2+5); err != nil || !d.Full {
		t.Errorf("Changes(future) = Full %v, %v; want a full delta", d.Full, err)
	}
}

func TestValidationErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t, newSchema(t), nil)
	if _, err := s.Apply(ctx, sample()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		b    access.Batch
		want error
	}{
		{"cycle", access.Batch{Groups: []access.Group{{ID: 10, Name: "Team A", Groups: []access.GroupID{20}}}}, access.ErrCycle},
		{"role cycle", access.Batch{Roles: []access.Role{{ID: 1, Name: "Boss", Parent: 2}}}, access.ErrCycle},
		{"name taken", access.Batch{Associates: []access.Associate{{ID: 104, Name: "anna", Type: access.Resource}}}, access.ErrNameTaken},
		{"in use", access.Batch{DeleteGroups: []access.GroupID{10}}, access.ErrInUse},
		{"unknown ref", access.Batch{Groups: []access.Group{{ID: 41, Name: "x", Groups: []access.GroupID{77}}}}, access.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Apply(ctx, tc.b); !errors.Is(err, tc.want) {
				t.Errorf("Apply = %v, want %v", err, tc.want)
			}
		})
	}
	if rev, err := s.Revision(ctx); err != nil || rev != 1 {
		t.Errorf("after failed batches: revision %d, %v; want 1", rev, err)
	}
	if err := s.DeleteRole(ctx, 42); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("DeleteRole(42) = %v, want ErrNotFound", err)
	}
	if err := s.DeleteAssociate(ctx, 103); err != nil {
		t.Errorf("DeleteAssociate(103) = %v", err)
	}
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := newSchema(t)
	s, err := Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Changes(ctx, 0); !errors.Is(err, ErrNotMigrated) {
		t.Errorf("Changes before Migrate = %v, want ErrNotMigrated", err)
	}
	if _, err := s.Apply(ctx, sample()); !errors.Is(err, ErrNotMigrated) {
		t.Errorf("Apply before Migrate = %v, want ErrNotMigrated", err)
	}
	// Version 1 first, with data in it; then the rest. Nothing is lost.
	if err := s.migrateTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	exec(t, dsn, `INSERT INTO access_group (id, name) VALUES (1, 'old')`)
	for range 2 {
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	g, err := s.Group(ctx, 1)
	if err != nil || g.Name != "old" {
		t.Errorf("group written at version 1 = %+v, %v", g, err)
	}
	// A second Store sees the migrated schema without migrating.
	s2, err := Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.Changes(ctx, 0); err != nil {
		t.Errorf("Changes on a second store: %v", err)
	}
}

func TestSchemaTooNew(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := newSchema(t)
	s := open(t, dsn, nil)
	exec(t, dsn, `INSERT INTO access_schema (version, name) VALUES (999, '0999_future.sql')`)
	if err := s.Migrate(ctx); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("Migrate = %v, want ErrSchemaTooNew", err)
	}
	s2, err := Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.Changes(ctx, 0); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("Changes = %v, want ErrSchemaTooNew", err)
	} else {
		t.Log(err)
	}
}

func TestBadRows(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, sql, want string
	}{
		{"associate type", `UPDATE access_associate SET type = 9 WHERE id = 101`,
			"postgres: table access_associate row 101: unknown associate type 9"},
		{"relation", `INSERT INTO access_role_right VALUES (2, 'x', 12, 1)`,
			`postgres: table access_role_right row (2, "x", 12): unknown relation 12`},
		{"crud", `UPDATE access_role_right SET crud = 99 WHERE role_id = 2 AND relation = 1`,
			`postgres: table access_role_right row (2, "sale", 1): invalid rights 99`},
		{"attributes", `UPDATE access_associate SET attributes = '{"a": 1}' WHERE id = 100`,
			"postgres: table access_associate row 100: attributes: not a JSON object of strings"},
		{"name fold", `UPDATE access_associate SET name_fold = 'zz' WHERE id = 102`,
			`postgres: table access_associate row 102: name_fold "zz" is not the folded name "PARTNER"`},
		{"smart rule", `UPDATE access_group SET smart = 'role ==' WHERE id = 30`,
			"postgres: table access_group row 30: smart rule: "},
		{"principal list", `UPDATE access_sharing_principal SET list = 7 WHERE rule_id = 300 AND side = 1 AND list = 2`,
			"postgres: table access_sharing_principal row (300, 1, 7, 0): unknown principal list 7"},
		{"infinite time", `UPDATE access_associate SET valid_to = 'infinity' WHERE id = 100`,
			"postgres: table access_associate row 100: valid_to: infinity is not a time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dsn := newSchema(t)
			s := open(t, dsn, nil)
			rev, err := s.Apply(ctx, sample())
			if err != nil {
				t.Fatal(err)
			}
			exec(t, dsn, tc.sql)
			_, err = s.Changes(ctx, 0)
			if !errors.Is(err, ErrBadRow) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("Changes(0) = %v\nwant %s…", err, tc.want)
			}
			// An incremental load of the row fails the same way.
			exec(t, dsn, `INSERT INTO access_change SELECT $1, kind, id, false, now() FROM access_change WHERE revision = $2`, int64(rev)+1, int64(rev))
			exec(t, dsn, `UPDATE access_revision SET revision = revision + 1`)
			if _, err := s.Changes(ctx, rev); !errors.Is(err, ErrBadRow) {
				t.Errorf("Changes(%d) = %v, want ErrBadRow", rev, err)
			}
		})
	}
}

func TestEmbeddedMigrations(t *testing.T) {
	if errMigrations != nil {
		t.Fatal(errMigrations)
	}
}
