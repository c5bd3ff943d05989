package sqlite

import (
	"testing"

	"github.com/crmaccess/access/internal/sqlstore/sqltest"
)

// BenchmarkOrg imports orggen's 100,000-associate, 10,000-group, 50-role
// organisation into a file database and loads it whole (see
// [sqltest.BenchmarkOrg]). Run it with -benchtime=1x: one import takes
// seconds.
func BenchmarkOrg(b *testing.B) {
	sqltest.BenchmarkOrg(b, engine)
}
