package access_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// auditLog collects the events an Options.Audit hook receives.
type auditLog struct {
	mu     sync.Mutex
	events []access.AuditEvent
}

func (l *auditLog) hook(_ context.Context, ev access.AuditEvent) {
	l.mu.Lock()
	l.events = append(l.events, ev)
	l.mu.Unlock()
}

func (l *auditLog) take() []access.AuditEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	return out
}

// auditSummary is what a test compares of an event: its fields, the
// decision's answer, and whether the error is the one expected.
type auditSummary struct {
	Kind                  access.AuditKind
	Allowed               bool
	Action                access.Action
	Subject, DActor       access.AssociateID
	Actor, Target         access.AssociateID
	ActorName, TargetName string
	Rule                  access.ImpersonationID
	Revision              access.Revision
}

func summarize(ev access.AuditEvent) auditSummary {
	return auditSummary{
		Kind: ev.Kind, Allowed: ev.Decision.Allowed, Action: ev.Decision.Action,
		Subject: ev.Decision.Subject, DActor: ev.Decision.Actor,
		Actor: ev.Actor, Target: ev.Target, ActorName: ev.ActorName, TargetName: ev.TargetName,
		Rule: ev.Rule, Revision: ev.Revision,
	}
}

// auditResolver is xResolver with an audit hook.
func auditResolver(t *testing.T, b access.Batch, log *auditLog) *access.Engine {
	t.Helper()
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Apply(ctx, b.Clone()); err != nil {
		t.Fatalf("loading the organisation: %v", err)
	}
	e, err := access.NewResolver(ctx, s, &access.Options{Now: func() time.Time { return xNow }, Audit: log.hook})
	if err != nil {
		t.Fatalf("NewResolver: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// TestAudit: Can, CanAs and Impersonate each report exactly one event, with
// the answer they returned, on every path: allowed, denied, refused and
// failed.
func TestAudit(t *testing.T) {
	ctx := context.Background()
	log := &auditLog{}
	e := auditResolver(t, impOrg(), log)
	rev := e.Revision()
	kimsOrder := access.Record{Type: "order", ID: 1, Owner: impKim}
	samAsKim := access.Acting{Actor: impSam, Target: impKim, Rule: impRuleSupportCustomers}
	samAsOld := access.Acting{Actor: impSam, Target: impOld, Rule: impRuleSupportCustomers}
	tests := []struct {
		name string
		call func() (access.Decision, error) // its Decision is zero for Impersonate
		want auditSummary
		err  error
	}{
		{"Can allows", func() (access.Decision, error) { return e.Can(ctx, impKim, access.Read, kimsOrder) },
			auditSummary{Kind: access.AuditDecision, Allowed: true, Action: access.Read, Subject: impKim,
				Target: impKim, TargetName: "kim", Revision: rev}, nil},
		{"Can denies", func() (access.Decision, error) { return e.Can(ctx, impLee, access.Read, kimsOrder) },
			auditSummary{Kind: access.AuditDecision, Action: access.Read, Subject: impLee,
				Target: impLee, TargetName: "lee", Revision: rev}, nil},
		{"Can denies an unknown associate", func() (access.Decision, error) { return e.Can(ctx, impGone, access.Read, kimsOrder) },
			auditSummary{Kind: access.AuditDecision, Action: access.Read, Subject: impGone,
				Target: impGone, Revision: rev}, nil},
		{"Can fails on a bad request", func() (access.Decision, error) { return e.Can(ctx, impKim, 0, kimsOrder) },
			auditSummary{Kind: access.AuditDecision, Subject: impKim, Target: impKim, TargetName: "kim", Revision: rev},
			access.ErrInvalid},
		{"CanAs allows", func() (access.Decision, error) { return e.CanAs(ctx, samAsKim, access.Delete, kimsOrder) },
			auditSummary{Kind: access.AuditDecision, Allowed: true, Action: access.Delete, Subject: impKim, DActor: impSam,
				Actor: impSam, ActorName: "sam", Target: impKim, TargetName: "kim", Rule: impRuleSupportCustomers, Revision: rev}, nil},
		{"CanAs refused", func() (access.Decision, error) { return e.CanAs(ctx, samAsOld, access.Read, kimsOrder) },
			auditSummary{Kind: access.AuditDecision, Action: access.Read, Subject: impOld, DActor: impSam,
				Actor: impSam, ActorName: "sam", Target: impOld, TargetName: "old", Revision: rev}, access.ErrTargetGate},
		{"CanAs fails on a bad request", func() (access.Decision, error) {
			return e.CanAs(ctx, samAsKim, access.Read, access.Record{Type: access.Wildcard})
		},
			auditSummary{Kind: access.AuditDecision, Action: access.Read, Subject: impKim, DActor: impSam,
				Actor: impSam, ActorName: "sam", Target: impKim, TargetName: "kim", Revision: rev}, access.ErrInvalid},
		{"Impersonate grants", func() (access.Decision, error) {
			_, err := e.Impersonate(ctx, impSam, impKim)
			return access.Decision{}, err
		},
			auditSummary{Kind: access.AuditImpersonation, Actor: impSam, ActorName: "sam", Target: impKim, TargetName: "kim",
				Rule: impRuleSupportCustomers, Revision: rev}, nil},
		{"Impersonate refuses", func() (access.Decision, error) {
			_, err := e.Impersonate(ctx, impSue, impMax)
			return access.Decision{}, err
		},
			auditSummary{Kind: access.AuditImpersonationRefused, Actor: impSue, ActorName: "sue", Target: impMax, TargetName: "max",
				Revision: rev}, access.ErrTargetAbove},
		{"Impersonate refuses an unknown target", func() (access.Decision, error) {
			_, err := e.Impersonate(ctx, impSam, impGone)
			return access.Decision{}, err
		},
			auditSummary{Kind: access.AuditImpersonationRefused, Actor: impSam, ActorName: "sam", Target: impGone,
				Revision: rev}, access.ErrTargetGate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log.take()
			d, err := tt.call()
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("error = %v, want %v", err, tt.err)
			}
			got := log.take()
			if len(got) != 1 {
				t.Fatalf("the hook received %d events, want exactly 1: %+v", len(got), got)
			}
			ev := got[0]
			if diff := cmp.Diff(tt.want, summarize(ev)); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
			if ev.Err != err {
				t.Errorf("event Err = %v, want the error returned, %v", ev.Err, err)
			}
			if ev.Kind == access.AuditDecision {
				if ev.Decision.String() != d.String() || ev.Decision.Rights != d.Rights {
					t.Errorf("event decision %s, want the one returned, %s", ev.Decision.String(), d.String())
				}
				if err != nil && ev.Decision.Allowed {
					t.Errorf("a failed question reported an allow")
				}
			}
		})
	}
}

// TestAudit_stale: a stale resolver reports its refusals too, as denying
// decisions and refused impersonations carrying ErrStale.
func TestAudit_stale(t *testing.T) {
	ctx := context.Background()
	clock := &manualClock{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	fs := newStaleStore(t)
	log := &auditLog{}
	e, err := access.NewResolver(ctx, storeOnly{fs}, access.WithClock(&access.Options{
		Now: clock.Now, PollInterval: -1, MaxStaleness: time.Minute, Logger: discard, Audit: log.hook,
	}, clock.Since))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	fs.down.Store(true)
	clock.Add(2 * time.Minute)
	rec := access.Record{Type: "contact", ID: 1, Owner: 11}
	d, err := e.Can(ctx, 11, access.Read, rec)
	if !errors.Is(err, access.ErrStale) || d.Allowed {
		t.Fatalf("Can = %v, %v; want a denial with ErrStale", d.Allowed, err)
	}
	_, err2 := e.CanAs(ctx, access.Acting{Actor: 11, Target: 11}, access.Read, rec)
	_, err3 := e.Impersonate(ctx, 11, 12)
	got := log.take()
	want := []struct {
		kind access.AuditKind
		err  error
	}{{access.AuditDecision, err}, {access.AuditDecision, err2}, {access.AuditImpersonationRefused, err3}}
	if len(got) != len(want) {
		t.Fatalf("the hook received %d events, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Kind != w.kind || got[i].Err != w.err || !errors.Is(got[i].Err, access.ErrStale) || got[i].Decision.Allowed {
			t.Errorf("event %d = %v, err %v, allowed %v; want %v with ErrStale", i, got[i].Kind, got[i].Err, got[i].Decision.Allowed, w.kind)
		}
	}
}

// TestAudit_allocs: Can allocates nothing with a hook set either, since
// the event is passed by value.
func TestAudit_allocs(t *testing.T) {
	ctx := context.Background()
	var n int
	s := memory.New()
	if _, err := s.Apply(ctx, impOrg()); err != nil {
		t.Fatal(err)
	}
	e, err := access.NewResolver(ctx, s, &access.Options{Now: func() time.Time { return xNow },
		Audit: func(_ context.Context, ev access.AuditEvent) {
			if ev.Decision.Allowed {
				n++
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	rec := access.Record{Type: "order", ID: 1, Owner: impKim}
	as, err := e.Impersonate(ctx, impSam, impKim)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		fn   func()
	}{
		{"Can", func() { e.Can(ctx, impKim, access.Read, rec) }},
		{"CanAs", func() { e.CanAs(ctx, as, access.Read, rec) }},
		{"Impersonate", func() { e.Impersonate(ctx, impSam, impKim) }},
	} {
		if a := testing.AllocsPerRun(1000, c.fn); a != 0 {
			t.Errorf("%s with an audit hook allocates %v times a call, want 0", c.name, a)
		}
	}
	if n == 0 {
		t.Error("the hook saw no allowed decision")
	}
}
