package graph

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// clean makes s safe to put in any of the output formats once escaped:
// invalid UTF-8 and control characters (line breaks included) become
// U+FFFD, so a name can neither break a line of DOT or Mermaid nor be an
// invalid XML character.
func clean(s string) string {
	if strings.IndexFunc(s, unsafeRune) < 0 && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s { // ranging turns invalid UTF-8 into U+FFFD
		if unsafeRune(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || r == 0xFFFE || r == 0xFFFF || (r >= 0xD800 && r <= 0xDFFF)
}

// WriteDOT writes the graph in Graphviz's DOT language. Highlighted nodes
// and edges are drawn thick and red.
func (g *Graph) WriteDOT(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("digraph access {\n\trankdir=TB;\n\tnode [shape=box, style=\"rounded,filled\", fontname=\"sans-serif\"];\n")
	for _, n := range g.Nodes {
		fmt.Fprintf(bw, "\t%s [label=%s, fillcolor=%q", dotQuote(n.ID), dotQuote(n.Label), fillOf(n.Kind))
		if n.Link != "" {
			fmt.Fprintf(bw, ", URL=%s", dotQuote(n.Link))
		}
		if n.Highlight {
			bw.WriteString(", color=\"#c62828\", penwidth=3")
		}
		bw.WriteString("];\n")
	}
	for _, e := range g.Edges {
		fmt.Fprintf(bw, "\t%s -> %s [label=%s", dotQuote(e.From), dotQuote(e.To), dotQuote(e.Label))
		if e.Highlight {
			bw.WriteString(", color=\"#c62828\", penwidth=3")
		}
		bw.WriteString("];\n")
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// dotQuote quotes s as a DOT string: inside quotes only the quote and the
// backslash are special.
func dotQuote(s string) string {
	s = clean(s)
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// WriteMermaid writes the graph as a Mermaid flowchart. Node ids are
// renumbered n0, n1… because Mermaid ids are restricted; labels use
// Mermaid's #code; entities for every character its syntax gives meaning.
func (g *Graph) WriteMermaid(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("flowchart TB\n")
	ids := make(map[string]string, len(g.Nodes))
	var hl []string
	for i, n := range g.Nodes {
		id := "n" + strconv.Itoa(i)
		ids[n.ID] = id
		fmt.Fprintf(bw, "\t%s[\"%s\"]\n", id, mermaidText(n.Label))
		fmt.Fprintf(bw, "\tclass %s %s\n", id, n.Kind)
		if n.Highlight {
			hl = append(hl, id)
		}
	}
	var hlEdges []string
	k := 0
	for _, e := range g.Edges {
		from, okf := ids[e.From]
		to, okt := ids[e.To]
		if !okf || !okt {
			continue
		}
		fmt.Fprintf(bw, "\t%s -->|\"%s\"| %s\n", from, mermaidText(e.Label), to)
		if e.Highlight {
			hlEdges = append(hlEdges, strconv.Itoa(k))
		}
		k++
	}
	for kind := Associate; kind <= Role; kind++ {
		fmt.Fprintf(bw, "\tclassDef %s fill:%s,stroke:#555\n", kind, fillOf(kind))
	}
	if len(hl) > 0 {
		fmt.Fprintf(bw, "\tclassDef hl stroke:#c62828,stroke-width:3px\n\tclass %s hl\n", strings.Join(hl, ","))
	}
	if len(hlEdges) > 0 {
		fmt.Fprintf(bw, "\tlinkStyle %s stroke:#c62828,stroke-width:3px\n", strings.Join(hlEdges, ","))
	}
	return bw.Flush()
}

// mermaidText writes s for a quoted Mermaid label: characters that Mermaid
// or the HTML it renders to would read become #code; entities.
func mermaidText(s string) string {
	s = clean(s)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '"', '#', '<', '>', '&', '|', '[', ']', '{', '}', '(', ')', '`':
			fmt.Fprintf(&b, "#%d;", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fill is the background colour of each kind of node.
var fill = [...]string{"#eeeeee", "#dbeafe", "#fef3c7", "#dcfce7"}

func fillOf(k Kind) string {
	if int(k) < len(fill) {
		return fill[k]
	}
	return fill[0]
}

// Layout constants of the SVG, in pixels.
const (
	boxH     = 30
	layerGap = 64
	nodeGap  = 24
	margin   = 16
	charW    = 7 // average width of a character at 12px sans-serif
	maxChars = 48
)

// placed is a node's box in the SVG.
type placed struct {
	x, y, w int
	text    string // the label, shortened to maxChars
}

// layout assigns each node a layer (longest path from a node with no
// incoming edge, so every edge points down unless it closes a cycle) and a
// place in its layer (by the mean place of its predecessors, which keeps
// crossings few in the trees and near-trees organisations are).
func (g *Graph) layout() (boxes []placed, width, height int) {
	n := len(g.Nodes)
	index := make(map[string]int, n)
	for i, nd := range g.Nodes {
		index[nd.ID] = i
	}
	preds := make([][]int, n)
	succs := make([][]int, n)
	indeg := make([]int, n)
	for _, e := range g.Edges {
		f, okf := index[e.From]
		t, okt := index[e.To]
		if !okf || !okt || f == t {
			continue
		}
		preds[t] = append(preds[t], f)
		succs[f] = append(succs[f], t)
		indeg[t]++
	}
	layer := make([]int, n)
	done := make([]bool, n)
	var queue []int
	for i := range n {
		if indeg[i] == 0 {
			queue = append(queue, i)
		}
	}
	for processed := 0; processed < n; {
		if len(queue) == 0 {
			// A cycle: break it at the first node left, placing it below
			// whatever of its predecessors is placed already.
			for i := range n {
				if !done[i] {
					for _, p := range preds[i] {
						if done[p] {
							layer[i] = max(layer[i], layer[p]+1)
						}
					}
					indeg[i] = 0
					queue = append(queue, i)
					break
				}
			}
		}
		i := queue[0]
		queue = queue[1:]
		if done[i] {
			continue
		}
		done[i] = true
		processed++
		for _, s := range succs[i] {
			if done[s] {
				continue
			}
			layer[s] = max(layer[s], layer[i]+1)
			if indeg[s]--; indeg[s] == 0 {
				queue = append(queue, s)
			}
		}
	}
	layers := 0
	for _, l := range layer {
		layers = max(layers, l+1)
	}
	rows := make([][]int, layers)
	for i := range n {
		rows[layer[i]] = append(rows[layer[i]], i)
	}
	pos := make([]float64, n)
	for _, row := range rows {
		for k, i := range row {
			pos[i] = float64(k)
		}
	}
	for _, row := range rows[min(1, layers):] {
		key := make(map[int]float64, len(row))
		for _, i := range row {
			key[i] = pos[i] + 1e6 // nodes without placed predecessors keep their order, after the rest
			if len(preds[i]) > 0 {
				sum := 0.0
				for _, p := range preds[i] {
					sum += pos[p]
				}
				key[i] = sum / float64(len(preds[i]))
			}
		}
		sortStable(row, func(a, b int) bool { return key[a] < key[b] })
		for k, i := range row {
			pos[i] = float64(k)
		}
	}
	boxes = make([]placed, n)
	rowW := make([]int, layers)
	for i, nd := range g.Nodes {
		text := []rune(clean(nd.Label))
		if len(text) > maxChars {
			text = append(text[:maxChars-1], '…')
		}
		boxes[i].text = string(text)
		boxes[i].w = max(len(text)*charW+20, 60)
	}
	for l, row := range rows {
		for k, i := range row {
			if k > 0 {
				rowW[l] += nodeGap
			}
			rowW[l] += boxes[i].w
		}
		width = max(width, rowW[l])
	}
	for l, row := range rows {
		x := margin + (width-rowW[l])/2
		for _, i := range row {
			boxes[i].x = x
			boxes[i].y = margin + l*(boxH+layerGap)
			x += boxes[i].w + nodeGap
		}
	}
	width += 2 * margin
	height = 2*margin + max(layers, 1)*boxH + max(layers-1, 0)*layerGap
	return boxes, width, height
}

// sortStable is an insertion sort: rows are short, and it keeps equal keys
// in their order without a closure over indices.
func sortStable(s []int, less func(a, b int) bool) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && less(s[j], s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// WriteSVG draws the graph as a standalone SVG document (it can also be
// inlined in HTML). Nodes are boxes coloured by kind, with the full label
// as a tooltip and the node's Link, if any, as a link; edges are arrows
// labelled with how they connect. Highlighted nodes and edges carry the
// class "hl" and are drawn thick and red. Every node is a <g> with
// class "node <kind>" and data-node set to its id, every edge a <g> with
// class "edge" and data-from and data-to, so tests and scripts can find
// them.
func (g *Graph) WriteSVG(w io.Writer) error {
	boxes, width, height := g.layout()
	index := make(map[string]int, len(g.Nodes))
	for i, nd := range g.Nodes {
		index[nd.ID] = i
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="group and role graph" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	bw.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker>` +
		`<marker id="arrow-hl" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="4" markerHeight="4" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c62828"/></marker></defs>` + "\n")
	fmt.Fprintf(bw, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	for _, e := range g.Edges {
		f, okf := index[e.From]
		t, okt := index[e.To]
		if !okf || !okt || f == t {
			continue
		}
		a, b := boxes[f], boxes[t]
		x1, x2 := a.x+a.w/2, b.x+b.w/2
		y1, y2 := a.y+boxH, b.y
		if b.y <= a.y { // an edge closing a cycle, or within a layer: leave from the top
			y1, y2 = a.y, b.y+boxH
		}
		class, stroke, width, marker := "edge", "#555", 1, "arrow"
		if e.Highlight {
			class, stroke, width, marker = "edge hl", "#c62828", 3, "arrow-hl"
		}
		fmt.Fprintf(bw, `<g class="%s" data-from="%s" data-to="%s"><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="%d" marker-end="url(#%s)"/>`,
			class, xmlText(e.From), xmlText(e.To), x1, y1, x2, y2, stroke, width, marker)
		if e.Label != "" {
			fmt.Fprintf(bw, `<text x="%d" y="%d" text-anchor="middle" fill="#333" font-size="10" stroke="#ffffff" stroke-width="3" paint-order="stroke">%s</text>`,
				(x1+x2)/2, (y1+y2)/2+4, xmlText(e.Label))
		}
		bw.WriteString("</g>\n")
	}
	for i, nd := range g.Nodes {
		b := boxes[i]
		class, stroke, sw := "node "+nd.Kind.String(), "#555", 1
		if nd.Highlight {
			class, stroke, sw = class+" hl", "#c62828", 3
		}
		if nd.Link != "" {
			fmt.Fprintf(bw, `<a href="%s">`, xmlText(nd.Link))
		}
		rx := 4
		if nd.Kind == Associate {
			rx = 15
		}
		fmt.Fprintf(bw, `<g class="%s" data-node="%s"><title>%s</title><rect x="%d" y="%d" width="%d" height="%d" rx="%d" fill="%s" stroke="%s" stroke-width="%d"/><text x="%d" y="%d" text-anchor="middle" fill="#111">%s</text></g>`,
			class, xmlText(nd.ID), xmlText(nd.Kind.String()+" "+nd.Label), b.x, b.y, b.w, boxH, rx, fillOf(nd.Kind), stroke, sw,
			b.x+b.w/2, b.y+boxH/2+4, xmlText(b.text))
		if nd.Link != "" {
			bw.WriteString("</a>")
		}
		bw.WriteString("\n")
	}
	bw.WriteString("</svg>\n")
	return bw.Flush()
}

// xmlText escapes s for XML text and attribute values.
func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(clean(s)))
	return b.String()
}
