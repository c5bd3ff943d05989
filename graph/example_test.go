package graph_test

import (
	"context"
	"fmt"
	"os"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/graph"
	"github.com/crmaccess/access/store/memory"
)

// An associate's effective groups as a picture, with the path that
// explains one membership highlighted: anna is in Sales because her
// primary group Oslo is a member group of Sales; she is in Sellers
// through her role. WriteSVG draws the same graph without Graphviz.
func ExampleMemberships() {
	ctx := context.Background()
	s := memory.New()
	_, err := s.Apply(ctx, access.Batch{
		Roles: []access.Role{{ID: 1, Name: "Seller"}},
		Groups: []access.Group{
			{ID: 10, Name: "Oslo"},
			{ID: 20, Name: "Sales", Groups: []access.GroupID{10}},
			{ID: 30, Name: "Sellers", Roles: []access.RoleID{1}},
		},
		Associates: []access.Associate{
			{ID: 101, Name: "anna", Type: access.Internal, Active: true, PrimaryGroup: 10, Role: 1},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := access.NewResolver(ctx, s, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()

	ms, err := e.EffectiveGroups(ctx, 101)
	if err != nil {
		fmt.Println(err)
		return
	}
	g := graph.Memberships(101, "anna", ms, nil)
	for _, m := range ms {
		if m.Group == 20 {
			g.Highlight(graph.MembershipPath(101, m))
		}
	}
	if err := g.WriteDOT(os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// digraph access {
	// 	rankdir=TB;
	// 	node [shape=box, style="rounded,filled", fontname="sans-serif"];
	// 	"a101" [label="anna (101)", fillcolor="#dbeafe", color="#c62828", penwidth=3];
	// 	"g10" [label="Oslo (10)", fillcolor="#fef3c7", color="#c62828", penwidth=3];
	// 	"g20" [label="Sales (20)", fillcolor="#fef3c7", color="#c62828", penwidth=3];
	// 	"r1" [label="Seller (1)", fillcolor="#dcfce7"];
	// 	"g30" [label="Sellers (30)", fillcolor="#fef3c7"];
	// 	"a101" -> "g10" [label="primary", color="#c62828", penwidth=3];
	// 	"g10" -> "g20" [label="in", color="#c62828", penwidth=3];
	// 	"a101" -> "r1" [label="role"];
	// 	"r1" -> "g30" [label="role"];
	// }
}

// The whole model of a store as a graph, narrowed to what one group is
// in and what is in it, written for Mermaid (GitHub renders it in
// Markdown). Bergen is left out: it is neither in Norway nor holds it.
func ExampleModel() {
	b := access.Batch{
		Roles: []access.Role{{ID: 1, Name: "Seller"}},
		Groups: []access.Group{
			{ID: 10, Name: "Oslo"},
			{ID: 11, Name: "Bergen"},
			{ID: 20, Name: "Norway", Groups: []access.GroupID{10}},
		},
		Associates: []access.Associate{
			{ID: 101, Name: "anna", PrimaryGroup: 10, Role: 1},
			{ID: 102, Name: "bo", PrimaryGroup: 11, Role: 1},
		},
	}
	g := graph.Model(&b, nil).Without(graph.Role).Around(graph.GroupNode(20))
	if err := g.WriteMermaid(os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// flowchart TB
	// 	n0["Oslo #40;10#41;"]
	// 	class n0 group
	// 	n1["Norway #40;20#41;"]
	// 	class n1 group
	// 	n2["anna #40;101#41;"]
	// 	class n2 associate
	// 	n0 -->|"in"| n1
	// 	n2 -->|"primary"| n0
	// 	classDef associate fill:#dbeafe,stroke:#555
	// 	classDef group fill:#fef3c7,stroke:#555
	// 	classDef role fill:#dcfce7,stroke:#555
}
