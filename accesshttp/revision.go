package accesshttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/crmaccess/access"
)

// RevisionHeader is the HTTP header that carries a store revision: in a
// response, the revision a write returned ([SetRevision]); in a request,
// the revision the client has seen and wants the answer to reflect
// ([Sync]). Its value is the revision in decimal.
const RevisionHeader = "Access-Revision"

// SetRevision puts the revision a write returned in the response's
// [RevisionHeader], for the client to send back. Call it before writing
// the status or the body.
func SetRevision(w http.ResponseWriter, rev access.Revision) {
	w.Header().Set(RevisionHeader, strconv.FormatUint(uint64(rev), 10))
}

// Syncer is what [Sync] needs of a resolver; [*access.Engine] satisfies
// it.
type Syncer interface {
	Sync(ctx context.Context, rev access.Revision) error
}

var _ Syncer = (*access.Engine)(nil)

// Sync returns a wrapper that gives read-your-writes across replicas: a
// request carrying [RevisionHeader] reaches the next handler only once s
// answers at that revision or later. It waits at most wait (no limit when
// wait is not positive) and never past the request's context; a replica
// that does not catch up in time answers 503, for the client to retry. A
// request without the header passes at once; one whose header is not a
// single decimal revision is a 400. Put it in front of the middleware that
// decides, so that they decide at the revision asked for. It panics if s
// is nil.
func Sync(s Syncer, wait time.Duration, opts ...Option) func(http.Handler) http.Handler {
	if s == nil {
		panic("accesshttp: Sync needs a Syncer")
	}
	c := newConfig(opts)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			vals := r.Header.Values(RevisionHeader)
			if len(vals) == 0 {
				next.ServeHTTP(w, r)
				return
			}
			rev, err := parseRevision(vals)
			if err != nil {
				c.fail(w, r, http.StatusBadRequest, err)
				return
			}
			ctx := r.Context()
			if wait > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, wait)
				defer cancel()
			}
			if err := s.Sync(ctx, rev); err != nil {
				status := http.StatusInternalServerError
				if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
					status = http.StatusServiceUnavailable
				}
				c.fail(w, r, status, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// parseRevision reads the values of a request's RevisionHeader.
func parseRevision(vals []string) (access.Revision, error) {
	if len(vals) != 1 {
		return 0, fmt.Errorf("accesshttp: %s header given %d times: %w", RevisionHeader, len(vals), ErrBadRequest)
	}
	n, err := strconv.ParseUint(vals[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("accesshttp: %s header %q is not a revision: %w", RevisionHeader, vals[0], ErrBadRequest)
	}
	return access.Revision(n), nil
}
