package memory_test

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// model is a naive reference for the parts of the store the property
// below exercises: roles, groups and associates in plain maps.
type model struct {
	roles      map[access.RoleID]access.Role
	groups     map[access.GroupID]access.Group
	associates map[access.AssociateID]access.Associate
}

func (m model) apply(b access.Batch) model {
	b = b.Clone()
	n := model{maps.Clone(m.roles), maps.Clone(m.groups), maps.Clone(m.associates)}
	if n.roles == nil {
		n = model{map[access.RoleID]access.Role{}, map[access.GroupID]access.Group{}, map[access.AssociateID]access.Associate{}}
	}
	for _, r := range b.Roles {
		n.roles[r.ID] = r
	}
	for _, g := range b.Groups {
		n.groups[g.ID] = g
	}
	for _, a := range b.Associates {
		n.associates[a.ID] = a
	}
	for _, id := range b.DeleteRoles {
		delete(n.roles, id)
	}
	for _, id := range b.DeleteGroups {
		delete(n.groups, id)
	}
	for _, id := range b.DeleteAssociates {
		delete(n.associates, id)
	}
	return n
}

func (m model) follow(d access.Delta) model {
	if d.Full {
		return model{}.apply(d.Batch)
	}
	return m.apply(d.Batch)
}

func (m model) batch() access.Batch {
	var b access.Batch
	for _, id := range slices.Sorted(maps.Keys(m.roles)) {
		b.Roles = append(b.Roles, m.roles[id])
	}
	for _, id := range slices.Sorted(maps.Keys(m.groups)) {
		b.Groups = append(b.Groups, m.groups[id])
	}
	for _, id := range slices.Sorted(maps.Keys(m.associates)) {
		b.Associates = append(b.Associates, m.associates[id])
	}
	return b
}

// dependants scans the model for what refers to ref.
func (m model) dependants(ref access.Ref) []access.Ref {
	var out []access.Ref
	for _, r := range m.roles {
		if ref.Kind == access.KindRole && int64(r.Parent) == ref.ID {
			out = append(out, access.Ref{Kind: access.KindRole, ID: int64(r.ID)})
		}
	}
	for _, g := range m.groups {
		if (ref.Kind == access.KindGroup && slices.Contains(g.Groups, access.GroupID(ref.ID))) ||
			(ref.Kind == access.KindRole && (slices.Contains(g.Roles, access.RoleID(ref.ID)) || slices.Contains(g.RolesAndSubordinates, access.RoleID(ref.ID)))) {
			out = append(out, access.Ref{Kind: access.KindGroup, ID: int64(g.ID)})
		}
	}
	for _, a := range m.associates {
		if (ref.Kind == access.KindGroup && (int64(a.PrimaryGroup) == ref.ID || slices.Contains(a.Groups, access.GroupID(ref.ID)))) ||
			(ref.Kind == access.KindRole && int64(a.Role) == ref.ID) {
			out = append(out, access.Ref{Kind: access.KindAssociate, ID: int64(a.ID)})
		}
	}
	slices.SortFunc(out, compareRefs)
	return out
}

func compareRefs(a, b access.Ref) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID))
}

// broken reports the first rule of the model that validation should have
// kept from being broken, checked the slow and obvious way.
func (m model) broken() error {
	for _, r := range m.roles {
		seen := map[access.RoleID]bool{}
		for id := r.ID; id != 0; id = m.roles[id].Parent {
			if _, ok := m.roles[id]; !ok {
				return fmt.Errorf("role %d: parent chain reaches missing role %d", r.ID, id)
			}
			if seen[id] {
				return fmt.Errorf("role %d: parent chain loops at %d", r.ID, id)
			}
			seen[id] = true
		}
	}
	for _, g := range m.groups {
		// Breadth-first over member groups: g must never come back.
		queue, seen := slices.Clone(g.Groups), map[access.GroupID]bool{}
		for len(queue) > 0 {
			id := queue[0]
			queue = queue[1:]
			c, ok := m.groups[id]
			if !ok {
				return fmt.Errorf("group %d reaches missing group %d", g.ID, id)
			}
			if id == g.ID {
				return fmt.Errorf("group %d includes itself", g.ID)
			}
			if !seen[id] {
				seen[id] = true
				queue = append(queue, c.Groups...)
			}
		}
		for _, r := range slices.Concat(g.Roles, g.RolesAndSubordinates) {
			if _, ok := m.roles[r]; !ok {
				return fmt.Errorf("group %d lists missing role %d", g.ID, r)
			}
		}
		if g.Smart != "" && len(g.Groups)+len(g.Roles)+len(g.RolesAndSubordinates) > 0 {
			return fmt.Errorf("smart group %d lists groups or roles", g.ID)
		}
	}
	names := map[string]access.AssociateID{}
	for _, a := range m.associates {
		if other, ok := names[access.FoldName(a.Name)]; ok {
			return fmt.Errorf("associates %d and %d share the name %q", a.ID, other, a.Name)
		}
		names[access.FoldName(a.Name)] = a.ID
		if a.Type == access.Internal {
			p, ok := m.groups[a.PrimaryGroup]
			if !ok || p.Smart != "" {
				return fmt.Errorf("associate %d: primary group %d is missing or smart", a.ID, a.PrimaryGroup)
			}
		} else if a.PrimaryGroup != 0 || len(a.Groups) > 0 {
			return fmt.Errorf("%s associate %d has groups", a.Type, a.ID)
		}
		for _, g := range a.Groups {
			if _, ok := m.groups[g]; !ok {
				return fmt.Errorf("associate %d: missing group %d", a.ID, g)
			}
		}
		if _, ok := m.roles[a.Role]; !ok && (a.Role != 0 || a.Type != access.Resource) {
			return fmt.Errorf("associate %d: missing role %d", a.ID, a.Role)
		}
	}
	return nil
}

// Small id spaces and a name pool full of case variants, so that random
// batches collide often.
var (
	maxRole, maxGroup, maxAssociate = 4, 5, 6
	names                           = []string{"anna", "ANNA", "bob", "Bob", "åsa", "ÅSA", "ß", "ẞ", "carl"}
)

// drawBatch draws a batch that names ids of cur more often than not, so
// that a fair share of the batches are valid.
func drawBatch(t *rapid.T, cur model) access.Batch {
	var b access.Batch
	// pick draws an id of the space 1..max, preferring those in have.
	pick := func(label string, max int, have []int64) int64 {
		if len(have) > 0 && rapid.IntRange(0, 3).Draw(t, label+" known") > 0 {
			return rapid.SampledFrom(have).Draw(t, label)
		}
		return rapid.Int64Range(1, int64(max)).Draw(t, label)
	}
	some := func(label string, n int) int { return rapid.IntRange(0, n).Draw(t, label) }
	var roles, groups, plain, associates []int64
	for id := range cur.roles {
		roles = append(roles, int64(id))
	}
	for id, g := range cur.groups {
		groups = append(groups, int64(id))
		if g.Smart == "" {
			plain = append(plain, int64(id))
		}
	}
	for id := range cur.associates {
		associates = append(associates, int64(id))
	}
	// Map order is random; rapid needs the same draws to mean the same.
	slices.Sort(roles)
	slices.Sort(groups)
	slices.Sort(plain)
	slices.Sort(associates)

	// Most batches write one kind, the rest several; a batch with many
	// parts is rarely valid.
	shape := rapid.IntRange(0, 4).Draw(t, "shape")
	n := func(label string, kind, max int) int {
		if shape != kind && shape != 4 {
			return 0
		}
		return rapid.IntRange(min(1, max), max).Draw(t, label)
	}
	for range n("roles", 0, 2) {
		r := access.Role{ID: access.RoleID(pick("role", maxRole, nil)), Name: "role"}
		if rapid.Bool().Draw(t, "has parent") {
			r.Parent = access.RoleID(pick("parent", maxRole, roles))
		}
		b.Roles = append(b.Roles, r)
	}
	for range n("groups", 1, 2) {
		g := access.Group{ID: access.GroupID(pick("group", maxGroup, groups)), Name: "group"}
		if rapid.IntRange(0, 3).Draw(t, "smart") == 0 {
			g.Smart = `name == "anna"`
		} else {
			for range some("member groups", 2) {
				g.Groups = append(g.Groups, access.GroupID(pick("member group", maxGroup, groups)))
			}
			for range some("roles", 1) {
				g.Roles = append(g.Roles, access.RoleID(pick("listed role", maxRole, roles)))
			}
			for range some("roles and subordinates", 1) {
				g.RolesAndSubordinates = append(g.RolesAndSubordinates, access.RoleID(pick("listed role tree", maxRole, roles)))
			}
		}
		b.Groups = append(b.Groups, g)
	}
	for range n("associates", 2, 3) {
		a := access.Associate{
			ID:   access.AssociateID(pick("associate", maxAssociate, associates)),
			Name: rapid.SampledFrom(names).Draw(t, "name"),
			Type: rapid.SampledFrom([]access.AssociateType{access.Internal, access.Internal, access.External, access.Resource}).Draw(t, "type"),
			Role: access.RoleID(pick("held role", maxRole, roles)),
		}
		if a.Type == access.Internal {
			a.PrimaryGroup = access.GroupID(pick("primary", maxGroup, plain))
			for range some("secondary groups", 2) {
				a.Groups = append(a.Groups, access.GroupID(pick("secondary", maxGroup, groups)))
			}
		}
		b.Associates = append(b.Associates, a)
	}
	for range n("deletes", 3, 2) {
		switch rapid.IntRange(0, 3).Draw(t, "delete kind") {
		case 0:
			b.DeleteRoles = append(b.DeleteRoles, access.RoleID(pick("deleted role", maxRole, roles)))
		case 1:
			b.DeleteGroups = append(b.DeleteGroups, access.GroupID(pick("deleted group", maxGroup, groups)))
		default:
			b.DeleteAssociates = append(b.DeleteAssociates, access.AssociateID(pick("deleted associate", maxAssociate, associates)))
		}
	}
	return b
}

// TestProperties applies random batches, valid and not, and checks the
// store against the naive model after each: the model itself, every delta
// from every earlier revision, the dependants, the name index, and the
// rules validation enforces.
func TestProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := memory.NewWithLog(rapid.IntRange(0, 5).Draw(t, "log"))
		hist := []model{model{}.apply(access.Batch{})}
		committed := 0
		for range rapid.IntRange(1, 40).Draw(t, "writes") {
			b := drawBatch(t, hist[len(hist)-1])
			before := s.Revision()
			rev, err := s.Apply(ctx, b)
			switch {
			case err != nil && s.Revision() != before:
				t.Fatalf("a failed write (%v) moved the revision from %d to %d", err, before, s.Revision())
			case err == nil && b.Empty() && rev != before:
				t.Fatalf("an empty batch moved the revision from %d to %d", before, rev)
			case err == nil && !b.Empty():
				if rev != before+1 {
					t.Fatalf("Apply returned revision %d after %d", rev, before)
				}
				hist = append(hist, hist[len(hist)-1].apply(b))
				committed++
			}
			checkStore(t, s, hist)
		}
		t.Logf("%d writes committed", committed)
	})
}

func checkStore(t *rapid.T, s *memory.Store, hist []model) {
	cur := hist[len(hist)-1]
	if err := cur.broken(); err != nil {
		t.Fatalf("the store let a write break a rule: %v", err)
	}
	for since := range hist {
		d, err := s.Changes(ctx, access.Revision(since))
		if err != nil {
			t.Fatal(err)
		}
		if d.To != access.Revision(len(hist)-1) {
			t.Fatalf("Changes(%d).To = %d, want %d", since, d.To, len(hist)-1)
		}
		if since == 0 && !d.Full {
			t.Fatalf("Changes(0) is not full")
		}
		if diff := gocmp.Diff(cur.batch(), hist[since].follow(d).batch()); diff != "" {
			t.Fatalf("the model at %d followed by Changes(%d) (-want +got):\n%s", since, since, diff)
		}
	}
	for _, ref := range allRefs() {
		got, err := s.Dependants(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(cur.dependants(ref), got); diff != "" {
			t.Fatalf("Dependants(%s) (-want +got):\n%s", ref, diff)
		}
	}
	for _, name := range names {
		got, err := s.AssociateByName(ctx, name)
		var want *access.Associate
		for _, a := range cur.associates {
			if access.FoldName(a.Name) == access.FoldName(name) {
				want = &a
			}
		}
		switch {
		case want == nil && err == nil:
			t.Fatalf("AssociateByName(%q) = %d, want none", name, got.ID)
		case want != nil && err != nil:
			t.Fatalf("AssociateByName(%q): %v, want %d", name, err, want.ID)
		case want != nil && got.ID != want.ID:
			t.Fatalf("AssociateByName(%q) = %d, want %d", name, got.ID, want.ID)
		}
	}
}

// allRefs lists every role, group and associate id the batches can name,
// and one more of each, which nothing holds.
func allRefs() []access.Ref {
	var out []access.Ref
	for _, k := range []struct {
		kind access.Kind
		max  int
	}{{access.KindRole, maxRole}, {access.KindGroup, maxGroup}, {access.KindAssociate, maxAssociate}} {
		for id := 1; id <= k.max+1; id++ {
			out = append(out, access.Ref{Kind: k.kind, ID: int64(id)})
		}
	}
	return out
}
