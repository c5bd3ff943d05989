package access_test

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/crmaccess/access"
	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// textEnum is what every enum's text methods look like, for the generic
// checks below.
type textEnum interface {
	comparable
	fmt.Stringer
	encoding.TextMarshaler
}

// enumCase is the reference for one enum: the name of each defined value,
// written out by hand, and the prefix String uses for the others.
type enumCase[T textEnum] struct {
	names    map[T]string
	prefix   string
	zeroName bool // whether the zero value is a defined value with a name
	parse    func(string) (T, error)
	values   func() []T // every value to check: all 256 of a uint8, or a range
}

// check runs, for every value of the enum, the rules names.go states: a
// defined value's String, MarshalText, UnmarshalText and Parse agree with
// the reference name and round-trip; any other value renders as
// prefix(N), fails MarshalText with ErrInvalid (except the unset zero,
// which is empty text), and no name parses to it.
func (c enumCase[T]) check(t *testing.T, unmarshal func(*T, []byte) error) {
	t.Helper()
	seen := map[string]bool{}
	for _, v := range c.values() {
		name, defined := c.names[v]
		var zero T
		got := v.String()
		text, err := v.MarshalText()
		switch {
		case defined:
			if got != name {
				t.Errorf("%s(%v).String() = %q, want %q", c.prefix, v, got, name)
			}
			if err != nil || string(text) != name {
				t.Errorf("%s %q: MarshalText = %q, %v; want %q, nil", c.prefix, name, text, err, name)
			}
			p, err := c.parse(name)
			if err != nil || p != v {
				t.Errorf("Parse(%q) = %v, %v; want %v", name, p, err, v)
			}
			var u T
			if err := unmarshal(&u, []byte(name)); err != nil || u != v {
				t.Errorf("UnmarshalText(%q) = %v, %v; want %v", name, u, err, v)
			}
			if seen[name] {
				t.Errorf("%s: name %q used twice", c.prefix, name)
			}
			seen[name] = true
		case v == zero:
			if err != nil || len(text) != 0 {
				t.Errorf("%s zero value: MarshalText = %q, %v; want empty text", c.prefix, text, err)
			}
			u := v
			if err := unmarshal(&u, nil); err != nil || u != zero {
				t.Errorf("%s: UnmarshalText(empty) = %v, %v; want the zero value", c.prefix, u, err)
			}
			fallthrough
		default:
			want := c.prefix + "(" + fmt.Sprint(intOf(v)) + ")"
			if got != want {
				t.Errorf("String() = %q, want %q", got, want)
			}
			if v != zero && (err == nil || !errors.Is(err, access.ErrInvalid)) {
				t.Errorf("%s: MarshalText = %q, %v; want an error wrapping ErrInvalid", want, text, err)
			}
		}
	}
	if len(seen) != len(c.names) {
		t.Errorf("%s: checked %d named values, the reference has %d", c.prefix, len(seen), len(c.names))
	}
	for _, bad := range []string{"", "nonsense", c.prefix + "(1)", "  read"} {
		if _, err := c.parse(bad); !errors.Is(err, access.ErrInvalid) {
			t.Errorf("%s: Parse(%q) error = %v, want one wrapping ErrInvalid", c.prefix, bad, err)
		}
	}
	if c.zeroName {
		var u T
		if err := unmarshal(&u, nil); !errors.Is(err, access.ErrInvalid) {
			t.Errorf("%s: UnmarshalText(empty) = %v, want an error: the zero value has a name", c.prefix, err)
		}
	}
}

// intOf returns the integer behind an enum value, for the prefix(N) text.
func intOf(v any) int64 {
	n, _ := strconv.ParseInt(fmt.Sprintf("%d", v), 10, 64)
	return n
}

func allUint8[T ~uint8]() []T {
	out := make([]T, 256)
	for i := range out {
		out[i] = T(i)
	}
	return out
}

func TestEnumText(t *testing.T) {
	t.Run("Action", func(t *testing.T) {
		enumCase[access.Action]{
			names:  map[access.Action]string{access.Read: "read", access.Create: "create", access.Update: "update", access.Delete: "delete"},
			prefix: "action", parse: access.ParseAction, values: allUint8[access.Action],
		}.check(t, (*access.Action).UnmarshalText)
	})
	t.Run("Relation", func(t *testing.T) {
		enumCase[access.Relation]{
			names: map[access.Relation]string{
				access.Owner: "owner", access.Team: "team", access.PrimaryGroup: "primary group",
				access.OtherGroup: "other group", access.Subordinate: "subordinate",
				access.CategoryMember: "category member", access.MyCompany: "my company",
				access.SameProject: "same project", access.Other: "other", access.Unowned: "unowned",
			},
			prefix: "relation", parse: access.ParseRelation, values: allUint8[access.Relation],
		}.check(t, (*access.Relation).UnmarshalText)
	})
	t.Run("CauseKind", func(t *testing.T) {
		enumCase[access.CauseKind]{
			names: map[access.CauseKind]string{
				access.CauseGate: "gate", access.CauseSystem: "system", access.CauseNoRole: "no role",
				access.CauseRole: "role", access.CauseSharing: "sharing rule", access.CauseGrant: "grant",
				access.CauseDefault: "default permission", access.CauseRestriction: "restriction",
				access.CauseNearMiss: "nearest miss", access.CauseLimit: "limit",
			},
			prefix: "cause", parse: access.ParseCauseKind, values: allUint8[access.CauseKind],
		}.check(t, (*access.CauseKind).UnmarshalText)
	})
	t.Run("Gate", func(t *testing.T) {
		enumCase[access.Gate]{
			names: map[access.Gate]string{
				access.GateNone: "passed", access.GateUnknown: "unknown associate",
				access.GateInactive: "inactive", access.GateNotYetValid: "not yet valid",
				access.GateExpired: "expired", access.GateResource: "resources cannot sign in",
				access.GateAnonymous: "anonymous associates are obsolete",
				access.GateMalformed: "unknown associate type",
				access.GateNoLicence: "no valid licence",
			},
			prefix: "gate", zeroName: true, parse: access.ParseGate, values: allUint8[access.Gate],
		}.check(t, (*access.Gate).UnmarshalText)
	})
	t.Run("Restriction", func(t *testing.T) {
		enumCase[access.Restriction]{
			names: map[access.Restriction]string{
				access.RestrictVisibleAssociate: "visible to its owner only",
				access.RestrictVisibleGroup:     "visible to its owner and group only",
				access.RestrictUnpublished:      "not published, and external users see only published records",
				access.RestrictMembersOnly:      "its category is for members only",
				access.RestrictExternalScope:    "outside the external user's own company and projects",
			},
			prefix: "restriction", parse: access.ParseRestriction, values: allUint8[access.Restriction],
		}.check(t, (*access.Restriction).UnmarshalText)
	})
	t.Run("AssociateType", func(t *testing.T) {
		enumCase[access.AssociateType]{
			names: map[access.AssociateType]string{
				access.Internal: "internal", access.Resource: "resource", access.External: "external",
				access.Anonymous: "anonymous", access.System: "system",
			},
			prefix: "type", zeroName: true, parse: access.ParseAssociateType,
			values: func() []access.AssociateType {
				var out []access.AssociateType
				for i := -300; i <= 300; i++ {
					out = append(out, access.AssociateType(i))
				}
				return out
			},
		}.check(t, (*access.AssociateType).UnmarshalText)
	})
	t.Run("Reason", func(t *testing.T) {
		enumCase[access.Reason]{
			names: map[access.Reason]string{
				access.ViaPrimary: "primary group", access.ViaSecondary: "secondary group",
				access.ViaRole: "role", access.ViaRoleTree: "role or subordinate",
				access.ViaSmart: "smart rule", access.ViaGroup: "nested group",
			},
			prefix: "reason", parse: access.ParseReason, values: allUint8[access.Reason],
		}.check(t, (*access.Reason).UnmarshalText)
	})
	t.Run("Visibility", func(t *testing.T) {
		enumCase[access.Visibility]{
			names: map[access.Visibility]string{
				access.VisibleAll: "all", access.VisibleGroup: "group", access.VisibleAssociate: "associate",
			},
			prefix: "visibility", zeroName: true, parse: access.ParseVisibility, values: allUint8[access.Visibility],
		}.check(t, (*access.Visibility).UnmarshalText)
	})
	t.Run("LimitScope", func(t *testing.T) {
		enumCase[access.LimitScope]{
			names: map[access.LimitScope]string{
				access.LimitAll: "all records", access.LimitUnrelated: "unrelated records",
			},
			prefix: "limit scope", zeroName: true, parse: access.ParseLimitScope, values: allUint8[access.LimitScope],
		}.check(t, (*access.LimitScope).UnmarshalText)
	})
	t.Run("Channel", func(t *testing.T) {
		enumCase[access.Channel]{
			names:  map[access.Channel]string{access.ChannelClient: "client", access.ChannelAPI: "api"},
			prefix: "channel", parse: access.ParseChannel, values: allUint8[access.Channel],
		}.check(t, (*access.Channel).UnmarshalText)
	})
	t.Run("LicenceProblem", func(t *testing.T) {
		enumCase[access.LicenceProblem]{
			names: map[access.LicenceProblem]string{
				access.LicenceOK: "ok", access.LicenceMissing: "missing",
				access.LicenceNotYetValid: "not yet valid", access.LicenceExpired: "expired",
			},
			prefix: "licence problem", zeroName: true, parse: access.ParseLicenceProblem, values: allUint8[access.LicenceProblem],
		}.check(t, (*access.LicenceProblem).UnmarshalText)
	})
	t.Run("SignInCauseKind", func(t *testing.T) {
		enumCase[access.SignInCauseKind]{
			names: map[access.SignInCauseKind]string{
				access.SignInGate: "gate", access.SignInType: "type", access.SignInBackendLogin: "backend login",
			},
			prefix: "sign-in cause", parse: access.ParseSignInCauseKind, values: allUint8[access.SignInCauseKind],
		}.check(t, (*access.SignInCauseKind).UnmarshalText)
	})
	t.Run("Kind", func(t *testing.T) {
		enumCase[access.Kind]{
			names: map[access.Kind]string{
				access.KindRole: "role", access.KindGroup: "group", access.KindAssociate: "associate",
				access.KindSharingRule: "sharing rule", access.KindGrant: "grant",
				access.KindCategory: "category", access.KindImpersonation: "impersonation",
				access.KindLimit:     "limit",
				access.KindLicence:   "licence",
				access.KindPastOwner: "past owner",
			},
			prefix: "kind", parse: access.ParseKind, values: allUint8[access.Kind],
		}.check(t, (*access.Kind).UnmarshalText)
	})
	t.Run("EmailStatus", func(t *testing.T) {
		enumCase[access.EmailStatus]{
			names: map[access.EmailStatus]string{
				access.EmailUnchecked: "unchecked", access.EmailValid: "valid", access.EmailMissing: "no address",
				access.EmailBadFormat: "bad format", access.EmailNoDomain: "no such domain",
				access.EmailNoMX: "no MX record", access.EmailLookupFailed: "lookup failed",
			},
			prefix: "email status", zeroName: true, parse: access.ParseEmailStatus, values: allUint8[access.EmailStatus],
		}.check(t, (*access.EmailStatus).UnmarshalText)
	})
	t.Run("Dialect", func(t *testing.T) {
		enumCase[access.Dialect]{
			names:  map[access.Dialect]string{access.PostgreSQL: "postgresql", access.SQLite: "sqlite"},
			prefix: "dialect", parse: access.ParseDialect, values: allUint8[access.Dialect],
		}.check(t, (*access.Dialect).UnmarshalText)
	})
}

// crudLetters is the reference rendering of a CRUD set: its letters in the
// order C, R, U, D, or "-" for the empty set.
func crudLetters(c access.CRUD) string {
	s := ""
	for _, x := range []struct {
		bit access.CRUD
		ch  string
	}{{access.C, "C"}, {access.R, "R"}, {access.U, "U"}, {access.D, "D"}} {
		if c&x.bit != 0 {
			s += x.ch
		}
	}
	if s == "" {
		return "-"
	}
	return s
}

// TestCRUDText checks every one of the 256 byte values: the 16 valid sets
// marshal to their letters and back; the others fail MarshalText.
func TestCRUDText(t *testing.T) {
	for i := range 256 {
		c := access.CRUD(i)
		text, err := c.MarshalText()
		if !c.Valid() {
			if !errors.Is(err, access.ErrInvalid) {
				t.Errorf("CRUD(%#x).MarshalText = %q, %v; want an error wrapping ErrInvalid", i, text, err)
			}
			continue
		}
		if want := crudLetters(c); err != nil || string(text) != want || c.String() != want {
			t.Errorf("CRUD(%#x): MarshalText = %q, %v, String = %q; want %q", i, text, err, c.String(), want)
		}
		var back access.CRUD = access.LevelFull // to see that UnmarshalText overwrites
		if err := back.UnmarshalText(text); err != nil || back != c {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", text, back, err, c)
		}
	}
	for _, bad := range []string{"X", "RW", "--", "R-"} {
		var c access.CRUD
		if err := c.UnmarshalText([]byte(bad)); !errors.Is(err, access.ErrInvalid) {
			t.Errorf("UnmarshalText(%q) = %v, want an error wrapping ErrInvalid", bad, err)
		}
	}
}

// TestGridJSON pins the JSON shape of a grid and a role: relation names as
// keys and CRUD letters as values.
func TestGridJSON(t *testing.T) {
	role := access.Role{ID: 1, Name: "Sales", Rights: map[string]access.Grid{
		"*": {access.Owner: access.LevelFull, access.PrimaryGroup: access.LevelUpdate, access.Other: access.LevelRead},
	}}
	b, err := json.Marshal(role.Rights["*"])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"other":"R","owner":"CRUD","primary group":"CRU"}`; got != want {
		t.Errorf("grid JSON = %s, want %s", got, want)
	}
	b, err = json.Marshal(role)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ID":1,"Name":"Sales","Parent":0,"Rights":{"*":{"other":"R","owner":"CRUD","primary group":"CRU"}},"Functions":null,"LimitTeams":false}`
	if string(b) != want {
		t.Errorf("role JSON = %s, want %s", b, want)
	}

	// encoding/json does not wrap a map key's MarshalText error, so the
	// check is on the message.
	for _, tc := range []struct {
		name    string
		g       access.Grid
		wantErr string
	}{
		{"unknown relation", access.Grid{access.Relation(200): access.R}, "relation(200) has no name"},
		{"bits beyond CRUD", access.Grid{access.Owner: access.CRUD(0x30)}, "rights 0x30 hold bits beyond CRUD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if b, err := json.Marshal(tc.g); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("json.Marshal = %s, %v; want an error saying %q", b, err, tc.wantErr)
			}
		})
	}
	for _, in := range []string{`{"owner":"X"}`, `{"boss":"R"}`, `{"1":"R"}`, `{"owner":7}`} {
		var g access.Grid
		if err := json.Unmarshal([]byte(in), &g); err == nil {
			t.Errorf("json.Unmarshal(%s) = %v, want an error", in, g)
		}
	}
}

var relations = []access.Relation{
	access.Owner, access.Team, access.PrimaryGroup, access.OtherGroup, access.Subordinate,
	access.CategoryMember, access.MyCompany, access.SameProject, access.Other, access.Unowned,
}

func genGrid() *rapid.Generator[access.Grid] {
	return rapid.Custom(func(t *rapid.T) access.Grid {
		if rapid.Bool().Draw(t, "nil") {
			return nil
		}
		g := access.Grid{}
		for _, r := range relations {
			if rapid.Bool().Draw(t, "has "+r.String()) {
				g[r] = access.CRUD(rapid.IntRange(0, 15).Draw(t, r.String()))
			}
		}
		return g
	})
}

// TestGridJSONRoundTrip: a random grid marshals to an object whose keys are
// the relations' names and whose values are their letters (the reference),
// and unmarshals to an equal grid.
func TestGridJSONRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		g := genGrid().Draw(t, "grid")
		b, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		var asStrings map[string]string
		if err := json.Unmarshal(b, &asStrings); err != nil {
			t.Fatalf("%s is not an object of strings: %v", b, err)
		}
		var want map[string]string
		if g != nil {
			want = map[string]string{}
			for r, c := range g {
				want[r.String()] = crudLetters(c)
			}
		}
		if diff := cmp.Diff(want, asStrings); diff != "" {
			t.Fatalf("JSON %s (-want +got):\n%s", b, diff)
		}
		var back access.Grid
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(g, back); diff != "" {
			t.Fatalf("round trip of %s (-want +got):\n%s", b, diff)
		}
	})
}

// TestRoleJSONRoundTrip: a random role survives json.Marshal and
// json.Unmarshal unchanged.
func TestRoleJSONRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		role := access.Role{
			ID:     access.RoleID(rapid.Int64Range(1, 1<<40).Draw(t, "id")),
			Name:   rapid.StringMatching(`[A-Za-z ]{1,12}`).Draw(t, "name"),
			Parent: access.RoleID(rapid.Int64Range(0, 1<<40).Draw(t, "parent")),
		}
		if rapid.Bool().Draw(t, "has rights") {
			role.Rights = rapid.MapOf(rapid.StringMatching(`\*|[a-z]{1,8}`), genGrid()).Draw(t, "rights")
		}
		if rapid.Bool().Draw(t, "has functions") {
			role.Functions = rapid.SliceOfN(rapid.StringMatching(`[a-z-]{1,10}`), 1, 4).Draw(t, "functions")
		}
		b, err := json.Marshal(role)
		if err != nil {
			t.Fatal(err)
		}
		var back access.Role
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(role, back); diff != "" {
			t.Fatalf("round trip of %s (-want +got):\n%s", b, diff)
		}
	})
}

// fuzzEnumText checks that parse and UnmarshalText never panic, agree with
// each other on non-empty input, and that whatever they accept marshals
// back to exactly the input.
func fuzzEnumText[T textEnum](f *testing.F, parse func(string) (T, error), unmarshal func(*T, []byte) error, seeds ...T) {
	f.Add("")
	f.Add("nonsense")
	for _, s := range seeds {
		f.Add(s.String())
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parse(s)
		var u T
		uerr := unmarshal(&u, []byte(s))
		if s != "" && (err == nil) != (uerr == nil) {
			t.Fatalf("Parse(%q) error %v, UnmarshalText error %v: they disagree", s, err, uerr)
		}
		if err != nil {
			if !errors.Is(err, access.ErrInvalid) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalid", s, err)
			}
		} else if text, err := v.MarshalText(); err != nil || string(text) != s || v.String() != s {
			t.Fatalf("Parse(%q) = %v, which marshals to %q, %v", s, v, text, err)
		}
		if uerr == nil {
			if text, err := u.MarshalText(); err != nil || string(text) != s {
				t.Fatalf("UnmarshalText(%q) = %v, which marshals to %q, %v", s, u, text, err)
			}
		}
	})
}

func FuzzParseAction(f *testing.F) {
	fuzzEnumText(f, access.ParseAction, (*access.Action).UnmarshalText, access.Read, access.Delete)
}

func FuzzParseRelation(f *testing.F) {
	fuzzEnumText(f, access.ParseRelation, (*access.Relation).UnmarshalText, relations...)
}

func FuzzParseCauseKind(f *testing.F) {
	fuzzEnumText(f, access.ParseCauseKind, (*access.CauseKind).UnmarshalText, access.CauseGate, access.CauseNoRole)
}

func FuzzParseGate(f *testing.F) {
	fuzzEnumText(f, access.ParseGate, (*access.Gate).UnmarshalText, access.GateNone, access.GateResource)
}

func FuzzParseRestriction(f *testing.F) {
	fuzzEnumText(f, access.ParseRestriction, (*access.Restriction).UnmarshalText, access.RestrictUnpublished)
}

func FuzzParseAssociateType(f *testing.F) {
	fuzzEnumText(f, access.ParseAssociateType, (*access.AssociateType).UnmarshalText, access.Internal, access.System)
}

func FuzzParseReason(f *testing.F) {
	fuzzEnumText(f, access.ParseReason, (*access.Reason).UnmarshalText, access.ViaPrimary, access.ViaGroup)
}

func FuzzParseVisibility(f *testing.F) {
	fuzzEnumText(f, access.ParseVisibility, (*access.Visibility).UnmarshalText, access.VisibleAll, access.VisibleGroup)
}

func FuzzParseKind(f *testing.F) {
	fuzzEnumText(f, access.ParseKind, (*access.Kind).UnmarshalText, access.KindRole, access.KindSharingRule)
}

func FuzzParseLimitScope(f *testing.F) {
	fuzzEnumText(f, access.ParseLimitScope, (*access.LimitScope).UnmarshalText, access.LimitAll, access.LimitUnrelated)
}

func FuzzParseLicenceProblem(f *testing.F) {
	fuzzEnumText(f, access.ParseLicenceProblem, (*access.LicenceProblem).UnmarshalText, access.LicenceOK, access.LicenceNotYetValid)
}

func FuzzParseChannel(f *testing.F) {
	fuzzEnumText(f, access.ParseChannel, (*access.Channel).UnmarshalText, access.ChannelClient, access.ChannelAPI)
}

func FuzzParseSignInCauseKind(f *testing.F) {
	fuzzEnumText(f, access.ParseSignInCauseKind, (*access.SignInCauseKind).UnmarshalText, access.SignInGate, access.SignInBackendLogin)
}

func FuzzParseDialect(f *testing.F) {
	fuzzEnumText(f, access.ParseDialect, (*access.Dialect).UnmarshalText, access.PostgreSQL, access.SQLite)
}

// FuzzParseCRUD: ParseCRUD never panics, fails only with ErrInvalid, and
// what it accepts is a valid set that survives MarshalText and
// UnmarshalText (the letters may come back reordered: "rc" is "CR").
func FuzzParseCRUD(f *testing.F) {
	for _, s := range []string{"", "-", "CRUD", "rc", "R", "X", "--"} {
		f.Add(s)
	}
	letters := regexp.MustCompile(`^(-|C?R?U?D?)$`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := access.ParseCRUD(s)
		if err != nil {
			if !errors.Is(err, access.ErrInvalid) {
				t.Fatalf("ParseCRUD(%q) error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		text, err := c.MarshalText()
		if err != nil || !letters.Match(text) {
			t.Fatalf("ParseCRUD(%q) = %#x, which marshals to %q, %v", s, uint8(c), text, err)
		}
		var back access.CRUD
		if err := back.UnmarshalText(text); err != nil || back != c {
			t.Fatalf("UnmarshalText(%q) = %v, %v; want %v", text, back, err, c)
		}
	})
}

// FuzzGridJSON: decoding any JSON into a Grid never panics; a grid it
// accepts marshals again and decodes to the same grid.
func FuzzGridJSON(f *testing.F) {
	for _, s := range []string{`{"owner":"CRUD","primary group":"CRU","other":"R"}`, `{}`, `null`, `{"1":7}`, `{"owner":"rc"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var g access.Grid
		if json.Unmarshal([]byte(s), &g) != nil {
			return
		}
		b, err := json.Marshal(g)
		if err != nil {
			t.Fatalf("%s decoded to %v, which does not marshal: %v", s, g, err)
		}
		var back access.Grid
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s does not decode: %v", b, err)
		}
		if diff := cmp.Diff(g, back); diff != "" {
			t.Fatalf("%s → %s (-want +got):\n%s", s, b, diff)
		}
	})
}
