package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmaccess/access"
)

// Config is what a [Core] needs from its adapter: the engine's SQL, how to
// open its transactions, how it learns of other Stores' writes, and the
// change-log options the Store was given.
type Config struct {
	// Dialect describes the engine's SQL; its Name prefixes errors.
	Dialect *Dialect
	// ErrClosed is the adapter's error for use of a closed Store.
	ErrClosed error
	// Version is the schema version the adapter's code reads and writes.
	Version int
	// DB runs statements outside any transaction.
	DB Conn
	// Snapshot begins a read-only transaction that sees one committed
	// state. end rolls it back.
	Snapshot func(ctx context.Context) (c Conn, end func(), err error)
	// Write runs fn in a new write transaction and commits it if fn
	// succeeds. op names the operation ("apply", "trim") for errors. An
	// error must mean that the transaction did not commit, unless it wraps
	// [access.ErrCommitUnknown]: ctx may end the work before COMMIT, never
	// COMMIT itself.
	Write func(ctx context.Context, op string, fn func(c Conn) (access.Revision, error)) (access.Revision, error)
	// Lock, if set, takes the store's write lock in c's transaction until
	// the transaction ends. Without it the engine serialises writers
	// itself.
	Lock func(ctx context.Context, c Conn) error
	// Announce, if set, tells other Stores of revision rev from inside
	// the transaction that writes it. Its errors are returned as they are.
	Announce func(ctx context.Context, c Conn, rev access.Revision) error
	// Follow, if set, learns of other Stores' writes and passes their
	// revisions to [Core.Notify] or [Core.Force]. It runs in a goroutine
	// of its own while the Store has watchers, until ctx is cancelled,
	// and calls report with nil when it is following and with an error
	// when it is not.
	Follow func(ctx context.Context, report func(err error))
	// Starting is what [Core.Health] reports from when Follow starts until
	// its first report.
	Starting error
	// OnHealth, if set, is called with each report Follow makes, unless
	// Follow has been stopped or replaced meanwhile.
	OnHealth func(err error)
	// Retention is how much of the change log to keep.
	Retention Retention
}

// Retention is how much of the change log a Store keeps; the adapters'
// Options fields of the same names document it.
type Retention struct {
	// KeepChanges: default 100,000; negative keeps every entry.
	KeepChanges int
	// KeepFor: default no limit by age.
	KeepFor time.Duration
	// TrimEvery: default 100.
	TrimEvery int
	// Now: default time.Now.
	Now func() time.Time
}

func (r Retention) withDefaults() Retention {
	if r.KeepChanges == 0 {
		r.KeepChanges = 100_000
	}
	if r.TrimEvery <= 0 {
		r.TrimEvery = 100
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	return r
}

// Core is what the adapters' Stores do alike, given a [Config]: it checks
// that the store is open and its schema current, runs reads in a snapshot
// and writes in a transaction (raising the revision, validating, writing,
// trimming the change log when due), and keeps the watchers and the
// goroutine that follows other Stores' writes while there are watchers.
// The adapters' exported methods are Core's with their own documentation.
//
// A Core is safe for concurrent use.
type Core struct {
	cfg   Config
	d     *Dialect
	ready atomic.Bool // the schema version was found current

	watchers Watchers

	mu         sync.Mutex // guards the fields below
	closed     bool
	nwatch     int
	stopFollow context.CancelFunc
	gen        int // counts Follow goroutines, so that a stale one's reports are dropped
	health     error
	wg         sync.WaitGroup // Follow goroutines
}

// NewCore returns a Core for an open Store, with the defaults of
// cfg.Retention filled in.
func NewCore(cfg Config) *Core {
	cfg.Retention = cfg.Retention.withDefaults()
	return &Core{cfg: cfg, d: cfg.Dialect}
}

// Closed returns an error wrapping the adapter's ErrClosed once Close has
// been called, nil before.
func (c *Core) Closed() error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return fmt.Errorf("%s: %w", c.d.Name, c.cfg.ErrClosed)
	}
	return nil
}

// Check makes sure the store is open and the database schema is the one
// the code knows. Once the version matches it is not read again.
func (c *Core) Check(ctx context.Context) error {
	if err := c.Closed(); err != nil {
		return err
	}
	if c.ready.Load() {
		return nil
	}
	have, err := SchemaVersion(ctx, c.d, c.cfg.DB)
	if err != nil {
		return fmt.Errorf("%s: %w", c.d.Name, err)
	}
	if err := CheckVersion(c.d.Name, have, c.cfg.Version); err != nil {
		return err
	}
	c.ready.Store(true)
	return nil
}

// Migrated records that the schema was migrated to version, which spares
// later checks reading it when that is the current version.
func (c *Core) Migrated(version int) {
	if version == c.cfg.Version {
		c.ready.Store(true)
	}
}

// Close marks the store closed and stops Follow, waiting for it to return,
// so it must not be called from a watcher. It reports whether this call
// closed the store: later calls do nothing.
func (c *Core) Close() bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.closed = true
	if c.stopFollow != nil {
		c.stopFollow()
		c.stopFollow = nil
	}
	c.mu.Unlock()
	c.wg.Wait()
	return true
}

// Revision returns the latest committed revision.
func (c *Core) Revision(ctx context.Context) (access.Revision, error) {
	if err := c.Check(ctx); err != nil {
		return 0, err
	}
	return Revision(ctx, c.d, c.cfg.DB)
}

// read runs fn in a snapshot, so that everything fn reads belongs to one
// committed state. fn's errors are returned as they are.
func (c *Core) read(ctx context.Context, fn func(conn Conn) error) error {
	if err := c.Check(ctx); err != nil {
		return err
	}
	conn, end, err := c.cfg.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", c.d.Name, err)
	}
	defer end()
	return fn(conn)
}

// Changes answers [access.Store.Changes] from a snapshot.
func (c *Core) Changes(ctx context.Context, since access.Revision) (d access.Delta, err error) {
	err = c.read(ctx, func(conn Conn) error {
		if d, err = Changes(ctx, c.d, conn, since); err != nil {
			return fmt.Errorf("%s: %w", c.d.Name, err)
		}
		return nil
	})
	if err != nil {
		return access.Delta{}, err
	}
	return d, nil
}

// inView answers one [access.View] question from a snapshot.
func inView[T any](ctx context.Context, c *Core, fn func(v *View) (T, error)) (out T, err error) {
	err = c.read(ctx, func(conn Conn) error {
		out, err = fn(NewView(c.d, conn))
		return err
	})
	return out, err
}

// Role answers [access.View.Role] from a snapshot.
func (c *Core) Role(ctx context.Context, id access.RoleID) (access.Role, error) {
	return inView(ctx, c, func(v *View) (access.Role, error) { return v.Role(ctx, id) })
}

// Group answers [access.View.Group] from a snapshot.
func (c *Core) Group(ctx context.Context, id access.GroupID) (access.Group, error) {
	return inView(ctx, c, func(v *View) (access.Group, error) { return v.Group(ctx, id) })
}

// Associate answers [access.View.Associate] from a snapshot.
func (c *Core) Associate(ctx context.Context, id access.AssociateID) (access.Associate, error) {
	return inView(ctx, c, func(v *View) (access.Associate, error) { return v.Associate(ctx, id) })
}

// AssociateByName answers [access.View.AssociateByName] from a snapshot.
func (c *Core) AssociateByName(ctx context.Context, name string) (access.Associate, error) {
	return inView(ctx, c, func(v *View) (access.Associate, error) { return v.AssociateByName(ctx, name) })
}

// Category answers [access.View.Category] from a snapshot.
func (c *Core) Category(ctx context.Context, id access.CategoryID) (access.Category, error) {
	return inView(ctx, c, func(v *View) (access.Category, error) { return v.Category(ctx, id) })
}

// Licence answers [access.View.Licence] from a snapshot.
func (c *Core) Licence(ctx context.Context, id access.LicenceID) (access.Licence, error) {
	return inView(ctx, c, func(v *View) (access.Licence, error) { return v.Licence(ctx, id) })
}

// PastOwnersIn answers [access.View.PastOwnersIn] from a snapshot.
func (c *Core) PastOwnersIn(ctx context.Context, g access.GroupID) ([]access.PastOwner, error) {
	return inView(ctx, c, func(v *View) ([]access.PastOwner, error) { return v.PastOwnersIn(ctx, g) })
}

// Dependants answers [access.View.Dependants] from a snapshot.
func (c *Core) Dependants(ctx context.Context, ref access.Ref) ([]access.Ref, error) {
	return inView(ctx, c, func(v *View) ([]access.Ref, error) { return v.Dependants(ctx, ref) })
}

// Apply commits b in a new write transaction and tells the watchers. If
// must names an entity, Apply fails unless it exists (see [Apply]).
func (c *Core) Apply(ctx context.Context, b *access.Batch, must access.Ref) (access.Revision, error) {
	if err := c.Check(ctx); err != nil {
		return 0, err
	}
	if b.Empty() {
		return c.emptyRevision(ctx, c.cfg.DB, b)
	}
	rev, err := c.cfg.Write(ctx, "apply", func(conn Conn) (access.Revision, error) {
		return c.ApplyIn(ctx, conn, b, must)
	})
	if err != nil {
		// A driver may drop its connection when ctx ends and then fail
		// the statement under way with a bare network error; say why.
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) && !errors.Is(err, access.ErrCommitUnknown) {
			err = fmt.Errorf("%w (%w)", err, cerr)
		}
		return 0, err
	}
	c.watchers.Notify(rev)
	return rev, nil
}

// ApplyTx writes b in the caller's transaction, which conn is bound to,
// and returns the revision b gets if that commits.
func (c *Core) ApplyTx(ctx context.Context, conn Conn, b *access.Batch) (access.Revision, error) {
	if err := c.Check(ctx); err != nil {
		return 0, err
	}
	if b.Empty() {
		return c.emptyRevision(ctx, conn, b)
	}
	return c.ApplyIn(ctx, conn, b, access.Ref{})
}

// ApplyIn does the work of Apply in conn's transaction: it takes the
// write lock, raises the revision, validates and writes b, trims the
// change log when the revision is due, and announces the revision.
func (c *Core) ApplyIn(ctx context.Context, conn Conn, b *access.Batch, must access.Ref) (access.Revision, error) {
	// The lock serialises writers for the rest of the transaction: each
	// validates against everything committed before it. Without a lock,
	// raising the revision first takes the engine's write lock (if the
	// transaction does not hold it yet) before anything is validated.
	if err := c.lock(ctx, conn, "apply"); err != nil {
		return 0, err
	}
	rev, err := Bump(ctx, conn)
	if err != nil {
		return 0, fmt.Errorf("%s: apply: %w", c.d.Name, err)
	}
	r := c.cfg.Retention
	if err := Apply(ctx, c.d, conn, b, must, rev, r.Now()); err != nil {
		return 0, err
	}
	if r.KeepChanges > 0 || r.KeepFor > 0 {
		if uint64(rev)%uint64(r.TrimEvery) == 0 {
			if err := c.trim(ctx, conn); err != nil {
				return 0, err
			}
		}
	}
	if c.cfg.Announce != nil {
		if err := c.cfg.Announce(ctx, conn, rev); err != nil {
			return 0, err
		}
	}
	return rev, nil
}

func (c *Core) lock(ctx context.Context, conn Conn, op string) error {
	if c.cfg.Lock == nil {
		return nil
	}
	if err := c.cfg.Lock(ctx, conn); err != nil {
		return fmt.Errorf("%s: %s: taking the write lock: %w", c.d.Name, op, err)
	}
	return nil
}

// PutRole applies a batch putting r.
func (c *Core) PutRole(ctx context.Context, r access.Role) error {
	_, err := c.Apply(ctx, &access.Batch{Roles: []access.Role{r}}, access.Ref{})
	return err
}

// PutGroup applies a batch putting g.
func (c *Core) PutGroup(ctx context.Context, g access.Group) error {
	_, err := c.Apply(ctx, &access.Batch{Groups: []access.Group{g}}, access.Ref{})
	return err
}

// PutAssociate applies a batch putting a.
func (c *Core) PutAssociate(ctx context.Context, a access.Associate) error {
	_, err := c.Apply(ctx, &access.Batch{Associates: []access.Associate{a}}, access.Ref{})
	return err
}

// DeleteRole applies a batch deleting role id, which must exist.
func (c *Core) DeleteRole(ctx context.Context, id access.RoleID) error {
	_, err := c.Apply(ctx, &access.Batch{DeleteRoles: []access.RoleID{id}}, access.Ref{Kind: access.KindRole, ID: int64(id)})
	return err
}

// DeleteGroup applies a batch deleting group id, which must exist.
func (c *Core) DeleteGroup(ctx context.Context, id access.GroupID) error {
	_, err := c.Apply(ctx, &access.Batch{DeleteGroups: []access.GroupID{id}}, access.Ref{Kind: access.KindGroup, ID: int64(id)})
	return err
}

// DeleteAssociate applies a batch deleting associate id, which must
// exist.
func (c *Core) DeleteAssociate(ctx context.Context, id access.AssociateID) error {
	_, err := c.Apply(ctx, &access.Batch{DeleteAssociates: []access.AssociateID{id}}, access.Ref{Kind: access.KindAssociate, ID: int64(id)})
	return err
}

// Trim trims the change log now, in a write transaction of its own.
func (c *Core) Trim(ctx context.Context) error {
	if err := c.Check(ctx); err != nil {
		return err
	}
	_, err := c.cfg.Write(ctx, "trim", func(conn Conn) (access.Revision, error) {
		if err := c.lock(ctx, conn, "trim"); err != nil {
			return 0, err
		}
		return 0, c.trim(ctx, conn)
	})
	return err
}

func (c *Core) trim(ctx context.Context, conn Conn) error {
	r := c.cfg.Retention
	var before time.Time
	if r.KeepFor > 0 {
		before = r.Now().Add(-r.KeepFor)
	}
	return Trim(ctx, c.d, conn, r.KeepChanges, before)
}

// Notify calls the watchers with rev, unless a revision as high has been
// reported already.
func (c *Core) Notify(rev access.Revision) { c.watchers.Notify(rev) }

// Force calls the watchers with rev even if it has been reported: see
// [Watchers.Force].
func (c *Core) Force(rev access.Revision) { c.watchers.Force(rev) }

// Watch registers fn with the watchers and, for the first watcher of an
// open store, starts Follow. The returned stop removes fn and, for the
// last watcher, stops Follow. Watch panics if fn is nil.
func (c *Core) Watch(fn func(access.Revision)) (stop func()) {
	if fn == nil {
		panic(c.d.Name + ": Watch(nil)")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, remove := c.watchers.Add(fn)
	c.nwatch++
	if c.nwatch == 1 && !c.closed && c.cfg.Follow != nil {
		ctx, cancel := context.WithCancel(context.Background())
		c.stopFollow = cancel
		c.gen++
		gen := c.gen
		c.health = c.cfg.Starting
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.cfg.Follow(ctx, func(err error) { c.report(gen, err) })
		}()
	}
	return func() {
		if remove() < 0 {
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.nwatch--
		if c.nwatch == 0 && c.stopFollow != nil {
			c.stopFollow()
			c.stopFollow = nil
			c.health = nil
		}
	}
}

// Health returns Follow's last report: nil when it is following or not
// running, an error while it is not following.
func (c *Core) Health() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.health
}

// report records Follow's state, unless that Follow has been replaced or
// stopped.
func (c *Core) report(gen int, err error) {
	c.mu.Lock()
	if gen != c.gen || c.stopFollow == nil {
		c.mu.Unlock()
		return
	}
	c.health = err
	c.mu.Unlock()
	if c.cfg.OnHealth != nil {
		c.cfg.OnHealth(err)
	}
}
