package access

// This file is delete-with-transfer: [TransferGroup] and
// [TransferAssociate] build one batch that moves every reference the
// library holds from one group or associate to another and deletes the
// first, and [Transfer.SQL] rewrites the application's own records the
// same way (store/postgres and store/sqlite run it inside the caller's
// transaction). vtiger deletes a group only after its responsibilities
// are transferred to another existing group, and a user only after its
// records are; these are that step.

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

// TransferGroup returns one batch that moves every reference the model
// holds to group from over to group to, and deletes from. It reads the
// whole model from s (Store.Changes from revision 0) and sets the batch's
// ExpectRevision to the revision it read, so that the batch fails with
// [ErrConflict] if anything was written in between; read again and retry.
// The batch is returned, not applied: apply it with s's Apply (or ApplyTx
// in the transaction that moves the application's records with
// [Transfer.SQL]).
//
// What moves to to, found through the one table of references (see
// [References]):
//   - associates' primary group and secondary groups;
//   - groups that nest from now nest to;
//   - sharing rules' From and To groups, grants to from, categories'
//     groups, impersonation rules' actor and target groups, limits on
//     from;
//   - what from lists: its member groups, roles, roles with subordinates
//     and admins join to's, so that every effective member of from is one
//     of to, and whoever administered from's members administers to.
//
// Duplicates collapse: an associate in both groups is in to once, and one
// whose primary group becomes to leaves it from its secondary groups; a
// group that nested both nests to once; to nested in from, or from in to,
// is dropped rather than made a group nesting itself. A longer cycle that
// the move would close (to nested in a member group of from) is left for
// the store's validation to refuse with an error wrapping [ErrCycle].
//
// Past owners whose primary group is from get to, inside the write that
// applies the batch ([Batch.MovePastOwners]): the sharing rules that
// opened their records from from open them from to.
//
// What does not move: from's own properties (name, smart rule, functional
// rights, default permissions, self-service, fields). Members that from's
// smart rule gave it do not become members of to, so a smart from is
// transferred only when every one of its effective members is an
// effective member of to after the batch; otherwise the records whose
// team moves to to would silently lose those owners.
//
// Errors wrap [ErrInvalid] when from equals to, an id is not positive,
// to is a smart group (its rule alone decides its members), or from is a
// smart group with members that to would not have (the error names
// them: make them members of to first); [ErrNotFound] naming from or to
// when the model lacks it; and pass on the store's.
func TransferGroup(ctx context.Context, s Store, from, to GroupID) (Batch, error) {
	if from <= 0 || to <= 0 || from == to {
		return Batch{}, fmt.Errorf("access: transfer from group %d to group %d: %w: two different positive ids are needed", from, to, ErrInvalid)
	}
	m, err := s.Changes(ctx, 0)
	if err != nil {
		return Batch{}, fmt.Errorf("access: transfer from group %d to group %d: %w", from, to, err)
	}
	src, dst := findByID(m.Groups, from, func(g *Group) GroupID { return g.ID }), findByID(m.Groups, to, func(g *Group) GroupID { return g.ID })
	if err := bothFound("group", int64(from), int64(to), src != nil, dst != nil); err != nil {
		return Batch{}, err
	}
	if dst.Smart != "" {
		return Batch{}, fmt.Errorf("access: transfer from group %d to group %d: %w: group %d (to) is a smart group: its rule alone decides its members", from, to, ErrInvalid, to)
	}
	var before Batch
	if src.Smart != "" {
		// moveRefs changes m's values in place.
		before = m.Batch.Clone()
	}
	b := Batch{DeleteGroups: []GroupID{from}, ExpectRevision: m.To}
	if slices.ContainsFunc(m.PastOwners, func(p PastOwner) bool { return p.PrimaryGroup == from }) {
		b.MovePastOwners = []PastOwnerMove{{From: from, To: to}}
	}
	moveRefs(&m.Batch, &b, Ref{KindGroup, int64(from)}, int64(to), func(e any) bool {
		changed := false
		switch e := e.(type) {
		case *Group:
			before := e.clone()
			if e.ID == to {
				for _, f := range refFields[KindGroup] {
					f.merge(e, src)
				}
			}
			// Only to can now list itself: nested in from, or from
			// nested in it.
			if i := slices.Index(e.Groups, e.ID); i >= 0 {
				e.Groups = slices.Delete(e.Groups, i, i+1)
			}
			changed = !sameRefs(&before, e)
		case *Associate:
			if i := slices.Index(e.Groups, e.PrimaryGroup); i >= 0 && e.PrimaryGroup == to {
				e.Groups = slices.Delete(e.Groups, i, i+1)
				changed = true
			}
		}
		return changed
	})
	if src.Smart != "" {
		if lost := transferLosses(m.To, &before, &b, from, to); len(lost) > 0 {
			return Batch{}, fmt.Errorf("access: transfer from group %d to group %d: %w: group %d (from) is a smart group, and %s would not be effective members of group %d (to) after the transfer, so records whose team moves would lose them as owners; make them members of group %d first", from, to, ErrInvalid, from, lost, to, to)
		}
	}
	return b, nil
}

// transferLosses names, in id order, the effective members of group
// from in model (at revision rev) who would not be effective members of
// group to once b is applied: "associates 3 (anna) and 7 (bo)". It is
// empty when there are none.
func transferLosses(rev Revision, model, b *Batch, from, to GroupID) string {
	s0 := build(rev, model)
	g := s0.groupIndex(from)
	if g < 0 {
		return ""
	}
	// Read from's members before the update, which may reuse s0's nodes.
	var members []*Associate
	for i := range s0.memberSet(g).all() {
		members = append(members, s0.assocs.at(i).a)
	}
	d := Delta{From: rev, To: rev + 1, Batch: b.Clone()}
	s1 := s0.update(&d)
	kept := map[AssociateID]bool{}
	if t := s1.groupIndex(to); t >= 0 {
		for i := range s1.memberSet(t).all() {
			kept[s1.assocs.at(i).a.ID] = true
		}
	}
	var lost []*Associate
	for _, a := range members {
		if !kept[a.ID] {
			lost = append(lost, a)
		}
	}
	slices.SortFunc(lost, func(a, b *Associate) int { return cmp.Compare(a.ID, b.ID) })
	var names []string
	for _, a := range lost[:min(len(lost), 10)] {
		names = append(names, fmt.Sprintf("%d (%s)", a.ID, a.Name))
	}
	switch n := len(lost); {
	case n == 0:
		return ""
	case n == 1:
		return "associate " + names[0]
	case n > len(names):
		return fmt.Sprintf("associates %s and %d more", strings.Join(names, ", "), n-len(names))
	}
	return "associates " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// TransferAssociate returns one batch that moves every reference the
// model holds to associate from over to associate to, and deletes from.
// It reads the model and sets ExpectRevision as [TransferGroup] does.
//
// What moves to to: group admin lists, sharing rules' From and To
// associates (the records from owned are shared as before once they are
// to's), grants to from, impersonation rules naming from as actor or
// target. An impersonation rule that would let to act as itself is
// deleted; an admin list naming both keeps to once. from's own links (its
// groups, role, categories) do not move: to keeps its own. The batch also
// forgets from as a past owner ([Batch.ForgetPastOwners]): apply it in
// the transaction that moves from's records to to.
//
// from may be a past owner, an associate already deleted (see
// [Engine.PastOwners]): nothing the model holds names it any more, so the
// batch only forgets it, and is applied with the move of its records as
// before. to must be an associate.
//
// Errors are as for TransferGroup ([ErrNotFound] when from is neither an
// associate nor a past owner), and wrap [ErrInvalid] when to is a system
// user and an impersonation rule targets from (system users cannot be
// impersonated).
func TransferAssociate(ctx context.Context, s Store, from, to AssociateID) (Batch, error) {
	if from <= 0 || to <= 0 || from == to {
		return Batch{}, fmt.Errorf("access: transfer from associate %d to associate %d: %w: two different positive ids are needed", from, to, ErrInvalid)
	}
	m, err := s.Changes(ctx, 0)
	if err != nil {
		return Batch{}, fmt.Errorf("access: transfer from associate %d to associate %d: %w", from, to, err)
	}
	id := func(a *Associate) AssociateID { return a.ID }
	dst := findByID(m.Associates, to, id)
	live := findByID(m.Associates, from, id) != nil
	past := !live && findByID(m.PastOwners, from, func(p *PastOwner) AssociateID { return p.ID }) != nil
	if err := bothFound("associate", int64(from), int64(to), live || past, dst != nil); err != nil {
		return Batch{}, err
	}
	// The records move in the same transaction (TransferRecords), so
	// from is no past owner of any.
	b := Batch{ForgetPastOwners: []AssociateID{from}, ExpectRevision: m.To}
	if live {
		b.DeleteAssociates = []AssociateID{from}
	}
	moveRefs(&m.Batch, &b, Ref{KindAssociate, int64(from)}, int64(to), nil)
	// A rule letting to act as to is no rule; keeping it would only
	// confuse whoever reads the rules.
	b.Impersonations = slices.DeleteFunc(b.Impersonations, func(r Impersonation) bool {
		if r.Actor.Associate == to && r.Target.Associate == to {
			b.DeleteImpersonations = append(b.DeleteImpersonations, r.ID)
			return true
		}
		return false
	})
	if dst.Type == System {
		for _, r := range b.Impersonations {
			if r.Target.Associate == to {
				return Batch{}, fmt.Errorf("access: transfer from associate %d to associate %d: %w: impersonation rule %d would target system user %d, who cannot be impersonated; change or delete the rule first", from, to, ErrInvalid, r.ID, to)
			}
		}
	}
	return b, nil
}

// sameRefs reports whether entities a and b refer to the same entities in
// the same order.
func sameRefs(a, b any) bool {
	var ra, rb []Ref
	References(a, func(r Ref) bool { ra = append(ra, r); return true })
	References(b, func(r Ref) bool { rb = append(rb, r); return true })
	return slices.Equal(ra, rb)
}

// findByID returns the element of in with the given id, or nil.
func findByID[T any, ID comparable](in []T, id ID, get func(*T) ID) *T {
	for i := range in {
		if get(&in[i]) == id {
			return &in[i]
		}
	}
	return nil
}

// bothFound returns an error wrapping ErrNotFound naming the side of a
// transfer the model lacks.
func bothFound(noun string, from, to int64, fromOK, toOK bool) error {
	switch {
	case !fromOK:
		return fmt.Errorf("access: transfer from %s %d to %s %d: %s %d (from): %w", noun, from, noun, to, noun, from, ErrNotFound)
	case !toOK:
		return fmt.Errorf("access: transfer from %s %d to %s %d: %s %d (to): %w", noun, from, noun, to, noun, to, ErrNotFound)
	}
	return nil
}

// moveRefs moves every reference to from in the entities of model (but
// from itself) to the id to, and adds each entity it changed to b as a
// put. fix, when not nil, tidies each entity after the move and reports
// whether it changed it.
func moveRefs(model, b *Batch, from Ref, to int64, fix func(e any) bool) {
	visit := func(e any) bool {
		// from itself is deleted, not put.
		switch e := e.(type) {
		case *Group:
			if from == (Ref{KindGroup, int64(e.ID)}) {
				return false
			}
		case *Associate:
			if from == (Ref{KindAssociate, int64(e.ID)}) {
				return false
			}
		}
		k := entityKind(e)
		changed := false
		for _, f := range refFields[k] {
			if f.to == from.Kind {
				changed = f.move(e, from.ID, to) || changed
			}
		}
		if fix != nil {
			changed = fix(e) || changed
		}
		return changed
	}
	putChanged(model.Groups, &b.Groups, visit)
	putChanged(model.Associates, &b.Associates, visit)
	putChanged(model.Roles, &b.Roles, visit)
	putChanged(model.SharingRules, &b.SharingRules, visit)
	putChanged(model.Grants, &b.Grants, visit)
	putChanged(model.Categories, &b.Categories, visit)
	putChanged(model.Impersonations, &b.Impersonations, visit)
	putChanged(model.Limits, &b.Limits, visit)
}

// putChanged adds to *out each entity of in that changed reports it
// changed, as changed left it.
func putChanged[T any](in []T, out *[]T, changed func(e any) bool) {
	for i := range in {
		if e := &in[i]; changed(e) {
			*out = append(*out, *e)
		}
	}
}

// Transfer names a move of the application's records from one group or
// associate to another, the companion of [TransferGroup] and
// [TransferAssociate]: the library stores no records, so the application
// rewrites its own, in the same transaction as the batch (store/postgres
// and store/sqlite: TransferRecords). Set one pair: a group transfer
// rewrites the group and team columns, an associate transfer the owner
// column.
//
// Records whose team is a group deleted without a transfer keep its id,
// and no associate is an effective member of a deleted group, so nobody
// owns them through the team any more. Transferring the group first (the
// batch and the records in one transaction) is the safe path.
type Transfer struct {
	FromGroup, ToGroup         GroupID
	FromAssociate, ToAssociate AssociateID
}

// String renders the transfer as "group 10 → 20" or "associate 7 → 8".
func (t Transfer) String() string {
	if t.FromGroup != 0 || t.ToGroup != 0 {
		return fmt.Sprintf("group %d → %d", t.FromGroup, t.ToGroup)
	}
	return fmt.Sprintf("associate %d → %d", t.FromAssociate, t.ToAssociate)
}

// check reports whether exactly one pair is set, with two different
// positive ids.
func (t Transfer) check() error {
	groups := t.FromGroup != 0 || t.ToGroup != 0
	assocs := t.FromAssociate != 0 || t.ToAssociate != 0
	ok := groups != assocs &&
		(!groups || t.FromGroup > 0 && t.ToGroup > 0 && t.FromGroup != t.ToGroup) &&
		(!assocs || t.FromAssociate > 0 && t.ToAssociate > 0 && t.FromAssociate != t.ToAssociate)
	if !ok {
		return fmt.Errorf("access: transfer %+v: %w: set either the groups or the associates, two different positive ids", t, ErrInvalid)
	}
	return nil
}

// SQL returns the UPDATE statement that moves the records of table from
// t's From to its To, and its arguments: for a group transfer, the column
// cols.Group and the column cols.Team (each where set; a record of both
// has both rewritten); for an associate transfer, cols.Owner. Parameters
// are $1, $2 in PostgreSQL and ? in SQLite.
//
// table and the column names follow the identifier rules of [Columns]; a
// qualified column ("c.owner_id", as a Filter's query may need) is reduced
// to its last part, the column of table. Errors wrap [ErrInvalid]: a
// name that is not an identifier, an unknown dialect, a malformed t, or
// no column to rewrite.
func (t Transfer) SQL(d Dialect, table string, cols Columns) (string, []any, error) {
	if err := t.check(); err != nil {
		return "", nil, err
	}
	if d != PostgreSQL && d != SQLite {
		return "", nil, fmt.Errorf("access: transfer %s: %w: unknown dialect %d", t, ErrInvalid, d)
	}
	parts, err := parseColumn(table)
	if err != nil {
		return "", nil, fmt.Errorf("access: transfer %s: %w: table %q: %v", t, ErrInvalid, table, err)
	}
	qtable := quoteColumn(d, parts)
	var which []column
	from, to := int64(t.FromAssociate), int64(t.ToAssociate)
	if t.FromGroup != 0 {
		which, from, to = []column{colGroup, colTeam}, int64(t.FromGroup), int64(t.ToGroup)
	} else {
		which = []column{colOwner}
	}
	var names []string
	for _, col := range which {
		name := cols.name(col)
		if name == "" {
			continue
		}
		parts, err := parseColumn(name)
		if err != nil {
			return "", nil, fmt.Errorf("access: transfer %s: %w: Columns.%s %q: %v", t, ErrColumn, columnFields[col], name, err)
		}
		names = append(names, quoteColumn(d, parts[len(parts)-1:]))
	}
	if len(names) == 0 {
		return "", nil, fmt.Errorf("access: transfer %s: %w: Columns maps no %s column to rewrite", t, ErrInvalid, columnFields[which[0]])
	}
	p1, p2 := "$1", "$2"
	if d == SQLite {
		p1, p2 = "?1", "?2"
	}
	var set, where []string
	for _, n := range names {
		set = append(set, fmt.Sprintf("%s = CASE WHEN %s = %s THEN %s ELSE %s END", n, n, p1, p2, n))
		where = append(where, fmt.Sprintf("%s = %s", n, p1))
	}
	q := "UPDATE " + qtable + " SET " + strings.Join(set, ", ") + " WHERE " + strings.Join(where, " OR ")
	return q, []any{from, to}, nil
}
