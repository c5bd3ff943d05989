package accessdebug_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/accessdebug"
	"github.com/crmaccess/access/store/memory"
)

// The pages are mounted under a prefix of the application's own mux,
// behind its admin check; here the check accepts a request that carries
// the application's admin token, and a request is made through httptest
// as a browser would make it.
func ExampleNew() {
	ctx := context.Background()
	store := memory.New()
	if _, err := store.Apply(ctx, access.Batch{
		Roles:      []access.Role{{ID: 1, Name: "Seller"}},
		Groups:     []access.Group{{ID: 10, Name: "Sales"}},
		Associates: []access.Associate{{ID: 101, Name: "Anna", PrimaryGroup: 10, Role: 1, Active: true}},
	}); err != nil {
		fmt.Println(err)
		return
	}
	r, err := access.NewResolver(ctx, store, &access.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()

	// requireAdmin stands for the application's own admin authentication.
	requireAdmin := func(req *http.Request) error {
		if req.Header.Get("X-Admin-Token") != "secret" {
			return errors.New("not an admin")
		}
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("/debug/access/", http.StripPrefix("/debug/access",
		accessdebug.New(r, requireAdmin, &accessdebug.Options{Store: store})))

	title := regexp.MustCompile(`<title>(.*)</title>`)
	for _, token := range []string{"secret", ""} {
		req := httptest.NewRequest(http.MethodGet, "/debug/access/", nil)
		req.Header.Set("X-Admin-Token", token)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Result().Body)
		if m := title.FindSubmatch(body); m != nil {
			fmt.Printf("%d %s\n", rec.Code, m[1])
		} else {
			fmt.Printf("%d (no page)\n", rec.Code)
		}
	}
	// Output:
	// 200 Resolver status · access debug
	// 403 (no page)
}
