package access_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crmaccess/access"
)

// TestCheckDomainEdges checks each limit of the value domain from both
// sides: the last value inside it passes Check and Validate, the first
// value outside fails both with the same ErrInvalid error, which names the
// entity and the field.
func TestCheckDomainEdges(t *testing.T) {
	assoc := func(f func(a *access.Associate)) access.Batch {
		a := access.Associate{ID: 1, Name: "anna", Type: access.Resource}
		f(&a)
		return access.Batch{Associates: []access.Associate{a}}
	}
	group := func(f func(g *access.Group)) access.Batch {
		g := access.Group{ID: 2, Name: "team"}
		f(&g)
		return access.Batch{Groups: []access.Group{g}}
	}
	at := func(y int, m time.Month, d, h, min, s, ns int) time.Time {
		return time.Date(y, m, d, h, min, s, ns, time.UTC)
	}
	str := func(n int) string { return strings.Repeat("é", n/2) + strings.Repeat("x", n%2) }
	ints := func(n int) []int64 { return make([]int64, n) }
	tests := []struct {
		name    string
		in, out access.Batch
		mention []string
	}{
		{"name length",
			assoc(func(a *access.Associate) { a.Name = str(access.MaxNameLen) }),
			assoc(func(a *access.Associate) { a.Name = str(access.MaxNameLen + 1) }),
			[]string{"associate 1", "name", "256 bytes"}},
		{"attribute key length",
			assoc(func(a *access.Associate) { a.Attributes = map[string]string{str(access.MaxKeyLen): ""} }),
			assoc(func(a *access.Associate) { a.Attributes = map[string]string{str(access.MaxKeyLen + 1): ""} }),
			[]string{"associate 1", "attribute key"}},
		{"attribute value length",
			assoc(func(a *access.Associate) { a.Attributes = map[string]string{"k": str(access.MaxValueLen)} }),
			assoc(func(a *access.Associate) { a.Attributes = map[string]string{"k": str(access.MaxValueLen + 1)} }),
			[]string{"associate 1", `attribute "k" value`, "4097 bytes"}},
		{"first instant",
			assoc(func(a *access.Associate) { a.ValidFrom = at(1, 1, 1, 0, 0, 0, 1000) }),
			assoc(func(a *access.Associate) { a.ValidFrom = at(0, 12, 31, 23, 59, 59, 999_999_000) }),
			[]string{"associate 1", "valid from", "0000-12-31T23:59:59.999999Z"}},
		{"last instant",
			assoc(func(a *access.Associate) { a.ValidTo = at(9999, 12, 31, 23, 59, 59, 999_999_000) }),
			assoc(func(a *access.Associate) { a.ValidTo = at(10000, 1, 1, 0, 0, 0, 0) }),
			[]string{"associate 1", "valid to", "10000-01-01T00:00:00Z"}},
		{"precision",
			assoc(func(a *access.Associate) { a.ValidTo = at(2025, 1, 1, 0, 0, 0, 1000) }),
			assoc(func(a *access.Associate) { a.ValidTo = at(2025, 1, 1, 0, 0, 0, 1001) }),
			[]string{"associate 1", "valid to", "2025-01-01T00:00:00.000001001Z", "microsecond"}},
		{"list length",
			assoc(func(a *access.Associate) { a.Projects = ints(access.MaxListLen) }),
			assoc(func(a *access.Associate) { a.Projects = ints(access.MaxListLen + 1) }),
			[]string{"associate 1", "projects", "100001 entries"}},
		{"smart rule length",
			group(func(g *access.Group) { g.Smart = `name == "` + str(access.MaxValueLen-10) + `"` }),
			group(func(g *access.Group) { g.Smart = `name == "` + str(access.MaxValueLen-9) + `"` }),
			[]string{"group 2", "smart rule", "4097 bytes"}},
		{"NUL",
			group(func(g *access.Group) { g.Fields = map[string]string{"k": "\x01"} }),
			group(func(g *access.Group) { g.Fields = map[string]string{"k": "\x00"} }),
			[]string{"group 2", `field "k" value "\x00" contains a NUL byte`}},
		{"UTF-8",
			group(func(g *access.Group) { g.Functions = []string{"\U0010ffff"} }),
			group(func(g *access.Group) { g.Functions = []string{"\xf4\x90\x80\x80"} }), // one past U+10FFFF
			[]string{"group 2", `functional right "\xf4\x90\x80\x80" is not valid UTF-8`}},
	}
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.in.Check(); err != nil {
				t.Errorf("Check(inside) = %v, want nil", err)
			}
			if err := tc.in.Validate(ctx, dEmptyView{}); err != nil {
				t.Errorf("Validate(inside) = %v, want nil", err)
			}
			err := tc.out.Check()
			if !errors.Is(err, access.ErrInvalid) {
				t.Fatalf("Check(outside) = %v, want an error wrapping ErrInvalid", err)
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if verr := tc.out.Validate(ctx, dEmptyView{}); verr == nil || verr.Error() != err.Error() {
				t.Errorf("Validate(outside) = %v, want Check's %v", verr, err)
			}
		})
	}
}

// TestCheckMapErrorStable checks that of several bad map keys the error
// always names the same one (the smallest), whatever order map iteration
// takes, so every store reports the same error.
func TestCheckMapErrorStable(t *testing.T) {
	attrs := map[string]string{}
	for _, k := range []string{"b\xff", "a\xff", "c\xff", "d\x00", "a\xfe"} {
		attrs[k] = "v"
	}
	b := access.Batch{Associates: []access.Associate{{ID: 1, Name: "anna", Type: access.Resource, Attributes: attrs}}}
	want := b.Check()
	if want == nil || !strings.Contains(want.Error(), `"a\xfe"`) {
		t.Fatalf("Check = %v, want an error naming the smallest bad key \"a\\xfe\"", want)
	}
	for range 50 {
		if got := b.Check(); got.Error() != want.Error() {
			t.Fatalf("Check = %v, then %v", want, got)
		}
	}
}

// TestValidNameAgreesWithCheck checks that ValidName accepts exactly the
// names Check lets an associate have.
func TestValidNameAgreesWithCheck(t *testing.T) {
	for _, name := range []string{"", "anna", "a\x00", "a\xff", strings.Repeat("x", access.MaxNameLen), strings.Repeat("x", access.MaxNameLen+1), "\U0001f600"} {
		b := access.Batch{Associates: []access.Associate{{ID: 1, Name: name, Type: access.Resource}}}
		if got, want := access.ValidName(name), b.Check() == nil; got != want {
			t.Errorf("ValidName(%q) = %v, but Check accepts it: %v", name, got, want)
		}
	}
}
