package access

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
)

// The iterators below answer from the snapshot current when they are
// called, however long the caller takes to range over them: a refresh, or
// the resolver going stale, does not change what they yield. There is no
// EffectiveGroups iterator: one associate's groups are few, and must be
// sorted by id, which takes the whole list anyway.

// MembersSeq is [Engine.Members] as an iterator: the same ids in the same
// (ascending) order, without building the list, so that a large group can
// be streamed or its first few members read. It fails as Members does,
// before yielding anything.
func (e *Engine) MembersSeq(ctx context.Context, g GroupID) (iter.Seq[AssociateID], error) {
	s, err := e.current()
	if err != nil {
		return nil, err
	}
	gi, gn := s.group(g)
	if gn == nil {
		return nil, fmt.Errorf("access: group %d: %w", g, ErrNotFound)
	}
	ms := s.memberSet(gi).list()
	return func(yield func(AssociateID) bool) {
		for _, a := range s.byID(ms) {
			if !yield(s.assocs.at(a).a.ID) {
				return
			}
		}
	}, nil
}

// WhoCanSeq is [Engine.WhoCan] as an iterator: the same answers in the same
// (id) order, decided one associate at a time as the caller asks for the
// next, on the caller's goroutine. Stopping early, e.g. after the first
// page, saves the decisions not asked for. It fails as WhoCan does, before
// yielding anything; if ctx ends while it runs it yields the context's
// error, wrapped, as its last pair, since a list cut short must not pass
// for a whole one.
func (e *Engine) WhoCanSeq(ctx context.Context, act Action, rec Record) (iter.Seq2[Allowed, error], error) {
	s, err := e.current()
	if err != nil {
		return nil, err
	}
	if err := e.checkRequest(act, &rec); err != nil {
		return nil, err
	}
	return func(yield func(Allowed, error) bool) {
		for _, i := range s.byID(nil) {
			if err := ctx.Err(); err != nil {
				yield(Allowed{}, fmt.Errorf("access: WhoCan: %w", err))
				return
			}
			n := s.assocs.at(i)
			d := Decision{Action: act, Subject: n.a.ID, Record: rec, Revision: s.rev, names: s.names}
			s.decide(&d, e.now)
			if !d.Allowed {
				continue
			}
			a := []Allowed{{Associate: n.a.ID, Rights: d.Rights, Relations: d.Relations, Because: d.granting()}}
			s.nameAllowed(act, rec, a)
			if !yield(a[0], nil) {
				return
			}
		}
	}, nil
}

// The listings below are the admin list views (vtiger's list of all
// groups, with their descriptions): every group, associate or role of the
// snapshot current at the call, in ascending id order, as copies. Each
// starts after the id given, so that a caller pages with the last id of
// the previous page (after 0 starts at the beginning) and stops ranging
// at the page size; two pages may come from different snapshots, one
// page never does. Starting a listing costs a pass over the kind's ids,
// and a sort when they are out of order.

// GroupsSeq yields every group whose id is greater than after, in
// ascending id order, each a copy the caller may change.
func (e *Engine) GroupsSeq(ctx context.Context, after GroupID) (iter.Seq[Group], error) {
	s, err := e.current()
	if err != nil {
		return nil, err
	}
	idx := make([]int32, 0, len(s.groups))
	for i, n := range s.groups {
		if n != nil && n.group.ID > after {
			idx = append(idx, int32(i))
		}
	}
	id := func(i int32) GroupID { return s.groups[i].group.ID }
	sortIdx(idx, id)
	return func(yield func(Group) bool) {
		for _, i := range idx {
			if !yield(s.groups[i].group.clone()) {
				return
			}
		}
	}, nil
}

// AssociatesSeq yields every associate whose id is greater than after, in
// ascending id order, each a copy the caller may change.
func (e *Engine) AssociatesSeq(ctx context.Context, after AssociateID) (iter.Seq[Associate], error) {
	s, err := e.current()
	if err != nil {
		return nil, err
	}
	idx := s.byID(nil)
	// The first index past after: every id up to after compares below.
	from, _ := slices.BinarySearchFunc(idx, after, func(i int32, after AssociateID) int {
		if s.assocs.at(i).a.ID <= after {
			return -1
		}
		return 1
	})
	idx = idx[from:]
	return func(yield func(Associate) bool) {
		for _, i := range idx {
			if !yield(s.assocs.at(i).a.clone()) {
				return
			}
		}
	}, nil
}

// RolesSeq yields every role whose id is greater than after, in ascending
// id order, each a copy the caller may change.
func (e *Engine) RolesSeq(ctx context.Context, after RoleID) (iter.Seq[Role], error) {
	s, err := e.current()
	if err != nil {
		return nil, err
	}
	ids := make([]RoleID, 0, len(s.roles))
	for id := range s.roles {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return func(yield func(Role) bool) {
		for _, id := range ids {
			if !yield(s.roles[id].role.clone()) {
				return
			}
		}
	}, nil
}

// sortIdx sorts indexes by the ids they hold, unless they are sorted.
func sortIdx[ID cmp.Ordered](idx []int32, id func(int32) ID) {
	less := func(a, b int32) int { return cmp.Compare(id(a), id(b)) }
	if !slices.IsSortedFunc(idx, less) {
		slices.SortFunc(idx, less)
	}
}

// byID returns the associate indexes idx (nil: every live associate) in
// the order of their ids. Indexes follow ids after a full build, and ids
// are their own indexes when they are small; only associates added since
// the last full build out of order cost a sorted copy.
func (s *snapshot) byID(idx []int32) []int32 {
	if idx == nil {
		idx = make([]int32, 0, s.assocs.len())
		for i, n := range s.assocs.all() {
			if n != nil {
				idx = append(idx, int32(i))
			}
		}
	}
	less := func(a, b int32) int { return cmp.Compare(s.assocs.at(a).a.ID, s.assocs.at(b).a.ID) }
	if slices.IsSortedFunc(idx, less) {
		return idx
	}
	return slices.SortedFunc(slices.Values(idx), less)
}
