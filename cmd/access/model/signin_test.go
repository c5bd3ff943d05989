package model

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

const signInFile = `
roles:
  - name: Sales
    functions: [backend-login]
groups:
  - name: Oslo
licences:
  - name: Sales Premier
    seats: 2
    for: [internal]
associates:
  - name: anna
    primary group: Oslo
    role: Sales
    licences: [Sales Premier]
  - name: bo
    primary group: Oslo
    role: Sales
  - name: partner
    type: external
    role: Sales
tests:
  - sign in: anna client → allow
  - sign in: bo api -> deny
  - sign in: partner client → deny
  - sign in: partner api → allow
  - sign in: anna client → deny
`

func TestSignInTests(t *testing.T) {
	ctx := context.Background()
	f, err := Parse("signin.yaml", []byte(signInFile))
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	_, x, err := Load(ctx, st, f)
	if err != nil {
		t.Fatal(err)
	}
	e, err := access.NewResolver(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var got []bool
	for _, r := range RunTests(ctx, e, x, f) {
		got = append(got, r.Pass)
	}
	if diff := cmp.Diff([]bool{true, true, true, true, false}, got); diff != "" {
		t.Errorf("passes (-want +got):\n%s", diff)
	}
	last := RunTests(ctx, e, x, f)[4]
	if last.Want != "deny" || last.Got != "allow" || last.Explanation == "" {
		t.Errorf("failing sign-in test: %+v", last)
	}
	// The licence round trips through export.
	back, err := Export(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	want := []Licence{{ID: 1, Name: "Sales Premier", Seats: 2, For: []string{"internal"}}}
	if diff := cmp.Diff(want, back.Licences); diff != "" {
		t.Errorf("exported licences (-want +got):\n%s", diff)
	}
}

func TestParseSignIn(t *testing.T) {
	for _, c := range []struct {
		in    string
		who   string
		ch    access.Channel
		allow bool
		bad   bool
	}{
		{in: "anna client → allow", who: "anna", ch: access.ChannelClient, allow: true},
		{in: "anna api -> deny", who: "anna", ch: access.ChannelAPI},
		{in: `"anna api" api → allow`, who: "anna api", ch: access.ChannelAPI, allow: true},
		{in: "anna client", bad: true},
		{in: "anna web → allow", bad: true},
		{in: "client → allow", bad: true},
		{in: "anna client → maybe", bad: true},
	} {
		who, ch, allow, err := ParseSignIn(c.in)
		if c.bad {
			if !errors.Is(err, access.ErrInvalid) {
				t.Errorf("ParseSignIn(%q) = %v; want ErrInvalid", c.in, err)
			}
			continue
		}
		if err != nil || who.Text != c.who || ch != c.ch || allow != c.allow {
			t.Errorf("ParseSignIn(%q) = %q, %s, %v, %v", c.in, who.Text, ch, allow, err)
		}
	}
}

// FuzzParseSignIn: the sign-in test parser never panics, and what it
// accepts names a defined channel and an associate.
func FuzzParseSignIn(f *testing.F) {
	for _, s := range []string{"anna client → allow", "bo api -> deny", `"x y" api → allow`, "→", "a  client→allow"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		who, ch, _, err := ParseSignIn(s)
		if err != nil {
			return
		}
		if !ch.Valid() || who.Text == "" {
			t.Fatalf("ParseSignIn(%q) accepted channel %d, associate %q", s, ch, who.Text)
		}
	})
}
