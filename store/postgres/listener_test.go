package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/crmaccess/access"
	"github.com/jackc/pgx/v5"
)

// TestSharedListener: tenants in schemas of one database, with the same
// ids and different names, share one listen connection: a write in one
// tenant — by another Store, as another process would — wakes that
// tenant's resolver and no other, also after the connection is killed.
func TestSharedListener(t *testing.T) {
	ctx := context.Background()
	l, err := NewListener(testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const tenants = 3
	dsns := make([]string, tenants)
	resolvers := make([]*access.Engine, tenants)
	stores := make([]*Store, tenants)
	for i := range tenants {
		dsns[i] = newSchema(t)
		stores[i] = open(t, dsns[i], &Options{Listener: l})
		org := access.Batch{
			Roles:      []access.Role{{ID: 1, Name: "Sales"}},
			Groups:     []access.Group{{ID: 10, Name: fmt.Sprintf("Oslo %d", i)}},
			Associates: []access.Associate{{ID: 1, Name: fmt.Sprintf("Anna %d", i), PrimaryGroup: 10, Role: 1, Active: true}},
		}
		if _, err := stores[i].Apply(ctx, org); err != nil {
			t.Fatal(err)
		}
		e, err := access.NewResolver(ctx, stores[i], &access.Options{PollInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		resolvers[i] = e
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor("the shared listener to connect", func() bool { return l.PID() != 0 })
	for i, s := range stores {
		if pid := s.listenPID.Load(); pid != 0 {
			t.Errorf("tenant %d opened a listen connection of its own (pid %d)", i, pid)
		}
	}

	write := func(tenant int, name string) access.Revision {
		t.Helper()
		other := open(t, dsns[tenant], nil) // another process's Store
		rev, err := other.Apply(ctx, access.Batch{Associates: []access.Associate{{ID: 1, Name: name, PrimaryGroup: 10, Role: 1, Active: true}}})
		if err != nil {
			t.Fatal(err)
		}
		return rev
	}
	for round, kill := range []bool{false, true} {
		if kill {
			admin, err := pgx.Connect(ctx, testDSN(t))
			if err != nil {
				t.Fatal(err)
			}
			old := l.PID()
			if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend($1)", int32(old)); err != nil {
				t.Fatal(err)
			}
			admin.Close(ctx)
			waitFor("the shared listener to reconnect", func() bool { p := l.PID(); return p != 0 && p != old })
		}
		before := make([]access.Revision, tenants)
		for i, e := range resolvers {
			before[i] = e.Revision()
		}
		name := fmt.Sprintf("Anna renamed %d", round)
		rev := write(1, name)
		waitFor("tenant 1's resolver to hear of its write", func() bool { return resolvers[1].Revision() >= rev })
		if a, err := resolvers[1].AssociateByName(ctx, name); err != nil || a.ID != 1 {
			t.Errorf("round %d: tenant 1 after its write: %+v, %v", round, a, err)
		}
		for _, i := range []int{0, 2} {
			if got := resolvers[i].Revision(); got != before[i] {
				t.Errorf("round %d: tenant %d moved from revision %d to %d on tenant 1's write", round, i, before[i], got)
			}
			if _, err := resolvers[i].AssociateByName(ctx, name); err == nil {
				t.Errorf("round %d: tenant %d answers with tenant 1's associate", round, i)
			}
		}
	}
}
