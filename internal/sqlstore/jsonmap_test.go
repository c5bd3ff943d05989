package sqlstore

import (
	"encoding/json"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

func TestDecodeMap(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string
		flat     bool // decoded by the fast path
		err      bool
	}{
		{"postgres jsonb", `{"city": "c12", "dept": "d3"}`, map[string]string{"city": "c12", "dept": "d3"}, true, false},
		{"compact", `{"a":"b"}`, map[string]string{"a": "b"}, true, false},
		{"empty", ` { } `, map[string]string{}, true, false},
		{"duplicate key, last wins", `{"a":"1","a":"2"}`, map[string]string{"a": "2"}, true, false},
		{"escape", `{"a":"x\"y"}`, map[string]string{"a": `x"y`}, false, false},
		{"unicode", `{"å":"ø"}`, map[string]string{"å": "ø"}, false, false},
		{"null", `null`, nil, false, false},
		{"number", `{"a":1}`, nil, false, true},
		{"trailing comma", `{"a":"b",}`, nil, false, true},
		{"array", `["a"]`, nil, false, true},
		{"trailing junk", `{"a":"b"} x`, nil, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, flat := decodeFlat([]byte(tc.in))
			if flat != tc.flat {
				t.Errorf("decodeFlat accepted %v, want %v", flat, tc.flat)
			}
			got, err := decodeMap([]byte(tc.in))
			if (err != nil) != tc.err {
				t.Fatalf("decodeMap error %v, want error %v", err, tc.err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("decodeMap (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzDecodeFlat checks that the fast path agrees with encoding/json on
// everything it accepts.
func FuzzDecodeFlat(f *testing.F) {
	for _, s := range []string{`{"city": "c12", "dept": "d3"}`, `{}`, `{"a":"1","a":"2"}`, `{"a":"b",}`, `{"a" : "b" }`, "{\"a\":\"b\"}\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := decodeFlat(b)
		if !ok {
			return
		}
		var want map[string]string
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("decodeFlat accepted %q, which encoding/json rejects: %v", b, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("decodeFlat(%q) (-encoding/json +decodeFlat):\n%s", b, diff)
		}
	})
}

// TestDecodeMapIn: decoding with a table of strings gives the maps
// decoding without one gives, and two maps share the strings they repeat.
func TestDecodeMapIn(t *testing.T) {
	strs := interned{}
	var maps []map[string]string
	for _, in := range []string{`{"city": "Oslo", "dept": "R&D"}`, `{"dept":"R&D","city":"Oslo","title":"CTO"}`, `{"x":"\u00e9"}`, `null`, `{}`} {
		got, err := decodeMapIn([]byte(in), strs)
		want, werr := decodeMap([]byte(in))
		if err != nil || werr != nil || !cmp.Equal(got, want) {
			t.Fatalf("%s: decodeMapIn %v, %v; decodeMap %v, %v", in, got, err, want, werr)
		}
		maps = append(maps, got)
	}
	a, b := maps[0]["city"], maps[1]["city"]
	if unsafe.StringData(a) != unsafe.StringData(b) || len(strs) != 6 {
		t.Fatalf("the maps do not share their strings (%d in the table)", len(strs))
	}
}
