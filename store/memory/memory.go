// Package memory is the embedded store: the whole model in memory, for
// applications that load their organisation at start-up, for tests, and as
// the reference the other adapters are compared with.
//
// Beside the model a [Store] keeps:
//   - a reverse index from every entity to the entities that refer to it,
//     so that [Store.Dependants], and with it the checks on a delete, costs
//     in proportion to the answer rather than to the model;
//   - an index from folded login name to associate, for
//     [Store.AssociateByName];
//   - a bounded change log of the entities each revision touched, from
//     which [Store.Changes] answers incrementally.
package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/intern"
)

// DefaultLog is the number of revisions whose changes a [Store] made by
// [New] remembers.
const DefaultLog = 4096

var (
	_ access.Store   = (*Store)(nil)
	_ access.Writer  = (*Store)(nil)
	_ access.Watcher = (*Store)(nil)
	_ access.View    = (*Store)(nil)
)

// Store is an in-memory [access.Store]. Every write goes through
// [access.Batch.Validate] against the current model and commits all of it or
// none of it. Values are copied on the way in and on the way out: what is
// put is what is read back, and a caller never shares memory with the store.
//
// A Store is safe for concurrent use. Writes are serialised; reads run in
// parallel with each other and with validation, and wait only while a write
// commits. The zero value is not usable: call [New] or [NewWithLog].
type Store struct {
	// wmu serialises writers. Validation runs under wmu alone and reads
	// the tables without mu: only a writer changes them, and there is one
	// writer at a time.
	wmu sync.Mutex

	// mu guards the tables, the indexes and the log; a writer holds it
	// only while it commits.
	mu         sync.RWMutex
	roles      table[access.RoleID, access.Role]
	groups     table[access.GroupID, access.Group]
	associates table[access.AssociateID, access.Associate]
	rules      table[access.RuleID, access.SharingRule]
	grants     table[access.GrantID, access.Grant]
	categories table[access.CategoryID, access.Category]
	imps       table[access.ImpersonationID, access.Impersonation]
	limits     table[access.LimitID, access.Limit]
	licences   table[access.LicenceID, access.Licence]
	past       table[access.AssociateID, access.PastOwner]
	// tables holds the tables above by kind, in kind order; index 0 is
	// nil.
	tables [access.KindPastOwner + 1]kindTable
	// byName finds each associate by its name (see names).
	byName names
	// deps maps an entity to the set of entities whose values refer to it
	// (see depSet): by the entity's kind, then by its id, since an int64
	// key hashes several times faster than a Ref, and a load looks up a
	// set for every reference of every entity it puts.
	deps [access.KindPastOwner + 1]map[int64]*depSet
	log  changeLog

	// rev is written under mu and read without it by Revision.
	rev atomic.Uint64

	// nmu serialises notifications, so that no watcher is called
	// concurrently with itself; notified is the latest revision the
	// watchers were told about.
	nmu      sync.Mutex
	notified access.Revision

	// watchers is replaced, never changed in place, so a notification can
	// range over the slice it read without holding wlmu.
	wlmu     sync.Mutex
	watchers []*watcher
}

type watcher struct {
	fn      func(access.Revision)
	stopped atomic.Bool
}

// table holds the entities of one kind by id.
type table[ID ~int64, V any] struct {
	kind access.Kind
	rows rows[ID, V]
	id   func(*V) ID
	// in returns a batch's puts and deletes of the kind.
	in func(b *access.Batch) (puts *[]V, dels *[]ID)
}

func newTable[ID ~int64, V any](k access.Kind, id func(*V) ID, in func(*access.Batch) (*[]V, *[]ID)) table[ID, V] {
	return table[ID, V]{kind: k, id: id, in: in}
}

// kindTable is a [table] of any kind: what the store does alike with
// every kind. The caller holds mu, or wmu for has.
type kindTable interface {
	// has reports whether the table holds the entity id.
	has(id int64) bool
	// len is the number of entities in the table.
	len() int
	// write stores b's puts and removes b's deletes of the kind (see
	// [table.write]).
	write(s *Store, b *access.Batch, touched []access.Ref) []access.Ref
	// pick adds the entity id to b: to its puts if the table holds it, to
	// its deletes if not.
	pick(id int64, b *access.Batch)
	// all sets b's puts of the kind to every entity in the table.
	all(b *access.Batch)
	// sort sorts b's puts of the kind by id, and its deletes.
	sort(b *access.Batch)
}

// table returns the table of kind k, or nil if k is not a kind.
func (s *Store) table(k access.Kind) kindTable {
	if int(k) >= len(s.tables) {
		return nil
	}
	return s.tables[k]
}

// New returns an empty store at revision 0 that remembers the changes of
// its last [DefaultLog] revisions.
func New() *Store { return NewWithLog(DefaultLog) }

// NewWithLog returns an empty store at revision 0 that remembers the
// changes of its last n revisions; [Store.Changes] answers a revision older
// than that with a full delta. The log never holds more entries than the
// larger of n and the number of entities in the model, so it costs at most
// about as much memory as the model: past that size a full delta is no
// longer than an incremental one anyway. NewWithLog panics if n is
// negative.
func NewWithLog(n int) *Store {
	if n < 0 {
		panic(fmt.Sprintf("memory: NewWithLog(%d): the log length must not be negative", n))
	}
	s := &Store{
		roles: newTable(access.KindRole, func(r *access.Role) access.RoleID { return r.ID },
			func(b *access.Batch) (*[]access.Role, *[]access.RoleID) { return &b.Roles, &b.DeleteRoles }),
		groups: newTable(access.KindGroup, func(g *access.Group) access.GroupID { return g.ID },
			func(b *access.Batch) (*[]access.Group, *[]access.GroupID) { return &b.Groups, &b.DeleteGroups }),
		associates: newTable(access.KindAssociate, func(a *access.Associate) access.AssociateID { return a.ID },
			func(b *access.Batch) (*[]access.Associate, *[]access.AssociateID) {
				return &b.Associates, &b.DeleteAssociates
			}),
		rules: newTable(access.KindSharingRule, func(r *access.SharingRule) access.RuleID { return r.ID },
			func(b *access.Batch) (*[]access.SharingRule, *[]access.RuleID) {
				return &b.SharingRules, &b.DeleteSharingRules
			}),
		grants: newTable(access.KindGrant, func(g *access.Grant) access.GrantID { return g.ID },
			func(b *access.Batch) (*[]access.Grant, *[]access.GrantID) { return &b.Grants, &b.DeleteGrants }),
		categories: newTable(access.KindCategory, func(c *access.Category) access.CategoryID { return c.ID },
			func(b *access.Batch) (*[]access.Category, *[]access.CategoryID) {
				return &b.Categories, &b.DeleteCategories
			}),
		imps: newTable(access.KindImpersonation, func(m *access.Impersonation) access.ImpersonationID { return m.ID },
			func(b *access.Batch) (*[]access.Impersonation, *[]access.ImpersonationID) {
				return &b.Impersonations, &b.DeleteImpersonations
			}),
		limits: newTable(access.KindLimit, func(l *access.Limit) access.LimitID { return l.ID },
			func(b *access.Batch) (*[]access.Limit, *[]access.LimitID) { return &b.Limits, &b.DeleteLimits }),
		licences: newTable(access.KindLicence, func(l *access.Licence) access.LicenceID { return l.ID },
			func(b *access.Batch) (*[]access.Licence, *[]access.LicenceID) { return &b.Licences, &b.DeleteLicences }),
		// Forgetting a past owner is the delete of its kind.
		past: newTable(access.KindPastOwner, func(p *access.PastOwner) access.AssociateID { return p.ID },
			func(b *access.Batch) (*[]access.PastOwner, *[]access.AssociateID) {
				return &b.PastOwners, &b.ForgetPastOwners
			}),
		byName: newNames(),
		log:    changeLog{max: n},
	}
	s.tables = [...]kindTable{
		access.KindRole: &s.roles, access.KindGroup: &s.groups, access.KindAssociate: &s.associates,
		access.KindSharingRule: &s.rules, access.KindGrant: &s.grants, access.KindCategory: &s.categories,
		access.KindImpersonation: &s.imps, access.KindLimit: &s.limits, access.KindLicence: &s.licences,
		access.KindPastOwner: &s.past,
	}
	return s
}

// Revision reports the store's latest committed revision. It does not
// wait for a write in progress.
func (s *Store) Revision() access.Revision { return access.Revision(s.rev.Load()) }

// Apply validates b against the current model (see [access.Batch.Validate])
// and commits all of it or none of it, returning the new revision. Each
// committed batch raises the revision by exactly one; an empty batch
// commits nothing and returns the current revision. Deleting an id the
// store does not hold is not an error: that part of the batch changes
// nothing. Before Apply returns, every watcher has been called with the new
// revision or a later one.
//
// Errors: those of [access.Batch.Validate], wrapping [access.ErrInvalid],
// [access.ErrCycle], [access.ErrNameTaken] or [access.ErrInUse];
// [access.ErrExists] for a CreateOnly put of a held id,
// [access.ErrConflict] when ExpectRevision is not the store's revision,
// [access.ErrNotFound] for a patch of a missing entity;
// and ctx.Err() when ctx is done before the write starts.
func (s *Store) Apply(ctx context.Context, b access.Batch) (access.Revision, error) {
	return s.apply(ctx, b, access.Ref{})
}

// PutRole inserts or replaces one role. Errors as for [Store.Apply].
func (s *Store) PutRole(ctx context.Context, r access.Role) error {
	_, err := s.apply(ctx, access.Batch{Roles: []access.Role{r}}, access.Ref{})
	return err
}

// PutGroup inserts or replaces one group. Errors as for [Store.Apply].
func (s *Store) PutGroup(ctx context.Context, g access.Group) error {
	_, err := s.apply(ctx, access.Batch{Groups: []access.Group{g}}, access.Ref{})
	return err
}

// PutAssociate inserts or replaces one associate. Errors as for
// [Store.Apply].
func (s *Store) PutAssociate(ctx context.Context, a access.Associate) error {
	_, err := s.apply(ctx, access.Batch{Associates: []access.Associate{a}}, access.Ref{})
	return err
}

// DeleteRole deletes one role. Errors: [access.ErrNotFound] when the store
// does not hold it; [access.ErrInUse], naming the dependants, while another
// role, a group, an associate, a sharing rule or a category refers to it;
// [access.ErrInvalid] for an id that is not positive; ctx.Err().
func (s *Store) DeleteRole(ctx context.Context, id access.RoleID) error {
	_, err := s.apply(ctx, access.Batch{DeleteRoles: []access.RoleID{id}},
		access.Ref{Kind: access.KindRole, ID: int64(id)})
	return err
}

// DeleteGroup deletes one group. Errors: [access.ErrNotFound] when the
// store does not hold it; [access.ErrInUse], naming the dependants, while a
// group lists it, an associate names it as primary or secondary group, or a
// sharing rule, grant, category or impersonation rule names it;
// [access.ErrInvalid] for an id that is not positive; ctx.Err().
func (s *Store) DeleteGroup(ctx context.Context, id access.GroupID) error {
	_, err := s.apply(ctx, access.Batch{DeleteGroups: []access.GroupID{id}},
		access.Ref{Kind: access.KindGroup, ID: int64(id)})
	return err
}

// DeleteAssociate deletes one associate. Records the associate owns live in
// the application, not here, so they do not stop the delete. Errors:
// [access.ErrNotFound] when the store does not hold it; [access.ErrInUse],
// naming the dependants, while a group lists it as an admin or a sharing
// rule, grant or impersonation rule names it; [access.ErrInvalid] for an id
// that is not positive; ctx.Err().
func (s *Store) DeleteAssociate(ctx context.Context, id access.AssociateID) error {
	_, err := s.apply(ctx, access.Batch{DeleteAssociates: []access.AssociateID{id}},
		access.Ref{Kind: access.KindAssociate, ID: int64(id)})
	return err
}

// apply commits b and notifies the watchers. When must names an entity the
// write fails with ErrNotFound unless the store holds it.
func (s *Store) apply(ctx context.Context, b access.Batch, must access.Ref) (access.Revision, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if b.Empty() {
		cur := s.Revision()
		if err := expect(&b, cur); err != nil {
			return 0, err
		}
		return cur, nil
	}
	// The store keeps these values, and the caller may reuse b.
	var attrs intern.Maps
	b = clone(&b, &attrs)
	s.wmu.Lock()
	rev, err := s.commit(ctx, &b, must, &attrs)
	s.wmu.Unlock()
	if err != nil {
		return 0, err
	}
	s.notify(rev)
	return rev, nil
}

// commit validates and writes b. The caller holds wmu.
func (s *Store) commit(ctx context.Context, b *access.Batch, must access.Ref, attrs *intern.Maps) (access.Revision, error) {
	if must.Kind != 0 && must.ID > 0 && !s.has(must) {
		return 0, fmt.Errorf("memory: %s: %w", must, access.ErrNotFound)
	}
	patched := len(b.Patches) > 0
	if err := s.prepare(ctx, b); err != nil {
		return 0, err
	}
	if err := b.Validate(ctx, txView{s}); err != nil {
		return 0, err
	}
	if s.associates.len()+s.past.len() == 0 {
		// Nothing to keep: no associate the batch deletes is held, and no
		// past owner is there to move or forget. KeepPastOwners would
		// return b with no past owners to put or move, and its list of
		// every associate b puts to forget (a set and a list of a million
		// at a first load) would forget nothing.
		b.PastOwners, b.MovePastOwners, b.ForgetPastOwners = nil, nil, nil
	} else {
		kept, err := b.KeepPastOwners(ctx, txView{s})
		if err != nil {
			return 0, err
		}
		*b = kept
	}
	// Associates with equal attributes share one map: the store never
	// changes a map it holds, and copies every value it hands out. Those
	// of b are shared already (see clone); patched ones may not be.
	if patched {
		for i := range b.Associates {
			b.Associates[i].Attributes = attrs.Intern(b.Associates[i].Attributes)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	// Take every old name out before putting a new one in: a batch may
	// hand a name from one associate to another.
	for _, a := range b.Associates {
		s.unname(a.ID)
	}
	for _, id := range b.DeleteAssociates {
		s.unname(id)
	}
	s.byName.grow(len(b.Associates))
	touched := make([]access.Ref, 0, len(b.Roles)+len(b.Groups)+len(b.Associates)+len(b.DeleteAssociates))
	for _, t := range s.tables[access.KindRole:] {
		touched = t.write(s, b, touched)
	}
	for _, a := range b.Associates {
		s.byName.add(access.FoldName(a.Name), a.ID, s.heldName)
	}

	rev := s.Revision() + 1
	s.rev.Store(uint64(rev))
	s.log.add(touched, s.size())
	return rev, nil
}

// clone deep-copies b as [access.Batch.Clone] does, except that it copies
// the associates itself (see cloneAssociates).
func clone(b *access.Batch, attrs *intern.Maps) access.Batch {
	c := *b
	c.Associates = nil
	c = c.Clone()
	c.Associates = cloneAssociates(b.Associates, attrs)
	return c
}

// cloneAssociates deep-copies in as [access.Batch.Clone] would, with two
// differences that matter at a million associates. The attribute maps
// are copied through attrs: each distinct map once, shared by the
// associates that have it (most draw theirs from a few combinations).
// And the associates' lists (groups, projects, categories, licences) are
// carved, one list after another, from one array per field rather than
// allocated each on its own: four allocations rather than millions. A
// list stays in its array until the associate is replaced, and the array
// until all of its lists are; the store never changes one. A test checks
// that it copies every field Clone copies.
func cloneAssociates(in []access.Associate, attrs *intern.Maps) []access.Associate {
	if in == nil {
		return nil
	}
	var ng, np, nc, nl int
	for i := range in {
		ng += len(in[i].Groups)
		np += len(in[i].Projects)
		nc += len(in[i].Categories)
		nl += len(in[i].Licences)
	}
	groups := make([]access.GroupID, 0, ng)
	projects := make([]int64, 0, np)
	cats := make([]access.CategoryID, 0, nc)
	lics := make([]access.LicenceID, 0, nl)
	out := make([]access.Associate, len(in))
	for i := range in {
		a := &out[i]
		*a = in[i]
		a.Groups = carve(&groups, a.Groups)
		a.Projects = carve(&projects, a.Projects)
		a.Categories = carve(&cats, a.Categories)
		a.Licences = carve(&lics, a.Licences)
		a.Attributes = attrs.Own(a.Attributes)
		// As Clone: every store hands times back in UTC.
		a.ValidFrom, a.ValidTo = a.ValidFrom.UTC(), a.ValidTo.UTC()
	}
	return out
}

// carve appends s to the array behind slab, which has room for it, and
// returns the copy, its capacity clipped so that an append to it cannot
// write over the next list; nil stays nil.
func carve[T any](slab *[]T, s []T) []T {
	if s == nil {
		return nil
	}
	at := len(*slab)
	*slab = append(*slab, s...)
	return (*slab)[at:len(*slab):len(*slab)]
}

// write stores b's puts and removes b's deletes of the table's kind,
// keeping the reverse index, and appends what it changed to touched.
// Deleting an id the table does not hold changes nothing. The caller holds
// mu.
func (t *table[ID, V]) write(s *Store, b *access.Batch, touched []access.Ref) []access.Ref {
	pp, dp := t.in(b)
	puts, dels := *pp, *dp
	if len(puts)+len(dels) == 0 {
		return touched
	}
	// Into an empty table, the puts are all new: nothing to unlink, and
	// the batch's slice (the store's own copy, validated to name each id
	// once) becomes the table's storage as it is.
	bulk := t.rows.len() == 0 && len(puts) > 0
	var before, after []access.Ref
	for i := range puts {
		v := &puts[i]
		from := access.Ref{Kind: t.kind, ID: int64(t.id(v))}
		if bulk {
			access.References(v, func(to access.Ref) bool { s.link(from, to); return true })
			touched = append(touched, from)
			continue
		}
		// Touch only the edges that change: most writes keep them all,
		// and the sets behind a popular role or group are large.
		before, after = before[:0], after[:0]
		if old := t.rows.get(t.id(v)); old != nil {
			access.References(old, func(to access.Ref) bool { before = append(before, to); return true })
		}
		access.References(v, func(to access.Ref) bool { after = append(after, to); return true })
		without(before, after, func(to access.Ref) { s.unlink(from, to) })
		without(after, before, func(to access.Ref) { s.link(from, to) })
		t.rows.put(t.id(v), v)
		touched = append(touched, from)
	}
	if bulk {
		t.rows.adopt(puts, t.id)
	}
	for _, id := range dels {
		if old := t.rows.get(id); old != nil {
			from := access.Ref{Kind: t.kind, ID: int64(id)}
			access.References(old, func(to access.Ref) bool { s.unlink(from, to); return true })
			t.rows.remove(id, t.id)
			touched = append(touched, from)
		}
	}
	return touched
}

// without calls fn with each ref of a that is not in b.
func without(a, b []access.Ref, fn func(access.Ref)) {
	if len(a)*len(b) <= 1024 {
		for _, r := range a {
			if !slices.Contains(b, r) {
				fn(r)
			}
		}
		return
	}
	in := make(map[access.Ref]bool, len(b))
	for _, r := range b {
		in[r] = true
	}
	for _, r := range a {
		if !in[r] {
			fn(r)
		}
	}
}

// link records that from refers to to. An entity that refers to the same
// target twice (a group listing a role in both Roles and
// RolesAndSubordinates) has one edge, which unlinkAll removes once.
func (s *Store) link(from, to access.Ref) {
	if int(to.Kind) >= len(s.deps) {
		return // References yields entities of the kinds alone
	}
	m := s.deps[to.Kind]
	if m == nil {
		m = map[int64]*depSet{}
		s.deps[to.Kind] = m
	}
	set := m[to.ID]
	if set == nil {
		set = new(depSet)
		m[to.ID] = set
	}
	set.add(from)
}

func (s *Store) unlink(from, to access.Ref) {
	if int(to.Kind) >= len(s.deps) {
		return
	}
	if set := s.deps[to.Kind][to.ID]; set != nil {
		set.remove(from)
		if len(*set) == 0 {
			delete(s.deps[to.Kind], to.ID)
		}
	}
}

func (s *Store) unname(id access.AssociateID) {
	if a := s.associates.rows.get(id); a != nil {
		s.byName.remove(access.FoldName(a.Name), id)
	}
}

// heldName returns the name of the associate id, if the store holds it.
func (s *Store) heldName(id access.AssociateID) (string, bool) {
	if a := s.associates.rows.get(id); a != nil {
		return a.Name, true
	}
	return "", false
}

func (s *Store) has(r access.Ref) bool {
	t := s.table(r.Kind)
	return t != nil && t.has(r.ID)
}

func (t *table[ID, V]) has(id int64) bool {
	return t.rows.get(ID(id)) != nil
}

func (t *table[ID, V]) len() int { return t.rows.len() }

// size counts the entities in the model.
func (s *Store) size() int {
	n := 0
	for _, t := range s.tables[access.KindRole:] {
		n += t.len()
	}
	return n
}

// notify tells the watchers about revision rev or a later one, unless an
// earlier notification already did.
func (s *Store) notify(rev access.Revision) {
	s.nmu.Lock()
	defer s.nmu.Unlock()
	if s.notified >= rev {
		return
	}
	// Report the latest revision rather than rev: writers that committed
	// after this one and now wait for nmu are then already covered, and
	// the watchers see revisions in increasing order.
	rev = s.Revision()
	s.notified = rev
	s.wlmu.Lock()
	ws := s.watchers
	s.wlmu.Unlock()
	for _, w := range ws {
		if !w.stopped.Load() {
			w.fn(rev)
		}
	}
}

// Watch calls fn after each committed write, with the new revision or a
// later one, before the write returns; so a resolver that watches the
// store sees every write made through it. Calls to the watchers of one
// store are serialised: fn is never called concurrently with itself, and
// while it runs other writes may commit but not return. fn may read the
// store (it will usually call [Store.Changes]) and may call stop, but must
// not write to the store: the write would wait for fn to return.
//
// The returned stop may be called any number of times. Once it has
// returned fn is not called again, although a call that had already begun
// may still be running, as it is when fn calls stop itself. Watch panics if
// fn is nil.
func (s *Store) Watch(fn func(access.Revision)) (stop func()) {
	if fn == nil {
		panic("memory: Watch(nil)")
	}
	w := &watcher{fn: fn}
	s.wlmu.Lock()
	s.watchers = append(slices.Clip(s.watchers), w)
	s.wlmu.Unlock()
	return func() {
		if w.stopped.Swap(true) {
			return
		}
		s.wlmu.Lock()
		s.watchers = slices.DeleteFunc(slices.Clone(s.watchers), func(x *watcher) bool { return x == w })
		s.wlmu.Unlock()
	}
}

// Changes returns what changed after revision since, up to the latest
// revision, as one consistent view: the current values of the entities
// written after since and the ids of those deleted after since. An entity
// written and later deleted is listed only as deleted; one deleted and
// written again only as written. Every list is in id order.
//
// For since 0, for a since older than the change log remembers, and for a
// since above the latest revision (the caller followed a store that has
// been replaced since), Changes returns a full delta: Full is true, From is
// 0 and the Batch holds the whole model.
//
// Errors: only ctx.Err().
func (s *Store) Changes(ctx context.Context, since access.Revision) (access.Delta, error) {
	if err := ctx.Err(); err != nil {
		return access.Delta{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	to := s.Revision()
	entries, ok := s.log.after(since)
	if since == 0 || since > to || !ok {
		return s.full(ctx, to), nil
	}
	seen := make(map[access.Ref]struct{})
	var b access.Batch
	for _, e := range entries {
		for _, r := range e {
			if _, dup := seen[r]; dup {
				continue
			}
			seen[r] = struct{}{}
			if t := s.table(r.Kind); t != nil {
				t.pick(r.ID, &b)
			}
		}
	}
	s.sort(&b)
	return access.Delta{From: since, To: to, Batch: s.handOut(ctx, &b)}, nil
}

// handOut returns b, which shares memory with the store, for the caller of
// Changes: a deep copy, except that the associates are the store's own
// when ctx carries the caller's promise not to change them
// ([intern.ReadOnly], which the resolver makes to this store, not to a
// wrapper calling it). The store never changes a
// value it holds, only replaces it, so sharing them is safe; it spares a
// write the copy of the associate's attributes and lists, and a full load
// the copy of every associate's.
func (s *Store) handOut(ctx context.Context, b *access.Batch) access.Batch {
	if !intern.IsReadOnly(ctx, s) {
		return b.Clone()
	}
	as := b.Associates
	b.Associates = nil
	out := b.Clone()
	out.Associates = as
	return out
}

func (t *table[ID, V]) pick(id int64, b *access.Batch) {
	puts, dels := t.in(b)
	if v := t.rows.get(ID(id)); v != nil {
		*puts = append(*puts, *v)
	} else {
		*dels = append(*dels, ID(id))
	}
}

// full returns the whole model as a delta. The caller holds mu.
//
// Under the resolver's promise not to change them (see handOut), the
// associates are the store's own storage when it keeps them in id order
// in one slice, as a first load in id order leaves them: store and
// resolver then share one copy of each associate, a quarter of a
// gigabyte at a million associates, and the store writes around them
// from then on (see rows.lend).
func (s *Store) full(ctx context.Context, to access.Revision) access.Delta {
	var b access.Batch
	lent := false
	if intern.IsReadOnly(ctx, s) {
		b.Associates, lent = s.associates.rows.lend()
	}
	for k, t := range s.tables[access.KindRole:] {
		if lent && access.KindRole+access.Kind(k) == access.KindAssociate {
			continue
		}
		t.all(&b)
	}
	s.sort(&b)
	return access.Delta{To: to, Full: true, Batch: s.handOut(ctx, &b)}
}

// all sets b's puts of the kind to every entity in the table, in id order.
func (t *table[ID, V]) all(b *access.Batch) {
	puts, _ := t.in(b)
	if t.rows.len() == 0 {
		*puts = nil
		return
	}
	*puts = t.rows.sorted()
}

func (s *Store) sort(b *access.Batch) {
	for _, t := range s.tables[access.KindRole:] {
		t.sort(b)
	}
}

func (t *table[ID, V]) sort(b *access.Batch) {
	puts, dels := t.in(b)
	sortByID(*puts, t.id)
	slices.Sort(*dels)
}

// sortByID sorts vs by id. It sorts (id, position) pairs and moves each
// value once, rather than comparing and swapping the values themselves,
// and returns at once when vs is sorted already, as full deltas are.
func sortByID[ID ~int64, V any](vs []V, id func(*V) ID) {
	sorted := true
	for i := 1; i < len(vs) && sorted; i++ {
		sorted = id(&vs[i-1]) <= id(&vs[i])
	}
	if sorted {
		return
	}
	type key struct {
		id ID
		at int
	}
	keys := make([]key, len(vs))
	for i := range vs {
		keys[i] = key{id(&vs[i]), i}
	}
	slices.SortFunc(keys, func(x, y key) int { return cmp.Compare(x.id, y.id) })
	out := make([]V, len(vs))
	for i, k := range keys {
		out[i] = vs[k.at]
	}
	copy(vs, out)
}

// Role returns a copy of the role with the given id.
// Errors: [access.ErrNotFound]; ctx.Err().
func (s *Store) Role(ctx context.Context, id access.RoleID) (access.Role, error) {
	r, err := read(ctx, s, &s.roles, id)
	b := access.Batch{Roles: []access.Role{r}}
	return b.Clone().Roles[0], err
}

// Group returns a copy of the group with the given id.
// Errors: [access.ErrNotFound]; ctx.Err().
func (s *Store) Group(ctx context.Context, id access.GroupID) (access.Group, error) {
	g, err := read(ctx, s, &s.groups, id)
	b := access.Batch{Groups: []access.Group{g}}
	return b.Clone().Groups[0], err
}

// Associate returns a copy of the associate with the given id.
// Errors: [access.ErrNotFound]; ctx.Err().
func (s *Store) Associate(ctx context.Context, id access.AssociateID) (access.Associate, error) {
	a, err := read(ctx, s, &s.associates, id)
	b := access.Batch{Associates: []access.Associate{a}}
	return b.Clone().Associates[0], err
}

// Category returns a copy of the category with the given id.
// Errors: [access.ErrNotFound]; ctx.Err().
func (s *Store) Category(ctx context.Context, id access.CategoryID) (access.Category, error) {
	c, err := read(ctx, s, &s.categories, id)
	b := access.Batch{Categories: []access.Category{c}}
	return b.Clone().Categories[0], err
}

// Licence returns a copy of the licence with the given id.
// Errors: [access.ErrNotFound]; ctx.Err().
func (s *Store) Licence(ctx context.Context, id access.LicenceID) (access.Licence, error) {
	l, err := read(ctx, s, &s.licences, id)
	b := access.Batch{Licences: []access.Licence{l}}
	return b.Clone().Licences[0], err
}

// read looks id up under the read lock. The value it returns shares memory
// with the store; the caller copies it.
func read[ID ~int64, V any](ctx context.Context, s *Store, t *table[ID, V], id ID) (V, error) {
	if err := ctx.Err(); err != nil {
		var zero V
		return zero, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return get(t, id)
}

func get[ID ~int64, V any](t *table[ID, V], id ID) (V, error) {
	v := t.rows.get(id)
	if v == nil {
		var zero V
		return zero, fmt.Errorf("memory: %s: %w", access.Ref{Kind: t.kind, ID: int64(id)}, access.ErrNotFound)
	}
	return *v, nil
}

// AssociateByName returns a copy of the associate whose login name equals
// name compared case-insensitively (see [access.FoldName]).
// Errors: [access.ErrNotFound]; ctx.Err().
func (s *Store) AssociateByName(ctx context.Context, name string) (access.Associate, error) {
	if err := ctx.Err(); err != nil {
		return access.Associate{}, err
	}
	s.mu.RLock()
	a, ok := txView{s}.byName(name)
	s.mu.RUnlock()
	if !ok {
		return access.Associate{}, fmt.Errorf("memory: associate named %q: %w", name, access.ErrNotFound)
	}
	b := access.Batch{Associates: []access.Associate{a}}
	return b.Clone().Associates[0], nil
}

// PastOwnersIn lists, by id, the past owners whose primary group is g
// (see [access.View.PastOwnersIn]).
// Errors: ctx.Err().
func (s *Store) PastOwnersIn(ctx context.Context, g access.GroupID) ([]access.PastOwner, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return txView{s}.PastOwnersIn(ctx, g)
}

// Dependants lists, in kind and id order, the entities that refer to ref,
// as [access.View] describes them. An entity the store does not hold has
// none, and so has every entity of a kind nothing refers to.
// Errors: [access.ErrInvalid] for a Kind that is not one of the kinds;
// ctx.Err().
func (s *Store) Dependants(ctx context.Context, ref access.Ref) ([]access.Ref, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	deps, err := txView{s}.Dependants(ctx, ref)
	slices.SortFunc(deps, func(x, y access.Ref) int {
		return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.ID, y.ID))
	})
	return deps, err
}

// txView is the store as Batch.Validate sees it during a write: without
// locks (the writer holds wmu, so nothing changes underneath) and without
// copies (Validate only reads, and the values do not outlive the write).
type txView struct{ s *Store }

func (v txView) Role(_ context.Context, id access.RoleID) (access.Role, error) {
	return get(&v.s.roles, id)
}

func (v txView) Group(_ context.Context, id access.GroupID) (access.Group, error) {
	return get(&v.s.groups, id)
}

func (v txView) Associate(_ context.Context, id access.AssociateID) (access.Associate, error) {
	return get(&v.s.associates, id)
}

func (v txView) Category(_ context.Context, id access.CategoryID) (access.Category, error) {
	return get(&v.s.categories, id)
}

func (v txView) Licence(_ context.Context, id access.LicenceID) (access.Licence, error) {
	return get(&v.s.licences, id)
}

func (v txView) PastOwnersIn(_ context.Context, g access.GroupID) ([]access.PastOwner, error) {
	var out []access.PastOwner
	v.s.past.rows.each(func(p *access.PastOwner) {
		if p.PrimaryGroup == g {
			out = append(out, *p)
		}
	})
	slices.SortFunc(out, func(a, b access.PastOwner) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// AssociateByName answers validation, which asks it about every associate
// a batch puts and drops ErrNotFound unread: for a free name, the usual
// case, it returns one error made once rather than formatting one for
// each (a tenth of a bulk load's validation, with the collection it
// caused).
func (v txView) AssociateByName(_ context.Context, name string) (access.Associate, error) {
	if a, ok := v.byName(name); ok {
		return a, nil
	}
	return access.Associate{}, errNoName
}

// errNoName is txView's answer for a name nobody has.
var errNoName = fmt.Errorf("memory: no associate has that name: %w", access.ErrNotFound)

// byName returns the associate whose login name folds as name does.
func (v txView) byName(name string) (access.Associate, bool) {
	// A name outside the domain names nobody, even one whose folded form
	// (invalid UTF-8 read as U+FFFD) matches a held name: the SQL stores
	// answer so too.
	if id, ok := v.s.byName.find(access.FoldName(name), v.s.heldName); ok && access.ValidName(name) {
		return *v.s.associates.rows.get(id), true
	}
	return access.Associate{}, false
}

func (v txView) Dependants(_ context.Context, ref access.Ref) ([]access.Ref, error) {
	if v.s.table(ref.Kind) == nil {
		return nil, fmt.Errorf("memory: dependants of %s: %w: unknown kind", ref, access.ErrInvalid)
	}
	set := v.s.deps[ref.Kind][ref.ID]
	if set == nil {
		return nil, nil
	}
	return set.appendTo(make([]access.Ref, 0, set.len())), nil
}

// changeLog remembers which entities each of the latest revisions touched.
// Revisions are contiguous, so entries need no revision numbers: entry i
// is revision horizon+1+i.
type changeLog struct {
	max     int             // the most revisions kept
	entries [][]access.Ref  // what each revision touched
	horizon access.Revision // the latest revision no longer in entries
	size    int             // refs in entries, counted
	// first is the number of refs revision 1 touched. While horizon is 0
	// its entry is nil: it would be read only for Changes(0), which
	// answers with a full delta, and after a first load it would hold a
	// ref to every entity (16 MB at a million associates). It still
	// counts towards size, so the log forgets exactly as it would with
	// the refs in it.
	first int
}

// add appends the next revision and forgets the oldest ones while there are
// more than max, or while the log holds more refs than both max and the
// model.
func (l *changeLog) add(touched []access.Ref, model int) {
	l.size += len(touched)
	if l.horizon == 0 && len(l.entries) == 0 {
		l.first, touched = len(touched), nil
	}
	l.entries = append(l.entries, touched)
	for len(l.entries) > 0 && (len(l.entries) > l.max || l.size > max(l.max, model)) {
		n := len(l.entries[0])
		if l.horizon == 0 {
			n = l.first
		}
		l.size -= n
		// Drop the refs now rather than when append next reallocates.
		l.entries[0] = nil
		l.entries = l.entries[1:]
		l.horizon++
	}
}

// after returns the entries of the revisions after since, or false if the
// log no longer remembers all of them or since is beyond the latest.
func (l *changeLog) after(since access.Revision) ([][]access.Ref, bool) {
	if since < l.horizon || since-l.horizon > access.Revision(len(l.entries)) {
		return nil, false
	}
	return l.entries[since-l.horizon:], true
}

var _ access.Infallible = (*Store)(nil)

// ChangesCannotFail marks the Store as an [access.Infallible] one: its
// Changes fails only when the caller's context ends, so a resolver over it
// does not bound staleness by default.
func (s *Store) ChangesCannotFail() {}
