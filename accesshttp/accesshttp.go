// Package accesshttp puts access decisions in front of net/http handlers:
// it asks the resolver before a handler runs, calls the handler only when
// the answer is yes, and hands the handler what it learned on the way.
//
// # Routes about one record
//
// The application says what a request means with an [Extractor]: who is
// asking (already authenticated by the application's own middleware), what
// action on which record, and, when a support agent or an integration acts
// for someone else, on whose behalf. An extractor that loads the record's
// row to learn its ownership columns returns it in [Request.Row]; the
// handler takes it back with [Row] instead of loading it again.
// [Middleware] does the rest. It calls the next handler when the decision
// allows, with the decision in the request's context (see [DecisionFrom]),
// and otherwise answers itself:
//   - 400 Bad Request when the extractor's error wraps [ErrBadRequest], or
//     it leaves the action to a method that names none (see [ActionFor]);
//   - 401 Unauthorized when it wraps [ErrUnauthenticated], or the
//     extractor names no subject (see [Challenge] for the header HTTP
//     wants with it);
//   - 403 Forbidden when the decision denies, the impersonation is
//     refused, or the extractor's error wraps [ErrForbidden];
//   - 404 Not Found when the extractor's error wraps [ErrNotFound];
//   - 409 Conflict when it wraps [access.ErrConflict] or [access.ErrExists];
//   - 500 Internal Server Error for any other extractor error (its
//     database failed) and when the [Decider] fails: an error is a deny,
//     never an allow;
//   - 503 Service Unavailable when the resolver is stale (its error wraps
//     [access.ErrStale]).
//
// [StatusOf] is that mapping, for handlers to answer their own failures
// alike. With [AuthenticateWith] the middleware authenticates first, and
// the extractor only says which record the route means; a zero
// [Request.Action] is the one the method names ([ActionFor]).
//
// # Routes about no one record
//
// A list route has no record to decide on: [Authenticate] puts the subject
// in the context (see [SubjectFrom]) and [ListFilter] adds the
// [access.Filter] that says which records of a type the subject may see
// (see [FilterFrom]), ready to render into the list's SQL. [Require]
// guards a route with a functional right, such as "export".
//
// # Read-your-writes
//
// Behind a load balancer, a user's next request may reach a replica that
// has not yet seen the user's last write. A handler that writes sends the
// revision its write returned in the [RevisionHeader] response header
// ([SetRevision]); the client sends it back on its next requests, and the
// [Sync] middleware holds such a request until the replica has caught up.
//
// # Answers
//
// Refusals and failures answer with a fixed, generic text body: the
// reasons (group paths, role cells, rules) stay on the server, where the
// [OnDecision] hook can log them. An application with its own error shape,
// such as a JSON body, supplies [OnError].
package accesshttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

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
	// means nobody is signed in, and the middleware answers 401 — unless
	// it has an authenticator ([AuthenticateWith]), which then names the
	// subject.
	Subject access.AssociateID
	// Action and Record are what the subject wants to do, and to what.
	// Zero Action means the one the request's method names (see
	// [ActionFor]); a method that names none is a 400.
	Action access.Action
	Record access.Record
	// OnBehalfOf, when not zero, is the associate the subject acts for:
	// the middleware checks the impersonation and then decides as that
	// associate alone (see [access.Engine.CanAs]).
	OnBehalfOf access.AssociateID
	// Row is the application's own record, when the extractor loaded it
	// to read its ownership columns. The middleware hands it to the next
	// handler, which reads it with [Row], so that it is loaded once per
	// request. Nil means none.
	Row any
}

// Extractor reads a [Request] from an HTTP request. Its error says how the
// middleware answers: wrap [ErrUnauthenticated] when the caller is not
// signed in (401), [ErrBadRequest] when the request cannot be understood
// (400), [ErrNotFound] when the record it names does not exist (404),
// [ErrForbidden] when it can refuse without asking (403, such as a record
// of another tenant); any other error, such as a failed database query, is
// a 500. The error's text
// never reaches the client unless an [OnError] responder sends it.
type Extractor func(*http.Request) (Request, error)

// The errors an [Extractor] or [Authenticator] wraps to choose the
// status of the answer, and that the middleware hands to an [OnError]
// responder with its own refusals. When an error wraps more than one, the
// first in this list wins, so an unauthenticated caller never learns
// whether a record exists.
var (
	// ErrUnauthenticated says that nobody is signed in: 401.
	ErrUnauthenticated = errors.New("accesshttp: unauthenticated")
	// ErrNotFound says that the record the request names does not exist:
	// 404. It is not [access.ErrNotFound], which is about the access
	// model (an unknown associate or group), not the application's rows.
	ErrNotFound = errors.New("accesshttp: not found")
	// ErrBadRequest says that the request cannot be understood: 400.
	ErrBadRequest = errors.New("accesshttp: bad request")
	// ErrForbidden says that the request is refused: 403. The middleware
	// hands an [OnError] responder an error wrapping it with every 403:
	// the decision denied, the impersonation was refused (the error then
	// wraps [access.ErrImpersonation] too), or a functional right is
	// missing.
	ErrForbidden = errors.New("accesshttp: forbidden")
)

// Option configures the middleware of this package. One list of options
// can be passed to all of them; each uses the options that apply to it.
type Option func(*config)

type config struct {
	authn      Authenticator
	onDecision func(*http.Request, access.Decision, error)
	onError    func(http.ResponseWriter, *http.Request, int, error)
	challenge  string
}

func newConfig(opts []Option) *config {
	c := new(config)
	for _, o := range opts {
		o(c)
	}
	return c
}

// AuthenticateWith makes [Middleware] ask authn who is signing in, before
// it calls the extractor, so that the extractor need only say which record
// the route means: it leaves [Request.Subject] zero and the middleware
// fills in the authenticated associate (the extractor finds it with
// [SubjectFrom] if it needs it). An unauthenticated caller is answered 401
// before the extractor runs, so it neither loads a row nor learns whether
// the record exists. The authenticator's errors answer as under
// [Authenticate], and [OnDecision] sees them ("accesshttp: authenticator:
// …"). An extractor that names a subject other than the authenticated one
// is a mistake in the program: 500. The other middleware of this package
// ignore this option.
func AuthenticateWith(authn Authenticator) Option {
	return func(c *config) { c.authn = authn }
}

// Challenge sets the WWW-Authenticate header the middleware sends with its
// 401 answers, such as `Bearer realm="crm"`. HTTP requires one on every
// 401; without this option the middleware sends none, so set it unless a
// handler around the middleware already does.
func Challenge(value string) Option {
	return func(c *config) { c.challenge = value }
}

// OnDecision sets a hook that [Middleware] calls exactly once for every
// request, before it answers or calls the next handler, typically to write
// an audit log. It receives the decision and the error, if any, that
// decided the request:
//   - allowed or denied: the resolver's decision and a nil error;
//   - extractor or authenticator failure: a zero Decision, since nothing
//     was decided, and an error that says so ("accesshttp: extractor: …",
//     "accesshttp: authenticator: …"), wrapping theirs;
//   - impersonation refused: a denying Decision naming the actor, the
//     target, the action and the record, and the refusal (wrapping
//     [access.ErrImpersonation]);
//   - resolver failure: the resolver's (denying) decision and its error.
//
// So log the error when there is one: a zero Decision prints as a
// question nobody asked. The hook runs on the request's goroutine; it must
// not write to the response. The other middleware decide no record and do
// not call it; [OnError] sees their refusals.
func OnDecision(fn func(r *http.Request, d access.Decision, err error)) Option {
	return func(c *config) { c.onDecision = fn }
}

// OnError sets the responder that writes every answer the middleware gives
// itself instead of calling the next handler, for an application that
// answers errors in its own shape (a JSON body, a problem document). It
// receives the status the middleware chose and the error behind it, never
// nil: the extractor's or authenticator's, the resolver's, or one wrapping
// [ErrForbidden] for a refusal. The error's text is for the server: it may
// name the record, the rule or the failing host, so send the client no
// more of it than the status says. A responder may also change the status,
// for example answer 404 for a 403 to hide that a record exists.
//
// Any WWW-Authenticate header set by [Challenge] is already in w's header
// when the responder runs. Without this option the middleware answers
// with http.Error and the status text, in lower case, as the body.
func OnError(fn func(w http.ResponseWriter, r *http.Request, status int, err error)) Option {
	return func(c *config) { c.onError = fn }
}

// fail answers a request that does not reach the next handler.
func (c *config) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status == http.StatusUnauthorized && c.challenge != "" {
		w.Header().Set("WWW-Authenticate", c.challenge)
	}
	if c.onError != nil {
		c.onError(w, r, status, err)
		return
	}
	http.Error(w, strings.ToLower(http.StatusText(status)), status)
}

// Middleware returns a wrapper that decides every request with d before it
// reaches the wrapped handler; see the package documentation for the
// status codes. The handler finds in its context the decision
// ([DecisionFrom]), the associate decided for ([SubjectFrom]: the target
// when acting on someone's behalf) and the extractor's row ([Row]). It
// panics if d or extract is nil, which is a mistake in the program, not in
// a request.
//
// The returned wrapper, and the handlers it makes, are safe for concurrent
// use when d, the extractor and the hooks are.
func Middleware(d Decider, extract Extractor, opts ...Option) func(http.Handler) http.Handler {
	if d == nil || extract == nil {
		panic("accesshttp: Middleware needs a Decider and an Extractor")
	}
	c := newConfig(opts)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			req, dec, status, err := decide(r, d, extract, c.authn)
			if c.onDecision != nil {
				c.onDecision(r, dec, err)
			}
			if status != http.StatusOK {
				if err == nil {
					err = ErrForbidden
				} else if status == http.StatusForbidden && !errors.Is(err, ErrForbidden) {
					err = fmt.Errorf("%w: %w", ErrForbidden, err)
				}
				c.fail(w, r, status, err)
				return
			}
			ctx := context.WithValue(r.Context(), decisionKey{}, dec)
			ctx = context.WithValue(ctx, subjectKey{}, dec.Subject)
			if req.Row != nil {
				ctx = context.WithValue(ctx, rowKey{}, req.Row)
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// decide works out the decision for r and the status to answer with:
// http.StatusOK when the next handler should run. A plain deny has a nil
// error.
func decide(r *http.Request, d Decider, extract Extractor, authn Authenticator) (Request, access.Decision, int, error) {
	var who access.AssociateID
	if authn != nil {
		var err error
		if who, err = authn(r); err != nil {
			return Request{}, access.Decision{}, StatusOf(err), fmt.Errorf("accesshttp: authenticator: %w", err)
		}
		if who == 0 {
			return Request{}, access.Decision{}, http.StatusUnauthorized, fmt.Errorf("accesshttp: authenticator named no subject: %w", ErrUnauthenticated)
		}
		r = r.WithContext(context.WithValue(r.Context(), subjectKey{}, who))
	}
	req, err := extract(r)
	if err != nil {
		return req, access.Decision{}, StatusOf(err), fmt.Errorf("accesshttp: extractor: %w", err)
	}
	switch {
	case authn != nil && req.Subject == 0:
		req.Subject = who
	case authn != nil && req.Subject != who:
		return req, access.Decision{}, http.StatusInternalServerError, fmt.Errorf("accesshttp: extractor named associate %d, the authenticator %d", req.Subject, who)
	case req.Subject == 0:
		return req, access.Decision{}, http.StatusUnauthorized, fmt.Errorf("accesshttp: extractor named no subject: %w", ErrUnauthenticated)
	}
	if req.Action == 0 {
		act, ok := ActionFor(r.Method)
		if !ok {
			return req, access.Decision{}, http.StatusBadRequest, fmt.Errorf("accesshttp: method %s names no action on a record: %w", r.Method, ErrBadRequest)
		}
		req.Action = act
	}
	ctx := r.Context()
	var dec access.Decision
	if req.OnBehalfOf != 0 {
		as, err := d.Impersonate(ctx, req.Subject, req.OnBehalfOf)
		if err != nil {
			refused := access.Decision{Action: req.Action, Subject: req.OnBehalfOf, Actor: req.Subject, Record: req.Record}
			return req, refused, impersonationStatus(err), err
		}
		dec, err = d.CanAs(ctx, as, req.Action, req.Record)
		if err != nil {
			// A rule revoked between Impersonate and CanAs is still a
			// refusal, not a failure.
			return req, dec, impersonationStatus(err), err
		}
	} else {
		dec, err = d.Can(ctx, req.Subject, req.Action, req.Record)
		if err != nil {
			return req, dec, resolverStatus(err), err
		}
	}
	if !dec.Allowed {
		return req, dec, http.StatusForbidden, nil
	}
	return req, dec, http.StatusOK, nil
}

// resolverStatus maps a resolver's error: a stale resolver is a passing
// state another replica may not share, anything else a failure.
func resolverStatus(err error) int {
	if errors.Is(err, access.ErrStale) {
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// impersonationStatus maps an error from Impersonate or CanAs: a refusal
// is 403.
func impersonationStatus(err error) int {
	if errors.Is(err, access.ErrImpersonation) {
		return http.StatusForbidden
	}
	return resolverStatus(err)
}

type (
	decisionKey struct{}
	subjectKey  struct{}
	rowKey      struct{}
	filterKey   struct{}
)

// DecisionFrom returns the decision that let the request through, as the
// middleware stored it in the request's context. ok is false outside a
// handler wrapped by [Middleware].
func DecisionFrom(ctx context.Context) (d access.Decision, ok bool) {
	d, ok = ctx.Value(decisionKey{}).(access.Decision)
	return d, ok
}

// SubjectFrom returns the associate the request is made for, as
// [Authenticate] or [Middleware] stored it in the request's context; with
// [Request.OnBehalfOf], the associate acted for. ok is false outside a
// handler wrapped by one of them.
func SubjectFrom(ctx context.Context) (who access.AssociateID, ok bool) {
	who, ok = ctx.Value(subjectKey{}).(access.AssociateID)
	return who, ok
}

// Row returns the row the extractor loaded ([Request.Row]), as
// [Middleware] stored it in the request's context. ok is false when there
// is none or it is not a T: ask for the type the extractor stored, such as
// *Contact when it stored a *Contact.
func Row[T any](ctx context.Context) (row T, ok bool) {
	row, ok = ctx.Value(rowKey{}).(T)
	return row, ok
}
