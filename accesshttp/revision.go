package accesshttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
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

// ExpectedRevision reads the revision a write expects the store to be at,
// for optimistic concurrency ([access.Batch.ExpectRevision]): the client
// read the model at that revision, decided from it, and wants its write
// refused if another came first. It comes in the request's If-Match
// header, as the revision in decimal, optionally quoted as a strong ETag:
// `If-Match: 42` or `If-Match: "42"` — what [RevisionHeader] carried
// back from a read or a write. ok is false when the header is absent, or
// is `*` (any revision will do). A header given more than once, a list, a
// weak ETag (`W/"42"`, which If-Match never matches), revision 0 (which
// a batch reads as no expectation at all) or anything else that is not a
// revision is an error wrapping [ErrBadRequest].
//
// A write that then fails with an error wrapping [access.ErrConflict]
// answers 409 through [StatusOf]; a route that requires the header answers
// 428 Precondition Required when ok is false.
func ExpectedRevision(r *http.Request) (rev access.Revision, ok bool, err error) {
	vals := r.Header.Values("If-Match")
	switch {
	case len(vals) == 0:
		return 0, false, nil
	case len(vals) > 1:
		return 0, false, fmt.Errorf("accesshttp: If-Match header given %d times: %w", len(vals), ErrBadRequest)
	}
	v := strings.TrimSpace(vals[0])
	if v == "*" {
		return 0, false, nil
	}
	digits := v
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		digits = v[1 : len(v)-1]
	}
	n, perr := strconv.ParseUint(digits, 10, 64)
	if perr != nil {
		return 0, false, fmt.Errorf("accesshttp: If-Match %q is not a revision: %w", v, ErrBadRequest)
	}
	if n == 0 {
		return 0, false, fmt.Errorf("accesshttp: If-Match %q: revision 0 expects nothing: %w", v, ErrBadRequest)
	}
	return access.Revision(n), true, nil
}
