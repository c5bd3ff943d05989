package postgres

import (
	"fmt"
	"os"
	"sync"
)

// postgresSkipNotice is printed once per test binary, by the first test
// that skips for want of a PostgreSQL database, so that a plain `go test`
// says what it did not test instead of skipping in silence.
var postgresSkipNotice sync.Once

func noticePostgresSkipped() {
	postgresSkipNotice.Do(func() {
		fmt.Fprintln(os.Stderr, "store/postgres: PostgreSQL tests skipped: set ACCESS_TEST_POSTGRES_DSN="+
			"postgres://postgres@127.0.0.1:5432/test?sslmode=disable (any database they may create schemas in) to run them")
	})
}
