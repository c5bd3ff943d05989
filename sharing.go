package access

import (
	"fmt"
	"slices"
)

// RuleID identifies a sharing rule.
type RuleID int64

// Principals is a set of associates described by who they are rather than
// listed one by one: named associates, the effective members of groups,
// the holders of roles, the holders of roles and of every role below them,
// or everyone. The zero value is the empty set.
type Principals struct {
	// Everyone makes the set hold every associate (and, as the owner side
	// of a sharing rule, every record, owned or not).
	Everyone             bool
	Associates           []AssociateID
	Groups               []GroupID
	Roles                []RoleID
	RolesAndSubordinates []RoleID
}

// IsEmpty reports whether the set names nobody.
func (p *Principals) IsEmpty() bool {
	return !p.Everyone && len(p.Associates)+len(p.Groups)+len(p.Roles)+len(p.RolesAndSubordinates) == 0
}

func (p Principals) clone() Principals {
	p.Associates = slices.Clone(p.Associates)
	p.Groups = slices.Clone(p.Groups)
	p.Roles = slices.Clone(p.Roles)
	p.RolesAndSubordinates = slices.Clone(p.RolesAndSubordinates)
	return p
}

func (p *Principals) check(what string) error {
	if err := checkLens(func() string { return what }, "associates", len(p.Associates), "groups", len(p.Groups),
		"roles", len(p.Roles), "roles and subordinates", len(p.RolesAndSubordinates)); err != nil {
		return err
	}
	for _, id := range p.Associates {
		if id <= 0 {
			return fmt.Errorf("%w: %s: associate id %d must be positive", ErrInvalid, what, id)
		}
	}
	for _, id := range p.Groups {
		if id <= 0 {
			return fmt.Errorf("%w: %s: group id %d must be positive", ErrInvalid, what, id)
		}
	}
	for _, id := range slices.Concat(p.Roles, p.RolesAndSubordinates) {
		if id <= 0 {
			return fmt.Errorf("%w: %s: role id %d must be positive", ErrInvalid, what, id)
		}
	}
	return nil
}

// SharingRule opens records owned by one set of associates to another set
// (vtiger and Salesforce sharing rules). It applies to a record of its
// entity type when the record's owner — or the group that owns the record
// as a team — is in From and the subject is in To, and then adds Rights to
// whatever the subject's role grants. Rules only ever add rights.
//
// An organisation-wide default ("public read only") is a rule from
// everyone to everyone.
type SharingRule struct {
	// ID identifies the rule; it must be positive.
	ID RuleID
	// Name describes the rule in explanations.
	Name string
	// EntityType is the record type the rule covers, or "*" for every type.
	EntityType string
	// From is the set of owners whose records the rule opens. A team-owned
	// record is in From when its team is one of From.Groups or is included
	// in one of them.
	From Principals
	// To is the set of subjects the records are opened to.
	To Principals
	// Rights is what the rule adds; it must not be empty.
	Rights CRUD
}

func (r SharingRule) clone() SharingRule {
	r.From = r.From.clone()
	r.To = r.To.clone()
	return r
}

func (r *SharingRule) check() error {
	switch {
	case r.ID <= 0:
		return fmt.Errorf("%w: sharing rule id %d must be positive", ErrInvalid, r.ID)
	case r.EntityType == "":
		return fmt.Errorf("%w: sharing rule %d: entity type is required (\"*\" for all)", ErrInvalid, r.ID)
	case r.Rights == 0 || !r.Rights.Valid():
		return fmt.Errorf("%w: sharing rule %d: rights %s must be a non-empty CRUD set", ErrInvalid, r.ID, r.Rights)
	case r.From.IsEmpty():
		return fmt.Errorf("%w: sharing rule %d: the from set is empty", ErrInvalid, r.ID)
	case r.To.IsEmpty():
		return fmt.Errorf("%w: sharing rule %d: the to set is empty", ErrInvalid, r.ID)
	}
	what := noun("sharing rule", int64(r.ID))
	if err := checkText(what, "name", r.Name, MaxNameLen); err != nil {
		return err
	}
	if err := checkText(what, "entity type", r.EntityType, MaxKeyLen); err != nil {
		return err
	}
	if err := r.From.check(fmt.Sprintf("sharing rule %d from", r.ID)); err != nil {
		return err
	}
	return r.To.check(fmt.Sprintf("sharing rule %d to", r.ID))
}
