package model

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/crmaccess/access"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/printer"
	"github.com/goccy/go-yaml/token"
)

// Export reads the whole model of s (Changes since revision 0) and returns
// it as a file.
func Export(ctx context.Context, s access.Store) (*File, error) {
	d, err := s.Changes(ctx, 0)
	if err != nil {
		return nil, err
	}
	return FromBatch(&d.Batch), nil
}

// FromBatch returns the file that puts exactly what b puts: every entity
// with its id, in id order, referring to others by name where the name is
// unique within its kind and by id otherwise. Deletes in b are ignored.
func FromBatch(b *access.Batch) *File {
	x := NewIndex(b)
	f := &File{}
	for _, r := range sorted(b.Roles, func(r access.Role) access.RoleID { return r.ID }) {
		v := Role{ID: int64(r.ID), Name: r.Name, Parent: ref(x.roles, int64(r.Parent)), Functions: slices.Clone(r.Functions), LimitTeams: r.LimitTeams}
		if r.Rights != nil {
			v.Rights = make(map[string]Grid, len(r.Rights))
			for typ, g := range r.Rights {
				cells := make(Grid, len(g))
				for rel, c := range g {
					cells[rel.String()] = c.String()
				}
				v.Rights[typ] = cells
			}
		}
		f.Roles = append(f.Roles, v)
	}
	for _, g := range sorted(b.Groups, func(g access.Group) access.GroupID { return g.ID }) {
		v := Group{
			ID: int64(g.ID), Name: g.Name, Description: g.Description,
			Groups:               refList(x.groups, g.Groups),
			Roles:                refList(x.roles, g.Roles),
			RolesAndSubordinates: refList(x.roles, g.RolesAndSubordinates),
			Smart:                g.Smart,
			Functions:            slices.Clone(g.Functions),
			Admins:               refList(x.assocs, g.Admins),
			SelfService:          g.SelfService,
			Fields:               maps.Clone(g.Fields),
		}
		if g.Defaults != nil {
			v.Defaults = make(map[string]string, len(g.Defaults))
			for typ, c := range g.Defaults {
				v.Defaults[typ] = c.String()
			}
		}
		f.Groups = append(f.Groups, v)
	}
	for _, a := range sorted(b.Associates, func(a access.Associate) access.AssociateID { return a.ID }) {
		v := Associate{
			ID: int64(a.ID), Name: a.Name, Email: a.Email,
			PrimaryGroup: ref(x.groups, int64(a.PrimaryGroup)),
			Groups:       refList(x.groups, a.Groups),
			Role:         ref(x.roles, int64(a.Role)),
			ValidFrom:    timeText(a.ValidFrom),
			ValidTo:      timeText(a.ValidTo),
			Company:      a.Company,
			Projects:     slices.Clone(a.Projects),
			Attributes:   maps.Clone(a.Attributes),
			ServiceLogin: a.ServiceLogin,
			Categories:   refList(x.categories, a.Categories),
			Licences:     refList(x.licences, a.Licences),
		}
		if a.Type != access.Internal {
			v.Type = a.Type.String()
		}
		if !a.Active {
			v.Active = new(bool)
		}
		f.Associates = append(f.Associates, v)
	}
	for _, r := range sorted(b.SharingRules, func(r access.SharingRule) access.RuleID { return r.ID }) {
		f.SharingRules = append(f.SharingRules, SharingRule{
			ID: int64(r.ID), Name: r.Name, Type: r.EntityType,
			From: principals(x, r.From), To: principals(x, r.To), Rights: r.Rights.String(),
		})
	}
	for _, g := range sorted(b.Grants, func(g access.Grant) access.GrantID { return g.ID }) {
		f.Grants = append(f.Grants, Grant{
			ID:        int64(g.ID),
			Associate: ref(x.assocs, int64(g.Associate)),
			Group:     ref(x.groups, int64(g.Group)),
			Type:      g.EntityType, Record: g.RecordID, Rights: g.Rights.String(),
		})
	}
	for _, c := range sorted(b.Categories, func(c access.Category) access.CategoryID { return c.ID }) {
		f.Categories = append(f.Categories, Category{
			ID: int64(c.ID), Name: c.Name,
			Parent:      ref(x.categories, int64(c.Parent)),
			MembersOnly: c.MembersOnly,
			Groups:      refList(x.groups, c.Groups),
			Roles:       refList(x.roles, c.Roles),
		})
	}
	for _, m := range sorted(b.Impersonations, func(m access.Impersonation) access.ImpersonationID { return m.ID }) {
		f.Impersonations = append(f.Impersonations, Impersonation{
			ID:     int64(m.ID),
			Actor:  principal(x, m.Actor),
			Target: principal(x, m.Target),
		})
	}
	for _, l := range sorted(b.Limits, func(l access.Limit) access.LimitID { return l.ID }) {
		v := Limit{ID: int64(l.ID), Group: ref(x.groups, int64(l.Group)), Type: l.EntityType, Record: l.RecordID, Max: l.Max.String()}
		if l.Scope != access.LimitAll {
			v.Scope = l.Scope.String()
		}
		f.Limits = append(f.Limits, v)
	}
	for _, l := range sorted(b.Licences, func(l access.Licence) access.LicenceID { return l.ID }) {
		v := Licence{ID: int64(l.ID), Name: l.Name, Seats: l.Seats, ValidFrom: timeText(l.ValidFrom), ValidTo: timeText(l.ValidTo)}
		for _, t := range l.For {
			v.For = append(v.For, t.String())
		}
		f.Licences = append(f.Licences, v)
	}
	return f
}

func sorted[T any, ID cmp.Ordered](in []T, id func(T) ID) []T {
	return slices.SortedFunc(slices.Values(in), func(a, b T) int { return cmp.Compare(id(a), id(b)) })
}

// ref refers to id by name when the name is unique, by id otherwise; nil
// for 0.
func ref(t *table, id int64) *Ref {
	if id == 0 {
		return nil
	}
	r := refTo(t, id)
	return &r
}

func refTo(t *table, id int64) Ref {
	if n, ok := t.names[id]; ok && t.unique(n) {
		return Ref{Name: n}
	}
	return Ref{ID: id}
}

func refList[T ~int64](t *table, ids []T) []Ref {
	if ids == nil {
		return nil
	}
	out := make([]Ref, len(ids))
	for i, id := range ids {
		out[i] = refTo(t, int64(id))
	}
	return out
}

func principals(x *Index, p access.Principals) Principals {
	return Principals{
		Everyone:             p.Everyone,
		Associates:           refList(x.assocs, p.Associates),
		Groups:               refList(x.groups, p.Groups),
		Roles:                refList(x.roles, p.Roles),
		RolesAndSubordinates: refList(x.roles, p.RolesAndSubordinates),
	}
}

func principal(x *Index, p access.Principal) Principal {
	return Principal{Associate: ref(x.assocs, int64(p.Associate)), Group: ref(x.groups, int64(p.Group))}
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

// Marshal writes f as JSON (indented) or YAML.
func Marshal(f *File, asJSON bool) ([]byte, error) {
	if asJSON {
		out, err := json.MarshalIndent(f, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
		return append(out, '\n'), nil
	}
	node, err := yaml.ValueToNode(f, yaml.Indent(2), yaml.IndentSequence(true))
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	ast.Walk(quoter{}, node)
	var p printer.Printer
	return append(p.PrintNode(node), '\n'), nil
}

// quoter double-quotes every string that might not read back as itself
// when written plain. go-yaml v1.19.2 writes ".inf" and "\t" plain (they
// read back as infinity and as nothing), strings with line breaks as
// block scalars (which cannot stand in a [flow, list]), and "[it's" in
// single quotes without doubling the quote. Quoting all but the dullest
// strings sidesteps every such case.
type quoter struct{}

func (q quoter) Visit(n ast.Node) ast.Visitor {
	s, ok := n.(*ast.StringNode)
	if !ok || s.Token.Type == token.DoubleQuoteType || s.Token.Type == token.SingleQuoteType {
		return q
	}
	// The encoder keeps the text it writes in Value: already quoted with
	// strconv.Quote when it saw the need.
	if _, err := strconv.Unquote(s.Value); err == nil && strings.HasPrefix(s.Value, `"`) {
		return q
	}
	if !plainSafe(s.Value) {
		s.Token = token.DoubleQuote(s.Value, strconv.Quote(s.Value), s.Token.Position)
	}
	return q
}

// plainSafe reports whether s can be written as a plain scalar anywhere,
// in block or flow context: letters, digits, spaces inside, and a few
// punctuation marks, starting with a letter, and not a word YAML reads as
// a boolean or null.
func plainSafe(s string) bool {
	if s == "" || s[len(s)-1] == ' ' {
		return false
	}
	for i, c := range s {
		switch {
		case unicode.IsLetter(c) || c == '_':
		case i > 0 && (unicode.IsDigit(c) || strings.ContainsRune(" ./()+-*", c)):
		default:
			return false
		}
	}
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "y", "n", "null":
		return false
	}
	return true
}
