package access

// This file is the store-author API: what a [Store] adapter implements
// and exchanges with the resolver — the kinds of entity and references
// between them, the read [View] that [Batch.Validate] checks a write
// against, the [Writer] and the optional [Watcher] and [Infallible]
// capabilities, and the [Delta] that Store.Changes returns. Users of a
// resolver need none of it; store.go holds what they do (Store,
// Revision and the errors every store returns).

import (
	"context"
	"fmt"
)

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
	KindLimit
	KindLicence
	// KindPastOwner names a [PastOwner]; its id is the deleted
	// associate's. No entity refers to a past owner, and a past owner's
	// role and group are no references (see [References]).
	KindPastOwner
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
	Licence(ctx context.Context, id LicenceID) (Licence, error)
	// PastOwnersIn lists, in any order, the past owners whose
	// PrimaryGroup is g (what [Batch.KeepPastOwners] needs to apply
	// [Batch.MovePastOwners]); none is no error.
	PastOwnersIn(ctx context.Context, g GroupID) ([]PastOwner, error)
	// Dependants lists the entities that refer to ref: those whose value
	// [References] yields ref for. Order does not matter. refs.go holds
	// the one table of which field of which kind refers to which kind;
	// sharing rules, grants, impersonation rules and limits have no
	// dependants; a licence's dependants are its holders.
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
// fail and returns at once, because it holds the model in the process,
// and which tells its watchers of every write (store/memory). A resolver
// over it cannot fall behind for want of its store, so it does not bound
// staleness by default (see Options.MaxStaleness), and it refreshes on
// the goroutine that notifies it. A wrapper that can fail or wait (a
// proxy, a fault injector, a decorator that blocks) must not expose the
// method, as embedding a Store would: embed it in a named field instead.
type Infallible interface {
	Store
	// ChangesCannotFail does nothing; having it is the promise.
	ChangesCannotFail()
}
