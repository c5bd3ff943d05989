package access

import "slices"

// This file is the one record of which entity refers to which. Batch
// validation (delete checks, dependants), store/memory's reverse index and
// the conformance test of internal/sqlstore's dependant queries are all
// derived from refFields; View.Dependants is defined by it. A reference
// added to an entity type is added here and nowhere else by hand:
// TestRefFieldsCoverEveryIDField fails until it is.

// refField is one field of an entity that holds the ids of other
// entities.
type refField struct {
	// name is the field's Go name; "From.Roles" for a field of a nested
	// struct.
	name string
	// to is the kind of entity the ids name.
	to Kind
	// refs calls yield with a Ref for each id the field of e holds, until
	// yield returns false, and reports whether it ran to the end. e is a
	// pointer to the struct of the field's kind.
	refs func(e any, yield func(Ref) bool) bool
	// move replaces every id from in the field of e by to, keeping the
	// first of any ids that become equal, and reports whether the field
	// changed. It is the setter beside refs: both come from one pointer
	// accessor, so no reference can be read without being movable
	// (TestRefFieldsMove checks every field).
	move func(e any, from, to int64) bool
	// merge appends to the field of dst the ids the field of src holds
	// that dst does not, and reports whether dst changed. A single-id
	// field takes src's id only when its own is 0.
	merge func(dst, src any) bool
}

// refFields lists, for each kind, the fields of its values that refer to
// other entities. Zero single ids (a Role without a Parent) refer to
// nothing.
var refFields = [...][]refField{
	KindRole: {
		one("Parent", KindRole, func(r *Role) *RoleID { return &r.Parent }),
	},
	KindGroup: {
		many("Groups", KindGroup, func(g *Group) *[]GroupID { return &g.Groups }),
		many("Roles", KindRole, func(g *Group) *[]RoleID { return &g.Roles }),
		many("RolesAndSubordinates", KindRole, func(g *Group) *[]RoleID { return &g.RolesAndSubordinates }),
		many("Admins", KindAssociate, func(g *Group) *[]AssociateID { return &g.Admins }),
	},
	KindAssociate: {
		one("PrimaryGroup", KindGroup, func(a *Associate) *GroupID { return &a.PrimaryGroup }),
		many("Groups", KindGroup, func(a *Associate) *[]GroupID { return &a.Groups }),
		one("Role", KindRole, func(a *Associate) *RoleID { return &a.Role }),
		many("Categories", KindCategory, func(a *Associate) *[]CategoryID { return &a.Categories }),
		many("Licences", KindLicence, func(a *Associate) *[]LicenceID { return &a.Licences }),
	},
	KindSharingRule: {
		many("From.Associates", KindAssociate, func(r *SharingRule) *[]AssociateID { return &r.From.Associates }),
		many("From.Groups", KindGroup, func(r *SharingRule) *[]GroupID { return &r.From.Groups }),
		many("From.Roles", KindRole, func(r *SharingRule) *[]RoleID { return &r.From.Roles }),
		many("From.RolesAndSubordinates", KindRole, func(r *SharingRule) *[]RoleID { return &r.From.RolesAndSubordinates }),
		many("To.Associates", KindAssociate, func(r *SharingRule) *[]AssociateID { return &r.To.Associates }),
		many("To.Groups", KindGroup, func(r *SharingRule) *[]GroupID { return &r.To.Groups }),
		many("To.Roles", KindRole, func(r *SharingRule) *[]RoleID { return &r.To.Roles }),
		many("To.RolesAndSubordinates", KindRole, func(r *SharingRule) *[]RoleID { return &r.To.RolesAndSubordinates }),
	},
	KindGrant: {
		one("Associate", KindAssociate, func(g *Grant) *AssociateID { return &g.Associate }),
		one("Group", KindGroup, func(g *Grant) *GroupID { return &g.Group }),
	},
	KindCategory: {
		one("Parent", KindCategory, func(c *Category) *CategoryID { return &c.Parent }),
		many("Groups", KindGroup, func(c *Category) *[]GroupID { return &c.Groups }),
		many("Roles", KindRole, func(c *Category) *[]RoleID { return &c.Roles }),
	},
	KindImpersonation: {
		one("Actor.Associate", KindAssociate, func(m *Impersonation) *AssociateID { return &m.Actor.Associate }),
		one("Actor.Group", KindGroup, func(m *Impersonation) *GroupID { return &m.Actor.Group }),
		one("Target.Associate", KindAssociate, func(m *Impersonation) *AssociateID { return &m.Target.Associate }),
		one("Target.Group", KindGroup, func(m *Impersonation) *GroupID { return &m.Target.Group }),
	},
	KindLimit: {
		one("Group", KindGroup, func(l *Limit) *GroupID { return &l.Group }),
	},
	KindLicence: nil,
}

// one makes the refField of a field holding a single id, 0 for none.
func one[E any, ID ~int64](name string, to Kind, field func(*E) *ID) refField {
	return refField{
		name: name, to: to,
		refs: func(e any, yield func(Ref) bool) bool {
			id := *field(e.(*E))
			return id == 0 || yield(Ref{Kind: to, ID: int64(id)})
		},
		move: func(e any, from, to int64) bool {
			p := field(e.(*E))
			if int64(*p) != from {
				return false
			}
			*p = ID(to)
			return true
		},
		merge: func(dst, src any) bool {
			d, s := field(dst.(*E)), field(src.(*E))
			if *d != 0 || *s == 0 {
				return false
			}
			*d = *s
			return true
		},
	}
}

// many makes the refField of a field holding a list of ids.
func many[E any, ID ~int64](name string, to Kind, field func(*E) *[]ID) refField {
	return refField{
		name: name, to: to,
		refs: func(e any, yield func(Ref) bool) bool {
			for _, id := range *field(e.(*E)) {
				if !yield(Ref{Kind: to, ID: int64(id)}) {
					return false
				}
			}
			return true
		},
		move: func(e any, from, to int64) bool {
			p := field(e.(*E))
			if !slices.Contains(*p, ID(from)) {
				return false
			}
			out := make([]ID, 0, len(*p))
			for _, id := range *p {
				if int64(id) == from {
					id = ID(to)
				}
				if id != ID(to) || !slices.Contains(out, id) {
					out = append(out, id)
				}
			}
			*p = out
			return true
		},
		merge: func(dst, src any) bool {
			d, s := field(dst.(*E)), field(src.(*E))
			changed := false
			for _, id := range *s {
				if !slices.Contains(*d, id) {
					*d = append(*d, id)
					changed = true
				}
			}
			return changed
		},
	}
}

// entityKind returns the kind of the entity e points to, or 0 if e is not
// a pointer to an entity.
func entityKind(e any) Kind {
	switch e.(type) {
	case *Role:
		return KindRole
	case *Group:
		return KindGroup
	case *Associate:
		return KindAssociate
	case *SharingRule:
		return KindSharingRule
	case *Grant:
		return KindGrant
	case *Category:
		return KindCategory
	case *Impersonation:
		return KindImpersonation
	case *Limit:
		return KindLimit
	case *Licence:
		return KindLicence
	}
	return 0
}

// References calls yield with each entity that e refers to, until yield
// returns false. e is a pointer to a [Role], [Group], [Associate],
// [SharingRule], [Grant], [Category], [Impersonation], [Limit] or [Licence]; References
// yields nothing for any other value. An entity that names the same one
// twice (a group listing a role in Roles and RolesAndSubordinates) yields
// it twice.
//
// It is the definition of [View.Dependants]: ref's dependants are the
// entities for which References yields ref. A store that keeps a reverse
// index can build it from References, as store/memory does.
func References(e any, yield func(Ref) bool) {
	k := entityKind(e)
	if k == 0 {
		return
	}
	for _, f := range refFields[k] {
		if !f.refs(e, yield) {
			return
		}
	}
}

// refersTo reports whether the entity e refers to ref.
func refersTo(e any, ref Ref) bool {
	found := false
	References(e, func(r Ref) bool {
		found = r == ref
		return !found
	})
	return found
}
