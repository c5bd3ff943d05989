package sqlite

import (
	"testing"

	"github.com/crmaccess/access/store/storetest"
)

func TestStoretest(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return open(t, newPath(t), nil)
	})
}

// TestStoretestMemory runs the suite on ":memory:" databases, which have a
// single connection: every operation, the watchers' reads included, takes
// turns on it.
func TestStoretestMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return open(t, ":memory:", nil)
	})
}
