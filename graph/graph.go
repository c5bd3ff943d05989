// Package graph draws the organisation a store holds — associates,
// usergroups, roles and how they connect — as DOT, Mermaid and SVG, with
// the path that explains a membership highlighted.
//
// The SVG is drawn by the package itself with a simple layered layout, so
// that pages and tools can show a picture without Graphviz or a script. It
// uses only the standard library. Every name is escaped on the way out, and
// the SVG is well-formed XML whatever the names hold.
//
// A [Graph] is plain data: build one with [Memberships] (around one
// associate, from [access.Engine.EffectiveGroups]) or [Model] (from a
// store's whole model), narrow it with [Graph.Around], mark a path with
// [Graph.Highlight], then write it. A Graph is not safe for concurrent
// modification; writing it does not modify it.
package graph

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/crmaccess/access"
)

// Kind is what a node stands for. The zero value is not a kind.
type Kind uint8

// The kinds of node.
const (
	_ Kind = iota
	// Associate: a user, resource or integration (access.Associate).
	Associate
	// Group: a usergroup (access.Group).
	Group
	// Role: a role (access.Role).
	Role
)

var kindNames = [...]string{"kind(0)", "associate", "group", "role"}

// String names the kind in lower case; it is also the node's CSS class in
// the SVG.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Node is one associate, group or role.
type Node struct {
	// ID identifies the node inside the graph; [AssociateNode], [GroupNode]
	// and [RoleNode] make the ids the builders use.
	ID   string
	Kind Kind
	// Label is the text shown, normally the entity's name and id.
	Label string
	// Link, when set, is the URL the SVG node links to.
	Link string
	// Highlight marks the node as part of the highlighted path.
	Highlight bool
}

// Edge is a directed connection: From is included in, holds, or is below To.
// Edges point from the associate towards the groups that contain it, so the
// layout draws an associate above its groups and a group above the groups
// that include it.
type Edge struct {
	From, To string
	// Label says how From connects to To ("primary", "member", "in"…).
	Label string
	// Highlight marks the edge as part of the highlighted path.
	Highlight bool
}

// Graph is a set of nodes and edges, in the order they were added; that
// order is the order they are written in, so output is deterministic.
type Graph struct {
	Nodes []Node
	Edges []Edge
}

// AssociateNode, GroupNode and RoleNode return the node ids the builders
// give associates, groups and roles.
func AssociateNode(id access.AssociateID) string { return "a" + strconv.FormatInt(int64(id), 10) }

// GroupNode: see [AssociateNode].
func GroupNode(id access.GroupID) string { return "g" + strconv.FormatInt(int64(id), 10) }

// RoleNode: see [AssociateNode].
func RoleNode(id access.RoleID) string { return "r" + strconv.FormatInt(int64(id), 10) }

// AddNode adds n unless a node with its id is there already; then it only
// merges the highlight mark and fills an empty label or link.
func (g *Graph) AddNode(n Node) {
	if i := g.node(n.ID); i >= 0 {
		old := &g.Nodes[i]
		old.Highlight = old.Highlight || n.Highlight
		if old.Label == "" {
			old.Label = n.Label
		}
		if old.Link == "" {
			old.Link = n.Link
		}
		return
	}
	g.Nodes = append(g.Nodes, n)
}

// AddEdge adds e unless an edge from e.From to e.To is there already; then
// it only merges the highlight mark. Nodes must be added first: an edge to
// a missing node is written but drawn nowhere.
func (g *Graph) AddEdge(e Edge) {
	if i := g.edge(e.From, e.To); i >= 0 {
		g.Edges[i].Highlight = g.Edges[i].Highlight || e.Highlight
		return
	}
	g.Edges = append(g.Edges, e)
}

func (g *Graph) node(id string) int {
	return slices.IndexFunc(g.Nodes, func(n Node) bool { return n.ID == id })
}

func (g *Graph) edge(from, to string) int {
	return slices.IndexFunc(g.Edges, func(e Edge) bool { return e.From == from && e.To == to })
}

// Highlight marks every node of path and the edge between each pair of
// consecutive ids. It reports whether all of them were in the graph.
func (g *Graph) Highlight(path []string) bool {
	ok := true
	for i, id := range path {
		if n := g.node(id); n >= 0 {
			g.Nodes[n].Highlight = true
		} else {
			ok = false
		}
		if i > 0 {
			if e := g.edge(path[i-1], id); e >= 0 {
				g.Edges[e].Highlight = true
			} else {
				ok = false
			}
		}
	}
	return ok
}

// Without returns g without the nodes of kind k and the edges that touch
// them, to keep a large picture readable (a group's roles and groups
// without its thousands of members).
func (g *Graph) Without(k Kind) *Graph {
	out := &Graph{}
	gone := map[string]bool{}
	for _, n := range g.Nodes {
		if n.Kind == k {
			gone[n.ID] = true
			continue
		}
		out.Nodes = append(out.Nodes, n)
	}
	for _, e := range g.Edges {
		if !gone[e.From] && !gone[e.To] {
			out.Edges = append(out.Edges, e)
		}
	}
	return out
}

// ClearHighlight removes every highlight mark.
func (g *Graph) ClearHighlight() {
	for i := range g.Nodes {
		g.Nodes[i].Highlight = false
	}
	for i := range g.Edges {
		g.Edges[i].Highlight = false
	}
}

// Around returns the part of g connected to the node id through chains of
// edges followed one way throughout: what id is (transitively) in, and what
// is (transitively) in id — its ancestors and descendants, not its
// siblings. An unknown id gives an empty graph.
func (g *Graph) Around(id string) *Graph {
	out := &Graph{}
	if g.node(id) < 0 {
		return out
	}
	keep := map[string]bool{id: true}
	for _, forward := range []bool{true, false} {
		queue := []string{id}
		seen := map[string]bool{id: true}
		for len(queue) > 0 {
			x := queue[0]
			queue = queue[1:]
			for _, e := range g.Edges {
				from, to := e.From, e.To
				if !forward {
					from, to = to, from
				}
				if from == x && !seen[to] {
					seen[to] = true
					keep[to] = true
					queue = append(queue, to)
				}
			}
		}
	}
	for _, n := range g.Nodes {
		if keep[n.ID] {
			out.Nodes = append(out.Nodes, n)
		}
	}
	for _, e := range g.Edges {
		if keep[e.From] && keep[e.To] {
			out.Edges = append(out.Edges, e)
		}
	}
	return out
}

// reasonLabels label the first edge of a membership, from the associate
// (or its role) to the group it entered by.
var reasonLabels = map[access.Reason]string{
	access.ViaPrimary:   "primary",
	access.ViaSecondary: "member",
	access.ViaRole:      "role",
	access.ViaRoleTree:  "role tree",
	access.ViaSmart:     "smart rule",
}

// Memberships builds the graph around one associate from its effective
// groups (as [access.Engine.EffectiveGroups] returns them): the associate,
// the roles that bring it into groups, and each membership's path of
// groups. name labels the associate; link, when not nil, gives each node's
// link. Nothing is highlighted; see [MembershipPath].
func Memberships(who access.AssociateID, name string, ms []access.Membership, link func(Node) string) *Graph {
	g := &Graph{}
	add := func(n Node) {
		if link != nil {
			n.Link = link(n)
		}
		g.AddNode(n)
	}
	add(Node{ID: AssociateNode(who), Kind: Associate, Label: label(name, int64(who))})
	for _, m := range ms {
		path := MembershipPath(who, m)
		for i, id := range path {
			switch id[0] {
			case 'r':
				add(Node{ID: id, Kind: Role, Label: roleLabel(m, id)})
			case 'g':
				ref := m.Path[i-(len(path)-len(m.Path))]
				add(Node{ID: id, Kind: Group, Label: label(ref.Name, int64(ref.ID))})
			}
			if i == 0 {
				continue
			}
			var l string
			switch {
			case path[i-1][0] == 'g':
				l = "in"
			case id[0] == 'r':
				if i == 1 {
					l = "role"
				} else {
					l = "below"
				}
			default:
				l = reasonLabels[m.Reason]
			}
			g.AddEdge(Edge{From: path[i-1], To: id, Label: l})
		}
	}
	return g
}

func roleLabel(m access.Membership, id string) string {
	if id == RoleNode(m.Subordinate.ID) && m.Subordinate.ID != 0 {
		return label(m.Subordinate.Name, int64(m.Subordinate.ID))
	}
	return label(m.Role.Name, int64(m.Role.ID))
}

// MembershipPath returns the node ids, in order, of the path that explains
// membership m of associate who: the associate, the roles it goes through
// (for ViaRole and ViaRoleTree), then m.Path. Pass it to
// [Graph.Highlight].
func MembershipPath(who access.AssociateID, m access.Membership) []string {
	path := []string{AssociateNode(who)}
	switch m.Reason {
	case access.ViaRole:
		path = append(path, RoleNode(m.Role.ID))
	case access.ViaRoleTree:
		if m.Subordinate.ID != 0 {
			path = append(path, RoleNode(m.Subordinate.ID))
		}
		path = append(path, RoleNode(m.Role.ID))
	}
	for _, ref := range m.Path {
		path = append(path, GroupNode(ref.ID))
	}
	return path
}

// Model builds the graph of a whole model (for example the Batch of
// Store.Changes(ctx, 0)): every role, group and associate, with edges from
// each associate to its primary and secondary groups and its role, from
// each group to the groups that list it, from each role to its parent and
// to the groups that list it. link, when not nil, gives each node's link.
// Nodes come roles first, then groups, then associates, each by id. A smart
// group's members come from its rule, which a model alone cannot evaluate,
// so no edge leads into a smart group; [Memberships] draws them.
func Model(b *access.Batch, link func(Node) string) *Graph {
	g := &Graph{}
	add := func(n Node) {
		if link != nil {
			n.Link = link(n)
		}
		g.AddNode(n)
	}
	roles := slices.SortedFunc(slices.Values(b.Roles), func(x, y access.Role) int { return cmp.Compare(x.ID, y.ID) })
	groups := slices.SortedFunc(slices.Values(b.Groups), func(x, y access.Group) int { return cmp.Compare(x.ID, y.ID) })
	assocs := slices.SortedFunc(slices.Values(b.Associates), func(x, y access.Associate) int { return cmp.Compare(x.ID, y.ID) })
	for _, r := range roles {
		add(Node{ID: RoleNode(r.ID), Kind: Role, Label: label(r.Name, int64(r.ID))})
	}
	for _, gr := range groups {
		l := label(gr.Name, int64(gr.ID))
		if gr.IsSmart() {
			l += " (smart)"
		}
		add(Node{ID: GroupNode(gr.ID), Kind: Group, Label: l})
	}
	for _, a := range assocs {
		add(Node{ID: AssociateNode(a.ID), Kind: Associate, Label: label(a.Name, int64(a.ID))})
	}
	for _, r := range roles {
		if r.Parent != 0 {
			g.AddEdge(Edge{From: RoleNode(r.ID), To: RoleNode(r.Parent), Label: "below"})
		}
	}
	for _, gr := range groups {
		for _, sub := range gr.Groups {
			g.AddEdge(Edge{From: GroupNode(sub), To: GroupNode(gr.ID), Label: "in"})
		}
		for _, r := range gr.Roles {
			g.AddEdge(Edge{From: RoleNode(r), To: GroupNode(gr.ID), Label: "role"})
		}
		for _, r := range gr.RolesAndSubordinates {
			g.AddEdge(Edge{From: RoleNode(r), To: GroupNode(gr.ID), Label: "role tree"})
		}
	}
	for _, a := range assocs {
		if a.PrimaryGroup != 0 {
			g.AddEdge(Edge{From: AssociateNode(a.ID), To: GroupNode(a.PrimaryGroup), Label: "primary"})
		}
		for _, sec := range a.Groups {
			g.AddEdge(Edge{From: AssociateNode(a.ID), To: GroupNode(sec), Label: "member"})
		}
		if a.Role != 0 {
			g.AddEdge(Edge{From: AssociateNode(a.ID), To: RoleNode(a.Role), Label: "role"})
		}
	}
	return g
}

// label renders "Name (ID)", the library's way of naming an entity.
func label(name string, id int64) string {
	if name == "" {
		return strconv.FormatInt(id, 10)
	}
	return name + " (" + strconv.FormatInt(id, 10) + ")"
}
