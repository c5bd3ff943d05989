package accesshttp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/accesshttp"
)

func TestActionFor(t *testing.T) {
	for _, tc := range []struct {
		method string
		want   access.Action
		ok     bool
	}{
		{http.MethodGet, access.Read, true},
		{http.MethodHead, access.Read, true},
		{http.MethodPost, access.Create, true},
		{http.MethodPut, access.Update, true},
		{http.MethodPatch, access.Update, true},
		{http.MethodDelete, access.Delete, true},
		{http.MethodOptions, 0, false},
		{http.MethodTrace, 0, false},
		{http.MethodConnect, 0, false},
		{"get", 0, false}, // methods are case-sensitive (RFC 9110)
		{"PROPFIND", 0, false},
		{"", 0, false},
	} {
		t.Run(tc.method, func(t *testing.T) {
			got, ok := accesshttp.ActionFor(tc.method)
			if got != tc.want || ok != tc.ok {
				t.Errorf("ActionFor(%q) = %v, %v; want %v, %v", tc.method, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestExpectedRevision(t *testing.T) {
	for _, tc := range []struct {
		name    string
		values  []string // If-Match header lines; nil: absent
		want    access.Revision
		ok      bool
		badText string // when not empty, the error wraps ErrBadRequest and says this
	}{
		{name: "absent"},
		{name: "decimal", values: []string{"42"}, want: 42, ok: true},
		{name: "quoted etag", values: []string{`"42"`}, want: 42, ok: true},
		{name: "spaces around", values: []string{` "42" `}, want: 42, ok: true},
		{name: "largest", values: []string{"18446744073709551615"}, want: 1<<64 - 1, ok: true},
		{name: "any", values: []string{"*"}},
		{name: "empty", values: []string{""}, badText: `If-Match "" is not a revision`},
		{name: "weak etag", values: []string{`W/"42"`}, badText: "is not a revision"},
		{name: "list", values: []string{`"41", "42"`}, badText: "is not a revision"},
		{name: "twice", values: []string{"41", "42"}, badText: "given 2 times"},
		{name: "zero", values: []string{"0"}, badText: "revision 0 expects nothing"},
		{name: "quoted zero", values: []string{`"0"`}, badText: "revision 0 expects nothing"},
		{name: "sign", values: []string{"+42"}, badText: "is not a revision"},
		{name: "negative", values: []string{"-1"}, badText: "is not a revision"},
		{name: "half quoted", values: []string{`"42`}, badText: "is not a revision"},
		{name: "empty quotes", values: []string{`""`}, badText: "is not a revision"},
		{name: "word", values: []string{"latest"}, badText: "is not a revision"},
		{name: "overflow", values: []string{"18446744073709551616"}, badText: "is not a revision"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			for _, v := range tc.values {
				r.Header.Add("If-Match", v)
			}
			got, ok, err := accesshttp.ExpectedRevision(r)
			if tc.badText != "" {
				if !errors.Is(err, accesshttp.ErrBadRequest) || !strings.Contains(err.Error(), tc.badText) {
					t.Fatalf("error = %v; want one wrapping ErrBadRequest that says %q", err, tc.badText)
				}
				if got != 0 || ok {
					t.Errorf("with an error, got %d, %v; want 0, false", got, ok)
				}
				return
			}
			if err != nil || got != tc.want || ok != tc.ok {
				t.Errorf("ExpectedRevision = %d, %v, %v; want %d, %v, nil", got, ok, err, tc.want, tc.ok)
			}
		})
	}
}

func TestStatusOf(t *testing.T) {
	wrap := func(errs ...error) error {
		args := make([]any, len(errs))
		for i, e := range errs {
			args[i] = e
		}
		return fmt.Errorf("loading contact 7"+strings.Repeat(": %w", len(errs)), args...)
	}
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, http.StatusOK},
		{"unauthenticated", wrap(accesshttp.ErrUnauthenticated), http.StatusUnauthorized},
		{"not found", wrap(accesshttp.ErrNotFound), http.StatusNotFound},
		{"bad request", wrap(accesshttp.ErrBadRequest), http.StatusBadRequest},
		{"forbidden", wrap(accesshttp.ErrForbidden), http.StatusForbidden},
		{"impersonation refused", wrap(access.ErrImpersonation), http.StatusForbidden},
		{"conflict", wrap(access.ErrConflict), http.StatusConflict},
		{"exists", wrap(access.ErrExists), http.StatusConflict},
		{"stale", wrap(access.ErrStale), http.StatusServiceUnavailable},
		{"model not found", wrap(access.ErrNotFound), http.StatusInternalServerError},
		{"model invalid", wrap(access.ErrInvalid), http.StatusInternalServerError},
		{"database", errStore, http.StatusInternalServerError},
		// An unauthenticated caller never learns whether a record exists.
		{"unauthenticated before not found", wrap(accesshttp.ErrNotFound, accesshttp.ErrUnauthenticated), http.StatusUnauthorized},
		{"not found before forbidden", wrap(accesshttp.ErrForbidden, accesshttp.ErrNotFound), http.StatusNotFound},
		{"forbidden before conflict", wrap(access.ErrConflict, accesshttp.ErrForbidden), http.StatusForbidden},
		{"conflict before stale", wrap(access.ErrStale, access.ErrConflict), http.StatusConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := accesshttp.StatusOf(tc.err); got != tc.want {
				t.Errorf("StatusOf(%v) = %d; want %d", tc.err, got, tc.want)
			}
		})
	}
}

// fakeFinder finds associates in a map; a few names make it fail.
type fakeFinder map[string]access.Associate

func (f fakeFinder) AssociateByName(ctx context.Context, name string) (access.Associate, error) {
	switch name {
	case "stale":
		return access.Associate{}, fmt.Errorf("access: %w", access.ErrStale)
	case "shared":
		return access.Associate{}, fmt.Errorf("access: associate named %q: %w", name, access.ErrInvalid)
	}
	a, ok := f[strings.ToLower(name)]
	if !ok {
		return access.Associate{}, fmt.Errorf("access: associate named %q: %w", name, access.ErrNotFound)
	}
	return a, nil
}

// TestByName runs a ByName authenticator through Authenticate: the next
// handler runs, with the subject, only for an active associate's name.
func TestByName(t *testing.T) {
	finder := fakeFinder{
		"bo":  {ID: 102, Name: "bo", Active: true},
		"old": {ID: 109, Name: "old", Active: false},
	}
	login := func(r *http.Request) (string, error) {
		if r.Header.Get("X-Session") == "broken" {
			return "", errSession
		}
		return r.Header.Get("X-User"), nil
	}
	for _, tc := range []struct {
		name, user, session string
		status              int
		subject             access.AssociateID
		errIs               []error
	}{
		{name: "known", user: "bo", status: http.StatusOK, subject: 102},
		{name: "case folded by the finder", user: "BO", status: http.StatusOK, subject: 102},
		{name: "no name", status: http.StatusUnauthorized, errIs: []error{accesshttp.ErrUnauthenticated}},
		{name: "unknown", user: "mallory", status: http.StatusUnauthorized, errIs: []error{accesshttp.ErrUnauthenticated, access.ErrNotFound}},
		{name: "inactive", user: "old", status: http.StatusUnauthorized, errIs: []error{accesshttp.ErrUnauthenticated}},
		{name: "stale resolver", user: "stale", status: http.StatusServiceUnavailable, errIs: []error{access.ErrStale}},
		{name: "name shared (broken data)", user: "shared", status: http.StatusInternalServerError, errIs: []error{access.ErrInvalid}},
		{name: "session store down", user: "bo", session: "broken", status: http.StatusInternalServerError, errIs: []error{errSession}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var called bool
			var subject access.AssociateID
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				subject, _ = accesshttp.SubjectFrom(r.Context())
			})
			var gotErr error
			onError := accesshttp.OnError(func(w http.ResponseWriter, r *http.Request, status int, err error) {
				gotErr = err
				w.WriteHeader(status)
			})
			h := accesshttp.Authenticate(accesshttp.ByName(finder, login), onError)(next)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, newRequest(http.MethodGet, "/contacts", "X-User", tc.user, "X-Session", tc.session))
			if w.Code != tc.status {
				t.Errorf("status = %d; want %d", w.Code, tc.status)
			}
			if called != (tc.status == http.StatusOK) || subject != tc.subject {
				t.Errorf("handler called %v with subject %d; want called %v with %d", called, subject, tc.status == http.StatusOK, tc.subject)
			}
			for _, target := range tc.errIs {
				if !errors.Is(gotErr, target) {
					t.Errorf("error %v does not wrap %v", gotErr, target)
				}
			}
		})
	}
}

func TestByNamePanicsOnNil(t *testing.T) {
	login := func(*http.Request) (string, error) { return "", nil }
	for name, f := range map[string]func(){
		"finder": func() { accesshttp.ByName(nil, login) },
		"login":  func() { accesshttp.ByName(fakeFinder{}, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

// TestMiddlewareAuthenticateWith runs Middleware with an authenticator
// and an extractor that names only the record: the middleware signs the
// caller in first, takes the action from the method, and reaches neither
// the extractor nor the resolver nor the handler when it refuses.
func TestMiddlewareAuthenticateWith(t *testing.T) {
	for _, tc := range []struct {
		name        string
		method      string
		user        string
		extractor   string // X-Extract: what the extractor does
		can         access.Decision
		status      int
		extracted   bool // the extractor ran
		calls       []string
		hookErrText string // the OnDecision error says this; "" for none
		errIs       error
	}{
		{name: "read", method: http.MethodGet, user: "7", can: access.Decision{Allowed: true}, status: http.StatusOK, extracted: true,
			calls: []string{"Can(7, read, contact 12)"}},
		{name: "head reads", method: http.MethodHead, user: "7", can: access.Decision{Allowed: true}, status: http.StatusOK, extracted: true,
			calls: []string{"Can(7, read, contact 12)"}},
		{name: "create", method: http.MethodPost, user: "7", can: access.Decision{Allowed: true}, status: http.StatusOK, extracted: true,
			calls: []string{"Can(7, create, contact 12)"}},
		{name: "patch updates", method: http.MethodPatch, user: "7", can: access.Decision{Allowed: true}, status: http.StatusOK, extracted: true,
			calls: []string{"Can(7, update, contact 12)"}},
		{name: "delete denied", method: http.MethodDelete, user: "7", status: http.StatusForbidden, extracted: true,
			calls: []string{"Can(7, delete, contact 12)"}, errIs: accesshttp.ErrForbidden},
		{name: "extractor names the action", method: http.MethodPost, user: "7", extractor: "action", can: access.Decision{Allowed: true},
			status: http.StatusOK, extracted: true, calls: []string{"Can(7, update, contact 12)"}},
		{name: "extractor names the same subject", method: http.MethodGet, user: "7", extractor: "same", can: access.Decision{Allowed: true},
			status: http.StatusOK, extracted: true, calls: []string{"Can(7, read, contact 12)"}},
		{name: "method names no action", method: http.MethodOptions, user: "7", status: http.StatusBadRequest, extracted: true,
			hookErrText: "accesshttp: method OPTIONS names no action on a record", errIs: accesshttp.ErrBadRequest},
		{name: "nobody signed in", method: http.MethodGet, status: http.StatusUnauthorized,
			hookErrText: "accesshttp: authenticator named no subject", errIs: accesshttp.ErrUnauthenticated},
		{name: "sign-in expired", method: http.MethodGet, user: "expired", status: http.StatusUnauthorized,
			hookErrText: "accesshttp: authenticator: token expired", errIs: accesshttp.ErrUnauthenticated},
		{name: "user id malformed", method: http.MethodGet, user: "x", status: http.StatusBadRequest,
			hookErrText: "accesshttp: authenticator: X-User is not a number", errIs: accesshttp.ErrBadRequest},
		{name: "session store down", method: http.MethodGet, user: "down", status: http.StatusInternalServerError,
			hookErrText: "accesshttp: authenticator: session store", errIs: errSession},
		{name: "extractor names another subject", method: http.MethodGet, user: "7", extractor: "other", status: http.StatusInternalServerError,
			extracted: true, hookErrText: "accesshttp: extractor named associate 8, the authenticator 7"},
		{name: "extractor conflict", method: http.MethodPut, user: "7", extractor: "conflict", status: http.StatusConflict,
			extracted: true, hookErrText: "accesshttp: extractor: ", errIs: access.ErrConflict},
		{name: "extractor stale", method: http.MethodGet, user: "7", extractor: "stale", status: http.StatusServiceUnavailable,
			extracted: true, hookErrText: "accesshttp: extractor: ", errIs: access.ErrStale},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &fakeDecider{can: tc.can}
			var extracted bool
			var extractorSaw access.AssociateID
			extractRecord := func(r *http.Request) (accesshttp.Request, error) {
				extracted = true
				extractorSaw, _ = accesshttp.SubjectFrom(r.Context())
				req := accesshttp.Request{Record: access.Record{Type: "contact", ID: 12}}
				switch r.Header.Get("X-Extract") {
				case "action":
					req.Action = access.Update
				case "same":
					req.Subject = 7
				case "other":
					req.Subject = 8
				case "conflict":
					return req, fmt.Errorf("contact 12 changed: %w", access.ErrConflict)
				case "stale":
					return req, fmt.Errorf("tenant lookup: %w", access.ErrStale)
				}
				return req, nil
			}
			var called bool
			var subject access.AssociateID
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				subject, _ = accesshttp.SubjectFrom(r.Context())
			})
			var hookErrs []error
			var gotErr error
			h := accesshttp.Middleware(d, extractRecord,
				accesshttp.AuthenticateWith(authn),
				accesshttp.OnDecision(func(r *http.Request, _ access.Decision, err error) { hookErrs = append(hookErrs, err) }),
				accesshttp.OnError(func(w http.ResponseWriter, r *http.Request, status int, err error) {
					gotErr = err
					w.WriteHeader(status)
				}),
			)(next)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, newRequest(tc.method, "/contact/12", "X-User", tc.user, "X-Extract", tc.extractor))

			if w.Code != tc.status {
				t.Errorf("status = %d; want %d", w.Code, tc.status)
			}
			ok := tc.status == http.StatusOK
			if called != ok || (ok && subject != 7) {
				t.Errorf("handler called %v with subject %d; want called %v (with 7)", called, subject, ok)
			}
			if extracted != tc.extracted || (extracted && extractorSaw != 7) {
				t.Errorf("extractor ran %v and saw subject %d; want ran %v (seeing 7)", extracted, extractorSaw, tc.extracted)
			}
			if diff := cmp.Diff(tc.calls, d.calls); diff != "" {
				t.Errorf("resolver calls (-want +got):\n%s", diff)
			}
			if len(hookErrs) != 1 {
				t.Fatalf("OnDecision called %d times; want once", len(hookErrs))
			}
			switch {
			case tc.hookErrText == "" && hookErrs[0] != nil:
				t.Errorf("OnDecision error = %v; want nil", hookErrs[0])
			case tc.hookErrText != "" && (hookErrs[0] == nil || !strings.Contains(hookErrs[0].Error(), tc.hookErrText)):
				t.Errorf("OnDecision error = %v; want one saying %q", hookErrs[0], tc.hookErrText)
			}
			if tc.errIs != nil && !errors.Is(gotErr, tc.errIs) {
				t.Errorf("OnError error %v does not wrap %v", gotErr, tc.errIs)
			}
		})
	}
}

// TestMiddlewareActionFromMethod checks that, without an authenticator
// too, a zero action is the method's, and a method that names none is
// refused before the resolver is asked.
func TestMiddlewareActionFromMethod(t *testing.T) {
	for _, tc := range []struct {
		method string
		status int
		calls  []string
	}{
		{http.MethodDelete, http.StatusOK, []string{"Can(7, delete, contact 3)"}},
		{"PROPFIND", http.StatusBadRequest, nil},
	} {
		t.Run(tc.method, func(t *testing.T) {
			d := &fakeDecider{can: access.Decision{Allowed: true}}
			extractRecord := func(r *http.Request) (accesshttp.Request, error) {
				return accesshttp.Request{Subject: 7, Record: access.Record{Type: "contact", ID: 3}}, nil
			}
			var called bool
			h := accesshttp.Middleware(d, extractRecord)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, newRequest(tc.method, "/contact/3"))
			if w.Code != tc.status || called != (tc.status == http.StatusOK) {
				t.Errorf("status %d, handler called %v; want %d", w.Code, called, tc.status)
			}
			if diff := cmp.Diff(tc.calls, d.calls); diff != "" {
				t.Errorf("resolver calls (-want +got):\n%s", diff)
			}
		})
	}
}
