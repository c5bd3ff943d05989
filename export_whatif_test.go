package access

import "pgregory.net/rapid"

// GenOrg draws a small random organisation that exercises every layer
// (see genOrg), for the what-if property in package access_test.
func GenOrg(t *rapid.T) Batch { return genOrg(t) }

// GenRecord draws a record of genOrg's types, owned and stamped within
// org (see genRecord).
func GenRecord(t *rapid.T, org *Batch) Record { return genRecord(t, org) }
