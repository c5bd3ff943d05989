// Middleware runs a tiny HTTP service on the loopback interface that
// guards GET, PUT and DELETE /contacts/{id}, the list GET /contacts and
// GET /export with accesshttp, sends itself a few requests — allowed,
// denied, on behalf of someone else, refused, missing, listed — and prints
// what the client saw and what the server decided.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/accesshttp"
	"github.com/crmaccess/access/store/memory"
)

const (
	anna access.AssociateID = 11 // sales manager
	bo   access.AssociateID = 12 // her assistant, who may act for her
	cy   access.AssociateID = 13 // a seller in another team
)

// contact is a row of the application's own table, with the ownership
// columns stamped when it was assigned.
type contact struct {
	ID    int64
	Name  string
	Owner access.AssociateID
	Group access.GroupID
}

// contacts stands in for the application's database.
var contacts = map[int64]*contact{
	1: {ID: 1, Name: "Acme", Owner: anna, Group: 10},
	2: {ID: 2, Name: "Globex", Owner: cy, Group: 20},
}

func (c *contact) record() access.Record {
	return access.Record{Type: "contact", ID: c.ID, Owner: c.Owner, Group: c.Group}
}

// signedIn says who is asking. X-User stands in for the application's
// session.
func signedIn(r *http.Request) (access.AssociateID, error) {
	user, err := strconv.ParseInt(r.Header.Get("X-User"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("X-User: %w", accesshttp.ErrUnauthenticated)
	}
	return access.AssociateID(user), nil
}

// extract maps a request about one contact to a question for the resolver,
// and hands the row it loaded to the handler. X-On-Behalf-Of names the
// associate the subject acts for.
func extract(r *http.Request) (accesshttp.Request, error) {
	who, err := signedIn(r)
	if err != nil {
		return accesshttp.Request{}, err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return accesshttp.Request{}, fmt.Errorf("contact id: %w: %w", accesshttp.ErrBadRequest, err)
	}
	row, ok := contacts[id]
	if !ok {
		return accesshttp.Request{}, fmt.Errorf("contact %d: %w", id, accesshttp.ErrNotFound)
	}
	req := accesshttp.Request{Subject: who, Record: row.record(), Row: row}
	switch r.Method {
	case http.MethodGet:
		req.Action = access.Read
	case http.MethodPut:
		req.Action = access.Update
	case http.MethodDelete:
		req.Action = access.Delete
	}
	if v := r.Header.Get("X-On-Behalf-Of"); v != "" {
		target, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return accesshttp.Request{}, fmt.Errorf("X-On-Behalf-Of: %w: %w", accesshttp.ErrBadRequest, err)
		}
		req.OnBehalfOf = access.AssociateID(target)
	}
	return req, nil
}

func main() {
	ctx := context.Background()
	store := memory.New()
	_, err := store.Apply(ctx, access.Batch{
		Roles: []access.Role{
			{ID: 1, Name: "Sales manager", Functions: []string{"export"}, Rights: map[string]access.Grid{access.Wildcard: {
				access.Owner: access.LevelFull, access.PrimaryGroup: access.LevelFull, access.Other: access.LevelRead}}},
			{ID: 2, Name: "Assistant", Parent: 1, Rights: map[string]access.Grid{access.Wildcard: {
				access.Owner: access.LevelFull, access.PrimaryGroup: access.LevelRead}}},
		},
		Groups: []access.Group{{ID: 10, Name: "Team A"}, {ID: 20, Name: "Team B"}},
		Associates: []access.Associate{
			{ID: anna, Name: "anna", PrimaryGroup: 10, Role: 1, Active: true},
			{ID: bo, Name: "bo", PrimaryGroup: 10, Role: 2, Active: true},
			{ID: cy, Name: "cy", PrimaryGroup: 20, Role: 2, Active: true},
		},
		// bo may act for anna, by name, although her role is above his.
		Impersonations: []access.Impersonation{{ID: 1, Actor: access.Principal{Associate: bo}, Target: access.Principal{Associate: anna}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	r, err := access.NewResolver(ctx, store, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	mux := http.NewServeMux()
	guard := accesshttp.Middleware(r, extract, accesshttp.OnDecision(func(req *http.Request, d access.Decision, err error) {
		if err != nil {
			fmt.Println("  server:", err)
			return
		}
		fmt.Println("  server:", d)
	}))
	mux.Handle("/contacts/{id}", guard(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		d, _ := accesshttp.DecisionFrom(req.Context())
		c, _ := accesshttp.Row[*contact](req.Context())
		fmt.Fprintf(w, "%s contact %d %s done (rights %s)", d.Action, c.ID, c.Name, d.Rights)
	})))

	// Routes about no one record: a list, filtered to what the subject
	// may read, and an export that needs a functional right.
	authn := accesshttp.Authenticate(signedIn)
	mux.Handle("GET /contacts", authn(accesshttp.ListFilter(r, access.Read, "contact")(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		f, _ := accesshttp.FilterFrom(req.Context())
		fmt.Fprint(w, "contacts:")
		for id := int64(1); id <= int64(len(contacts)); id++ {
			if c := contacts[id]; f.Match(c.record()) {
				fmt.Fprint(w, " ", c.Name)
			}
		}
	}))))
	mux.Handle("GET /export", authn(accesshttp.Require(r, "export")(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		fmt.Fprint(w, "contacts.csv")
	}))))

	// Loopback only, on a port the system picks.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Shutdown(ctx)
	base := "http://" + ln.Addr().String()

	for _, c := range []struct {
		what, method, path, user, onBehalfOf string
	}{
		{"anna deletes her contact", "DELETE", "/contacts/1", "11", ""},
		{"bo updates anna's contact", "PUT", "/contacts/1", "12", ""},
		{"bo updates it on behalf of anna", "PUT", "/contacts/1", "12", "11"},
		{"cy tries to act for anna", "PUT", "/contacts/1", "13", "11"},
		{"bo reads cy's contact", "GET", "/contacts/2", "12", ""},
		{"nobody signed in", "GET", "/contacts/1", "", ""},
		{"a malformed id", "GET", "/contacts/first", "11", ""},
		{"a contact that does not exist", "GET", "/contacts/9", "11", ""},
		{"bo lists the contacts", "GET", "/contacts", "12", ""},
		{"cy lists the contacts", "GET", "/contacts", "13", ""},
		{"anna exports", "GET", "/export", "11", ""},
		{"bo exports", "GET", "/export", "12", ""},
	} {
		fmt.Println(c.what + ":")
		req, err := http.NewRequest(c.method, base+c.path, nil)
		if err != nil {
			log.Fatal(err)
		}
		req.Header.Set("X-User", c.user)
		if c.onBehalfOf != "" {
			req.Header.Set("X-On-Behalf-Of", c.onBehalfOf)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("  client: %s %s → %d %q\n", c.method, c.path, resp.StatusCode, body)
	}
}
