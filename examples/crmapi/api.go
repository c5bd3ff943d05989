package main

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/accesshttp"
)

// contact and ticket are rows of the application's own tables: the CRM's
// data, with the ownership columns the resolver decides on.
type contact struct {
	ID        int64              `json:"id"`
	Name      string             `json:"name"`
	Owner     access.AssociateID `json:"-"`
	Group     access.GroupID     `json:"-"`
	Team      access.GroupID     `json:"-"`
	Company   int64              `json:"company"`
	Published bool               `json:"-"`
}

func (c *contact) record() access.Record {
	return access.Record{Type: "contact", ID: c.ID, Owner: c.Owner, Group: c.Group, Team: c.Team, Company: c.Company, Published: c.Published}
}

type ticket struct {
	ID       int64              `json:"id"`
	Contact  int64              `json:"contact"`
	Title    string             `json:"title"`
	Owner    access.AssociateID `json:"-"`
	Group    access.GroupID     `json:"-"`
	Category access.CategoryID  `json:"-"`
}

func (t *ticket) record() access.Record {
	return access.Record{Type: "ticket", ID: t.ID, Owner: t.Owner, Group: t.Group, Category: t.Category}
}

// contactColumns maps the filter's record fields onto the contact table.
var contactColumns = access.Columns{ID: "id", Owner: "owner_id", Group: "group_id", Team: "team_id", Company: "company_id", Published: "published"}

// service is one replica of the CRM API: its own resolver, its own
// connection pool, and the store it writes the access model through.
type service struct {
	eng     *access.Engine
	model   accessStore
	db      *sql.DB
	dialect access.Dialect
}

// handler wires the routes. Sync sits in front of everything, so that a
// request carrying the revision of its user's last write is decided at
// that revision or later on whichever replica it reaches.
func (s *service) handler() http.Handler {
	// Sign-in by login name from the resolver's snapshot: no database
	// round trip per request. X-User stands in for a real session.
	signedIn := accesshttp.ByName(s.eng, func(r *http.Request) (string, error) { return r.Header.Get("X-User"), nil })
	opts := []accesshttp.Option{accesshttp.AuthenticateWith(signedIn), accesshttp.OnError(writeError),
		accesshttp.OnDecision(logDenial), accesshttp.Challenge(`X-User realm="crm"`)}
	authn := accesshttp.Authenticate(signedIn, opts...)
	admin := func(h http.HandlerFunc) http.Handler {
		return authn(accesshttp.Require(s.eng, access.FuncAdmin, opts...)(h))
	}
	contacts := accesshttp.Middleware(s.eng, s.extractor(func(r *http.Request, id int64) (guarded, error) { return s.loadContact(r, id) }), opts...)
	tickets := accesshttp.Middleware(s.eng, s.extractor(func(r *http.Request, id int64) (guarded, error) { return s.loadTicket(r, id) }), opts...)

	mux := http.NewServeMux()
	mux.Handle("GET /contacts", authn(accesshttp.ListFilter(s.eng, access.Read, "contact", opts...)(http.HandlerFunc(s.listContacts))))
	mux.Handle("GET /contacts/{id}", contacts(http.HandlerFunc(s.showContact)))
	mux.Handle("PUT /contacts/{id}", contacts(http.HandlerFunc(s.renameContact)))
	mux.Handle("GET /tickets/{id}", tickets(http.HandlerFunc(s.showTicket)))
	mux.Handle("GET /admin/why", admin(s.why))
	mux.Handle("GET /admin/who-can", admin(s.whoCan))
	mux.Handle("POST /admin/groups/{group}/members", admin(s.join))
	return accesshttp.Sync(s.eng, 2*time.Second, opts...)(mux)
}

// extractor makes the extractor of the routes about one row of a table:
// the row is loaded once, for the decision and then for the handler. The
// middleware has already signed the caller in, and takes the action from
// the method.
func (s *service) extractor(load func(*http.Request, int64) (guarded, error)) accesshttp.Extractor {
	return func(r *http.Request) (accesshttp.Request, error) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			return accesshttp.Request{}, fmt.Errorf("id: %w: %w", accesshttp.ErrBadRequest, err)
		}
		row, err := load(r, id)
		if err != nil {
			return accesshttp.Request{}, err
		}
		return accesshttp.Request{Record: row.record(), Row: row}, nil
	}
}

// guarded is a row of a table the resolver guards.
type guarded interface{ record() access.Record }

func (s *service) loadContact(r *http.Request, id int64) (*contact, error) {
	c := new(contact)
	return c, missing(s.db.QueryRowContext(r.Context(), `SELECT id, name, owner_id, group_id, team_id, company_id, published FROM contact WHERE id = $1`, id).
		Scan(&c.ID, &c.Name, &c.Owner, &c.Group, &c.Team, &c.Company, &c.Published), "contact", id)
}

func (s *service) loadTicket(r *http.Request, id int64) (*ticket, error) {
	t := new(ticket)
	return t, missing(s.db.QueryRowContext(r.Context(), `SELECT id, contact_id, title, owner_id, group_id, category_id FROM ticket WHERE id = $1`, id).
		Scan(&t.ID, &t.Contact, &t.Title, &t.Owner, &t.Group, &t.Category), "ticket", id)
}

// missing turns a row that is not there into the middleware's 404; any
// other database error stays a 500.
func missing(err error, table string, id int64) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s %d: %w", table, id, accesshttp.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("loading %s %d: %w", table, id, err)
	}
	return nil
}

func (s *service) showContact(w http.ResponseWriter, r *http.Request) {
	c, _ := accesshttp.Row[*contact](r.Context())
	writeJSON(w, http.StatusOK, c)
}

func (s *service) renameContact(w http.ResponseWriter, r *http.Request) {
	c, _ := accesshttp.Row[*contact](r.Context())
	var in struct{ Name string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Name == "" {
		writeError(w, r, http.StatusBadRequest, err)
		return
	}
	if _, err := s.db.ExecContext(r.Context(), `UPDATE contact SET name = $1 WHERE id = $2`, in.Name, c.ID); err != nil {
		writeError(w, r, http.StatusInternalServerError, err)
		return
	}
	c.Name = in.Name
	writeJSON(w, http.StatusOK, c)
}

func (s *service) showTicket(w http.ResponseWriter, r *http.Request) {
	t, _ := accesshttp.Row[*ticket](r.Context())
	writeJSON(w, http.StatusOK, t)
}

// listContacts pages by keyset (id > after): the filter goes into the
// WHERE clause, so the database returns only visible rows and a page is
// always full while rows remain.
func (s *service) listContacts(w http.ResponseWriter, r *http.Request) {
	f, _ := accesshttp.FilterFrom(r.Context())
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit < 1 || limit > 100 {
		limit = 3
	}
	where, args, err := f.SQL(s.dialect, contactColumns, 1)
	if err != nil {
		writeError(w, r, http.StatusInternalServerError, err)
		return
	}
	q := fmt.Sprintf(`SELECT id, name, company_id FROM contact WHERE (%s) AND id > $%d ORDER BY id LIMIT $%d`, where, len(args)+1, len(args)+2)
	rows, err := s.db.QueryContext(r.Context(), q, append(args, after, limit)...)
	if err != nil {
		writeError(w, r, http.StatusInternalServerError, err)
		return
	}
	defer rows.Close()
	page := struct {
		Contacts []contact `json:"contacts"`
		Next     string    `json:"next,omitempty"`
	}{Contacts: []contact{}}
	for rows.Next() {
		var c contact
		if err := rows.Scan(&c.ID, &c.Name, &c.Company); err != nil {
			writeError(w, r, http.StatusInternalServerError, err)
			return
		}
		page.Contacts = append(page.Contacts, c)
	}
	if err := rows.Err(); err != nil {
		writeError(w, r, http.StatusInternalServerError, err)
		return
	}
	if n := len(page.Contacts); n == limit {
		page.Next = fmt.Sprintf("/contacts?after=%d&limit=%d", page.Contacts[n-1].ID, limit)
	}
	writeJSON(w, http.StatusOK, page)
}

// why answers an administrator's "why may (or may not) this user do that
// to this contact?" with the whole decision.
func (s *service) why(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	who, err := s.eng.AssociateByName(r.Context(), q.Get("who"))
	if err != nil {
		writeError(w, r, http.StatusNotFound, err)
		return
	}
	c, act, ok := s.question(w, r)
	if !ok {
		return
	}
	d, err := s.eng.Can(r.Context(), who.ID, act, c.record())
	if err != nil {
		writeError(w, r, http.StatusInternalServerError, err)
		return
	}
	accesshttp.SetRevision(w, d.Revision)
	writeJSON(w, http.StatusOK, d)
}

// whoCan lists everyone who may act on a contact, for an access review.
func (s *service) whoCan(w http.ResponseWriter, r *http.Request) {
	c, act, ok := s.question(w, r)
	if !ok {
		return
	}
	allowed, err := s.eng.WhoCan(r.Context(), act, c.record())
	if err != nil {
		writeError(w, r, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, allowed)
}

// question reads the contact and action an admin endpoint asks about.
func (s *service) question(w http.ResponseWriter, r *http.Request) (*contact, access.Action, bool) {
	act := access.Read
	if v := r.URL.Query().Get("action"); v != "" {
		var err error
		if act, err = access.ParseAction(v); err != nil {
			writeError(w, r, http.StatusBadRequest, err)
			return nil, 0, false
		}
	}
	id, err := strconv.ParseInt(r.URL.Query().Get("contact"), 10, 64)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, err)
		return nil, 0, false
	}
	c, err := s.loadContact(r, id)
	if err != nil {
		writeError(w, r, http.StatusNotFound, err)
		return nil, 0, false
	}
	return c, act, true
}

// join adds a user to a group with a patch, so that two admins adding
// different people at once both land. The admin sends back the revision
// their screen was drawn from (If-Match); a write in between is a 409.
func (s *service) join(w http.ResponseWriter, r *http.Request) {
	var in struct{ User string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, r, http.StatusBadRequest, err)
		return
	}
	user, err := s.eng.AssociateByName(r.Context(), in.User)
	if err != nil {
		writeError(w, r, http.StatusNotFound, err)
		return
	}
	groups, err := s.eng.GroupsByName(r.Context(), r.PathValue("group"))
	if err != nil || len(groups) != 1 {
		writeError(w, r, http.StatusNotFound, err)
		return
	}
	seen, ok, err := accesshttp.ExpectedRevision(r)
	if err != nil {
		writeError(w, r, accesshttp.StatusOf(err), err)
		return
	}
	if !ok {
		writeError(w, r, http.StatusPreconditionRequired, nil)
		return
	}
	rev, err := s.model.Apply(r.Context(), access.Batch{
		Patches:        []access.Patch{access.JoinGroup(user.ID, groups[0])},
		ExpectRevision: seen,
	})
	if err != nil {
		writeError(w, r, accesshttp.StatusOf(err), err) // 409 when another write came first
		return
	}
	accesshttp.SetRevision(w, rev)
	writeJSON(w, http.StatusOK, map[string]any{"joined": r.PathValue("group"), "user": user.Name})
}

// writeError is the application's error shape, for the middleware's
// refusals and the handlers' own failures alike. The error's text stays
// on the server: it may name rules and rows the caller may not see.
func writeError(w http.ResponseWriter, _ *http.Request, status int, _ error) {
	writeJSON(w, status, map[string]string{"error": http.StatusText(status)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// logDenial is the server's side of the tour: why a request was refused.
func logDenial(_ *http.Request, d access.Decision, err error) {
	switch {
	case err != nil:
		fmt.Println("  server:", err)
	case !d.Allowed:
		fmt.Println("  server:", d)
	}
}
