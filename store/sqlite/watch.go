package sqlite

import (
	"context"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/sqlstore"
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
	return s.core.Watch(fn)
}

// Health reports whether the last poll of the revision counter worked:
// nil, or the error it met. While it is not nil, watchers may miss other
// Stores' writes; a resolver should poll [Store.Changes] itself.
func (s *Store) Health() error { return s.core.Health() }

// poll reads the revision counter every PollInterval until ctx is
// cancelled, passing new revisions to the watchers and reporting whether
// the read worked.
func (s *Store) poll(ctx context.Context, report func(error)) {
	t := time.NewTicker(s.opts.PollInterval)
	defer t.Stop()
	var last access.Revision
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rev, err := sqlstore.Revision(ctx, s.dialect, s.conn(s.db))
		if ctx.Err() != nil {
			return
		}
		report(err)
		if err != nil {
			continue
		}
		if rev < last {
			s.core.Force(rev)
		} else {
			s.core.Notify(rev)
		}
		last = rev
	}
}
