package access

import (
	"cmp"
	"context"
	"errors"
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

	// Can decides whether the associate may perform the action on the
	// record, and why. The Decision's zero value denies; an error (bad
	// input, a resolver that cannot vouch for its data) comes with a
	// denying Decision.
	Can(ctx context.Context, who AssociateID, act Action, rec Record) (Decision, error)
	// Has reports whether the associate holds a functional right, through
	// its role or one of its effective groups. System users hold every
	// right; an associate that fails a gate holds none.
	Has(ctx context.Context, who AssociateID, right string) (bool, error)
	// Stamp returns the ownership columns to write on a record assigned to
	// the associate now. Unknown associate: an error wrapping ErrNotFound.
	Stamp(ctx context.Context, who AssociateID) (Stamp, error)

	// Impersonate checks whether actor may act on behalf of target; CanAs
	// then decides as the target alone, recording the actor.
	Impersonate(ctx context.Context, actor, target AssociateID) (Acting, error)
	CanAs(ctx context.Context, as Acting, act Action, rec Record) (Decision, error)

	// Categories returns the associate's effective Customer Service
	// categories with their provenance; CategoryMembers the reverse.
	Categories(ctx context.Context, who AssociateID) ([]CategoryMembership, error)
	CategoryMembers(ctx context.Context, c CategoryID) ([]AssociateID, error)

	// CanManageMembers reports whether actor may add to or remove from
	// group g's members; CanJoin whether who may add or remove itself.
	CanManageMembers(ctx context.Context, actor AssociateID, g GroupID) (bool, error)
	CanJoin(ctx context.Context, who AssociateID, g GroupID) (bool, error)

	// Field returns a custom field's value for the associate, falling back
	// to its groups.
	Field(ctx context.Context, who AssociateID, key string) (FieldValue, error)

	// Filter describes the records of a type the associate may act on,
	// for listing them in SQL; WhoCan lists the associates allowed on one
	// record; Permissions and GroupPermissions give the permissions matrix
	// of an associate and what a group's membership contributes.
	Filter(ctx context.Context, who AssociateID, act Action, typ string) (Filter, error)
	WhoCan(ctx context.Context, act Action, rec Record) ([]Allowed, error)
	Permissions(ctx context.Context, who AssociateID) (Permissions, error)
	GroupPermissions(ctx context.Context, g GroupID) (GroupPermissions, error)
}

// Options tune a resolver. A nil *Options, or a zero field, means the
// default documented on the field.
type Options struct {
	// Now tells the time for validity windows. Default: time.Now.
	Now func() time.Time
	// PollInterval is how often the resolver asks the store for changes.
	// It polls even a [Watcher], as a heartbeat that catches missed
	// notifications and measures staleness. Default: one second; a
	// negative value turns polling off.
	PollInterval time.Duration
	// MaxStaleness, when positive, makes the resolver fail closed once it
	// has not heard from the store for longer: every decision then denies
	// with an error wrapping [ErrStale] until a refresh succeeds. Default:
	// 0, never fail closed (keep answering from the last snapshot).
	MaxStaleness time.Duration
	// Logger receives warnings, such as a failed refresh. Default: none.
	Logger *slog.Logger
}

// Engine is the [Resolver] that [NewResolver] returns: it compiles the
// store's model into an immutable snapshot, keeps it current as the store
// changes, and answers from it without locks. It is safe for concurrent use.
type Engine struct {
	store    Store
	now      func() time.Time
	log      *slog.Logger
	maxStale time.Duration

	snap atomic.Pointer[snapshot]
	// lastOK is when the store last answered (UnixNano of Options.Now).
	lastOK atomic.Int64
	// advanced is closed and replaced whenever a new snapshot is published,
	// waking Sync callers.
	advanced atomic.Pointer[chan struct{}]

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
	if o.PollInterval == 0 {
		o.PollInterval = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	d, err := s.Changes(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("access: NewResolver: loading the model: %w", err)
	}
	e := &Engine{store: s, now: o.Now, log: o.Logger, maxStale: o.MaxStaleness, done: make(chan struct{})}
	ch := make(chan struct{})
	e.advanced.Store(&ch)
	e.publish(build(d.To, &d.Batch))
	e.lastOK.Store(e.now().UnixNano())
	if w, ok := s.(Watcher); ok {
		e.stopWatch = w.Watch(func(rev Revision) {
			if rev > e.Revision() {
				if err := e.Refresh(context.Background()); err != nil {
					e.log.Warn("access: refresh failed", "revision", rev, "err", err)
				}
			}
		})
	}
	if o.PollInterval > 0 {
		go e.poll(o.PollInterval)
	}
	return e, nil
}

// publish makes s the snapshot readers see and wakes Sync callers.
func (e *Engine) publish(s *snapshot) {
	e.snap.Store(s)
	ch := make(chan struct{})
	close(*e.advanced.Swap(&ch))
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
		e.publish(build(d.To, &d.Batch))
	case d.To <= cur.rev:
		// Nothing new.
	case d.From != cur.rev:
		return fmt.Errorf("access: refresh: store answered from revision %d, asked from %d", d.From, cur.rev)
	default:
		e.publish(cur.update(&d))
	}
	e.lastOK.Store(e.now().UnixNano())
	return nil
}

// ErrStale is returned (wrapped) by decisions when the resolver has not
// heard from its store for longer than Options.MaxStaleness.
var ErrStale = errors.New("resolver is stale")

// Staleness reports how long ago the store last answered the resolver.
func (e *Engine) Staleness() time.Duration {
	return e.now().Sub(time.Unix(0, e.lastOK.Load()))
}

// fresh returns an ErrStale error when the resolver must fail closed.
func (e *Engine) fresh() error {
	if e.maxStale <= 0 {
		return nil
	}
	if st := e.Staleness(); st > e.maxStale {
		return fmt.Errorf("access: %w: last heard from the store %s ago (maximum %s)", ErrStale, st.Round(time.Millisecond), e.maxStale)
	}
	return nil
}

// Sync waits until the resolver answers at revision rev or later, asking
// the store as it waits. It gives read-your-writes across replicas: a
// request that carries the revision its user's last write returned is
// served consistently once Sync returns. It returns ctx's error if ctx
// ends first.
func (e *Engine) Sync(ctx context.Context, rev Revision) error {
	backoff := time.Millisecond
	for {
		if e.Revision() >= rev {
			return nil
		}
		wake := *e.advanced.Load()
		if err := e.Refresh(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("access: refresh failed", "err", err)
		}
		if e.Revision() >= rev {
			return nil
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("access: waiting for revision %d (at %d): %w", rev, e.Revision(), ctx.Err())
		case <-wake:
		case <-t.C:
		}
		t.Stop()
		backoff = min(backoff*2, 100*time.Millisecond)
	}
}

// Revision reports the store revision the resolver answers at now.
func (e *Engine) Revision() Revision { return e.snap.Load().rev }

// EffectiveGroups implements [Resolver]. The memberships' paths share
// storage (see [Membership.Path]): the call costs time and memory linear in
// the memberships for a chain of groups however deep.
func (e *Engine) EffectiveGroups(ctx context.Context, who AssociateID) ([]Membership, error) {
	s := e.snap.Load()
	_, n := s.assoc(who)
	if n == nil {
		return nil, fmt.Errorf("access: associate %d: %w", who, ErrNotFound)
	}
	out := s.explainAll(n)
	slices.SortFunc(out, func(a, b Membership) int { return cmp.Compare(a.Group, b.Group) })
	return out, nil
}

// explainAll explains every membership of the associate at once. The
// memberships' shortest paths form a tree (each path is its predecessor's
// plus one group), so they share storage: each path is a prefix of one
// backing array, cut to its length and capacity, and the child with the
// longest path below it extends its parent's array in place while any
// other copies its parent's path into a new one. A chain of groups 10,000
// deep thus costs one array of 10,000 entries rather than 50 million; in
// general the cost is the memberships plus, at each branching, the depth
// of the branch point for every branch but the longest.
func (s *snapshot) explainAll(n *assocNode) []Membership {
	m := len(n.groups)
	// pred[i] is the membership one step closer to the associate, or -1
	// for one it enters directly (or, in an inconsistent node, a step
	// that leads nowhere or round in a circle).
	pred := make([]int32, m)
	for i := range pred {
		pred[i] = -1
		if v := n.via[i]; v.reason() == ViaGroup {
			if j, ok := slices.BinarySearch(n.groups, v.from()); ok {
				pred[i] = int32(j)
			}
		}
	}
	// depth[i] is the path's length less one, found by walking up to a
	// known depth. A circle of steps makes its groups roots.
	depth := make([]int32, m)
	for i := range depth {
		depth[i] = -1
	}
	var walk []int32
	for i := range m {
		walk = walk[:0]
		x := int32(i)
		for x >= 0 && depth[x] == -1 {
			depth[x] = -2 // on this walk
			walk = append(walk, x)
			x = pred[x]
		}
		if x >= 0 && depth[x] == -2 {
			for k := len(walk) - 1; k >= 0; k-- {
				pred[walk[k]] = -1
				if walk[k] == x {
					break
				}
			}
		}
		d := int32(-1)
		if x >= 0 && depth[x] >= 0 {
			d = depth[x]
		}
		for k := len(walk) - 1; k >= 0; k-- {
			if w := walk[k]; pred[w] < 0 {
				d = 0
				depth[w] = 0
			} else {
				d++
				depth[w] = d
			}
		}
	}
	// Memberships by depth, shallowest first (counting sort).
	maxDepth := int32(0)
	for _, d := range depth {
		maxDepth = max(maxDepth, d)
	}
	start := make([]int32, maxDepth+2)
	for _, d := range depth {
		start[d+1]++
	}
	for d := range maxDepth + 1 {
		start[d+1] += start[d]
	}
	byDepth := make([]int32, m)
	for i, d := range depth {
		byDepth[start[d]] = int32(i)
		start[d]++
	}
	// height[i] is the longest path below i; heavy[p] the child that
	// extends p's array in place.
	height := make([]int32, m)
	heavy := make([]int32, m)
	for i := range heavy {
		heavy[i] = -1
	}
	for k := m - 1; k >= 0; k-- {
		i := byDepth[k]
		if p := pred[i]; p >= 0 && (heavy[p] < 0 || height[i]+1 > height[p]) {
			height[p], heavy[p] = height[i]+1, i
		}
	}
	out := make([]Membership, m)
	buf := make([][]GroupRef, m) // each membership's whole backing array
	root := make([]int32, m)     // the membership its path starts at
	type roles struct{ role, sub RoleRef }
	byRoot := map[int32]roles{} // the entry's roles, per first group
	for _, i := range byDepth {
		d, p := depth[i], pred[i]
		if p >= 0 && heavy[p] == i {
			buf[i] = buf[p]
		} else {
			buf[i] = make([]GroupRef, d+1+height[i])
			if p >= 0 {
				copy(buf[i], buf[p][:d])
			}
		}
		buf[i][d] = s.groupRef(n.groups[i])
		root[i] = i
		if p >= 0 {
			root[i] = root[p]
		}
		why := n.via[root[i]].reason()
		r, ok := byRoot[root[i]]
		if !ok {
			r.role, r.sub = s.entryRoles(n, n.groups[root[i]], why)
			byRoot[root[i]] = r
		}
		out[i] = Membership{Group: s.groups[n.groups[i]].group.ID, Reason: why, Role: r.role, Subordinate: r.sub,
			Path: buf[i][: d+1 : d+1]}
	}
	return out
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
		if why.reason() != ViaGroup {
			break
		}
		x = why.from()
	}
	slices.Reverse(path)
	m := Membership{Group: s.groups[g].group.ID, Reason: why.reason(), Path: path}
	m.Role, m.Subordinate = s.entryRoles(n, s.groupIdx[path[0].ID], m.Reason)
	return m
}

// entryRoles returns, for a membership the associate enters group index
// first of by reason why, the role that explains it and, when the group
// lists a role above the associate's, the associate's own role.
func (s *snapshot) entryRoles(n *assocNode, first int32, why Reason) (role, sub RoleRef) {
	switch why {
	case ViaRole:
		role = s.roleRef(n.a.Role)
	case ViaRoleTree:
		// The nearest role at or above the associate's that the group lists.
		g := s.groups[first]
		for r, hops := n.a.Role, 0; r != 0 && hops <= len(s.roles); hops++ {
			if slices.Contains(g.group.RolesAndSubordinates, r) {
				role = s.roleRef(r)
				break
			}
			rn := s.roles[r]
			if rn == nil {
				break
			}
			r = rn.role.Parent
		}
		if role.ID != n.a.Role {
			sub = s.roleRef(n.a.Role)
		}
	}
	return role, sub
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
	if err := e.fresh(); err != nil {
		return false, err
	}
	s := e.snap.Load()
	x := s.subject(who)
	if x.h == nil {
		return false, fmt.Errorf("access: associate %d: %w", who, ErrNotFound)
	}
	gi := s.groupIndex(g)
	if gi < 0 {
		return false, fmt.Errorf("access: group %d: %w", g, ErrNotFound)
	}
	return s.memberHot(x.h, gi), nil
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

// Can implements [Resolver]. The layers apply in this order:
//
//  1. gates: an unknown, inactive or out-of-window associate, a resource or
//     an anonymous associate gets nothing;
//  2. system users get everything, and nothing below applies to them;
//  3. the role's rights for every ownership relation that holds (or the
//     fallback relation when none does);
//  4. sharing rules add rights;
//  5. explicit grants add rights, and where no grant to the subject or its
//     groups covers the record, group default permissions do;
//  6. restrictions (record visibility, unpublished records for external
//     users, members-only categories) remove rights.
//
// Can does not allocate, for allows and denies alike.
func (e *Engine) Can(ctx context.Context, who AssociateID, act Action, rec Record) (d Decision, err error) {
	s := e.snap.Load()
	d.Action, d.Subject, d.Record, d.Revision, d.snap = act, who, rec, s.rev, s
	if err := checkRequest(act, &rec); err != nil {
		return d, err
	}
	if err := e.fresh(); err != nil {
		return d, err
	}
	s.decide(&d, e.now)
	return d, nil
}

func checkRequest(act Action, rec *Record) error {
	switch {
	case !act.Valid():
		return fmt.Errorf("access: %w: unknown action %d", ErrInvalid, act)
	case rec.Type == "" || rec.Type == Wildcard:
		return fmt.Errorf("access: %w: record type %q: a concrete entity type is required", ErrInvalid, rec.Type)
	case rec.Visibility > VisibleAssociate:
		return fmt.Errorf("access: %w: unknown record visibility %d", ErrInvalid, rec.Visibility)
	}
	return nil
}

// decide fills in the decision for d.Subject, d.Action and d.Record.
func (s *snapshot) decide(d *Decision, now func() time.Time) {
	// The record's lookups come first: they do not depend on the subject,
	// so their cache misses overlap the subject's instead of following it.
	f := s.facts(&d.Record)
	x := s.subject(d.Subject)
	if g := s.gateHot(x.i, x.h, now); g != GateNone {
		d.Gate = g
		d.add(cause{kind: CauseGate, gate: g})
		return
	}
	if AssociateType(x.h.typ) == System {
		d.Rights, d.Allowed = LevelFull, true
		d.add(cause{kind: CauseSystem})
		return
	}
	rights := s.roleRights(d, x, &f)
	rights |= s.sharingRights(d, x, f.typ)
	rights |= s.grantRights(d, x, f.typ)
	rights = s.restrict(d, x, &f, rights)
	d.Rights = rights
	d.Allowed = rights.Allows(d.Action)
}

// recordFacts are what a decision looks up about a record alone.
type recordFacts struct {
	typ         int32     // interned type
	group, team int32     // group indexes, or -1
	ownerRole   *roleNode // the owner's role, or nil
}

func (s *snapshot) facts(rec *Record) recordFacts {
	f := recordFacts{typ: s.typeOf(rec.Type), group: -1, team: -1}
	if rec.Owner != 0 {
		f.ownerRole = s.roleOfAssoc(rec.Owner)
	}
	if rec.Group != 0 {
		f.group = s.groupIndex(rec.Group)
	}
	if rec.Team != 0 {
		f.team = s.groupIndex(rec.Team)
	}
	return f
}

// gate returns the first gate the associate fails, or GateNone.
func gate(n *assocNode, now func() time.Time) Gate {
	if n == nil {
		return GateUnknown
	}
	var a *Associate
	if n.window {
		a = &n.a
	}
	return checkGate(n.typ, n.active, a, now)
}

// checkGate applies the gates to an associate of type typ; a is the
// associate when it has a validity window, else nil.
func checkGate(typ AssociateType, active bool, a *Associate, now func() time.Time) Gate {
	if !active {
		return GateInactive
	}
	if a != nil {
		t := now()
		if !a.ValidFrom.IsZero() && t.Before(a.ValidFrom) {
			return GateNotYetValid
		}
		if !a.ValidTo.IsZero() && !t.Before(a.ValidTo) {
			return GateExpired
		}
	}
	switch typ {
	case Resource:
		return GateResource
	case Anonymous:
		return GateAnonymous
	}
	return GateNone
}

// roleRights works out which ownership relations hold and returns the union
// of the role's cells for them.
func (s *snapshot) roleRights(d *Decision, x subj, f *recordFacts) CRUD {
	rec, who, h := &d.Record, d.Subject, x.h
	role := s.roleNodeOf(h)
	var rels Relations
	if rec.Owner != 0 && rec.Owner == who {
		rels = rels.With(Owner)
	}
	switch AssociateType(h.typ) {
	case Internal:
		if f.team >= 0 && s.memberHot(h, f.team) {
			rels = rels.With(Team)
		}
		if rec.Group != 0 {
			switch gi := f.group; {
			case gi >= 0 && gi == h.primary,
				gi < 0 && h.flags&hotOddPrimary != 0 && s.assocs[x.i].primary == rec.Group:
				rels = rels.With(PrimaryGroup)
			case gi >= 0 && s.memberHot(h, gi):
				rels = rels.With(OtherGroup)
			}
		}
		// A deleted owner has no role left, so no superior either.
		if or := f.ownerRole; or != nil && rec.Owner != who && role != nil && !role.leaf && role.isAbove(or) {
			rels = rels.With(Subordinate)
		}
		if rec.Category != 0 {
			if c := s.categories[rec.Category]; c != nil {
				if direct, g, byRole := s.inCategory(x, c); direct || g >= 0 || byRole {
					rels = rels.With(CategoryMember)
				}
			}
		}
		if rels == 0 {
			if rec.Owner != 0 || rec.Team != 0 {
				rels = rels.With(Other)
			} else {
				rels = rels.With(Unowned)
			}
		}
	case External:
		a := &s.assocs[x.i].a
		if rec.Company != 0 && rec.Company == a.Company {
			rels = rels.With(MyCompany)
		}
		if rec.Project != 0 && slices.Contains(a.Projects, rec.Project) {
			rels = rels.With(SameProject)
		}
	}
	d.Relations = rels

	var g *grid
	if role != nil {
		g = role.rightsAt(f.typ)
	}
	roleID := s.roleIDOf(x)
	if g == nil {
		d.add(cause{kind: CauseNoRole, id: int64(roleID)})
		return 0
	}
	var rights CRUD
	for r := Owner; r < numRelations; r++ {
		if !rels.Has(r) {
			continue
		}
		c := cause{kind: CauseRole, rel: r, rights: g[r], id: int64(roleID)}
		switch r {
		case Team:
			c.group = int64(rec.Team)
		case PrimaryGroup, OtherGroup:
			c.group = int64(rec.Group)
		}
		rights |= g[r]
		d.add(c)
	}
	return rights
}

// sharingRights adds up the sharing rules that open the record to the
// subject.
func (s *snapshot) sharingRights(d *Decision, x subj, t int32) CRUD {
	if int(t) >= len(s.rulesAt) {
		t = 0
	}
	var rights CRUD
	for _, r := range s.rulesAt[t] {
		if s.holds(&r.to, d.Subject, x) && s.ownedBy(&r.from, &d.Record) {
			rights |= r.rule.Rights
			d.add(cause{kind: CauseSharing, id: int64(r.rule.ID), rights: r.rule.Rights})
		}
	}
	return rights
}

// ownedBy reports whether the record's owner, or its team, is in the set.
func (s *snapshot) ownedBy(from *principalSet, rec *Record) bool {
	if from.everyone {
		return true
	}
	if rec.Owner != 0 {
		// Only groups and roles need the owner's header, a cache miss.
		owner := subj{i: -1}
		if len(from.groups)+len(from.roles)+len(from.rs) > 0 {
			owner = s.subject(rec.Owner)
		}
		if s.holds(from, rec.Owner, owner) {
			return true
		}
	}
	if rec.Team != 0 {
		if gi := s.groupIndex(rec.Team); gi >= 0 && s.holdsTeam(from, gi) {
			return true
		}
	}
	return false
}

// grantRights adds up the explicit grants on the record to the subject or
// its groups and, where none covers the record, the default permissions of
// the subject's groups.
func (s *snapshot) grantRights(d *Decision, x subj, t int32) CRUD {
	var rights CRUD
	covered := false
	apply := func(list []grantNode) {
		for i := range list {
			g := &list[i]
			if g.applies(s, d.Subject, x) {
				covered = true
				rights |= g.rights
				d.add(cause{kind: CauseGrant, id: int64(g.id), group: int64(g.group), rights: g.rights})
			}
		}
	}
	if int(t) >= len(s.typeGrantsAt) {
		t = 0
	}
	if id := d.Record.ID; id != 0 && s.recBloomAt[t].mayHave(id) {
		apply(s.recGrantsAt[t][id])
	}
	apply(s.typeGrantsAt[t])
	if covered {
		return rights
	}
	for _, e := range s.defaultsAt[t] {
		if e.mask != 0 {
			if !hasBits(x.h, e.mask) {
				continue
			}
		} else if !s.memberHot(x.h, e.g) {
			continue
		}
		rights |= e.rights
		d.add(cause{kind: CauseDefault, group: int64(e.id), rights: e.rights})
	}
	return rights
}

// restrict removes rights the record's restrictions take away.
func (s *snapshot) restrict(d *Decision, x subj, f *recordFacts, rights CRUD) CRUD {
	rec := &d.Record
	cut := func(r Restriction) {
		if rights != 0 {
			d.add(cause{kind: CauseRestriction, restr: r, rights: rights})
		}
		rights = 0
	}
	own := rec.Owner != 0 && rec.Owner == d.Subject
	switch rec.Visibility {
	case VisibleAssociate:
		if !own {
			cut(RestrictVisibleAssociate)
		}
	case VisibleGroup:
		if !own && (f.group < 0 || !s.memberHot(x.h, f.group)) {
			cut(RestrictVisibleGroup)
		}
	}
	if AssociateType(x.h.typ) == External && !rec.Published && !own {
		cut(RestrictUnpublished)
	}
	if rec.Category != 0 {
		// A category the store does not hold is treated as members-only
		// with no members: fail closed.
		c := s.categories[rec.Category]
		if c == nil {
			cut(RestrictMembersOnly)
		} else if c.cat.MembersOnly {
			if direct, g, role := s.inCategory(x, c); !direct && g < 0 && !role {
				cut(RestrictMembersOnly)
			}
		}
	}
	return rights
}

// Has implements [Resolver].
func (e *Engine) Has(ctx context.Context, who AssociateID, right string) (bool, error) {
	if right == "" {
		return false, fmt.Errorf("access: Has: %w: empty functional right", ErrInvalid)
	}
	if err := e.fresh(); err != nil {
		return false, err
	}
	s := e.snap.Load()
	x := s.subject(who)
	if s.gateHot(x.i, x.h, e.now) != GateNone {
		return false, nil
	}
	return AssociateType(x.h.typ) == System || s.has(x, right), nil
}

// has reports whether the associate's role or one of its effective groups
// grants the functional right.
func (s *snapshot) has(x subj, right string) bool {
	if x.h == nil {
		return false
	}
	if r := s.roleNodeOf(x.h); r != nil && slices.Contains(r.role.Functions, right) {
		return true
	}
	for _, g := range s.funcGroups[right] {
		if s.memberHot(x.h, g) {
			return true
		}
	}
	return false
}

// Stamp implements [Resolver].
func (e *Engine) Stamp(ctx context.Context, who AssociateID) (Stamp, error) {
	_, n := e.snap.Load().assoc(who)
	if n == nil {
		return Stamp{}, fmt.Errorf("access: Stamp: associate %d: %w", who, ErrNotFound)
	}
	return Stamp{Owner: who, Group: n.a.PrimaryGroup}, nil
}
