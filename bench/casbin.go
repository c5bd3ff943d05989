package main

import (
	"fmt"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/crmaccess/access"
)

// Casbin has no attributes on subjects, so the application passes what it
// knows about the subject and the record as request values: the subject's
// role, role-tree node and primary group, and the record's owner, group,
// team and the owner's role. Membership itself is left to g(): Casbin walks
// the links (user→group, user→role, role→role-tree, role-tree→parent,
// role→group, role-tree→group, group→including group).
//
// Names: u<id> users, g<id> groups, r<id> roles (holders of exactly that
// role), t<id> role-tree nodes (holders of that role or one below it). An
// empty string stands for "none".
const casbinRequest = "r = sub, role, tree, prim, owner, grp, team, orole, act"

// casbinRelation is each relation's test as a matcher expression over the
// request values. Other holds when none of the specific ones do.
var casbinRelation = map[access.Relation]string{
	access.Owner:        `r.owner != "" && r.owner == r.sub`,
	access.Team:         `r.team != "" && g(r.sub, r.team)`,
	access.PrimaryGroup: `r.grp != "" && r.grp == r.prim`,
	access.OtherGroup:   `r.grp != "" && r.grp != r.prim && g(r.sub, r.grp)`,
	access.Subordinate:  `r.owner != r.sub && r.orole != "" && r.orole != r.role && g(r.orole, r.tree)`,
}

func init() {
	other := `(r.owner != "" || r.team != "")`
	for _, rel := range relations {
		if rel != access.Other {
			other += " && !(" + casbinRelation[rel] + ")"
		}
	}
	casbinRelation[access.Other] = other
}

// casbinName names relations and actions in rules.
func casbinName(v fmt.Stringer) string { return strings.ReplaceAll(v.String(), " ", "-") }

var casbinActions = [...]string{
	access.Read:   "read",
	access.Create: "create",
	access.Update: "update",
	access.Delete: "delete",
}

// casbinEngine is one Casbin enforcer and the tables the application uses
// to fill in requests.
type casbinEngine struct {
	e       *casbin.Enforcer
	n       *names
	org     *access.Batch
	records []access.Record
}

// casbinLinks returns the g rules that give Casbin the organisation's
// membership graph, without duplicates. Only internal associates get links:
// in the library, other associate types are members of no group.
func casbinLinks(org *access.Batch, n *names) [][]string {
	seen := map[[2]string]bool{}
	var rules [][]string
	link := func(from, to string) {
		if k := [2]string{from, to}; !seen[k] {
			seen[k] = true
			rules = append(rules, []string{from, to})
		}
	}
	for _, r := range org.Roles {
		link(n.role[r.ID], n.tree[r.ID])
		if r.Parent != 0 {
			link(n.tree[r.ID], n.tree[r.Parent])
		}
	}
	for _, g := range org.Groups {
		for _, c := range g.Groups {
			link(n.group[c], n.group[g.ID])
		}
		for _, r := range g.Roles {
			link(n.role[r], n.group[g.ID])
		}
		for _, r := range g.RolesAndSubordinates {
			link(n.tree[r], n.group[g.ID])
		}
	}
	for _, a := range org.Associates {
		if a.Type != access.Internal {
			continue
		}
		if a.PrimaryGroup != 0 {
			link(n.user[a.ID], n.group[a.PrimaryGroup])
		}
		for _, g := range a.Groups {
			link(n.user[a.ID], n.group[g])
		}
		if a.Role != 0 {
			link(n.user[a.ID], n.role[a.Role])
		}
	}
	return rules
}

// newCasbin builds an enforcer from a model and its rules, all in memory
// (no adapter, no file).
func newCasbin(w *workload, modelText string, rules map[string][][]string) (*casbinEngine, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("casbin model: %w", err)
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, err
	}
	for ptype, rs := range rules {
		if len(rs) == 0 {
			continue
		}
		var ok bool
		if ptype[0] == 'g' {
			ok, err = e.AddNamedGroupingPolicies(ptype, rs)
		} else {
			ok, err = e.AddNamedPolicies(ptype, rs)
		}
		if err != nil || !ok {
			return nil, fmt.Errorf("casbin: adding %d %s rules: ok=%v err=%v", len(rs), ptype, ok, err)
		}
	}
	return &casbinEngine{e: e, org: &w.Org, records: w.Records}, nil
}

// buildCasbinG2 expresses the role grids as g2 links from a role to a
// relation in the domain of an action: g2(r5, owner, delete) means role 5
// may delete the records it owns. The matcher has no p.* term, so Casbin
// evaluates it once per request instead of once per rule.
func buildCasbinG2(w *workload) (engine, error) {
	n := newNames(&w.Org)
	var terms []string
	for _, rel := range relations {
		// The rights check is cheap (one link), so it goes before the
		// relation, whose g() may walk the group graph.
		terms = append(terms, fmt.Sprintf(`(g2(r.role, "%s", r.act) && %s)`, casbinName(rel), casbinRelation[rel]))
	}
	text := strings.Join([]string{
		"[request_definition]", casbinRequest,
		"[policy_definition]", "p = sub, obj, act",
		"[role_definition]", "g = _, _", "g2 = _, _, _",
		"[policy_effect]", "e = some(where (p.eft == allow))",
		"[matchers]", "m = " + strings.Join(terms, " || "),
	}, "\n")
	var rights [][]string
	for _, r := range w.Org.Roles {
		grid := gridFor(&r)
		for _, rel := range relations {
			for _, act := range actions(grid[rel]) {
				rights = append(rights, []string{n.role[r.ID], casbinName(rel), casbinActions[act]})
			}
		}
	}
	c, err := newCasbin(w, text, map[string][][]string{"g": casbinLinks(&w.Org, n), "g2": rights})
	if c != nil {
		c.n = n
	}
	return c, err
}

// buildCasbinP is the textbook formulation: one p rule per role, relation
// and action, and a matcher that picks the rule's relation test. Casbin
// evaluates the matcher for every rule until one allows, so a deny costs an
// evaluation per rule.
func buildCasbinP(w *workload) (engine, error) {
	n := newNames(&w.Org)
	var terms []string
	for _, rel := range relations {
		terms = append(terms, fmt.Sprintf(`(p.rel == "%s" && %s)`, casbinName(rel), casbinRelation[rel]))
	}
	text := strings.Join([]string{
		"[request_definition]", casbinRequest,
		"[policy_definition]", "p = role, rel, act",
		"[role_definition]", "g = _, _",
		"[policy_effect]", "e = some(where (p.eft == allow))",
		"[matchers]", "m = r.role == p.role && r.act == p.act && (" + strings.Join(terms, " || ") + ")",
	}, "\n")
	var rules [][]string
	for _, r := range w.Org.Roles {
		grid := gridFor(&r)
		for _, rel := range relations {
			for _, act := range actions(grid[rel]) {
				rules = append(rules, []string{n.role[r.ID], casbinName(rel), casbinActions[act]})
			}
		}
	}
	c, err := newCasbin(w, text, map[string][][]string{"g": casbinLinks(&w.Org, n), "p": rules})
	if c != nil {
		c.n = n
	}
	return c, err
}

// Member asks the role manager behind g() directly, the cheapest way to
// ask Casbin about one link.
func (c *casbinEngine) Member(q memberQuery) (bool, error) {
	return c.e.GetRoleManager().HasLink(c.n.user[q.Who], c.n.group[q.Group])
}

func (c *casbinEngine) Decide(q decisionQuery) (bool, error) {
	a := &c.org.Associates[q.Who-1]
	rec := &c.records[q.Record]
	var orole string
	if rec.Owner != 0 {
		orole = c.n.role[c.org.Associates[rec.Owner-1].Role]
	}
	return c.e.Enforce(
		c.n.user[q.Who], c.n.role[a.Role], c.n.tree[a.Role], c.n.group[a.PrimaryGroup],
		c.n.user[rec.Owner], c.n.group[rec.Group], c.n.group[rec.Team], orole,
		casbinActions[q.Action],
	)
}

func (c *casbinEngine) Close() {}
