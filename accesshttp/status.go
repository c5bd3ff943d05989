package accesshttp

import (
	"errors"
	"net/http"

	"github.com/crmaccess/access"
)

// ActionFor returns the record action an HTTP method means on a route
// about one record: GET and HEAD read, POST creates, PUT and PATCH
// update, DELETE deletes. ok is false for any other method (OPTIONS,
// TRACE, an extension method), which names no action: the caller answers
// it, rather than guess. [Middleware] uses it when an extractor leaves
// [Request.Action] zero.
func ActionFor(method string) (act access.Action, ok bool) {
	switch method {
	case http.MethodGet, http.MethodHead:
		return access.Read, true
	case http.MethodPost:
		return access.Create, true
	case http.MethodPut, http.MethodPatch:
		return access.Update, true
	case http.MethodDelete:
		return access.Delete, true
	}
	return 0, false
}

// StatusOf returns the HTTP status an error calls for: the one mapping
// the middleware of this package applies to the errors of extractors and
// authenticators, offered to handlers so that their own failures answer
// alike (pass its result to the [OnError] responder). In order, the first
// that the error wraps wins:
//   - [ErrUnauthenticated]: 401 Unauthorized;
//   - [ErrNotFound]: 404 Not Found;
//   - [ErrBadRequest]: 400 Bad Request;
//   - [ErrForbidden] or [access.ErrImpersonation]: 403 Forbidden;
//   - [access.ErrConflict] (another write came first, see
//     [ExpectedRevision]) or [access.ErrExists] (a create-only put of an
//     id already taken): 409 Conflict;
//   - [access.ErrStale]: 503 Service Unavailable, a passing state that
//     another replica may not share;
//   - any other error: 500 Internal Server Error.
//
// A nil error is 200 OK. [access.ErrNotFound] and [access.ErrInvalid] are
// a 500 here: they are about the access model, and whether a missing
// associate or an invalid role is the client's mistake or the program's
// only the handler knows; it wraps [ErrNotFound] or [ErrBadRequest] when
// it is the client's.
func StatusOf(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, ErrForbidden), errors.Is(err, access.ErrImpersonation):
		return http.StatusForbidden
	case errors.Is(err, access.ErrConflict), errors.Is(err, access.ErrExists):
		return http.StatusConflict
	case errors.Is(err, access.ErrStale):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
