package accesshttp_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

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
