package access

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on rule text. Rules are read back from a database, so the parser
// must not recurse or allocate without bound whatever the text holds.
const (
	maxSmartRuleLen   = 64 << 10
	maxSmartRuleDepth = 64
)

// SmartRule is a parsed smart group rule: a predicate over an associate's
// login name, role, company, projects and attributes that decides who is a
// member of a smart group (see [Group.Smart]). A rule is data, never code: it
// is stored as text and parsed back with [ParseSmartRule].
//
// The grammar, in EBNF; tokens may be separated by spaces, tabs and
// newlines, and keywords and field names are lower-case:
//
//	rule       = and { "or" and } .
//	and        = unary { "and" unary } .
//	unary      = "not" unary | "(" rule ")" | comparison .
//	comparison = strfield ( "==" string | "!=" string | "in" strlist | "prefix" string )
//	           | intfield ( "==" int | "!=" int | "in" intlist )
//	           | "projects" "contains" ( int | "any" intlist ) .
//	strfield   = "name" | "attr." key | "attr" "[" string "]" .
//	intfield   = "role" | "company" .
//	strlist    = "[" string { "," string } "]" .
//	intlist    = "[" int { "," int } "]" .
//	key        = [A-Za-z_] { [A-Za-z0-9_.-] } .
//	string     = a double-quoted Go string literal, as strconv.Unquote reads it .
//	int        = [ "-" ] ( "0" | [1-9] { [0-9] } ), in the int64 range .
//
// So "and" binds tighter than "or", and "not" applies to the comparison or
// parenthesised rule right after it. Fields mean:
//
//   - name is the login name. It compares case-insensitively, the way logins
//     are told apart (see [FoldName]), so name == "anna" matches "Anna".
//   - role is the associate's [RoleID] and company its Company.
//   - projects is the set of the associate's Projects: "contains N" matches
//     when N is among them, "contains any [N, …]" when any listed id is.
//   - attr.KEY and attr["KEY"] are the attribute KEY, compared exactly, byte
//     for byte. A missing attribute is the empty string, so
//     attr.dept == "" matches associates without one.
//
// Examples:
//
//	role in [3, 4] and not attr.dept == "Support"
//	name prefix "ext-" or (company == 1042 and projects contains any [7, 9])
//	attr["cost center"] in ["A1", "B2"] and projects contains 12
//
// Rules longer than 64 KiB, or nesting parentheses and "not" deeper than 64,
// are rejected. [SmartRule.String] gives the rule's canonical text.
//
// A SmartRule is immutable and safe for concurrent use.
type SmartRule struct {
	root smartNode
	text string // canonical form, computed once at parse time
}

// ParseSmartRule parses rule text in the language described at [SmartRule].
// An error wraps [ErrInvalid] and names the byte offset at which the text
// goes wrong.
func ParseSmartRule(src string) (*SmartRule, error) {
	if len(src) > maxSmartRuleLen {
		return nil, smartErrorf(maxSmartRuleLen, "rule is %d bytes long; the limit is %d", len(src), maxSmartRuleLen)
	}
	p := &smartParser{src: src}
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.kind == tokEOF {
		return nil, smartErrorf(p.off, "empty rule")
	}
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.kind != tokEOF {
		return nil, p.trailing()
	}
	var b strings.Builder
	root.write(&b)
	// The canonical form spaces tokens out and escapes what the source may
	// have written raw, so it can outgrow the source. Refuse such rules, or
	// String would hand out text that ParseSmartRule rejects.
	if b.Len() > maxSmartRuleLen {
		return nil, smartErrorf(0, "rule is %d bytes long in canonical form; the limit is %d", b.Len(), maxSmartRuleLen)
	}
	return &SmartRule{root: root, text: b.String()}, nil
}

// String returns the rule's canonical text: one space between tokens,
// parentheses only where precedence needs them, nested "and"s and "or"s
// flattened, strings quoted with strconv.Quote and lists in their original
// order. Parsing it gives a rule with the same text and the same matches.
// A nil rule returns "".
func (r *SmartRule) String() string {
	if r == nil {
		return ""
	}
	return r.text
}

// Match reports whether the rule matches a. A nil rule or a nil associate
// matches nothing. It does not allocate.
func (r *SmartRule) Match(a *Associate) bool {
	if r == nil || a == nil {
		return false
	}
	return r.root.match(a)
}

func smartErrorf(off int, format string, args ...any) error {
	return fmt.Errorf("%w: smart rule: offset %d: %s", ErrInvalid, off, fmt.Sprintf(format, args...))
}

// smartOp is what a node does: combine its children, or compare a field.
type smartOp uint8

const (
	_ smartOp = iota
	smartAnd
	smartOr
	smartNot
	smartEq
	smartNe
	smartIn
	smartPrefix
	smartContains
	smartContainsAny
)

// smartField is the associate field a comparison reads.
type smartField uint8

const (
	_ smartField = iota
	fieldName
	fieldRole
	fieldCompany
	fieldProjects
	fieldAttr
)

// isString reports whether the field holds strings (name and attributes).
func (f smartField) isString() bool { return f == fieldName || f == fieldAttr }

// smartNode is one node of a compiled rule. A single concrete type, switched
// on op, keeps Match free of interface calls and allocations.
type smartNode struct {
	op    smartOp
	field smartField
	key   string      // attribute key, for fieldAttr
	str   string      // operand of ==, != and prefix on string fields
	num   int64       // operand of ==, != and contains on integer fields
	strs  []string    // in list as written, for String
	nums  []int64     // in or contains any list as written, for String
	set   []string    // strs sorted and deduplicated, for attr
	ints  []int64     // nums sorted and deduplicated
	kids  []smartNode // operands of and, or (two or more) and not (one)
}

// match reports whether associate a satisfies the expression n.
func (n *smartNode) match(a *Associate) bool {
	switch n.op {
	case smartAnd:
		for i := range n.kids {
			if !n.kids[i].match(a) {
				return false
			}
		}
		return true
	case smartOr:
		for i := range n.kids {
			if n.kids[i].match(a) {
				return true
			}
		}
		return false
	case smartNot:
		return !n.kids[0].match(a)
	}
	switch n.field {
	case fieldName:
		return n.matchName(a.Name)
	case fieldAttr:
		return n.matchString(a.Attributes[n.key])
	case fieldRole:
		return n.matchInt(int64(a.Role))
	case fieldCompany:
		return n.matchInt(a.Company)
	case fieldProjects:
		switch n.op {
		case smartContains:
			return slices.Contains(a.Projects, n.num)
		case smartContainsAny:
			for _, p := range a.Projects {
				if n.hasInt(p) {
					return true
				}
			}
		}
	}
	return false
}

func (n *smartNode) matchName(s string) bool {
	switch n.op {
	case smartEq:
		return strings.EqualFold(s, n.str)
	case smartNe:
		return !strings.EqualFold(s, n.str)
	case smartIn:
		for _, v := range n.strs {
			if strings.EqualFold(s, v) {
				return true
			}
		}
	case smartPrefix:
		return hasPrefixFold(s, n.str)
	}
	return false
}

func (n *smartNode) matchString(s string) bool {
	switch n.op {
	case smartEq:
		return s == n.str
	case smartNe:
		return s != n.str
	case smartIn:
		if len(n.set) <= 8 {
			return slices.Contains(n.set, s)
		}
		_, ok := slices.BinarySearch(n.set, s)
		return ok
	case smartPrefix:
		return strings.HasPrefix(s, n.str)
	}
	return false
}

func (n *smartNode) matchInt(v int64) bool {
	switch n.op {
	case smartEq:
		return v == n.num
	case smartNe:
		return v != n.num
	case smartIn:
		return n.hasInt(v)
	}
	return false
}

// hasInt reports whether v is in the node's list. Short lists are scanned:
// that beats a binary search until the list outgrows a cache line or so.
func (n *smartNode) hasInt(v int64) bool {
	if len(n.ints) <= 8 {
		return slices.Contains(n.ints, v)
	}
	_, ok := slices.BinarySearch(n.ints, v)
	return ok
}

// hasPrefixFold reports whether s begins with prefix under the same
// case-insensitive equality as strings.EqualFold and [FoldName], without
// allocating. Invalid UTF-8 reads as U+FFFD on both sides, as it does there.
func hasPrefixFold(s, prefix string) bool {
	for prefix != "" {
		if s == "" {
			return false
		}
		pr, pn := utf8.DecodeRuneInString(prefix)
		sr, sn := utf8.DecodeRuneInString(s)
		if !sameFold(pr, sr) {
			return false
		}
		prefix, s = prefix[pn:], s[sn:]
	}
	return true
}

// sameFold reports whether a and b lie in the same Unicode simple case
// folding orbit.
func sameFold(a, b rune) bool {
	if a == b {
		return true
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		return 'A' <= a && a <= 'Z' && b == a+'a'-'A' || 'A' <= b && b <= 'Z' && a == b+'a'-'A'
	}
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}

// write appends the node's canonical text to b.
func (n *smartNode) write(b *strings.Builder) {
	switch n.op {
	case smartOr:
		// Children of an or are never ors (they are flattened) and
		// everything else binds tighter, so none needs parentheses.
		for i := range n.kids {
			if i > 0 {
				b.WriteString(" or ")
			}
			n.kids[i].write(b)
		}
		return
	case smartAnd:
		for i := range n.kids {
			if i > 0 {
				b.WriteString(" and ")
			}
			n.kids[i].writeGrouped(b, n.kids[i].op == smartOr)
		}
		return
	case smartNot:
		b.WriteString("not ")
		n.kids[0].writeGrouped(b, n.kids[0].op == smartOr || n.kids[0].op == smartAnd)
		return
	}
	n.writeField(b)
	switch n.op {
	case smartEq:
		b.WriteString(" == ")
	case smartNe:
		b.WriteString(" != ")
	case smartIn:
		b.WriteString(" in ")
	case smartPrefix:
		b.WriteString(" prefix ")
	case smartContains:
		b.WriteString(" contains ")
	case smartContainsAny:
		b.WriteString(" contains any ")
	}
	switch {
	case n.op == smartIn && n.field.isString():
		b.WriteByte('[')
		for i, s := range n.strs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Quote(s))
		}
		b.WriteByte(']')
	case n.op == smartIn || n.op == smartContainsAny:
		b.WriteByte('[')
		for i, v := range n.nums {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.FormatInt(v, 10))
		}
		b.WriteByte(']')
	case n.field.isString():
		b.WriteString(strconv.Quote(n.str))
	default:
		b.WriteString(strconv.FormatInt(n.num, 10))
	}
}

// writeGrouped writes n, in parentheses if paren is set.
func (n *smartNode) writeGrouped(b *strings.Builder, paren bool) {
	if paren {
		b.WriteByte('(')
		n.write(b)
		b.WriteByte(')')
		return
	}
	n.write(b)
}

// writeField writes the field a comparison reads; an attribute in the short
// form when its key allows it.
func (n *smartNode) writeField(b *strings.Builder) {
	switch n.field {
	case fieldName:
		b.WriteString("name")
	case fieldRole:
		b.WriteString("role")
	case fieldCompany:
		b.WriteString("company")
	case fieldProjects:
		b.WriteString("projects")
	case fieldAttr:
		short := n.key != "" && isKeyStart(n.key[0])
		for i := 1; short && i < len(n.key); i++ {
			short = isKeyByte(n.key[i])
		}
		if short {
			b.WriteString("attr.")
			b.WriteString(n.key)
			return
		}
		b.WriteString("attr[")
		b.WriteString(strconv.Quote(n.key))
		b.WriteByte(']')
	}
}

func isKeyStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
}

func isIdentByte(c byte) bool { return isKeyStart(c) || '0' <= c && c <= '9' }

func isKeyByte(c byte) bool { return isIdentByte(c) || c == '.' || c == '-' }

// smartTok is the kind of a token.
type smartTok uint8

const (
	tokEOF     smartTok = iota
	tokIdent            // field name or keyword
	tokAttrKey          // attr.KEY; val holds KEY
	tokString           // val holds the unquoted value
	tokInt              // num holds the value
	tokLParen
	tokRParen
	tokLBrack
	tokRBrack
	tokComma
	tokEq
	tokNe
	tokOp // any other run of operator characters, such as "=" or "&&"
)

// smartOpChars are the characters operators are made of. A run of them
// lexes as one token, so "=" and "&&" are reported as unknown operators.
const smartOpChars = "=!<>~&|"

// smartParser is a recursive-descent parser that reads one token ahead.
type smartParser struct {
	src   string
	pos   int // offset just past the current token
	depth int // parentheses and nots currently open

	// The current token.
	kind smartTok
	off  int    // its offset
	text string // its source text
	val  string
	num  int64
}

// next reads the next token.
func (p *smartParser) next() error {
	for p.pos < len(p.src) {
		if c := p.src[p.pos]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			break
		}
		p.pos++
	}
	p.off = p.pos
	p.val, p.num = "", 0
	if p.pos == len(p.src) {
		p.kind, p.text = tokEOF, ""
		return nil
	}
	c := p.src[p.pos]
	switch {
	case isKeyStart(c):
		p.pos++
		for p.pos < len(p.src) && isIdentByte(p.src[p.pos]) {
			p.pos++
		}
		p.kind = tokIdent
		if p.src[p.off:p.pos] == "attr" && p.pos < len(p.src) && p.src[p.pos] == '.' {
			return p.attrKey()
		}
	case c == '"':
		return p.stringLit()
	case '0' <= c && c <= '9' || c == '-' && p.pos+1 < len(p.src) && '0' <= p.src[p.pos+1] && p.src[p.pos+1] <= '9':
		return p.intLit()
	case c == '(':
		p.pos++
		p.kind = tokLParen
	case c == ')':
		p.pos++
		p.kind = tokRParen
	case c == '[':
		p.pos++
		p.kind = tokLBrack
	case c == ']':
		p.pos++
		p.kind = tokRBrack
	case c == ',':
		p.pos++
		p.kind = tokComma
	case strings.IndexByte(smartOpChars, c) >= 0:
		for p.pos < len(p.src) && strings.IndexByte(smartOpChars, p.src[p.pos]) >= 0 {
			p.pos++
		}
		switch p.src[p.off:p.pos] {
		case "==":
			p.kind = tokEq
		case "!=":
			p.kind = tokNe
		default:
			p.kind = tokOp
		}
	default:
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		if r == utf8.RuneError && size == 1 {
			return smartErrorf(p.off, "unexpected byte 0x%02x", c)
		}
		return smartErrorf(p.off, "unexpected character %q", r)
	}
	p.text = p.src[p.off:p.pos]
	return nil
}

// attrKey reads the KEY of attr.KEY; p.pos is at the dot.
func (p *smartParser) attrKey() error {
	p.pos++
	start := p.pos
	if p.pos == len(p.src) || !isKeyStart(p.src[p.pos]) {
		return smartErrorf(p.pos, `attribute key after "attr." must match [A-Za-z_][A-Za-z0-9_.-]*; write attr["key"] for other keys`)
	}
	for p.pos < len(p.src) && isKeyByte(p.src[p.pos]) {
		p.pos++
	}
	p.kind, p.text, p.val = tokAttrKey, p.src[p.off:p.pos], p.src[start:p.pos]
	return nil
}

// stringLit reads a double-quoted string; p.pos is at the opening quote.
func (p *smartParser) stringLit() error {
	i := p.pos + 1
	for {
		if i >= len(p.src) || p.src[i] == '\n' {
			return smartErrorf(p.off, "string literal not terminated")
		}
		if p.src[i] == '\\' {
			i += 2
			continue
		}
		if p.src[i] == '"' {
			break
		}
		i++
	}
	p.pos = i + 1
	p.text = p.src[p.off:p.pos]
	v, err := strconv.Unquote(p.text)
	if err != nil {
		return smartErrorf(p.off, "malformed string literal %s", excerpt(p.text))
	}
	p.kind, p.val = tokString, v
	return nil
}

// intLit reads a decimal integer; p.pos is at its sign or first digit.
func (p *smartParser) intLit() error {
	if p.src[p.pos] == '-' {
		p.pos++
	}
	digits := p.pos
	for p.pos < len(p.src) && '0' <= p.src[p.pos] && p.src[p.pos] <= '9' {
		p.pos++
	}
	end := p.pos
	for end < len(p.src) && (isIdentByte(p.src[end]) || p.src[end] == '.') {
		end++
	}
	if end > p.pos {
		return smartErrorf(p.off, "malformed integer %s", excerpt(p.src[p.off:end]))
	}
	p.kind, p.text = tokInt, p.src[p.off:p.pos]
	if p.pos-digits > 1 && p.src[digits] == '0' {
		return smartErrorf(p.off, "integer %s has a leading zero", excerpt(p.text))
	}
	v, err := strconv.ParseInt(p.text, 10, 64)
	if err != nil {
		return smartErrorf(p.off, "integer %s is out of range", excerpt(p.text))
	}
	p.num = v
	return nil
}

// excerpt quotes s for an error message, cut short if it is long.
func excerpt(s string) string {
	const max = 40
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}

// describe names the current token for an error message.
func (p *smartParser) describe() string {
	switch p.kind {
	case tokEOF:
		return "end of rule"
	case tokString:
		return "string " + excerpt(p.text)
	case tokInt:
		return "integer " + p.text
	case tokIdent:
		if smartKeyword(p.text) {
			return "keyword " + strconv.Quote(p.text)
		}
	}
	return excerpt(p.text)
}

func smartKeyword(s string) bool {
	switch s {
	case "and", "or", "not", "in", "prefix", "contains", "any":
		return true
	}
	return false
}

func (p *smartParser) is(keyword string) bool { return p.kind == tokIdent && p.text == keyword }

// trailing reports the token that follows a complete rule.
func (p *smartParser) trailing() error {
	switch {
	case p.kind == tokRParen:
		return smartErrorf(p.off, `unexpected ")" with no matching "("`)
	case p.kind == tokIdent && smartKeyword(strings.ToLower(p.text)):
		return smartErrorf(p.off, "unexpected %s (keywords are lower-case)", excerpt(p.text))
	}
	return smartErrorf(p.off, "unexpected %s after a complete comparison (want and, or or the end of the rule)", p.describe())
}

// enter opens a level of nesting at off.
func (p *smartParser) enter(off int) error {
	if p.depth == maxSmartRuleDepth {
		return smartErrorf(off, "nesting deeper than %d", maxSmartRuleDepth)
	}
	p.depth++
	return nil
}

func (p *smartParser) parseOr() (smartNode, error) {
	return p.parseChain(smartOr, "or", p.parseAnd)
}

func (p *smartParser) parseAnd() (smartNode, error) {
	return p.parseChain(smartAnd, "and", p.parseUnary)
}

// parseChain parses operands joined by keyword into one flat node: children
// that are themselves op nodes (from parentheses) are spliced in, so the
// canonical form does not depend on how a chain was grouped.
func (p *smartParser) parseChain(op smartOp, keyword string, operand func() (smartNode, error)) (smartNode, error) {
	first, err := operand()
	if err != nil || !p.is(keyword) {
		return first, err
	}
	var kids []smartNode
	add := func(n smartNode) {
		if n.op == op {
			kids = append(kids, n.kids...)
		} else {
			kids = append(kids, n)
		}
	}
	add(first)
	for p.is(keyword) {
		if err := p.next(); err != nil {
			return smartNode{}, err
		}
		n, err := operand()
		if err != nil {
			return smartNode{}, err
		}
		add(n)
	}
	return smartNode{op: op, kids: kids}, nil
}

// parseUnary reads a "not", a parenthesised expression or a comparison.
func (p *smartParser) parseUnary() (smartNode, error) {
	open := p.off
	switch {
	case p.is("not"):
		if err := p.enter(open); err != nil {
			return smartNode{}, err
		}
		if err := p.next(); err != nil {
			return smartNode{}, err
		}
		n, err := p.parseUnary()
		if err != nil {
			return smartNode{}, err
		}
		p.depth--
		return smartNode{op: smartNot, kids: []smartNode{n}}, nil
	case p.kind == tokLParen:
		if err := p.enter(open); err != nil {
			return smartNode{}, err
		}
		if err := p.next(); err != nil {
			return smartNode{}, err
		}
		n, err := p.parseOr()
		if err != nil {
			return smartNode{}, err
		}
		if p.kind != tokRParen {
			return smartNode{}, smartErrorf(p.off, `expected ")" to close "(" at offset %d, got %s`, open, p.describe())
		}
		p.depth--
		return n, p.next()
	}
	return p.parseComparison()
}

// smartFields lists the fields for "unknown field" errors.
const smartFields = "want name, role, company, projects, attr.KEY"

// parseComparison reads one comparison — a field, an operator and its
// operand or list of operands — into a node.
func (p *smartParser) parseComparison() (smartNode, error) {
	var n smartNode
	if err := p.parseField(&n); err != nil {
		return n, err
	}
	field := n.fieldExcerpt()
	if err := p.parseOperator(&n, field); err != nil {
		return n, err
	}
	err := p.parseOperands(&n, field)
	return n, err
}

// parseField reads the field a comparison tests into n, and moves past
// it. Unknown fields and keywords in its place are errors that say what
// fields there are.
func (p *smartParser) parseField(n *smartNode) error {
	switch {
	case p.kind == tokAttrKey:
		n.field, n.key = fieldAttr, p.val
	case p.is("name"):
		n.field = fieldName
	case p.is("role"):
		n.field = fieldRole
	case p.is("company"):
		n.field = fieldCompany
	case p.is("projects"):
		n.field = fieldProjects
	case p.is("attr"):
		if err := p.next(); err != nil {
			return err
		}
		if p.kind != tokLBrack {
			return smartErrorf(p.off, `expected ".KEY" or ["key"] after attr, got %s`, p.describe())
		}
		if err := p.next(); err != nil {
			return err
		}
		if p.kind != tokString {
			return smartErrorf(p.off, `expected a quoted attribute key after "attr[", got %s`, p.describe())
		}
		n.field, n.key = fieldAttr, p.val
		if err := p.next(); err != nil {
			return err
		}
		if p.kind != tokRBrack {
			return smartErrorf(p.off, `expected "]" after the attribute key, got %s`, p.describe())
		}
	case p.kind == tokIdent && smartKeyword(p.text):
		return smartErrorf(p.off, "expected a comparison, got keyword %q", p.text)
	case p.kind == tokIdent:
		hint := ""
		switch strings.ToLower(p.text) {
		case "name", "role", "company", "projects", "attr":
			hint = "; field names are lower-case"
		}
		return smartErrorf(p.off, "unknown field %s (%s%s)", excerpt(p.text), smartFields, hint)
	default:
		return smartErrorf(p.off, "expected a comparison, got %s", p.describe())
	}
	return p.next()
}

// fieldExcerpt renders n's field for error messages, cut to 40 bytes.
func (n *smartNode) fieldExcerpt() string {
	var b strings.Builder
	n.writeField(&b)
	field := b.String()
	if len(field) > 40 {
		field = strings.ToValidUTF8(field[:40], "") + "…"
	}
	return field
}

// parseOperator reads the operator of a comparison on field into n, and
// moves past it. An operator the field does not take is an error that
// lists those it does.
func (p *smartParser) parseOperator(n *smartNode, field string) error {
	var want string
	switch n.field {
	case fieldName, fieldAttr:
		want = "==, !=, in, prefix"
	case fieldRole, fieldCompany:
		want = "==, !=, in"
	case fieldProjects:
		want = "contains, contains any"
	}
	opOff, opText := p.off, excerpt(p.text)
	switch {
	case (p.kind == tokEq || p.kind == tokNe) && n.field != fieldProjects:
		n.op = smartEq
		if p.kind == tokNe {
			n.op = smartNe
		}
	case p.is("in") && n.field != fieldProjects:
		n.op = smartIn
	case p.is("prefix") && n.field.isString():
		n.op = smartPrefix
	case p.is("contains") && n.field == fieldProjects:
		n.op = smartContains
	case p.kind == tokEq || p.kind == tokNe || p.is("in") || p.is("prefix") || p.is("contains"):
		return smartErrorf(opOff, "operator %s does not apply to %s (want %s)", opText, field, want)
	case p.kind == tokIdent || p.kind == tokOp:
		return smartErrorf(opOff, "unknown operator %s after %s (want %s)", opText, field, want)
	default:
		return smartErrorf(opOff, "expected an operator after %s (want %s), got %s", field, want, p.describe())
	}
	if err := p.next(); err != nil {
		return err
	}
	if n.op == smartContains && p.is("any") {
		n.op = smartContainsAny
		return p.next()
	}
	return nil
}

// parseOperands reads the operand of n's operator, or for in and contains
// any a non-empty bracketed list of them, and moves past it.
func (p *smartParser) parseOperands(n *smartNode, field string) error {
	if n.op != smartIn && n.op != smartContainsAny {
		if n.op == smartContains && p.kind == tokLBrack {
			return smartErrorf(p.off, `"contains" takes one project id; write "contains any [...]" for a list`)
		}
		return p.value(n, field)
	}
	if p.kind != tokLBrack {
		return smartErrorf(p.off, `expected "[" to start a list, got %s`, p.describe())
	}
	open := p.off
	if err := p.next(); err != nil {
		return err
	}
	if p.kind == tokRBrack {
		return smartErrorf(open, "empty list")
	}
	for {
		if err := p.value(n, field); err != nil {
			return err
		}
		if p.kind == tokRBrack {
			break
		}
		if p.kind != tokComma {
			return smartErrorf(p.off, `expected "," or "]" in the list opened at offset %d, got %s`, open, p.describe())
		}
		if err := p.next(); err != nil {
			return err
		}
	}
	n.compileSets()
	return p.next()
}

// value reads one operand of the type field holds into n, appending it to
// the list when n is an in or contains any, and moves past it.
func (p *smartParser) value(n *smartNode, field string) error {
	list := n.op == smartIn || n.op == smartContainsAny
	if n.field.isString() {
		switch p.kind {
		case tokString:
		case tokInt:
			return smartErrorf(p.off, "%s is a string; got integer %s (quote it: %q)", field, p.text, p.text)
		default:
			return smartErrorf(p.off, "expected a string after %s, got %s", field, p.describe())
		}
		if list {
			n.strs = append(n.strs, p.val)
		} else {
			n.str = p.val
		}
	} else {
		switch p.kind {
		case tokInt:
		case tokString:
			return smartErrorf(p.off, "%s is an integer; got string %s", field, excerpt(p.text))
		default:
			return smartErrorf(p.off, "expected an integer after %s, got %s", field, p.describe())
		}
		if list {
			n.nums = append(n.nums, p.num)
		} else {
			n.num = p.num
		}
	}
	return p.next()
}

// compileSets builds the lookup sets Match uses for a list.
func (n *smartNode) compileSets() {
	// Names compare case-insensitively, which a sorted set cannot serve, so
	// name lists are scanned as written.
	switch n.field {
	case fieldAttr:
		n.set = slices.Compact(slices.Sorted(slices.Values(n.strs)))
	case fieldRole, fieldCompany, fieldProjects:
		n.ints = slices.Compact(slices.Sorted(slices.Values(n.nums)))
	}
}
