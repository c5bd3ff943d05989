package graph_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/graph"
	"github.com/crmaccess/access/store/memory"
)

// quickstart is the organisation of examples/quickstart.
func quickstart() access.Batch {
	seller := access.Grid{access.Owner: access.LevelFull, access.PrimaryGroup: access.LevelUpdate, access.OtherGroup: access.LevelRead}
	rights := map[string]access.Grid{access.Wildcard: seller}
	return access.Batch{
		Roles: []access.Role{
			{ID: 1, Name: "Sales", Rights: rights},
			{ID: 2, Name: "Sales Assistant", Parent: 1, Rights: rights},
			{ID: 3, Name: "Marketing", Rights: rights},
			{ID: 4, Name: "Marketing Assistant", Parent: 3, Rights: rights},
		},
		Groups: []access.Group{
			{ID: 10, Name: "Team A"},
			{ID: 11, Name: "Team B"},
			{ID: 20, Name: "Sales", Groups: []access.GroupID{10, 11}},
			{ID: 30, Name: "Sales and Marketing", Roles: []access.RoleID{1, 3}},
			{ID: 31, Name: "Sales and Marketing, with assistants", RolesAndSubordinates: []access.RoleID{1, 3}},
			{ID: 40, Name: "Berlin office", Smart: `attr.city == "Berlin"`},
		},
		Associates: []access.Associate{
			{ID: 101, Name: "Person 1", PrimaryGroup: 10, Role: 1, Active: true, Attributes: map[string]string{"city": "Berlin"}},
			{ID: 102, Name: "Person 2", PrimaryGroup: 10, Role: 2, Active: true},
			{ID: 103, Name: "Person 3", PrimaryGroup: 11, Role: 3, Active: true},
			{ID: 104, Name: "Person 4", PrimaryGroup: 11, Role: 4, Active: true, Attributes: map[string]string{"city": "Berlin"}},
		},
	}
}

func memberships(t *testing.T, b access.Batch, who access.AssociateID) []access.Membership {
	t.Helper()
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	r, err := access.NewResolver(ctx, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	ms, err := r.EffectiveGroups(ctx, who)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// svgFacts is what a test reads back from an SVG: it fails the test if the
// SVG is not well-formed XML.
type svgFacts struct {
	nodes, hlNodes []string
	edges, hlEdges []string // "from->to"
	text           string   // all character data
}

func readSVG(t *testing.T, svg []byte) svgFacts {
	t.Helper()
	var f svgFacts
	d := xml.NewDecoder(bytes.NewReader(svg))
	var text strings.Builder
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed: %v\n%s", err, svg)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if x.Name.Local != "svg" || x.Name.Space != "http://www.w3.org/2000/svg" {
					t.Fatalf("root element %v, want svg in the SVG namespace", x.Name)
				}
			}
			depth++
			attr := map[string]string{}
			for _, a := range x.Attr {
				attr[a.Name.Local] = a.Value
			}
			hl := slices.Contains(strings.Fields(attr["class"]), "hl")
			if id, ok := attr["data-node"]; ok {
				f.nodes = append(f.nodes, id)
				if hl {
					f.hlNodes = append(f.hlNodes, id)
				}
			}
			if from, ok := attr["data-from"]; ok {
				e := from + "->" + attr["data-to"]
				f.edges = append(f.edges, e)
				if hl {
					f.hlEdges = append(f.hlEdges, e)
				}
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			text.Write(x)
		}
	}
	if roots != 1 {
		t.Fatalf("%d root elements, want 1", roots)
	}
	f.text = text.String()
	return f
}

func write(t *testing.T, g *graph.Graph, fn func(*graph.Graph, io.Writer) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := fn(g, &b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestMembershipsHighlight(t *testing.T) {
	b := quickstart()
	tests := []struct {
		name    string
		who     access.AssociateID
		group   access.GroupID
		wantHL  []string
		wantHLE []string
	}{
		{"nested", 101, 20, []string{"a101", "g10", "g20"}, []string{"a101->g10", "g10->g20"}},
		{"role", 103, 30, []string{"a103", "r3", "g30"}, []string{"a103->r3", "r3->g30"}},
		{"role tree below", 102, 31, []string{"a102", "r2", "r1", "g31"}, []string{"a102->r2", "r2->r1", "r1->g31"}},
		{"smart", 104, 40, []string{"a104", "g40"}, []string{"a104->g40"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms := memberships(t, b, tc.who)
			g := graph.Memberships(tc.who, "someone", ms, nil)
			i := slices.IndexFunc(ms, func(m access.Membership) bool { return m.Group == tc.group })
			if i < 0 {
				t.Fatalf("no membership of group %d in %v", tc.group, ms)
			}
			if !g.Highlight(graph.MembershipPath(tc.who, ms[i])) {
				t.Errorf("Highlight: the path of %v is not all in the graph", ms[i])
			}
			f := readSVG(t, write(t, g, (*graph.Graph).WriteSVG))
			for _, m := range ms {
				if !slices.Contains(f.nodes, graph.GroupNode(m.Group)) {
					t.Errorf("SVG lacks the node of group %d", m.Group)
				}
			}
			slices.Sort(f.hlNodes)
			slices.Sort(tc.wantHL)
			if diff := cmp.Diff(tc.wantHL, f.hlNodes); diff != "" {
				t.Errorf("highlighted nodes (-want +got):\n%s", diff)
			}
			slices.Sort(f.hlEdges)
			slices.Sort(tc.wantHLE)
			if diff := cmp.Diff(tc.wantHLE, f.hlEdges); diff != "" {
				t.Errorf("highlighted edges (-want +got):\n%s", diff)
			}
			dot := string(write(t, g, (*graph.Graph).WriteDOT))
			if got := strings.Count(dot, "penwidth=3"); got != len(tc.wantHL)+len(tc.wantHLE) {
				t.Errorf("DOT has %d highlighted items, want %d:\n%s", got, len(tc.wantHL)+len(tc.wantHLE), dot)
			}
			mm := string(write(t, g, (*graph.Graph).WriteMermaid))
			if !strings.Contains(mm, "class ") || !strings.Contains(mm, "linkStyle ") {
				t.Errorf("Mermaid lacks the highlight:\n%s", mm)
			}
		})
	}
}

func TestHighlightReportsMissing(t *testing.T) {
	g := &graph.Graph{}
	g.AddNode(graph.Node{ID: "a1", Kind: graph.Associate})
	g.AddNode(graph.Node{ID: "g1", Kind: graph.Group})
	if g.Highlight([]string{"a1", "g1"}) {
		t.Error("Highlight reported a path whose edge is missing as present")
	}
	if g.Highlight([]string{"a1", "g9"}) {
		t.Error("Highlight reported a path through a missing node as present")
	}
	g.ClearHighlight()
	for _, n := range g.Nodes {
		if n.Highlight {
			t.Errorf("node %s still highlighted after ClearHighlight", n.ID)
		}
	}
}

func TestModelAround(t *testing.T) {
	b := quickstart()
	g := graph.Model(&b, func(n graph.Node) string { return "/x?id=" + n.ID })
	around := g.Around(graph.GroupNode(10))
	var got []string
	for _, n := range around.Nodes {
		got = append(got, n.ID)
	}
	// Team A (10): its members and their roles above it, Sales (20) which
	// includes it; not Team B (11), a sibling.
	want := []string{"g10", "g20", "a101", "a102"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Around(g10) nodes (-want +got):\n%s", diff)
	}
	f := readSVG(t, write(t, g, (*graph.Graph).WriteSVG))
	if len(f.nodes) != 4+6+4 {
		t.Errorf("model SVG has %d nodes, want 14", len(f.nodes))
	}
	for _, e := range []string{"r2->r1", "g10->g20", "r1->g30", "r3->g31", "a104->g11", "a104->r4"} {
		if !slices.Contains(f.edges, e) {
			t.Errorf("model SVG lacks edge %s; has %v", e, f.edges)
		}
	}
	noPeople := around.Without(graph.Associate)
	if len(noPeople.Nodes) != 2 || len(noPeople.Edges) != 1 {
		t.Errorf("Around(g10) without associates: %v", noPeople)
	}
	if len(graph.Model(&b, nil).Around("nope").Nodes) != 0 {
		t.Error("Around of an unknown node is not empty")
	}
}

// TestHostileNames writes labels and links that try to break out of every
// format and checks that none does.
func TestHostileNames(t *testing.T) {
	hostile := []string{
		`<script>alert(1)</script>`,
		`"quoted" & 'single' ]]> <!-- -->`,
		"line\nbreak\r\"] -> evil",
		"bad utf8 \xff\xfe",
		"bidi \u202Egnp.exe and zero\u200Bwidth",
		"#quot; |pipe| [x] {y} `z`",
		"\x01\x1f\u0085control",
		strings.Repeat("long ", 40),
	}
	g := &graph.Graph{}
	for i, h := range hostile {
		id := string(rune('a'+i)) + h
		g.AddNode(graph.Node{ID: id, Kind: graph.Kind(i%4 + 1), Label: h, Link: "/x?q=" + h, Highlight: i%2 == 0})
		if i > 0 {
			g.AddEdge(graph.Edge{From: g.Nodes[i-1].ID, To: id, Label: h, Highlight: true})
		}
	}
	// A cycle too: the layout must not loop.
	g.AddEdge(graph.Edge{From: g.Nodes[len(g.Nodes)-1].ID, To: g.Nodes[0].ID, Label: "back"})
	svg := write(t, g, (*graph.Graph).WriteSVG)
	f := readSVG(t, svg)
	if len(f.nodes) != len(hostile) {
		t.Errorf("SVG has %d nodes, want %d", len(f.nodes), len(hostile))
	}
	for _, raw := range []string{"<script", "\xff", "\x01", "\n\"]"} {
		if bytes.Contains(svg, []byte(raw)) {
			t.Errorf("SVG contains %q unescaped", raw)
		}
	}
	if !strings.Contains(f.text, `<script>alert(1)</script>`) {
		t.Error("SVG lost the text of a hostile label instead of escaping it")
	}
	dot := string(write(t, g, (*graph.Graph).WriteDOT))
	// One line per node and edge plus four of frame: a label could add a
	// line only by smuggling in a line break.
	if got, want := strings.Count(dot, "\n"), 4+len(g.Nodes)+len(g.Edges); got != want {
		t.Errorf("DOT has %d lines, want %d:\n%s", got, want, dot)
	}
	for _, line := range strings.Split(strings.TrimSpace(dot), "\n")[3:] {
		if line == "}" {
			continue
		}
		// Every quote inside a DOT string is escaped, so unescaped quotes
		// come in pairs.
		if n := strings.Count(strings.ReplaceAll(line, `\"`, ""), `"`); n%2 != 0 {
			t.Errorf("DOT line with an odd number of quotes: %s", line)
		}
	}
	mm := string(write(t, g, (*graph.Graph).WriteMermaid))
	for _, line := range strings.Split(mm, "\n") {
		if strings.Contains(line, "[\"") && strings.Count(line, `"`) != 2 {
			t.Errorf("Mermaid node line with a stray quote: %s", line)
		}
		if strings.ContainsAny(strings.ReplaceAll(line, "-->", ""), "<>") {
			t.Errorf("Mermaid line with a raw angle bracket: %s", line)
		}
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[graph.Kind]string{graph.Associate: "associate", graph.Group: "group", graph.Role: "role", 0: "kind(0)", 9: "kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}

// FuzzSVG checks that whatever the names, the SVG is well-formed and the
// DOT and Mermaid keep one statement a line.
func FuzzSVG(f *testing.F) {
	for _, s := range []string{"Team A", `<script>"x"</script>`, "a\nb", "\xff\xfe", "]]>", "#quot;", "\u202e"} {
		f.Add(s, s+"!")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		g := &graph.Graph{}
		g.AddNode(graph.Node{ID: a, Kind: graph.Associate, Label: a, Link: b})
		g.AddNode(graph.Node{ID: b, Kind: graph.Group, Label: b, Highlight: true})
		g.AddEdge(graph.Edge{From: a, To: b, Label: a + b, Highlight: true})
		readSVG(t, write(t, g, (*graph.Graph).WriteSVG))
		want := 4 + len(g.Nodes) + len(g.Edges)
		if got := strings.Count(string(write(t, g, (*graph.Graph).WriteDOT)), "\n"); got != want {
			t.Errorf("DOT has %d lines, want %d", got, want)
		}
		mm := string(write(t, g, (*graph.Graph).WriteMermaid))
		if strings.ContainsAny(strings.ReplaceAll(mm, "-->", ""), "<>") {
			t.Errorf("Mermaid with a raw angle bracket:\n%s", mm)
		}
	})
}
