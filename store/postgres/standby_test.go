package postgres

import (
	"context"
	"errors"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/crmaccess/access"
)

// standbyDSN returns the DSN of a hot standby of the test server, for the
// same database as ACCESS_TEST_POSTGRES_DSN and with the search_path of
// primaryDSN, or skips when ACCESS_TEST_POSTGRES_STANDBY_DSN is unset
// (.ci/run sets it: .ci/standby starts the standby).
func standbyDSN(tb testing.TB, primaryDSN string) string {
	tb.Helper()
	dsn := os.Getenv("ACCESS_TEST_POSTGRES_STANDBY_DSN")
	if dsn == "" {
		tb.Skip("ACCESS_TEST_POSTGRES_STANDBY_DSN is not set")
	}
	u, err := url.Parse(primaryDSN)
	if err != nil {
		tb.Fatal(err)
	}
	return withSearchPath(tb, dsn, u.Query().Get("search_path"))
}

// openStandby opens a Store on the standby once it has replayed the
// creation of the schema, or fails after a while.
func openStandby(tb testing.TB, dsn string, opts *Options) *Store {
	tb.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := Open(ctx, dsn, opts)
		if err == nil {
			if _, err = s.revision(ctx); err == nil {
				tb.Cleanup(func() { s.Close() })
				return s
			}
			s.Close()
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the standby did not replay the schema: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStandby: a resolver loads from a hot standby while writes go to the
// primary; it hears of each write — from the primary's notifications, or
// by polling the standby — only once the standby has replayed it, Sync
// waits for the standby, and a write sent to the standby fails with
// ErrStandby and changes nothing.
func TestStandby(t *testing.T) {
	primaryDSN := newSchema(t)
	sbDSN := standbyDSN(t, primaryDSN)
	ctx := context.Background()
	primary := open(t, primaryDSN, nil)
	org := access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "Sales", Rights: map[string]access.Grid{"*": {access.Owner: access.LevelFull}}}},
		Groups: []access.Group{{ID: 10, Name: "Oslo"}, {ID: 20, Name: "Bergen"}},
		Associates: []access.Associate{
			{ID: 1, Name: "Anna", PrimaryGroup: 10, Role: 1, Active: true},
		},
	}
	if _, err := primary.Apply(ctx, org); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts *Options
	}{
		{"notified by the primary", &Options{Primary: primaryDSN}},
		{"polling the standby", &Options{StandbyPoll: 20 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := openStandby(t, sbDSN, tc.opts)
			if !sb.Standby() || primary.Standby() {
				t.Fatalf("Standby() = %v on the standby, %v on the primary", sb.Standby(), primary.Standby())
			}
			// No polling by the resolver: only the store's watch may wake it.
			e, err := access.NewResolver(ctx, sb, &access.Options{PollInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()

			// Anna joins Bergen on the primary; the resolver on the standby
			// sees it without being asked.
			anna := org.Associates[0]
			anna.Groups = []access.GroupID{20}
			rev, err := primary.Apply(ctx, access.Batch{Associates: []access.Associate{anna}})
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(20 * time.Second)
			for e.Revision() < rev {
				if time.Now().After(deadline) {
					t.Fatalf("the standby's resolver stayed at revision %d; the primary wrote %d", e.Revision(), rev)
				}
				time.Sleep(5 * time.Millisecond)
			}
			if ok, err := e.IsMember(ctx, 1, 20); err != nil || !ok {
				t.Errorf("IsMember(Anna, Bergen) after the write = %v, %v", ok, err)
			}

			// Sync on the primary's revision waits for the standby.
			anna.Groups = nil
			rev, err = primary.Apply(ctx, access.Batch{Associates: []access.Associate{anna}})
			if err != nil {
				t.Fatal(err)
			}
			sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			if err := e.Sync(sctx, rev); err != nil {
				t.Fatal(err)
			}
			if ok, err := e.IsMember(ctx, 1, 20); err != nil || ok {
				t.Errorf("IsMember(Anna, Bergen) after Sync = %v, %v; want false", ok, err)
			}

			// Writes go to the primary.
			before := e.Revision()
			_, err = sb.Apply(ctx, access.Batch{Groups: []access.Group{{ID: 30, Name: "Trondheim"}}})
			if !errors.Is(err, ErrStandby) {
				t.Errorf("Apply on the standby = %v, want ErrStandby", err)
			}
			if got, err := primary.revision(ctx); err != nil || got != before {
				t.Errorf("primary revision after the refused write = %d, %v; want %d", got, err, before)
			}
		})
	}
}
