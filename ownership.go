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

// Relations is a set of ownership relations.
type Relations uint16

// Has reports whether the set holds r.
func (s Relations) Has(r Relation) bool { return r.Valid() && s&(1<<r) != 0 }

// With returns the set with r added.
func (s Relations) With(r Relation) Relations { return s | 1<<r }

// All returns the relations in the set in their defined order.
func (s Relations) All() []Relation {
	var out []Relation
	for r := Owner; r < numRelations; r++ {
		if s.Has(r) {
			out = append(out, r)
		}
	}
	return out
}

// String lists the relations, comma-separated, or "none".
func (s Relations) String() string {
	if s == 0 {
		return "none"
	}
	var b []byte
	for _, r := range s.All() {
		if len(b) > 0 {
			b = append(b, ", "...)
		}
		b = append(b, r.String()...)
	}
	return string(b)
}

// Visibility is a record's own restriction of who may see it (SuperOffice
// VisibleFor). It can only narrow rights, never widen them.
type Visibility uint8

// The visibilities. The zero value, VisibleAll, restricts nothing.
const (
	// VisibleAll leaves the rights as the other layers grant them.
	VisibleAll Visibility = iota
	// VisibleGroup keeps rights only for the owner and the effective
	// members of the record's group.
	VisibleGroup
	// VisibleAssociate keeps rights only for the owner.
	VisibleAssociate
)

// String names the visibility.
func (v Visibility) String() string { return enumName(visibilityNames[:], v, "visibility") }

// Record describes the record a decision is about: the ownership columns
// the application keeps on its rows. Only Type is required.
type Record struct {
	// Type is the application's entity type, such as "contact" or "sale".
	Type string
	// ID is the record's id; explicit grants on one record match it.
	ID int64
	// Owner is the associate the record is assigned to (SuperOffice
	// associate_id), or 0.
	Owner AssociateID
	// Group is the group stamped on the record when it was assigned (see
	// [Engine.Stamp]): the owner's primary group at that time, not now.
	Group GroupID
	// Team is a group that owns the record as a whole; every effective
	// member is an owner. 0 when the record has no team.
	Team GroupID
	// Company is the record's company (contact) id, for external users.
	Company int64
	// Project is the record's project id, for external users.
	Project int64
	// Category is the record's Customer Service category, or 0.
	Category CategoryID
	// Published makes the record visible to external users.
	Published bool
	// Visibility restricts who keeps rights on the record.
	Visibility Visibility
}

// Stamp is the pair of ownership columns to write on a record when it is
// assigned to an associate.
type Stamp struct {
	Owner AssociateID
	// Group is the owner's primary group at assignment time, or 0 for
	// associates without usergroups.
	Group GroupID
}
