package accessdebug_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestWhatIfPage previews changes on the what-if page: the difference is
// shown, nothing is written, and bad or refused changes are a 400 that
// says why.
func TestWhatIfPage(t *testing.T) {
	f := newFixture(t, quickstart(), true)
	before, rev := f.mem.Revision(), f.r.Revision()
	// Person 3 moves to Team A: gains Team A, keeps Sales through it.
	move := `{"Associates": [{"ID": 103, "Name": "Person 3", "Type": "internal",
	"PrimaryGroup": 10, "Role": 3, "Active": true}]}`
	hostileName := strings.ReplaceAll(hostile[0], `"`, `\"`)
	newcomer := `{"Associates": [{"ID": 105, "Name": "` + hostileName + `", "Type": "internal", "PrimaryGroup": 20, "Role": 1, "Active": true}]}`
	tests := []struct {
		name   string
		change string
		code   int
		want   []string
	}{
		{"form", "", http.StatusOK, []string{`<textarea id="change" name="change"`, "Nothing is written"}},
		{"move", move, http.StatusOK, []string{`id="diff"`, "Person 3 (103)", "&#43; Team A (10): primary group", "- Team B (11): primary group"}},
		{"no difference", `{"Groups": [{"ID": 10, "Name": "Team A"}]}`, http.StatusOK, []string{"No difference"}},
		{"long and multi-line", move + strings.Repeat(" \n", 400), http.StatusOK, []string{"Person 3 (103)"}},
		{"hostile name", newcomer, http.StatusOK, []string{"&lt;script&gt;", "&#43; Sales (20)"}},
		{"a limit on one record", `{"Limits": [{"ID": 3, "Group": 10, "EntityType": "contact", "RecordID": 7, "Max": "R"}]}`, http.StatusOK,
			[]string{"Person 1 (101)", "contact, limit 3 on record 7: CRUD → R (-CUD)"}},
		{"a limit on unrelated records", `{"Limits": [{"ID": 3, "Group": 11, "EntityType": "*", "Max": "R", "Scope": "unrelated records"}]}`, http.StatusOK,
			[]string{"Person 3 (103)", "*, limit 3 on unrelated records: CRUD → R (-CUD)"}},
		{"not JSON", "groups: [Sales]", http.StatusBadRequest, []string{"not a batch in JSON"}},
		{"unknown field", `{"Gropus": []}`, http.StatusBadRequest, []string{"not a batch in JSON", "Gropus"}},
		{"trailing data", move + " {}", http.StatusBadRequest, []string{"more follows the batch"}},
		{"refused: a cycle", `{"Groups": [{"ID": 10, "Name": "Team A", "Groups": [20]}]}`, http.StatusBadRequest, []string{"A store would refuse this change", "cycle"}},
		{"refused: in use", `{"DeleteGroups": [10]}`, http.StatusBadRequest, []string{"A store would refuse this change", "in use"}},
		{"control character", "{\x01}", http.StatusBadRequest, []string{"control character"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := "/d/whatif"
			if tc.change != "" {
				path += "?change=" + urlQuery(tc.change)
			}
			code, body := get(t, f.h, path)
			if code != tc.code {
				t.Fatalf("GET what-if %s: status %d, want %d:\n%s", tc.name, code, tc.code, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET what-if %s lacks %q:\n%s", tc.name, w, body)
				}
			}
			if strings.Contains(body, "<script") {
				t.Errorf("GET what-if %s shows a name unescaped", tc.name)
			}
		})
	}
	if f.mem.Revision() != before || f.r.Revision() != rev {
		t.Errorf("the what-if page wrote: store revision %d → %d, resolver %d → %d", before, f.mem.Revision(), rev, f.r.Revision())
	}
	if code, _ := do(t, f.h, http.MethodPost, "/d/whatif?change="+urlQuery(move)); code != http.StatusMethodNotAllowed {
		t.Errorf("POST what-if: status %d, want 405", code)
	}
}

// FuzzChange sends any text as the what-if page's change, the JSON batch
// its parser reads: the page answers 200 or 400, never a server error,
// shows nothing of the text unescaped, and writes nothing.
func FuzzChange(f *testing.F) {
	for _, s := range []string{
		"",
		`{}`,
		`{"Groups": [{"ID": 20, "Name": "Sales", "Groups": [10, 11]}]}`,
		`{"Associates": [{"ID": 103, "Name": "Person 3", "Type": "internal", "PrimaryGroup": 10, "Role": 3, "Active": true}]}`,
		`{"Associates": [{"ID": 105, "Name": "<script>alert(1)</script>", "Type": "internal", "PrimaryGroup": 20, "Role": 1, "Active": true}]}`,
		`{"Groups": [{"ID": 10, "Name": "Team A", "Groups": [20]}]}`,
		`{"DeleteGroups": [10]}`,
		`{"Limits": [{"ID": 3, "Group": 10, "EntityType": "*", "Max": "R"}]}`,
		`{"Roles": [{"ID": 1, "Name": "Sales", "Rights": {"*": {"owner": "CRUD"}}}]}`,
		`{"Gropus": []}`,
		`{"Groups": [{"ID": -1}]} {}`,
		`[1, 2`,
		"{\"Groups\": [{\"ID\": 10, \"Name\": \"\\u0000\"}]}",
	} {
		f.Add(s)
	}
	fx := newFixture(f, quickstart(), true)
	before, rev := fx.mem.Revision(), fx.r.Revision()
	f.Fuzz(func(t *testing.T, change string) {
		req := httptest.NewRequest(http.MethodGet, "http://debug.test/d/whatif", nil)
		req.URL.RawQuery = url.Values{"change": {change}}.Encode()
		rec := httptest.NewRecorder()
		fx.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("what-if %q: status %d, want 200 or 400:\n%s", change, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), "<script") {
			t.Fatalf("what-if %q shows <script unescaped", change)
		}
		if fx.mem.Revision() != before || fx.r.Revision() != rev {
			t.Fatalf("what-if %q wrote: store revision %d → %d, resolver %d → %d", change, before, fx.mem.Revision(), rev, fx.r.Revision())
		}
	})
}
