package access

// This file is the write front door that also reports findings: [Apply]
// commits a batch through any [Writer] and tells the caller which roles it
// wrote are lopsided (see [Role.Lint]). Writer.Apply cannot return them
// without changing every store, so the findings ride beside the revision
// in [Applied] instead.

import (
	"context"
	"fmt"
)

// RoleLint is one finding of [Role.Lint] on a role a batch writes, named
// by the role so that a caller writing many roles can tell them apart.
type RoleLint struct {
	Role RoleID
	Name string
	Lint
}

// String renders the finding, for example
// `role Sales (1): "contact": other grants R beyond primary group`.
func (l RoleLint) String() string {
	return fmt.Sprintf("role %s (%d): %s", l.Name, l.Role, l.Lint)
}

// Lint returns the findings of [Role.Lint] for every role b puts, in the
// order of b.Roles and, within a role, in Role.Lint's order. Roles that
// b changes with patches ([SetCell]) are not seen here: their value is
// known only at commit; [Apply] reports them.
func (b *Batch) Lint() []RoleLint {
	var out []RoleLint
	for i := range b.Roles {
		out = appendRoleLint(out, &b.Roles[i])
	}
	return out
}

// appendRoleLint appends r's findings to out.
func appendRoleLint(out []RoleLint, r *Role) []RoleLint {
	for _, l := range r.Lint() {
		out = append(out, RoleLint{Role: r.ID, Name: r.Name, Lint: l})
	}
	return out
}

// Applied is what [Apply] returns for a committed batch.
type Applied struct {
	// Revision is the revision the write committed.
	Revision Revision
	// Lint lists the findings of the roles the write put or patched.
	// They are warnings, not errors: the write took effect. A role whose
	// specific cell (primary group, category member…) grants less than
	// its Other cell denies a colleague what a stranger gets; the seeds
	// allow it, so it is reported rather than refused.
	Lint []RoleLint
	// Deleted lists the groups and then the associates the write deleted,
	// in the batch's order. The library keeps no records: any that the
	// application keeps naming one of them as owner, group or team now
	// names an entity no relation reaches, so a record owned by a
	// deleted group as its team has no owners left. The safe path moves
	// them in the same transaction ([TransferGroup], [TransferAssociate],
	// TransferRecords of the SQL stores); a caller that deletes without
	// it sees here what it left behind.
	Deleted []Ref
}

// roleReader is the part of [View] that [Apply] uses, when the writer has
// it, to read back the roles a batch patched. Every shipped store has it.
type roleReader interface {
	Role(ctx context.Context, id RoleID) (Role, error)
}

// Apply applies b through w and returns the committed revision with the
// lint findings of every role the write put (as [Batch.Lint]) and then of
// every role it changed with [SetCell] patches, in the order the patches
// first name them, and the groups and associates it deleted.
//
// A patched role's value exists only after the commit, so Apply reads it
// back when w also has a Role(ctx, id) method, as every shipped store
// does; a write in between may show its value rather than this write's.
// Over a writer without that method, or when the read fails, a patched
// role goes unlinted: only put roles are certain to be reported.
//
// Errors are w's, returned as they are (errors.Is on the sentinels keeps
// working) with a zero Applied; findings are never an error.
func Apply(ctx context.Context, w Writer, b Batch) (Applied, error) {
	rev, err := w.Apply(ctx, b)
	if err != nil {
		return Applied{}, err
	}
	out := Applied{Revision: rev, Lint: b.Lint()}
	for _, id := range b.DeleteGroups {
		out.Deleted = append(out.Deleted, Ref{KindGroup, int64(id)})
	}
	for _, id := range b.DeleteAssociates {
		out.Deleted = append(out.Deleted, Ref{KindAssociate, int64(id)})
	}
	rr, ok := w.(roleReader)
	if !ok {
		return out, nil
	}
	seen := make(map[RoleID]bool)
	for _, p := range b.Patches {
		if p.Op != PatchSetCell || seen[p.Role] {
			continue
		}
		seen[p.Role] = true
		r, err := rr.Role(ctx, p.Role)
		if err != nil {
			// The write took effect; failing to describe it must not
			// make it look as though it had not.
			continue
		}
		out.Lint = appendRoleLint(out.Lint, &r)
	}
	return out, nil
}
