package access_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// Pathological shapes: a role tree and a group hierarchy 10,000 deep, and
// one group with a million members. Each must cost about linear time and
// memory; before the fix the role chain took near a minute to compile and
// the group chain seconds to validate. The targets (on an unloaded
// machine): a compile of the role chain ≤ 1 s and a role write on it a
// delta, validating the group chain ≤ 1 s, EffectiveGroups on the group
// chain linear in its answer, the million-member group compiled ≤ 5 s.

const shapeDepth = 10_000

// roleChain returns a role tree that is one chain of n roles (role 1 at
// the top, role i+1 below role i), each with a grid, one internal
// associate holding each role (ids 1…n), a group listing the top role
// with its subordinates, one listing the middle role alone, and a
// sharing rule from the top role with its subordinates, so that the tree
// reaches membership and the policy alike.
func roleChain(n int) access.Batch {
	var b access.Batch
	grid := access.Grid{access.Owner: access.LevelFull, access.Subordinate: access.LevelRead}
	for i := 1; i <= n; i++ {
		b.Roles = append(b.Roles, access.Role{ID: access.RoleID(i), Name: fmt.Sprintf("r%d", i),
			Parent: access.RoleID(i - 1), Rights: map[string]access.Grid{access.Wildcard: grid}})
		b.Associates = append(b.Associates, access.Associate{ID: access.AssociateID(i), Name: fmt.Sprintf("a%d", i),
			Type: access.Internal, Active: true, Role: access.RoleID(i)})
	}
	b.Groups = []access.Group{
		{ID: 1, Name: "tree", RolesAndSubordinates: []access.RoleID{1}},
		{ID: 2, Name: "middle", Roles: []access.RoleID{access.RoleID(n/2 + 1)}},
	}
	b.SharingRules = []access.SharingRule{{ID: 1, Name: "up", EntityType: "contact", Rights: access.LevelRead,
		From: access.Principals{RolesAndSubordinates: []access.RoleID{1}}, To: access.Principals{Groups: []access.GroupID{2}}}}
	return b
}

// groupChain returns n groups each listing the one before (group 1 at the
// bottom, group n at the top), listed top first, the order in which a
// search from each group in turn does the most work, and one internal
// associate in the bottom group.
func groupChain(n int) access.Batch {
	var b access.Batch
	for i := n; i >= 1; i-- {
		g := access.Group{ID: access.GroupID(i), Name: fmt.Sprintf("g%d", i)}
		if i > 1 {
			g.Groups = []access.GroupID{access.GroupID(i - 1)}
		}
		b.Groups = append(b.Groups, g)
	}
	b.Roles = []access.Role{{ID: 1, Name: "user"}}
	b.Associates = []access.Associate{{ID: 1, Name: "a1", Type: access.Internal, Active: true, Role: 1, PrimaryGroup: 1}}
	return b
}

// deltaStore serves one full model and then the deltas the benchmark
// pushes, one revision each; the resolver catches up on Refresh.
type deltaStore struct {
	mu   sync.Mutex
	full access.Batch
	rev  access.Revision
	last access.Batch
}

func (s *deltaStore) Changes(_ context.Context, since access.Revision) (access.Delta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case since == 0 && s.rev == 1:
		return access.Delta{To: 1, Full: true, Batch: s.full.Clone()}, nil
	case since == s.rev:
		return access.Delta{From: since, To: since}, nil
	case since == s.rev-1:
		return access.Delta{From: since, To: s.rev, Batch: s.last.Clone()}, nil
	}
	return access.Delta{}, fmt.Errorf("deltaStore: revision %d is gone", since)
}

func (s *deltaStore) Watch(func(access.Revision)) func() { return func() {} }

func (s *deltaStore) push(b access.Batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rev++
	s.last = b
}

func cloneRole(r access.Role) access.Role {
	b := access.Batch{Roles: []access.Role{r}}
	return b.Clone().Roles[0]
}

func compileBench(b *testing.B, batch access.Batch) {
	b.Helper()
	s := fixedStore{access.Delta{To: 1, Full: true, Batch: batch}}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		e, err := access.NewResolver(ctx, s, &access.Options{PollInterval: -1})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		e.Close()
		b.StartTimer()
	}
}

// BenchmarkDeepRoleChainCompile compiles a role chain 10,000 deep.
func BenchmarkDeepRoleChainCompile(b *testing.B) {
	compileBench(b, roleChain(shapeDepth))
}

// BenchmarkDeepRoleChainWrite applies role writes to a resolver holding a
// role chain 10,000 deep: new rights for the middle role (the tree keeps
// its shape), and a leaf moved between two parents (it changes shape).
func BenchmarkDeepRoleChainWrite(b *testing.B) {
	ctx := context.Background()
	batch := roleChain(shapeDepth)
	for _, tt := range []struct {
		name  string
		write func(i int) access.Role
	}{
		{"rights", func(i int) access.Role {
			r := cloneRole(batch.Roles[shapeDepth/2])
			r.Rights[access.Wildcard] = access.Grid{access.Owner: access.CRUD(i%2) | access.R}
			return r
		}},
		{"reparent", func(i int) access.Role {
			r := cloneRole(batch.Roles[shapeDepth-1])
			r.Parent = access.RoleID(1 + (i%2)*(shapeDepth-2))
			return r
		}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			s := &deltaStore{full: batch, rev: 1}
			e, err := access.NewResolver(ctx, s, &access.Options{PollInterval: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				s.push(access.Batch{Roles: []access.Role{tt.write(i)}})
				if err := e.Refresh(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDeepGroupChainValidate validates a batch that puts a group
// chain 10,000 deep into an empty store.
func BenchmarkDeepGroupChainValidate(b *testing.B) {
	ctx := context.Background()
	batch := groupChain(shapeDepth)
	v := memory.New()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := batch.Validate(ctx, v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEffectiveGroupsDeepChain asks for the effective groups of an
// associate at the bottom of a group chain 10,000 deep: 10,000
// memberships whose paths are 1 to 10,000 groups long.
func BenchmarkEffectiveGroupsDeepChain(b *testing.B) {
	ctx := context.Background()
	e, err := access.NewResolver(ctx, fixedStore{access.Delta{To: 1, Full: true, Batch: groupChain(shapeDepth)}},
		&access.Options{PollInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		ms, err := e.EffectiveGroups(ctx, 1)
		if err != nil || len(ms) != shapeDepth {
			b.Fatalf("EffectiveGroups(1): %d memberships, %v", len(ms), err)
		}
	}
}

// millionMembers returns one group with 1,000,000 internal associates,
// each naming it as primary group and holding one role.
func millionMembers() access.Batch {
	const n = 1_000_000
	b := access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "user", Rights: map[string]access.Grid{access.Wildcard: {access.Owner: access.LevelFull}}}},
		Groups: []access.Group{{ID: 1, Name: "everyone"}},
	}
	b.Associates = make([]access.Associate, n)
	for i := range b.Associates {
		b.Associates[i] = access.Associate{ID: access.AssociateID(i + 1), Name: "a" + fmt.Sprint(i+1),
			Type: access.Internal, Active: true, Role: 1, PrimaryGroup: 1}
	}
	return b
}

// BenchmarkMillionMemberGroupCompile compiles one group of a million
// members.
func BenchmarkMillionMemberGroupCompile(b *testing.B) {
	compileBench(b, millionMembers())
}
