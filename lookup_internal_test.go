package access

import (
	"testing"

	"pgregory.net/rapid"
)

// TestLoginKey: two login names get the same key exactly when FoldName
// makes them equal, and a lower-case ASCII name is its own key.
func TestLoginKey(t *testing.T) {
	runes := []rune("aAbBkKsSzZ09._-@\u017f\u212a\u00e9\u00c9\u00df\u1e9e\u03a3\u03c3\u03c2")
	name := rapid.Custom(func(t *rapid.T) string {
		return string(rapid.SliceOfN(rapid.SampledFrom(runes), 0, 6).Draw(t, "runes"))
	})
	rapid.Check(t, func(t *rapid.T) {
		a, b := name.Draw(t, "a"), name.Draw(t, "b")
		if same, want := loginKey(a) == loginKey(b), FoldName(a) == FoldName(b); same != want {
			t.Fatalf("loginKey(%q) = %q, loginKey(%q) = %q: equal %v, FoldName says %v", a, loginKey(a), b, loginKey(b), same, want)
		}
	})
	if n := testing.AllocsPerRun(100, func() { loginKey("anna.berg@example.com") }); n != 0 {
		t.Errorf("loginKey of a lower-case ASCII name allocates %v times", n)
	}
}
