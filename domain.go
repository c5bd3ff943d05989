package access

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The value domain: what every store keeps exactly and hands back
// unchanged. [Batch.Validate] (and [Batch.Check]) refuse anything outside
// it with [ErrInvalid], naming the field and the value, before a store
// writes or looks anything up, so every store refuses the same values with
// the same error and no database driver sees a value it would refuse or
// alter.
//
//   - Ids of roles, groups, associates, categories, sharing rules, grants,
//     impersonation rules and limits are positive int64s. Other numbers (Company,
//     Projects, ServiceLogin, RecordID) are any int64 their field's rules
//     allow.
//   - Times are zero (no bound) or lie in the years [MinYear] to [MaxYear]
//     in UTC, and are whole microseconds ([TimePrecision]), the finest
//     PostgreSQL keeps. Finer times are refused rather than cut, so that
//     what a caller wrote is exactly what every store returns; use
//     t.Truncate(access.TimePrecision). Any location is accepted, and
//     stores return times in UTC.
//   - Strings are valid UTF-8 without NUL bytes (PostgreSQL refuses NUL,
//     and JSON turns invalid UTF-8 into U+FFFD, which would let two
//     attribute keys collapse into one). Names are at most [MaxNameLen]
//     bytes, keys at most [MaxKeyLen], values and smart rules at most
//     [MaxValueLen], group descriptions at most [MaxDescriptionLen] and
//     e-mail addresses at most [MaxEmailLen], without control characters.
//   - No list or map of one value holds more than [MaxListLen] entries.
const (
	// MaxNameLen is the longest name, in bytes, of an associate, group,
	// role, category or sharing rule.
	MaxNameLen = 255
	// MaxDescriptionLen is the longest group description, in bytes: a
	// line or two for a list view, not a document.
	MaxDescriptionLen = 1024
	// MaxEmailLen is the longest e-mail address, in bytes: RFC 5321's
	// limit on a path (256 octets with its angle brackets).
	MaxEmailLen = 254
	// MaxKeyLen is the longest key, in bytes: an entity type, a functional
	// right, an attribute or field name.
	MaxKeyLen = 255
	// MaxValueLen is the longest attribute or field value, and the longest
	// smart rule, in bytes.
	MaxValueLen = 4096
	// MaxListLen is the most entries one list or map of one value may
	// hold (an associate's Groups or Attributes, a group's Admins…).
	MaxListLen = 100_000
	// MinYear and MaxYear bound the years, in UTC, of a non-zero time.
	MinYear, MaxYear = 1, 9999
	// TimePrecision is the precision of stored times: a non-zero time
	// must be a whole number of it.
	TimePrecision = time.Microsecond
)

// textProblem says what puts s outside the domain of strings at most max
// bytes long, or returns "". It allocates only when there is a problem.
func textProblem(s string, max int) string {
	switch {
	case len(s) > max:
		return fmt.Sprintf("%s is %d bytes long, more than the %d allowed", quote(s), len(s), max)
	case !utf8.ValidString(s):
		return fmt.Sprintf("%s is not valid UTF-8", quote(s))
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Sprintf("%s contains a NUL byte", quote(s))
	}
	return ""
}

// quote renders s for an error message, cut short when it is long: the
// message must name the value without repeating kilobytes of it.
func quote(s string) string {
	const show = 40
	if len(s) <= show {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q…", s[:show])
}

// timeProblem says what puts t outside the domain of times, or returns "".
func timeProblem(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	u := t.UTC()
	if y := u.Year(); y < MinYear || y > MaxYear {
		return fmt.Sprintf("%s is outside the years %d to %d UTC", u.Format(time.RFC3339Nano), MinYear, MaxYear)
	}
	if u.Nanosecond()%int(TimePrecision) != 0 {
		return fmt.Sprintf("%s is finer than a microsecond (truncate it with t.Truncate(access.TimePrecision))", u.Format(time.RFC3339Nano))
	}
	return ""
}

// lenProblem says why a list or map of n entries is too long, or returns "".
func lenProblem(n int) string {
	if n > MaxListLen {
		return fmt.Sprintf("has %d entries, more than the %d allowed", n, MaxListLen)
	}
	return ""
}

// ValidName reports whether name may be a login name: non-empty, and
// inside the domain of names. Stores answer a lookup of any other name
// with [ErrNotFound] without asking their database, which might refuse
// the name or, worse, match it to another (invalid UTF-8 read as U+FFFD).
func ValidName(name string) bool {
	return name != "" && textProblem(name, MaxNameLen) == ""
}

// checkText returns an ErrInvalid error naming what (its owner and field)
// when s is outside the domain of strings at most max bytes long.
func checkText(what func() string, field, s string, max int) error {
	if p := textProblem(s, max); p != "" {
		return fmt.Errorf("%w: %s: %s %s", ErrInvalid, what(), field, p)
	}
	return nil
}

// checkEmail returns an ErrInvalid error naming what when the e-mail
// address e is outside the domain: too long, not UTF-8, or holding a
// control character (a line break in an address is a header injection
// waiting to happen). Format and domain are [Engine.ValidateEmails]'
// business: a store keeps the address a directory gave it.
func checkEmail(what func() string, e string) error {
	if err := checkText(what, "e-mail", e, MaxEmailLen); err != nil {
		return err
	}
	if i := strings.IndexFunc(e, unicode.IsControl); i >= 0 {
		return fmt.Errorf("%w: %s: e-mail %s contains the control character %U", ErrInvalid, what(), quote(e), []rune(e[i:])[0])
	}
	return nil
}

// checkTexts checks every string of a list with checkText.
func checkTexts(what func() string, field string, list []string, max int) error {
	if p := lenProblem(len(list)); p != "" {
		return fmt.Errorf("%w: %s: %s %s", ErrInvalid, what(), field, p)
	}
	for _, s := range list {
		if err := checkText(what, field, s, max); err != nil {
			return err
		}
	}
	return nil
}

// checkLens returns an ErrInvalid error for the first of the lists (by
// field name) that is too long.
func checkLens(what func() string, lens ...any) error {
	for i := 0; i+1 < len(lens); i += 2 {
		if p := lenProblem(lens[i+1].(int)); p != "" {
			return fmt.Errorf("%w: %s: %s %s", ErrInvalid, what(), lens[i], p)
		}
	}
	return nil
}

// checkKeys checks a map's size and keys (at most MaxKeyLen bytes) and,
// when value is not nil, its values. When several entries are bad it
// reports the one with the smallest key, so that the error does not depend
// on the order of map iteration and every store reports the same one.
func checkKeys[V any](what func() string, field string, m map[string]V, value func(V) string) error {
	if p := lenProblem(len(m)); p != "" {
		return fmt.Errorf("%w: %s: %s %s", ErrInvalid, what(), field, p)
	}
	problem := func(k string, v V) string {
		if p := textProblem(k, MaxKeyLen); p != "" {
			return "key " + p
		}
		if value != nil {
			if p := textProblem(value(v), MaxValueLen); p != "" {
				return fmt.Sprintf("%s value %s", quote(k), p)
			}
		}
		return ""
	}
	bad := false
	for k, v := range m {
		if problem(k, v) != "" {
			bad = true
			break
		}
	}
	if !bad {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare[string])
	for _, k := range keys {
		if p := problem(k, m[k]); p != "" {
			return fmt.Errorf("%w: %s: %s %s", ErrInvalid, what(), field, p)
		}
	}
	return nil
}

// checkTime returns an ErrInvalid error naming what and field when t is
// outside the domain of times.
func checkTime(what func() string, field string, t time.Time) error {
	if p := timeProblem(t); p != "" {
		return fmt.Errorf("%w: %s: %s %s", ErrInvalid, what(), field, p)
	}
	return nil
}

// noun returns a function naming one entity, as "associate 7", for the
// check helpers; it formats only when an error needs the name.
func noun(kind string, id int64) func() string {
	return func() string { return fmt.Sprintf("%s %d", kind, id) }
}

// Check reports the first value of b outside the value domain, or breaking
// a rule that needs no lookup (a required field, a type rule, an id that
// is not positive), or nil. It reads nothing else, so a store calls it
// before it sends any of b to its database. [Batch.Validate] runs the same
// checks first; every error wraps [ErrInvalid] or, for an entity listing
// itself, [ErrCycle].
func (b *Batch) Check() error {
	for i := range b.Roles {
		if err := b.Roles[i].check(); err != nil {
			return prefix(err)
		}
	}
	for i := range b.Groups {
		if err := b.Groups[i].check(); err != nil {
			return prefix(err)
		}
	}
	var vetted vettedMaps
	for i := range b.Associates {
		if err := b.Associates[i].checkVetted(&vetted); err != nil {
			return prefix(err)
		}
	}
	for i := range b.SharingRules {
		if err := b.SharingRules[i].check(); err != nil {
			return prefix(err)
		}
	}
	for i := range b.Grants {
		if err := b.Grants[i].check(); err != nil {
			return prefix(err)
		}
	}
	for i := range b.Categories {
		if err := b.Categories[i].check(); err != nil {
			return prefix(err)
		}
	}
	for i := range b.Limits {
		if err := b.Limits[i].check(); err != nil {
			return prefix(err)
		}
	}
	for i := range b.Impersonations {
		if err := b.Impersonations[i].check(); err != nil {
			return prefix(err)
		}
	}
	for i := range b.Licences {
		if err := b.Licences[i].check(); err != nil {
			return prefix(err)
		}
	}
	for _, d := range b.deletes() {
		for _, id := range d.ids {
			if id <= 0 {
				return fmt.Errorf("access: %w: cannot delete %s: ids are positive", ErrInvalid, Ref{d.kind, id})
			}
		}
	}
	for _, id := range b.ForgetPastOwners {
		if id <= 0 {
			return fmt.Errorf("access: %w: cannot forget past owner %d: ids are positive", ErrInvalid, id)
		}
	}
	if len(b.PastOwners) > 0 {
		return fmt.Errorf("access: %w: past owner %d: %v", ErrInvalid, b.PastOwners[0].ID, errPastOwnersPut)
	}
	moved := make(map[GroupID]bool, len(b.MovePastOwners))
	for _, m := range b.MovePastOwners {
		if m.From <= 0 || m.To <= 0 || m.From == m.To {
			return fmt.Errorf("access: %w: %s: two different positive group ids are needed", ErrInvalid, m)
		}
		if moved[m.From] {
			return fmt.Errorf("access: %w: %s: group %d is moved twice in one batch", ErrInvalid, m, m.From)
		}
		moved[m.From] = true
	}
	return nil
}
