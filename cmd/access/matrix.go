package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/cmd/access/model"
)

// group resolves a GROUP argument: a name, an id or "a quoted name".
func (s *source) group(arg string) (access.GroupID, error) {
	v, err := model.ParseWho(arg)
	if err != nil {
		return 0, err
	}
	return s.index.Group(v.Ref())
}

// cmdMatrix prints a group's permissions matrix (Dynamicweb's): for its
// effective members, entity types × relations × rights, one row per
// entity type and role, with what the group's defaults and type-wide
// grants add. The cells are the rights after the limits the members are
// under; "max" is the most a whole-type limit leaves them, and "limits"
// names those limits by id ("-" for none).
func cmdMatrix(ctx context.Context, args []string, w io.Writer) (int, error) {
	if err := wantArgs(args, 2, "SOURCE GROUP"); err != nil {
		return 0, err
	}
	s, err := open(ctx, args[0])
	if err != nil {
		return 0, err
	}
	defer s.Close()
	g, err := s.group(args[1])
	if err != nil {
		return 0, err
	}
	m, err := s.engine.Matrix(ctx, g)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(w, "group %s: %d members (%d gated, %d system users)\n", m.Group, m.Members, m.Gated, m.System)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"type", "role", "members"}
	for r := access.Owner; r <= access.Unowned; r++ {
		head = append(head, r.String())
	}
	head = append(head, "default", "granted", "max", "limits")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, row := range m.Rows {
		cells := []string{row.EntityType, row.Role.String(), fmt.Sprint(row.Members)}
		for r := access.Owner; r <= access.Unowned; r++ {
			cells = append(cells, row.Relations[r].String())
		}
		limits := "-"
		if len(row.Limits) > 0 {
			ids := make([]string, len(row.Limits))
			for i, l := range row.Limits {
				ids[i] = fmt.Sprint(l.ID)
			}
			limits = strings.Join(ids, ",")
		}
		cells = append(cells, row.Default.String(), row.Granted.String(), row.Max.String(), limits)
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return exitOK, tw.Flush()
}

// cmdCategories prints an associate's effective Customer Service
// categories, each with how it comes about; those from a usergroup say
// "(from usergroup …)", as SuperOffice shows them.
func cmdCategories(ctx context.Context, args []string, w io.Writer) (int, error) {
	return listFor(ctx, args, w, (*access.Engine).Categories)
}
