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

func TestMaps_ownCopiesOnce(t *testing.T) {
	var in Maps
	m1 := map[string]string{"dept": "sales", "city": "Oslo"}
	m2 := map[string]string{"city": "Oslo", "dept": "sales"}
	a, b := in.Own(m1), in.Own(m2)
	if !same(a, b) {
		t.Error("two equal maps were not given one copy")
	}
	if same(a, m1) || same(a, m2) {
		t.Error("Own returned the caller's map, not a copy")
	}
	m1["city"] = "Bergen"
	if a["city"] != "Oslo" {
		t.Errorf("changing the caller's map changed the copy: %v", a)
	}
	if c := in.Own(m1); same(c, a) || c["city"] != "Bergen" {
		t.Errorf("a different map was given %v", c)
	}
	if got := in.Own(nil); got != nil {
		t.Errorf("Own(nil) = %v", got)
	}
	if e := map[string]string{}; in.Own(e) == nil || same(in.Own(e), e) {
		t.Error("Own of an empty map did not give an empty map of its own")
	}
}

func TestMaps_ownCopiesAfterGivingUp(t *testing.T) {
	var in Maps
	for i := range 3 * giveUp {
		in.Own(map[string]string{"n": fmt.Sprint(i)})
	}
	m := map[string]string{"n": "x"}
	got := in.Own(m)
	if same(got, m) || got["n"] != "x" {
		t.Errorf("after giving up, Own gave %v (its argument: %v)", got, same(got, m))
	}
}
