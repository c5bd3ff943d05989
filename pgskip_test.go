package access

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// postgresSkipNotice is printed once per test binary, by the first test
// that skips for want of a PostgreSQL database, so that a plain `go test`
// says what it did not test instead of skipping in silence.
var postgresSkipNotice sync.Once

// postgresDSN returns the DSN in ACCESS_TEST_POSTGRES_DSN, or skips tb
// (after the once-per-binary notice) when it is unset.
func postgresDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(postgresDSNEnv)
	if dsn == "" {
		postgresSkipNotice.Do(func() {
			fmt.Fprintln(os.Stderr, "access: PostgreSQL tests skipped: set "+postgresDSNEnv+
				"=postgres://postgres@127.0.0.1:5432/test?sslmode=disable (any database they may create schemas in) to run them")
		})
		tb.Skip(postgresDSNEnv + " is not set")
	}
	return dsn
}
