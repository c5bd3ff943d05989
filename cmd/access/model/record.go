package model

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/crmaccess/access"
)

// Value is one written value in a record or a WHO argument: a bare word
// or a quoted string. A bare value of digits is an id; anything else is a
// name (quote a name made of digits: "42").
type Value struct {
	Text   string
	Quoted bool
}

// Ref returns the reference the value makes.
func (v Value) Ref() Ref {
	if !v.Quoted && isDigits(v.Text) {
		id, err := strconv.ParseInt(v.Text, 10, 64)
		if err == nil && id > 0 {
			return Ref{ID: id}
		}
	}
	return Ref{Name: v.Text}
}

// String writes the value so that parsing gives it back.
func (v Value) String() string {
	if v.Quoted {
		return strconv.Quote(v.Text)
	}
	return v.Text
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// RecordSpec is a record as written, before names are resolved.
type RecordSpec struct {
	Type   string
	Fields []Field
}

// Field is one key: value pair of a RecordSpec.
type Field struct {
	Key   string
	Value Value
}

// recordKeys are the keys a record may have, in the order String writes
// nothing special about; they name the fields of [access.Record].
var recordKeys = []string{"id", "owner", "group", "team", "company", "project", "category", "published", "visibility"}

// ParseRecord parses a record written as TYPE or TYPE{KEY: VALUE, …}, for
// example `contact{id: 42, owner: bo, group: Oslo}`. The keys are
//
//	id          the record's id
//	owner       the owning associate (name or id)
//	group       the group stamped on the record (name or id)
//	team        the group that owns the record as a team (name or id)
//	company     the record's company id
//	project     the record's project id
//	category    the record's Customer Service category (name or id)
//	published   true or false
//	visibility  all, group or associate
//
// A value is a bare word, up to the next comma or closing brace with the
// spaces around it trimmed, or a double-quoted Go string for a value with
// commas, braces or quotes in it. Bare digits are an id; quote a name made
// of digits. Errors wrap [access.ErrInvalid].
func ParseRecord(s string) (RecordSpec, error) {
	fail := func(format string, args ...any) (RecordSpec, error) {
		return RecordSpec{}, fmt.Errorf("%w: record %q: %s", access.ErrInvalid, s, fmt.Sprintf(format, args...))
	}
	typ, rest, braced := strings.Cut(s, "{")
	typ = strings.TrimSpace(typ)
	if typ == "" {
		return fail("the entity type is missing")
	}
	if strings.ContainsAny(typ, "}\",:") {
		return fail("the entity type %q has a character it may not", typ)
	}
	spec := RecordSpec{Type: typ}
	if !braced {
		return spec, nil
	}
	p := &scanner{s: rest}
	p.space()
	if p.eat('}') {
		if p.space(); !p.done() {
			return fail("unexpected %q after the closing brace", p.s[p.i:])
		}
		return spec, nil
	}
	for {
		p.space()
		key := p.word()
		if !slices.Contains(recordKeys, key) {
			return fail("unknown key %q (keys: %s)", key, strings.Join(recordKeys, ", "))
		}
		if slices.ContainsFunc(spec.Fields, func(f Field) bool { return f.Key == key }) {
			return fail("key %q is given twice", key)
		}
		if p.space(); !p.eat(':') {
			return fail("expected ':' after %q", key)
		}
		v, err := p.value()
		if err != nil {
			return fail("%s: %v", key, err)
		}
		spec.Fields = append(spec.Fields, Field{key, v})
		p.space()
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			break
		}
		return fail("expected ',' or '}' after the value of %q", key)
	}
	if p.space(); !p.done() {
		return fail("unexpected %q after the closing brace", p.s[p.i:])
	}
	return spec, nil
}

// String writes the record so that ParseRecord gives it back.
func (r RecordSpec) String() string {
	if len(r.Fields) == 0 {
		return r.Type
	}
	var b strings.Builder
	b.WriteString(r.Type)
	b.WriteByte('{')
	for i, f := range r.Fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.Key)
		b.WriteString(": ")
		b.WriteString(f.Value.String())
	}
	b.WriteByte('}')
	return b.String()
}

type scanner struct {
	s string
	i int
}

func (p *scanner) done() bool { return p.i >= len(p.s) }

func (p *scanner) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *scanner) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *scanner) word() string {
	start := p.i
	for p.i < len(p.s) && (p.s[p.i] >= 'a' && p.s[p.i] <= 'z') {
		p.i++
	}
	return p.s[start:p.i]
}

// value reads a quoted string or a bare word up to ',' or '}'.
func (p *scanner) value() (Value, error) {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '"' {
		q, err := strconv.QuotedPrefix(p.s[p.i:])
		if err != nil {
			return Value{}, fmt.Errorf("unterminated or malformed quoted value")
		}
		text, _ := strconv.Unquote(q)
		p.i += len(q)
		return Value{Text: text, Quoted: true}, nil
	}
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune(",}{\"", rune(p.s[p.i])) {
		p.i++
	}
	text := strings.Trim(p.s[start:p.i], " \t")
	if text == "" {
		return Value{}, fmt.Errorf("the value is missing")
	}
	return Value{Text: text}, nil
}

// ParseWho parses how an associate is named on a command line or in a
// test: a name, an id (bare digits), or a double-quoted name.
func ParseWho(s string) (Value, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, `"`) {
		text, err := strconv.Unquote(s)
		if err != nil {
			return Value{}, fmt.Errorf("%w: associate %s: malformed quoted name", access.ErrInvalid, s)
		}
		return Value{Text: text, Quoted: true}, nil
	}
	if s == "" {
		return Value{}, fmt.Errorf("%w: the associate is missing", access.ErrInvalid)
	}
	return Value{Text: s}, nil
}

// Record resolves a parsed record's names against the index.
func (x *Index) Record(spec RecordSpec) (access.Record, error) {
	rec := access.Record{Type: spec.Type}
	for _, f := range spec.Fields {
		var err error
		num := func() int64 {
			n, e := strconv.ParseInt(f.Value.Text, 10, 64)
			if e != nil || f.Value.Quoted || n < 0 {
				err = fmt.Errorf("%q is not a number", f.Value.Text)
			}
			return n
		}
		switch f.Key {
		case "id":
			rec.ID = num()
		case "owner":
			rec.Owner, err = x.Associate(f.Value.Ref())
		case "group":
			rec.Group, err = x.Group(f.Value.Ref())
		case "team":
			rec.Team, err = x.Group(f.Value.Ref())
		case "company":
			rec.Company = num()
		case "project":
			rec.Project = num()
		case "category":
			rec.Category, err = x.Category(f.Value.Ref())
		case "published":
			rec.Published, err = strconv.ParseBool(f.Value.Text)
			if err != nil {
				err = fmt.Errorf("%q is not true or false", f.Value.Text)
			}
		case "visibility":
			rec.Visibility, err = access.ParseVisibility(f.Value.Text)
		}
		if err != nil {
			return access.Record{}, fmt.Errorf("%w: record %s: %s: %v", access.ErrInvalid, spec, f.Key, err)
		}
	}
	return rec, nil
}
