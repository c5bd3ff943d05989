package sqlstore

import (
	"encoding/json"
	"fmt"
)

// decodeMap decodes a JSON object of strings: an attribute or field map.
// NULL (nil) and JSON null decode to a nil map.
func decodeMap(b []byte) (map[string]string, error) { return decodeMapIn(b, nil) }

// decodeMapIn is decodeMap taking the strings of a flat object from strs
// when it holds them (and adding them while it is small): a load of a
// million associates decodes a million attribute maps whose keys and most
// of whose values repeat, and keeps one copy of each.
func decodeMapIn(b []byte, strs interned) (map[string]string, error) {
	if b == nil {
		return nil, nil
	}
	if m, ok := decodeFlatIn(b, strs); ok {
		return m, nil
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("not a JSON object of strings: %w", err)
	}
	return m, nil
}

// decodeFlat decodes the common case several times faster than
// encoding/json: an object whose keys and values are strings of printable
// ASCII without escapes. It reports false for anything else, valid or
// not, which decodeMap leaves to encoding/json. Where it reports true,
// encoding/json would have produced the same map (FuzzDecodeFlat).
func decodeFlat(b []byte) (map[string]string, bool) { return decodeFlatIn(b, nil) }

func decodeFlatIn(b []byte, strs interned) (map[string]string, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	m := make(map[string]string, 4)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return m, skipSpace(b, i+1) == len(b)
	}
	for {
		k, j, ok := flatString(b, i)
		if !ok {
			return nil, false
		}
		if i = skipSpace(b, j); i >= len(b) || b[i] != ':' {
			return nil, false
		}
		v, j, ok := flatString(b, skipSpace(b, i+1))
		if !ok {
			return nil, false
		}
		m[strs.get(k)] = strs.get(v)
		if i = skipSpace(b, j); i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return m, skipSpace(b, i+1) == len(b)
		default:
			return nil, false
		}
	}
}

// flatString reads a string of printable ASCII without escapes starting
// at b[i], returning its bytes and the index after its closing quote.
func flatString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c < 0x20 || c >= 0x7f || c == '\\':
			return nil, j, false
		}
	}
	return nil, len(b), false
}

// interned holds one copy of strings met again and again; nil holds none.
type interned map[string]string

// internMax bounds the strings an interned table takes.
const internMax = 4096

// get returns b as a string, the table's copy when it has one.
func (t interned) get(b []byte) string {
	if t == nil {
		return string(b)
	}
	if s, ok := t[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(t) < internMax {
		t[s] = s
	}
	return s
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
