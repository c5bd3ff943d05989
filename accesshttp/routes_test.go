package accesshttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/accesshttp"
)

// fakeResolver is the Filterer, RightChecker and Syncer of the tests: it
// answers from fixed values and records what it was asked.
type fakeResolver struct {
	mu sync.Mutex
	answers
	calls []string
}

// answers are what a fakeResolver answers.
type answers struct {
	filterErr error
	has       bool
	hasErr    error
	syncErr   error
	syncBlock bool // Sync waits for its context to end
}

func (f *fakeResolver) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeResolver) Filter(ctx context.Context, who access.AssociateID, act access.Action, typ string) (access.Filter, error) {
	f.record(fmt.Sprintf("Filter(%d, %s, %s)", who, act, typ))
	if f.filterErr != nil {
		return access.Filter{}, f.filterErr
	}
	return access.Filter{Type: typ, Revision: 7}, nil
}

func (f *fakeResolver) Has(ctx context.Context, who access.AssociateID, right string) (bool, error) {
	f.record(fmt.Sprintf("Has(%d, %s)", who, right))
	return f.has, f.hasErr
}

func (f *fakeResolver) Sync(ctx context.Context, rev access.Revision) error {
	f.record(fmt.Sprintf("Sync(%d)", rev))
	if f.syncBlock {
		<-ctx.Done()
		return fmt.Errorf("access: waiting for revision %d: %w", rev, ctx.Err())
	}
	return f.syncErr
}

var (
	errSession = errors.New("session store: connection refused")
	errSignIn  = fmt.Errorf("token expired: %w", accesshttp.ErrUnauthenticated)
	errUserID  = fmt.Errorf("X-User is not a number: %w", accesshttp.ErrBadRequest)
)

// authn reads the subject from header X-User; a few values make it fail.
func authn(r *http.Request) (access.AssociateID, error) {
	switch v := r.Header.Get("X-User"); v {
	case "":
		return 0, nil
	case "expired":
		return 0, errSignIn
	case "down":
		return 0, errSession
	default:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, errUserID
		}
		return access.AssociateID(n), nil
	}
}

// errorBody is the JSON error shape of the tests' OnError responder.
type errorBody struct {
	Status int    `json:"status"`
	Error  string `json:"error"`
}

// TestRoutes runs every middleware for routes about no one record, and
// Sync, through each of its answers: with the default answers and with an
// OnError responder that writes JSON, the wrapped handler runs only on
// success, and the responder sees the status and an error that says why.
func TestRoutes(t *testing.T) {
	type chain func(f *fakeResolver, opts []accesshttp.Option) func(http.Handler) http.Handler
	authenticate := func(f *fakeResolver, opts []accesshttp.Option) func(http.Handler) http.Handler {
		return accesshttp.Authenticate(authn, opts...)
	}
	list := func(f *fakeResolver, opts []accesshttp.Option) func(http.Handler) http.Handler {
		a, l := accesshttp.Authenticate(authn, opts...), accesshttp.ListFilter(f, access.Read, "contact", opts...)
		return func(h http.Handler) http.Handler { return a(l(h)) }
	}
	listAlone := func(f *fakeResolver, opts []accesshttp.Option) func(http.Handler) http.Handler {
		return accesshttp.ListFilter(f, access.Read, "contact", opts...)
	}
	require := func(f *fakeResolver, opts []accesshttp.Option) func(http.Handler) http.Handler {
		a, g := accesshttp.Authenticate(authn, opts...), accesshttp.Require(f, "export", opts...)
		return func(h http.Handler) http.Handler { return a(g(h)) }
	}
	requireAlone := func(f *fakeResolver, opts []accesshttp.Option) func(http.Handler) http.Handler {
		return accesshttp.Require(f, "export", opts...)
	}
	syncing := func(f *fakeResolver, opts []accesshttp.Option) func(http.Handler) http.Handler {
		return accesshttp.Sync(f, 20*time.Millisecond, opts...)
	}
	stale := fmt.Errorf("access: %w: last heard 9s ago", access.ErrStale)

	tests := []struct {
		name     string
		chain    chain
		resolver answers
		headers  []string
		status   int
		err      error // what the responder's error wraps
		calls    []string
		subject  access.AssociateID // seen by the handler
		filter   bool               // the handler sees a contact filter
	}{
		{name: "authenticate: signed in", chain: authenticate, headers: []string{"X-User", "11"},
			status: 200, subject: 11},
		{name: "authenticate: nobody", chain: authenticate,
			status: 401, err: accesshttp.ErrUnauthenticated},
		{name: "authenticate: expired", chain: authenticate, headers: []string{"X-User", "expired"},
			status: 401, err: errSignIn},
		{name: "authenticate: malformed", chain: authenticate, headers: []string{"X-User", "eleven"},
			status: 400, err: errUserID},
		{name: "authenticate: session store down", chain: authenticate, headers: []string{"X-User", "down"},
			status: 500, err: errSession},

		{name: "list: filter in the context", chain: list, headers: []string{"X-User", "11"},
			status: 200, calls: []string{"Filter(11, read, contact)"}, subject: 11, filter: true},
		{name: "list: nobody", chain: list,
			status: 401, err: accesshttp.ErrUnauthenticated},
		{name: "list: resolver fails", chain: list, resolver: answers{filterErr: errStore}, headers: []string{"X-User", "11"},
			status: 500, err: errStore, calls: []string{"Filter(11, read, contact)"}},
		{name: "list: resolver stale", chain: list, resolver: answers{filterErr: stale}, headers: []string{"X-User", "11"},
			status: 503, err: access.ErrStale, calls: []string{"Filter(11, read, contact)"}},
		{name: "list: no Authenticate in front", chain: listAlone, headers: []string{"X-User", "11"},
			status: 500},

		{name: "right: held", chain: require, resolver: answers{has: true}, headers: []string{"X-User", "11"},
			status: 200, calls: []string{"Has(11, export)"}, subject: 11},
		{name: "right: missing", chain: require, headers: []string{"X-User", "11"},
			status: 403, err: accesshttp.ErrForbidden, calls: []string{"Has(11, export)"}},
		{name: "right: nobody", chain: require, resolver: answers{has: true},
			status: 401, err: accesshttp.ErrUnauthenticated},
		{name: "right: resolver fails", chain: require, resolver: answers{has: true, hasErr: errStore}, headers: []string{"X-User", "11"},
			status: 500, err: errStore, calls: []string{"Has(11, export)"}},
		{name: "right: no Authenticate in front", chain: requireAlone, resolver: answers{has: true}, headers: []string{"X-User", "11"},
			status: 500},

		{name: "sync: no header", chain: syncing,
			status: 200},
		{name: "sync: caught up", chain: syncing, headers: []string{accesshttp.RevisionHeader, "12"},
			status: 200, calls: []string{"Sync(12)"}},
		{name: "sync: replica behind", chain: syncing, resolver: answers{syncBlock: true}, headers: []string{accesshttp.RevisionHeader, "12"},
			status: 503, err: context.DeadlineExceeded, calls: []string{"Sync(12)"}},
		{name: "sync: fails", chain: syncing, resolver: answers{syncErr: errStore}, headers: []string{accesshttp.RevisionHeader, "12"},
			status: 500, err: errStore, calls: []string{"Sync(12)"}},
		{name: "sync: not a number", chain: syncing, headers: []string{accesshttp.RevisionHeader, "twelve"},
			status: 400, err: accesshttp.ErrBadRequest},
		{name: "sync: negative", chain: syncing, headers: []string{accesshttp.RevisionHeader, "-1"},
			status: 400, err: accesshttp.ErrBadRequest},
		{name: "sync: empty", chain: syncing, headers: []string{accesshttp.RevisionHeader, ""},
			status: 400, err: accesshttp.ErrBadRequest},
		{name: "sync: too large", chain: syncing, headers: []string{accesshttp.RevisionHeader, "18446744073709551616"},
			status: 400, err: accesshttp.ErrBadRequest},
		{name: "sync: given twice", chain: syncing, headers: []string{accesshttp.RevisionHeader, "12", accesshttp.RevisionHeader, "13"},
			status: 400, err: accesshttp.ErrBadRequest},
	}
	for _, tt := range tests {
		for _, withResponder := range []bool{false, true} {
			name := tt.name
			if withResponder {
				name += " (OnError)"
			}
			t.Run(name, func(t *testing.T) {
				f := &fakeResolver{answers: tt.resolver}
				var responded []errorBody
				var respondedErr error
				var opts []accesshttp.Option
				if withResponder {
					opts = append(opts, accesshttp.OnError(func(w http.ResponseWriter, r *http.Request, status int, err error) {
						responded = append(responded, errorBody{status, strings.ToLower(http.StatusText(status))})
						respondedErr = err
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(status)
						json.NewEncoder(w).Encode(errorBody{status, strings.ToLower(http.StatusText(status))})
					}))
				}
				called := false
				var subject access.AssociateID
				var flt access.Filter
				var fltOK bool
				h := tt.chain(f, opts)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					called = true
					subject, _ = accesshttp.SubjectFrom(r.Context())
					flt, fltOK = accesshttp.FilterFrom(r.Context())
					io.WriteString(w, "the list")
				}))
				req := newRequest("GET", "/contacts")
				for i := 0; i+1 < len(tt.headers); i += 2 {
					req.Header.Add(tt.headers[i], tt.headers[i+1])
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)

				if w.Code != tt.status {
					t.Errorf("status %d, want %d", w.Code, tt.status)
				}
				if diff := cmp.Diff(tt.calls, f.calls); diff != "" {
					t.Errorf("resolver calls (-want +got):\n%s", diff)
				}
				if tt.status != 200 {
					if called {
						t.Error("the wrapped handler ran on an error path")
					}
					want := strings.ToLower(http.StatusText(tt.status)) + "\n"
					if withResponder {
						b, _ := json.Marshal(errorBody{tt.status, strings.ToLower(http.StatusText(tt.status))})
						want = string(b) + "\n"
						if diff := cmp.Diff([]errorBody{{tt.status, strings.ToLower(http.StatusText(tt.status))}}, responded); diff != "" {
							t.Errorf("OnError calls (-want +got):\n%s", diff)
						}
						if respondedErr == nil || (tt.err != nil && !errors.Is(respondedErr, tt.err)) {
							t.Errorf("OnError error %v, want one wrapping %v", respondedErr, tt.err)
						}
					}
					if got := w.Body.String(); got != want {
						t.Errorf("body %q, want %q", got, want)
					}
					return
				}
				if !called || w.Body.String() != "the list" {
					t.Fatalf("handler called %v, body %q; want the handler's answer", called, w.Body.String())
				}
				if len(responded) != 0 {
					t.Errorf("OnError called on success: %+v", responded)
				}
				if subject != tt.subject {
					t.Errorf("SubjectFrom = %d, want %d", subject, tt.subject)
				}
				if fltOK != tt.filter || (tt.filter && (flt.Type != "contact" || flt.Revision != 7)) {
					t.Errorf("FilterFrom = %+v, %v; want a contact filter: %v", flt, fltOK, tt.filter)
				}
			})
		}
	}
}
