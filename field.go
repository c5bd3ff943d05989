package access

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// FieldValue is the value of a custom field for an associate and where it
// came from.
type FieldValue struct {
	// Value is the field's value; "" when Found is false.
	Value string
	// Found reports whether the associate or one of its groups has the field.
	Found bool
	// Group is the group the value came from, or the zero GroupRef when
	// it is the associate's own value.
	Group GroupRef
}

// Field returns the associate's value for a custom field: its own
// (Attributes) when it has one, otherwise its groups' (Group.Fields): the
// primary group first, then the other effective groups nearest first
// (fewest nesting hops), ties broken by the lowest group id. Unknown
// associate: an error wrapping [ErrNotFound].
//
// A value that is empty or only white space counts as no value, on the
// associate and on a group alike: Dynamicweb's group
// values are fallbacks "if the field has no value on a user", and a
// cleared form field is stored as "". So an associate whose own value is
// blank gets its groups' value, and a group whose value is blank is
// passed over for the next one. A value that is found is returned as
// stored, untrimmed.
func (e *Engine) Field(ctx context.Context, who AssociateID, key string) (FieldValue, error) {
	s, err := e.current()
	if err != nil {
		return FieldValue{}, err
	}
	_, n := s.assoc(who)
	if n == nil {
		return FieldValue{}, fmt.Errorf("access: Field: associate %d: %w", who, ErrNotFound)
	}
	if v, ok := n.a.Attributes[key]; ok && hasValue(v) {
		return FieldValue{Value: v, Found: true}, nil
	}
	best, bestHops := int32(-1), 0
	var vias []via // computed for the first group with the field
	groups := s.groupsOf(n)
	for i, g := range groups {
		if v, ok := s.groups[g].group.Fields[key]; !ok || !hasValue(v) {
			continue
		}
		if vias == nil {
			_, vias = s.explanations(n) // they explain groupsOf(n), as groups is
		}
		hops := hops(groups, vias, i)
		if s.groups[g].group.ID == n.a.PrimaryGroup {
			hops = -1 // the primary group comes first
		}
		if best < 0 || hops < bestHops || (hops == bestHops && s.groups[g].group.ID < s.groups[best].group.ID) {
			best, bestHops = g, hops
		}
	}
	if best < 0 {
		return FieldValue{}, nil
	}
	gn := s.groups[best]
	return FieldValue{Value: gn.group.Fields[key], Found: true, Group: GroupRef{gn.group.ID, gn.group.Name}}, nil
}

// hasValue reports whether v counts as a custom field value for
// [Engine.Field]: it does unless it is empty or only white space.
func hasValue(v string) bool { return strings.TrimSpace(v) != "" }

// hops counts the nesting edges on the shortest path to groups[i]; vias
// explains groups.
func hops(groups []int32, vias []via, i int) int {
	h := 0
	for vias[i].reason() == ViaGroup && h <= len(groups) {
		j, ok := slices.BinarySearch(groups, vias[i].from())
		if !ok {
			break
		}
		i = j
		h++
	}
	return h
}
