package access

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

func TestParseSmartRule(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"name equals", `name == "anna"`, `name == "anna"`},
		{"spacing normalised", "  name==\"anna\"\n", `name == "anna"`},
		{"tabs and newlines", "role == 1\nor\trole == 2", `role == 1 or role == 2`},
		{"no space before keyword after string", `name == "x"and role == 1`, `name == "x" and role == 1`},
		{"not equal", `role != 3`, `role != 3`},
		{"negative integer", `company == -5`, `company == -5`},
		{"minus zero", `company == -0`, `company == 0`},
		{"int64 extremes", `company in [9223372036854775807, -9223372036854775808]`, `company in [9223372036854775807, -9223372036854775808]`},
		{"in keeps order and duplicates", `company in [3,1,3]`, `company in [3, 1, 3]`},
		{"string in", `name in ["b", "a"]`, `name in ["b", "a"]`},
		{"prefix", `name prefix "ext-"`, `name prefix "ext-"`},
		{"empty prefix", `attr.dept prefix ""`, `attr.dept prefix ""`},
		{"attr short form", `attr.dept == "Sales"`, `attr.dept == "Sales"`},
		{"attr key with dots and dashes", `attr.a.b-c_9 == ""`, `attr.a.b-c_9 == ""`},
		{"attr key that looks like a keyword", `attr.and == "x"`, `attr.and == "x"`},
		{"attr bracket form becomes short", `attr["dept"] == "x"`, `attr.dept == "x"`},
		{"attr bracket with spaces", `attr [ "dept" ] == "x"`, `attr.dept == "x"`},
		{"attr key with a space", `attr["cost center"] in ["A1", "B2"]`, `attr["cost center"] in ["A1", "B2"]`},
		{"attr key starting with a digit", `attr["1x"] == "y"`, `attr["1x"] == "y"`},
		{"attr empty key", `attr[""] == "y"`, `attr[""] == "y"`},
		{"attr key escapes", `attr["a\tb"] == "y"`, `attr["a\tb"] == "y"`},
		{"string escapes requoted", `name == "\x41\u00e9\t\""`, `name == "Aé\t\""`},
		{"invalid utf-8 kept as escape", `name == "\xff"`, `name == "\xff"`},
		{"projects contains", `projects contains 12`, `projects contains 12`},
		{"projects contains any", `projects contains any [1,2]`, `projects contains any [1, 2]`},
		{"and binds tighter than or", `role == 1 or role == 2 and role == 3`, `role == 1 or role == 2 and role == 3`},
		{"parentheses kept where needed", `(role == 1 or role == 2) and role == 3`, `(role == 1 or role == 2) and role == 3`},
		{"redundant parentheses dropped", `((((role == 1))))`, `role == 1`},
		{"redundant parentheses around and", `role == 1 or (role == 2 and role == 3)`, `role == 1 or role == 2 and role == 3`},
		{"and flattened", `role == 1 and (role == 2 and role == 3)`, `role == 1 and role == 2 and role == 3`},
		{"or flattened", `(role == 1 or (role == 2 or role == 3))`, `role == 1 or role == 2 or role == 3`},
		{"not binds tightest", `not role == 1 and role == 2`, `not role == 1 and role == 2`},
		{"not of group", `not (role == 1 and role == 2)`, `not (role == 1 and role == 2)`},
		{"not of or inside and", `not (role == 1 or role == 2) and role == 3`, `not (role == 1 or role == 2) and role == 3`},
		{"not of parenthesised comparison", `not (role == 1)`, `not role == 1`},
		{"double not kept", `not not role == 1`, `not not role == 1`},
		{"not without space", `not(role == 1)`, `not role == 1`},
		{"doc example", `name prefix "ext-" or (company == 1042 and projects contains any [7, 9])`, `name prefix "ext-" or company == 1042 and projects contains any [7, 9]`},
		{"nesting at the limit", strings.Repeat("(", 64) + "role == 1" + strings.Repeat(")", 64), `role == 1`},
		{"nots at the limit", strings.Repeat("not ", 64) + "role == 1", strings.Repeat("not ", 64) + "role == 1"},
		{"length at the limit", `name == "` + strings.Repeat("x", maxSmartRuleLen-10) + `"`, `name == "` + strings.Repeat("x", maxSmartRuleLen-10) + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseSmartRule(tt.src)
			if err != nil {
				t.Fatalf("ParseSmartRule(%q): %v", tt.src, err)
			}
			if diff := cmp.Diff(tt.want, r.String()); diff != "" {
				t.Errorf("String() (-want +got):\n%s", diff)
			}
			again, err := ParseSmartRule(r.String())
			if err != nil {
				t.Fatalf("reparsing %q: %v", r.String(), err)
			}
			if again.String() != r.String() {
				t.Errorf("reparsed String() = %q, want %q", again.String(), r.String())
			}
		})
	}
}

func TestParseSmartRuleErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"empty", ``, `offset 0: empty rule`},
		{"blank", " \n\t", `offset 3: empty rule`},
		{"unknown field", `name == "a" and dept == "x"`, `invalid: smart rule: offset 16: unknown field "dept" (want name, role, company, projects, attr.KEY)`},
		{"upper-case field", `Role == 1`, `offset 0: unknown field "Role" (want name, role, company, projects, attr.KEY; field names are lower-case)`},
		{"upper-case keyword", `role == 1 AND role == 2`, `offset 10: unexpected "AND" (keywords are lower-case)`},
		{"keyword as field", `in == 1`, `offset 0: expected a comparison, got keyword "in"`},
		{"single equals", `name = "x"`, `offset 5: unknown operator "=" after name (want ==, !=, in, prefix)`},
		{"word operator", `name like "x"`, `offset 5: unknown operator "like" after name (want ==, !=, in, prefix)`},
		{"less than", `role < 3`, `offset 5: unknown operator "<" after role (want ==, !=, in)`},
		{"missing operator", `role`, `offset 4: expected an operator after role (want ==, !=, in), got end of rule`},
		{"value instead of operator", `name "x"`, `offset 5: expected an operator after name (want ==, !=, in, prefix), got string "\"x\""`},
		{"prefix on integer", `role prefix "1"`, `offset 5: operator "prefix" does not apply to role (want ==, !=, in)`},
		{"equals on projects", `projects == 3`, `offset 9: operator "==" does not apply to projects (want contains, contains any)`},
		{"in on projects", `projects in [3]`, `operator "in" does not apply to projects`},
		{"contains on string", `attr.x contains "y"`, `offset 7: operator "contains" does not apply to attr.x (want ==, !=, in, prefix)`},
		{"contains on company", `company contains 1`, `operator "contains" does not apply to company`},
		{"string for integer", `role == "3"`, `offset 8: role is an integer; got string "\"3\""`},
		{"integer for string", `name == 3`, `offset 8: name is a string; got integer 3 (quote it: "3")`},
		{"string for project", `projects contains "7"`, `offset 18: projects is an integer; got string`},
		{"mixed int list", `role in [1, "2"]`, `offset 12: role is an integer; got string`},
		{"mixed string list", `attr["k k"] in ["a", 1]`, `offset 21: attr["k k"] is a string; got integer 1`},
		{"empty list", `role in []`, `offset 8: empty list`},
		{"in without list", `role in 3`, `offset 8: expected "[" to start a list, got integer 3`},
		{"unclosed list", `role in [1, 2`, `offset 13: expected "," or "]" in the list opened at offset 8, got end of rule`},
		{"list without commas", `role in [1 2]`, `offset 11: expected "," or "]" in the list opened at offset 8, got integer 2`},
		{"trailing comma", `role in [1,]`, `offset 11: expected an integer after role, got "]"`},
		{"contains with a list", `projects contains [1]`, `offset 18: "contains" takes one project id; write "contains any [...]" for a list`},
		{"contains any without list", `projects contains any 3`, `offset 22: expected "[" to start a list, got integer 3`},
		{"missing value", `name ==`, `offset 7: expected a string after name, got end of rule`},
		{"unterminated string", `name == "abc`, `offset 8: string literal not terminated`},
		{"unterminated after escape", `name == "abc\`, `offset 8: string literal not terminated`},
		{"newline in string", "name == \"a\nb\"", `offset 8: string literal not terminated`},
		{"bad escape", `name == "\q"`, `offset 8: malformed string literal "\"\\q\""`},
		{"raw string", "name == `a`", "offset 8: unexpected character '`'"},
		{"single quotes", `name == 'a'`, `offset 8: unexpected character '\''`},
		{"leading zero", `role == 007`, `offset 8: integer "007" has a leading zero`},
		{"negative leading zero", `role == -01`, `offset 8: integer "-01" has a leading zero`},
		{"overflow", `role == 9223372036854775808`, `offset 8: integer "9223372036854775808" is out of range`},
		{"underflow", `role == -9223372036854775809`, `is out of range`},
		{"letters after digits", `role == 12abc`, `offset 8: malformed integer "12abc"`},
		{"decimal point", `role == 1.5`, `offset 8: malformed integer "1.5"`},
		{"lone minus", `role == -`, `offset 8: unexpected character '-'`},
		{"plus sign", `role == +1`, `offset 8: unexpected character '+'`},
		{"trailing comparison", `role == 1 role == 2`, `offset 10: unexpected "role" after a complete comparison (want and, or or the end of the rule)`},
		{"trailing operator", `role == 1 &&`, `offset 10: unexpected "&&" after a complete comparison`},
		{"extra close paren", `role == 1)`, `offset 9: unexpected ")" with no matching "("`},
		{"unclosed paren", `(role == 1`, `offset 10: expected ")" to close "(" at offset 0, got end of rule`},
		{"unclosed inner paren", `((role == 1) or role == 2`, `offset 25: expected ")" to close "(" at offset 0, got end of rule`},
		{"garbage in parens", `(role == 1 2)`, `offset 11: expected ")" to close "(" at offset 0, got integer 2`},
		{"empty parens", `()`, `offset 1: expected a comparison, got ")"`},
		{"dangling and", `role == 1 and`, `offset 13: expected a comparison, got end of rule`},
		{"leading or", `or role == 1`, `offset 0: expected a comparison, got keyword "or"`},
		{"lone not", `not`, `offset 3: expected a comparison, got end of rule`},
		{"attr dot without key", `attr. == "x"`, `offset 5: attribute key after "attr." must match`},
		{"attr key starting with digit", `attr.1x == "x"`, `offset 5: attribute key after "attr." must match`},
		{"attr alone", `attr == "x"`, `offset 5: expected ".KEY" or ["key"] after attr, got "=="`},
		{"attr integer key", `attr[1] == "x"`, `offset 5: expected a quoted attribute key after "attr[", got integer 1`},
		{"attr unclosed bracket", `attr["x" == "y"`, `offset 9: expected "]" after the attribute key, got "=="`},
		{"unexpected character", `role == 1 # comment`, `offset 10: unexpected character '#'`},
		{"non-ascii space", "role\u00a0== 1", `offset 4: unexpected character '\u00a0'`},
		{"invalid utf-8", "role == 1 \xff", `offset 10: unexpected byte 0xff`},
		{"parens too deep", strings.Repeat("(", 65) + "role == 1" + strings.Repeat(")", 65), `offset 64: nesting deeper than 64`},
		{"nots too deep", strings.Repeat("not ", 65) + "role == 1", `offset 256: nesting deeper than 64`},
		{"too long", `name == "` + strings.Repeat("x", maxSmartRuleLen-9) + `"`, `offset 65536: rule is 65537 bytes long; the limit is 65536`},
		{"canonical form too long", "role in [" + strings.Repeat("1,", 32762) + "1]", `offset 0: rule is 98297 bytes long in canonical form; the limit is 65536`},
		{"long token cut short", strings.Repeat("x", 1000), `unknown field "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"…`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseSmartRule(tt.src)
			if err == nil {
				t.Fatalf("ParseSmartRule(%q) = %q, want an error containing %q", tt.src, r, tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %q does not wrap ErrInvalid", err)
			}
			if !strings.HasPrefix(err.Error(), "invalid: smart rule: offset ") {
				t.Errorf("error %q lacks the invalid: smart rule: offset prefix", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tt.want)
			}
			if r != nil {
				t.Errorf("rule %q returned alongside an error", r)
			}
		})
	}
}

// smartPeople are the associates the Match tables run against.
var smartPeople = map[string]*Associate{
	"anna": {ID: 1, Name: "Anna", Type: Internal, Role: 3, Company: 1042, Projects: []int64{7, 12},
		Attributes: map[string]string{"dept": "Sales", "cost center": "A1", "": "empty key"}},
	"bob": {ID: 2, Name: "bob.ext", Type: External, Role: 4, Company: -1},
	"karl": {ID: 3, Name: "\u212Aarl", Type: Internal, Role: 5, Projects: []int64{9, 10, 11, 12, 13, 14, 15, 16, 17, 18},
		Attributes: map[string]string{"dept": "sales"}},
	"zero": {},
}

func TestSmartRuleMatch(t *testing.T) {
	tests := []struct {
		rule string
		want []string // the smartPeople the rule matches, sorted
	}{
		{`name == "anna"`, []string{"anna"}},
		{`name == "ANNA"`, []string{"anna"}},
		{`name == "karl"`, []string{"karl"}}, // Kelvin sign folds to k
		{`name != "anna"`, []string{"bob", "karl", "zero"}},
		{`name in ["x", "BOB.EXT", "KARL"]`, []string{"bob", "karl"}},
		{`name prefix "bob."`, []string{"bob"}},
		{`name prefix "K"`, []string{"karl"}},
		{`name prefix "an"`, []string{"anna"}},
		{`name prefix "annas"`, nil},
		{`name prefix ""`, []string{"anna", "bob", "karl", "zero"}},
		{`name == ""`, []string{"zero"}},
		{`role == 3`, []string{"anna"}},
		{`role != 3`, []string{"bob", "karl", "zero"}},
		{`role in [4, 5]`, []string{"bob", "karl"}},
		{`role in [0]`, []string{"zero"}},
		{`role in [20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 5]`, []string{"karl"}}, // large list: binary search
		{`company == 1042`, []string{"anna"}},
		{`company == -1`, []string{"bob"}},
		{`company in [0, 1042]`, []string{"anna", "karl", "zero"}},
		{`projects contains 12`, []string{"anna", "karl"}},
		{`projects contains 18`, []string{"karl"}},
		{`projects contains 0`, nil},
		{`projects contains any [7, 99]`, []string{"anna"}},
		{`projects contains any [1, 2, 3, 4, 5, 6, 8, 20, 30, 40, 18]`, []string{"karl"}},
		{`projects contains any [100]`, nil},
		{`attr.dept == "Sales"`, []string{"anna"}}, // attributes compare exactly
		{`attr.dept == "sales"`, []string{"karl"}},
		{`attr.dept == ""`, []string{"bob", "zero"}}, // missing is empty
		{`attr.dept != ""`, []string{"anna", "karl"}},
		{`attr.dept prefix "S"`, []string{"anna"}},
		{`attr.dept in ["sales", "Support"]`, []string{"karl"}},
		{`attr.dept in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "Sales"]`, []string{"anna"}},
		{`attr["cost center"] == "A1"`, []string{"anna"}},
		{`attr[""] == "empty key"`, []string{"anna"}},
		{`attr.missing == ""`, []string{"anna", "bob", "karl", "zero"}},
		{`not role == 3`, []string{"bob", "karl", "zero"}},
		{`not not role == 3`, []string{"anna"}},
		{`role == 3 or role == 4 and company == 0`, []string{"anna"}},
		{`(role == 3 or role == 4) and company == -1`, []string{"bob"}},
		{`projects contains 12 and not attr.dept == "Sales"`, []string{"karl"}},
		{`not (role == 3 or name prefix "bob")`, []string{"karl", "zero"}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			r, err := ParseSmartRule(tt.rule)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, who := range slices.Sorted(maps.Keys(smartPeople)) {
				if r.Match(smartPeople[who]) {
					got = append(got, who)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("matches (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSmartRuleNil(t *testing.T) {
	var r *SmartRule
	if r.Match(smartPeople["anna"]) {
		t.Error("nil rule matched")
	}
	if got := r.String(); got != "" {
		t.Errorf("nil rule String() = %q, want empty", got)
	}
	r, err := ParseSmartRule(`not role == 1`)
	if err != nil {
		t.Fatal(err)
	}
	if r.Match(nil) {
		t.Error("rule matched a nil associate")
	}
	if (&SmartRule{}).Match(smartPeople["anna"]) {
		t.Error("zero rule matched")
	}
}

func TestSmartRuleMatchAllocs(t *testing.T) {
	r, err := ParseSmartRule(`name prefix "k" or name in ["x", "Anna"] or name == "bob.ext" and name != "y" ` +
		`or role in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] and not company == 7 or company in [1042] or role != 9 ` +
		`and (projects contains 12 or projects contains any [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) ` +
		`and attr.dept in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "Sales"] and attr["cost center"] prefix "A" ` +
		`and attr.dept != "x" and attr.x == ""`)
	if err != nil {
		t.Fatal(err)
	}
	for who, a := range smartPeople {
		if n := testing.AllocsPerRun(100, func() { r.Match(a) }); n != 0 {
			t.Errorf("Match(%s) allocates %v times per run, want 0", who, n)
		}
	}
}

// refRule is the rapid test's own syntax tree: independent of smartNode, so
// a bug the parser shares with the evaluator cannot hide.
type refRule struct {
	op    string // "and", "or", "not" or a comparison: "==", "!=", "in", "prefix", "contains", "contains any"
	kids  []refRule
	field string // "name", "role", "company", "projects" or "attr"
	key   string
	strs  []string // one operand, or the list
	nums  []int64
}

var (
	refNames = []string{"anna", "Anna", "ANNA", "an", "bob", "", "ſam", "Sam", "sam", "\u212Aarl", "karl",
		"é", "É", "\xff", "\ufffd", "x y", `a"b`, "ß", "ẞ"}
	refKeys   = []string{"dept", "Dept", "cost center", "a.b-c", "", "_x", "1x", "and", "\xff"}
	refValues = []string{"Sales", "sales", "", "S", "Sa", "é", "\n", "\xff"}
	refInts   = []int64{-1, 0, 1, 2, 3, 7, 12, math.MaxInt64, math.MinInt64}
)

func drawRefRule(t *rapid.T, depth int) refRule {
	kinds := []string{"cmp"}
	if depth > 0 {
		kinds = append(kinds, "and", "or", "not")
	}
	switch rapid.SampledFrom(kinds).Draw(t, "kind") {
	case "and", "or":
		r := refRule{op: kinds[rapid.IntRange(1, 2).Draw(t, "andor")]}
		for range rapid.IntRange(2, 4).Draw(t, "kids") {
			r.kids = append(r.kids, drawRefRule(t, depth-1))
		}
		return r
	case "not":
		return refRule{op: "not", kids: []refRule{drawRefRule(t, depth-1)}}
	}
	r := refRule{field: rapid.SampledFrom([]string{"name", "role", "company", "projects", "attr"}).Draw(t, "field")}
	str := rapid.OneOf(rapid.SampledFrom(append(refNames, refValues...)), rapid.String())
	num := rapid.SampledFrom(refInts)
	switch r.field {
	case "name", "attr":
		if r.field == "attr" {
			r.key = rapid.OneOf(rapid.SampledFrom(refKeys), rapid.String()).Draw(t, "key")
		}
		r.op = rapid.SampledFrom([]string{"==", "!=", "in", "prefix"}).Draw(t, "op")
		if r.op == "in" {
			r.strs = rapid.SliceOfN(str, 1, 12).Draw(t, "strs")
		} else {
			r.strs = []string{str.Draw(t, "str")}
		}
	case "role", "company":
		r.op = rapid.SampledFrom([]string{"==", "!=", "in"}).Draw(t, "op")
		if r.op == "in" {
			r.nums = rapid.SliceOfN(num, 1, 12).Draw(t, "nums")
		} else {
			r.nums = []int64{num.Draw(t, "num")}
		}
	case "projects":
		r.op = rapid.SampledFrom([]string{"contains", "contains any"}).Draw(t, "op")
		if r.op == "contains any" {
			r.nums = rapid.SliceOfN(num, 1, 12).Draw(t, "nums")
		} else {
			r.nums = []int64{num.Draw(t, "num")}
		}
	}
	return r
}

// render writes r as rule text, fully parenthesised, choosing spacing,
// quoting and the attribute form at random: every choice must parse to the
// same rule.
func render(t *rapid.T, r refRule) string {
	sp := func() string { return rapid.SampledFrom([]string{" ", "  ", "\t", "\n", " \r\n "}).Draw(t, "space") }
	quote := func(s string) string {
		if rapid.Bool().Draw(t, "ascii") {
			return strconv.QuoteToASCII(s)
		}
		return strconv.Quote(s)
	}
	var b strings.Builder
	switch r.op {
	case "and", "or":
		b.WriteString("(")
		for i, k := range r.kids {
			if i > 0 {
				b.WriteString(sp() + r.op + sp())
			}
			b.WriteString(render(t, k))
		}
		b.WriteString(")")
		return b.String()
	case "not":
		return "not" + sp() + "(" + render(t, r.kids[0]) + ")"
	}
	switch {
	case r.field != "attr":
		b.WriteString(r.field)
	case isRefKey(r.key) && rapid.Bool().Draw(t, "short"):
		b.WriteString("attr." + r.key)
	default:
		b.WriteString("attr[" + quote(r.key) + "]")
	}
	b.WriteString(sp() + r.op + sp())
	if r.op == "in" || r.op == "contains any" {
		var vs []string
		for _, s := range r.strs {
			vs = append(vs, quote(s))
		}
		for _, n := range r.nums {
			vs = append(vs, strconv.FormatInt(n, 10))
		}
		b.WriteString("[" + strings.Join(vs, ","+sp()) + "]")
	} else if r.strs != nil {
		b.WriteString(quote(r.strs[0]))
	} else {
		b.WriteString(strconv.FormatInt(r.nums[0], 10))
	}
	return b.String()
}

func isRefKey(k string) bool {
	for i, c := range k {
		ok := c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if i > 0 {
			ok = ok || '0' <= c && c <= '9' || c == '.' || c == '-'
		}
		if !ok {
			return false
		}
	}
	return k != ""
}

// eval is the reference evaluator: the language's meaning spelled out with
// no regard for speed.
func eval(r refRule, a *Associate) bool {
	switch r.op {
	case "and":
		for _, k := range r.kids {
			if !eval(k, a) {
				return false
			}
		}
		return true
	case "or":
		for _, k := range r.kids {
			if eval(k, a) {
				return true
			}
		}
		return false
	case "not":
		return !eval(r.kids[0], a)
	}
	var have string
	var n int64
	want := r.strs
	switch r.field {
	case "name":
		have = FoldName(a.Name)
		want = nil
		for _, s := range r.strs {
			want = append(want, FoldName(s))
		}
	case "attr":
		have = a.Attributes[r.key]
	case "role":
		n = int64(a.Role)
	case "company":
		n = a.Company
	case "projects":
		for _, want := range r.nums {
			for _, p := range a.Projects {
				if p == want {
					return true
				}
			}
		}
		return false
	}
	switch r.op {
	case "==":
		return want != nil && have == want[0] || r.nums != nil && n == r.nums[0]
	case "!=":
		return want != nil && have != want[0] || r.nums != nil && n != r.nums[0]
	case "prefix":
		return strings.HasPrefix(have, want[0])
	case "in":
		return slices.Contains(want, have) || slices.Contains(r.nums, n)
	}
	panic("unknown op " + r.op)
}

func drawAssociate(t *rapid.T) *Associate {
	a := &Associate{
		Name:     rapid.OneOf(rapid.SampledFrom(refNames), rapid.String()).Draw(t, "name"),
		Role:     RoleID(rapid.SampledFrom(refInts).Draw(t, "role")),
		Company:  rapid.SampledFrom(refInts).Draw(t, "company"),
		Projects: rapid.SliceOfN(rapid.SampledFrom(refInts), 0, 4).Draw(t, "projects"),
	}
	if rapid.Bool().Draw(t, "hasAttrs") {
		a.Attributes = rapid.MapOfN(rapid.SampledFrom(refKeys), rapid.SampledFrom(refValues), 0, 4).Draw(t, "attrs")
	}
	return a
}

func TestSmartRuleProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ast := drawRefRule(t, rapid.IntRange(0, 4).Draw(t, "depth"))
		src := render(t, ast)
		r, err := ParseSmartRule(src)
		if err != nil {
			t.Fatalf("ParseSmartRule(%q): %v", src, err)
		}
		// Different spelling, same rule: the canonical form must not change.
		other, err := ParseSmartRule(render(t, ast))
		if err != nil {
			t.Fatal(err)
		}
		if other.String() != r.String() {
			t.Fatalf("two renderings of one rule differ:\n%s\n%s", r, other)
		}
		again, err := ParseSmartRule(r.String())
		if err != nil {
			t.Fatalf("reparsing %q: %v", r, err)
		}
		if again.String() != r.String() {
			t.Fatalf("String() does not round-trip:\n%s\n%s", r, again)
		}
		for i := range 8 {
			a := drawAssociate(t)
			want := eval(ast, a)
			if got := r.Match(a); got != want {
				t.Fatalf("associate %d %+v: Match = %v, reference = %v\nrule %s", i, a, got, want, r)
			}
			if got := again.Match(a); got != want {
				t.Fatalf("associate %d %+v: reparsed Match = %v, reference = %v\nrule %s", i, a, got, want, r)
			}
		}
	})
}

func FuzzParseSmartRule(f *testing.F) {
	for _, s := range []string{
		`name == "anna"`,
		`role in [3, 4] and not attr.dept == "Support"`,
		`name prefix "ext-" or (company == 1042 and projects contains any [7, 9])`,
		`attr["cost center"] in ["A1", "B2"] and projects contains 12`,
		`not (role == 1 or role == 2) and company != -5`,
		`((name == "\u212Aarl\xff\t"))`,
		`attr.a.b-c prefix "" or attr[""] == "x"`,
		"name == \"raw\x01\xff\u00e9\"and(role==1)",
		`projects contains 7 or projects contains any [-1, 0, 9223372036854775807]`,
		`role == 007`,
		`(role == 1`,
		`name == "abc\`,
		strings.Repeat("not ", 70) + "role == 1",
		"",
	} {
		f.Add(s)
	}
	people := slices.Collect(maps.Values(smartPeople))
	f.Fuzz(func(t *testing.T, src string) {
		r, err := ParseSmartRule(src)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %q does not wrap ErrInvalid", err)
			}
			return
		}
		again, err := ParseSmartRule(r.String())
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", r, src, err)
		}
		if again.String() != r.String() {
			t.Fatalf("String() does not round-trip:\n%q\n%q", r, again)
		}
		for _, a := range people {
			if r.Match(a) != again.Match(a) {
				t.Fatalf("%q and its canonical form %q disagree on %+v", src, r, a)
			}
		}
	})
}

func BenchmarkSmartRuleMatch(b *testing.B) {
	r, err := ParseSmartRule(`role in [3, 4, 5] and not attr.dept == "Support" or name prefix "ext-" ` +
		`or company == 1042 and projects contains any [7, 9]`)
	if err != nil {
		b.Fatal(err)
	}
	people := make([]*Associate, 1000)
	for i := range people {
		people[i] = &Associate{
			Name:       fmt.Sprintf("user%d", i),
			Role:       RoleID(i % 10),
			Company:    int64(i % 2000),
			Projects:   []int64{int64(i % 13), int64(i % 17)},
			Attributes: map[string]string{"dept": []string{"Sales", "Support", "IT"}[i%3]},
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Match(people[i%len(people)])
	}
}

func ExampleParseSmartRule() {
	r, err := ParseSmartRule(`role in [3,4] and (attr["cost center"] == "A1" or name prefix "EXT-")`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r)
	fmt.Println(r.Match(&Associate{Name: "ext-anna", Role: 3}))
	fmt.Println(r.Match(&Associate{Name: "bob", Role: 4, Attributes: map[string]string{"cost center": "B2"}}))

	_, err = ParseSmartRule(`role in [3, 4] and dept == "Sales"`)
	fmt.Println(err)
	// Output:
	// role in [3, 4] and (attr["cost center"] == "A1" or name prefix "EXT-")
	// true
	// false
	// invalid: smart rule: offset 19: unknown field "dept" (want name, role, company, projects, attr.KEY)
}
