package sqlstore

import (
	"sync"
	"sync/atomic"

	"github.com/crmaccess/access"
)

// Watchers is the set of functions a store calls with new revisions. Calls
// are serialised: a function is never called concurrently with itself or
// with the other watchers of the store, and revisions reach them in
// increasing order (a notification for a revision already reported is
// dropped), except after [Watchers.Force].
//
// The zero value is ready to use. Watchers is safe for concurrent use.
type Watchers struct {
	mu   sync.Mutex // guards list
	list []*watcher

	nmu      sync.Mutex // serialises calls; guards notified
	notified access.Revision
}

type watcher struct {
	fn      func(access.Revision)
	stopped atomic.Bool
}

// Add registers fn and returns the number of watchers now registered and
// a function that removes it, returning how many remain. The remover may
// be called any number of times; only the first call counts (later ones
// return -1).
func (w *Watchers) Add(fn func(access.Revision)) (n int, remove func() int) {
	x := &watcher{fn: fn}
	w.mu.Lock()
	w.list = append(w.list[:len(w.list):len(w.list)], x)
	n = len(w.list)
	w.mu.Unlock()
	return n, func() int {
		if x.stopped.Swap(true) {
			return -1
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		out := make([]*watcher, 0, len(w.list))
		for _, y := range w.list {
			if y != x {
				out = append(out, y)
			}
		}
		w.list = out
		return len(out)
	}
}

// Notify calls every watcher with rev, unless a revision as high has
// already been reported.
func (w *Watchers) Notify(rev access.Revision) { w.notify(rev, false) }

// Force calls every watcher with rev even if it has been reported, or a
// higher one has: after a listener reconnects, and when a database's
// revision went backwards (a restore), watchers must look again.
func (w *Watchers) Force(rev access.Revision) { w.notify(rev, true) }

func (w *Watchers) notify(rev access.Revision, force bool) {
	w.nmu.Lock()
	defer w.nmu.Unlock()
	if !force && rev <= w.notified {
		return
	}
	w.notified = rev
	w.mu.Lock()
	list := w.list
	w.mu.Unlock()
	for _, x := range list {
		if !x.stopped.Load() {
			x.fn(rev)
		}
	}
}
