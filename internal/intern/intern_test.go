package intern

import (
	"fmt"
	"reflect"
	"testing"
)

func same(a, b map[string]string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func TestMaps_equalMapsShareOne(t *testing.T) {
	var in Maps
	a := in.Intern(map[string]string{"dept": "sales", "city": "Oslo"})
	b := in.Intern(map[string]string{"city": "Oslo", "dept": "sales"})
	if !same(a, b) {
		t.Error("two equal maps were not given one map")
	}
	c := in.Intern(map[string]string{"dept": "sales", "city": "Bergen"})
	if same(a, c) || c["city"] != "Bergen" {
		t.Errorf("a different map was given %v", c)
	}
	if got := in.Intern(nil); got != nil {
		t.Errorf("Intern(nil) = %v", got)
	}
}

func TestMaps_givesUpOnDistinctMaps(t *testing.T) {
	var in Maps
	for i := range 3 * giveUp {
		in.Intern(map[string]string{"n": fmt.Sprint(i)})
	}
	if in.new != giveUp {
		t.Errorf("kept %d distinct maps, want %d", in.new, giveUp)
	}
	m := map[string]string{"n": "0"}
	if got := in.Intern(m); !same(got, m) {
		t.Error("after giving up, Intern did not return its argument")
	}
}
