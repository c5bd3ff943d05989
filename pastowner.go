package access

import (
	"context"
	"errors"
	"fmt"
)

// PastOwner is what the model keeps of a deleted associate for the
// records it still owns: vtiger deletes a user only after its records
// are transferred, and until the application has moved them, the
// relations that name the owner (a superior's Subordinate relation,
// sharing rules from the owner's role or primary group) must keep
// holding. Every store writes one, in the transaction that deletes the
// associate, from the associate's last value; it stays until a batch
// forgets it ([Batch.ForgetPastOwners]) or puts an associate with its id
// again.
//
// What it keeps decides what holds: an associate whose role is above
// the past owner's has the Subordinate relation to its records; a sharing
// rule opens them when its From set names the past owner, names its role
// (or a role above it, with subordinates), or names a group that is or
// includes its primary group — its secondary, role-based and smart
// memberships are not kept. Can, Filter (and its SQL), WhoCan,
// Permissions and the explanations ("grants R for subordinate of bo (2,
// deleted)") agree on it.
//
// A past owner is never a subject: it passes no gate and belongs to no
// group. Its Role and PrimaryGroup are no references ([References] yields
// none, so they never block a delete, and [TransferGroup] does not move
// them): the role or group may be deleted later, and a past owner whose
// role is gone has no superiors, one whose group is gone no primary
// group. [Engine.PastOwners] lists the past owners.
type PastOwner struct {
	ID           AssociateID
	Name         string
	Type         AssociateType
	Role         RoleID
	Company      int64
	PrimaryGroup GroupID
}

// pastOwnerOf returns what a past owner keeps of a.
func pastOwnerOf(a *Associate) PastOwner {
	return PastOwner{ID: a.ID, Name: a.Name, Type: a.Type, Role: a.Role, Company: a.Company, PrimaryGroup: a.PrimaryGroup}
}

// errPastOwnersPut marks a caller's batch that puts past owners: only a
// store writes them, from the associates a batch deletes.
var errPastOwnersPut = errors.New("past owners are written by the store when an associate is deleted; a batch can only forget them")

// KeepPastOwners returns b with a put of a [PastOwner] for every
// associate b deletes that v holds (from its value in v) and does not
// forget, and with every associate b puts forgotten as a past owner.
// Stores call it inside the transaction that commits b, after
// [Batch.Validate] and before writing, so that a deleted associate and
// its past owner entry commit together. The result shares b's values.
//
// Errors pass on v's, other than [ErrNotFound].
func (b *Batch) KeepPastOwners(ctx context.Context, v View) (Batch, error) {
	out := *b
	if len(b.DeleteAssociates)+len(b.Associates) == 0 {
		return out, nil
	}
	forgotten := make(map[AssociateID]bool, len(b.ForgetPastOwners))
	for _, id := range b.ForgetPastOwners {
		forgotten[id] = true
	}
	out.PastOwners = nil
	for _, id := range b.DeleteAssociates {
		if forgotten[id] {
			continue
		}
		a, err := v.Associate(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return Batch{}, fmt.Errorf("access: keeping associate %d as a past owner: %w", id, err)
		}
		out.PastOwners = append(out.PastOwners, pastOwnerOf(&a))
		forgotten[id] = true
	}
	forget := append([]AssociateID(nil), b.ForgetPastOwners...)
	for _, a := range b.Associates {
		if !forgotten[a.ID] {
			forget = append(forget, a.ID)
			forgotten[a.ID] = true
		}
	}
	out.ForgetPastOwners = forget
	return out, nil
}
