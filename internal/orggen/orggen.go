// Package orggen generates realistic organisations for tests and
// benchmarks: a role tree, a forest of nested usergroups (regions,
// countries, offices, departments… down to squads), role-based and smart
// groups, and associates of every type linked into them.
//
// The same Config always yields the same organisation, and every
// organisation it yields passes [access.Batch.Validate] against an empty
// model, so it can be bulk-loaded into any store in one batch.
package orggen

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/crmaccess/access"
)

// Config sizes an organisation. A zero field means the default documented
// on it; [Default] returns a Config with every default filled in.
type Config struct {
	// Seed selects the organisation. Default: 1.
	Seed uint64
	// Associates is the number of associates of all types. Default: 100,000.
	Associates int
	// Groups is the number of usergroups of all kinds. Default: 10,000.
	Groups int
	// Roles is the number of roles. Default: 50.
	Roles int
	// RoleDepth is the number of levels of the role tree. Default: 5.
	RoleDepth int
	// GroupDepth is the number of levels of the group hierarchy, so the
	// deepest groups sit GroupDepth-1 nesting edges below a top group.
	// Default: 8.
	GroupDepth int
	// SmartGroups is the number of groups with a smart rule. Default: 20.
	SmartGroups int
	// RoleGroups is the share of groups that list roles (Roles). Default: 0.05.
	RoleGroups float64
	// SubordinateGroups is the share of groups that list roles with their
	// subordinates (RolesAndSubordinates). Default: 0.05.
	SubordinateGroups float64
	// SharedGroups is the share of hierarchy groups that a second parent
	// includes too. Default: 0.03.
	SharedGroups float64
	// Internal is the share of associates that are internal. Default: 0.95.
	Internal float64
}

// Default returns the default organisation's Config.
func Default() Config { return Config{}.withDefaults() }

func (c Config) withDefaults() Config {
	set := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	setf := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	set(&c.Associates, 100_000)
	set(&c.Groups, 10_000)
	set(&c.Roles, 50)
	set(&c.RoleDepth, 5)
	set(&c.GroupDepth, 8)
	set(&c.SmartGroups, 20)
	setf(&c.RoleGroups, 0.05)
	setf(&c.SubordinateGroups, 0.05)
	setf(&c.SharedGroups, 0.03)
	setf(&c.Internal, 0.95)
	return c
}

// Vocabulary of the attributes and names. Smart rules are written over it,
// so every rule matches someone in a large enough organisation.
var (
	depts  = [...]string{"sales", "marketing", "support", "engineering", "finance", "hr", "legal", "operations"}
	cities = [...]string{"Oslo", "Bergen", "Trondheim", "Stockholm", "Gothenburg", "Copenhagen", "Helsinki", "Berlin", "London", "Amsterdam"}
	titles = [...]string{"Assistant", "Associate", "Specialist", "Senior Specialist", "Lead", "Manager", "Director"}
	levels = [...]string{"Region", "Country", "Office", "Department", "Division", "Unit", "Team", "Squad"}
	ranks  = [...]string{"Director", "Manager", "Lead", "Representative", "Assistant"}
)

// The id ranges of companies and projects.
const (
	ownCompany   = 1
	firstCompany = 1000
	numCompanies = 2000
	numProjects  = 500
)

// epoch anchors validity windows, so that output does not depend on the clock.
var epoch = time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)

// Generate returns the organisation cfg describes as one batch of puts:
// roles, then groups, then associates, each in id order. Ids start at 1.
// It panics if cfg asks for fewer than one role or group or a negative
// count.
func Generate(cfg Config) access.Batch {
	cfg = cfg.withDefaults()
	if cfg.Roles < 1 || cfg.Groups < 1 || cfg.Associates < 0 || cfg.SmartGroups < 0 ||
		cfg.RoleDepth < 1 || cfg.GroupDepth < 1 {
		panic(fmt.Sprintf("orggen: invalid config %+v", cfg))
	}
	g := &gen{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	g.roles()
	g.groups()
	g.associates()
	return g.b
}

type gen struct {
	cfg Config
	rng *rand.Rand
	b   access.Batch

	// byLevel lists the role ids on each level of the role tree, top first.
	byLevel [][]access.RoleID
	// Per group id-1: the department and city its members mostly have.
	dept, city []uint8
	// homes are the ids of the groups associates may have as primary
	// group: the two deepest levels of the hierarchy.
	homes []access.GroupID
	// plain are the ids of every group that is not smart.
	plain []access.GroupID
	smart []access.GroupID
}

func (g *gen) intn(n int) int { return g.rng.IntN(n) }

func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }

// split divides n items into levels whose sizes grow by a factor of ratio,
// each at least 1 while n allows.
func split(n, levels int, ratio float64) []int {
	levels = max(min(levels, n), 1)
	w := make([]float64, levels)
	sum := 0.0
	for i := range w {
		if i == 0 {
			w[i] = 1
		} else {
			w[i] = w[i-1] * ratio
		}
		sum += w[i]
	}
	sizes := make([]int, levels)
	left := n
	for i := range sizes {
		sizes[i] = max(int(float64(n)*w[i]/sum), 1)
		left -= sizes[i]
	}
	// Rounding: give the rest to, or take the excess from, the widest levels.
	for i := levels - 1; left != 0; i = (i + levels - 1) % levels {
		switch {
		case left > 0:
			sizes[i]++
			left--
		case sizes[i] > 1:
			sizes[i]--
			left++
		}
	}
	return sizes
}

// roles builds a tree of cfg.Roles roles in cfg.RoleDepth levels: each
// role's parent is a random role of the level above.
func (g *gen) roles() {
	sizes := split(g.cfg.Roles, g.cfg.RoleDepth, 2)
	g.b.Roles = make([]access.Role, 0, g.cfg.Roles)
	g.byLevel = make([][]access.RoleID, len(sizes))
	prevFirst, prevN := 0, 0
	for lvl, n := range sizes {
		first := len(g.b.Roles)
		for i := range n {
			id := access.RoleID(len(g.b.Roles) + 1)
			r := access.Role{
				ID:     id,
				Name:   roleName(lvl, first+i),
				Rights: rights(lvl),
			}
			if lvl > 0 {
				r.Parent = access.RoleID(prevFirst + g.intn(prevN) + 1)
			}
			if lvl <= 1 {
				r.Functions = []string{"export-selection"}
			}
			if lvl == 0 {
				r.Functions = append(r.Functions, "user-admin")
			}
			g.b.Roles = append(g.b.Roles, r)
			g.byLevel[lvl] = append(g.byLevel[lvl], id)
		}
		prevFirst, prevN = first, n
	}
}

func roleName(level, i int) string {
	if level == 0 {
		return "Chief Executive " + strconv.Itoa(i+1)
	}
	d := depts[i%len(depts)]
	return string(d[0]-'a'+'A') + d[1:] + " " + ranks[min(level-1, len(ranks)-1)] + " " + strconv.Itoa(i+1)
}

// rights gives roles higher in the tree more rights, as real grids do.
func rights(level int) map[string]access.Grid {
	full, read := access.LevelFull, access.LevelRead
	row := access.Grid{
		access.Owner:        full,
		access.Team:         access.LevelUpdate,
		access.PrimaryGroup: access.LevelUpdate,
		access.OtherGroup:   read,
		access.Other:        read,
	}
	if level <= 1 {
		row[access.Subordinate] = full
		row[access.Other] = access.LevelUpdate
	}
	return map[string]access.Grid{access.Wildcard: row}
}

// groups builds the hierarchy first (ids 1…), then the role-based groups,
// then the smart groups.
func (g *gen) groups() {
	n := g.cfg.Groups
	nSmart := min(g.cfg.SmartGroups, n-1)
	nRole := min(int(float64(n)*g.cfg.RoleGroups), n-1-nSmart)
	nSub := min(int(float64(n)*g.cfg.SubordinateGroups), n-1-nSmart-nRole)
	nHier := n - nSmart - nRole - nSub
	g.b.Groups = make([]access.Group, 0, n)
	g.dept = make([]uint8, 0, n)
	g.city = make([]uint8, 0, n)
	g.plain = make([]access.GroupID, 0, n-nSmart)

	// The hierarchy: a forest whose levels grow by 2.5, each group
	// included by a random group of the level above and some by a second
	// one, one or two levels up, which makes it a DAG.
	sizes := split(nHier, g.cfg.GroupDepth, 2.5)
	var levelStart []int
	for lvl, size := range sizes {
		levelStart = append(levelStart, len(g.b.Groups))
		for i := range size {
			id := access.GroupID(len(g.b.Groups) + 1)
			grp := access.Group{ID: id, Name: levels[min(lvl, len(levels)-1)] + " " + strconv.Itoa(i+1)}
			dept, city := uint8(g.intn(len(depts))), uint8(g.intn(len(cities)))
			if lvl > 0 {
				ps, pn := levelStart[lvl-1], sizes[lvl-1]
				p := ps + g.intn(pn)
				g.b.Groups[p].Groups = append(g.b.Groups[p].Groups, id)
				// Offices and below inherit the place, departments and
				// below the department.
				if lvl > 2 {
					city = g.city[p]
				}
				if lvl > 3 {
					dept = g.dept[p]
				}
				if g.chance(g.cfg.SharedGroups) {
					up := lvl - 1
					if lvl >= 2 && g.chance(0.3) {
						up = lvl - 2
					}
					q := levelStart[up] + g.intn(sizes[up])
					if q != p {
						g.b.Groups[q].Groups = append(g.b.Groups[q].Groups, id)
					}
				}
			}
			g.b.Groups = append(g.b.Groups, grp)
			g.dept = append(g.dept, dept)
			g.city = append(g.city, city)
			g.plain = append(g.plain, id)
		}
	}
	homeFrom := levelStart[max(len(sizes)-2, 0)]
	for i := homeFrom; i < len(g.b.Groups); i++ {
		g.homes = append(g.homes, g.b.Groups[i].ID)
	}
	top := sizes[0]
	if len(sizes) > 1 {
		top += sizes[1]
	}

	// Role-based groups. "Role group"s list one or two roles below the
	// top; "Reporting line"s list a middle manager's role with its
	// subordinates (a group naming the top role would hold everyone). A
	// quarter are bundled into an earlier role-based group ("all
	// managers"); edges go from lower to higher ids, so no cycle.
	var below, middle []access.RoleID
	for lvl, ids := range g.byLevel {
		if lvl > 0 || len(g.byLevel) == 1 {
			below = append(below, ids...)
		}
		if lo := min(2, len(g.byLevel)-1); lvl >= lo && lvl <= max(lo, len(g.byLevel)-2) {
			middle = append(middle, ids...)
		}
	}
	firstRoleGroup := len(g.b.Groups)
	roleGroup := func(name string, subordinates bool) {
		id := access.GroupID(len(g.b.Groups) + 1)
		grp := access.Group{ID: id, Name: name + " " + strconv.Itoa(int(id))}
		if subordinates {
			for range 1 + b2i(g.chance(0.2)) {
				grp.RolesAndSubordinates = appendNew(grp.RolesAndSubordinates, middle[g.intn(len(middle))])
			}
		} else {
			for range 1 + g.intn(2) {
				grp.Roles = appendNew(grp.Roles, below[g.intn(len(below))])
			}
		}
		if n := len(g.b.Groups) - firstRoleGroup; n > 0 && g.chance(0.25) {
			p := firstRoleGroup + g.intn(n)
			g.b.Groups[p].Groups = append(g.b.Groups[p].Groups, id)
		}
		g.b.Groups = append(g.b.Groups, grp)
		g.dept = append(g.dept, uint8(g.intn(len(depts))))
		g.city = append(g.city, uint8(g.intn(len(cities))))
		g.plain = append(g.plain, id)
	}
	for range nRole {
		roleGroup("Role group", false)
	}
	for range nSub {
		roleGroup("Reporting line", true)
	}

	// Smart groups. A few are included by a top group: a plain group may
	// list a smart one, and then the rule's matches are its members too.
	for i := range nSmart {
		id := access.GroupID(len(g.b.Groups) + 1)
		grp := access.Group{ID: id, Name: "Smart " + strconv.Itoa(i+1), Smart: g.rule(i)}
		if i%4 == 3 {
			p := g.intn(top)
			g.b.Groups[p].Groups = append(g.b.Groups[p].Groups, id)
		}
		g.b.Groups = append(g.b.Groups, grp)
		g.dept = append(g.dept, 0)
		g.city = append(g.city, 0)
		g.smart = append(g.smart, id)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func appendNew[T comparable](s []T, v T) []T {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// rule writes the i-th smart rule from a handful of templates.
func (g *gen) rule(i int) string {
	q := strconv.Quote
	d := func() string { return q(depts[g.intn(len(depts))]) }
	c := func() string { return q(cities[g.intn(len(cities))]) }
	role := func() string { return strconv.Itoa(1 + g.intn(len(g.b.Roles))) }
	project := func() string { return strconv.Itoa(1 + g.intn(numProjects)) }
	switch i % 6 {
	case 0:
		return "attr.dept == " + d() + " and attr.city in [" + c() + ", " + c() + "]"
	case 1:
		return "attr.title prefix " + q(titles[g.intn(len(titles))][:4]) + " and not attr.dept == " + d()
	case 2:
		return "role in [" + role() + ", " + role() + ", " + role() + "] or attr.title == \"Director\""
	case 3:
		return "attr.city == " + c() + " and (attr.dept == " + d() + " or attr.dept == " + d() + ")"
	case 4:
		return "company == " + strconv.Itoa(ownCompany) + " and projects contains any [" + project() + ", " + project() + ", " + project() + "]"
	default:
		return "name prefix \"u00" + strconv.Itoa(g.intn(10)) + "\" and attr[\"dept\"] != " + d()
	}
}

// associates links each internal associate to a home group, 0–3 secondary
// groups and a role, mostly a low one, and takes department and city from
// the home group most of the time.
func (g *gen) associates() {
	n := g.cfg.Associates
	g.b.Associates = make([]access.Associate, 0, n)
	// Most associates hold a low role.
	byLevel := g.byLevel
	pickRole := func() access.RoleID {
		lvl := len(byLevel) - 1
		for lvl > 0 && g.chance(0.35) {
			lvl--
		}
		return byLevel[lvl][g.intn(len(byLevel[lvl]))]
	}
	var buf, digits []byte
	for i := range n {
		id := access.AssociateID(i + 1)
		digits = strconv.AppendInt(digits[:0], int64(id), 10)
		buf = append(buf[:0], 'u')
		for range 6 - len(digits) {
			buf = append(buf, '0')
		}
		buf = append(buf, digits...)
		a := access.Associate{ID: id, Active: !g.chance(0.03)}
		switch x := g.rng.Float64(); {
		case x < g.cfg.Internal:
			a.Type = access.Internal
		case x < g.cfg.Internal+(1-g.cfg.Internal)*0.4:
			a.Type = access.External
		case x < g.cfg.Internal+(1-g.cfg.Internal)*0.8:
			a.Type = access.Resource
		case x < g.cfg.Internal+(1-g.cfg.Internal)*0.95:
			a.Type = access.System
		default:
			a.Type = access.Anonymous
		}
		switch a.Type {
		case access.Internal:
			a.Name = string(buf)
			home := g.homes[g.intn(len(g.homes))]
			a.PrimaryGroup = home
			for range g.intn(4) {
				var sec access.GroupID
				if g.chance(0.02) && len(g.smart) > 0 {
					// A stale link to a smart group: kept, but it
					// confers nothing.
					sec = g.smart[g.intn(len(g.smart))]
				} else {
					sec = g.plain[g.intn(len(g.plain))]
				}
				if sec != home {
					a.Groups = appendNew(a.Groups, sec)
				}
			}
			a.Role = pickRole()
			a.Company = ownCompany
			dept, city := g.dept[home-1], g.city[home-1]
			if g.chance(0.1) {
				dept = uint8(g.intn(len(depts)))
			}
			a.Attributes = map[string]string{
				"dept":  depts[dept],
				"city":  cities[city],
				"title": titles[g.intn(len(titles))],
			}
		case access.External:
			a.Name = "ext-" + string(buf)
			a.Role = pickRole()
			a.Company = int64(firstCompany + g.intn(numCompanies))
			a.Attributes = map[string]string{"city": cities[g.intn(len(cities))]}
		case access.Resource:
			a.Name = "room-" + string(buf)
			a.Company = ownCompany
		default:
			a.Name = "svc-" + string(buf)
			a.Role = byLevel[0][0]
			a.Company = ownCompany
		}
		if np := g.intn(4); np > 0 && a.Type != access.Resource {
			a.Projects = make([]int64, 0, np)
			for range np {
				a.Projects = appendNew(a.Projects, int64(1+g.intn(numProjects)))
			}
		}
		if g.chance(0.02) {
			a.ValidFrom = epoch.AddDate(0, 0, -g.intn(365))
			a.ValidTo = epoch.AddDate(0, 0, 1+g.intn(365))
		}
		g.b.Associates = append(g.b.Associates, a)
	}
}
