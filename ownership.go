package access

import "strconv"

// Relation is an ownership relation between a subject and a record: how the
// record is related to the associate asking about it. A role grants rights
// per relation (see [Grid]).
type Relation uint8

// The ownership relations. The zero value is not a relation.
const (
	_ Relation = iota
	// Owner: the record's owner is the subject.
	Owner
	// Team: the record is owned by a group the subject is an effective
	// member of; every effective member is an owner.
	Team
	// PrimaryGroup: the record's stamped group is the subject's primary group.
	PrimaryGroup
	// OtherGroup: the record's stamped group is another of the subject's
	// effective groups.
	OtherGroup
	// Subordinate: the record's owner holds a role strictly below the
	// subject's role.
	Subordinate
	// CategoryMember: the record's Customer Service category is one of the
	// subject's effective categories.
	CategoryMember
	// MyCompany: an external subject's company is the record's company.
	MyCompany
	// SameProject: the record's project is one of an external subject's
	// projects.
	SameProject
	// Other is the fallback for an internal subject when no specific
	// relation holds and the record has an owner or a team.
	Other
	// Unowned is the fallback when no specific relation holds and the
	// record has neither owner nor team.
	Unowned

	numRelations
)

var relationNames = [numRelations]string{
	Owner:          "owner",
	Team:           "team",
	PrimaryGroup:   "primary group",
	OtherGroup:     "other group",
	Subordinate:    "subordinate",
	CategoryMember: "category member",
	MyCompany:      "my company",
	SameProject:    "same project",
	Other:          "other",
	Unowned:        "unowned",
}

// Valid reports whether r is a defined relation.
func (r Relation) Valid() bool { return r > 0 && r < numRelations }

// String names the relation, or "relation(N)" for an undefined value.
func (r Relation) String() string {
	if r.Valid() {
		return relationNames[r]
	}
	return "relation(" + strconv.Itoa(int(r)) + ")"
}
