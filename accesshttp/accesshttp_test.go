package accesshttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/accesshttp"
	"github.com/crmaccess/access/store/memory"
)

// fakeDecider answers from fixed values and records what it was asked.
type fakeDecider struct {
	mu sync.Mutex

	can      access.Decision
	canErr   error
	acting   access.Acting
	impErr   error
	canAs    access.Decision
	canAsErr error

	calls []string
}

func (f *fakeDecider) Can(ctx context.Context, who access.AssociateID, act access.Action, rec access.Record) (access.Decision, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("Can(%d, %s, %s %d)", who, act, rec.Type, rec.ID))
	d := f.can
	d.Subject, d.Action, d.Record = who, act, rec
	return d, f.canErr
}

func (f *fakeDecider) Impersonate(ctx context.Context, actor, target access.AssociateID) (access.Acting, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("Impersonate(%d, %d)", actor, target))
	return f.acting, f.impErr
}

func (f *fakeDecider) CanAs(ctx context.Context, as access.Acting, act access.Action, rec access.Record) (access.Decision, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("CanAs(%d as %d rule %d, %s, %s %d)", as.Actor, as.Target, as.Rule, act, rec.Type, rec.ID))
	d := f.canAs
	d.Subject, d.Actor, d.Action, d.Record = as.Target, as.Actor, act, rec
	return d, f.canAsErr
}

var (
	errBadPath     = fmt.Errorf("no record id in the path: %w", accesshttp.ErrBadRequest)
	errNoContact   = fmt.Errorf("no contact with that id: %w", accesshttp.ErrNotFound)
	errOtherTenant = fmt.Errorf("contact of another tenant: %w", accesshttp.ErrForbidden)
)

// contactRow is the application's row that the extractor loads and hands
// to the handler.
type contactRow struct{ ID int64 }

// extract reads the subject from header X-User, the record from the path
// /contact/ID and the action from the method; X-On-Behalf-Of names the
// impersonated associate. X-Extract-Fail makes it fail. It hands the
// handler a *contactRow.
func extract(r *http.Request) (accesshttp.Request, error) {
	switch r.Header.Get("X-Extract-Fail") {
	case "auth":
		return accesshttp.Request{}, fmt.Errorf("token expired: %w", accesshttp.ErrUnauthenticated)
	case "bad":
		return accesshttp.Request{}, errBadPath
	case "missing":
		return accesshttp.Request{}, errNoContact
	case "db":
		return accesshttp.Request{}, errStore
	case "tenant":
		return accesshttp.Request{}, errOtherTenant
	}
	var req accesshttp.Request
	fmt.Sscan(r.Header.Get("X-User"), &req.Subject)
	fmt.Sscan(r.Header.Get("X-On-Behalf-Of"), &req.OnBehalfOf)
	req.Record.Type = "contact"
	if _, err := fmt.Sscanf(r.URL.Path, "/contact/%d", &req.Record.ID); err != nil {
		return accesshttp.Request{}, errBadPath
	}
	req.Action = access.Read
	if r.Method == http.MethodPut {
		req.Action = access.Update
	}
	req.Row = &contactRow{ID: req.Record.ID}
	return req, nil
}

// seen is what the wrapped handler found in its context.
type seen struct {
	called   bool
	decision access.Decision
	ok       bool
	subject  access.AssociateID
	row      *contactRow
}

// hookCall is one call of the OnDecision hook.
type hookCall struct {
	Path    string
	Allowed bool
	Subject access.AssociateID
	Actor   access.AssociateID
	Err     error
}

func serve(t *testing.T, d accesshttp.Decider, req *http.Request) (*httptest.ResponseRecorder, *seen, []hookCall) {
	t.Helper()
	var s seen
	var hooks []hookCall
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.called = true
		s.decision, s.ok = accesshttp.DecisionFrom(r.Context())
		s.subject, _ = accesshttp.SubjectFrom(r.Context())
		s.row, _ = accesshttp.Row[*contactRow](r.Context())
		io.WriteString(w, "the record")
	})
	hook := func(r *http.Request, d access.Decision, err error) {
		hooks = append(hooks, hookCall{r.URL.Path, d.Allowed, d.Subject, d.Actor, err})
	}
	h := accesshttp.Middleware(d, extract, accesshttp.OnDecision(hook))(next)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w, &s, hooks
}

func newRequest(method, path string, headers ...string) *http.Request {
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	return r
}

var errStore = errors.New("store: connection reset by peer 10.0.0.7:5432")

func TestMiddleware(t *testing.T) {
	allow := access.Decision{Allowed: true, Rights: access.LevelFull}
	deny := access.Decision{Rights: access.R}
	tests := []struct {
		name      string
		decider   *fakeDecider
		req       *http.Request
		status    int
		body      string
		calls     []string
		handler   bool // whether the wrapped handler runs
		hookErr   error
		hookAllow bool
		subject   access.AssociateID
		actor     access.AssociateID
	}{{
		name:    "allow",
		decider: &fakeDecider{can: allow},
		req:     newRequest("GET", "/contact/42", "X-User", "11"),
		status:  200, body: "the record",
		calls:   []string{"Can(11, read, contact 42)"},
		handler: true, hookAllow: true, subject: 11,
	}, {
		name:    "deny",
		decider: &fakeDecider{can: deny},
		req:     newRequest("PUT", "/contact/42", "X-User", "11"),
		status:  403, body: "forbidden\n",
		calls:   []string{"Can(11, update, contact 42)"},
		subject: 11,
	}, {
		name:    "unauthenticated extractor",
		decider: &fakeDecider{can: allow},
		req:     newRequest("GET", "/contact/42", "X-Extract-Fail", "auth"),
		status:  401, body: "unauthorized\n",
		hookErr: accesshttp.ErrUnauthenticated,
	}, {
		name:    "no subject",
		decider: &fakeDecider{can: allow},
		req:     newRequest("GET", "/contact/42"),
		status:  401, body: "unauthorized\n",
		hookErr: accesshttp.ErrUnauthenticated,
	}, {
		name:    "bad request",
		decider: &fakeDecider{can: allow},
		req:     newRequest("GET", "/contact/x", "X-User", "11"),
		status:  400, body: "bad request\n",
		hookErr: errBadPath,
	}, {
		name:    "record not found",
		decider: &fakeDecider{can: allow},
		req:     newRequest("GET", "/contact/42", "X-User", "11", "X-Extract-Fail", "missing"),
		status:  404, body: "not found\n",
		hookErr: errNoContact,
	}, {
		name:    "extractor's database fails",
		decider: &fakeDecider{can: allow},
		req:     newRequest("GET", "/contact/42", "X-User", "11", "X-Extract-Fail", "db"),
		status:  500, body: "internal server error\n",
		hookErr: errStore,
	}, {
		name:    "stale resolver",
		decider: &fakeDecider{can: allow, canErr: fmt.Errorf("access: %w: last heard 9s ago", access.ErrStale)},
		req:     newRequest("GET", "/contact/42", "X-User", "11"),
		status:  503, body: "service unavailable\n",
		calls:   []string{"Can(11, read, contact 42)"},
		hookErr: access.ErrStale, hookAllow: true, subject: 11,
	}, {
		name:    "resolver error denies",
		decider: &fakeDecider{can: allow, canErr: errStore},
		req:     newRequest("GET", "/contact/42", "X-User", "11"),
		status:  500, body: "internal server error\n",
		calls:   []string{"Can(11, read, contact 42)"},
		hookErr: errStore, hookAllow: true, subject: 11,
	}, {
		name: "on behalf of, allowed",
		decider: &fakeDecider{
			acting: access.Acting{Actor: 11, Target: 30, Rule: 7},
			canAs:  allow,
		},
		req:    newRequest("PUT", "/contact/42", "X-User", "11", "X-On-Behalf-Of", "30"),
		status: 200, body: "the record",
		calls: []string{
			"Impersonate(11, 30)",
			"CanAs(11 as 30 rule 7, update, contact 42)",
		},
		handler: true, hookAllow: true, subject: 30, actor: 11,
	}, {
		name: "on behalf of, the target may not",
		decider: &fakeDecider{
			acting: access.Acting{Actor: 11, Target: 30, Rule: 7},
			canAs:  deny,
		},
		req:    newRequest("PUT", "/contact/42", "X-User", "11", "X-On-Behalf-Of", "30"),
		status: 403, body: "forbidden\n",
		calls: []string{
			"Impersonate(11, 30)",
			"CanAs(11 as 30 rule 7, update, contact 42)",
		},
		subject: 30, actor: 11,
	}, {
		name:    "on behalf of, refused",
		decider: &fakeDecider{can: allow, impErr: fmt.Errorf("access: associate 11 acting as 30: %w", access.ErrNoImpersonationRule)},
		req:     newRequest("GET", "/contact/42", "X-User", "11", "X-On-Behalf-Of", "30"),
		status:  403, body: "forbidden\n",
		calls:   []string{"Impersonate(11, 30)"},
		hookErr: access.ErrNoImpersonationRule, subject: 30, actor: 11,
	}, {
		name: "on behalf of, revoked before CanAs",
		decider: &fakeDecider{
			acting:   access.Acting{Actor: 11, Target: 30, Rule: 7},
			canAsErr: fmt.Errorf("access: associate 11 acting as 30: %w", access.ErrNoImpersonationRule),
		},
		req:    newRequest("GET", "/contact/42", "X-User", "11", "X-On-Behalf-Of", "30"),
		status: 403, body: "forbidden\n",
		calls: []string{
			"Impersonate(11, 30)",
			"CanAs(11 as 30 rule 7, read, contact 42)",
		},
		hookErr: access.ErrNoImpersonationRule, subject: 30, actor: 11,
	}, {
		name:    "on behalf of, resolver error",
		decider: &fakeDecider{impErr: errStore},
		req:     newRequest("GET", "/contact/42", "X-User", "11", "X-On-Behalf-Of", "30"),
		status:  500, body: "internal server error\n",
		calls:   []string{"Impersonate(11, 30)"},
		hookErr: errStore, subject: 30, actor: 11,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, s, hooks := serve(t, tt.decider, tt.req)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d", w.Code, tt.status)
			}
			if got := w.Body.String(); got != tt.body {
				t.Errorf("body %q, want %q", got, tt.body)
			}
			if diff := cmp.Diff(tt.calls, tt.decider.calls); diff != "" {
				t.Errorf("decider calls (-want +got):\n%s", diff)
			}
			if s.called != tt.handler {
				t.Errorf("handler called: %v, want %v", s.called, tt.handler)
			}
			if len(hooks) != 1 {
				t.Fatalf("hook called %d times, want once", len(hooks))
			}
			h := hooks[0]
			if !errors.Is(h.Err, tt.hookErr) || (h.Err == nil) != (tt.hookErr == nil) {
				t.Errorf("hook error %v, want %v", h.Err, tt.hookErr)
			}
			if h.Allowed != tt.hookAllow || h.Subject != tt.subject || h.Actor != tt.actor || h.Path != tt.req.URL.Path {
				t.Errorf("hook saw %+v, want allowed %v, subject %d, actor %d", h, tt.hookAllow, tt.subject, tt.actor)
			}
			if tt.status != 200 {
				if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("Content-Type %q, want text/plain", ct)
				}
				return
			}
			if !s.ok {
				t.Fatal("DecisionFrom: no decision in the handler's context")
			}
			if !s.decision.Allowed || s.decision.Subject != tt.subject || s.decision.Actor != tt.actor || s.decision.Record.ID != 42 {
				t.Errorf("DecisionFrom = %+v, want the allowing decision for %d (actor %d) on contact 42", s.decision, tt.subject, tt.actor)
			}
			if s.subject != tt.subject {
				t.Errorf("SubjectFrom = %d, want %d", s.subject, tt.subject)
			}
			if s.row == nil || s.row.ID != 42 {
				t.Errorf("Row[*contactRow] = %+v, want the extractor's row for contact 42", s.row)
			}
		})
	}
}

func TestMiddlewareWithoutHook(t *testing.T) {
	d := &fakeDecider{can: access.Decision{Allowed: true}}
	h := accesshttp.Middleware(d, extract)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, newRequest("GET", "/contact/1", "X-User", "5"))
	if w.Code != http.StatusNoContent {
		t.Errorf("status %d, want %d", w.Code, http.StatusNoContent)
	}
}

func TestChallenge(t *testing.T) {
	d := &fakeDecider{can: access.Decision{}}
	h := accesshttp.Middleware(d, extract, accesshttp.Challenge(`Bearer realm="crm"`))(http.NotFoundHandler())
	for _, c := range []struct {
		req  *http.Request
		want string
	}{
		{newRequest("GET", "/contact/1"), `Bearer realm="crm"`},
		{newRequest("GET", "/contact/1", "X-Extract-Fail", "auth"), `Bearer realm="crm"`},
		{newRequest("GET", "/contact/1", "X-User", "5"), ""}, // 403: signed in, but denied
		{newRequest("GET", "/contact/x", "X-User", "5"), ""}, // 400
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, c.req)
		if got := w.Header().Get("WWW-Authenticate"); got != c.want {
			t.Errorf("%d answer: WWW-Authenticate %q, want %q", w.Code, got, c.want)
		}
	}
}

func TestDecisionFromOutsideMiddleware(t *testing.T) {
	if d, ok := accesshttp.DecisionFrom(context.Background()); ok || d.Allowed {
		t.Errorf("DecisionFrom(background) = %v, %v; want a zero decision and false", d, ok)
	}
}

func TestMiddlewarePanicsOnNil(t *testing.T) {
	for name, f := range map[string]func(){
		"nil decider":       func() { accesshttp.Middleware(nil, extract) },
		"nil extractor":     func() { accesshttp.Middleware(&fakeDecider{}, nil) },
		"nil authenticator": func() { accesshttp.Authenticate(nil) },
		"nil filterer":      func() { accesshttp.ListFilter(nil, access.Read, "contact") },
		"nil right checker": func() { accesshttp.Require(nil, "export") },
		"empty right":       func() { accesshttp.Require(&fakeResolver{}, "") },
		"nil syncer":        func() { accesshttp.Sync(nil, time.Second) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Middleware did not panic")
				}
			}()
			f()
		})
	}
}

// TestMiddlewareEngine runs the middleware over a real resolver: the
// decision reaches the handler, and a denial's body tells the client
// nothing of the reasons the decision holds.
func TestMiddlewareEngine(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	grid := access.Grid{access.Owner: access.LevelFull, access.PrimaryGroup: access.R}
	_, err := s.Apply(ctx, access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "Seller", Rights: map[string]access.Grid{"*": grid}}},
		Groups: []access.Group{{ID: 10, Name: "Secret Team"}, {ID: 20, Name: "Customers"}},
		Associates: []access.Associate{
			{ID: 11, Name: "anna", PrimaryGroup: 10, Role: 1, Active: true},
			{ID: 12, Name: "bo", PrimaryGroup: 20, Role: 1, Active: true},
			{ID: 13, Name: "cy", PrimaryGroup: 10, Role: 1, Active: true},
		},
		Impersonations: []access.Impersonation{{ID: 1, Actor: access.Principal{Associate: 11}, Target: access.Principal{Associate: 13}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e, err := access.NewResolver(ctx, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	var mu sync.Mutex
	var audit []string
	h := accesshttp.Middleware(e, func(r *http.Request) (accesshttp.Request, error) {
		req, err := extract(r)
		req.Record.Owner, req.Record.Group = 11, 10 // anna's contact
		return req, err
	}, accesshttp.OnDecision(func(r *http.Request, d access.Decision, err error) {
		mu.Lock()
		defer mu.Unlock()
		audit = append(audit, d.String())
	}))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, _ := accesshttp.DecisionFrom(r.Context())
		fmt.Fprint(w, d.Rights)
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()

	for _, c := range []struct {
		method, user, onBehalf string
		status                 int
		body                   string
	}{
		{"PUT", "11", "", 200, "CRUD"},
		{"GET", "13", "", 200, "R"},
		{"PUT", "13", "", 403, "forbidden\n"},
		{"GET", "12", "", 403, "forbidden\n"},
		{"GET", "11", "13", 200, "R"},
		{"PUT", "11", "13", 403, "forbidden\n"},
		{"GET", "13", "11", 403, "forbidden\n"},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+"/contact/42", nil)
		req.Header.Set("X-User", c.user)
		if c.onBehalf != "" {
			req.Header.Set("X-On-Behalf-Of", c.onBehalf)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || string(body) != c.body {
			t.Errorf("%s as %s (for %q): %d %q, want %d %q", c.method, c.user, c.onBehalf, resp.StatusCode, body, c.status, c.body)
		}
		for _, secret := range []string{"Secret Team", "Seller", "anna", "role", "primary group"} {
			if strings.Contains(string(body), secret) {
				t.Errorf("%s as %s: body %q reveals %q", c.method, c.user, body, secret)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(audit) != 7 {
		t.Fatalf("audit has %d entries, want 7: %q", len(audit), audit)
	}
	// The reasons are on the server side.
	if !strings.Contains(audit[3], "deny: bo (12)") {
		t.Errorf("audit[3] = %q, want bo's denial with its reasons", audit[3])
	}
	if !strings.Contains(audit[4], "(acting: anna (11))") {
		t.Errorf("audit[4] = %q, want the actor named", audit[4])
	}
}

// TestMiddlewareOnError sends every refusal of Middleware through an
// application's responder: it gets the status and an error that says why
// (never nil), the challenge header is already set for a 401, and the
// wrapped handler does not run.
func TestMiddlewareOnError(t *testing.T) {
	refusal := fmt.Errorf("access: associate 11 acting as 30: %w", access.ErrNoImpersonationRule)
	tests := []struct {
		name    string
		decider *fakeDecider
		req     *http.Request
		status  int
		errs    []error // what the responder's error wraps
	}{
		{"bad request", &fakeDecider{can: access.Decision{Allowed: true}},
			newRequest("GET", "/contact/x", "X-User", "11"), 400, []error{accesshttp.ErrBadRequest, errBadPath}},
		{"unauthenticated", &fakeDecider{can: access.Decision{Allowed: true}},
			newRequest("GET", "/contact/42"), 401, []error{accesshttp.ErrUnauthenticated}},
		{"deny", &fakeDecider{},
			newRequest("GET", "/contact/42", "X-User", "11"), 403, []error{accesshttp.ErrForbidden}},
		{"impersonation refused", &fakeDecider{impErr: refusal},
			newRequest("GET", "/contact/42", "X-User", "11", "X-On-Behalf-Of", "30"), 403, []error{accesshttp.ErrForbidden, access.ErrImpersonation}},
		{"extractor refuses", &fakeDecider{can: access.Decision{Allowed: true}},
			newRequest("GET", "/contact/42", "X-User", "11", "X-Extract-Fail", "tenant"), 403, []error{accesshttp.ErrForbidden, errOtherTenant}},
		{"not found", &fakeDecider{can: access.Decision{Allowed: true}},
			newRequest("GET", "/contact/42", "X-User", "11", "X-Extract-Fail", "missing"), 404, []error{accesshttp.ErrNotFound}},
		{"extractor's database", &fakeDecider{can: access.Decision{Allowed: true}},
			newRequest("GET", "/contact/42", "X-User", "11", "X-Extract-Fail", "db"), 500, []error{errStore}},
		{"resolver fails", &fakeDecider{canErr: errStore},
			newRequest("GET", "/contact/42", "X-User", "11"), 500, []error{errStore}},
		{"resolver stale", &fakeDecider{canErr: access.ErrStale},
			newRequest("GET", "/contact/42", "X-User", "11"), 503, []error{access.ErrStale}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls int
			responder := func(w http.ResponseWriter, r *http.Request, status int, err error) {
				calls++
				if status != tt.status {
					t.Errorf("responder got status %d, want %d", status, tt.status)
				}
				for _, want := range tt.errs {
					if !errors.Is(err, want) {
						t.Errorf("responder got error %v, want one wrapping %v", err, want)
					}
				}
				if got, want := w.Header().Get("WWW-Authenticate") != "", status == 401; got != want {
					t.Errorf("WWW-Authenticate set: %v, want %v", got, want)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				fmt.Fprintf(w, `{"code":%d}`, status)
			}
			called := false
			h := accesshttp.Middleware(tt.decider, extract, accesshttp.OnError(responder), accesshttp.Challenge("Bearer"))(
				http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true }))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tt.req)
			if calls != 1 {
				t.Errorf("responder called %d times, want once", calls)
			}
			if called {
				t.Error("the wrapped handler ran on an error path")
			}
			if want := fmt.Sprintf(`{"code":%d}`, tt.status); w.Code != tt.status || w.Body.String() != want {
				t.Errorf("answer %d %q, want %d %q", w.Code, w.Body.String(), tt.status, want)
			}
		})
	}
}

// TestOnDecisionExtractorFailure: when the extractor fails, the hook's
// error says that it did, and what failed, and the decision is zero rather
// than a question about associate 0.
func TestOnDecisionExtractorFailure(t *testing.T) {
	for _, fail := range []string{"auth", "bad", "missing", "tenant", "db"} {
		t.Run(fail, func(t *testing.T) {
			var got error
			var dec access.Decision
			h := accesshttp.Middleware(&fakeDecider{}, extract, accesshttp.OnDecision(func(r *http.Request, d access.Decision, err error) {
				dec, got = d, err
			}))(http.NotFoundHandler())
			h.ServeHTTP(httptest.NewRecorder(), newRequest("GET", "/contact/42", "X-User", "11", "X-Extract-Fail", fail))
			if got == nil || !strings.HasPrefix(got.Error(), "accesshttp: extractor: ") {
				t.Errorf("hook error %v, want one that names the extractor as what failed", got)
			}
			if dec.Subject != 0 || dec.Allowed || dec.Record.Type != "" {
				t.Errorf("hook decision %+v, want a zero decision", dec)
			}
		})
	}
	t.Run("no subject", func(t *testing.T) {
		var got error
		h := accesshttp.Middleware(&fakeDecider{}, extract, accesshttp.OnDecision(func(r *http.Request, d access.Decision, err error) {
			got = err
		}))(http.NotFoundHandler())
		h.ServeHTTP(httptest.NewRecorder(), newRequest("GET", "/contact/42"))
		if got == nil || !strings.Contains(got.Error(), "extractor named no subject") {
			t.Errorf("hook error %v, want one saying the extractor named no subject", got)
		}
	})
}

// TestRowMismatch: Row reports false for a type the extractor did not
// store, and outside the middleware.
func TestRowMismatch(t *testing.T) {
	var gotOK, wrongOK bool
	h := accesshttp.Middleware(&fakeDecider{can: access.Decision{Allowed: true}}, extract)(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, gotOK = accesshttp.Row[*contactRow](r.Context())
			_, wrongOK = accesshttp.Row[contactRow](r.Context())
		}))
	h.ServeHTTP(httptest.NewRecorder(), newRequest("GET", "/contact/42", "X-User", "11"))
	if !gotOK || wrongOK {
		t.Errorf("Row[*contactRow] ok %v, Row[contactRow] ok %v; want true, false", gotOK, wrongOK)
	}
	if _, ok := accesshttp.Row[*contactRow](context.Background()); ok {
		t.Error("Row outside the middleware reported a row")
	}
}
