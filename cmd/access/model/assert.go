package model

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/crmaccess/access"
)

// Check is a parsed check line: WHO can/cannot ACTION RECORD, or WHO
// has/lacks RIGHT.
type Check struct {
	Who    Value
	Verb   string // "can", "cannot", "has" or "lacks"
	Action access.Action
	Record RecordSpec
	Right  string
}

var verbs = []string{"can", "cannot", "has", "lacks"}

// ParseCheck parses a check line. WHO is a name without spaces, an id, or
// a double-quoted name.
func ParseCheck(s string) (Check, error) {
	fail := func(format string, args ...any) (Check, error) {
		return Check{}, fmt.Errorf("%w: check %q: %s", access.ErrInvalid, s, fmt.Sprintf(format, args...))
	}
	s = strings.TrimSpace(s)
	// WHO runs up to the first verb: names may have spaces, and a name
	// with a verb as one of its words is quoted.
	var who, verb, rest string
	if strings.HasPrefix(s, `"`) {
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return fail("malformed quoted name")
		}
		who = q
		verb, rest, _ = strings.Cut(strings.TrimSpace(s[len(q):]), " ")
	} else {
		words := strings.Split(s, " ")
		for i := 1; i < len(words); i++ {
			if slices.Contains(verbs, words[i]) {
				who, verb, rest = strings.Join(words[:i], " "), words[i], strings.Join(words[i+1:], " ")
				break
			}
		}
	}
	if !slices.Contains(verbs, verb) {
		return fail("expected WHO, then can, cannot, has or lacks")
	}
	w, err := ParseWho(who)
	if err != nil {
		return fail("%v", err)
	}
	c := Check{Who: w, Verb: verb}
	rest = strings.TrimSpace(rest)
	if verb == "has" || verb == "lacks" {
		if rest == "" {
			return fail("the functional right is missing")
		}
		c.Right = rest
		return c, nil
	}
	act, rec, _ := strings.Cut(rest, " ")
	if c.Action, err = access.ParseAction(act); err != nil {
		return fail("unknown action %q (read, create, update, delete)", act)
	}
	if c.Record, err = ParseRecord(rec); err != nil {
		return fail("%v", err)
	}
	return c, nil
}

// Result is the outcome of one test.
type Result struct {
	// Title is the test's name, or what it checks.
	Title string
	Pos   Pos
	Pass  bool
	// Want and Got describe the expected and the actual outcome;
	// Explanation is how the library explains the actual one.
	Want, Got, Explanation string
}

// RunTests runs the file's tests against the resolver, naming things
// through the index, and returns one result per test, in file order. A
// test that cannot be run (a name that resolves to nothing, a resolver
// error) fails with the error as what came out.
func RunTests(ctx context.Context, e access.Resolver, x *Index, f *File) []Result {
	out := make([]Result, len(f.Tests))
	for i, t := range f.Tests {
		r := runTest(ctx, e, x, t)
		r.Pos = f.position(fmt.Sprintf("tests[%d]", i))
		out[i] = r
	}
	return out
}

func runTest(ctx context.Context, e access.Resolver, x *Index, t Test) Result {
	r := Result{Title: t.Name}
	set := 0
	for _, s := range []string{t.Check, t.Groups, t.WhoCan, t.SignIn} {
		if s != "" {
			set++
		}
	}
	if set != 1 {
		r.Title = cmpOr(r.Title, "test")
		r.Want, r.Got = "one of check, groups, who can or sign in", fmt.Sprintf("%d of them", set)
		return r
	}
	var err error
	switch {
	case t.Check != "":
		r.Title = cmpOr(r.Title, t.Check)
		err = runCheck(ctx, e, x, t, &r)
	case t.Groups != "":
		r.Title = cmpOr(r.Title, "groups of "+t.Groups)
		err = runGroups(ctx, e, x, t, &r)
	case t.SignIn != "":
		r.Title = cmpOr(r.Title, "sign in: "+t.SignIn)
		err = runSignIn(ctx, e, x, t, &r)
	default:
		r.Title = cmpOr(r.Title, "who can "+t.WhoCan)
		err = runWhoCan(ctx, e, x, t, &r)
	}
	if err != nil {
		r.Pass, r.Got, r.Explanation = false, "error: "+err.Error(), ""
		if r.Want == "" {
			r.Want = "an answer"
		}
	}
	return r
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func runCheck(ctx context.Context, e access.Resolver, x *Index, t Test, r *Result) error {
	c, err := ParseCheck(t.Check)
	if err != nil {
		return err
	}
	who, err := x.Associate(c.Who.Ref())
	if err != nil {
		return err
	}
	if c.Right != "" {
		r.Want = c.Verb + " " + c.Right
		has, err := e.Has(ctx, who, c.Right)
		if err != nil {
			return err
		}
		r.Got = "lacks " + c.Right
		if has {
			r.Got = "has " + c.Right
		}
		r.Pass = has == (c.Verb == "has")
		return nil
	}
	rec, err := x.Record(c.Record)
	if err != nil {
		return err
	}
	want := c.Verb == "can"
	r.Want = map[bool]string{true: "allow", false: "deny"}[want]
	if t.Explain != "" {
		r.Want += fmt.Sprintf(", explained with %q", t.Explain)
	}
	d, err := e.Can(ctx, who, c.Action, rec)
	if err != nil {
		return err
	}
	r.Got = map[bool]string{true: "allow", false: "deny"}[d.Allowed]
	r.Explanation = d.String()
	r.Pass = d.Allowed == want && strings.Contains(r.Explanation, t.Explain)
	return nil
}

// pathText renders a group and its path as "Norway: Oslo → Norway".
func pathText(group string, path []string) string {
	return group + ": " + strings.Join(path, " → ")
}

func runGroups(ctx context.Context, e access.Resolver, x *Index, t Test, r *Result) error {
	v, err := ParseWho(t.Groups)
	if err != nil {
		return err
	}
	who, err := x.Associate(v.Ref())
	if err != nil {
		return err
	}
	var want []string
	for _, g := range slices.Sorted(maps.Keys(t.Paths)) {
		want = append(want, pathText(g, t.Paths[g]))
	}
	slices.Sort(want)
	ms, err := e.EffectiveGroups(ctx, who)
	if err != nil {
		return err
	}
	var got, why []string
	for _, m := range ms {
		path := make([]string, len(m.Path))
		for i, g := range m.Path {
			path[i] = x.GroupName(g.ID)
		}
		got = append(got, pathText(x.GroupName(m.Group), path))
		why = append(why, m.String())
	}
	slices.Sort(got)
	r.Want, r.Got = list(want), list(got)
	r.Explanation = strings.Join(why, "\n")
	r.Pass = slices.Equal(want, got)
	return nil
}

func list(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, "; ")
}

func runWhoCan(ctx context.Context, e access.Resolver, x *Index, t Test, r *Result) error {
	act, rest, _ := strings.Cut(strings.TrimSpace(t.WhoCan), " ")
	a, err := access.ParseAction(act)
	if err != nil {
		return fmt.Errorf("%w: who can %q: unknown action %q", access.ErrInvalid, t.WhoCan, act)
	}
	spec, err := ParseRecord(rest)
	if err != nil {
		return err
	}
	rec, err := x.Record(spec)
	if err != nil {
		return err
	}
	var want []string
	for _, s := range t.Expect {
		v, err := ParseWho(s)
		if err != nil {
			return err
		}
		id, err := x.Associate(v.Ref())
		if err != nil {
			return err
		}
		want = append(want, x.AssociateName(id))
	}
	slices.Sort(want)
	allowed, err := e.WhoCan(ctx, a, rec)
	if err != nil {
		return err
	}
	var got, why []string
	for _, al := range allowed {
		got = append(got, x.AssociateName(al.Associate))
		why = append(why, AllowedText(x, al))
	}
	slices.Sort(got)
	r.Want, r.Got = list(want), list(got)
	r.Explanation = strings.Join(why, "\n")
	r.Pass = slices.Equal(want, got)
	return nil
}

// AllowedText renders one answer of WhoCan: "anna (11): CRUD as owner,
// by role Sales (1)".
func AllowedText(x *Index, a access.Allowed) string {
	b := a.Because
	var by string
	switch b.Kind {
	case access.CauseRole:
		by = fmt.Sprintf("role %s grants %s for %s", namedRef(x.roles.names[int64(b.Role)], int64(b.Role)), b.Rights, b.Relation)
	case access.CauseSharing:
		by = fmt.Sprintf("sharing rule %s adds %s", namedRef(x.rules[b.Rule], int64(b.Rule)), b.Rights)
	case access.CauseGrant:
		by = fmt.Sprintf("grant %d adds %s", b.Grant, b.Rights)
	case access.CauseDefault:
		by = fmt.Sprintf("default permission of %s adds %s", namedRef(x.groups.names[int64(b.Group)], int64(b.Group)), b.Rights)
	default:
		by = b.Kind.String()
	}
	return fmt.Sprintf("%s (%d): %s; %s; relations: %s", x.AssociateName(a.Associate), a.Associate, a.Rights, by, a.Relations)
}

func namedRef(name string, id int64) string {
	if name == "" {
		return strconv.FormatInt(id, 10)
	}
	return fmt.Sprintf("%s (%d)", name, id)
}

// Report writes the results for a CI log: one line per test, details under
// each failure, and a last line "N passed, N failed". It returns the
// number of failures.
func Report(w io.Writer, file string, results []Result) int {
	failed := 0
	for _, r := range results {
		where := file
		if r.Pos.Line > 0 {
			where = fmt.Sprintf("%s:%d", file, r.Pos.Line)
		}
		if r.Pass {
			fmt.Fprintf(w, "ok   %s: %s\n", where, r.Title)
			continue
		}
		failed++
		fmt.Fprintf(w, "FAIL %s: %s\n", where, r.Title)
		fmt.Fprintf(w, "     expected: %s\n", r.Want)
		fmt.Fprintf(w, "     got:      %s\n", r.Got)
		if r.Explanation != "" {
			for i, line := range strings.Split(r.Explanation, "\n") {
				if i == 0 {
					fmt.Fprintf(w, "     because:  %s\n", line)
				} else {
					fmt.Fprintf(w, "               %s\n", line)
				}
			}
		}
	}
	return failed
}

// signer is the part of [access.Engine] a sign-in test asks.
type signer interface {
	SignIn(ctx context.Context, who access.AssociateID, ch access.Channel) (access.SignInDecision, error)
}

// ParseSignIn reads a sign-in test, "WHO CHANNEL → allow" or "WHO CHANNEL
// → deny" ("->" works too), into who, the channel and whether it must be
// allowed.
func ParseSignIn(s string) (who Value, ch access.Channel, allow bool, err error) {
	left, right, ok := strings.Cut(s, "→")
	if !ok {
		left, right, ok = strings.Cut(s, "->")
	}
	if !ok {
		return Value{}, 0, false, fmt.Errorf("%w: sign in %q: write it as WHO CHANNEL → allow (or deny)", access.ErrInvalid, s)
	}
	switch strings.TrimSpace(right) {
	case "allow":
		allow = true
	case "deny":
	default:
		return Value{}, 0, false, fmt.Errorf("%w: sign in %q: expect allow or deny, not %q", access.ErrInvalid, s, strings.TrimSpace(right))
	}
	left = strings.TrimSpace(left)
	i := strings.LastIndexByte(left, ' ')
	if i < 0 {
		return Value{}, 0, false, fmt.Errorf("%w: sign in %q: name the associate and the channel (client or api)", access.ErrInvalid, s)
	}
	if ch, err = access.ParseChannel(left[i+1:]); err != nil {
		return Value{}, 0, false, fmt.Errorf("sign in %q: %w (client or api)", s, err)
	}
	who, err = ParseWho(left[:i])
	return who, ch, allow, err
}

func runSignIn(ctx context.Context, e access.Resolver, x *Index, t Test, r *Result) error {
	v, ch, allow, err := ParseSignIn(t.SignIn)
	if err != nil {
		return err
	}
	who, err := x.Associate(v.Ref())
	if err != nil {
		return err
	}
	si, ok := e.(signer)
	if !ok {
		return fmt.Errorf("the resolver cannot answer sign-in questions")
	}
	d, err := si.SignIn(ctx, who, ch)
	if err != nil {
		return err
	}
	verdict := func(b bool) string {
		if b {
			return "allow"
		}
		return "deny"
	}
	r.Want, r.Got, r.Explanation = verdict(allow), verdict(d.Allowed), d.String()
	r.Pass = d.Allowed == allow
	return nil
}
