package access

import "slices"

// Batch is a set of writes that succeed or fail together: puts (insert or
// replace by id) and deletes by id, of every kind a store holds.
//
// A batch is declarative: its order does not matter, and it is validated as
// a whole against the model it is applied to, so a bulk load may put a group
// and the associates that name it in one batch, or delete a group and move
// its members elsewhere in the same batch. Naming one id twice in a batch
// (two puts, or a put and a delete) is invalid.
type Batch struct {
	Roles          []Role
	Groups         []Group
	Associates     []Associate
	SharingRules   []SharingRule
	Grants         []Grant
	Categories     []Category
	Impersonations []Impersonation
	Limits         []Limit
	Licences       []Licence

	DeleteRoles          []RoleID
	DeleteGroups         []GroupID
	DeleteAssociates     []AssociateID
	DeleteSharingRules   []RuleID
	DeleteGrants         []GrantID
	DeleteCategories     []CategoryID
	DeleteImpersonations []ImpersonationID
	DeleteLimits         []LimitID
	DeleteLicences       []LicenceID

	// ForgetPastOwners lists associates whose records the application has
	// transferred: their [PastOwner] entries go. Forgetting an id that
	// has none is not an error.
	ForgetPastOwners []AssociateID
	// PastOwners is written by stores only (see [Batch.KeepPastOwners]):
	// a [Delta] carries the past owners a write kept. A caller's batch
	// that sets it is invalid.
	PastOwners []PastOwner
	// MovePastOwners gives past owners another primary group: after the
	// batch, every [PastOwner] whose PrimaryGroup was a move's From has
	// the move's To ([TransferGroup] sets it, so that a sharing rule from
	// the group keeps opening the past owners' records once it names
	// To). The store applies it inside the write, in
	// [Batch.KeepPastOwners], as puts of the past owners it changes: a
	// [Delta] carries those, never the move.
	MovePastOwners []PastOwnerMove

	// Patches change stored entities in place, against their values at
	// commit (see [Patch] and [Batch.Patched]): concurrent patches of one
	// entity all land. A patched entity may not also be put or deleted in
	// the batch.
	Patches []Patch
	// CreateOnly makes every put an insert: a put of an id the store holds
	// fails the batch with an error wrapping [ErrExists]. Patched entities
	// are not puts in this sense.
	CreateOnly bool
	// ExpectRevision, when not 0, makes the batch apply only to a store at
	// exactly this revision; otherwise it fails with an error wrapping
	// [ErrConflict] and writes nothing. An application that read the model
	// at revision r and decided from it sets r here, so that another
	// write in between is noticed rather than overwritten.
	ExpectRevision Revision
}

// Empty reports whether the batch writes nothing.
func (b *Batch) Empty() bool {
	return len(b.Roles)+len(b.Groups)+len(b.Associates)+len(b.SharingRules)+
		len(b.Grants)+len(b.Categories)+len(b.Impersonations)+len(b.Limits)+len(b.Licences)+
		len(b.DeleteRoles)+len(b.DeleteGroups)+len(b.DeleteAssociates)+
		len(b.DeleteSharingRules)+len(b.DeleteGrants)+len(b.DeleteCategories)+
		len(b.DeleteImpersonations)+len(b.DeleteLimits)+len(b.DeleteLicences)+len(b.Patches)+
		len(b.ForgetPastOwners)+len(b.PastOwners)+len(b.MovePastOwners) == 0
}

// Clone returns a deep copy of the batch.
func (b *Batch) Clone() Batch {
	c := Batch{
		Grants:               slices.Clone(b.Grants),
		Impersonations:       slices.Clone(b.Impersonations),
		Limits:               slices.Clone(b.Limits),
		DeleteRoles:          slices.Clone(b.DeleteRoles),
		DeleteGroups:         slices.Clone(b.DeleteGroups),
		DeleteAssociates:     slices.Clone(b.DeleteAssociates),
		DeleteSharingRules:   slices.Clone(b.DeleteSharingRules),
		DeleteGrants:         slices.Clone(b.DeleteGrants),
		DeleteCategories:     slices.Clone(b.DeleteCategories),
		DeleteImpersonations: slices.Clone(b.DeleteImpersonations),
		DeleteLimits:         slices.Clone(b.DeleteLimits),
		DeleteLicences:       slices.Clone(b.DeleteLicences),
		ForgetPastOwners:     slices.Clone(b.ForgetPastOwners),
		PastOwners:           slices.Clone(b.PastOwners),
		MovePastOwners:       slices.Clone(b.MovePastOwners),
		Patches:              slices.Clone(b.Patches),
		CreateOnly:           b.CreateOnly,
		ExpectRevision:       b.ExpectRevision,
	}
	c.Roles = cloneAll(b.Roles, Role.clone)
	c.Groups = cloneAll(b.Groups, Group.clone)
	c.Associates = cloneAll(b.Associates, Associate.clone)
	c.SharingRules = cloneAll(b.SharingRules, SharingRule.clone)
	c.Categories = cloneAll(b.Categories, Category.clone)
	c.Licences = cloneAll(b.Licences, Licence.clone)
	return c
}

func cloneAll[T any](in []T, clone func(T) T) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = clone(v)
	}
	return out
}
