package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/crmaccess/access"
)

// TestTwoResolvers runs two resolvers, each on its own Store and
// connection pool, as two replicas of a service would: a write through one
// reaches the other by LISTEN/NOTIFY, and Sync serves read-your-writes.
func TestTwoResolvers(t *testing.T) {
	ctx := context.Background()
	dsn := newSchema(t)
	a, b := open(t, dsn, nil), open(t, dsn, nil)
	if _, err := a.Apply(ctx, access.Batch{
		Roles:      []access.Role{{ID: 1, Name: "Sales", Rights: map[string]access.Grid{"*": {access.Team: access.LevelUpdate}}}},
		Groups:     []access.Group{{ID: 10, Name: "Team A"}, {ID: 20, Name: "Team B"}},
		Associates: []access.Associate{{ID: 11, Name: "anna", Type: access.Internal, PrimaryGroup: 10, Role: 1, Active: true}},
	}); err != nil {
		t.Fatal(err)
	}
	ra, err := access.NewResolver(ctx, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ra.Close()
	rb, err := access.NewResolver(ctx, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	rec := access.Record{Type: "contact", ID: 1, Team: 20}
	if d, _ := rb.Can(ctx, 11, access.Update, rec); d.Allowed {
		t.Fatalf("before the write, B allows: %s", d)
	}

	// Write through A; A sees it at once, B by notification.
	rev, err := a.Apply(ctx, access.Batch{Associates: []access.Associate{
		{ID: 11, Name: "anna", Type: access.Internal, PrimaryGroup: 10, Groups: []access.GroupID{20}, Role: 1, Active: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if ra.Revision() < rev {
		t.Errorf("A is at revision %d after its own write of %d", ra.Revision(), rev)
	}
	deadline := time.Now().Add(10 * time.Second)
	for rb.Revision() < rev && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if rb.Revision() < rev {
		t.Fatalf("B did not hear of revision %d by notification within 10 s (at %d)", rev, rb.Revision())
	}
	if d, err := rb.Can(ctx, 11, access.Update, rec); err != nil || !d.Allowed {
		t.Fatalf("after the write, B: %s, %v; want allowed as a Team B member", d, err)
	}

	// Read-your-writes: a request carrying the revision of a write made
	// through A is served consistently by B once Sync returns.
	rev, err = a.Apply(ctx, access.Batch{Associates: []access.Associate{
		{ID: 11, Name: "anna", Type: access.Internal, PrimaryGroup: 10, Role: 1, Active: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := rb.Sync(wait, rev); err != nil {
		t.Fatal(err)
	}
	if ok, err := rb.IsMember(ctx, 11, 20); err != nil || ok {
		t.Fatalf("after Sync(%d), B says anna is in Team B: %v, %v", rev, ok, err)
	}
}
