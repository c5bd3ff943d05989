package accesshttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/accesshttp"
	"github.com/crmaccess/access/store/memory"
)

func Example() {
	ctx := context.Background()
	s := memory.New()
	_, err := s.Apply(ctx, access.Batch{
		Roles: []access.Role{{ID: 1, Name: "Sales", Rights: map[string]access.Grid{
			"*": {access.Owner: access.LevelFull, access.PrimaryGroup: access.LevelRead},
		}}},
		Groups: []access.Group{{ID: 10, Name: "Team A"}, {ID: 20, Name: "Team B"}},
		Associates: []access.Associate{
			{ID: 11, Name: "anna", PrimaryGroup: 10, Role: 1, Active: true},
			{ID: 12, Name: "bo", PrimaryGroup: 20, Role: 1, Active: true},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	r, err := access.NewResolver(ctx, s, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	// A real application takes the subject from its session, and the
	// record's ownership columns from its database.
	extract := func(req *http.Request) (accesshttp.Request, error) {
		who, err := strconv.ParseInt(req.Header.Get("X-User"), 10, 64)
		if err != nil {
			return accesshttp.Request{}, fmt.Errorf("no user: %w", accesshttp.ErrUnauthenticated)
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(req.URL.Path, "/contact/"), 10, 64)
		if err != nil {
			return accesshttp.Request{}, fmt.Errorf("contact id: %w: %w", accesshttp.ErrBadRequest, err)
		}
		act := access.Read
		if req.Method == http.MethodDelete {
			act = access.Delete
		}
		rec := access.Record{Type: "contact", ID: id, Owner: 11, Group: 10}
		return accesshttp.Request{Subject: access.AssociateID(who), Action: act, Record: rec}, nil
	}
	audit := accesshttp.OnDecision(func(req *http.Request, d access.Decision, err error) {
		if err != nil {
			fmt.Println("  audit: error:", err)
			return
		}
		fmt.Println("  audit:", d)
	})
	h := accesshttp.Middleware(r, extract, audit)(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		d, _ := accesshttp.DecisionFrom(req.Context())
		fmt.Fprintf(w, "contact %d, rights %s", d.Record.ID, d.Rights)
	}))

	for _, c := range []struct{ method, user string }{{"DELETE", "11"}, {"DELETE", "12"}, {"GET", ""}} {
		req := httptest.NewRequest(c.method, "/contact/42", nil)
		req.Header.Set("X-User", c.user)
		w := httptest.NewRecorder()
		fmt.Println(c.method, "as", strconv.Quote(c.user))
		h.ServeHTTP(w, req)
		fmt.Printf("  %d %q\n", w.Code, w.Body.String())
	}
	// Output:
	// DELETE as "11"
	//   audit: allow: anna (11) may delete contact 42; role Sales (1) grants CRUD for owner; role Sales (1) grants R for primary group
	//   200 "contact 42, rights CRUD"
	// DELETE as "12"
	//   audit: deny: bo (12) needs delete on contact 42; role Sales (1) grants - for other; has -
	//   403 "forbidden\n"
	// GET as ""
	//   audit: error: accesshttp: extractor: no user: accesshttp: unauthenticated
	//   401 "unauthorized\n"
}

// crm is the model of the examples below: anna and bo sell in two teams;
// anna's role may export.
func crm(ctx context.Context) *memory.Store {
	s := memory.New()
	_, err := s.Apply(ctx, access.Batch{
		Roles: []access.Role{
			{ID: 1, Name: "Manager", Functions: []string{"export"}, Rights: map[string]access.Grid{
				"*": {access.Owner: access.LevelFull, access.PrimaryGroup: access.LevelRead}}},
			{ID: 2, Name: "Seller", Rights: map[string]access.Grid{
				"*": {access.Owner: access.LevelFull, access.PrimaryGroup: access.LevelRead}}},
		},
		Groups: []access.Group{{ID: 10, Name: "Team A"}, {ID: 20, Name: "Team B"}},
		Associates: []access.Associate{
			{ID: 11, Name: "anna", PrimaryGroup: 10, Role: 1, Active: true},
			{ID: 12, Name: "bo", PrimaryGroup: 20, Role: 2, Active: true},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	return s
}

// signedIn stands in for the application's session lookup.
func signedIn(req *http.Request) (access.AssociateID, error) {
	if req.Header.Get("X-User") == "" {
		return 0, fmt.Errorf("no session: %w", accesshttp.ErrUnauthenticated)
	}
	who, err := strconv.ParseInt(req.Header.Get("X-User"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("X-User: %w: %w", accesshttp.ErrBadRequest, err)
	}
	return access.AssociateID(who), nil
}

// get sends h a GET as user and prints the answer.
func get(h http.Handler, path, user string) {
	req := httptest.NewRequest("GET", path, nil)
	if user != "" {
		req.Header.Set("X-User", user)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	fmt.Printf("GET %s as %q: %d %s\n", path, user, w.Code, strings.TrimSpace(w.Body.String()))
}

// A list route: Authenticate finds the subject, ListFilter builds the
// filter of the contacts it may read. A real handler renders the filter
// into its query with [access.Filter.SQL]; this one matches a slice.
func ExampleListFilter() {
	ctx := context.Background()
	r, err := access.NewResolver(ctx, crm(ctx), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	contacts := []access.Record{
		{Type: "contact", ID: 1, Owner: 11, Group: 10},
		{Type: "contact", ID: 2, Owner: 12, Group: 20},
		{Type: "contact", ID: 3, Owner: 0, Group: 10},
	}

	list := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		who, _ := accesshttp.SubjectFrom(req.Context())
		f, _ := accesshttp.FilterFrom(req.Context())
		fmt.Fprintf(w, "associate %d sees contacts", who)
		for _, c := range contacts {
			if f.Match(c) {
				fmt.Fprintf(w, " %d", c.ID)
			}
		}
	})
	h := accesshttp.Authenticate(signedIn)(accesshttp.ListFilter(r, access.Read, "contact")(list))

	get(h, "/contacts", "11")
	get(h, "/contacts", "12")
	get(h, "/contacts", "")
	// Output:
	// GET /contacts as "11": 200 associate 11 sees contacts 1 3
	// GET /contacts as "12": 200 associate 12 sees contacts 2
	// GET /contacts as "": 401 unauthorized
}

// A functional-right guard: only associates whose role or groups grant
// "export" reach the export handler.
func ExampleRequire() {
	ctx := context.Background()
	r, err := access.NewResolver(ctx, crm(ctx), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	export := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		fmt.Fprint(w, "contacts.csv")
	})
	h := accesshttp.Authenticate(signedIn)(accesshttp.Require(r, "export")(export))

	get(h, "/contacts/export", "11")
	get(h, "/contacts/export", "12")
	// Output:
	// GET /contacts/export as "11": 200 contacts.csv
	// GET /contacts/export as "12": 403 forbidden
}

// replicaStore is the store as another process sees it: no notifications
// of this process's writes, only what it asks for.
type replicaStore struct{ access.Store }

// Read-your-writes across replicas: replica A answers a write with the
// revision it returned; the client sends it back, and Sync holds its next
// request on replica B until B has caught up.
func ExampleSync() {
	ctx := context.Background()
	s := crm(ctx)
	a, err := access.NewResolver(ctx, s, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	// Replica B does not poll, so that it stays behind until asked.
	b, err := access.NewResolver(ctx, replicaStore{s}, &access.Options{PollInterval: -1})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	// On replica A: move bo into Team A, and say at which revision.
	write := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rev, err := s.Apply(req.Context(), access.Batch{Associates: []access.Associate{
			{ID: 12, Name: "bo", PrimaryGroup: 10, Role: 2, Active: true},
		}})
		if err != nil {
			http.Error(w, "write failed", http.StatusInternalServerError)
			return
		}
		accesshttp.SetRevision(w, rev)
		w.WriteHeader(http.StatusNoContent)
	})
	// On replica B: is bo in Team A?
	read := accesshttp.Sync(b, 5*time.Second)(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		in, _ := b.IsMember(req.Context(), 12, 10)
		fmt.Fprintf(w, "bo in Team A: %v", in)
	}))

	w := httptest.NewRecorder()
	write.ServeHTTP(w, httptest.NewRequest("PUT", "/associates/12", nil))
	rev := w.Header().Get(accesshttp.RevisionHeader)
	fmt.Println("write answered", w.Code, "at revision", rev)

	for _, header := range []string{"", rev, "latest"} {
		req := httptest.NewRequest("GET", "/associates/12", nil)
		if header != "" {
			req.Header.Set(accesshttp.RevisionHeader, header)
		}
		w := httptest.NewRecorder()
		read.ServeHTTP(w, req)
		fmt.Printf("read with %s %q: %d %s\n", accesshttp.RevisionHeader, header, w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// write answered 204 at revision 2
	// read with Access-Revision "": 200 bo in Team A: false
	// read with Access-Revision "2": 200 bo in Team A: true
	// read with Access-Revision "latest": 400 bad request
}

// contact is the application's row.
type contact struct {
	ID    int64
	Name  string
	Owner access.AssociateID
	Group access.GroupID
}

// An application with its own error shape, here JSON, answers every
// refusal itself; the extractor answers 404 for a missing row and hands
// the row it loaded to the handler.
func ExampleOnError() {
	ctx := context.Background()
	r, err := access.NewResolver(ctx, crm(ctx), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	rows := map[int64]*contact{42: {ID: 42, Name: "Acme", Owner: 11, Group: 10}}

	extract := func(req *http.Request) (accesshttp.Request, error) {
		who, err := signedIn(req)
		if err != nil {
			return accesshttp.Request{}, err
		}
		id, err := strconv.ParseInt(req.PathValue("id"), 10, 64)
		if err != nil {
			return accesshttp.Request{}, fmt.Errorf("contact id: %w: %w", accesshttp.ErrBadRequest, err)
		}
		row, ok := rows[id] // a real extractor queries its database here
		if !ok {
			return accesshttp.Request{}, fmt.Errorf("contact %d: %w", id, accesshttp.ErrNotFound)
		}
		rec := access.Record{Type: "contact", ID: row.ID, Owner: row.Owner, Group: row.Group}
		return accesshttp.Request{Subject: who, Action: access.Read, Record: rec, Row: row}, nil
	}
	respond := accesshttp.OnError(func(w http.ResponseWriter, req *http.Request, status int, err error) {
		code := "internal"
		switch {
		case errors.Is(err, accesshttp.ErrUnauthenticated):
			code = "sign_in"
		case errors.Is(err, accesshttp.ErrBadRequest):
			code = "bad_request"
		case errors.Is(err, accesshttp.ErrNotFound):
			code = "no_such_contact"
		case errors.Is(err, accesshttp.ErrForbidden):
			code = "forbidden"
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": code})
	})
	show := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		c, _ := accesshttp.Row[*contact](req.Context())
		json.NewEncoder(w).Encode(c)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /contacts/{id}", accesshttp.Middleware(r, extract, respond)(show))

	get(mux, "/contacts/42", "11")
	get(mux, "/contacts/42", "12")
	get(mux, "/contacts/7", "11")
	get(mux, "/contacts/x", "11")
	get(mux, "/contacts/42", "")
	// Output:
	// GET /contacts/42 as "11": 200 {"ID":42,"Name":"Acme","Owner":11,"Group":10}
	// GET /contacts/42 as "12": 403 {"error":"forbidden"}
	// GET /contacts/7 as "11": 404 {"error":"no_such_contact"}
	// GET /contacts/x as "11": 400 {"error":"bad_request"}
	// GET /contacts/42 as "": 401 {"error":"sign_in"}
}

func ExampleActionFor() {
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
		act, ok := accesshttp.ActionFor(m)
		fmt.Println(m, act, ok)
	}
	// Output:
	// GET read true
	// HEAD read true
	// POST create true
	// PUT update true
	// PATCH update true
	// DELETE delete true
	// OPTIONS action(0) false
}

// An admin screen drawn at revision 41 sends it back with its write; the
// store has moved on to 42, so the write is refused with 409, and the
// screen reloads rather than overwrite the other admin's change.
func ExampleExpectedRevision() {
	apply := func(b access.Batch) (access.Revision, error) {
		const current = 42 // the store's revision
		if b.ExpectRevision != 0 && b.ExpectRevision != current {
			return 0, fmt.Errorf("store at revision %d, batch expects %d: %w", current, b.ExpectRevision, access.ErrConflict)
		}
		return current + 1, nil
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, ok, err := accesshttp.ExpectedRevision(r)
		if err != nil {
			http.Error(w, err.Error(), accesshttp.StatusOf(err))
			return
		}
		if !ok {
			http.Error(w, "send If-Match", http.StatusPreconditionRequired)
			return
		}
		rev, err := apply(access.Batch{ExpectRevision: seen})
		if err != nil {
			http.Error(w, err.Error(), accesshttp.StatusOf(err))
			return
		}
		accesshttp.SetRevision(w, rev)
		w.WriteHeader(http.StatusNoContent)
	})
	for _, ifMatch := range []string{`"42"`, "41", "", `W/"42"`} {
		req := httptest.NewRequest("POST", "/admin/groups/10/members", nil)
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		fmt.Printf("If-Match %s: %d %s%s\n", ifMatch, w.Code, w.Header().Get(accesshttp.RevisionHeader), strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// If-Match "42": 204 43
	// If-Match 41: 409 store at revision 42, batch expects 41: conflict
	// If-Match : 428 send If-Match
	// If-Match W/"42": 400 accesshttp: If-Match "W/\"42\"" is not a revision: accesshttp: bad request
}

func ExampleStatusOf() {
	for _, err := range []error{
		nil,
		fmt.Errorf("contact 7: %w", accesshttp.ErrNotFound),
		fmt.Errorf("group 10 changed: %w", access.ErrConflict),
		fmt.Errorf("role 3: %w", access.ErrExists),
		fmt.Errorf("resolver: %w", access.ErrStale),
		errors.New("connection reset"),
	} {
		fmt.Println(accesshttp.StatusOf(err), err)
	}
	// Output:
	// 200 <nil>
	// 404 contact 7: accesshttp: not found
	// 409 group 10 changed: conflict
	// 409 role 3: already exists
	// 503 resolver: resolver is stale
	// 500 connection reset
}

// The application's session says who signed in by login name; the
// resolver finds the associate in its snapshot, and a name it does not
// know signs nobody in.
func ExampleByName() {
	ctx := context.Background()
	r, err := access.NewResolver(ctx, crm(ctx), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	// A real login function reads a verified session, not a header.
	session := func(req *http.Request) (string, error) { return req.Header.Get("X-Session-User"), nil }
	h := accesshttp.Authenticate(accesshttp.ByName(r, session))(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		who, _ := accesshttp.SubjectFrom(req.Context())
		fmt.Fprintf(w, "hello, associate %d", who)
	}))
	for _, name := range []string{"Anna", "mallory", ""} {
		req := httptest.NewRequest("GET", "/contacts", nil)
		req.Header.Set("X-Session-User", name)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		fmt.Printf("%q: %d %s\n", name, w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// "Anna": 200 hello, associate 11
	// "mallory": 401 unauthorized
	// "": 401 unauthorized
}

// With an authenticator, the middleware signs the caller in and takes
// the action from the method: the extractor only says which record the
// route means. Nobody signed in is a 401 before the record is looked up.
func ExampleAuthenticateWith() {
	ctx := context.Background()
	r, err := access.NewResolver(ctx, crm(ctx), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	contact := func(req *http.Request) (accesshttp.Request, error) {
		id, err := strconv.ParseInt(strings.TrimPrefix(req.URL.Path, "/contact/"), 10, 64)
		if err != nil {
			return accesshttp.Request{}, fmt.Errorf("contact id: %w: %w", accesshttp.ErrBadRequest, err)
		}
		fmt.Println("  loading contact", id)
		return accesshttp.Request{Record: access.Record{Type: "contact", ID: id, Owner: 11, Group: 10}}, nil
	}
	mw := accesshttp.Middleware(r, contact, accesshttp.AuthenticateWith(signedIn))
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		d, _ := accesshttp.DecisionFrom(req.Context())
		fmt.Fprintf(w, "%s contact %d", d.Action, d.Record.ID)
	}))
	for _, c := range []struct{ method, user string }{{"DELETE", "11"}, {"PUT", "12"}, {"GET", ""}} {
		req := httptest.NewRequest(c.method, "/contact/42", nil)
		req.Header.Set("X-User", c.user)
		w := httptest.NewRecorder()
		fmt.Printf("%s as %q:\n", c.method, c.user)
		h.ServeHTTP(w, req)
		fmt.Printf("  %d %s\n", w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// DELETE as "11":
	//   loading contact 42
	//   200 delete contact 42
	// PUT as "12":
	//   loading contact 42
	//   403 forbidden
	// GET as "":
	//   401 unauthorized
}
