package access_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// typesResolver is the impersonation organisation under a resolver that
// knows the entity types types (none: any type).
func typesResolver(t *testing.T, types []string) *access.Engine {
	t.Helper()
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Apply(ctx, impOrg()); err != nil {
		t.Fatal(err)
	}
	e, err := access.NewResolver(ctx, s, &access.Options{Now: func() time.Time { return xNow }, EntityTypes: types})
	if err != nil {
		t.Fatalf("NewResolver: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// TestEntityTypes: with the entity types registered, a question about
// another type fails with ErrInvalid and denies; without, it quietly
// denies as before.
func TestEntityTypes(t *testing.T) {
	ctx := context.Background()
	questions := []struct {
		name string
		ask  func(e *access.Engine, typ string) (allowed bool, err error)
		// open is the answer for an unknown type when no types are
		// registered: a system user may act on records of any type.
		open bool
	}{
		{"Can", func(e *access.Engine, typ string) (bool, error) {
			d, err := e.Can(ctx, impKim, access.Read, access.Record{Type: typ, ID: 1, Owner: impKim})
			return d.Allowed, err
		}, false},
		{"CanAs", func(e *access.Engine, typ string) (bool, error) {
			as := access.Acting{Actor: impSam, Target: impKim, Rule: impRuleSupportCustomers}
			d, err := e.CanAs(ctx, as, access.Read, access.Record{Type: typ, ID: 1, Owner: impKim})
			return d.Allowed, err
		}, false},
		{"Filter", func(e *access.Engine, typ string) (bool, error) {
			f, err := e.Filter(ctx, impKim, access.Read, typ)
			return !f.Never(), err
		}, false},
		{"WhoCan", func(e *access.Engine, typ string) (bool, error) {
			ws, err := e.WhoCan(ctx, access.Read, access.Record{Type: typ, ID: 1, Owner: impKim})
			return len(ws) > 0, err
		}, true},
	}
	registered := typesResolver(t, []string{"order", "ticket"})
	open := typesResolver(t, nil)
	for _, q := range questions {
		t.Run(q.name, func(t *testing.T) {
			if ok, err := q.ask(registered, "order"); err != nil || !ok {
				t.Errorf("registered type: allowed %v, %v; want allowed", ok, err)
			}
			if ok, err := q.ask(registered, "orders"); !errors.Is(err, access.ErrInvalid) || ok {
				t.Errorf("unregistered type: allowed %v, %v; want a deny with ErrInvalid", ok, err)
			}
			if ok, err := q.ask(open, "orders"); err != nil || ok != q.open {
				t.Errorf("no types registered: allowed %v, %v; want %v and no error", ok, err, q.open)
			}
		})
	}
}

// TestEntityTypes_invalid: NewResolver refuses a registered type that is
// not a concrete one.
func TestEntityTypes_invalid(t *testing.T) {
	for _, typ := range []string{"", access.Wildcard} {
		_, err := access.NewResolver(context.Background(), memory.New(), &access.Options{EntityTypes: []string{"order", typ}})
		if !errors.Is(err, access.ErrInvalid) {
			t.Errorf("EntityTypes with %q: NewResolver error = %v, want ErrInvalid", typ, err)
		}
	}
}

// TestEntityTypes_allocs: checking the registered types adds no
// allocation to Can.
func TestEntityTypes_allocs(t *testing.T) {
	e := typesResolver(t, []string{"order", "ticket"})
	ctx := context.Background()
	rec := access.Record{Type: "order", ID: 1, Owner: impKim}
	if a := testing.AllocsPerRun(1000, func() { e.Can(ctx, impKim, access.Read, rec) }); a != 0 {
		t.Errorf("Can with registered entity types allocates %v times a call, want 0", a)
	}
}
