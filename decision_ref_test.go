package access_test

import (
	"slices"
	"time"

	"github.com/crmaccess/access"
)

// decModel is the naive reference for decisions: the model in plain maps
// and every rule of Engine.Can written out the slow, obvious way, from the
// rules as documented, with no knowledge of how the engine compiles them.
// Group membership is an explicit breadth-first search, recomputed on every
// question.
type decModel struct {
	roles  map[access.RoleID]access.Role
	groups map[access.GroupID]access.Group
	assocs map[access.AssociateID]access.Associate
	rules  []access.SharingRule
	grants []access.Grant
	cats   map[access.CategoryID]access.Category
	limits []access.Limit
	lics   map[access.LicenceID]access.Licence
	// past holds the past owners: deleted associates whose records keep
	// their owner's role and primary group for relations.
	past map[access.AssociateID]access.PastOwner

	// fallbackOnly makes an internal subject hold only the fallback
	// relation (Other or Unowned), whatever specific relations hold: the
	// decision a nearest miss describes.
	fallbackOnly bool
}

func newDecModel(b *access.Batch) *decModel {
	m := &decModel{
		roles:  map[access.RoleID]access.Role{},
		groups: map[access.GroupID]access.Group{},
		assocs: map[access.AssociateID]access.Associate{},
		cats:   map[access.CategoryID]access.Category{},
		lics:   map[access.LicenceID]access.Licence{},
		past:   map[access.AssociateID]access.PastOwner{},
	}
	for _, l := range b.Licences {
		m.lics[l.ID] = l
	}
	for _, p := range b.PastOwners {
		m.past[p.ID] = p
	}
	for _, r := range b.Roles {
		m.roles[r.ID] = r
	}
	for _, g := range b.Groups {
		m.groups[g.ID] = g
	}
	for _, a := range b.Associates {
		m.assocs[a.ID] = a
	}
	m.rules = slices.Clone(b.SharingRules)
	m.grants = slices.Clone(b.Grants)
	m.limits = slices.Clone(b.Limits)
	for _, c := range b.Categories {
		m.cats[c.ID] = c
	}
	return m
}

// refOutcome is the reference's answer to one question.
type refOutcome struct {
	invalid bool // the request itself is invalid: error and deny
	gate    access.Gate
	system  bool
	rels    access.Relations
	rights  access.CRUD
	allowed bool
}

// above returns the roles strictly above r, nearest first, stopping at a
// parent the model does not hold or one already seen.
func (m *decModel) above(r access.RoleID) []access.RoleID {
	var out []access.RoleID
	seen := map[access.RoleID]bool{r: true}
	for {
		role, ok := m.roles[r]
		if !ok || role.Parent == 0 || seen[role.Parent] {
			return out
		}
		if _, ok := m.roles[role.Parent]; !ok {
			return out
		}
		r = role.Parent
		seen[r] = true
		out = append(out, r)
	}
}

// strictlyBelow reports whether role b is strictly below role a.
func (m *decModel) strictlyBelow(b, a access.RoleID) bool {
	if _, ok := m.roles[a]; !ok {
		return false
	}
	return slices.Contains(m.above(b), a)
}

// groupsOf returns the set of groups the associate is an effective member
// of: the groups it enters directly, then, breadth first, every plain group
// that lists a group already reached.
func (m *decModel) groupsOf(id access.AssociateID) map[access.GroupID]bool {
	out := map[access.GroupID]bool{}
	a, ok := m.assocs[id]
	if !ok || a.Type != access.Internal {
		return out
	}
	var queue []access.GroupID
	enter := func(g access.GroupID) {
		if !out[g] {
			out[g] = true
			queue = append(queue, g)
		}
	}
	roleAndAbove := append([]access.RoleID{a.Role}, m.above(a.Role)...)
	for gid, g := range m.groups {
		if g.Smart != "" {
			if rule, err := access.ParseSmartRule(g.Smart); err == nil && rule.Match(&a) {
				enter(gid)
			}
			continue
		}
		if a.PrimaryGroup == gid || slices.Contains(a.Groups, gid) {
			enter(gid)
		}
		if a.Role != 0 && slices.Contains(g.Roles, a.Role) {
			enter(gid)
		}
		if a.Role != 0 {
			for _, r := range roleAndAbove {
				if slices.Contains(g.RolesAndSubordinates, r) {
					enter(gid)
				}
			}
		}
	}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		for pid, p := range m.groups {
			if p.Smart == "" && slices.Contains(p.Groups, c) {
				enter(pid)
			}
		}
	}
	return out
}

// within reports whether group inner is outer or is listed, at any depth,
// by outer.
func (m *decModel) within(inner, outer access.GroupID) bool {
	if _, ok := m.groups[inner]; !ok {
		return false
	}
	seen := map[access.GroupID]bool{outer: true}
	queue := []access.GroupID{outer}
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		if g == inner {
			return true
		}
		grp, ok := m.groups[g]
		if !ok || grp.Smart != "" {
			continue
		}
		for _, c := range grp.Groups {
			if !seen[c] {
				seen[c] = true
				queue = append(queue, c)
			}
		}
	}
	return false
}

// inSet reports whether the associate id is in the principal set.
func (m *decModel) inSet(p *access.Principals, id access.AssociateID) bool {
	if p.Everyone {
		return true
	}
	if id != 0 && slices.Contains(p.Associates, id) {
		return true
	}
	a, ok := m.assocs[id]
	if !ok {
		return m.pastInSet(p, id)
	}
	mine := m.groupsOf(id)
	for _, g := range p.Groups {
		if mine[g] {
			return true
		}
	}
	if a.Role == 0 {
		return false
	}
	if slices.Contains(p.Roles, a.Role) {
		return true
	}
	for _, r := range p.RolesAndSubordinates {
		if r == a.Role || m.strictlyBelow(a.Role, r) {
			return true
		}
	}
	return false
}

// pastInSet reports whether the past owner id is in the set: through
// its primary group, when that is or is nested in a group of the set, or
// through its role, when the role still exists.
func (m *decModel) pastInSet(p *access.Principals, id access.AssociateID) bool {
	po, ok := m.past[id]
	if !ok {
		return false
	}
	for _, g := range p.Groups {
		if po.PrimaryGroup != 0 && m.within(po.PrimaryGroup, g) {
			return true
		}
	}
	if _, ok := m.roles[po.Role]; !ok {
		return false
	}
	if slices.Contains(p.Roles, po.Role) {
		return true
	}
	for _, r := range p.RolesAndSubordinates {
		if r == po.Role || m.strictlyBelow(po.Role, r) {
			return true
		}
	}
	return false
}

// ownerRole returns the role of the record's owner, live or past, or 0.
func (m *decModel) ownerRole(id access.AssociateID) access.RoleID {
	if a, ok := m.assocs[id]; ok {
		return a.Role
	}
	return m.past[id].Role
}

// inCategory reports whether the associate is a member of the category.
func (m *decModel) inCategory(a *access.Associate, c *access.Category) bool {
	if a.ServiceLogin == 0 {
		return false
	}
	if slices.Contains(a.Categories, c.ID) {
		return true
	}
	if a.Role != 0 && slices.Contains(c.Roles, a.Role) {
		return true
	}
	mine := m.groupsOf(a.ID)
	for _, g := range c.Groups {
		if mine[g] {
			return true
		}
	}
	return false
}

// decide answers "may who do act to rec at time now?" by the documented
// rules, layer by layer.
func (m *decModel) decide(who access.AssociateID, act access.Action, rec access.Record, now time.Time) refOutcome {
	var out refOutcome
	if act < access.Read || act > access.Delete || rec.Type == "" || rec.Type == "*" ||
		rec.Visibility > access.VisibleAssociate {
		out.invalid = true
		return out
	}

	// Gates.
	a, known := m.assocs[who]
	switch {
	case !known:
		out.gate = access.GateUnknown
	case !a.Active:
		out.gate = access.GateInactive
	case !a.ValidFrom.IsZero() && now.Before(a.ValidFrom):
		out.gate = access.GateNotYetValid
	case !a.ValidTo.IsZero() && !now.Before(a.ValidTo):
		out.gate = access.GateExpired
	case m.unlicensed(&a, now):
		out.gate = access.GateNoLicence
	case a.Type == access.Resource:
		out.gate = access.GateResource
	case a.Type == access.Anonymous:
		out.gate = access.GateAnonymous
	}
	if out.gate != access.GateNone {
		return out
	}
	if a.Type == access.System {
		out.system = true
		out.rights = access.R | access.C | access.U | access.D
		out.allowed = true
		return out
	}

	// Ownership relations.
	mine := m.groupsOf(who)
	own := rec.Owner != 0 && rec.Owner == who
	var rels []access.Relation
	if own {
		rels = append(rels, access.Owner)
	}
	switch a.Type {
	case access.Internal:
		if rec.Team != 0 && mine[rec.Team] {
			rels = append(rels, access.Team)
		}
		if rec.Group != 0 && rec.Group == a.PrimaryGroup {
			rels = append(rels, access.PrimaryGroup)
		}
		if rec.Group != 0 && rec.Group != a.PrimaryGroup && mine[rec.Group] {
			rels = append(rels, access.OtherGroup)
		}
		if or := m.ownerRole(rec.Owner); rec.Owner != 0 && !own && or != 0 && a.Role != 0 &&
			m.strictlyBelow(or, a.Role) {
			rels = append(rels, access.Subordinate)
		}
		if c, ok := m.cats[rec.Category]; ok && rec.Category != 0 && m.inCategory(&a, &c) {
			rels = append(rels, access.CategoryMember)
		}
		if len(rels) == 0 || m.fallbackOnly {
			rels = rels[:0]
			if rec.Owner != 0 || rec.Team != 0 {
				rels = append(rels, access.Other)
			} else {
				rels = append(rels, access.Unowned)
			}
		}
	case access.External:
		if rec.Company != 0 && rec.Company == a.Company {
			rels = append(rels, access.MyCompany)
		}
		if rec.Project != 0 && slices.Contains(a.Projects, rec.Project) {
			rels = append(rels, access.SameProject)
		}
	}
	for _, r := range rels {
		out.rels = out.rels.With(r)
	}

	// The role's cells for every relation that holds.
	var rights access.CRUD
	if role, ok := m.roles[a.Role]; ok {
		grid, ok := role.Rights[rec.Type]
		if !ok {
			grid = role.Rights["*"]
		}
		for _, r := range rels {
			rights |= refCell(role, grid, r)
		}
	}

	// An external subject is held to its own company and projects: on a
	// record it does not own, of another company and of none of its
	// projects, only sharing rules and grants that name it apply.
	outside := a.Type == access.External && !own &&
		!(rec.Company != 0 && rec.Company == a.Company) &&
		!(rec.Project != 0 && slices.Contains(a.Projects, rec.Project))

	// Sharing rules and grants open records; they are kept apart from
	// the role's cells and the defaults, which LimitUnrelated limits cap.
	var openedBy access.CRUD

	// Sharing rules.
	for i := range m.rules {
		sr := &m.rules[i]
		if sr.EntityType != rec.Type && sr.EntityType != "*" {
			continue
		}
		if !m.inSet(&sr.To, who) {
			continue
		}
		if outside && !slices.Contains(sr.To.Associates, who) {
			continue
		}
		opened := sr.From.Everyone || (rec.Owner != 0 && m.inSet(&sr.From, rec.Owner))
		if rec.Team != 0 {
			for _, g := range sr.From.Groups {
				if m.within(rec.Team, g) {
					opened = true
				}
			}
		}
		if opened {
			openedBy |= sr.Rights
		}
	}

	// Grants, else the default permissions of the subject's groups.
	covered := false
	for _, g := range m.grants {
		onRecord := g.RecordID != 0 && rec.ID != 0 && g.RecordID == rec.ID && g.EntityType == rec.Type
		onType := g.RecordID == 0 && (g.EntityType == rec.Type || g.EntityType == "*")
		toMe := (g.Associate != 0 && g.Associate == who) || (!outside && g.Group != 0 && mine[g.Group])
		if (onRecord || onType) && toMe {
			covered = true
			openedBy |= g.Rights
		}
	}
	if !covered && !outside {
		for gid := range mine {
			defs := m.groups[gid].Defaults
			c, ok := defs[rec.Type]
			if !ok {
				c = defs["*"]
			}
			rights |= c
		}
	}

	// Limits: those on everyone or on one of the subject's groups, on
	// the record's type, "*" or the record itself. LimitUnrelated ones
	// cap the role's cells and defaults when the subject is related to
	// the record in none of the ways below; LimitAll ones cap the sum.
	related := false
	for _, r := range rels {
		switch r {
		case access.Owner, access.Team, access.PrimaryGroup, access.OtherGroup,
			access.Subordinate, access.MyCompany, access.SameProject:
			related = true
		}
	}
	keepAll := access.LevelFull
	for _, l := range m.limits {
		onMe := l.Group == 0 || mine[l.Group]
		onRec := (l.RecordID == 0 && (l.EntityType == rec.Type || l.EntityType == "*")) ||
			(l.RecordID != 0 && l.RecordID == rec.ID && l.EntityType == rec.Type)
		if !onMe || !onRec {
			continue
		}
		if l.Scope == access.LimitUnrelated {
			if !related {
				rights &= l.Max
			}
			continue
		}
		keepAll &= l.Max
	}
	rights = (rights | openedBy) & keepAll

	// Restrictions.
	switch rec.Visibility {
	case access.VisibleAssociate:
		if !own {
			rights = 0
		}
	case access.VisibleGroup:
		if !own && !(rec.Group != 0 && mine[rec.Group]) {
			rights = 0
		}
	}
	if a.Type == access.External && !rec.Published && !own {
		rights = 0
	}
	if rec.Category != 0 {
		c, ok := m.cats[rec.Category]
		if !ok || (c.MembersOnly && !m.inCategory(&a, &c)) {
			rights = 0
		}
	}

	out.rights = rights
	need := map[access.Action]access.CRUD{access.Read: access.R, access.Create: access.C, access.Update: access.U, access.Delete: access.D}[act]
	out.allowed = rights&need != 0
	return out
}

// unlicensed reports whether the associate's type is listed in the For of
// some licence and the associate holds none of those licences valid now.
func (m *decModel) unlicensed(a *access.Associate, now time.Time) bool {
	needed := false
	for _, l := range m.lics {
		if slices.Contains(l.For, a.Type) {
			needed = true
		}
	}
	if !needed {
		return false
	}
	for _, id := range a.Licences {
		l, ok := m.lics[id]
		if !ok || !slices.Contains(l.For, a.Type) {
			continue
		}
		if (l.ValidFrom.IsZero() || !now.Before(l.ValidFrom)) && (l.ValidTo.IsZero() || now.Before(l.ValidTo)) {
			return false
		}
	}
	return true
}

// signIn answers SignIn by the documented rules: the gates (but an
// anonymous associate may use the API), then the type (internal: client
// and API; external, system, anonymous: API only), then for the client
// backend-login from the role or a group.
func (m *decModel) signIn(who access.AssociateID, ch access.Channel, now time.Time) (bool, access.Gate) {
	g := m.decide(who, access.Read, access.Record{Type: "x"}, now).gate
	if g == access.GateAnonymous {
		g = access.GateNone
	}
	if g != access.GateNone {
		return false, g
	}
	a := m.assocs[who]
	switch a.Type {
	case access.Internal:
		return ch == access.ChannelAPI || m.has(who, access.FuncBackendLogin, now), g
	case access.External, access.System, access.Anonymous:
		return ch == access.ChannelAPI, g
	}
	return false, g
}

// has answers Has by the documented rule: external associates hold no
// functional rights, and only internal ones hold backend-login.
func (m *decModel) has(who access.AssociateID, right string, now time.Time) bool {
	if out := m.decide(who, access.Read, access.Record{Type: "x"}, now); out.gate != access.GateNone {
		return false
	} else if right == access.FuncBackendLogin && m.assocs[who].Type != access.Internal {
		return false
	} else if out.system {
		return true
	}
	a := m.assocs[who]
	if a.Type == access.External {
		return false
	}
	if slices.Contains(m.roles[a.Role].Functions, right) {
		return true
	}
	for g := range m.groupsOf(who) {
		if slices.Contains(m.groups[g].Functions, right) {
			return true
		}
	}
	return false
}

// refCell is what the role's grid gives for one relation: a team member
// is an owner, unless the role limits teams.
func refCell(role access.Role, grid access.Grid, r access.Relation) access.CRUD {
	if r == access.Team && !role.LimitTeams {
		return grid[access.Team] | grid[access.Owner]
	}
	return grid[r]
}
