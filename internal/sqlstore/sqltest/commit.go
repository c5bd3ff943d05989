package sqltest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/crmaccess/access"
	"github.com/google/go-cmp/cmp"
)

// testApplyDeadline applies one batch after another under deadlines
// spread from zero to half as long again as the batch takes, so that they
// expire before, during and after the commit. A write reported as failed
// must not take effect, ever; a write reported as committed must be
// visible at once, with the next revision. The batch is made large enough
// that its commit (deferred foreign keys, pages to write) takes a
// noticeable share of its time.
func testApplyDeadline(t *testing.T, e *Engine) {
	ctx := context.Background()
	s := e.open(t, e.NewDB(t), nil)
	rev, err := s.Apply(ctx, access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "r"}},
		Groups: []access.Group{{ID: 1, Name: "g"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Round i writes marker group 1000+i and rewrites the associates.
	const associates = 150
	batch := func(i int) access.Batch {
		b := access.Batch{Groups: []access.Group{{ID: access.GroupID(1000 + i), Name: fmt.Sprint("marker ", i), Groups: []access.GroupID{1}}}}
		for j := range associates {
			b.Associates = append(b.Associates, access.Associate{
				ID: access.AssociateID(j + 1), Name: fmt.Sprint("user ", j), Type: access.Internal,
				PrimaryGroup: 1, Groups: []access.GroupID{1, access.GroupID(1000 + i)}, Role: 1, Active: true,
				Attributes: map[string]string{"round": fmt.Sprint(i)},
			})
		}
		return b
	}
	var committed []access.GroupID
	round := 0
	apply := func(timeout time.Duration) (failed bool) {
		t.Helper()
		round++
		marker := access.GroupID(1000 + round)
		actx, cancel := ctx, context.CancelFunc(func() {})
		if timeout >= 0 {
			actx, cancel = context.WithTimeout(ctx, timeout)
		}
		got, err := s.Apply(actx, batch(round))
		cancel()
		switch {
		case err == nil:
			if got != rev+1 {
				t.Fatalf("round %d (deadline %v): committed at revision %d, want %d: an earlier write reported as failed took effect", round, timeout, got, rev+1)
			}
			rev = got
			committed = append(committed, marker)
			if _, err := s.Group(ctx, marker); err != nil {
				t.Fatalf("round %d (deadline %v): committed, but reading its group back: %v", round, timeout, err)
			}
			return false
		case errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, access.ErrCommitUnknown):
			now, err := s.Revision(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if now != rev {
				t.Fatalf("round %d (deadline %v): reported failed, but the revision moved from %d to %d", round, timeout, rev, now)
			}
			if _, err := s.Group(ctx, marker); !errors.Is(err, access.ErrNotFound) {
				t.Fatalf("round %d (deadline %v): reported failed, but reading its group back gives %v, want ErrNotFound", round, timeout, err)
			}
			return true
		default:
			t.Fatalf("round %d (deadline %v): %v; want success or a deadline error", round, timeout, err)
			return true
		}
	}

	// Time the batch without a deadline, then spread the deadlines over
	// 1.5 times the slowest of three.
	var took time.Duration
	for range 3 {
		start := time.Now()
		apply(-1)
		took = max(took, time.Since(start))
	}
	const steps = 40
	failures := 0
	for pass := range 2 {
		for k := range steps + 1 {
			// The second pass is offset by half a step.
			d := time.Duration((float64(k) + 0.5*float64(pass)) * 1.5 * float64(took) / steps)
			if apply(d) {
				failures++
			}
		}
	}
	// A write without a deadline serialises after any commit still in
	// flight, so everything that will ever land has landed by now.
	apply(-1)
	t.Logf("batch took up to %v; %d rounds, %d failed on their deadline", took, round, failures)
	if failures == 0 || failures == round-4 {
		t.Errorf("%d of %d rounds failed: the deadlines did not span the write", failures, round)
	}

	d, err := s.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var markers []access.GroupID
	for _, g := range d.Groups {
		if g.ID >= 1000 {
			markers = append(markers, g.ID)
		}
	}
	slices.Sort(markers)
	if diff := cmp.Diff(committed, markers); diff != "" {
		t.Errorf("marker groups in the store, against the writes reported committed (-want +got):\n%s", diff)
	}
	if d.To != rev {
		t.Errorf("store at revision %d, want %d", d.To, rev)
	}
}
