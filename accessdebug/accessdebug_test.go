package accessdebug_test

import (
	"context"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/accessdebug"
	"github.com/crmaccess/access/store/memory"
)

// quickstart is the organisation of examples/quickstart, with a few
// additions so that every part of the pages has something to show: a
// functional right, a group default, a grant, a sharing rule and a
// category listing a usergroup, a limit on a group and one on a record.
func quickstart() access.Batch {
	seller := access.Grid{access.Owner: access.LevelFull, access.PrimaryGroup: access.LevelUpdate, access.OtherGroup: access.LevelRead}
	rights := map[string]access.Grid{access.Wildcard: seller}
	return access.Batch{
		Roles: []access.Role{
			{ID: 1, Name: "Sales", Rights: rights, Functions: []string{"export-selection"}},
			{ID: 2, Name: "Sales Assistant", Parent: 1, Rights: rights},
			{ID: 3, Name: "Marketing", Rights: rights},
			{ID: 4, Name: "Marketing Assistant", Parent: 3, Rights: rights},
		},
		Groups: []access.Group{
			{ID: 10, Name: "Team A"},
			{ID: 11, Name: "Team B"},
			{ID: 20, Name: "Sales", Description: "Everyone <who> sells", Groups: []access.GroupID{10, 11}, Functions: []string{"backend-login"}, Defaults: map[string]access.CRUD{"document": access.R}},
			{ID: 30, Name: "Sales and Marketing", Roles: []access.RoleID{1, 3}},
			{ID: 31, Name: "Sales and Marketing, with assistants", RolesAndSubordinates: []access.RoleID{1, 3}},
			{ID: 40, Name: "Berlin office", Smart: `attr.city == "Berlin"`},
		},
		Associates: []access.Associate{
			{ID: 101, Name: "Person 1", PrimaryGroup: 10, Role: 1, Active: true, Attributes: map[string]string{"city": "Berlin"}, ServiceLogin: 7, Email: "p1@example.com"},
			{ID: 102, Name: "Person 2", PrimaryGroup: 10, Role: 2, Active: true},
			{ID: 103, Name: "Person 3", PrimaryGroup: 11, Role: 3, Active: true},
			{ID: 104, Name: "Person 4", PrimaryGroup: 11, Role: 4, Active: true, Attributes: map[string]string{"city": "Berlin"}},
		},
		Grants:       []access.Grant{{ID: 1, Group: 20, EntityType: "sale", RecordID: 9, Rights: access.LevelFull}},
		SharingRules: []access.SharingRule{{ID: 1, Name: "Marketing reads Sales", EntityType: "contact", From: access.Principals{Groups: []access.GroupID{20}}, To: access.Principals{Roles: []access.RoleID{3}}, Rights: access.R}},
		Categories:   []access.Category{{ID: 5, Name: "Support", Groups: []access.GroupID{10}}},
		Limits: []access.Limit{
			{ID: 1, Group: 11, EntityType: "sale", Max: access.LevelRead},
			{ID: 2, EntityType: "contact", RecordID: 42, Max: access.LevelNone},
		},
	}
}

// countingStore is the Store the pages get: it exposes Changes only, and
// counts the calls.
type countingStore struct {
	s     *memory.Store
	calls atomic.Int64
	fail  atomic.Bool
}

func (c *countingStore) Changes(ctx context.Context, since access.Revision) (access.Delta, error) {
	c.calls.Add(1)
	if c.fail.Load() {
		return access.Delta{}, errors.New("store unreachable: connection refused")
	}
	return c.s.Changes(ctx, since)
}

type fixture struct {
	r     *access.Engine
	mem   *memory.Store
	store *countingStore
	h     http.Handler
}

func newFixture(t testing.TB, b access.Batch, withStore bool) *fixture {
	t.Helper()
	ctx := context.Background()
	mem := memory.New()
	if _, err := mem.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{s: mem}
	r, err := access.NewResolver(ctx, cs, &access.Options{PollInterval: -1, MaxStaleness: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	var opts *accessdebug.Options
	if withStore {
		opts = &accessdebug.Options{Store: cs}
	}
	return &fixture{r: r, mem: mem, store: cs, h: accessdebug.New(r, func(*http.Request) error { return nil }, opts)}
}

func get(t *testing.T, h http.Handler, target string) (int, string) {
	t.Helper()
	return do(t, h, http.MethodGet, target)
}

func do(t *testing.T, h http.Handler, method, target string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, "http://debug.test"+target, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

func TestNewPanicsOnMisuse(t *testing.T) {
	f := newFixture(t, quickstart(), true)
	for name, fn := range map[string]func(){
		"nil authorize": func() { accessdebug.New(f.r, nil, nil) },
		"nil resolver":  func() { accessdebug.New(nil, func(*http.Request) error { return nil }, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("New did not panic")
				}
			}()
			fn()
		})
	}
}

// pagePaths are one request to every page, with the text each must show.
var pagePaths = []struct {
	name, path string
	want       []string
}{
	{"status", "/debug/access/", []string{"Resolver status", `id="ready">ready<`, "associates</th><td>4<", "sharing rules</th><td>1<"}},
	{"find form", "/debug/access/find", []string{`<input id="q" name="q"`}},
	{"find by name", "/debug/access/find?q=PERSON", []string{`href="associate?id=101">Person 1 (101)`, `href="associate?id=104">Person 4 (104)`, "No group matches."}},
	{"find by id", "/debug/access/find?q=20", []string{`href="group?id=20">Sales (20)`, "No associate matches."}},
	{"find group by name", "/debug/access/find?q=sales", []string{`Sales and Marketing, with assistants (31)`, "No associate matches."}},
	{"associate", "/debug/access/associate?id=101", []string{
		`<span id="name">Person 1</span>`, "may sign in", "export-selection", "backend-login",
		`Team A (10)</a> → <a href="group?id=20">Sales (20)</a>`, "primary group",
		`<svg xmlns="http://www.w3.org/2000/svg"`, `class="node group hl" data-node="g20"`,
		"Support (5) (from usergroup <a href=\"group?id=10\">Team A (10)</a>)",
		"grant 1: CRUD to group Sales (20) on sale 9", "Customer Service login</th><td>7", "E-mail</th><td>p1@example.com<"}},
	{"associate with sharing", "/debug/access/associate?id=103", []string{"Marketing reads Sales (1): R", "None."}},
	{"associate via role tree", "/debug/access/associate?id=102&via=31", []string{
		"Sales Assistant (2) is below Sales (1)", `class="node role hl" data-node="r2"`, `class="edge hl" data-from="r2" data-to="r1"`}},
	{"group", "/debug/access/group?id=20", []string{
		`<span id="name">Sales</span>`, `href="associate?id=104">Person 4 (104)`, `href="group?id=11">Team B (11)`,
		"Description</th><td>Everyone &lt;who&gt; sells<", "Includes groups</th><td>Team A (10), Team B (11)", "backend-login</td><td>Sales (20)",
		"<th scope=\"col\">primary group</th>", "<th scope=\"row\">*</th><td>Sales (1)</td><td>1</td>", "document</td><td>R from Sales (20)",
		`class="node group hl" data-node="g20"`, `data-from="g10" data-to="g20"`, `data-from="a104" data-to="g11"`}},
	{"group nested", "/debug/access/group?id=10", []string{`<ul id="up"><li><a href="group?id=20">Sales (20)`, "It includes no group."}},
	{"group smart", "/debug/access/group?id=40", []string{"Smart rule</th><td>attr.city == &#34;Berlin&#34;", "Person 4 (104)"}},
	{"explain form", "/debug/access/explain", []string{`<label for="who">`, "What-if"}},
	{"explain allow", "/debug/access/explain?who=Person+2&action=update&type=contact&owner=101&group=10", []string{
		`<span id="verdict" class="allow">allow</span>`, "role Sales Assistant (2), relation primary group: CRU",
		`href="associate?id=101">Person 1 (101)`}},
	{"explain deny", "/debug/access/explain?who=103&action=update&type=contact&owner=101&group=10&visibility=all&published=on", []string{
		`<span id="verdict" class="deny">deny</span>`, "role Marketing (3), relation other: -", "sharing rule Marketing reads Sales (1) adds R",
		"role: role Sales Assistant (2), relation primary group: CRU (through group Team A (10))"}},
	{"associate with limits", "/debug/access/associate?id=103", []string{
		`<th scope="col">Limits</th><th scope="col">At most</th></tr>`,
		`<td>limit 1 (group Team B (11)) keeps at most R on sale</td><td class="c">R</td></tr>`,
		`<td>limit 2 (organisation-wide) keeps at most - on contact 42</td><td class="c"></td></tr>`}},
	{"group with a limit", "/debug/access/group?id=11", []string{
		`<th scope="col">Group default</th><th scope="col">At most</th></tr>`,
		`<ul id="limits"><li>limit 1 (group Team B (11)) keeps at most R on sale</li></ul>`}},
	{"explain a group limit", "/debug/access/explain?who=103&action=update&type=sale&id=9", []string{
		`<span id="verdict" class="deny">deny</span>`,
		`<tr><td>limit</td><td>limit 1 (group Team B (11)) keeps at most R on sale: takes away CUD</td><td class="c">CUD</td></tr>`}},
	{"explain a record limit", "/debug/access/explain?who=101&action=read&type=contact&id=42&owner=101", []string{
		`<span id="verdict" class="deny">deny</span>`,
		`<tr><td>limit</td><td>limit 2 (organisation-wide) keeps at most - on contact 42: takes away CRUD</td>`}},
	{"graph svg", "/debug/access/graph.svg?associate=101", []string{`<svg xmlns=`, `data-node="a101"`}},
	{"graph dot", "/debug/access/graph.dot?associate=101&via=20", []string{"digraph access", `"a101" -> "g10"`}},
	{"graph mermaid", "/debug/access/graph.mmd?associate=101", []string{"flowchart TB"}},
}

func TestPages(t *testing.T) {
	f := newFixture(t, quickstart(), true)
	before := f.mem.Revision()
	for _, tc := range pagePaths {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, f.h, tc.path)
			if code != http.StatusOK {
				t.Fatalf("GET %s: status %d, want 200:\n%s", tc.path, code, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s lacks %q:\n%s", tc.path, w, body)
				}
			}
		})
	}
	if after := f.mem.Revision(); after != before {
		t.Errorf("the store moved from revision %d to %d while the pages were read", before, after)
	}
	t.Run("limits", func(t *testing.T) { testLimitPages(t) })
}

// testLimitPages checks the limits on the explain page word for word
// against the library's own explanation, and that the group's matrix keeps
// apart members of one role whom limits leave different rights.
func testLimitPages(t *testing.T) {
	b := quickstart()
	// Person 5 holds role Sales like Person 1, but sits in Team B, whose
	// limit caps sales at R.
	b.Associates = append(b.Associates, access.Associate{ID: 105, Name: "Person 5", PrimaryGroup: 11, Role: 1, Active: true})
	f := newFixture(t, b, true)
	ctx := context.Background()
	for _, tc := range []struct {
		who access.AssociateID
		act access.Action
		rec access.Record
		q   string
	}{
		{105, access.Update, access.Record{Type: "sale", ID: 9}, "who=105&action=update&type=sale&id=9"},
		{101, access.Read, access.Record{Type: "contact", ID: 42, Owner: 101}, "who=101&action=read&type=contact&id=42&owner=101"},
	} {
		d, err := f.r.Can(ctx, tc.who, tc.act, tc.rec)
		if err != nil {
			t.Fatal(err)
		}
		_, body := get(t, f.h, "/d/explain?"+tc.q)
		const row = "<tr><td>limit</td><td>"
		i := strings.Index(body, row)
		if i < 0 {
			t.Fatalf("explain %s shows no limit cause:\n%s", tc.q, body)
		}
		text := body[i+len(row):]
		text = html.UnescapeString(text[:strings.Index(text, "</td>")])
		if !strings.Contains(d.String(), "; "+text+";") {
			t.Errorf("explain %s: the limit reads %q, not as the library says it:\n%s", tc.q, text, d)
		}
	}
	_, body := get(t, f.h, "/d/group?id=20")
	for _, want := range []string{
		`<tr><th scope="row">sale</th><td>Sales (1)</td><td>1</td>`,
	} {
		if n := strings.Count(body, want); n != 2 {
			t.Errorf("group 20: %d rows %q, want 2 (one capped at R, one not):\n%s", n, want, body)
		}
	}
	var capped []string
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, `<tr><th scope="row">sale</th>`) && strings.HasSuffix(line, `<td class="c">R</td></tr>`) {
			capped = append(capped, line[:strings.Index(line, "<td class=")])
		}
	}
	want := []string{
		`<tr><th scope="row">sale</th><td>Sales (1)</td><td>1</td>`,
		`<tr><th scope="row">sale</th><td>Marketing (3)</td><td>1</td>`,
		`<tr><th scope="row">sale</th><td>Marketing Assistant (4)</td><td>1</td>`,
	}
	if diff := cmp.Diff(want, capped); diff != "" {
		t.Errorf("group 20: the sale rows capped at R (-want +got):\n%s", diff)
	}
}

// TestPagesUnderStripPrefix checks that the handler serves the same pages
// when mounted the usual way, under http.StripPrefix.
func TestPagesUnderStripPrefix(t *testing.T) {
	f := newFixture(t, quickstart(), true)
	mux := http.NewServeMux()
	mux.Handle("/debug/access/", http.StripPrefix("/debug/access", f.h))
	for _, path := range []string{"/debug/access/", "/debug/access/associate?id=101", "/debug/access/group?id=20"} {
		if code, body := get(t, mux, path); code != http.StatusOK {
			t.Errorf("GET %s under StripPrefix: status %d:\n%s", path, code, body)
		}
	}
}

func TestAuthorizeRefused(t *testing.T) {
	f := newFixture(t, quickstart(), true)
	var asked atomic.Int64
	h := accessdebug.New(f.r, func(r *http.Request) error {
		asked.Add(1)
		return errors.New("not an admin")
	}, &accessdebug.Options{Store: f.store})
	paths := []string{"/x/find?q=%ZZ", "/x/nope", "/x/associate?id=abc"}
	for _, p := range pagePaths {
		paths = append(paths, p.path)
	}
	for _, path := range paths {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			code, body := do(t, h, method, path)
			if code != http.StatusForbidden {
				t.Errorf("%s %s: status %d, want 403", method, path, code)
			}
			for _, leak := range []string{"Person", "Sales", "<html", "revision", "not an admin"} {
				if strings.Contains(body, leak) {
					t.Errorf("%s %s: the 403 body shows %q: %s", method, path, leak, body)
				}
			}
		}
	}
	if got, want := asked.Load(), int64(2*len(paths)); got != want {
		t.Errorf("authorize asked %d times, want %d (once per request)", got, want)
	}
	if n := f.store.calls.Load(); n != 1 { // the resolver's first load
		t.Errorf("a refused request read the store: %d calls to Changes, want 1", n)
	}
}

func TestBadRequests(t *testing.T) {
	f := newFixture(t, quickstart(), true)
	long := strings.Repeat("a", 513)
	tests := []struct {
		name, path, want string
	}{
		{"status takes nothing", "/d/?x=1", "takes no parameters"},
		{"malformed escape", "/d/find?q=%ZZ", "malformed"},
		{"repeated parameter", "/d/find?q=a&q=b", "given 2 times"},
		{"control character", "/d/find?q=a%01b", "control character"},
		{"invalid UTF-8", "/d/find?q=%FF", "not valid UTF-8"},
		{"too long", "/d/find?q=" + long, "at most 512"},
		{"empty search", "/d/find?q=+", "Type part of a name"},
		{"unknown parameter", "/d/find?query=x", `no parameter &#34;query&#34;`},
		{"associate without id", "/d/associate", `&#34;id&#34; is required`},
		{"associate id not a number", "/d/associate?id=abc", "positive whole number"},
		{"associate id negative", "/d/associate?id=-1", "positive whole number"},
		{"associate id overflow", "/d/associate?id=99999999999999999999", "positive whole number"},
		{"associate via a group it is not in", "/d/associate?id=101&via=11", "not a member of group 11"},
		{"associate via not a number", "/d/associate?id=101&via=x", "positive whole number"},
		{"group id zero", "/d/group?id=0", "positive whole number"},
		{"group unknown parameter", "/d/group?id=20&members=1", "takes no parameter"},
		{"explain without who", "/d/explain?who=&action=read&type=contact", "Who: give an associate"},
		{"explain unknown name", "/d/explain?who=Nobody&action=read&type=contact", "no associate is named"},
		{"explain negative who", "/d/explain?who=-3&action=read&type=contact", "not a positive id"},
		{"explain bad action", "/d/explain?who=101&action=fly&type=contact", "not one of read, create, update, delete"},
		{"explain no type", "/d/explain?who=101&action=read&type=", "give a concrete type"},
		{"explain wildcard type", "/d/explain?who=101&action=read&type=*", "give a concrete type"},
		{"explain bad owner", "/d/explain?who=101&action=read&type=contact&owner=x", `&#34;owner&#34; must be a positive`},
		{"explain bad published", "/d/explain?who=101&action=read&type=contact&published=maybe", "not on or off"},
		{"explain bad visibility", "/d/explain?who=101&action=read&type=contact&visibility=nobody", "not one of all, group, associate"},
		{"explain unknown field", "/d/explain?who=101&action=read&type=contact&colour=red", "takes no parameter"},
		{"graph without associate", "/d/graph.svg", `&#34;associate&#34; is required`},
		{"graph via a group it is not in", "/d/graph.dot?associate=103&via=10", "not a member of group 10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, f.h, tc.path)
			if code != http.StatusBadRequest {
				t.Fatalf("GET %s: status %d, want 400:\n%s", tc.path, code, body)
			}
			if !strings.Contains(body, tc.want) {
				t.Errorf("GET %s: the 400 page lacks %q:\n%s", tc.path, tc.want, body)
			}
			if !strings.Contains(body, `role="alert"`) {
				t.Errorf("GET %s: the 400 page shows no alert", tc.path)
			}
		})
	}
	// Every problem of the explain form is listed at once.
	_, body := get(t, f.h, "/d/explain?who=&action=fly&type=&owner=x")
	for _, w := range []string{"Who:", "Action:", "Entity type:", "owner"} {
		if !strings.Contains(body, w) {
			t.Errorf("the explain form's problems lack %q", w)
		}
	}
}

func TestNotFoundAndMethods(t *testing.T) {
	f := newFixture(t, quickstart(), true)
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, "/d/associate?id=999", http.StatusNotFound},
		{http.MethodGet, "/d/group?id=999", http.StatusNotFound},
		{http.MethodGet, "/d/graph.svg?associate=999", http.StatusNotFound},
		{http.MethodGet, "/d/nope", http.StatusNotFound},
		{http.MethodPost, "/d/explain?who=101&action=read&type=contact", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/d/group?id=20", http.StatusMethodNotAllowed},
		{http.MethodHead, "/d/", http.StatusOK},
	} {
		if code, body := do(t, f.h, tc.method, tc.path); code != tc.code {
			t.Errorf("%s %s: status %d, want %d:\n%s", tc.method, tc.path, code, tc.code, body)
		}
	}
}

// hostile are names that try to break out of HTML, attributes, SVG and
// scripts, and Unicode that is valid but odd.
var hostile = []string{
	`<script>alert("a")</script>`,
	`"><img src=x onerror=alert(1)>`,
	`'; DROP TABLE associate; --`,
	"</title><b>bold</b>&amp;",
	"bidi \u202Eevil\u202C, e\u0301 and 🧑‍💼 zero\u200Bwidth",
}

func TestHostileNamesAreEscaped(t *testing.T) {
	b := quickstart()
	b.Associates[0].Name = hostile[0]
	b.Associates[1].Name = hostile[4]
	b.Groups[0].Name = hostile[1]
	b.Groups[1].Name = hostile[0] + "limited" // named by limit 1
	b.Groups[2].Name = hostile[3]
	b.Roles[0].Name = hostile[2]
	b.Categories[0].Name = hostile[1] + "cat"
	b.SharingRules[0].Name = hostile[0] + "rule"
	f := newFixture(t, b, true)
	paths := []string{
		"/d/",
		"/d/find?q=" + urlQuery("<script"),
		"/d/find?q=" + urlQuery(hostile[1]),
		"/d/associate?id=101",
		"/d/associate?id=102&via=31",
		"/d/associate?id=103",
		"/d/group?id=10",
		"/d/group?id=20",
		"/d/group?id=11",
		"/d/explain?who=103&action=update&type=sale&id=9",
		"/d/explain?who=" + urlQuery(hostile[0]) + "&action=update&type=" + urlQuery(hostile[1]) + "&owner=101&group=10",
		"/d/explain?who=" + urlQuery(hostile[1]) + "&action=read&type=contact",
		"/d/find?q=" + urlQuery(hostile[3]) + "&bad" + urlQuery(hostile[0]) + "=1",
		"/d/graph.svg?associate=101",
	}
	for _, path := range paths {
		code, body := get(t, f.h, path)
		if code >= 500 {
			t.Errorf("GET %s: status %d", path, code)
		}
		for _, raw := range []string{"<script", "<img", "<b>", "onerror=alert(1)>", `"a")`} {
			if strings.Contains(body, raw) {
				t.Errorf("GET %s shows %q unescaped", path, raw)
			}
		}
	}
	// The names are shown, escaped, not dropped.
	_, body := get(t, f.h, "/d/associate?id=101")
	for _, want := range []string{html.EscapeString(hostile[0]), html.EscapeString(hostile[1]), html.EscapeString(hostile[3])} {
		if !strings.Contains(body, want) {
			t.Errorf("the associate page lacks the escaped name %q", want)
		}
	}
	_, body = get(t, f.h, "/d/associate?id=102")
	if !strings.Contains(body, "\u202Eevil\u202C") || !strings.Contains(body, "🧑‍💼") {
		t.Error("the associate page lost the Unicode of a name")
	}
}

// urlQuery escapes s for a query string.
func urlQuery(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
		}
	}
	return b.String()
}

func TestWithoutStore(t *testing.T) {
	f := newFixture(t, quickstart(), false)
	for _, tc := range []struct {
		path, want string
		code       int
	}{
		{"/d/", "Counts need the store", http.StatusOK},
		{"/d/find?q=101", `href="associate?id=101">associate 101`, http.StatusOK},
		{"/d/find?q=20", `href="group?id=20">Sales (20)`, http.StatusOK},
		{"/d/find?q=Person", "No associate matches.", http.StatusOK},
		{"/d/associate?id=101", `Team A (10)</a> → <a href="group?id=20">Sales (20)</a>`, http.StatusOK},
		{"/d/group?id=20", "Needs the store.", http.StatusOK},
		{"/d/explain?who=102&action=read&type=contact&owner=101&group=10", `class="allow"`, http.StatusOK},
		{"/d/explain?who=Person+2&action=read&type=contact&owner=101&group=10", `class="allow"`, http.StatusOK},
		{"/d/explain?who=Nobody&action=read&type=contact", "no associate is named", http.StatusBadRequest},
		{"/d/find?q=Person+3", `href="associate?id=103">Person 3 (103)`, http.StatusOK},
		{"/d/find?q=Team+B", `href="group?id=11">Team B (11)`, http.StatusOK},
		{"/d/whatif?change=" + urlQuery(`{"Associates": [{"ID": 104, "Name": "Person 4", "Type": "internal", "PrimaryGroup": 10, "Role": 4, "Active": true}]}`), "Person 4 (104)", http.StatusOK},
	} {
		code, body := get(t, f.h, tc.path)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s: status %d (want %d), contains %q: %t:\n%s", tc.path, code, tc.code, tc.want, strings.Contains(body, tc.want), body)
		}
	}
	if n := f.store.calls.Load(); n != 1 {
		t.Errorf("pages without Options.Store read the store: %d calls, want 1 (the resolver's)", n)
	}
}

func TestStatusShowsRefreshError(t *testing.T) {
	f := newFixture(t, quickstart(), true)
	f.store.fail.Store(true)
	if err := f.r.Refresh(context.Background()); err == nil {
		t.Fatal("Refresh did not fail")
	}
	code, body := get(t, f.h, "/d/")
	if code != http.StatusOK {
		t.Fatalf("status page: %d, want 200 while the store fails", code)
	}
	for _, want := range []string{"store unreachable: connection refused", "Failed refreshes since the last success</th><td>1<"} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q:\n%s", want, body)
		}
	}
}

// TestModelFollowsResolver checks that names shown follow the store once
// the resolver has moved on, and not before.
func TestModelFollowsResolver(t *testing.T) {
	f := newFixture(t, quickstart(), true)
	ctx := context.Background()
	get(t, f.h, "/d/find?q=person")
	calls := f.store.calls.Load()
	get(t, f.h, "/d/find?q=person")
	if n := f.store.calls.Load(); n != calls {
		t.Errorf("a second page at the same revision read the store again (%d → %d calls)", calls, n)
	}
	a := quickstart().Associates[0]
	a.Name = "Renamed"
	if err := f.mem.PutAssociate(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := f.r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, f.h, "/d/find?q=renamed"); !strings.Contains(body, "Renamed (101)") {
		t.Errorf("find does not see the rename after the resolver did:\n%s", body)
	}
}

// FuzzQuery sends any query string to every page: none may fail with a
// server error, and nothing of the query may come back unescaped.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{"", "id=101", "q=person", "who=Person+2&action=update&type=contact&owner=101&group=10",
		"q=%ZZ", "q=%3Cscript%3E", "id=101&via=20", "associate=101", "q=a&q=b", "who=%00",
		"change=" + urlQuery(`{"Groups": [{"ID": 10, "Name": "<script>", "Groups": [20]}]}`)} {
		f.Add(s)
	}
	fx := newFixture(f, quickstart(), true)
	pages := []string{"", "find", "associate", "group", "explain", "whatif", "graph.svg", "graph.dot", "graph.mmd"}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, page := range pages {
			req := httptest.NewRequest(http.MethodGet, "http://debug.test/d/"+page, nil)
			req.URL.RawQuery = raw
			rec := httptest.NewRecorder()
			fx.h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("GET %s?%s: status %d:\n%s", page, raw, rec.Code, rec.Body)
			}
			if !strings.HasPrefix(page, "graph") && strings.Contains(rec.Body.String(), "<script") {
				t.Fatalf("GET %s?%s shows <script unescaped", page, raw)
			}
		}
	})
}

// TestSignInChannels: the associate page answers SignIn for the client and
// the API: an internal associate whose group grants backend-login may use
// both, an external one only the API.
func TestSignInChannels(t *testing.T) {
	b := quickstart()
	b.Associates = append(b.Associates, access.Associate{ID: 105, Name: "Partner", Type: access.External, Role: 1, Active: true, Company: 9})
	f := newFixture(t, b, true)
	for _, tc := range []struct {
		id          string
		client, api string
	}{
		{"101", "allowed", "allowed"},
		{"105", "refused", "allowed"},
	} {
		code, body := get(t, f.h, "/d/associate?id="+tc.id)
		if code != http.StatusOK {
			t.Fatalf("associate %s: %d", tc.id, code)
		}
		for ch, want := range map[string]string{"client": tc.client, "api": tc.api} {
			row := `<th scope="row">` + ch + `</th><td class="`
			i := strings.Index(body, row)
			if i < 0 {
				t.Fatalf("associate %s: no %s row in the channels table:\n%s", tc.id, ch, body)
			}
			if rest := body[i+len(row):]; !strings.Contains(rest[:min(len(rest), 40)], ">"+want+"<") {
				t.Errorf("associate %s, channel %s: %q, want %s", tc.id, ch, rest[:min(len(rest), 60)], want)
			}
		}
	}
}

// TestStatusShowsPool: with Options.Pool the status page shows the pool's
// resident tenants.
func TestStatusShowsPool(t *testing.T) {
	ctx := context.Background()
	mem := memory.New()
	if _, err := mem.Apply(ctx, quickstart()); err != nil {
		t.Fatal(err)
	}
	pool, err := access.NewPool(access.PoolOptions{Open: func(context.Context, string) (access.Store, error) { return mem, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for _, tenant := range []string{"acme", "globex"} {
		if _, err := pool.Get(ctx, tenant); err != nil {
			t.Fatal(err)
		}
	}
	r, err := pool.Get(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	h := accessdebug.New(r, func(*http.Request) error { return nil }, &accessdebug.Options{Pool: pool})
	_, body := get(t, h, "/d/")
	if !strings.Contains(body, `<td id="pool-resident">2</td>`) {
		t.Errorf("status page does not show 2 resident tenants:\n%s", body)
	}
	// The tenants, most recently used first: acme was asked for last.
	acme, globex := strings.Index(body, "<tr><td>acme</td>"), strings.Index(body, "<tr><td>globex</td>")
	if acme < 0 || globex < 0 || acme > globex || !strings.Contains(body, `<table id="tenants">`) {
		t.Errorf("status page does not list acme, then globex:\n%s", body)
	}
	_, body = get(t, accessdebug.New(r, func(*http.Request) error { return nil }, nil), "/d/")
	if !strings.Contains(body, "No tenant pool") {
		t.Errorf("status page without a pool:\n%s", body)
	}
}
