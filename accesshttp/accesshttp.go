// Package accesshttp puts an access decision in front of a net/http
// handler: for each request it asks "may this associate do this to that
// record?" and calls the handler only when the answer is yes.
//
// The application says what a request means with an [Extractor]: who is
// asking (already authenticated by the application's own middleware), what
// action on which record, and, when a support agent or an integration acts
// for someone else, on whose behalf. [Middleware] does the rest. It calls
// the next handler when the decision allows, with the decision in the
// request's context (see [DecisionFrom]), and otherwise answers itself:
//   - 400 Bad Request when the extractor fails with an error that does not
//     wrap [ErrUnauthenticated];
//   - 401 Unauthorized when it fails with one that does, or names no
//     subject (see [Challenge] for the header HTTP wants with it);
//   - 403 Forbidden when the decision denies or the impersonation is
//     refused;
//   - 500 Internal Server Error when the [Decider] fails: an error is a
//     deny, never an allow.
//
// Refusals and failures answer with a fixed, generic body: the reasons
// (group paths, role cells, rules) stay on the server, where the
// [OnDecision] hook can log them.
package accesshttp

import (
	"context"
	"errors"
	"net/http"

	"github.com/crmaccess/access"
)

// Decider is what the middleware needs of a resolver. [access.Resolver],
// and so [*access.Engine], satisfies it; tests can fake it.
type Decider interface {
	Can(ctx context.Context, who access.AssociateID, act access.Action, rec access.Record) (access.Decision, error)
	Impersonate(ctx context.Context, actor, target access.AssociateID) (access.Acting, error)
	CanAs(ctx context.Context, as access.Acting, act access.Action, rec access.Record) (access.Decision, error)
}

var _ Decider = access.Resolver(nil)

// Request is what an HTTP request asks of the resolver.
type Request struct {
	// Subject is the authenticated associate making the request. Zero
	// means nobody is signed in, and the middleware answers 401.
	Subject access.AssociateID
	// Action and Record are what the subject wants to do, and to what.
	Action access.Action
	Record access.Record
	// OnBehalfOf, when not zero, is the associate the subject acts for:
	// the middleware checks the impersonation and then decides as that
	// associate alone (see [access.Engine.CanAs]).
	OnBehalfOf access.AssociateID
}

// Extractor reads a [Request] from an HTTP request. Return an error
// wrapping [ErrUnauthenticated] when the caller is not signed in (the
// middleware answers 401) and any other error when the request cannot be
// understood (400). The error's text never reaches the client.
type Extractor func(*http.Request) (Request, error)

// ErrUnauthenticated is the error an [Extractor] wraps to say that nobody
// is signed in.
var ErrUnauthenticated = errors.New("accesshttp: unauthenticated")

// Option configures [Middleware].
type Option func(*config)

type config struct {
	onDecision func(*http.Request, access.Decision, error)
	challenge  string
}

// Challenge sets the WWW-Authenticate header the middleware sends with its
// 401 answers, such as `Bearer realm="crm"`. HTTP requires one on every
// 401; without this option the middleware sends none, so set it unless a
// handler around the middleware already does.
func Challenge(value string) Option {
	return func(c *config) { c.challenge = value }
}

// OnDecision sets a hook that the middleware calls exactly once for every
// request, before it answers or calls the next handler, typically to write
// an audit log. It receives the decision and the error, if any, that
// decided the request:
//   - allowed or denied: the resolver's decision and a nil error;
//   - extractor failure: a zero Decision and the extractor's error;
//   - impersonation refused: a denying Decision naming the actor, the
//     target, the action and the record, and the refusal (wrapping
//     [access.ErrImpersonation]);
//   - resolver failure: the resolver's (denying) decision and its error.
//
// The hook runs on the request's goroutine; it must not write to the
// response.
func OnDecision(fn func(r *http.Request, d access.Decision, err error)) Option {
	return func(c *config) { c.onDecision = fn }
}

// The fixed bodies of the middleware's own answers.
const (
	bodyBadRequest   = "bad request"
	bodyUnauthorized = "unauthorized"
	bodyForbidden    = "forbidden"
	bodyInternal     = "internal server error"
)

// Middleware returns a wrapper that decides every request with d before it
// reaches the wrapped handler; see the package documentation for the
// status codes. It panics if d or extract is nil, which is a mistake in the
// program, not in a request.
//
// The returned wrapper, and the handlers it makes, are safe for concurrent
// use when d and the hook are.
func Middleware(d Decider, extract Extractor, opts ...Option) func(http.Handler) http.Handler {
	if d == nil || extract == nil {
		panic("accesshttp: Middleware needs a Decider and an Extractor")
	}
	var c config
	for _, o := range opts {
		o(&c)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			dec, status, err := decide(r, d, extract)
			if c.onDecision != nil {
				c.onDecision(r, dec, err)
			}
			if status != http.StatusOK {
				if status == http.StatusUnauthorized && c.challenge != "" {
					w.Header().Set("WWW-Authenticate", c.challenge)
				}
				http.Error(w, statusBody(status), status)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), decisionKey{}, dec)))
		})
	}
}

// decide works out the decision for r and the status to answer with:
// http.StatusOK when the next handler should run.
func decide(r *http.Request, d Decider, extract Extractor) (access.Decision, int, error) {
	req, err := extract(r)
	switch {
	case errors.Is(err, ErrUnauthenticated):
		return access.Decision{}, http.StatusUnauthorized, err
	case err != nil:
		return access.Decision{}, http.StatusBadRequest, err
	case req.Subject == 0:
		return access.Decision{}, http.StatusUnauthorized, ErrUnauthenticated
	}
	ctx := r.Context()
	var dec access.Decision
	if req.OnBehalfOf != 0 {
		as, err := d.Impersonate(ctx, req.Subject, req.OnBehalfOf)
		if err != nil {
			refused := access.Decision{Action: req.Action, Subject: req.OnBehalfOf, Actor: req.Subject, Record: req.Record}
			return refused, impersonationStatus(err), err
		}
		dec, err = d.CanAs(ctx, as, req.Action, req.Record)
		if err != nil {
			// A rule revoked between Impersonate and CanAs is still a
			// refusal, not a failure.
			return dec, impersonationStatus(err), err
		}
	} else {
		dec, err = d.Can(ctx, req.Subject, req.Action, req.Record)
		if err != nil {
			return dec, http.StatusInternalServerError, err
		}
	}
	if !dec.Allowed {
		return dec, http.StatusForbidden, nil
	}
	return dec, http.StatusOK, nil
}

// impersonationStatus maps an error from Impersonate or CanAs: a refusal
// is 403, anything else a failure.
func impersonationStatus(err error) int {
	if errors.Is(err, access.ErrImpersonation) {
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

func statusBody(status int) string {
	switch status {
	case http.StatusBadRequest:
		return bodyBadRequest
	case http.StatusUnauthorized:
		return bodyUnauthorized
	case http.StatusForbidden:
		return bodyForbidden
	}
	return bodyInternal
}

type decisionKey struct{}

// DecisionFrom returns the decision that let the request through, as the
// middleware stored it in the request's context. ok is false outside a
// handler wrapped by [Middleware].
func DecisionFrom(ctx context.Context) (d access.Decision, ok bool) {
	d, ok = ctx.Value(decisionKey{}).(access.Decision)
	return d, ok
}
