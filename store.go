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

// Kind names a kind of stored entity.
type Kind uint8

// The kinds of entity a store holds. The zero value is not a kind.
const (
	_ Kind = iota
	KindRole
	KindGroup
	KindAssociate
	KindSharingRule
	KindGrant
	KindCategory
	KindImpersonation
)

// String names the kind.
func (k Kind) String() string { return enumName(kindNames[:], k, "kind") }

// Ref names one stored entity.
type Ref struct {
	Kind Kind
	ID   int64
}

// String renders the reference as "group 12".
func (r Ref) String() string { return fmt.Sprintf("%s %d", r.Kind, r.ID) }

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

// Watcher is an optional capability of a [Store]: it calls fn after each
// committed revision. For writes made through the same Store value it calls
// fn before the write returns, which is what gives a resolver in the same
// process read-your-writes. Calls may arrive late, merged or out of order;
// fn should treat the revision as a hint and ask [Store.Changes].
//
// Watch returns a function that stops the calls.
type Watcher interface {
	Watch(fn func(Revision)) (stop func())
}

// Writer is the write side every store adapter offers: an atomic batch.
// Adapters add convenience methods (PutAssociate, DeleteGroup…) on top.
type Writer interface {
	// Apply validates b against the store's current model (see
	// [Batch.Validate]) and commits all of it or none of it, returning the
	// new revision. A returned error means none of it took effect, except
	// one wrapping [ErrCommitUnknown], which a store returns only when it
	// cannot know the outcome.
	Apply(ctx context.Context, b Batch) (Revision, error)
}

// View is read access to a model, as [Batch.Validate] needs it. Store
// adapters implement it over their current state, inside the transaction
// that will commit the batch.
//
// Lookups of a missing id return an error wrapping [ErrNotFound].
type View interface {
	Role(ctx context.Context, id RoleID) (Role, error)
	Group(ctx context.Context, id GroupID) (Group, error)
	Associate(ctx context.Context, id AssociateID) (Associate, error)
	// AssociateByName finds the associate whose name folds (see
	// [FoldName]) to the same string as name.
	AssociateByName(ctx context.Context, name string) (Associate, error)
	Category(ctx context.Context, id CategoryID) (Category, error)
	// Dependants lists the entities that refer to ref. Order does not
	// matter. For
	//   - a role: its child roles, the groups that list it (Roles or
	//     RolesAndSubordinates), the associates that hold it, the sharing
	//     rules that name it and the categories that list it;
	//   - a group: the groups that list it, the associates that name it as
	//     primary or secondary group, the sharing rules that name it, the
	//     grants to it, the categories that list it and the impersonation
	//     rules that name it;
	//   - an associate: the groups that list it as an admin, the sharing
	//     rules that name it, the grants to it and the impersonation rules
	//     that name it;
	//   - a category: its child categories and the associates that list it.
	// Other kinds have no dependants.
	Dependants(ctx context.Context, ref Ref) ([]Ref, error)
}

// Delta is what changed in a store between two revisions: the values of
// the entities written, and the ids of those deleted, after From up to To.
// When Full is true, the Batch holds the whole model at To and replaces
// everything (From is then meaningless).
type Delta struct {
	From, To Revision
	Full     bool
	Batch
}

// Infallible is an optional capability of a [Store] whose Changes cannot
// fail, because it holds the model in the process, and which tells its
// watchers of every write (store/memory). A resolver over it cannot fall
// behind for want of its store, so it does not bound staleness by default
// (see Options.MaxStaleness). A wrapper that can fail (a proxy, a fault
// injector) must not expose the method, as embedding a Store would.
type Infallible interface {
	Store
	// ChangesCannotFail does nothing; having it is the promise.
	ChangesCannotFail()
}
