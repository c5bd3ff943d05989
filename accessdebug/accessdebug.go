// Package accessdebug serves read-only pages that look inside a running
// resolver, in the spirit of net/http/pprof: an operator or admin opens
// them in a browser to answer "why can Anna see this contact?", "who can
// edit it?", "what does group Sales grant?".
//
// # Mounting
//
// [New] returns one [http.Handler]. Nothing mounts it by default: the
// application mounts it where it wants, normally on an internal port and
// behind its own admin authentication, and must pass an authorization
// check that runs before every request:
//
//	h := accessdebug.New(resolver, requireAdmin, &accessdebug.Options{Store: store})
//	mux.Handle("/debug/access/", http.StripPrefix("/debug/access", h))
//
// Pages link to each other with relative URLs, so the handler works under
// any prefix that ends in a slash, with or without [http.StripPrefix].
//
// # Pages
//
//   - status (the prefix itself): revision, staleness, the last refresh
//     error, the snapshot's size, counts of what the model holds, and the
//     tenants of [Options.Pool] when one is set;
//   - find?q=: associates and groups whose name contains q, or whose id is q;
//   - associate?id=: effective groups with the path explaining each, drawn
//     as a graph (package graph) with one path highlighted (via=GROUP picks
//     which), functional rights, the permissions matrix by entity type
//     with the limits that cap each type and what they leave,
//     categories "(from usergroup)", the sign-in channels (client, API)
//     with the reason for each, and the facts that decide them;
//   - group?id=: effective members, nesting up and down, and the
//     permissions matrix of its members (entity types × relations ×
//     rights, and what their limits leave) with what the group itself
//     contributes, its limits among it;
//   - explain?who=&action=&type=…: a form; its answer is the decision with
//     every cause, allow or deny (limits among them), the decision's own
//     text ([access.Decision.String]), and who else may do the same;
//   - graph.svg, graph.dot, graph.mmd?associate=&via=: the associate's graph
//     on its own, in each format;
//   - whatif?change=: paste a change (a Batch as JSON) and see the
//     difference in effective access it would make ([access.Engine.WhatIf]),
//     without applying it.
//
// # Safety
//
// The pages only read: they call the resolver's questions and, when
// [Options.Store] is set, the store's Changes from revision 0; nothing
// writes. Every parameter is validated (unknown parameters included) and
// bad input gets a 400 page saying what was wrong. Everything shown is
// escaped by html/template; the graph package escapes the SVG it draws.
// Responses forbid caching, framing and scripts.
package accessdebug

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/crmaccess/access"
)

// Options tune the pages. A nil *Options means the zero value.
type Options struct {
	// Store is the store the resolver reads, used to list associates and
	// groups by name and to show an associate's own fields (type, validity,
	// service login) and a group's definition. The pages read it only with
	// Changes(ctx, 0), the whole model, reloaded when the resolver's
	// revision moves. The resolver offers no listing of names, so without
	// a Store the pages find entities by id only and show ids instead of
	// associates' names.
	Store access.Store
	// Pool, when set, is the pool of per-tenant resolvers the application
	// keeps; the status page shows its resident tenants, bytes, loads,
	// evictions and load latency.
	Pool *access.Pool
	// MatrixMembers bounds how many members of a group the permissions
	// matrix asks about (one Permissions call each). Default: 500.
	MatrixMembers int
	// ParseChange, when set, reads the what-if page's change in place of
	// the default, an access.Batch as JSON: an application that keeps its
	// model in files passes a reader of its own format (the access
	// command's model package reads a model-file fragment this way, with
	// model.File.Change over the store's model). Its error is shown to the
	// admin with status 400.
	ParseChange func(ctx context.Context, text string) (access.Batch, error)
}

// New returns the handler that serves the pages about resolver r.
// authorize runs first on every request; when it returns an error the
// request gets 403 Forbidden and nothing of the pages. New panics if r or
// authorize is nil: leaving the pages open must be a decision the caller
// writes down (a func that returns nil), never an accident.
//
// The handler is safe for concurrent use.
func New(r *access.Engine, authorize func(*http.Request) error, opts *Options) http.Handler {
	if r == nil {
		panic("accessdebug: New: nil resolver")
	}
	if authorize == nil {
		panic("accessdebug: New: nil authorize: pass a check of the application's admin authentication")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MatrixMembers <= 0 {
		o.MatrixMembers = 500
	}
	return &handler{r: r, authorize: authorize, opts: o}
}

type handler struct {
	r         *access.Engine
	authorize func(*http.Request) error
	opts      Options

	// mu guards model, the last copy of the store's model, kept while the
	// resolver stays at the revision it was loaded at.
	mu    sync.Mutex
	model *model
}

//go:embed templates/*.html
var templateFS embed.FS

// pages are the templates, one per page, each with the shared layout.
var pages = func() map[string]*template.Template {
	funcs := template.FuncMap{
		"join": strings.Join,
		"ago": func(d time.Duration) string {
			return d.Round(time.Millisecond).String()
		},
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format(time.RFC3339)
		},
	}
	out := map[string]*template.Template{}
	for _, p := range []string{"status", "find", "associate", "group", "explain", "whatif", "error"} {
		out[p] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html"))
	}
	return out
}()

// badRequest is an input error: its message is shown on a 400 page.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return &badRequest{fmt.Sprintf(format, args...)} }

// routes maps the last segment of the path to the page serving it.
var routes = map[string]func(h *handler, w http.ResponseWriter, r *http.Request, q params) error{
	"":          (*handler).status,
	"find":      (*handler).find,
	"associate": (*handler).associate,
	"group":     (*handler).group,
	"explain":   (*handler).explain,
	"whatif":    (*handler).whatIf,
	"graph.svg": (*handler).graphFile,
	"graph.dot": (*handler).graphFile,
	"graph.mmd": (*handler).graphFile,
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	if err := h.authorize(r); err != nil {
		http.Error(w, "403 forbidden", http.StatusForbidden)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		h.fail(w, http.StatusMethodNotAllowed, "These pages only read: method "+r.Method+" is not allowed.")
		return
	}
	seg := r.URL.Path
	if i := strings.LastIndexByte(seg, '/'); i >= 0 {
		seg = seg[i+1:]
	}
	page, ok := routes[seg]
	if !ok {
		h.fail(w, http.StatusNotFound, "There is no page here.")
		return
	}
	q, err := parseParams(r.URL.RawQuery)
	if err == nil {
		err = page(h, w, r, q)
	}
	switch {
	case err == nil:
	case errors.As(err, new(*badRequest)):
		h.fail(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, access.ErrNotFound):
		h.fail(w, http.StatusNotFound, err.Error())
	case errors.Is(err, access.ErrStale):
		h.fail(w, http.StatusServiceUnavailable, err.Error())
	case errors.Is(err, access.ErrInvalid):
		h.fail(w, http.StatusBadRequest, err.Error())
	default:
		h.fail(w, http.StatusInternalServerError, err.Error())
	}
}

// render writes a page; a template that fails half-way has written part
// of a page already, so it can only be logged by the server, not replaced.
func (h *handler) render(w http.ResponseWriter, code int, page string, data any) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	return pages[page].Execute(w, data)
}

type errorPage struct {
	common
	Code    int
	Message string
}

func (h *handler) fail(w http.ResponseWriter, code int, msg string) {
	_ = h.render(w, code, "error", errorPage{common: h.common(http.StatusText(code)), Code: code, Message: msg})
}

// model is the store's model at one revision, indexed for the pages.
type model struct {
	// at is the resolver's revision when the model was loaded; rev the
	// store's.
	at, rev    access.Revision
	assocs     map[access.AssociateID]*access.Associate
	groups     map[access.GroupID]*access.Group
	roles      map[access.RoleID]*access.Role
	assocOrder []access.AssociateID
	groupOrder []access.GroupID
	counts     []count
	batch      access.Batch
}

type count struct {
	What string
	N    int
}

// load returns the store's model, or nil without a store. It reloads the
// model when the resolver has moved on since the last load, so the names
// shown follow the decisions shown.
func (h *handler) load(ctx context.Context) (*model, error) {
	if h.opts.Store == nil {
		return nil, nil
	}
	at := h.r.Revision()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.model != nil && h.model.at == at {
		return h.model, nil
	}
	d, err := h.opts.Store.Changes(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("reading the model from the store: %w", err)
	}
	m := &model{at: at, rev: d.To, batch: d.Batch,
		assocs: map[access.AssociateID]*access.Associate{},
		groups: map[access.GroupID]*access.Group{},
		roles:  map[access.RoleID]*access.Role{},
	}
	for i := range d.Associates {
		a := &m.batch.Associates[i]
		m.assocs[a.ID] = a
		m.assocOrder = append(m.assocOrder, a.ID)
	}
	for i := range d.Groups {
		g := &m.batch.Groups[i]
		m.groups[g.ID] = g
		m.groupOrder = append(m.groupOrder, g.ID)
	}
	for i := range d.Roles {
		m.roles[d.Roles[i].ID] = &m.batch.Roles[i]
	}
	slices.Sort(m.assocOrder)
	slices.Sort(m.groupOrder)
	m.counts = []count{
		{"associates", len(d.Associates)}, {"groups", len(d.Groups)}, {"roles", len(d.Roles)},
		{"sharing rules", len(d.SharingRules)}, {"grants", len(d.Grants)}, {"categories", len(d.Categories)},
		{"impersonation rules", len(d.Impersonations)}, {"limits", len(d.Limits)},
	}
	h.model = m
	return m, nil
}

// assocName is the associate's name, or "" when the model is not known.
func (m *model) assocName(id access.AssociateID) string {
	if m == nil {
		return ""
	}
	if a := m.assocs[id]; a != nil {
		return a.Name
	}
	return ""
}

// link is one entity shown as a link to its page.
type link struct {
	Href string
	Name string
	ID   int64
}

func assocLink(m *model, id access.AssociateID) link {
	return link{Href: fmt.Sprintf("associate?id=%d", id), Name: m.assocName(id), ID: int64(id)}
}

func groupLink(ref access.GroupRef) link {
	return link{Href: fmt.Sprintf("group?id=%d", ref.ID), Name: ref.Name, ID: int64(ref.ID)}
}
