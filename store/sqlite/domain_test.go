package sqlite

import (
	"context"
	"errors"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// FuzzDomain writes random values through the memory store and an SQLite
// store: each batch is either refused by both with the same validation
// error, or accepted by both and read back from each exactly as written,
// with times in UTC.
func FuzzDomain(f *testing.F) {
	f.Add("anna", "dept", "sales", int64(1_700_000_000), int64(0), int64(1_800_000_000), int64(100), int64(7))
	f.Add("anna\x00", "dept", "sales", int64(0), int64(0), int64(0), int64(1), int64(0))
	f.Add("anna", "a\xff", "x", int64(0), int64(0), int64(0), int64(1), int64(0))
	f.Add("\U0010ffff", "\ufffe", "\x01", int64(-62135596800), int64(1000), int64(253402300799), int64(1<<62), int64(-1))
	f.Add("y10k", "k", "v", int64(0), int64(0), int64(253402300800), int64(5), int64(0)) // ValidTo in the year 10000
	f.Add("ns", "k", "v", int64(1_700_000_000), int64(1), int64(0), int64(5), int64(0))  // finer than a microsecond
	f.Add("neg", "k", "v", int64(-62135596801), int64(0), int64(0), int64(-5), int64(0)) // year 0, negative id
	f.Fuzz(func(t *testing.T, name, key, value string, fromSec, fromNsec, toSec, id, company int64) {
		ctx := context.Background()
		b := access.Batch{
			Roles:  []access.Role{{ID: 1, Name: "role", Functions: []string{key}}},
			Groups: []access.Group{{ID: 2, Name: name, Fields: map[string]string{key: value}, Defaults: map[string]access.CRUD{key: access.R}}},
			Associates: []access.Associate{{ID: access.AssociateID(id), Name: name, Type: access.Internal, PrimaryGroup: 2, Role: 1,
				Active: true, Company: company, Projects: []int64{company},
				ValidFrom: time.Unix(fromSec, fromNsec), ValidTo: time.Unix(toSec, 0),
				Attributes: map[string]string{key: value, name: key}}},
			SharingRules: []access.SharingRule{{ID: 3, Name: value, EntityType: key, Rights: access.R,
				From: access.Principals{Everyone: true}, To: access.Principals{Everyone: true}}},
			Grants: []access.Grant{{ID: 4, Group: 2, EntityType: key, RecordID: max(company, 0), Rights: access.R}},
		}
		if fromSec == 0 && fromNsec == 0 {
			b.Associates[0].ValidFrom = time.Time{}
		}
		if toSec == 0 {
			b.Associates[0].ValidTo = time.Time{}
		}

		mem := memory.New()
		sq := open(t, ":memory:", nil)
		_, memErr := mem.Apply(ctx, b)
		_, sqErr := sq.Apply(ctx, b)
		if memErr != nil || sqErr != nil {
			if memErr == nil || sqErr == nil || memErr.Error() != sqErr.Error() {
				t.Fatalf("memory: %v\nsqlite: %v\nwant the same validation error from both", memErr, sqErr)
			}
			if !errors.Is(memErr, access.ErrInvalid) && !errors.Is(memErr, access.ErrCycle) {
				t.Fatalf("error %v is not a validation error", memErr)
			}
			return
		}
		for _, s := range []access.Store{mem, sq} {
			d, err := s.Changes(ctx, 0)
			if err != nil {
				t.Fatalf("%T: Changes(0) after an accepted write: %v", s, err)
			}
			if diff := gocmp.Diff(b, d.Batch, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("%T: read back (-want +got):\n%s", s, diff)
			}
			for _, a := range d.Associates {
				if a.ValidFrom.Location() != time.UTC || a.ValidTo.Location() != time.UTC {
					t.Fatalf("%T: times %s, %s are not in UTC", s, a.ValidFrom, a.ValidTo)
				}
			}
		}
	})
}
