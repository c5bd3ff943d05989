package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Errors of the writes that do not read, modify and write back.
var (
	// ErrExists marks a create-only put ([Batch.CreateOnly]) of an id the
	// store already holds. The message names the kind and the id.
	ErrExists = errors.New("already exists")
	// ErrConflict marks a batch whose [Batch.ExpectRevision] is not the
	// store's revision: another write came first. The message names both
	// revisions. Nothing of the batch was written; read again and retry.
	ErrConflict = errors.New("conflict")
)

// PatchOp names what a [Patch] does. The zero value is not an operation.
type PatchOp uint8

// The patch operations.
const (
	_ PatchOp = iota
	// PatchJoin adds Group to Associate's secondary groups.
	PatchJoin
	// PatchLeave removes Group from Associate's secondary groups.
	PatchLeave
	// PatchNest adds Member to Group's member groups.
	PatchNest
	// PatchUnnest removes Member from Group's member groups.
	PatchUnnest
	// PatchSetCell sets Role's rights on Type records when Relation holds
	// to Rights.
	PatchSetCell
)

var patchOpNames = [...]string{"", "join", "leave", "nest", "unnest", "set-cell"}

// String names the operation.
func (op PatchOp) String() string {
	if int(op) < len(patchOpNames) && op != 0 {
		return patchOpNames[op]
	}
	return fmt.Sprintf("patch-op(%d)", uint8(op))
}

// Patch is one small change to a stored entity, made by the store against
// the entity's current value inside the transaction that commits the batch.
// Two administrators who each add a different group to the same associate
// with a Patch both see their change land; with a read, a change and a put
// of the whole associate the later put would silently undo the earlier.
//
// Build patches with [JoinGroup], [LeaveGroup], [NestGroup], [UnnestGroup]
// and [SetCell]; the fields an operation does not use must be zero.
// Adding what is there already, or removing what is not, changes nothing
// but is not an error: the patched entity is still written.
type Patch struct {
	Op PatchOp
	// Associate is the associate whose secondary groups Join and Leave
	// change.
	Associate AssociateID
	// Group is the group joined or left, or the group whose member groups
	// Nest and Unnest change.
	Group GroupID
	// Member is the member group Nest adds and Unnest removes.
	Member GroupID
	// Role is the role whose grid SetCell changes; Type, Relation and
	// Rights name the cell and its new value.
	Role     RoleID
	Type     string
	Relation Relation
	Rights   CRUD
}

// JoinGroup returns a patch adding group g to associate a's secondary
// groups.
func JoinGroup(a AssociateID, g GroupID) Patch { return Patch{Op: PatchJoin, Associate: a, Group: g} }

// LeaveGroup returns a patch removing group g from associate a's secondary
// groups.
func LeaveGroup(a AssociateID, g GroupID) Patch { return Patch{Op: PatchLeave, Associate: a, Group: g} }

// NestGroup returns a patch adding member to group g's member groups.
func NestGroup(g, member GroupID) Patch { return Patch{Op: PatchNest, Group: g, Member: member} }

// UnnestGroup returns a patch removing member from group g's member groups.
func UnnestGroup(g, member GroupID) Patch { return Patch{Op: PatchUnnest, Group: g, Member: member} }

// SetCell returns a patch setting role r's rights on records of entity type
// typ (or [Wildcard]) when relation rel holds to c. Setting the empty set
// keeps the cell (and the type's row), holding no rights.
func SetCell(r RoleID, typ string, rel Relation, c CRUD) Patch {
	return Patch{Op: PatchSetCell, Role: r, Type: typ, Relation: rel, Rights: c}
}

// target names the entity the patch changes.
func (p *Patch) target() Ref {
	switch p.Op {
	case PatchJoin, PatchLeave:
		return Ref{KindAssociate, int64(p.Associate)}
	case PatchNest, PatchUnnest:
		return Ref{KindGroup, int64(p.Group)}
	case PatchSetCell:
		return Ref{KindRole, int64(p.Role)}
	}
	return Ref{}
}

// check validates the patch on its own.
func (p *Patch) check() error {
	var ok bool
	switch p.Op {
	case PatchJoin, PatchLeave:
		ok = p.Associate > 0 && p.Group > 0 && p.Member == 0 && p.Role == 0 && p.Type == "" && p.Relation == 0 && p.Rights == 0
	case PatchNest, PatchUnnest:
		ok = p.Group > 0 && p.Member > 0 && p.Associate == 0 && p.Role == 0 && p.Type == "" && p.Relation == 0 && p.Rights == 0
	case PatchSetCell:
		if p.Role > 0 && p.Type != "" && p.Associate == 0 && p.Group == 0 && p.Member == 0 {
			if !p.Relation.Valid() {
				return fmt.Errorf("%w: %s patch of role %d: unknown relation %d", ErrInvalid, p.Op, p.Role, int(p.Relation))
			}
			if !p.Rights.Valid() {
				return fmt.Errorf("%w: %s patch of role %d: invalid rights %d", ErrInvalid, p.Op, p.Role, uint8(p.Rights))
			}
			ok = true
		}
	default:
		return fmt.Errorf("%w: unknown patch operation %d", ErrInvalid, uint8(p.Op))
	}
	if !ok {
		return fmt.Errorf("%w: malformed %s patch %+v: ids must be positive and unused fields zero", ErrInvalid, p.Op, *p)
	}
	return nil
}

// Patched returns b with its Patches applied to the current values v shows
// and turned into puts of the resulting entities (Patches is nil in the
// result). Stores call it inside the transaction that commits b, after
// taking their write lock, so that the values patched are the latest
// committed. The result shares b's values; b is left unchanged. A batch
// without patches comes back as it is.
//
// Errors wrap [ErrInvalid] for a malformed patch or one of an entity the
// batch also puts or deletes, [ErrNotFound] for a patch of an entity v does
// not hold, and pass on v's other errors.
func (b *Batch) Patched(ctx context.Context, v View) (Batch, error) {
	out := *b
	if len(b.Patches) == 0 {
		return out, nil
	}
	out.Patches = nil
	named := make(map[Ref]bool)
	for _, r := range b.Roles {
		named[Ref{KindRole, int64(r.ID)}] = true
	}
	for _, g := range b.Groups {
		named[Ref{KindGroup, int64(g.ID)}] = true
	}
	for _, a := range b.Associates {
		named[Ref{KindAssociate, int64(a.ID)}] = true
	}
	for _, id := range b.DeleteRoles {
		named[Ref{KindRole, int64(id)}] = true
	}
	for _, id := range b.DeleteGroups {
		named[Ref{KindGroup, int64(id)}] = true
	}
	for _, id := range b.DeleteAssociates {
		named[Ref{KindAssociate, int64(id)}] = true
	}
	// The entities patched so far, by target, as indexes into out's puts,
	// which are cloned first so that appending cannot touch b's arrays.
	at := make(map[Ref]int)
	out.Roles = slices.Clip(b.Roles)
	out.Groups = slices.Clip(b.Groups)
	out.Associates = slices.Clip(b.Associates)
	for i := range b.Patches {
		p := &b.Patches[i]
		if err := p.check(); err != nil {
			return Batch{}, fmt.Errorf("access: %w", err)
		}
		ref := p.target()
		if named[ref] {
			return Batch{}, fmt.Errorf("access: %w: %s is patched and also put or deleted in one batch", ErrInvalid, ref)
		}
		i, ok := at[ref]
		if !ok {
			var err error
			switch ref.Kind {
			case KindAssociate:
				var a Associate
				if a, err = v.Associate(ctx, p.Associate); err == nil {
					i = len(out.Associates)
					out.Associates = append(out.Associates, a.clone())
				}
			case KindGroup:
				var g Group
				if g, err = v.Group(ctx, p.Group); err == nil {
					i = len(out.Groups)
					out.Groups = append(out.Groups, g.clone())
				}
			case KindRole:
				var r Role
				if r, err = v.Role(ctx, p.Role); err == nil {
					i = len(out.Roles)
					out.Roles = append(out.Roles, r.clone())
				}
			}
			if errors.Is(err, ErrNotFound) {
				return Batch{}, fmt.Errorf("access: %s patch: %w: %s", p.Op, ErrNotFound, ref)
			}
			if err != nil {
				return Batch{}, err
			}
			at[ref] = i
		}
		switch p.Op {
		case PatchJoin:
			a := &out.Associates[i]
			if !slices.Contains(a.Groups, p.Group) {
				a.Groups = append(a.Groups, p.Group)
			}
		case PatchLeave:
			a := &out.Associates[i]
			a.Groups = slices.DeleteFunc(a.Groups, func(g GroupID) bool { return g == p.Group })
		case PatchNest:
			g := &out.Groups[i]
			if !slices.Contains(g.Groups, p.Member) {
				g.Groups = append(g.Groups, p.Member)
			}
		case PatchUnnest:
			g := &out.Groups[i]
			g.Groups = slices.DeleteFunc(g.Groups, func(m GroupID) bool { return m == p.Member })
		case PatchSetCell:
			r := &out.Roles[i]
			if r.Rights == nil {
				r.Rights = make(map[string]Grid)
			}
			grid := r.Rights[p.Type]
			if grid == nil {
				grid = make(Grid)
				r.Rights[p.Type] = grid
			}
			grid[p.Relation] = p.Rights
		}
	}
	return out, nil
}
