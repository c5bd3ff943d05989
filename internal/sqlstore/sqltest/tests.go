package sqltest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/sqlstore"
	"github.com/google/go-cmp/cmp"
)

func testRoundTrip(t *testing.T, e *Engine) {
	ctx := context.Background()
	s := e.open(t, e.NewDB(t), nil)
	want := Sample()
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

func testIncrementalChanges(t *testing.T, e *Engine) {
	ctx := context.Background()
	s := e.open(t, e.NewDB(t), nil)
	r1, err := s.Apply(ctx, Sample())
	if err != nil {
		t.Fatal(err)
	}
	// Swap two names in one batch, delete a grant, and add a group.
	b := Sample()
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

func testValidationErrors(t *testing.T, e *Engine) {
	ctx := context.Background()
	s := e.open(t, e.NewDB(t), nil)
	if _, err := s.Apply(ctx, Sample()); err != nil {
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

// testForeignKeysDeferred replaces entities others refer to, which the
// store does by deleting and inserting their rows: the deferred keys must
// accept that, and still refuse a dangling reference at commit.
func testForeignKeysDeferred(t *testing.T, e *Engine) {
	ctx := context.Background()
	addr := e.NewDB(t)
	s := e.open(t, addr, nil)
	if _, err := s.Apply(ctx, Sample()); err != nil {
		t.Fatal(err)
	}
	b := Sample()
	b.Roles[0].Name, b.Groups[0].Name, b.Associates[0].Name = "Boss 2", "Team A 2", "Anna 2"
	if _, err := s.Apply(ctx, access.Batch{Roles: b.Roles[:1], Groups: b.Groups[:1], Associates: b.Associates[:1]}); err != nil {
		t.Fatal(err)
	}
	g, err := s.Group(ctx, 10)
	if err != nil || g.Name != "Team A 2" {
		t.Errorf("Group(10) = %+v, %v", g, err)
	}
	// Bypassing validation, the keys still hold.
	if err := e.Exec(ctx, addr, "DELETE FROM access_group WHERE id = 10"); err == nil {
		t.Error("deleting a referenced group committed")
	}
}

func testMigrations(t *testing.T, e *Engine) {
	ctx := context.Background()
	addr := e.NewDB(t)
	s, err := e.Open(ctx, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Changes(ctx, 0); !errors.Is(err, sqlstore.ErrNotMigrated) {
		t.Errorf("Changes before Migrate = %v, want ErrNotMigrated", err)
	}
	if _, err := s.Apply(ctx, Sample()); !errors.Is(err, sqlstore.ErrNotMigrated) {
		t.Errorf("Apply before Migrate = %v, want ErrNotMigrated", err)
	}
	// Version 1 first, with data in it; then the rest. Nothing is lost.
	if err := e.MigrateTo(ctx, s, 1); err != nil {
		t.Fatal(err)
	}
	e.exec(t, addr, `INSERT INTO access_group (id, name) VALUES (1, 'old')`)
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
	s2, err := e.Open(ctx, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.Changes(ctx, 0); err != nil {
		t.Errorf("Changes on a second store: %v", err)
	}
}

func testSchemaTooNew(t *testing.T, e *Engine) {
	ctx := context.Background()
	addr := e.NewDB(t)
	s := e.open(t, addr, nil)
	e.exec(t, addr, `INSERT INTO access_schema (version, name) VALUES (999, '0999_future.sql')`)
	if err := s.Migrate(ctx); !errors.Is(err, sqlstore.ErrSchemaTooNew) {
		t.Errorf("Migrate = %v, want ErrSchemaTooNew", err)
	}
	s2, err := e.Open(ctx, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.Changes(ctx, 0); !errors.Is(err, sqlstore.ErrSchemaTooNew) {
		t.Errorf("Changes = %v, want ErrSchemaTooNew", err)
	} else {
		t.Log(err)
	}
}

// BadRow is a case for the BadRows test: SQL that spoils a row of
// [Sample], and the start of the error a full load then fails with, after
// the adapter's name and a colon.
type BadRow struct {
	Name, SQL, Want string
	// NotLogged marks a row the change log does not name, which an
	// incremental load therefore does not read.
	NotLogged bool
}

// badRows are the cases every engine shares.
var badRows = []BadRow{
	{Name: "associate type", SQL: `UPDATE access_associate SET type = 9 WHERE id = 101`,
		Want: "table access_associate row 101: unknown associate type 9"},
	{Name: "relation", SQL: `INSERT INTO access_role_right VALUES (2, 'x', 12, 1)`,
		Want: `table access_role_right row (2, "x", 12): unknown relation 12`},
	{Name: "crud", SQL: `UPDATE access_role_right SET crud = 99 WHERE role_id = 2 AND relation = 1`,
		Want: `table access_role_right row (2, "sale", 1): invalid rights 99`},
	{Name: "attributes", SQL: `UPDATE access_associate SET attributes = '{"a": 1}' WHERE id = 100`,
		Want: "table access_associate row 100: attributes: not a JSON object of strings"},
	{Name: "name fold", SQL: `UPDATE access_associate SET name_fold = 'zz' WHERE id = 102`,
		Want: `table access_associate row 102: name_fold "zz" is not the folded name "PARTNER"`},
	{Name: "smart rule", SQL: `UPDATE access_group SET smart = 'role ==' WHERE id = 30`,
		Want: "table access_group row 30: smart rule: "},
	{Name: "principal list", SQL: `UPDATE access_sharing_principal SET list = 7 WHERE rule_id = 300 AND side = 1 AND list = 2`,
		Want: "table access_sharing_principal row (300, 1, 7, 0): unknown principal list 7"},
}

func testBadRows(t *testing.T, e *Engine) {
	for _, tc := range append(badRows[:len(badRows):len(badRows)], e.BadRows...) {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			addr := e.NewDB(t)
			s := e.open(t, addr, nil)
			rev, err := s.Apply(ctx, Sample())
			if err != nil {
				t.Fatal(err)
			}
			e.exec(t, addr, tc.SQL)
			want := e.Name + ": " + tc.Want
			_, err = s.Changes(ctx, 0)
			if !errors.Is(err, sqlstore.ErrBadRow) || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Changes(0) = %v\nwant %s…", err, want)
			}
			if tc.NotLogged {
				return
			}
			// An incremental load of the row fails the same way.
			e.exec(t, addr, `INSERT INTO access_change SELECT $1, kind, id, false, changed_at FROM access_change WHERE revision = $2`, int64(rev)+1, int64(rev))
			e.exec(t, addr, `UPDATE access_revision SET revision = revision + 1`)
			if _, err := s.Changes(ctx, rev); !errors.Is(err, sqlstore.ErrBadRow) {
				t.Errorf("Changes(%d) = %v, want ErrBadRow", rev, err)
			}
		})
	}
}

// testTwoStores writes through each of two Stores on one database: each
// store's watcher hears of its own writes at once and of the other's soon.
func testTwoStores(t *testing.T, e *Engine) {
	ctx := context.Background()
	addr := e.NewDB(t)
	opts := &Options{PollInterval: 10 * time.Millisecond}
	a, b := e.open(t, addr, opts), e.open(t, addr, opts)
	wa, wb := Watch(t, a), Watch(t, b)
	WaitHealthy(t, a)
	WaitHealthy(t, b)

	r1, err := a.Apply(ctx, Sample())
	if err != nil {
		t.Fatal(err)
	}
	wa.WaitFor(t, r1, time.Millisecond) // synchronous for own writes
	wb.WaitFor(t, r1, 5*time.Second)
	if d, err := b.Changes(ctx, 0); err != nil || len(d.Associates) != 4 {
		t.Fatalf("b.Changes(0): %d associates, %v", len(d.Associates), err)
	}

	if err := b.PutGroup(ctx, access.Group{ID: 50, Name: "from b"}); err != nil {
		t.Fatal(err)
	}
	r2 := r1 + 1
	wa.WaitFor(t, r2, 5*time.Second)
	d, err := a.Changes(ctx, r1)
	if err != nil {
		t.Fatal(err)
	}
	if d.Full || d.From != r1 || d.To != r2 || len(d.Groups) != 1 || d.Groups[0].Name != "from b" {
		t.Errorf("a.Changes(%d) = %+v", r1, d)
	}
	if a.Health() != nil || b.Health() != nil {
		t.Errorf("Health = %v, %v", a.Health(), b.Health())
	}
}

// testCycleRace races two Stores on one database, each adding one edge of
// a two-group cycle. Exactly one must win and the other fail with
// ErrCycle, every round.
func testCycleRace(t *testing.T, e *Engine) {
	ctx := context.Background()
	addr := e.NewDB(t)
	a, b := e.open(t, addr, nil), e.open(t, addr, nil)
	const rounds = 40
	var groups []access.Group
	for i := range rounds {
		groups = append(groups,
			access.Group{ID: access.GroupID(2*i + 1), Name: "x"},
			access.Group{ID: access.GroupID(2*i + 2), Name: "y"})
	}
	if _, err := a.Apply(ctx, access.Batch{Groups: groups}); err != nil {
		t.Fatal(err)
	}
	for i := range rounds {
		x, y := access.GroupID(2*i+1), access.GroupID(2*i+2)
		start := make(chan struct{})
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for j, w := range []struct {
			s Store
			g access.Group
		}{
			{a, access.Group{ID: x, Name: "x", Groups: []access.GroupID{y}}},
			{b, access.Group{ID: y, Name: "y", Groups: []access.GroupID{x}}},
		} {
			wg.Go(func() {
				<-start
				errs[j] = w.s.PutGroup(ctx, w.g)
			})
		}
		close(start)
		wg.Wait()
		cycles, oks := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				oks++
			case errors.Is(err, access.ErrCycle):
				cycles++
			default:
				t.Fatalf("round %d: unexpected error %v", i, err)
			}
		}
		if oks != 1 || cycles != 1 {
			t.Fatalf("round %d: %d writes succeeded and %d failed with ErrCycle; want 1 and 1 (%v)", i, oks, cycles, errs)
		}
	}
	// The model holds no cycle: every pair has exactly one edge.
	d, err := a.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	edges := 0
	for _, g := range d.Groups {
		edges += len(g.Groups)
	}
	if edges != rounds {
		t.Errorf("%d edges, want %d", edges, rounds)
	}
}

func testTrim(t *testing.T, e *Engine) {
	ctx := context.Background()
	s := e.open(t, e.NewDB(t), &Options{KeepChanges: 3, TrimEvery: 1})
	var revs []access.Revision
	for i := range 6 {
		if err := s.PutGroup(ctx, access.Group{ID: access.GroupID(i + 1), Name: "g"}); err != nil {
			t.Fatal(err)
		}
		rev, err := s.Revision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, rev)
	}
	if d, err := s.Changes(ctx, revs[0]); err != nil || !d.Full || len(d.Groups) != 6 {
		t.Errorf("Changes(%d) after trimming: full %v, %d groups, %v; want the full model", revs[0], d.Full, len(d.Groups), err)
	}
	if d, err := s.Changes(ctx, revs[4]); err != nil || d.Full || len(d.Groups) != 1 || d.Groups[0].ID != 6 {
		t.Errorf("Changes(%d): %+v, %v; want group 6 only", revs[4], d, err)
	}
}

// testTrimByAge trims entries older than KeepFor, on a clock the test
// moves.
func testTrimByAge(t *testing.T, e *Engine) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := e.open(t, e.NewDB(t), &Options{KeepChanges: -1, KeepFor: 90 * time.Minute, Now: clock})
	for i := range 4 {
		if err := s.PutGroup(ctx, access.Group{ID: access.GroupID(i + 1), Name: "g"}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		now = now.Add(40 * time.Minute)
		mu.Unlock()
	}
	// Revisions 1..4 were written at 0, 40, 80 and 120 minutes; it is now
	// 160 minutes, so 1 and 2 are older than an hour and a half.
	if err := s.Trim(ctx); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Changes(ctx, 1); err != nil || !d.Full {
		t.Errorf("Changes(1) = full %v, %v; want a full delta", d.Full, err)
	}
	if d, err := s.Changes(ctx, 2); err != nil || d.Full || len(d.Groups) != 2 {
		t.Errorf("Changes(2) = %+v, %v; want groups 3 and 4", d, err)
	}
}

func testClosed(t *testing.T, e *Engine) {
	ctx := context.Background()
	s := e.open(t, e.NewDB(t), nil)
	Watch(t, s)
	s.Close()
	s.Close()
	if _, err := s.Changes(ctx, 0); !errors.Is(err, e.ErrClosed) {
		t.Errorf("Changes after Close = %v, want ErrClosed", err)
	}
}
