// Listing pages through a contact table as three users see it: a sales
// manager, a salesperson and an external partner. For each it asks the
// resolver for a Filter, renders it as a SQL WHERE fragment, and lets the
// database count the visible contacts and return the first page, checking
// the count against Can row by row.
//
// It runs on an in-memory SQLite database. With ACCESS_TEST_POSTGRES_DSN
// set, or -postgres DSN, it then does the same on PostgreSQL in a
// temporary schema that it drops afterwards.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

const (
	nordics   access.GroupID = 1
	oslo      access.GroupID = 10
	stockholm access.GroupID = 20

	anna    access.AssociateID = 101 // sales manager for the Nordics
	bo      access.AssociateID = 102 // salesperson in Oslo
	cy      access.AssociateID = 103 // salesperson in Stockholm
	dag     access.AssociateID = 104 // salesperson in Oslo
	partner access.AssociateID = 201 // an external partner at company 500

	partnerCompany = 500
	pageSize       = 5
	numContacts    = 200
)

var names = map[access.AssociateID]string{anna: "anna", bo: "bo", cy: "cy", dag: "dag", partner: "partner"}

// columns maps the filter's record columns onto the contact table. The
// table has no project column: the filter reads it as 0.
var columns = access.Columns{
	ID: "id", Owner: "associate_id", Group: "group_id", Team: "team_id", Company: "company_id",
	Category: "category_id", Published: "published", Visibility: "visible_for",
}

const schema = `CREATE TABLE contact (
	id           bigint PRIMARY KEY,
	name         text NOT NULL,
	associate_id integer,
	group_id     integer,
	team_id      integer,
	company_id   bigint,
	category_id  integer,
	published    boolean,
	visible_for  smallint
);
CREATE INDEX contact_associate_id ON contact (associate_id);
CREATE INDEX contact_group_id ON contact (group_id);
CREATE INDEX contact_team_id ON contact (team_id);
CREATE INDEX contact_category_id ON contact (category_id)`

func main() {
	pgDSN := flag.String("postgres", os.Getenv("ACCESS_TEST_POSTGRES_DSN"), "PostgreSQL DSN to run the listing on too (default $ACCESS_TEST_POSTGRES_DSN)")
	flag.Parse()
	ctx := context.Background()

	r, contacts, err := setup(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	fmt.Println("== SQLite (in memory)")
	if err := runSQLite(ctx, r, contacts); err != nil {
		log.Fatal(err)
	}
	if *pgDSN != "" {
		fmt.Println()
		fmt.Println("== PostgreSQL (temporary schema)")
		if err := runPostgres(ctx, *pgDSN, r, contacts); err != nil {
			log.Fatal(err)
		}
	}
}

// contact is one row of the contact table.
type contact struct {
	name string
	rec  access.Record // Type "contact"; zero fields are stored as NULL
}

// setup loads the organisation into a memory store and draws the contacts.
func setup(ctx context.Context) (*access.Engine, []contact, error) {
	manager := access.Grid{
		access.Owner: access.LevelFull, access.Subordinate: access.LevelFull, access.Team: access.LevelUpdate,
		access.PrimaryGroup: access.LevelUpdate, access.OtherGroup: access.LevelUpdate, access.Other: access.LevelRead,
	}
	seller := access.Grid{
		access.Owner: access.LevelFull, access.Team: access.LevelUpdate,
		access.PrimaryGroup: access.LevelUpdate, access.OtherGroup: access.LevelRead,
	}
	external := access.Grid{access.Owner: access.LevelFull, access.MyCompany: access.LevelRead}
	store := memory.New()
	_, err := store.Apply(ctx, access.Batch{
		Roles: []access.Role{
			{ID: 1, Name: "Sales manager", Rights: map[string]access.Grid{access.Wildcard: manager}},
			{ID: 2, Name: "Salesperson", Parent: 1, Rights: map[string]access.Grid{access.Wildcard: seller}},
			{ID: 3, Name: "Partner", Rights: map[string]access.Grid{access.Wildcard: external}},
		},
		Groups: []access.Group{
			{ID: oslo, Name: "Oslo"},
			{ID: stockholm, Name: "Stockholm"},
			{ID: nordics, Name: "Nordics", Groups: []access.GroupID{oslo, stockholm}},
		},
		Associates: []access.Associate{
			{ID: anna, Name: "anna", Role: 1, PrimaryGroup: nordics, Active: true},
			{ID: bo, Name: "bo", Role: 2, PrimaryGroup: oslo, Active: true},
			{ID: cy, Name: "cy", Role: 2, PrimaryGroup: stockholm, Active: true},
			{ID: dag, Name: "dag", Role: 2, PrimaryGroup: oslo, Active: true},
			{ID: partner, Name: "partner", Type: access.External, Role: 3, Company: partnerCompany, Active: true},
		},
	})
	if err != nil {
		return nil, nil, err
	}
	r, err := access.NewResolver(ctx, store, nil)
	if err != nil {
		return nil, nil, err
	}

	// Contacts owned round-robin, stamped with the owner's primary group;
	// some unowned, some owned by the Oslo team, some at the partner's
	// company, a few private to their owner.
	rng := rand.New(rand.NewPCG(7, 7))
	owners := []access.AssociateID{anna, bo, cy, dag, 0}
	contacts := make([]contact, numContacts)
	for i := range contacts {
		rec := access.Record{Type: "contact", ID: int64(i + 1), Owner: owners[rng.IntN(len(owners))]}
		if rec.Owner != 0 {
			st, err := r.Stamp(ctx, rec.Owner)
			if err != nil {
				return nil, nil, err
			}
			rec.Group = st.Group
		}
		if rng.IntN(8) == 0 {
			rec.Team = oslo
		}
		if rng.IntN(6) == 0 {
			rec.Company = partnerCompany
		} else {
			rec.Company = int64(1000 + rng.IntN(50))
		}
		rec.Published = rng.IntN(2) == 0
		if rng.IntN(10) == 0 {
			rec.Visibility = access.VisibleAssociate
		}
		contacts[i] = contact{name: fmt.Sprintf("Company %03d AS", i+1), rec: rec}
	}
	return r, contacts, nil
}

// row returns the contact's column values in table order, NULL for "none".
func (c *contact) row() []any {
	null := func(v int64) any {
		if v == 0 {
			return nil
		}
		return v
	}
	return []any{c.rec.ID, c.name, null(int64(c.rec.Owner)), null(int64(c.rec.Group)), null(int64(c.rec.Team)),
		null(c.rec.Company), nil, c.rec.Published, int64(c.rec.Visibility)}
}

var tableColumns = []string{"id", "name", "associate_id", "group_id", "team_id", "company_id", "category_id", "published", "visible_for"}

// querier is the little the listing needs from a database.
type querier struct {
	dialect access.Dialect
	count   func(ctx context.Context, query string, args []any) (int, error)
	page    func(ctx context.Context, query string, args []any) ([]string, error)
}

// list prints, for each user, the WHERE fragment, the number of contacts
// it selects and the first page.
func list(ctx context.Context, q querier, r *access.Engine, contacts []contact) error {
	for _, who := range []access.AssociateID{anna, bo, partner} {
		f, err := r.Filter(ctx, who, access.Read, "contact")
		if err != nil {
			return err
		}
		where, args, err := f.SQL(q.dialect, columns, 1)
		if err != nil {
			return err
		}
		fmt.Printf("\n-- %s may read: %s\n", names[who], f.String())
		fmt.Printf("SELECT id, name, associate_id FROM contact\nWHERE %s\nORDER BY id LIMIT %d\n-- arguments: %s\n", where, pageSize, formatArgs(args))

		n, err := q.count(ctx, "SELECT count(*) FROM contact WHERE "+where, args)
		if err != nil {
			return err
		}
		// The filter is exact: the database's count is the number of rows
		// Can allows.
		allowed := 0
		for _, c := range contacts {
			d, err := r.Can(ctx, who, access.Read, c.rec)
			if err != nil {
				return err
			}
			if d.Allowed {
				allowed++
			}
		}
		if n != allowed {
			return fmt.Errorf("%s: the database counts %d contacts, Can allows %d", names[who], n, allowed)
		}
		rows, err := q.page(ctx, fmt.Sprintf("SELECT id, name, associate_id FROM contact WHERE %s ORDER BY id LIMIT %d", where, pageSize), args)
		if err != nil {
			return err
		}
		fmt.Printf("%d of %d contacts (Can agrees); first page:\n", n, len(contacts))
		for _, row := range rows {
			fmt.Println("  " + row)
		}
	}
	return nil
}

func formatArgs(args []any) string {
	var parts []string
	for _, a := range args {
		parts = append(parts, fmt.Sprintf("%v", a))
	}
	return strings.Join(parts, ", ")
}

func ownerName(owner sql.NullInt64) string {
	if !owner.Valid {
		return "(no owner)"
	}
	return names[access.AssociateID(owner.Int64)]
}

func runSQLite(ctx context.Context, r *access.Engine, contacts []contact) error {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection, one in-memory database
	for _, stmt := range strings.Split(schema, ";") {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, "INSERT INTO contact ("+strings.Join(tableColumns, ", ")+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
	if err != nil {
		return err
	}
	for i := range contacts {
		if _, err := ins.ExecContext(ctx, contacts[i].row()...); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return list(ctx, querier{
		dialect: access.SQLite,
		count: func(ctx context.Context, query string, args []any) (n int, err error) {
			err = db.QueryRowContext(ctx, query, args...).Scan(&n)
			return n, err
		},
		page: func(ctx context.Context, query string, args []any) ([]string, error) {
			rows, err := db.QueryContext(ctx, query, args...)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var id int64
				var name string
				var owner sql.NullInt64
				if err := rows.Scan(&id, &name, &owner); err != nil {
					return nil, err
				}
				out = append(out, fmt.Sprintf("%3d  %s  %s", id, name, ownerName(owner)))
			}
			return out, rows.Err()
		},
	}, r, contacts)
}

func runPostgres(ctx context.Context, dsn string, r *access.Engine, contacts []contact) (err error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	name := fmt.Sprintf("access_listing_example_%08x", rand.Uint32())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		return err
	}
	defer func() {
		_, dropErr := conn.Exec(context.Background(), "DROP SCHEMA "+name+" CASCADE")
		err = errors.Join(err, dropErr)
	}()
	if _, err := conn.Exec(ctx, "SET search_path TO "+name); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, schema); err != nil {
		return err
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"contact"}, tableColumns, pgx.CopyFromSlice(len(contacts), func(i int) ([]any, error) {
		return contacts[i].row(), nil
	})); err != nil {
		return err
	}
	return list(ctx, querier{
		dialect: access.PostgreSQL,
		count: func(ctx context.Context, query string, args []any) (n int, err error) {
			err = conn.QueryRow(ctx, query, args...).Scan(&n)
			return n, err
		},
		page: func(ctx context.Context, query string, args []any) ([]string, error) {
			rows, err := conn.Query(ctx, query, args...)
			if err != nil {
				return nil, err
			}
			var out []string
			var id int64
			var name string
			var owner sql.NullInt64
			_, err = pgx.ForEachRow(rows, []any{&id, &name, &owner}, func() error {
				out = append(out, fmt.Sprintf("%3d  %s  %s", id, name, ownerName(owner)))
				return nil
			})
			return out, err
		},
	}, r, contacts)
}
