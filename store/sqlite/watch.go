package sqlite

import (
	"context"
	"time"

	"github.com/crmaccess/access"
)

// Watch calls fn with the new revision (or a later one) after each
// committed write: synchronously, before Apply returns, for writes made
// through this Store; within about [Options.PollInterval] for writes made
// by other Stores or processes on the same file, which a poller learns of
// by reading the revision counter. Treat the revision as a hint and ask
// [Store.Changes].
//
// Calls to all the watchers of a Store are serialised and carry increasing
// revisions (unless the database file was replaced by an older one, which
// the poller reports too). fn may read the store but must not write to it
// through this Store: the write would wait for fn to return.
//
// The poller runs while at least one watcher is registered; an in-memory
// database has no other writers and is not polled. The returned stop may
// be called any number of times; once it has returned, fn is not called
// again unless a call had already begun. Watch panics if fn is nil.
func (s *Store) Watch(fn func(access.Revision)) (stop func()) {
	if fn == nil {
		panic("sqlite: Watch(nil)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, remove := s.watchers.Add(fn)
	s.nwatch++
	if s.nwatch == 1 && !s.closed && !s.memory {
		ctx, cancel := context.WithCancel(context.Background())
		s.stopPoll = cancel
		s.pollGen++
		s.wg.Add(1)
		go s.poll(ctx, s.pollGen)
	}
	return func() {
		if remove() < 0 {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.nwatch--
		if s.nwatch == 0 && s.stopPoll != nil {
			s.stopPoll()
			s.stopPoll = nil
			s.health = nil
		}
	}
}

// Health reports whether the last poll of the revision counter worked:
// nil, or the error it met. While it is not nil, watchers may miss other
// Stores' writes; a resolver should poll [Store.Changes] itself.
func (s *Store) Health() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.health
}

func (s *Store) poll(ctx context.Context, gen int) {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.PollInterval)
	defer t.Stop()
	var last access.Revision
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rev, err := s.revision(ctx, s.db)
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		if gen == s.pollGen {
			s.health = err
		}
		s.mu.Unlock()
		if err != nil {
			continue
		}
		if rev < last {
			s.watchers.Force(rev)
		} else {
			s.watchers.Notify(rev)
		}
		last = rev
	}
}
