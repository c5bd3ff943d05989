// Command crmapi is a small CRM HTTP API guarded by the access library:
// contacts and tickets in the application's own tables, a paged contact
// list filtered in SQL, administrator endpoints that explain a decision
// ("why") and list who may act on a contact ("who can"), and an admin
// write that adds a user to a group. It runs as two replicas, each with
// its own resolver and connection pool, and drives itself with an HTTP
// client, printing each request and its answer.
//
// With ACCESS_TEST_POSTGRES_DSN set it runs on PostgreSQL, in a temporary
// schema that it drops before it exits; otherwise on an SQLite file in a
// temporary directory.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/accesshttp"
	"github.com/crmaccess/access/store/postgres"
	"github.com/crmaccess/access/store/sqlite"
)

// glue: accessStore is what a replica needs of the store it writes the access
// model through; store/postgres and store/sqlite both have it.
type accessStore interface {
	access.Store
	Apply(context.Context, access.Batch) (access.Revision, error)
	Migrate(context.Context) error
	Close()
}

// replica opens one replica's store and its own pool for the
// application's tables, on the same database.
type replica func(ctx context.Context) (accessStore, *sql.DB, error)

func main() {
	ctx := context.Background()
	open, dialect, cleanup, err := database(ctx, os.Getenv("ACCESS_TEST_POSTGRES_DSN"))
	if err != nil {
		log.Fatal(err)
	}
	defer cleanup()
	if err := run(ctx, open, dialect); err != nil {
		cleanup()
		log.Fatal(err)
	}
}

// database chooses PostgreSQL when a DSN is given, SQLite otherwise.
func database(ctx context.Context, dsn string) (replica, access.Dialect, func(), error) {
	if dsn == "" {
		dir, err := os.MkdirTemp("", "crmapi")
		if err != nil {
			return nil, 0, nil, err
		}
		path := filepath.Join(dir, "crm.db")
		open := func(ctx context.Context) (accessStore, *sql.DB, error) {
			s, err := sqlite.Open(ctx, path, nil)
			if err != nil {
				return nil, nil, err
			}
			return s, s.DB(), nil
		}
		return open, access.SQLite, func() { os.RemoveAll(dir) }, nil
	}
	// A schema of our own, so that the example never touches other data.
	b := make([]byte, 4)
	rand.Read(b)
	schema := "crmapi_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("connecting: %w", err)
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		conn.Close(ctx)
		return nil, 0, nil, err
	}
	cleanup := func() {
		conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
		conn.Close(context.Background())
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		cleanup()
		return nil, 0, nil, fmt.Errorf("the example needs a URL DSN (postgres://…): %q", dsn)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	open := func(ctx context.Context) (accessStore, *sql.DB, error) {
		s, err := postgres.Open(ctx, u.String(), nil)
		if err != nil {
			return nil, nil, err
		}
		return s, stdlib.OpenDBFromPool(s.Pool()), nil
	}
	return open, access.PostgreSQL, cleanup, nil
}

const (
	oslo, stockholm, keyAccounts access.GroupID = 10, 20, 30

	anna, bo, cy, pia, erp access.AssociateID = 101, 102, 103, 201, 301

	escalations access.CategoryID = 1
)

// organisation is the access model: who works where, and what each role
// may do with contacts and tickets.
var organisation = access.Batch{
	Roles: []access.Role{
		{ID: 1, Name: "Sales admin", Functions: []string{access.FuncAdmin}, Rights: map[string]access.Grid{
			access.Wildcard: {access.Owner: access.LevelFull, access.Team: access.LevelFull, access.PrimaryGroup: access.LevelFull,
				access.OtherGroup: access.LevelFull, access.Subordinate: access.LevelFull, access.CategoryMember: access.LevelFull, access.Other: access.LevelFull}}},
		{ID: 2, Name: "Seller", Parent: 1, Rights: map[string]access.Grid{
			"contact": {access.Owner: access.LevelFull, access.Team: access.LevelFull, access.PrimaryGroup: access.LevelFull,
				access.OtherGroup: access.LevelUpdate, access.Subordinate: access.LevelRead, access.Other: access.LevelRead},
			"ticket": {access.Owner: access.LevelFull, access.PrimaryGroup: access.LevelUpdate, access.OtherGroup: access.LevelUpdate,
				access.CategoryMember: access.LevelUpdate}}},
		{ID: 3, Name: "Partner", Rights: map[string]access.Grid{
			access.Wildcard: {access.Owner: access.LevelFull, access.MyCompany: access.LevelRead}}},
		{ID: 4, Name: "Integration"},
	},
	Groups: []access.Group{{ID: oslo, Name: "Oslo"}, {ID: stockholm, Name: "Stockholm"}, {ID: keyAccounts, Name: "Key accounts"}},
	Associates: []access.Associate{
		{ID: anna, Name: "anna", PrimaryGroup: oslo, Role: 1, Active: true},
		{ID: bo, Name: "bo", PrimaryGroup: oslo, Groups: []access.GroupID{keyAccounts}, Role: 2, Active: true, ServiceLogin: 1},
		{ID: cy, Name: "cy", PrimaryGroup: stockholm, Role: 2, Active: true, ServiceLogin: 2},
		{ID: pia, Name: "pia", Type: access.External, Company: 500, Role: 3, Active: true},
		{ID: erp, Name: "erp-sync", Type: access.System, Role: 4, Active: true},
	},
	// Escalated tickets are for the key-account team only.
	Categories: []access.Category{{ID: escalations, Name: "Escalations", MembersOnly: true, Groups: []access.GroupID{keyAccounts}}},
}

// schema is the application's own tables, indexed on the columns the
// list filter reads.
const schema = `
CREATE TABLE contact (id bigint PRIMARY KEY, name text NOT NULL, owner_id bigint NOT NULL, group_id bigint NOT NULL,
	team_id bigint NOT NULL DEFAULT 0, company_id bigint NOT NULL, published boolean NOT NULL DEFAULT false);
CREATE INDEX contact_owner ON contact (owner_id);
CREATE INDEX contact_group ON contact (group_id);
CREATE INDEX contact_team ON contact (team_id);
CREATE TABLE ticket (id bigint PRIMARY KEY, contact_id bigint NOT NULL REFERENCES contact, title text NOT NULL,
	owner_id bigint NOT NULL, group_id bigint NOT NULL, category_id bigint NOT NULL DEFAULT 0);
INSERT INTO contact VALUES
	(1, 'Acme', 102, 10, 0, 500, true),
	(2, 'Globex', 103, 20, 0, 501, false),
	(3, 'Initech', 102, 10, 30, 500, false),
	(4, 'Umbrella', 101, 10, 0, 502, false),
	(5, 'Hooli', 103, 20, 0, 500, true),
	(6, 'Stark', 102, 10, 0, 503, false),
	(7, 'Wayne', 103, 20, 0, 504, false);
INSERT INTO ticket VALUES
	(1, 1, 'Invoice is wrong', 102, 10, 0),
	(2, 2, 'Cannot log in', 103, 20, 0),
	(3, 3, 'Outage at HQ', 102, 10, 1)`

func run(ctx context.Context, open replica, dialect access.Dialect) error {
	storeA, dbA, err := open(ctx)
	if err != nil {
		return err
	}
	defer storeA.Close()
	if err := storeA.Migrate(ctx); err != nil {
		return err
	}
	if _, err := storeA.Apply(ctx, organisation); err != nil {
		return err
	}
	if _, err := dbA.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("creating the application's tables: %w", err)
	}
	// Replica B: another store with its own pool, as in another process.
	storeB, dbB, err := open(ctx)
	if err != nil {
		return err
	}
	defer storeB.Close()

	servers := map[string]string{}
	for _, rep := range []struct {
		name  string
		store accessStore
		db    *sql.DB
	}{{"A", storeA, dbA}, {"B", storeB, dbB}} {
		eng, err := access.NewResolver(ctx, rep.store, &access.Options{EntityTypes: []string{"contact", "ticket"}})
		if err != nil {
			return err
		}
		defer eng.Close()
		srv := httptest.NewServer((&service{eng: eng, model: rep.store, db: rep.db, dialect: dialect}).handler())
		defer srv.Close()
		servers[rep.name] = srv.URL
	}

	// The tour. The client keeps the last revision an answer carried: an
	// admin screen sends it back as If-Match, and a request after a write
	// sends it in Access-Revision to whichever replica it reaches.
	var revision, stale string
	for _, c := range []struct {
		what, replica, method, path, user, body string
		ifMatch                                 string // "seen" or "stale": which revision the admin's screen shows
		carry                                   bool
	}{
		{what: "bo reads his contact", replica: "A", method: "GET", path: "/contacts/1", user: "bo"},
		{what: "cy reads it (other group: read only)", replica: "A", method: "GET", path: "/contacts/1", user: "cy"},
		{what: "cy renames it", replica: "A", method: "PUT", path: "/contacts/1", user: "cy", body: `{"name":"Acme Inc"}`},
		{what: "bo lists the contacts, first page", replica: "A", method: "GET", path: "/contacts", user: "bo"},
		{what: "bo follows the next link", replica: "B", method: "GET", path: "/contacts?after=3&limit=3", user: "bo"},
		{what: "pia (a partner at company 500) lists them: published ones of her company", replica: "B", method: "GET", path: "/contacts?limit=10", user: "pia"},
		{what: "bo reads an escalated ticket (key accounts)", replica: "A", method: "GET", path: "/tickets/3", user: "bo"},
		{what: "anna reads it (full rights, but not on the team)", replica: "A", method: "GET", path: "/tickets/3", user: "anna"},
		{what: "the ERP integration reads it", replica: "A", method: "GET", path: "/tickets/3", user: "erp-sync"},
		{what: "a ticket that does not exist", replica: "A", method: "GET", path: "/tickets/9", user: "bo"},
		{what: "nobody signed in", replica: "A", method: "GET", path: "/contacts/1"},
		{what: "an unknown user", replica: "A", method: "GET", path: "/contacts/1", user: "mallory"},
		{what: "bo asks why (not an admin)", replica: "A", method: "GET", path: "/admin/why?who=cy&contact=1&action=update", user: "bo"},
		{what: "anna asks why cy may not rename contact 1", replica: "A", method: "GET", path: "/admin/why?who=cy&contact=1&action=update", user: "anna"},
		{what: "anna asks who may update contact 1", replica: "A", method: "GET", path: "/admin/who-can?contact=1&action=update", user: "anna"},
		{what: "anna adds cy to Oslo, from the revision she read", replica: "A", method: "POST", path: "/admin/groups/Oslo/members", user: "anna", body: `{"user":"cy"}`, ifMatch: "seen"},
		{what: "an admin write that says nothing of the revision it read", replica: "A", method: "POST", path: "/admin/groups/Oslo/members", user: "anna", body: `{"user":"bo"}`},
		{what: "an admin screen drawn before that write adds bo", replica: "A", method: "POST", path: "/admin/groups/Oslo/members", user: "anna", body: `{"user":"bo"}`, ifMatch: "stale"},
		{what: "cy renames contact 1 on replica B, carrying the revision", replica: "B", method: "PUT", path: "/contacts/1", user: "cy", body: `{"name":"Acme Inc"}`, carry: true},
		{what: "anna asks why again, on replica B", replica: "B", method: "GET", path: "/admin/why?who=cy&contact=1&action=update", user: "anna", carry: true},
	} {
		fmt.Println(c.what + ":")
		req, err := http.NewRequestWithContext(ctx, c.method, servers[c.replica]+c.path, strings.NewReader(c.body))
		if err != nil {
			return err
		}
		if c.user != "" {
			req.Header.Set("X-User", c.user)
		}
		switch c.ifMatch {
		case "seen":
			req.Header.Set("If-Match", revision)
		case "stale":
			req.Header.Set("If-Match", stale)
		}
		if c.carry {
			req.Header.Set(accesshttp.RevisionHeader, revision)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rev := resp.Header.Get(accesshttp.RevisionHeader); rev != "" && rev != revision {
			stale, revision = revision, rev
		}
		fmt.Printf("  client: %s %s on %s → %d %s\n", c.method, c.path, c.replica, resp.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}
