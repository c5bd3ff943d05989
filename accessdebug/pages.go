package accessdebug

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/graph"
)

// common is what every page's layout shows.
type common struct {
	Title    string
	Revision access.Revision
	NoStore  bool
}

func (h *handler) common(title string) common {
	return common{Title: title, Revision: h.r.Revision(), NoStore: h.opts.Store == nil}
}

// status

type statusPage struct {
	common
	Stats     access.Stats
	Ready     string
	LastError string
	Counts    []count
	StoreRev  access.Revision
	ModelErr  string
	Pool      *access.PoolStats
	// Tenants are the pool's most recently used resident tenants, at most
	// maxTenants of them.
	Tenants []access.PoolTenant
}

// maxTenants bounds the tenants the status page lists: a pool may hold
// thousands.
const maxTenants = 50

func (h *handler) status(w http.ResponseWriter, r *http.Request, q params) error {
	if err := q.only("status"); err != nil {
		return err
	}
	p := statusPage{common: h.common("Resolver status"), Stats: h.r.Stats(), Ready: "ready"}
	if err := h.r.Ready(); err != nil {
		p.Ready = err.Error()
	}
	if p.Stats.LastError != nil {
		p.LastError = p.Stats.LastError.Error()
	}
	if h.opts.Pool != nil {
		ps := h.opts.Pool.Stats()
		p.Pool = &ps
		p.Tenants = h.opts.Pool.Tenants(maxTenants)
	}
	// The status page must show even when the store fails: that is when
	// an operator opens it.
	if m, err := h.load(r.Context()); err != nil {
		p.ModelErr = err.Error()
	} else if m != nil {
		p.Counts, p.StoreRev = m.counts, m.rev
	}
	return h.render(w, http.StatusOK, "status", p)
}

// find

// maxFound bounds each list of matches.
const maxFound = 100

type findPage struct {
	common
	Query      string
	Searched   bool
	Associates []link
	Groups     []link
	More       bool
}

func (h *handler) find(w http.ResponseWriter, r *http.Request, q params) error {
	if err := q.only("find", "q"); err != nil {
		return err
	}
	p := findPage{common: h.common("Find an associate or group")}
	text, ok := q["q"]
	if !ok {
		return h.render(w, http.StatusOK, "find", p)
	}
	p.Query, p.Searched = text, true
	text = strings.TrimSpace(text)
	if text == "" {
		return badf("Type part of a name, or an id, to search for.")
	}
	ctx := r.Context()
	m, err := h.load(ctx)
	if err != nil {
		return err
	}
	id, _ := strconv.ParseInt(text, 10, 64)
	// The resolver's own lookups first: an exact login name, exact group
	// names and ids, with or without the store.
	seenA, seenG := map[access.AssociateID]bool{}, map[access.GroupID]bool{}
	if a, err := h.r.AssociateByName(ctx, text); err == nil {
		seenA[a.ID] = true
		p.Associates = append(p.Associates, link{Href: fmt.Sprintf("associate?id=%d", a.ID), Name: a.Name, ID: int64(a.ID)})
	}
	if gs, err := h.r.GroupsByName(ctx, text); err == nil {
		for _, g := range gs {
			seenG[g] = true
			p.Groups = append(p.Groups, groupLink(access.GroupRef{ID: g, Name: text}))
		}
	}
	if id > 0 {
		aid := access.AssociateID(id)
		if _, err := h.r.EffectiveGroups(ctx, aid); err == nil && !seenA[aid] {
			seenA[aid] = true
			p.Associates = append(p.Associates, assocLink(m, aid))
		}
		if gp, err := h.r.GroupPermissions(ctx, access.GroupID(id)); err == nil && !seenG[gp.Group.ID] {
			seenG[gp.Group.ID] = true
			p.Groups = append(p.Groups, groupLink(gp.Group))
		}
	}
	if m == nil {
		return h.render(w, http.StatusOK, "find", p)
	}
	// With the store, also every name that contains the text.
	needle := access.FoldName(text)
	for _, aid := range m.assocOrder {
		a := m.assocs[aid]
		if !seenA[aid] && strings.Contains(access.FoldName(a.Name), needle) {
			if len(p.Associates) == maxFound {
				p.More = true
				break
			}
			p.Associates = append(p.Associates, assocLink(m, aid))
		}
	}
	for _, gid := range m.groupOrder {
		g := m.groups[gid]
		if !seenG[gid] && strings.Contains(access.FoldName(g.Name), needle) {
			if len(p.Groups) == maxFound {
				p.More = true
				break
			}
			p.Groups = append(p.Groups, groupLink(access.GroupRef{ID: gid, Name: g.Name}))
		}
	}
	return h.render(w, http.StatusOK, "find", p)
}

// associate

type membershipRow struct {
	Group    link
	Reason   string
	Path     []link
	Entered  string
	Graph    string // link to the page with this membership highlighted
	Selected bool
}

type categoryRow struct {
	Name       string
	ID         int64
	Individual bool
	Groups     []link
	Role       string
}

type typeRow struct {
	Type    string
	Cells   []string // one per relation, in relations order
	Sharing []string
	Grants  []string
	Default string
	// Limits are the limits that cap the type, as text; AtMost is what the
	// whole-type limits among them leave ("" when none caps the type).
	Limits []string
	AtMost string
}

type fact struct{ Name, Value string }

// channelRow is the answer of [access.Engine.SignIn] for one channel.
type channelRow struct {
	Channel string
	Allowed bool
	Why     string
}

type associatePage struct {
	common
	ID          int64
	Name        string
	Facts       []fact
	SignIn      string
	SignInOK    bool
	Channels    []channelRow
	Groups      []membershipRow
	Graph       template.HTML
	Highlighted string
	Functions   []string
	Relations   []string
	Types       []typeRow
	Categories  []categoryRow
	System      bool
	Confined    bool
}

func (h *handler) associate(w http.ResponseWriter, r *http.Request, q params) error {
	if err := q.only("associate", "id", "via"); err != nil {
		return err
	}
	id, err := q.id("id")
	if err != nil {
		return err
	}
	via, err := q.optID("via")
	if err != nil {
		return err
	}
	ctx := r.Context()
	who := access.AssociateID(id)
	ms, err := h.r.EffectiveGroups(ctx, who)
	if err != nil {
		return err
	}
	perms, err := h.r.Permissions(ctx, who)
	if err != nil {
		return err
	}
	cats, err := h.r.Categories(ctx, who)
	if err != nil {
		return err
	}
	m, err := h.load(ctx)
	if err != nil {
		return err
	}
	p := associatePage{common: h.common(""), ID: id, Name: m.assocName(who), System: perms.System, Confined: perms.Confined}
	p.Title = "Associate " + label(p.Name, id)

	hl, err := pickMembership(ms, access.GroupID(via))
	if err != nil {
		return err
	}
	for i, mem := range ms {
		row := membershipRow{Group: groupLink(mem.Path[len(mem.Path)-1]), Reason: mem.Reason.String(),
			Entered: entered(mem), Graph: fmt.Sprintf("associate?id=%d&via=%d#graph", id, mem.Group), Selected: i == hl}
		for _, ref := range mem.Path {
			row.Path = append(row.Path, groupLink(ref))
		}
		p.Groups = append(p.Groups, row)
	}
	svg, text, err := h.drawAssociate(who, p.Name, ms, hl)
	if err != nil {
		return err
	}
	// The graph package escapes every name it writes (and its tests
	// check it), which is what makes this conversion safe.
	p.Graph, p.Highlighted = template.HTML(svg), text

	p.Facts = append(p.Facts, fact{"Role", label(perms.Role.Name, int64(perms.Role.ID))})
	if a := assocOf(m, who); a != nil {
		p.Facts = append(p.Facts,
			fact{"Type", a.Type.String()},
			fact{"Active", yesNo(a.Active)},
			fact{"Valid from", when(a.ValidFrom)},
			fact{"Valid to", when(a.ValidTo)},
			fact{"Primary group", groupName(m, a.PrimaryGroup)},
			fact{"Customer Service login", serviceLogin(a.ServiceLogin)},
		)
		if a.Company != 0 {
			p.Facts = append(p.Facts, fact{"Company", strconv.FormatInt(a.Company, 10)})
		}
		if a.Email != "" {
			p.Facts = append(p.Facts, fact{"E-mail", a.Email})
		}
	}
	p.SignInOK = perms.Gate == access.GateNone
	if p.SignInOK {
		p.SignIn = "may act now, within the channels below"
	} else {
		p.SignIn = "stopped by a gate: " + perms.Gate.String() + "; gets nothing"
	}
	for _, ch := range []access.Channel{access.ChannelClient, access.ChannelAPI} {
		d, err := h.r.SignIn(ctx, access.AssociateID(id), ch)
		if err != nil {
			return err
		}
		p.Channels = append(p.Channels, channelRow{Channel: ch.String(), Allowed: d.Allowed, Why: d.String()})
	}

	p.Functions = perms.Functions
	p.Relations = relationNames()
	for _, tp := range perms.Types {
		p.Types = append(p.Types, typeRowOf(m, tp))
	}
	for _, c := range cats {
		row := categoryRow{Name: c.Category.Name, ID: int64(c.Category.ID), Individual: c.Direct}
		for _, g := range c.Groups {
			row.Groups = append(row.Groups, groupLink(g.Path[len(g.Path)-1]))
		}
		if c.Role.ID != 0 {
			row.Role = label(c.Role.Name, int64(c.Role.ID))
		}
		p.Categories = append(p.Categories, row)
	}
	return h.render(w, http.StatusOK, "associate", p)
}

// pickMembership returns the index of the membership of group via, or when
// via is 0 the one with the longest path (the one most worth explaining),
// or -1 when there is none.
func pickMembership(ms []access.Membership, via access.GroupID) (int, error) {
	if via != 0 {
		i := slices.IndexFunc(ms, func(m access.Membership) bool { return m.Group == via })
		if i < 0 {
			return 0, badf("The associate is not a member of group %d, so there is no path to show.", via)
		}
		return i, nil
	}
	best := -1
	for i, m := range ms {
		if best < 0 || len(graph.MembershipPath(0, m)) > len(graph.MembershipPath(0, ms[best])) {
			best = i
		}
	}
	return best, nil
}

// drawAssociate draws the associate's graph as SVG with membership hl
// highlighted, and says in words which path is highlighted.
func (h *handler) drawAssociate(who access.AssociateID, name string, ms []access.Membership, hl int) ([]byte, string, error) {
	g := graph.Memberships(who, name, ms, nodeLink)
	text := "No group to explain."
	if hl >= 0 {
		g.Highlight(graph.MembershipPath(who, ms[hl]))
		text = ms[hl].String()
	}
	var b bytes.Buffer
	if err := g.WriteSVG(&b); err != nil {
		return nil, "", err
	}
	return b.Bytes(), text, nil
}

// nodeLink links graph nodes to their pages; roles have none.
func nodeLink(n graph.Node) string {
	switch n.Kind {
	case graph.Associate:
		return "associate?id=" + n.ID[1:]
	case graph.Group:
		return "group?id=" + n.ID[1:]
	}
	return ""
}

// entered says in words how the associate entered the first group of the
// membership's path.
func entered(m access.Membership) string {
	switch m.Reason {
	case access.ViaPrimary:
		return "primary group"
	case access.ViaSecondary:
		return "secondary group"
	case access.ViaRole:
		return "its role " + m.Role.String() + " is listed"
	case access.ViaRoleTree:
		if m.Subordinate.ID != 0 {
			return "its role " + m.Subordinate.String() + " is below " + m.Role.String() + ", listed with subordinates"
		}
		return "its role " + m.Role.String() + " is listed with subordinates"
	case access.ViaSmart:
		return "the smart rule matches"
	}
	return m.Reason.String()
}

func typeRowOf(m *model, tp access.TypePermissions) typeRow {
	row := typeRow{Type: tp.EntityType, Default: tp.Default.String()}
	for r := access.Owner; r <= access.Unowned; r++ {
		c, ok := tp.Relations[r]
		if !ok {
			row.Cells = append(row.Cells, "")
			continue
		}
		row.Cells = append(row.Cells, c.String())
	}
	for _, s := range tp.Sharing {
		row.Sharing = append(row.Sharing, fmt.Sprintf("%s: %s", label(s.Name, int64(s.ID)), s.Rights))
	}
	for _, g := range tp.Grants {
		row.Grants = append(row.Grants, grantText(m, g))
	}
	for _, l := range tp.Limits {
		row.Limits = append(row.Limits, limitText(m, l))
	}
	if slices.ContainsFunc(tp.Limits, func(l access.Limit) bool { return l.RecordID == 0 && l.Scope == access.LimitAll }) {
		row.AtMost = tp.Max().String()
	}
	return row
}

// limitText says what a limit caps, in the words of the library's own
// explanation of a limit cause (without what it took away, which depends
// on a decision): "limit 2 (group Temps (20)) keeps at most CRU on contact".
func limitText(m *model, l access.Limit) string {
	on := l.EntityType
	if l.RecordID != 0 {
		on = fmt.Sprintf("%s %d", l.EntityType, l.RecordID)
	}
	return fmt.Sprintf("%s keeps at most %s on %s", limitHead(m, l.ID, l.Group, l.Scope, ""), l.Max, on)
}

// limitHead is the start of a limit's text: "limit 2 (group Temps (20))",
// "limit 1 (organisation-wide, unrelated records)". name, when set, names
// the group as the decision knew it.
func limitHead(m *model, id access.LimitID, g access.GroupID, scope access.LimitScope, name string) string {
	who := "organisation-wide"
	if g != 0 {
		if name == "" {
			name = groupName(m, g)
		} else {
			name = label(name, int64(g))
		}
		who = "group " + name
	}
	if scope != access.LimitAll {
		who += ", " + scope.String()
	}
	return fmt.Sprintf("limit %d (%s)", id, who)
}

func grantText(m *model, g access.Grant) string {
	to := "associate " + label(m.assocName(g.Associate), int64(g.Associate))
	if g.Group != 0 {
		to = "group " + groupName(m, g.Group)
	}
	rec := "every " + g.EntityType
	if g.RecordID != 0 {
		rec = fmt.Sprintf("%s %d", g.EntityType, g.RecordID)
	}
	return fmt.Sprintf("grant %d: %s to %s on %s", g.ID, g.Rights, to, rec)
}

func relationNames() []string {
	var out []string
	for r := access.Owner; r <= access.Unowned; r++ {
		out = append(out, r.String())
	}
	return out
}

func assocOf(m *model, id access.AssociateID) *access.Associate {
	if m == nil {
		return nil
	}
	return m.assocs[id]
}

func groupName(m *model, id access.GroupID) string {
	if id == 0 {
		return "—"
	}
	if m != nil {
		if g := m.groups[id]; g != nil {
			return label(g.Name, int64(id))
		}
	}
	return strconv.FormatInt(int64(id), 10)
}

func serviceLogin(id int64) string {
	if id == 0 {
		return "none (no categories)"
	}
	return strconv.FormatInt(id, 10)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(time.RFC3339)
}

// label names an entity as the library does: "Name (ID)", or the id alone.
func label(name string, id int64) string {
	if name == "" {
		return strconv.FormatInt(id, 10)
	}
	return name + " (" + strconv.FormatInt(id, 10) + ")"
}

// group

type nested struct {
	Group link
	Depth int
}

type matrixRow struct {
	Type    string
	Role    string
	Members int
	Cells   []string
	Default string
	AtMost  string // what the members' whole-type limits leave; "" when none
}

type groupPage struct {
	common
	ID         int64
	Name       string
	Definition []fact
	Members    []link
	Up         []link
	Down       []nested
	Relations  []string
	Matrix     []matrixRow
	Partial    int
	Functions  []fact
	Defaults   []fact
	Grants     []string
	Sharing    []string
	Categories []string
	Limits     []string
	Graph      template.HTML
	GraphNote  string
}

// maxGraphNodes bounds the group graph before its associates are left out.
const maxGraphNodes = 60

func (h *handler) group(w http.ResponseWriter, r *http.Request, q params) error {
	if err := q.only("group", "id"); err != nil {
		return err
	}
	id, err := q.id("id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	g := access.GroupID(id)
	gp, err := h.r.GroupPermissions(ctx, g)
	if err != nil {
		return err
	}
	members, err := h.r.Members(ctx, g)
	if err != nil {
		return err
	}
	m, err := h.load(ctx)
	if err != nil {
		return err
	}
	p := groupPage{common: h.common("Group " + label(gp.Group.Name, id)), ID: id, Name: gp.Group.Name, Relations: relationNames()}
	for _, a := range members {
		p.Members = append(p.Members, assocLink(m, a))
	}
	for _, ref := range gp.Includes {
		p.Up = append(p.Up, groupLink(ref))
	}
	if m != nil {
		if def := m.groups[g]; def != nil {
			p.Definition = groupDefinition(m, def)
		}
		p.Down = nestedBelow(m, g)
		if p.Graph, p.GraphNote, err = groupGraph(m, g); err != nil {
			return err
		}
	}

	// The matrix: each distinct role among the members, with its rights
	// by entity type and relation. Members share rows by role, so the
	// table stays as long as the roles are many, not the members. Limits
	// follow a member's other groups too, so members of one role that
	// keep different rights under them get a row each.
	type key struct {
		typ    string
		role   access.RoleID
		atMost string
	}
	rows := map[key]*matrixRow{}
	var order []key
	for i, a := range members {
		if i == h.opts.MatrixMembers {
			p.Partial = len(members)
			break
		}
		perms, err := h.r.Permissions(ctx, a)
		if err != nil {
			return err
		}
		if perms.Gate != access.GateNone {
			continue
		}
		for _, tp := range perms.Types {
			tr := typeRowOf(m, tp)
			k := key{tp.EntityType, perms.Role.ID, tr.AtMost}
			row := rows[k]
			if row == nil {
				roleText := label(perms.Role.Name, int64(perms.Role.ID))
				if perms.System {
					roleText += " (system user: every right)"
				}
				row = &matrixRow{Type: tp.EntityType, Role: roleText, Cells: tr.Cells, Default: tr.Default, AtMost: tr.AtMost}
				rows[k] = row
				order = append(order, k)
			}
			row.Members++
		}
	}
	slices.SortFunc(order, func(a, b key) int {
		return cmp.Or(cmp.Compare(notWild(a.typ), notWild(b.typ)), strings.Compare(a.typ, b.typ), cmp.Compare(a.role, b.role), strings.Compare(a.atMost, b.atMost))
	})
	for _, k := range order {
		p.Matrix = append(p.Matrix, *rows[k])
	}

	for _, f := range slices.Sorted(maps.Keys(gp.Functions)) {
		p.Functions = append(p.Functions, fact{f, gp.Functions[f].String()})
	}
	for _, d := range gp.Defaults {
		p.Defaults = append(p.Defaults, fact{d.EntityType, fmt.Sprintf("%s from %s", d.Rights, d.Group)})
	}
	for _, gr := range gp.Grants {
		p.Grants = append(p.Grants, grantText(m, gr))
	}
	for _, s := range gp.Sharing {
		p.Sharing = append(p.Sharing, fmt.Sprintf("%s: %s on %s", label(s.Name, int64(s.ID)), s.Rights, s.EntityType))
	}
	for _, c := range gp.Categories {
		p.Categories = append(p.Categories, c.String())
	}
	for _, l := range gp.Limits {
		p.Limits = append(p.Limits, limitText(m, l))
	}
	return h.render(w, http.StatusOK, "group", p)
}

// notWild sorts the default row, "*", before the named types.
func notWild(typ string) int {
	if typ == access.Wildcard {
		return 0
	}
	return 1
}

// groupGraph draws the model around group g: what includes it, what it
// includes, and the roles and associates that lead into it, with g itself
// highlighted.
func groupGraph(m *model, g access.GroupID) (template.HTML, string, error) {
	gr := graph.Model(&m.batch, nodeLink).Around(graph.GroupNode(g))
	note := "The groups and roles around this group, and the associates listed in them directly (members by a smart rule are not drawn)."
	if len(gr.Nodes) > maxGraphNodes {
		gr = gr.Without(graph.Associate)
		note = "The groups and roles around this group; its associates are too many to draw."
	}
	gr.Highlight([]string{graph.GroupNode(g)})
	var b bytes.Buffer
	if err := gr.WriteSVG(&b); err != nil {
		return "", "", err
	}
	// Safe for the same reason as the associate's graph: package graph
	// escapes every name.
	return template.HTML(b.String()), note, nil
}

func groupDefinition(m *model, g *access.Group) []fact {
	var out []fact
	names := func(ids []access.GroupID) string {
		var s []string
		for _, id := range ids {
			s = append(s, groupName(m, id))
		}
		return strings.Join(s, ", ")
	}
	roles := func(ids []access.RoleID) string {
		var s []string
		for _, id := range ids {
			if r := m.roles[id]; r != nil {
				s = append(s, label(r.Name, int64(id)))
			} else {
				s = append(s, strconv.FormatInt(int64(id), 10))
			}
		}
		return strings.Join(s, ", ")
	}
	if g.Description != "" {
		out = append(out, fact{"Description", g.Description})
	}
	if g.IsSmart() {
		out = append(out, fact{"Smart rule", g.Smart})
	}
	if len(g.Groups) > 0 {
		out = append(out, fact{"Includes groups", names(g.Groups)})
	}
	if len(g.Roles) > 0 {
		out = append(out, fact{"Includes roles", roles(g.Roles)})
	}
	if len(g.RolesAndSubordinates) > 0 {
		out = append(out, fact{"Includes roles and subordinates", roles(g.RolesAndSubordinates)})
	}
	return out
}

// nestedBelow lists the groups included in g, directly or not, breadth
// first with their depth.
func nestedBelow(m *model, g access.GroupID) []nested {
	var out []nested
	seen := map[access.GroupID]bool{g: true}
	level := []access.GroupID{g}
	for depth := 1; len(level) > 0; depth++ {
		var next []access.GroupID
		for _, x := range level {
			def := m.groups[x]
			if def == nil {
				continue
			}
			for _, sub := range def.Groups {
				if seen[sub] {
					continue
				}
				seen[sub] = true
				name := ""
				if s := m.groups[sub]; s != nil {
					name = s.Name
				}
				out = append(out, nested{Group: groupLink(access.GroupRef{ID: sub, Name: name}), Depth: depth})
				next = append(next, sub)
			}
		}
		level = next
	}
	return out
}

// graph files

func (h *handler) graphFile(w http.ResponseWriter, r *http.Request, q params) error {
	if err := q.only("graph", "associate", "via"); err != nil {
		return err
	}
	id, err := q.id("associate")
	if err != nil {
		return err
	}
	via, err := q.optID("via")
	if err != nil {
		return err
	}
	ctx := r.Context()
	who := access.AssociateID(id)
	ms, err := h.r.EffectiveGroups(ctx, who)
	if err != nil {
		return err
	}
	m, err := h.load(ctx)
	if err != nil {
		return err
	}
	hl, err := pickMembership(ms, access.GroupID(via))
	if err != nil {
		return err
	}
	g := graph.Memberships(who, m.assocName(who), ms, nodeLink)
	if hl >= 0 {
		g.Highlight(graph.MembershipPath(who, ms[hl]))
	}
	var b bytes.Buffer
	switch {
	case strings.HasSuffix(r.URL.Path, ".svg"):
		w.Header().Set("Content-Type", "image/svg+xml")
		err = g.WriteSVG(&b)
	case strings.HasSuffix(r.URL.Path, ".dot"):
		w.Header().Set("Content-Type", "text/vnd.graphviz; charset=utf-8")
		err = g.WriteDOT(&b)
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		err = g.WriteMermaid(&b)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(b.Bytes())
	return err
}

// explain

type option struct {
	Value, Label string
	Selected     bool
}

type causeRow struct {
	Kind   string
	Text   string
	Rights string
}

type allowedRow struct {
	Who       link
	Rights    string
	Relations string
	Because   string
}

type explainPage struct {
	common
	Form      explainForm
	Actions   []option
	Visible   []option
	Problems  []string
	Answered  bool
	Allowed   bool
	Verdict   string
	Rights    string
	Relations string
	Gate      string
	Causes    []causeRow
	Summary   string
	WhoCan    []allowedRow
	Subject   link
}

// explainForm holds the form's fields as typed, to show them back.
type explainForm struct {
	Who, Action, Type, ID, Owner, Group, Team, Company, Project, Category, Visibility string
	Published                                                                         bool
}

var explainFields = []string{"who", "action", "type", "id", "owner", "group", "team", "company", "project", "category", "published", "visibility"}

func (h *handler) explain(w http.ResponseWriter, r *http.Request, q params) error {
	if err := q.only("explain", explainFields...); err != nil {
		return err
	}
	f := explainForm{Who: q["who"], Action: q["action"], Type: q["type"], ID: q["id"], Owner: q["owner"], Group: q["group"],
		Team: q["team"], Company: q["company"], Project: q["project"], Category: q["category"], Visibility: q["visibility"]}
	p := explainPage{common: h.common("Explain a decision"), Form: f}
	for a := access.Read; a <= access.Delete; a++ {
		p.Actions = append(p.Actions, option{a.String(), a.String(), a.String() == f.Action})
	}
	for v := access.VisibleAll; v <= access.VisibleAssociate; v++ {
		p.Visible = append(p.Visible, option{v.String(), "visible to " + v.String(), v.String() == f.Visibility})
	}
	if len(q) == 0 {
		return h.render(w, http.StatusOK, "explain", p)
	}
	ctx := r.Context()
	m, err := h.load(ctx)
	if err != nil {
		return err
	}
	who, act, rec, problems := h.readExplain(r.Context(), m, q)
	if len(problems) > 0 {
		p.Problems = problems
		return h.render(w, http.StatusBadRequest, "explain", p)
	}
	d, err := h.r.Can(ctx, who, act, rec)
	if err != nil {
		if errors.Is(err, access.ErrInvalid) {
			p.Problems = []string{err.Error()}
			return h.render(w, http.StatusBadRequest, "explain", p)
		}
		return err
	}
	allowed, err := h.r.WhoCan(ctx, act, rec)
	if err != nil {
		return err
	}
	p.Answered, p.Allowed = true, d.Allowed
	p.Verdict = "deny"
	if d.Allowed {
		p.Verdict = "allow"
	}
	p.Subject = assocLink(m, who)
	p.Rights, p.Relations, p.Gate = d.Rights.String(), d.Relations.String(), d.Gate.String()
	for _, c := range d.Causes() {
		p.Causes = append(p.Causes, causeRow{Kind: c.Kind.String(), Text: causeText(m, rec, c), Rights: c.Rights.String()})
	}
	p.Summary = d.String()
	for _, a := range allowed {
		p.WhoCan = append(p.WhoCan, allowedRow{Who: assocLink(m, a.Associate), Rights: a.Rights.String(),
			Relations: a.Relations.String(), Because: a.Because.Kind.String() + ": " + causeText(m, rec, a.Because)})
	}
	return h.render(w, http.StatusOK, "explain", p)
}

// readExplain validates the explain form, collecting every problem so the
// page can list them all at once.
func (h *handler) readExplain(ctx context.Context, m *model, q params) (access.AssociateID, access.Action, access.Record, []string) {
	var problems []string
	bad := func(err error) {
		if err != nil {
			problems = append(problems, err.Error())
		}
	}
	var who access.AssociateID
	switch s := strings.TrimSpace(q["who"]); {
	case s == "":
		problems = append(problems, "Who: give an associate's id or name.")
	default:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			if n <= 0 {
				problems = append(problems, fmt.Sprintf("Who: %q is not a positive id.", s))
			}
			who = access.AssociateID(n)
			break
		}
		// The resolver's own index of login names: no store needed.
		a, err := h.r.AssociateByName(ctx, s)
		switch {
		case err == nil:
			who = a.ID
		case errors.Is(err, access.ErrNotFound):
			problems = append(problems, fmt.Sprintf("Who: no associate is named %q.", s))
		default:
			problems = append(problems, fmt.Sprintf("Who: %v.", err))
		}
	}
	act, err := access.ParseAction(q["action"])
	if err != nil {
		problems = append(problems, fmt.Sprintf("Action: %q is not one of read, create, update, delete.", q["action"]))
	}
	rec := access.Record{Type: strings.TrimSpace(q["type"])}
	if rec.Type == "" || rec.Type == access.Wildcard {
		problems = append(problems, "Entity type: give a concrete type, such as contact.")
	}
	ids := []struct {
		name string
		dst  *int64
	}{{"id", &rec.ID}, {"company", &rec.Company}, {"project", &rec.Project}}
	for _, x := range ids {
		n, err := q.optID(x.name)
		bad(err)
		*x.dst = n
	}
	owner, err := q.optID("owner")
	bad(err)
	group, err := q.optID("group")
	bad(err)
	team, err := q.optID("team")
	bad(err)
	cat, err := q.optID("category")
	bad(err)
	rec.Owner, rec.Group, rec.Team, rec.Category = access.AssociateID(owner), access.GroupID(group), access.GroupID(team), access.CategoryID(cat)
	switch q["published"] {
	case "", "off":
	case "on", "true", "1":
		rec.Published = true
	default:
		problems = append(problems, fmt.Sprintf("Published: %q is not on or off.", q["published"]))
	}
	if s := q["visibility"]; s != "" {
		v, err := access.ParseVisibility(s)
		if err != nil {
			problems = append(problems, fmt.Sprintf("Visibility: %q is not one of all, group, associate.", s))
		}
		rec.Visibility = v
	}
	return who, act, rec, problems
}

// causeText says what one cause of a decision about record rec is, with
// names.
func causeText(m *model, rec access.Record, c access.Cause) string {
	// Causes from WhoCan come without names; the model has them.
	if m != nil {
		if r := m.roles[c.Role]; c.RoleName == "" && r != nil {
			c.RoleName = r.Name
		}
		if g := m.groups[c.Group]; c.GroupName == "" && g != nil {
			c.GroupName = g.Name
		}
		for _, rule := range m.batch.SharingRules {
			if c.RuleName == "" && rule.ID == c.Rule {
				c.RuleName = rule.Name
			}
		}
	}
	role := label(c.RoleName, int64(c.Role))
	group := label(c.GroupName, int64(c.Group))
	switch c.Kind {
	case access.CauseGate:
		return "gate: " + c.Gate.String()
	case access.CauseSystem:
		return "a system user bypasses every rule"
	case access.CauseNoRole:
		if c.Role == 0 {
			return "holds no role"
		}
		return "role " + role + " has no rights for the type"
	case access.CauseRole:
		s := fmt.Sprintf("role %s, relation %s: %s", role, c.Relation, c.Rights)
		if c.Group != 0 {
			s += " (through group " + group + ")"
		}
		return s
	case access.CauseSharing:
		s := fmt.Sprintf("sharing rule %s adds %s", label(c.RuleName, int64(c.Rule)), c.Rights)
		if c.Named {
			s += " (names the associate itself)"
		}
		return s
	case access.CauseGrant:
		s := fmt.Sprintf("grant %d adds %s", c.Grant, c.Rights)
		if c.Group != 0 {
			s += " (to group " + group + ")"
		}
		return s
	case access.CauseDefault:
		return fmt.Sprintf("default permission of group %s adds %s", group, c.Rights)
	case access.CauseRestriction:
		return fmt.Sprintf("restriction %q removes %s", c.Restriction.String(), c.Rights)
	case access.CauseNearMiss:
		return fmt.Sprintf("nearest miss: relation %s would grant %s, but the relations that held grant only %s", c.Relation, c.Rights, c.Held)
	case access.CauseLimit:
		// The library's wording (Decision.String): "limit 2 (group Temps
		// (20)) keeps at most CRU on contact: takes away D".
		on := rec.Type
		if c.Named {
			on = fmt.Sprintf("%s %d", rec.Type, rec.ID)
		}
		return fmt.Sprintf("%s keeps at most %s on %s: takes away %s", limitHead(m, c.Limit, c.Group, c.Scope, c.GroupName), c.Max, on, c.Rights)
	case 0:
		return "—"
	}
	return c.Kind.String()
}
