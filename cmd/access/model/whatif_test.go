package model_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/accessdebug"
	"github.com/crmaccess/access/cmd/access/model"
	"github.com/crmaccess/access/store/memory"
)

// whatIfModel is a small organisation: anna in Oslo, bo in Bergen, and a
// Sales role that reads every contact.
const whatIfModel = `
roles:
  - name: Sales
    rights:
      contact: {owner: CRUD, other: R}
groups:
  - name: Oslo
  - name: Bergen
associates:
  - name: anna
    primary group: Oslo
    role: Sales
  - name: bo
    primary group: Bergen
    role: Sales
`

// loadModel puts a model file into a memory store.
func loadModel(ctx context.Context, text string) (*memory.Store, error) {
	f, err := model.Parse("model.yaml", []byte(text))
	if err != nil {
		return nil, err
	}
	s := memory.New()
	if _, _, err := model.Load(ctx, s, f); err != nil {
		return nil, err
	}
	return s, nil
}

// A model-file fragment put over what a store holds gives the batch to
// preview with Engine.WhatIf: here a limit that lets Bergen's members
// only read contacts, and a new group.
func ExampleFile_Change() {
	ctx := context.Background()
	s, err := loadModel(ctx, whatIfModel)
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := access.NewResolver(ctx, s, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()

	frag, err := model.Parse("change.yaml", []byte(`
groups:
  - name: Trondheim
limits:
  - group: Bergen
    type: contact
    max: R
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	d, err := s.Changes(ctx, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	change, err := frag.Change(&d.Batch)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("puts %d group (id %d), %d limit\n", len(change.Groups), change.Groups[0].ID, len(change.Limits))
	diff, err := e.WhatIf(ctx, change)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range diff.Associates {
		for _, r := range a.Rights {
			fmt.Printf("%s: %s\n", a.Name, r)
		}
	}
	// Output:
	// puts 1 group (id 3), 1 limit
	// bo: contact, limits: CRUD → R (-CUD)
}

// Example_debugPages mounts the debug pages with a what-if that reads
// model-file fragments: ChangeParser puts each over the store's model.
func Example_debugPages() {
	ctx := context.Background()
	s, err := loadModel(ctx, whatIfModel)
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := access.NewResolver(ctx, s, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	allowAll := func(*http.Request) error { return nil } // use the application's admin check
	h := accessdebug.New(e, allowAll, &accessdebug.Options{Store: s, ParseChange: model.ChangeParser(s)})

	fragment := "associates:\n  - name: bo\n    primary group: Oslo\n    role: Sales\n"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/whatif?change="+url.QueryEscape(fragment), nil))
	fmt.Println(rec.Code, strings.Contains(rec.Body.String(), "+ Oslo") || strings.Contains(rec.Body.String(), "&#43; Oslo"))
	// Output:
	// 200 true
}

// TestDebugPagesWhatIfFragment: the debug pages' what-if, given
// ParseChange from ChangeParser, previews a YAML fragment (and a JSON
// one), shows the difference, writes nothing, and answers a bad fragment
// with 400 and the place of the problem.
func TestDebugPagesWhatIfFragment(t *testing.T) {
	ctx := context.Background()
	s, err := loadModel(ctx, whatIfModel)
	if err != nil {
		t.Fatal(err)
	}
	e, err := access.NewResolver(ctx, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	srv := httptest.NewServer(accessdebug.New(e, func(*http.Request) error { return nil },
		&accessdebug.Options{Store: s, ParseChange: model.ChangeParser(s)}))
	defer srv.Close()
	rev := s.Revision()
	for _, tc := range []struct {
		name, change string
		code         int
		want         []string
	}{
		{"move bo", "associates:\n  - name: bo\n    primary group: Oslo\n    role: Sales\n", http.StatusOK,
			[]string{"bo (2)", "&#43; Oslo (1): primary group", "- Bergen (2): primary group"}},
		{"limit", "limits:\n  - group: Bergen\n    type: contact\n    max: R\n", http.StatusOK,
			[]string{"bo (2)", "contact, limits"}},
		{"JSON fragment", `{"associates": [{"name": "anna", "primary group": "Bergen", "role": "Sales"}]}`, http.StatusOK,
			[]string{"anna (1)", "&#43; Bergen (2): primary group"}},
		{"unchanged", "groups:\n  - name: Oslo\n", http.StatusOK, []string{"No difference"}},
		{"unknown group", "associates:\n  - name: bo\n    primary group: Nowhere\n", http.StatusBadRequest,
			[]string{"change.yaml:3:5", "no group is named &#34;Nowhere&#34;"}},
		{"JSON batch is no fragment", `{"DeleteGroups": [1]}`, http.StatusBadRequest,
			[]string{"cannot be read", "DeleteGroups"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Get(srv.URL + "/whatif?change=" + url.QueryEscape(tc.change))
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d:\n%s", resp.StatusCode, tc.code, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("the page lacks %q:\n%s", w, body)
				}
			}
		})
	}
	if s.Revision() != rev {
		t.Errorf("the what-if page wrote: revision %d → %d", rev, s.Revision())
	}
}
