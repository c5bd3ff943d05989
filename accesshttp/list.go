package accesshttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/crmaccess/access"
)

// Authenticator says who is asking, for routes about no one record. It
// returns the signed-in associate, or an error that chooses the answer as
// an [Extractor]'s does (see [StatusOf]): wrap [ErrUnauthenticated] for
// 401 (a zero associate is a 401 too), [ErrBadRequest] for 400; an
// unrecognised error is a 500. [ByName] makes one from a login name.
type Authenticator func(*http.Request) (access.AssociateID, error)

// AssociateFinder is what [ByName] needs to look a login name up:
// [*access.Engine] answers from its snapshot, with no store round trip;
// an [access.Store] satisfies it too.
type AssociateFinder interface {
	AssociateByName(ctx context.Context, name string) (access.Associate, error)
}

var _ AssociateFinder = (*access.Engine)(nil)

// ByName returns an [Authenticator] for an application whose sessions
// carry a login name: login reads the name from the request (from the
// application's verified session or token, never from a header the
// client could set freely), and f finds the associate. An empty name, a
// name no associate has ([access.ErrNotFound]) and an inactive associate
// are a 401 ([ErrUnauthenticated]), so that a deleted or deactivated user
// is signed out rather than answered 500; any other error, from login or
// f, stays what it is (a stale resolver is a 503, see [StatusOf]). It
// panics if f or login is nil.
func ByName(f AssociateFinder, login func(*http.Request) (string, error)) Authenticator {
	if f == nil || login == nil {
		panic("accesshttp: ByName needs an AssociateFinder and a login function")
	}
	return func(r *http.Request) (access.AssociateID, error) {
		name, err := login(r)
		if err != nil {
			return 0, err
		}
		if name == "" {
			return 0, fmt.Errorf("%w: no login name", ErrUnauthenticated)
		}
		a, err := f.AssociateByName(r.Context(), name)
		switch {
		case errors.Is(err, access.ErrNotFound):
			return 0, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
		case err != nil:
			return 0, err
		case !a.Active:
			return 0, fmt.Errorf("%w: associate %q (%d) is inactive", ErrUnauthenticated, a.Name, a.ID)
		}
		return a.ID, nil
	}
}

// Authenticate returns a wrapper that only authenticates: it calls the
// next handler with the subject in the request's context (see
// [SubjectFrom]) and answers 401 when nobody is signed in. It is the
// first step for routes that are not about one record, in front of
// [ListFilter] or [Require]. It panics if authn is nil.
//
// The returned wrapper is safe for concurrent use when authn and the
// options' functions are.
func Authenticate(authn Authenticator, opts ...Option) func(http.Handler) http.Handler {
	if authn == nil {
		panic("accesshttp: Authenticate needs an Authenticator")
	}
	c := newConfig(opts)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			who, err := authn(r)
			switch {
			case err != nil:
				c.fail(w, r, StatusOf(err), fmt.Errorf("accesshttp: authenticator: %w", err))
				return
			case who == 0:
				c.fail(w, r, http.StatusUnauthorized, fmt.Errorf("accesshttp: authenticator named no subject: %w", ErrUnauthenticated))
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), subjectKey{}, who)))
		})
	}
}

// errNoSubject is a program that put ListFilter or Require where no
// subject is known: a 500, so that the mistake shows at once.
var errNoSubject = errors.New("accesshttp: no subject in the request's context: put Authenticate or Middleware in front")

// Filterer is what [ListFilter] needs of a resolver; [access.Resolver]
// satisfies it.
type Filterer interface {
	Filter(ctx context.Context, who access.AssociateID, act access.Action, typ string) (access.Filter, error)
}

var _ Filterer = access.Resolver(nil)

// ListFilter returns a wrapper for routes that list records of type typ:
// it builds the [access.Filter] of the records the subject may act on with
// act, and calls the next handler with it in the request's context (see
// [FilterFrom]), to render into the list's query with [access.Filter.SQL].
// The subject comes from the context, so put [Authenticate] in front; with
// none there it answers 500. A failing resolver is a 500 too (503 when it
// is stale), never an unfiltered list. It panics if f is nil.
//
// A subject who may see nothing still reaches the handler, with a filter
// that matches nothing ([access.Filter.Never]): an empty list is the
// answer, not a 403.
func ListFilter(f Filterer, act access.Action, typ string, opts ...Option) func(http.Handler) http.Handler {
	if f == nil {
		panic("accesshttp: ListFilter needs a Filterer")
	}
	c := newConfig(opts)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			who, ok := SubjectFrom(r.Context())
			if !ok {
				c.fail(w, r, http.StatusInternalServerError, errNoSubject)
				return
			}
			flt, err := f.Filter(r.Context(), who, act, typ)
			if err != nil {
				c.fail(w, r, resolverStatus(err), err)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), filterKey{}, flt)))
		})
	}
}

// FilterFrom returns the filter [ListFilter] stored in the request's
// context. ok is false outside a handler wrapped by it.
func FilterFrom(ctx context.Context) (f access.Filter, ok bool) {
	f, ok = ctx.Value(filterKey{}).(access.Filter)
	return f, ok
}

// RightChecker is what [Require] needs of a resolver; [access.Resolver]
// satisfies it.
type RightChecker interface {
	Has(ctx context.Context, who access.AssociateID, right string) (bool, error)
}

var _ RightChecker = access.Resolver(nil)

// Require returns a wrapper that calls the next handler only when the
// subject holds the functional right (see [access.Resolver.Has]), such as
// "export" or "admin"; otherwise it answers 403. The subject comes from
// the context, so put [Authenticate] or [Middleware] in front; with none
// there it answers 500, as it does when the resolver fails. It panics if h
// is nil or right is empty.
func Require(h RightChecker, right string, opts ...Option) func(http.Handler) http.Handler {
	if h == nil || right == "" {
		panic("accesshttp: Require needs a RightChecker and a right")
	}
	c := newConfig(opts)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			who, ok := SubjectFrom(r.Context())
			if !ok {
				c.fail(w, r, http.StatusInternalServerError, errNoSubject)
				return
			}
			has, err := h.Has(r.Context(), who, right)
			switch {
			case err != nil:
				c.fail(w, r, resolverStatus(err), err)
			case !has:
				c.fail(w, r, http.StatusForbidden, fmt.Errorf("%w: associate %d lacks right %q", ErrForbidden, who, right))
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}
