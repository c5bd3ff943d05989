package access

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Action is what a subject wants to do with a record. The zero value is not
// an action, and no right allows it.
type Action uint8

// The four record actions.
const (
	_ Action = iota
	Read
	Create
	Update
	Delete
)

// Valid reports whether a is one of the four actions.
func (a Action) Valid() bool { return a >= Read && a <= Delete }

// right is the CRUD bit that allows the action.
func (a Action) right() CRUD {
	switch a {
	case Read:
		return R
	case Create:
		return C
	case Update:
		return U
	case Delete:
		return D
	}
	return 0
}

// String names the action in lower case.
func (a Action) String() string {
	switch a {
	case Read:
		return "read"
	case Create:
		return "create"
	case Update:
		return "update"
	case Delete:
		return "delete"
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}

// Resolver answers questions about one organisation: who is in which group
// and who may do what. It resolves against an immutable snapshot of the
// store at some revision, so every answer is consistent with one revision.
//
// Implementations must be safe for concurrent use. Any error means the
// question could not be answered: callers must treat it as deny.
type Resolver interface {
	// EffectiveGroups returns every group the associate is an effective
	// member of, ordered by group id, each with the shortest path that
	// explains it. Membership is structural: an inactive associate keeps
	// its groups (the gates apply to decisions, not to membership).
	// Unknown associate: an error wrapping ErrNotFound.
	EffectiveGroups(ctx context.Context, who AssociateID) ([]Membership, error)
	// IsMember reports whether the associate is an effective member of the
	// group. An unknown associate or group is an error wrapping ErrNotFound.
	IsMember(ctx context.Context, who AssociateID, g GroupID) (bool, error)
	// Members returns the effective members of the group in id order.
	// Unknown group: an error wrapping ErrNotFound.
	Members(ctx context.Context, g GroupID) ([]AssociateID, error)
	// Revision reports the store revision the resolver answers at now.
	Revision() Revision
}

// Options tune a resolver. A nil *Options, or a zero field, means the
// default documented on the field.
type Options struct {
	// Now tells the time for validity windows. Default: time.Now.
	Now func() time.Time
	// PollInterval is how often a resolver asks a store that is not a
	// [Watcher] for changes. Default: one second.
	PollInterval time.Duration
	// Logger receives warnings, such as a failed refresh. Default: none.
	Logger *slog.Logger
}

// Engine is the [Resolver] that [NewResolver] returns: it compiles the
// store's model into an immutable snapshot, keeps it current as the store
// changes, and answers from it without locks. It is safe for concurrent use.
type Engine struct {
	store Store
	now   func() time.Time
	log   *slog.Logger

	snap atomic.Pointer[snapshot]

	// mu serialises refreshes, so one goroutine builds the next snapshot
	// while readers keep using the published one.
	mu sync.Mutex

	stopWatch func()
	done      chan struct{}
	closeOnce sync.Once
}

var _ Resolver = (*Engine)(nil)

// NewResolver loads the whole model from s, compiles it and returns a
// resolver that follows s: through [Watcher] when s is one (writes made
// through s in this process are visible to the very next call), by polling
// otherwise. It fails if the first load fails. Call Close to stop following.
func NewResolver(ctx context.Context, s Store, opts *Options) (*Engine, error) {
	if s == nil {
		return nil, fmt.Errorf("access: NewResolver: %w: nil store", ErrInvalid)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	d, err := s.Changes(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("access: NewResolver: loading the model: %w", err)
	}
	e := &Engine{store: s, now: o.Now, log: o.Logger, done: make(chan struct{})}
	e.snap.Store(build(d.To, &d.Batch))
	if w, ok := s.(Watcher); ok {
		e.stopWatch = w.Watch(func(rev Revision) {
			if rev > e.Revision() {
				if err := e.Refresh(context.Background()); err != nil {
					e.log.Warn("access: refresh failed", "revision", rev, "err", err)
				}
			}
		})
	} else {
		go e.poll(o.PollInterval)
	}
	return e, nil
}

func (e *Engine) poll(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-e.done:
			return
		case <-t.C:
			if err := e.Refresh(context.Background()); err != nil {
				e.log.Warn("access: refresh failed", "err", err)
			}
		}
	}
}

// Close stops following the store. The resolver keeps answering from its
// last snapshot.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		close(e.done)
		if e.stopWatch != nil {
			e.stopWatch()
		}
	})
	return nil
}

// Refresh brings the resolver up to the store's latest revision now. On
// error the resolver keeps its current snapshot.
func (e *Engine) Refresh(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	cur := e.snap.Load()
	d, err := e.store.Changes(ctx, cur.rev)
	if err != nil {
		return fmt.Errorf("access: refresh from revision %d: %w", cur.rev, err)
	}
	switch {
	case d.Full:
		e.snap.Store(build(d.To, &d.Batch))
	case d.To <= cur.rev:
		// Nothing new.
	case d.From != cur.rev:
		return fmt.Errorf("access: refresh: store answered from revision %d, asked from %d", d.From, cur.rev)
	default:
		e.snap.Store(cur.update(&d))
	}
	return nil
}

// Revision reports the store revision the resolver answers at now.
func (e *Engine) Revision() Revision { return e.snap.Load().rev }

// EffectiveGroups implements [Resolver].
func (e *Engine) EffectiveGroups(ctx context.Context, who AssociateID) ([]Membership, error) {
	s := e.snap.Load()
	_, n := s.assoc(who)
	if n == nil {
		return nil, fmt.Errorf("access: associate %d: %w", who, ErrNotFound)
	}
	out := make([]Membership, len(n.groups))
	for i, g := range n.groups {
		out[i] = s.explain(n, g)
	}
	slices.SortFunc(out, func(a, b Membership) int { return cmp.Compare(a.Group, b.Group) })
	return out, nil
}

// explain rebuilds the shortest path to group g from the associate's
// precomputed steps.
func (s *snapshot) explain(n *assocNode, g int32) Membership {
	var path []GroupRef
	var why via
	for x := g; ; {
		i, ok := slices.BinarySearch(n.groups, x)
		if !ok || len(path) > len(n.groups) {
			break // cannot happen in a consistent node; never loop
		}
		path = append(path, s.groupRef(x))
		why = n.via[i]
		if why.reason != ViaGroup {
			break
		}
		x = why.from
	}
	slices.Reverse(path)
	m := Membership{Group: s.groups[g].group.ID, Reason: why.reason, Path: path}
	switch why.reason {
	case ViaRole:
		m.Role = s.roleRef(n.a.Role)
	case ViaRoleTree:
		// The nearest role at or above the associate's that the group lists.
		first := s.groups[s.groupIdx[path[0].ID]]
		for r, hops := n.a.Role, 0; r != 0 && hops <= len(s.roles); hops++ {
			if slices.Contains(first.group.RolesAndSubordinates, r) {
				m.Role = s.roleRef(r)
				break
			}
			rn := s.roles[r]
			if rn == nil {
				break
			}
			r = rn.role.Parent
		}
		if m.Role.ID != n.a.Role {
			m.Subordinate = s.roleRef(n.a.Role)
		}
	}
	return m
}

func (s *snapshot) groupRef(g int32) GroupRef {
	n := s.groups[g]
	return GroupRef{ID: n.group.ID, Name: n.group.Name}
}

func (s *snapshot) roleRef(id RoleID) RoleRef {
	if n := s.roles[id]; n != nil {
		return RoleRef{ID: id, Name: n.role.Name}
	}
	return RoleRef{ID: id}
}

// IsMember implements [Resolver]. It does not allocate unless it fails.
func (e *Engine) IsMember(ctx context.Context, who AssociateID, g GroupID) (bool, error) {
	s := e.snap.Load()
	_, n := s.assoc(who)
	if n == nil {
		return false, fmt.Errorf("access: associate %d: %w", who, ErrNotFound)
	}
	gi, gn := s.group(g)
	if gn == nil {
		return false, fmt.Errorf("access: group %d: %w", g, ErrNotFound)
	}
	return n.isMember(gi), nil
}

// Members implements [Resolver].
func (e *Engine) Members(ctx context.Context, g GroupID) ([]AssociateID, error) {
	s := e.snap.Load()
	gi, gn := s.group(g)
	if gn == nil {
		return nil, fmt.Errorf("access: group %d: %w", g, ErrNotFound)
	}
	ms := s.members[gi]
	out := make([]AssociateID, len(ms))
	for i, a := range ms {
		out[i] = s.assocs[a].a.ID
	}
	slices.Sort(out)
	return out, nil
}
