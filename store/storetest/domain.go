package storetest

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crmaccess/access"
)

// The edges of the value domain (see [access.MaxNameLen] and the others):
// values just inside it must come back exactly, values just outside it
// must be refused by every store with the same error.
var (
	// firstInstant and lastInstant are the first and last non-zero times
	// the domain holds (the zero time itself means "no bound").
	firstInstant = time.Date(access.MinYear, time.January, 1, 0, 0, 0, int(access.TimePrecision), time.UTC)
	lastInstant  = time.Date(access.MaxYear, time.December, 31, 23, 59, 59, 999_999_000, time.UTC)
	// east and west are the zones furthest from UTC, to check that a
	// store returns the instant it was given, whatever its location.
	east = time.FixedZone("UTC+14", 14*3600)
	west = time.FixedZone("UTC-12", -12*3600)
)

// planes holds characters from every Unicode plane, 0 to 16, and the
// awkward ones of plane 0: controls, the last before the surrogates, the
// first after, the replacement character and the noncharacters U+FFFE and
// U+FFFF.
func planes() string {
	var b strings.Builder
	b.WriteString("\x01\t\n\x7f\u0080\u07ff\u0800\ud7ff\ue000\ufffd\ufffe\uffff")
	for p := rune(1); p <= 16; p++ {
		b.WriteRune(p<<16 | 0x41)
	}
	b.WriteRune(0x10ffff)
	return b.String()
}

// longest returns a string of exactly n bytes made of s repeated, padded
// with ASCII so that no rune is cut.
func longest(s string, n int) string {
	var b strings.Builder
	for _, r := range strings.Repeat(s, n) {
		if b.Len()+len(string(r)) > n {
			break
		}
		b.WriteRune(r)
	}
	for b.Len() < n {
		b.WriteByte('x')
	}
	return b.String()
}

// extremes is a model made of values at the edges of the domain: the
// largest ids, the longest names, keys and values, characters from every
// plane, the first and last instants (some given in far-off zones), and
// every associate type.
func extremes() access.Batch {
	const top = math.MaxInt64
	pl := planes()
	name := longest("\U0010ffffÅ", access.MaxNameLen) // 4- and 2-byte runes
	key := longest(pl, access.MaxKeyLen)
	value := longest(pl, access.MaxValueLen)
	smartPrefix := `attr.k == "`
	smart := smartPrefix + strings.Repeat("v", access.MaxValueLen-len(smartPrefix)-1) + `"`
	return access.Batch{
		Roles: []access.Role{
			{ID: top, Name: name, Rights: map[string]access.Grid{key: {access.Owner: access.LevelFull}, pl: {access.Other: access.R}},
				Functions: []string{key, pl}},
			{ID: top - 1, Name: pl, Parent: top},
		},
		Groups: []access.Group{
			{ID: top, Name: name, Groups: []access.GroupID{top - 1}, Roles: []access.RoleID{top}, RolesAndSubordinates: []access.RoleID{top - 1},
				Functions: []string{key, pl}, Defaults: map[string]access.CRUD{key: access.LevelFull, pl: access.R},
				Admins: []access.AssociateID{top}, SelfService: true,
				Fields: map[string]string{key: value, pl: pl, "empty": ""}, Description: longest(pl, access.MaxDescriptionLen)},
			{ID: top - 1, Name: pl},
			{ID: top - 2, Name: "smart", Smart: smart},
		},
		Associates: []access.Associate{
			{ID: top, Name: name, Type: access.Internal, PrimaryGroup: top, Groups: []access.GroupID{top - 1, top - 2}, Role: top,
				Active: true, ValidFrom: firstInstant, ValidTo: lastInstant, Company: top, Projects: []int64{1, top},
				Attributes:   map[string]string{key: value, pl: pl, "": "", "k": strings.Repeat("v", access.MaxValueLen-len(smartPrefix)-1)},
				ServiceLogin: top, Categories: []access.CategoryID{top},
				Email: longest("\U0010ffffå@\u0800.", access.MaxEmailLen)},
			{ID: top - 1, Name: pl, Type: access.Resource, ValidFrom: firstInstant.In(east), ValidTo: lastInstant.In(west)},
			{ID: top - 2, Name: "external " + pl, Type: access.External, Role: top - 1, Active: true, Company: top,
				ValidTo: lastInstant.In(east)},
			{ID: top - 3, Name: "anonymous", Type: access.Anonymous, Role: top - 1, ValidFrom: firstInstant.In(west)},
			{ID: top - 4, Name: "system", Type: access.System, Role: top, Active: true,
				ValidFrom: firstInstant.Add(access.TimePrecision), ValidTo: lastInstant.Add(-access.TimePrecision)},
		},
		Categories: []access.Category{
			{ID: top, Name: name, MembersOnly: true, Groups: []access.GroupID{top}, Roles: []access.RoleID{top}},
			{ID: top - 1, Name: pl, Parent: top},
		},
		SharingRules: []access.SharingRule{
			{ID: top, Name: name, EntityType: key, Rights: access.LevelFull,
				From: access.Principals{Associates: []access.AssociateID{top}, Groups: []access.GroupID{top}},
				To:   access.Principals{Roles: []access.RoleID{top}, RolesAndSubordinates: []access.RoleID{top - 1}}},
		},
		Grants: []access.Grant{
			{ID: top, Associate: top, EntityType: key, RecordID: top, Rights: access.LevelFull},
			{ID: top - 1, Group: top, EntityType: pl, Rights: access.R},
		},
		Impersonations: []access.Impersonation{
			{ID: top, Actor: access.Principal{Group: top}, Target: access.Principal{Associate: top}},
		},
	}
}

// testExtremes checks that values at the edges of the domain come back
// exactly: through Changes, through the View getters and into a new
// resolver. Times come back as the same instant, in UTC.
func testExtremes(t *testing.T, newStore func(*testing.T) Store) {
	ctx := context.Background()
	s := newStore(t)
	b := extremes()
	if err := b.Check(); err != nil {
		t.Fatalf("the extremes are outside the domain: %v", err)
	}
	rev := mustApply(t, s, b)
	checkModel(t, s, rev, model{}.apply(b))
	for _, a := range mustChanges(t, s, 0).Associates {
		for _, tm := range []time.Time{a.ValidFrom, a.ValidTo} {
			if tm.Location() != time.UTC {
				t.Errorf("associate %d: time %s is in %s, want UTC", a.ID, tm, tm.Location())
			}
		}
	}
	checkGets(t, "Role", b.Roles, func(r access.Role) access.RoleID { return r.ID }, func(id access.RoleID) (access.Role, error) { return s.Role(ctx, id) })
	checkGets(t, "Group", b.Groups, func(g access.Group) access.GroupID { return g.ID }, func(id access.GroupID) (access.Group, error) { return s.Group(ctx, id) })
	checkGets(t, "Associate", b.Associates, func(a access.Associate) access.AssociateID { return a.ID }, func(id access.AssociateID) (access.Associate, error) { return s.Associate(ctx, id) })
	checkGets(t, "Category", b.Categories, func(c access.Category) access.CategoryID { return c.ID }, func(id access.CategoryID) (access.Category, error) { return s.Category(ctx, id) })
	checkNames(t, s, model{}.apply(b), b)

	// A resolver started afresh loads all of it, and sees the same strings.
	r, err := access.NewResolver(ctx, s, nil)
	if err != nil {
		t.Fatalf("NewResolver: %v", err)
	}
	defer r.Close()
	if got := r.Revision(); got != rev {
		t.Errorf("resolver revision = %d, want %d", got, rev)
	}
	top := access.AssociateID(math.MaxInt64)
	for k, want := range b.Associates[0].Attributes {
		f, err := r.Field(ctx, top, k)
		if strings.TrimSpace(want) == "" {
			// A blank value is no value: it falls back to the groups,
			// none of which has the key.
			if err != nil || f.Found {
				t.Errorf("Field(%d, %q) = %+v, %v; want not found (blank own value)", top, k, f, err)
			}
			continue
		}
		if err != nil || !f.Found || f.Value != want {
			t.Errorf("Field(%d, %q) = %q, %v; want %q", top, k, f.Value, err, want)
		}
	}
	if ok, err := r.IsMember(ctx, top, access.GroupID(math.MaxInt64-2)); err != nil || !ok {
		t.Errorf("IsMember(%d, smart group) = %v, %v; want true (its rule matches the longest value)", top, ok, err)
	}
}

// domainRejectCases are writes with one value just outside the domain.
// Every store must refuse each with exactly the error [access.Batch.Check]
// gives, which names the field and the value.
func domainRejectCases() []rejectCase {
	newA := func(f func(a *access.Associate)) access.Batch {
		a := internal(200, "carl", 20, 2)
		f(&a)
		return access.Batch{Associates: []access.Associate{a}}
	}
	newG := func(f func(g *access.Group)) access.Batch {
		g := access.Group{ID: 50, Name: "new"}
		f(&g)
		return access.Batch{Groups: []access.Group{g}}
	}
	newR := func(f func(r *access.Role)) access.Batch {
		r := access.Role{ID: 5, Name: "new"}
		f(&r)
		return access.Batch{Roles: []access.Role{r}}
	}
	rule := func(f func(r *access.SharingRule)) access.Batch {
		r := access.SharingRule{ID: 602, Name: "new", EntityType: "sale", Rights: access.R,
			From: access.Principals{Everyone: true}, To: access.Principals{Everyone: true}}
		f(&r)
		return access.Batch{SharingRules: []access.SharingRule{r}}
	}
	many := func(n int) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(i + 1)
		}
		return out
	}
	manyGroups := func(n int) []access.GroupID {
		out := make([]access.GroupID, n)
		for i := range out {
			out[i] = 20
		}
		return out
	}
	manyAttrs := func(n int) map[string]string {
		m := make(map[string]string, n)
		for i := range n {
			m[strconv.Itoa(i)] = ""
		}
		return m
	}
	bad := func(name string, b access.Batch, mention ...string) rejectCase {
		return rejectCase{name: name, batch: b, want: access.ErrInvalid, mention: mention}
	}
	return []rejectCase{
		// Strings.
		bad("associate name with NUL", newA(func(a *access.Associate) { a.Name = "car\x00l" }), "associate 200", "name", `"car\x00l"`, "NUL"),
		bad("associate name not UTF-8", newA(func(a *access.Associate) { a.Name = "carl\xff" }), "associate 200", "name", `"carl\xff"`, "UTF-8"),
		bad("associate name one byte too long", newA(func(a *access.Associate) { a.Name = long(access.MaxNameLen + 1) }), "name", "256 bytes"),
		bad("associate name of 64 four-byte runes", newA(func(a *access.Associate) { a.Name = strings.Repeat("\U0001f600", 64) }), "name", "256 bytes"),
		bad("attribute keys that would collapse", newA(func(a *access.Associate) { a.Attributes = map[string]string{"a\xff": "1", "a\xfe": "2"} }),
			"attribute key", `"a\xfe"`),
		bad("attribute key too long", newA(func(a *access.Associate) { a.Attributes = map[string]string{long(access.MaxKeyLen + 1): "x"} }), "attribute key"),
		bad("attribute value with NUL", newA(func(a *access.Associate) { a.Attributes = map[string]string{"dept": "sa\x00les"} }),
			"attribute", `"dept"`, `"sa\x00les"`),
		bad("attribute value too long", newA(func(a *access.Associate) { a.Attributes = map[string]string{"dept": long(access.MaxValueLen + 1)} }),
			"attribute", `"dept"`, "4097 bytes"),
		bad("associate e-mail with NUL", newA(func(a *access.Associate) { a.Email = "a\x00@example.com" }), "associate 200", "e-mail", "NUL"),
		bad("associate e-mail with a line break", newA(func(a *access.Associate) { a.Email = "a@example.com\r\nBcc: x@example.com" }), "associate 200", "e-mail", "control character"),
		bad("associate e-mail too long", newA(func(a *access.Associate) { a.Email = long(access.MaxEmailLen+1) + "@x" }), "associate 200", "e-mail"),
		bad("group description with NUL", newG(func(g *access.Group) { g.Description = "a\x00b" }), "group 50", "description"),
		bad("group description too long", newG(func(g *access.Group) { g.Description = long(access.MaxDescriptionLen + 1) }), "group 50", "description", "1025 bytes"),
		bad("group name with NUL", newG(func(g *access.Group) { g.Name = "\x00" }), "group 50", "name"),
		bad("group name too long", newG(func(g *access.Group) { g.Name = long(access.MaxNameLen + 1) }), "group 50", "name"),
		bad("group field key not UTF-8", newG(func(g *access.Group) { g.Fields = map[string]string{"\xc3": "x"} }), "group 50", "field key"),
		bad("group field value not UTF-8", newG(func(g *access.Group) { g.Fields = map[string]string{"region": "\xc3("} }), "group 50", `"region"`),
		bad("group functional right with NUL", newG(func(g *access.Group) { g.Functions = []string{"login\x00"} }), "group 50", "functional right"),
		bad("group default type not UTF-8", newG(func(g *access.Group) { g.Defaults = map[string]access.CRUD{"sale\x80": access.R} }), "group 50", "default permission"),
		bad("smart rule too long", newG(func(g *access.Group) { g.Smart = `name == "` + long(access.MaxValueLen) + `"` }), "group 50", "smart rule"),
		bad("role name not UTF-8", newR(func(r *access.Role) { r.Name = "\xed\xa0\x80" }), "role 5", "name"), // a surrogate
		bad("role rights type with NUL", newR(func(r *access.Role) { r.Rights = map[string]access.Grid{"sale\x00": {access.Owner: access.R}} }), "role 5", "rights"),
		bad("role functional right too long", newR(func(r *access.Role) { r.Functions = []string{long(access.MaxKeyLen + 1)} }), "role 5", "functional right"),
		bad("category name with NUL", access.Batch{Categories: []access.Category{{ID: 502, Name: "bill\x00ing"}}}, "category 502", "name"),
		bad("sharing rule name not UTF-8", rule(func(r *access.SharingRule) { r.Name = "\xff" }), "sharing rule 602", "name"),
		bad("sharing rule entity type too long", rule(func(r *access.SharingRule) { r.EntityType = long(access.MaxKeyLen + 1) }), "sharing rule 602", "entity type"),
		bad("grant entity type with NUL", access.Batch{Grants: []access.Grant{{ID: 702, Group: 30, EntityType: "sale\x00", Rights: access.R}}},
			"grant 702", "entity type"),

		// Times.
		bad("valid to in the year 10000", newA(func(a *access.Associate) { a.ValidTo = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }),
			"valid to", "10000-01-01T00:00:00Z"),
		bad("valid to far away", newA(func(a *access.Associate) { a.ValidTo = time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC) }), "valid to"),
		bad("valid from in the year 0", newA(func(a *access.Associate) { a.ValidFrom = time.Date(0, 12, 31, 23, 0, 0, 0, time.UTC) }), "valid from"),
		bad("valid from in year 1 east of UTC", newA(func(a *access.Associate) { a.ValidFrom = time.Date(1, 1, 1, 0, 30, 0, 0, east) }), "valid from"),
		bad("valid to in year 9999 west of UTC", newA(func(a *access.Associate) { a.ValidTo = time.Date(9999, 12, 31, 23, 0, 0, 0, west) }), "valid to"),
		bad("valid from with nanoseconds", newA(func(a *access.Associate) { a.ValidFrom = t0.Add(1) }), "valid from", "2025-03-01T08:30:00.000000001Z", "microsecond"),
		bad("valid to at the last nanosecond of 9999", newA(func(a *access.Associate) { a.ValidTo = lastInstant.Add(999) }), "valid to"),

		// Lists.
		bad("too many projects", newA(func(a *access.Associate) { a.Projects = many(access.MaxListLen + 1) }), "projects", "100001 entries"),
		bad("too many secondary groups", newA(func(a *access.Associate) { a.Groups = manyGroups(access.MaxListLen + 1) }), "groups"),
		bad("too many attributes", newA(func(a *access.Associate) { a.Attributes = manyAttrs(access.MaxListLen + 1) }), "attribute", "100001 entries"),
		bad("too many admins", newG(func(g *access.Group) {
			g.Admins = make([]access.AssociateID, access.MaxListLen+1)
			for i := range g.Admins {
				g.Admins[i] = 101
			}
		}), "admins"),
		bad("sharing rule lists too many groups", rule(func(r *access.SharingRule) { r.To = access.Principals{Groups: manyGroups(access.MaxListLen + 1)} }),
			"sharing rule 602 to", "groups"),
	}
}

// testOutsideLookups checks that looking up a name no associate can hold
// finds nobody in every store, even when its invalid bytes, read as
// U+FFFD, would match a name that is held.
func testOutsideLookups(t *testing.T, newStore func(*testing.T) Store) {
	ctx := context.Background()
	s := newStore(t)
	mustApply(t, s, fixture())
	mustApply(t, s, access.Batch{Associates: []access.Associate{internal(200, "carl\ufffd", 20, 2)}})
	for _, name := range []string{"carl\xff", "anna\x00", "", long(access.MaxNameLen+1) + "anna"} {
		if a, err := s.AssociateByName(ctx, name); !errors.Is(err, access.ErrNotFound) {
			t.Errorf("AssociateByName(%q) = associate %d, %v; want an error wrapping ErrNotFound", name, a.ID, err)
		}
	}
	if a, err := s.AssociateByName(ctx, "CARL\ufffd"); err != nil || a.ID != 200 {
		t.Errorf("AssociateByName(%q) = associate %d, %v; want 200", "CARL\ufffd", a.ID, err)
	}
}

func long(n int) string { return strings.Repeat("a", n) }
