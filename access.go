package access

import "strconv"

// Action is what a subject wants to do with a record. The zero value is not
// an action, and no right allows it.
type Action uint8

// The four record actions.
const (
	_ Action = iota
	Read
	Create
	Update
	Delete
)

// Valid reports whether a is one of the four actions.
func (a Action) Valid() bool { return a >= Read && a <= Delete }

// right is the CRUD bit that allows the action.
func (a Action) right() CRUD {
	switch a {
	case Read:
		return R
	case Create:
		return C
	case Update:
		return U
	case Delete:
		return D
	}
	return 0
}

// String names the action in lower case.
func (a Action) String() string {
	switch a {
	case Read:
		return "read"
	case Create:
		return "create"
	case Update:
		return "update"
	case Delete:
		return "delete"
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}
