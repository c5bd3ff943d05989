// Command replicas starts two resolvers on one PostgreSQL database, each
// through its own store and connection pool, as two replicas of a service
// would. It writes through one and shows the other catching up with the
// revision the write returned (read-your-writes across replicas).
//
// It needs a database: set ACCESS_TEST_POSTGRES_DSN (for example
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable) or pass -dsn.
// It works in a temporary schema that it drops before it exits.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/postgres"
	"github.com/jackc/pgx/v5"
)

func main() {
	dsn := flag.String("dsn", os.Getenv("ACCESS_TEST_POSTGRES_DSN"), "PostgreSQL connection string")
	flag.Parse()
	if *dsn == "" {
		fmt.Println("skipping: set ACCESS_TEST_POSTGRES_DSN or pass -dsn to run this example against PostgreSQL")
		return
	}
	if err := run(context.Background(), *dsn); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, dsn string) error {
	// A schema of our own, so the example never touches other data.
	schema := "access_replicas_" + randomSuffix()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return err
	}
	defer admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	scoped, err := withSearchPath(dsn, schema)
	if err != nil {
		return err
	}

	// Replica A: owns the schema's migrations and takes the writes.
	a, err := postgres.Open(ctx, scoped, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Migrate(ctx); err != nil {
		return err
	}
	if _, err := a.Apply(ctx, access.Batch{
		Roles:      []access.Role{{ID: 1, Name: "Support"}},
		Groups:     []access.Group{{ID: 10, Name: "First line"}, {ID: 20, Name: "Escalations"}},
		Associates: []access.Associate{{ID: 11, Name: "anna", Type: access.Internal, PrimaryGroup: 10, Role: 1, Active: true}},
	}); err != nil {
		return err
	}

	// Replica B: another store value with its own pool, as in another process.
	b, err := postgres.Open(ctx, scoped, nil)
	if err != nil {
		return err
	}
	defer b.Close()

	ra, err := access.NewResolver(ctx, a, nil)
	if err != nil {
		return err
	}
	defer ra.Close()
	rb, err := access.NewResolver(ctx, b, nil)
	if err != nil {
		return err
	}
	defer rb.Close()
	fmt.Printf("replica A at revision %d, replica B at revision %d\n", ra.Revision(), rb.Revision())

	// Write through A: anna joins Escalations.
	rev, err := a.Apply(ctx, access.Batch{Associates: []access.Associate{
		{ID: 11, Name: "anna", Type: access.Internal, PrimaryGroup: 10, Groups: []access.GroupID{20}, Role: 1, Active: true},
	}})
	if err != nil {
		return err
	}
	inA, _ := ra.IsMember(ctx, 11, 20)
	fmt.Printf("wrote revision %d through A; A sees anna in Escalations: %v (its own write, at once)\n", rev, inA)

	// B learns of it through LISTEN/NOTIFY; a request that carries the
	// revision waits for it with Sync.
	start := time.Now()
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rb.Sync(wait, rev); err != nil {
		return err
	}
	inB, _ := rb.IsMember(ctx, 11, 20)
	fmt.Printf("replica B reached revision %d after %s; B sees anna in Escalations: %v\n",
		rb.Revision(), time.Since(start).Round(time.Millisecond), inB)
	ms, _ := rb.EffectiveGroups(ctx, 11)
	for _, m := range ms {
		fmt.Println("  ", m)
	}
	return nil
}

// withSearchPath adds a search_path run-time parameter to a URL DSN.
func withSearchPath(dsn, schema string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "", fmt.Errorf("the example needs a URL DSN (postgres://…): %q", dsn)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func randomSuffix() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}
