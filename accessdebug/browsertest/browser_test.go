package browsertest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/accessdebug"
	"github.com/crmaccess/access/store/memory"
)

var update = flag.Bool("update", false, "rewrite the screenshots under accessdebug/testdata")

// chromium is where Debian's chromium package installs the browser; .ci/run
// installs it.
const chromium = "/usr/bin/chromium"

// noBrowser ends a test that found no browser: on CI (CI=true, which
// .ci/run and the usual CI services set) it fails, because CI always
// installs one and a skip there would hide that the pages went untested;
// elsewhere it skips, so the suite runs on a machine without chromium.
func noBrowser(t testing.TB, err error) {
	t.Helper()
	msg := fmt.Sprintf("no browser: %v (.ci/run installs Debian's chromium)", err)
	if onCI() {
		t.Fatal(msg + "; on CI (CI=true) a missing browser is a failure, not a skip")
	} else {
		t.Skip(msg)
	}
}

// onCI reports whether the environment says it is CI: CI set to a true
// value (true, 1, …).
func onCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// quickstart is the organisation of examples/quickstart.
func quickstart() access.Batch {
	seller := access.Grid{access.Owner: access.LevelFull, access.PrimaryGroup: access.LevelUpdate, access.OtherGroup: access.LevelRead}
	rights := map[string]access.Grid{access.Wildcard: seller}
	return access.Batch{
		Roles: []access.Role{
			{ID: 1, Name: "Sales", Rights: rights},
			{ID: 2, Name: "Sales Assistant", Parent: 1, Rights: rights},
			{ID: 3, Name: "Marketing", Rights: rights},
			{ID: 4, Name: "Marketing Assistant", Parent: 3, Rights: rights},
		},
		Groups: []access.Group{
			{ID: 10, Name: "Team A"},
			{ID: 11, Name: "Team B"},
			{ID: 20, Name: "Sales", Groups: []access.GroupID{10, 11}},
			{ID: 30, Name: "Sales and Marketing", Roles: []access.RoleID{1, 3}},
			{ID: 31, Name: "Sales and Marketing, with assistants", RolesAndSubordinates: []access.RoleID{1, 3}},
			{ID: 40, Name: "Berlin office", Smart: `attr.city == "Berlin"`},
		},
		Associates: []access.Associate{
			{ID: 101, Name: "Person 1", PrimaryGroup: 10, Role: 1, Active: true, Attributes: map[string]string{"city": "Berlin"}},
			{ID: 102, Name: "Person 2", PrimaryGroup: 10, Role: 2, Active: true},
			{ID: 103, Name: "Person 3", PrimaryGroup: 11, Role: 3, Active: true},
			{ID: 104, Name: "Person 4", PrimaryGroup: 11, Role: 4, Active: true, Attributes: map[string]string{"city": "Berlin"}},
		},
	}
}

// serve starts the debug pages for the quickstart organisation on
// 127.0.0.1, mounted as an application would, and returns their base URL.
func serve(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	store := memory.New()
	if _, err := store.Apply(ctx, quickstart()); err != nil {
		t.Fatal(err)
	}
	r, err := access.NewResolver(ctx, store, &access.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	// The application's check: here, only requests from this machine.
	local := func(req *http.Request) error {
		host, _, err := net.SplitHostPort(req.RemoteAddr)
		if err != nil || !net.ParseIP(host).IsLoopback() {
			return http.ErrAbortHandler
		}
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("/debug/access/", http.StripPrefix("/debug/access", accessdebug.New(r, local, &accessdebug.Options{Store: store})))
	srv := httptest.NewUnstartedServer(mux)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL + "/debug/access/"
}

// browser starts a headless chromium with a fresh profile. When none is
// installed the test skips, except on CI (see noBrowser).
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		noBrowser(t, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// A page restored from the back/forward cache keeps its old DOM
		// without the events chromedp tracks documents by.
		chromedp.Flag("disable-features", "BackForwardCache,Translate"),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.WindowSize(1100, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1100, 900)); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs one action that returns a value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return strings.TrimSpace(get(t, ctx, "reading "+sel, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible)))
}

func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	return len(get(t, ctx, "finding "+sel, chromedp.Nodes(chromedp.CSSAll(sel))))
}

// highlighted returns the ids of the highlighted nodes and edges of the
// page's SVG, sorted.
func highlighted(t *testing.T, ctx context.Context) (nodes, edges []string) {
	t.Helper()
	run(t, ctx, "waiting for the SVG", chromedp.WaitReady(chromedp.CSS(`figure svg`)))
	// Every node and edge of the graph, highlighted or not, is queried
	// from the DOM the browser built, so an SVG it could not parse fails.
	if n := count(t, ctx, `figure svg g.node`); n < 2 {
		t.Errorf("the SVG has %d nodes", n)
	}
	ns := get(t, ctx, "highlighted nodes", chromedp.Nodes(chromedp.CSSAll(`figure svg g.node.hl`), chromedp.AtLeast(0)))
	es := get(t, ctx, "highlighted edges", chromedp.Nodes(chromedp.CSSAll(`figure svg g.edge.hl`), chromedp.AtLeast(0)))
	for _, n := range ns {
		nodes = append(nodes, n.AttributeValue("data-node"))
	}
	for _, e := range es {
		edges = append(edges, e.AttributeValue("data-from")+"->"+e.AttributeValue("data-to"))
	}
	slices.Sort(nodes)
	slices.Sort(edges)
	return nodes, edges
}

// screenshot captures the whole page, checks that it is not blank and,
// with -update, writes it to accessdebug/testdata/name.png.
func screenshot(t *testing.T, ctx context.Context, name string, keep bool) {
	t.Helper()
	buf := get(t, ctx, "screenshot of "+name, chromedp.FullScreenshot(100))
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		t.Fatalf("screenshot of %s is not a PNG: %v", name, err)
	}
	colours, ink := paint(img)
	b := img.Bounds()
	if colours < 8 || ink*200 < b.Dx()*b.Dy() {
		t.Errorf("screenshot of %s looks blank: %d colours, %d of %d pixels not white", name, colours, ink, b.Dx()*b.Dy())
	}
	if *update && keep {
		path := filepath.Join("..", "testdata", name+".png")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// paint counts an image's distinct colours and its pixels that are not
// (nearly) white.
func paint(img image.Image) (colours, ink int) {
	seen := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			if r>>8 < 240 || g>>8 < 240 || bl>>8 < 240 {
				ink++
			}
		}
	}
	return len(seen), ink
}

func TestPagesInBrowser(t *testing.T) {
	base := serve(t)
	ctx := browser(t)

	// Status.
	run(t, ctx, "status", chromedp.Navigate(base), chromedp.WaitVisible(chromedp.CSS(`#ready`)))
	if got := text(t, ctx, "#ready"); got != "ready" {
		t.Errorf("status says %q, want ready", got)
	}
	screenshot(t, ctx, "status", false)

	// Find, by typing into the form as a person would.
	run(t, ctx, "find",
		chromedp.Click(chromedp.CSS(`a[href="find"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#q`)),
		chromedp.SendKeys(chromedp.CSS(`#q`), "person"),
		chromedp.Submit(chromedp.CSS(`#q`)),
		chromedp.WaitVisible(chromedp.CSS(`#associates`)))
	if n := count(t, ctx, `#associates a`); n != 4 {
		t.Errorf("find person: %d associates, want 4", n)
	}
	screenshot(t, ctx, "find", false)

	// Associate, from the search result; its graph highlights the longest
	// path, Person 1 → Team A → Sales.
	run(t, ctx, "open Person 1",
		chromedp.Click(chromedp.CSS(`#associates a[href="associate?id=101"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#signin`)))
	if got := text(t, ctx, "h1"); got != "Associate Person 1 (101)" {
		t.Errorf("associate page heading %q", got)
	}
	nodes, edges := highlighted(t, ctx)
	if want := []string{"a101", "g10", "g20"}; !slices.Equal(nodes, want) {
		t.Errorf("highlighted nodes %v, want %v", nodes, want)
	}
	if want := []string{"a101->g10", "g10->g20"}; !slices.Equal(edges, want) {
		t.Errorf("highlighted edges %v, want %v", edges, want)
	}
	if n := count(t, ctx, `#groups tr`); n != 1+5 {
		t.Errorf("Person 1's groups table has %d rows, want a header and 5 groups", n)
	}
	screenshot(t, ctx, "associate", false)

	// Associate → group → back, by the links and by the browser's Back.
	run(t, ctx, "open Sales from Person 1",
		chromedp.Click(chromedp.CSS(`#groups a[href="group?id=20"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#members`)))
	if got := text(t, ctx, "h1"); got != "Group Sales (20)" {
		t.Errorf("group page heading %q", got)
	}
	if n := count(t, ctx, `#members a`); n != 4 {
		t.Errorf("Sales has %d members on its page, want 4", n)
	}
	if got := text(t, ctx, "#matrix"); !strings.Contains(got, "Sales (1)") || !strings.Contains(got, "CRUD") {
		t.Errorf("Sales' permissions matrix lacks the Sales role's row: %q", got)
	}
	if nodes, _ := highlighted(t, ctx); !slices.Equal(nodes, []string{"g20"}) {
		t.Errorf("the group graph highlights %v, want the group itself", nodes)
	}
	screenshot(t, ctx, "group", false)
	run(t, ctx, "back to Person 2 from Sales",
		chromedp.Click(chromedp.CSS(`#members a[href="associate?id=102"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#signin`)))
	if got := text(t, ctx, "#name"); got != "Person 2" {
		t.Errorf("the member link led to %q, want Person 2", got)
	}
	// The browser's Back button. The back/forward cache is off (see
	// browser), so going back loads the page again, as it does for an
	// admin whose browser keeps no copy of a no-store page.
	run(t, ctx, "browser back", chromedp.NavigateBack(), chromedp.WaitVisible(chromedp.CSS(`#members`)))
	if got := text(t, ctx, "h1"); got != "Group Sales (20)" {
		t.Errorf("Back led to %q, want the Sales page", got)
	}
	run(t, ctx, "browser back again", chromedp.NavigateBack(), chromedp.WaitVisible(chromedp.CSS(`#signin`)))
	if got := text(t, ctx, "#name"); got != "Person 1" {
		t.Errorf("Back again led to %q, want Person 1", got)
	}

	// Person 2's membership of group 31 goes through the role tree: its
	// role Sales Assistant is below Sales, which the group lists.
	run(t, ctx, "Person 2, path to group 31",
		chromedp.Navigate(base+"associate?id=102"),
		chromedp.WaitVisible(chromedp.CSS(`#groups`)),
		chromedp.Click(chromedp.CSS(`#groups a[href="associate?id=102&via=31#graph"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#highlighted`)))
	nodes, edges = highlighted(t, ctx)
	if want := []string{"a102", "g31", "r1", "r2"}; !slices.Equal(nodes, want) {
		t.Errorf("highlighted nodes %v, want %v", nodes, want)
	}
	if want := []string{"a102->r2", "r1->g31", "r2->r1"}; !slices.Equal(edges, want) {
		t.Errorf("highlighted edges %v, want %v", edges, want)
	}
	if got := text(t, ctx, "#highlighted"); !strings.Contains(got, "Sales Assistant (2) ⊂ Sales (1)") {
		t.Errorf("the highlighted path is described as %q", got)
	}
	run(t, ctx, "Person 1 for the picture", chromedp.Navigate(base+"associate?id=101"), chromedp.WaitVisible(chromedp.CSS(`#signin`)))
	screenshot(t, ctx, "associate", true)

	// Explain: fill in the form, submit it, read the answer.
	run(t, ctx, "explain form",
		chromedp.Click(chromedp.CSS(`a[href="explain"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#who`)),
		chromedp.SendKeys(chromedp.CSS(`#who`), "Person 2"),
		chromedp.SetValue(chromedp.CSS(`#action`), "update"),
		chromedp.SendKeys(chromedp.CSS(`#type`), "contact"),
		chromedp.SendKeys(chromedp.CSS(`#owner`), "101"),
		chromedp.SendKeys(chromedp.CSS(`#group`), "10"),
		chromedp.Click(chromedp.CSS(`#submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#verdict`)))
	if got := text(t, ctx, "#verdict"); got != "allow" {
		t.Errorf("Person 2 may update Person 1's contact in Team A: verdict %q, want allow", got)
	}
	if got := text(t, ctx, "#causes"); !strings.Contains(got, "role Sales Assistant (2), relation primary group: CRU") {
		t.Errorf("the causes do not name the role cell: %q", got)
	}
	if n := count(t, ctx, `#whocan tr`); n != 1+2 {
		t.Errorf("who can update: %d rows, want a header, Person 1 and Person 2", n)
	}
	screenshot(t, ctx, "explain", true)

	// A denial, and a bad form.
	run(t, ctx, "explain a denial",
		chromedp.Navigate(base+"explain?who=103&action=update&type=contact&owner=101&group=10"),
		chromedp.WaitVisible(chromedp.CSS(`#verdict`)))
	if got := text(t, ctx, "#verdict"); got != "deny" {
		t.Errorf("Person 3 may not update it: verdict %q, want deny", got)
	}
	run(t, ctx, "explain with bad input",
		chromedp.Navigate(base+"explain?who=Nobody&action=fly&type=contact"),
		chromedp.WaitVisible(chromedp.CSS(`#problems`)))
	if got := text(t, ctx, "#problems"); !strings.Contains(got, "no associate is named") || !strings.Contains(got, "not one of read") {
		t.Errorf("the bad form's problems: %q", got)
	}

	// What-if: paste a change (Person 3 moves to Team A), preview it, read
	// the difference from the DOM; nothing is written.
	run(t, ctx, "what-if form",
		chromedp.Click(chromedp.CSS(`a[href="whatif"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#change`)),
		chromedp.SendKeys(chromedp.CSS(`#change`), `{"Associates": [{"ID": 103, "Name": "Person 3", "Type": "internal", "PrimaryGroup": 10, "Role": 3, "Active": true}]}`),
		chromedp.Click(chromedp.CSS(`#submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#diff`)))
	if got := text(t, ctx, "#diff"); !strings.Contains(got, "Person 3 (103)") || !strings.Contains(got, "+ Team A (10)") || !strings.Contains(got, "- Team B (11)") {
		t.Errorf("the what-if difference: %q", got)
	}
	if got := text(t, ctx, "#counts"); !strings.Contains(got, "1 associates") {
		t.Errorf("the what-if counts: %q", got)
	}
	screenshot(t, ctx, "whatif", false)
	run(t, ctx, "Person 3 unchanged",
		chromedp.Navigate(base+"associate?id=103"),
		chromedp.WaitVisible(chromedp.CSS(`#groups`)))
	if n := count(t, ctx, `#groups a[href="group?id=11"]`); n == 0 {
		t.Error("after the what-if, Person 3 is no longer in Team B: the preview wrote")
	}
	run(t, ctx, "what-if refused",
		chromedp.Navigate(base+"whatif?change="+url.QueryEscape(`{"DeleteGroups": [10]}`)),
		chromedp.WaitVisible(chromedp.CSS(`#problem`)))
	if got := text(t, ctx, "#problem"); !strings.Contains(got, "in use") {
		t.Errorf("the refused change's problem: %q", got)
	}
}

// TestPaintSeesBlank checks the blank-page check itself: a white page and a
// page of one colour fail it, a page with a few shapes passes.
func TestPaintSeesBlank(t *testing.T) {
	white := image.NewRGBA(image.Rect(0, 0, 100, 100))
	for i := range white.Pix {
		white.Pix[i] = 0xff
	}
	if colours, ink := paint(white); colours != 1 || ink != 0 {
		t.Errorf("white page: %d colours, %d inked pixels; want 1 and 0", colours, ink)
	}
	drawn := image.NewRGBA(white.Rect)
	copy(drawn.Pix, white.Pix)
	for i := range 20 {
		for x := range 50 {
			drawn.Set(x, i*4, color.RGBA{uint8(i * 10), 0x40, 0x80, 0xff})
		}
	}
	if colours, ink := paint(drawn); colours < 8 || ink != 20*50 {
		t.Errorf("drawn page: %d colours, %d inked pixels; want ≥ 8 and 1000", colours, ink)
	}
}

// endRecorder records how a test would end, instead of ending it.
type endRecorder struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (r *endRecorder) Helper()           {}
func (r *endRecorder) Fatal(args ...any) { r.failed, r.msg = true, fmt.Sprint(args...) }
func (r *endRecorder) Skip(args ...any)  { r.skipped, r.msg = true, fmt.Sprint(args...) }

// TestNoBrowserFailsOnCI: without a browser the browser tests fail on CI
// and skip elsewhere.
func TestNoBrowserFailsOnCI(t *testing.T) {
	missing := errors.New("stat /usr/bin/chromium: no such file or directory")
	for _, tc := range []struct {
		ci   string
		fail bool
	}{
		{"true", true},
		{"1", true},
		{"", false},
		{"false", false},
	} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			var r endRecorder
			noBrowser(&r, missing)
			if r.failed != tc.fail || r.skipped == tc.fail {
				t.Errorf("CI=%q: failed %t, skipped %t; want failed %t", tc.ci, r.failed, r.skipped, tc.fail)
			}
			if !strings.Contains(r.msg, "no browser: "+missing.Error()) {
				t.Errorf("CI=%q: the message %q does not say the browser is missing", tc.ci, r.msg)
			}
		})
	}
}
