package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/cmd/access/model"
	"github.com/crmaccess/access/graph"
)

// cmdGraph writes the group/role/membership graph of SOURCE as DOT,
// Mermaid or SVG (drawn by the library's graph package, no Graphviz):
// the whole model, or the part around one associate or group; with an
// associate and --path GROUP, the path that explains the associate's
// membership of GROUP is highlighted.
func cmdGraph(ctx context.Context, args []string, w io.Writer) (int, error) {
	fs := flag.NewFlagSet("graph", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "svg", "dot, mermaid or svg")
	around := fs.String("around", "", "an associate or group (a:NAME or g:NAME when a name is both)")
	path := fs.String("path", "", "with an associate: the group whose membership path to highlight")
	if len(args) == 0 {
		return 0, fmt.Errorf("%w: expected SOURCE [flags]", errUsage)
	}
	src, flags := args[0], args[1:]
	if err := fs.Parse(flags); err != nil {
		return 0, fmt.Errorf("%w: graph: %v", errUsage, err)
	}
	if fs.NArg() != 0 {
		return 0, fmt.Errorf("%w: graph: unexpected %q", errUsage, fs.Arg(0))
	}
	write, err := graphWriter(*format)
	if err != nil {
		return 0, err
	}
	if *path != "" && *around == "" {
		return 0, fmt.Errorf("%w: graph: --path needs --around ASSOCIATE", errUsage)
	}
	s, err := open(ctx, src)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	g, err := s.graph(ctx, *around, *path)
	if err != nil {
		return 0, err
	}
	return exitOK, write(g, w)
}

// graphWriter returns the writer for a format name.
func graphWriter(format string) (func(*graph.Graph, io.Writer) error, error) {
	switch strings.ToLower(format) {
	case "dot":
		return (*graph.Graph).WriteDOT, nil
	case "mermaid":
		return (*graph.Graph).WriteMermaid, nil
	case "svg":
		return (*graph.Graph).WriteSVG, nil
	}
	return nil, fmt.Errorf("%w: graph: unknown format %q (dot, mermaid or svg)", errUsage, format)
}

// graph builds the graph to draw: the whole model, or around one
// associate (its effective groups, smart groups included) or one group
// (what it is in and what is in it).
func (s *source) graph(ctx context.Context, around, path string) (*graph.Graph, error) {
	if around == "" {
		return graph.Model(&s.batch, nil), nil
	}
	kind, name := "", around
	if k, rest, ok := strings.Cut(around, ":"); ok && (k == "a" || k == "g") {
		kind, name = k, rest
	}
	v, err := model.ParseWho(name)
	if err != nil {
		return nil, err
	}
	who, errA := s.index.Associate(v.Ref())
	grp, errG := s.index.Group(v.Ref())
	switch {
	case kind == "a" || (kind == "" && errA == nil && errG != nil):
		if errA != nil {
			return nil, errA
		}
		return s.associateGraph(ctx, who, path)
	case kind == "g" || (kind == "" && errG == nil && errA != nil):
		if errG != nil {
			return nil, errG
		}
		if path != "" {
			return nil, fmt.Errorf("%w: graph: --path needs an associate, and %q is a group", errUsage, around)
		}
		return graph.Model(&s.batch, nil).Around(graph.GroupNode(grp)), nil
	case errA == nil && errG == nil:
		return nil, fmt.Errorf("%w: graph: %q names an associate and a group; write a:%s or g:%s", errUsage, name, name, name)
	}
	return nil, fmt.Errorf("%w: graph: no associate or group %q", errUsage, name)
}

// associateGraph draws who's effective groups, highlighting the path to
// the group named by path when it is set.
func (s *source) associateGraph(ctx context.Context, who access.AssociateID, path string) (*graph.Graph, error) {
	ms, err := s.engine.EffectiveGroups(ctx, who)
	if err != nil {
		return nil, err
	}
	g := graph.Memberships(who, s.index.AssociateName(who), ms, nil)
	if path == "" {
		return g, nil
	}
	v, err := model.ParseWho(path)
	if err != nil {
		return nil, err
	}
	grp, err := s.index.Group(v.Ref())
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.Group == grp {
			g.Highlight(graph.MembershipPath(who, m))
			return g, nil
		}
	}
	return nil, fmt.Errorf("graph: %s is not a member of %s", s.index.AssociateName(who), s.index.GroupName(grp))
}
