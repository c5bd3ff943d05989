package access

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
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
// none, so they never block a delete): the role or group may be deleted
// later, and a past owner whose role is gone has no superiors, one whose
// group is gone no primary group. [TransferGroup] moves the primary group
// with everything else ([Batch.MovePastOwners]); a plain delete of the
// group leaves the past owner naming its id, so a group put later with
// the same id would be its primary group again — transfer the group, or
// forget the past owner, rather than reuse the id. [Engine.PastOwners]
// lists the past owners.
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

// PastOwnerMove moves past owners from one primary group to another (see
// [Batch.MovePastOwners]).
type PastOwnerMove struct {
	From, To GroupID
}

// String renders the move as "past owners of group 10 → group 20".
func (m PastOwnerMove) String() string {
	return fmt.Sprintf("past owners of group %d → group %d", m.From, m.To)
}

// errPastOwnersPut marks a caller's batch that puts past owners: only a
// store writes them, from the associates a batch deletes.
var errPastOwnersPut = errors.New("past owners are written by the store when an associate is deleted; a batch can only forget them")

// KeepPastOwners returns b with a put of a [PastOwner] for every
// associate b deletes that v holds (from its value in v) and does not
// forget, with every associate b puts forgotten as a past owner, and
// with b's MovePastOwners applied: a put of every past owner, kept
// before or now, whose primary group a move names as From, with the
// move's To (MovePastOwners is then empty). Stores call it inside the
// transaction that commits b, after [Batch.Validate] and before writing,
// so that a deleted associate and its past owner entry commit together,
// and a group transfer moves the past owners in it. The result shares
// b's values.
//
// Errors pass on v's, other than [ErrNotFound].
func (b *Batch) KeepPastOwners(ctx context.Context, v View) (Batch, error) {
	out := *b
	if len(b.DeleteAssociates)+len(b.Associates)+len(b.MovePastOwners) == 0 {
		return out, nil
	}
	moves := make(map[GroupID]GroupID, len(b.MovePastOwners))
	for _, m := range b.MovePastOwners {
		moves[m.From] = m.To
	}
	out.MovePastOwners = nil
	// Sized for every id it may hold: a bulk load puts a million
	// associates, each forgotten below.
	forgotten := make(map[AssociateID]bool, len(b.ForgetPastOwners)+len(b.DeleteAssociates)+len(b.Associates))
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
		p := pastOwnerOf(&a)
		if to, ok := moves[p.PrimaryGroup]; ok {
			p.PrimaryGroup = to
		}
		out.PastOwners = append(out.PastOwners, p)
		forgotten[id] = true
	}
	// Only the moves read put.
	var put map[AssociateID]bool
	if len(b.MovePastOwners) > 0 {
		put = make(map[AssociateID]bool, len(b.Associates))
		for _, a := range b.Associates {
			put[a.ID] = true
		}
	}
	// Past owners kept before: each moves once, by its group before the
	// batch, so that moves A→B and B→C do not chain.
	var moved []PastOwner
	for _, m := range b.MovePastOwners {
		in, err := v.PastOwnersIn(ctx, m.From)
		if err != nil {
			return Batch{}, fmt.Errorf("access: moving %s: %w", m, err)
		}
		for _, p := range in {
			if !forgotten[p.ID] && !put[p.ID] && p.PrimaryGroup == m.From {
				p.PrimaryGroup = m.To
				moved = append(moved, p)
			}
		}
	}
	slices.SortFunc(moved, func(a, b PastOwner) int { return cmp.Compare(a.ID, b.ID) })
	out.PastOwners = append(out.PastOwners, moved...)
	forget := make([]AssociateID, 0, len(b.ForgetPastOwners)+len(b.Associates))
	forget = append(forget, b.ForgetPastOwners...)
	for _, a := range b.Associates {
		if !forgotten[a.ID] {
			forget = append(forget, a.ID)
			forgotten[a.ID] = true
		}
	}
	if len(forget) == 0 {
		forget = nil // as it was before the capacity above
	}
	out.ForgetPastOwners = forget
	return out, nil
}
