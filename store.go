package access

import (
	"context"
	"errors"
	"fmt"
)

// Errors shared by every noun. Stores and the resolver wrap them with
// context, so test them with errors.Is.
var (
	// ErrInvalid marks a value that breaks a rule on its own or against the
	// model: a bad id, a missing name, an unknown reference, a type rule.
	ErrInvalid = errors.New("invalid")
	// ErrNotFound marks a lookup of an id the model does not hold.
	ErrNotFound = errors.New("not found")
	// ErrInUse marks a delete of something others still depend on. The
	// message names the dependants.
	ErrInUse = errors.New("in use")
	// ErrCommitUnknown marks a write whose outcome cannot be known: the
	// store asked the database to commit and then lost the connection (or
	// gave up waiting) before hearing the answer, so the write may or may
	// not have taken effect. The error is a [*CommitError], which says
	// which revision the write has if it committed and lets the store that
	// returned it find out (store/postgres: Store.Committed). Any other
	// error from a write means the write did not take effect.
	ErrCommitUnknown = errors.New("commit outcome unknown")
)

// CommitError reports a write whose commit outcome is unknown. It matches
// [ErrCommitUnknown] with errors.Is, and unwraps to what made the outcome
// unknown (a lost connection, a timeout): test for ErrCommitUnknown before
// treating such a cause as a failed write.
type CommitError struct {
	// Revision is the revision the write has if it committed.
	Revision Revision
	// Txn identifies the write's database transaction to the store that
	// returned the error (in PostgreSQL, its transaction id), so that the
	// store can tell later whether it committed.
	Txn uint64
	// Err is what made the outcome unknown.
	Err error
}

// Error renders the error as "commit of revision 7 (transaction 812):
// outcome unknown: unexpected EOF".
func (e *CommitError) Error() string {
	return fmt.Sprintf("commit of revision %d (transaction %d): outcome unknown: %v", e.Revision, e.Txn, e.Err)
}

// Unwrap returns the cause.
func (e *CommitError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrCommitUnknown) true.
func (e *CommitError) Is(target error) bool { return target == ErrCommitUnknown }

// Revision numbers the states of a store. Every committed write produces a
// higher revision; revision 0 is the empty model before any write.
type Revision uint64

// Store is the source of truth a [Resolver] reads: it hands out the model at
// a revision and what changed since an earlier one. Adapters live in
// store/memory, store/postgres and store/sqlite; each passes the conformance
// suite in store/storetest.
//
// A Store must be safe for concurrent use.
type Store interface {
	// Changes returns what changed after revision since, up to a revision
	// the store has committed (normally its latest). Since 0 asks for the
	// whole model. A store that can no longer say what changed after since
	// (its change log was trimmed) returns a full delta instead; so may any
	// store at any time.
	//
	// The returned values belong to the caller.
	Changes(ctx context.Context, since Revision) (Delta, error)
}
