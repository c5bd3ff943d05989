package accessdebug

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxParam bounds every parameter's length in bytes: names are at most a
// few hundred bytes, and nothing on these pages needs more.
const maxParam = 512

// maxChange bounds the what-if page's change, a JSON batch: a few
// entities, not a bulk load.
const maxChange = 64 << 10

// params are a request's query parameters, each given at most once.
type params map[string]string

// parseParams reads a raw query strictly: a malformed escape, a repeated
// parameter, invalid UTF-8, a control character or an overlong value is a
// 400, never silently dropped.
func parseParams(raw string) (params, error) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, badf("The query string is malformed: %v.", err)
	}
	q := params{}
	for k, vals := range v {
		if err := checkText("parameter name", k); err != nil {
			return nil, err
		}
		if len(vals) > 1 {
			return nil, badf("Parameter %q is given %d times; give it once.", k, len(vals))
		}
		check := checkText
		if k == "change" {
			check = checkLongText
		}
		if err := check("parameter "+strconv.Quote(k), vals[0]); err != nil {
			return nil, err
		}
		q[k] = vals[0]
	}
	return q, nil
}

func checkText(what, s string) error {
	switch {
	case len(s) > maxParam:
		return badf("The %s is %d bytes long; at most %d are accepted.", what, len(s), maxParam)
	case !utf8.ValidString(s):
		return badf("The %s is not valid UTF-8.", what)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return badf("The %s contains a control character.", what)
	}
	return nil
}

// checkLongText is checkText for a multi-line text of up to maxChange
// bytes: line breaks and tabs are allowed, other control characters not.
func checkLongText(what, s string) error {
	switch {
	case len(s) > maxChange:
		return badf("The %s is %d bytes long; at most %d are accepted.", what, len(s), maxChange)
	case !utf8.ValidString(s):
		return badf("The %s is not valid UTF-8.", what)
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) >= 0:
		return badf("The %s contains a control character.", what)
	}
	return nil
}

// only fails when q holds a parameter the page does not take, so that a
// mistyped name is reported instead of ignored.
func (q params) only(page string, allowed ...string) error {
	for k := range q {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			if len(allowed) == 0 {
				return badf("The %s page takes no parameters; %q is not one.", page, k)
			}
			return badf("The %s page takes no parameter %q; it takes %s.", page, k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// id reads a required positive id.
func (q params) id(name string) (int64, error) {
	s, ok := q[name]
	if !ok || s == "" {
		return 0, badf("Parameter %q is required: a positive id.", name)
	}
	return positive(name, s)
}

// optID reads an optional id: absent or empty is 0.
func (q params) optID(name string) (int64, error) {
	s := q[name]
	if s == "" {
		return 0, nil
	}
	return positive(name, s)
}

func positive(name, s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0, badf("Parameter %q must be a positive whole number; %q is not.", name, s)
	}
	return n, nil
}
