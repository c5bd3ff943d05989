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
	ms := s.members[gi]
	return func(yield func(AssociateID) bool) {
		for _, a := range s.byID(ms) {
			if !yield(s.assocs[a].a.ID) {
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
			n := s.assocs[i]
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

// byID returns the associate indexes idx (nil: every live associate) in
// the order of their ids. Indexes follow ids after a full build, and ids
// are their own indexes when they are small; only associates added since
// the last full build out of order cost a sorted copy.
func (s *snapshot) byID(idx []int32) []int32 {
	if idx == nil {
		idx = make([]int32, 0, len(s.assocs))
		for i, n := range s.assocs {
			if n != nil {
				idx = append(idx, int32(i))
			}
		}
	}
	less := func(a, b int32) int { return cmp.Compare(s.assocs[a].a.ID, s.assocs[b].a.ID) }
	if slices.IsSortedFunc(idx, less) {
		return idx
	}
	return slices.SortedFunc(slices.Values(idx), less)
}
