package access_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// This file tests deep shapes (role trees and group hierarchies thousands
// deep) against the naive references, and cycle detection in Validate
// against the plain search it replaced. shapes_bench_test.go measures them.

// deepOrg returns an organisation whose role tree and group hierarchy are
// each depth deep: mostly one chain, with a branch now and then. Roles
// grant rights on contacts by relation, so that Subordinate decides;
// groups list roles, and a sharing rule names roles with their
// subordinates, so that the tree reaches membership and the policy.
func deepOrg(seed uint64, depth, assocs int) access.Batch {
	r := rand.New(rand.NewPCG(seed, 9))
	var b access.Batch
	for i := 1; i <= depth; i++ {
		parent := i - 1
		if i > 1 && r.IntN(10) == 0 {
			parent = r.IntN(i) // a branch, or another top role
		}
		b.Roles = append(b.Roles, access.Role{ID: access.RoleID(i), Name: fmt.Sprintf("r%d", i), Parent: access.RoleID(parent),
			Rights: map[string]access.Grid{"contact": {access.Owner: access.LevelFull, access.Subordinate: access.R | access.CRUD(r.IntN(16))}}})
	}
	role := func() access.RoleID { return access.RoleID(1 + r.IntN(depth)) }
	for i := 1; i <= depth; i++ {
		g := access.Group{ID: access.GroupID(i), Name: fmt.Sprintf("g%d", i)}
		if i > 1 {
			g.Groups = []access.GroupID{access.GroupID(i - 1)}
			if r.IntN(10) == 0 {
				g.Groups = append(g.Groups, access.GroupID(1+r.IntN(i-1)))
			}
		}
		switch r.IntN(200) {
		case 0:
			g.Roles = []access.RoleID{role()}
		case 1:
			g.RolesAndSubordinates = []access.RoleID{role()}
		}
		b.Groups = append(b.Groups, g)
	}
	for i := 1; i <= assocs; i++ {
		a := access.Associate{ID: access.AssociateID(i), Name: fmt.Sprintf("a%d", i), Type: access.Internal, Active: true,
			Role: role(), PrimaryGroup: access.GroupID(1 + r.IntN(depth))}
		if r.IntN(3) == 0 {
			a.Groups = []access.GroupID{access.GroupID(1 + r.IntN(depth))}
		}
		b.Associates = append(b.Associates, a)
	}
	b.SharingRules = []access.SharingRule{{ID: 1, Name: "tree", EntityType: "contact", Rights: access.LevelRead,
		From: access.Principals{RolesAndSubordinates: []access.RoleID{role()}},
		To:   access.Principals{RolesAndSubordinates: []access.RoleID{role()}}}}
	return b
}

// checkDeepDecisions compares, for every pair of associates, Can on a
// contact the second owns with the reference, and the first's filter with
// Can. The contacts name no group or team, and the policy names roles
// alone, so the reference leaves groups out: it would search them on every
// question.
func checkDeepDecisions(t *testing.T, e *access.Engine, b *access.Batch) {
	t.Helper()
	ctx := context.Background()
	noGroups := b.Clone()
	noGroups.Groups = nil
	for i := range noGroups.Associates {
		noGroups.Associates[i].PrimaryGroup, noGroups.Associates[i].Groups = 0, nil
	}
	m := newDecModel(&noGroups)
	for _, who := range b.Associates {
		f, err := e.Filter(ctx, who.ID, access.Update, "contact")
		if err != nil {
			t.Fatalf("Filter(%d): %v", who.ID, err)
		}
		for _, owner := range b.Associates {
			rec := access.Record{Type: "contact", ID: 1, Owner: owner.ID}
			d, err := e.Can(ctx, who.ID, access.Update, rec)
			if err != nil {
				t.Fatalf("Can(%d, owner %d): %v", who.ID, owner.ID, err)
			}
			ref := m.decide(who.ID, access.Update, rec, dNow)
			want := dOutcome{ref.allowed, ref.rights.String(), ref.rels.String(), ref.gate.String()}
			got := dOutcome{d.Allowed, d.Rights.String(), d.Relations.String(), d.Gate.String()}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("Can(%d (role %d), owner %d (role %d)) differs from the reference (-want +got):\n%s",
					who.ID, who.Role, owner.ID, owner.Role, diff)
			}
			if f.Match(rec) != d.Allowed {
				t.Fatalf("Filter(%d) matches a contact of %d: %v; Can: %v", who.ID, owner.ID, f.Match(rec), d.Allowed)
			}
		}
	}
}

// TestDeepShapesMatchReference: on organisations 1,000 deep, membership,
// explanations, decisions and filters agree with the references; and
// still after a role write that keeps the tree's shape (new rights) and
// one that changes it (a role moved under another parent).
func TestDeepShapesMatchReference(t *testing.T) {
	depth := 1_000
	if testing.Short() {
		depth = 300
	}
	for seed := range uint64(2) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			b := deepOrg(seed, depth, 16)
			if err := b.Validate(context.Background(), dEmptyView{}); err != nil {
				t.Fatalf("the organisation is not valid: %v", err)
			}
			s := &deltaStore{full: b.Clone(), rev: 1}
			w := &warnings{}
			e := newResolver(t, s, w)
			check := func(step string) {
				t.Helper()
				checkResolver(t, e, refFromBatch(&b))
				checkDeepDecisions(t, e, &b)
				w.check(t)
				if t.Failed() {
					t.Fatalf("after %s", step)
				}
			}
			write := func(r access.Role) {
				t.Helper()
				b.Roles[r.ID-1] = r
				s.push(access.Batch{Roles: []access.Role{r}})
				if err := e.Refresh(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			check("the load")

			// New rights for a role in the middle of the tree.
			mid := cloneRole(b.Roles[depth/2])
			mid.Rights = map[string]access.Grid{"contact": {access.Owner: access.LevelFull, access.Subordinate: access.LevelUpdate}}
			write(mid)
			check("a rights write")

			// Move a role near the top under one near the bottom that is
			// not below it: its whole subtree moves.
			r := rand.New(rand.NewPCG(seed, 10))
			moved := cloneRole(b.Roles[r.IntN(depth/10)])
			to := notBelowRole(refFromBatch(&b), moved.ID)
			moved.Parent = to
			write(moved)
			check(fmt.Sprintf("moving role %d under role %d", moved.ID, to))
		})
	}
}

// TestDeepShapesDoNotOverflow: a role chain and a group chain 10,000 deep
// validate, load and answer without recursion running out of stack, and a
// cycle 10,000 long is found and named in full.
func TestDeepShapesDoNotOverflow(t *testing.T) {
	ctx := context.Background()
	const depth = 10_000
	b := roleChain(depth)
	g := groupChain(depth)
	b.Groups = g.Groups // groups 1 and 2 of the role chain are replaced
	for i := range b.Associates {
		b.Associates[i].PrimaryGroup = depth // the top group: a member of it alone
	}
	b.Associates[0].PrimaryGroup = 1
	b.SharingRules = nil
	s := memory.New()
	if _, err := s.Apply(ctx, b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	e, err := access.NewResolver(ctx, s, &access.Options{PollInterval: -1})
	if err != nil {
		t.Fatalf("NewResolver: %v", err)
	}
	defer e.Close()
	ms, err := e.EffectiveGroups(ctx, 1)
	if err != nil || len(ms) != depth {
		t.Fatalf("EffectiveGroups(1): %d memberships, %v; want %d", len(ms), err, depth)
	}
	for i, m := range ms {
		if m.Group != access.GroupID(i+1) || len(m.Path) != i+1 || m.Path[i].ID != m.Group || m.Path[0].ID != 1 {
			t.Fatalf("membership %d: group %d, path of %d from %v to %v", i, m.Group, len(m.Path), m.Path[0], m.Path[len(m.Path)-1])
		}
	}
	// The bottom role's holder owns a contact: the top role's holder is
	// its superior, the middle one's too; the bottom one is nobody's.
	for _, tt := range []struct {
		who  access.AssociateID
		want bool
	}{{1, true}, {depth / 2, true}, {depth - 1, true}} {
		d, err := e.Can(ctx, tt.who, access.Read, access.Record{Type: "contact", ID: 1, Owner: depth})
		if err != nil || d.Relations.Has(access.Subordinate) != tt.want {
			t.Errorf("Can(%d) on a contact of %d: relations %v, %v; want Subordinate %v", tt.who, depth, d.Relations, err, tt.want)
		}
	}
	d, err := e.Can(ctx, depth, access.Read, access.Record{Type: "contact", ID: 1, Owner: 1})
	if err != nil || d.Relations.Has(access.Subordinate) {
		t.Errorf("Can(%d) on a contact of 1: relations %v, %v; want no Subordinate", depth, d.Relations, err)
	}

	// Close both chains into cycles.
	bottom := b.Roles[0]
	bottom.Parent = depth
	for _, tt := range []struct {
		name  string
		batch access.Batch
		kind  access.Kind
		first int64
	}{
		{"groups", access.Batch{Groups: []access.Group{{ID: 1, Name: "g1", Groups: []access.GroupID{depth}}}}, access.KindGroup, 1},
		{"roles", access.Batch{Roles: []access.Role{bottom}}, access.KindRole, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Apply(ctx, tt.batch)
			var ce *access.CycleError
			if !errors.As(err, &ce) {
				t.Fatalf("Apply: %v; want a cycle error", err)
			}
			if ce.Kind != tt.kind || len(ce.Path) != depth+1 || ce.Path[0] != tt.first || ce.Path[depth] != tt.first {
				t.Fatalf("cycle %v of %d ids from %d to %d; want %v, %d ids from %d", ce.Kind, len(ce.Path), ce.Path[0], ce.Path[len(ce.Path)-1], tt.kind, depth+1, tt.first)
			}
		})
	}
}

// TestEffectiveGroupsSharePaths: on a chain of groups, the memberships'
// paths are prefixes of one array, each capped at its length so that an
// append to one cannot overwrite another's.
func TestEffectiveGroupsSharePaths(t *testing.T) {
	ctx := context.Background()
	const depth = 100
	e, err := access.NewResolver(ctx, fixedStore{access.Delta{To: 1, Full: true, Batch: groupChain(depth)}}, &access.Options{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ms, err := e.EffectiveGroups(ctx, 1)
	if err != nil || len(ms) != depth {
		t.Fatalf("EffectiveGroups(1): %d memberships, %v", len(ms), err)
	}
	for i, m := range ms {
		if cap(m.Path) != len(m.Path) {
			t.Errorf("group %d: path of %d with capacity %d", m.Group, len(m.Path), cap(m.Path))
		}
		if &m.Path[0] != &ms[0].Path[0] {
			t.Errorf("group %d: its path does not share the chain's array", m.Group)
		}
		if i > 0 && !slices.Equal(m.Path[:i], ms[i-1].Path) {
			t.Errorf("group %d: path %v does not continue %v", m.Group, m.Path, ms[i-1].Path)
		}
	}
	grown := append(ms[0].Path, access.GroupRef{ID: 999})
	if ms[1].Path[1].ID != 2 || grown[1].ID != 999 {
		t.Errorf("appending to one path changed another: %v", ms[1].Path)
	}
}

// oldRoleCycle and oldGroupCycle are cycle detection as Validate did it
// before it shared work between checks: a walk up from each role, a
// depth-first search from each group. They are the reference for which
// role or group a batch's cycle error names, and its path.
func oldRoleCycle(roles map[access.RoleID]access.Role, r access.Role) []int64 {
	path := []int64{int64(r.ID)}
	seen := map[access.RoleID]bool{r.ID: true}
	for id := r.Parent; id != 0; {
		p, ok := roles[id]
		if !ok {
			return nil
		}
		path = append(path, int64(id))
		if id == r.ID {
			return path
		}
		if seen[id] {
			return nil
		}
		seen[id] = true
		id = p.Parent
	}
	return nil
}

func oldGroupCycle(groups map[access.GroupID]access.Group, g access.GroupID) []int64 {
	seen := map[access.GroupID]bool{}
	var path []int64
	var visit func(id access.GroupID) bool
	visit = func(id access.GroupID) bool {
		cg, ok := groups[id]
		if !ok {
			return false
		}
		path = append(path, int64(id))
		for _, c := range cg.Groups {
			if c == g {
				path = append(path, int64(c))
				return true
			}
			if !seen[c] {
				seen[c] = true
				if visit(c) {
					return true
				}
			}
		}
		path = path[:len(path)-1]
		return false
	}
	if visit(g) {
		return path
	}
	return nil
}

// TestPropCycleDetectionMatchesOld: for random acyclic models in a store
// and random batches over them, Validate reports the same cycle (kind and
// path, hence the same role or group) as the search it replaced, or none
// when that finds none.
func TestPropCycleDetectionMatchesOld(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		n := rapid.IntRange(1, 9).Draw(t, "size")
		ids := rapid.Permutation(seqIDs(n)).Draw(t, "order") // an acyclic model lists only later ids
		var base access.Batch
		for i, id := range ids {
			r := access.Role{ID: access.RoleID(id), Name: "r"}
			if i+1 < n && rapid.Bool().Draw(t, "has parent") {
				r.Parent = access.RoleID(rapid.SampledFrom(ids[i+1:]).Draw(t, "parent"))
			}
			base.Roles = append(base.Roles, r)
			g := access.Group{ID: access.GroupID(id), Name: "g"}
			if i+1 < n {
				for _, c := range subset(t, "members", ids[i+1:], 3) {
					g.Groups = append(g.Groups, access.GroupID(c))
				}
			}
			base.Groups = append(base.Groups, g)
		}
		s := memory.New()
		if _, err := s.Apply(ctx, base); err != nil {
			t.Fatalf("the base model: %v", err)
		}
		roles, groups := map[access.RoleID]access.Role{}, map[access.GroupID]access.Group{}
		for _, r := range base.Roles {
			roles[r.ID] = r
		}
		for _, g := range base.Groups {
			groups[g.ID] = g
		}
		// The batch rewrites some roles' parents and some groups' members,
		// any id now, and may add one role and one group.
		var b access.Batch
		all := seqIDs(n + 1)
		for _, id := range subset(t, "roles", all, n+1) {
			r := access.Role{ID: access.RoleID(id), Name: "r"}
			if p := rapid.SampledFrom(append(all, 0)).Draw(t, "parent"); p != id {
				r.Parent = access.RoleID(p)
			}
			b.Roles = append(b.Roles, r)
			roles[r.ID] = r
		}
		for _, id := range subset(t, "groups", all, n+1) {
			g := access.Group{ID: access.GroupID(id), Name: "g"}
			for _, c := range subset(t, "members", all, 3) {
				if c != id {
					g.Groups = append(g.Groups, access.GroupID(c))
				}
			}
			b.Groups = append(b.Groups, g)
			groups[g.ID] = g
		}
		// Every reference must exist, so that only cycles can fail.
		if _, ok := roles[access.RoleID(n+1)]; !ok {
			for _, r := range b.Roles {
				if r.Parent == access.RoleID(n+1) {
					t.Skip("a parent that does not exist")
				}
			}
		}
		if _, ok := groups[access.GroupID(n+1)]; !ok {
			for _, g := range b.Groups {
				if slices.Contains(g.Groups, access.GroupID(n+1)) {
					t.Skip("a member group that does not exist")
				}
			}
		}
		var want *access.CycleError
		for _, r := range b.Roles {
			if p := oldRoleCycle(roles, r); p != nil && want == nil {
				want = &access.CycleError{Kind: access.KindRole, Path: p}
			}
		}
		for _, g := range b.Groups {
			if p := oldGroupCycle(groups, g.ID); p != nil && want == nil {
				want = &access.CycleError{Kind: access.KindGroup, Path: p}
			}
		}
		err := b.Validate(ctx, s)
		var got *access.CycleError
		if err != nil && !errors.As(err, &got) {
			t.Fatalf("Validate: %v; want a cycle error or none", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("cycle (-old +new):\n%s", diff)
		}
	})
}

// seqIDs returns 1…n.
func seqIDs(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// notBelowRole returns the role with the highest id that is neither r nor
// below r in the model: r can move under it without making a cycle.
func notBelowRole(m *refModel, r access.RoleID) access.RoleID {
	kids := map[access.RoleID][]access.RoleID{}
	for id, role := range m.roles {
		kids[role.Parent] = append(kids[role.Parent], id)
	}
	below := map[access.RoleID]bool{r: true}
	for queue := []access.RoleID{r}; len(queue) > 0; queue = queue[1:] {
		for _, k := range kids[queue[0]] {
			if !below[k] {
				below[k] = true
				queue = append(queue, k)
			}
		}
	}
	for _, id := range slices.Backward(slices.Sorted(maps.Keys(m.roles))) {
		if !below[id] {
			return id
		}
	}
	return 0
}
