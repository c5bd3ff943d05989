package main

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/cedar-policy/cedar-go"
	"github.com/cedar-policy/cedar-go/types"

	"github.com/crmaccess/access"
)

// The Cedar schema, informally:
//
//	entity User in [Group, Role] { role?: Role, tree?: RoleTree, primaryGroup?: Group };
//	entity Role in [RoleTree, Group];    // holders of exactly this role
//	entity RoleTree in [RoleTree, Group]; // holders of this role or one below
//	entity Group in [Group];
//	entity Record { owner?: User, group?: Group, team?: Group };
//	action read, create, update, delete, member;
//
// Only internal associates have parents (in the library, other types are
// members of no group); every associate with a role has the role attribute,
// which the Subordinate relation reads through resource.owner.
const (
	cedarUser     = types.EntityType("User")
	cedarGroup    = types.EntityType("Group")
	cedarRole     = types.EntityType("Role")
	cedarRoleTree = types.EntityType("RoleTree")
	cedarRecord   = types.EntityType("Record")
	cedarAction   = types.EntityType("Action")
)

var cedarActions = [...]types.EntityUID{
	access.Read:   types.NewEntityUID(cedarAction, "read"),
	access.Create: types.NewEntityUID(cedarAction, "create"),
	access.Update: types.NewEntityUID(cedarAction, "update"),
	access.Delete: types.NewEntityUID(cedarAction, "delete"),
}

var cedarMember = types.NewEntityUID(cedarAction, "member")

// cedarRelation is each relation's test as a Cedar condition. Other holds
// when none of the specific ones do.
var cedarRelation = map[access.Relation]string{
	access.Owner: `resource has owner && resource.owner == principal`,
	access.Team:  `resource has team && principal in resource.team`,
	access.PrimaryGroup: `resource has group && principal has primaryGroup && ` +
		`resource.group == principal.primaryGroup`,
	access.OtherGroup: `resource has group && ` +
		`!(principal has primaryGroup && resource.group == principal.primaryGroup) && principal in resource.group`,
	access.Subordinate: `resource has owner && resource.owner != principal && resource.owner has role && ` +
		`principal has role && resource.owner.role != principal.role && resource.owner.role in principal.tree`,
}

func init() {
	other := `(resource has owner || resource has team)`
	for _, rel := range relations {
		if rel != access.Other {
			other += " && !(" + cedarRelation[rel] + ")"
		}
	}
	cedarRelation[access.Other] = other
}

// cedarEngine holds the entities, the policies and per-id UIDs.
type cedarEngine struct {
	entities types.EntityMap
	decide   *cedar.PolicySet
	member   *cedar.PolicySet
	users    []types.EntityUID
	groups   []types.EntityUID
	records  []access.Record
}

// newCedar builds the entities and parses the decision policies.
func newCedar(w *workload, policies string) (*cedarEngine, error) {
	n := newNames(&w.Org)
	c := &cedarEngine{
		entities: make(types.EntityMap, len(w.Org.Associates)+len(w.Org.Groups)+2*len(w.Org.Roles)),
		users:    make([]types.EntityUID, len(n.user)),
		groups:   make([]types.EntityUID, len(n.group)),
		records:  w.Records,
	}
	roles := make([]types.EntityUID, len(n.role))
	trees := make([]types.EntityUID, len(n.tree))
	for i := 1; i < len(n.user); i++ {
		c.users[i] = types.NewEntityUID(cedarUser, types.String(n.user[i]))
	}
	for i := 1; i < len(n.group); i++ {
		c.groups[i] = types.NewEntityUID(cedarGroup, types.String(n.group[i]))
	}
	for i := 1; i < len(n.role); i++ {
		roles[i] = types.NewEntityUID(cedarRole, types.String(n.role[i]))
		trees[i] = types.NewEntityUID(cedarRoleTree, types.String(n.tree[i]))
	}

	// Parents, collected from the side that names them.
	groupParents := make([][]types.EntityUID, len(n.group))
	roleParents := make([][]types.EntityUID, len(n.role))
	treeParents := make([][]types.EntityUID, len(n.tree))
	for _, r := range w.Org.Roles {
		roleParents[r.ID] = append(roleParents[r.ID], trees[r.ID])
		if r.Parent != 0 {
			treeParents[r.ID] = append(treeParents[r.ID], trees[r.Parent])
		}
	}
	for _, g := range w.Org.Groups {
		for _, child := range g.Groups {
			groupParents[child] = append(groupParents[child], c.groups[g.ID])
		}
		for _, r := range g.Roles {
			roleParents[r] = append(roleParents[r], c.groups[g.ID])
		}
		for _, r := range g.RolesAndSubordinates {
			treeParents[r] = append(treeParents[r], c.groups[g.ID])
		}
	}
	for i := 1; i < len(n.group); i++ {
		c.entities[c.groups[i]] = types.Entity{UID: c.groups[i], Parents: types.NewEntityUIDSet(groupParents[i]...)}
	}
	for i := 1; i < len(n.role); i++ {
		c.entities[roles[i]] = types.Entity{UID: roles[i], Parents: types.NewEntityUIDSet(roleParents[i]...)}
		c.entities[trees[i]] = types.Entity{UID: trees[i], Parents: types.NewEntityUIDSet(treeParents[i]...)}
	}
	for _, a := range w.Org.Associates {
		uid := c.users[a.ID]
		attrs := types.RecordMap{}
		var parents []types.EntityUID
		if a.Role != 0 {
			attrs["role"] = roles[a.Role]
		}
		if a.Type == access.Internal {
			if a.Role != 0 {
				attrs["tree"] = trees[a.Role]
				parents = append(parents, roles[a.Role])
			}
			if a.PrimaryGroup != 0 {
				attrs["primaryGroup"] = c.groups[a.PrimaryGroup]
				parents = append(parents, c.groups[a.PrimaryGroup])
			}
			for _, g := range a.Groups {
				parents = append(parents, c.groups[g])
			}
		}
		c.entities[uid] = types.Entity{UID: uid, Parents: types.NewEntityUIDSet(parents...), Attributes: types.NewRecord(attrs)}
	}

	var err error
	if c.decide, err = cedar.NewPolicySetFromBytes("decide.cedar", []byte(policies)); err != nil {
		return nil, fmt.Errorf("cedar decision policies: %w", err)
	}
	const member = `permit (principal, action == Action::"member", resource) when { principal in resource };`
	if c.member, err = cedar.NewPolicySetFromBytes("member.cedar", []byte(member)); err != nil {
		return nil, fmt.Errorf("cedar membership policy: %w", err)
	}
	return c, nil
}

// cedarActionList renders the actions a set of rights allows as a Cedar
// list of action UIDs.
func cedarActionList(c access.CRUD) string {
	var as []string
	for _, a := range actions(c) {
		as = append(as, `Action::"`+string(cedarActions[a].ID)+`"`)
	}
	return "[" + strings.Join(as, ", ") + "]"
}

// buildCedarPerRole writes one permit policy per role and relation whose
// cell grants something: the direct translation of a role grid.
func buildCedarPerRole(w *workload) (engine, error) {
	var b strings.Builder
	for _, r := range w.Org.Roles {
		grid := gridFor(&r)
		for _, rel := range relations {
			if c := grid[rel]; c != 0 {
				fmt.Fprintf(&b, "permit (principal, action in %s, resource is Record)\nwhen { principal has role && principal.role == Role::\"r%d\" && (%s) };\n",
					cedarActionList(c), r.ID, cedarRelation[rel])
			}
		}
	}
	return newCedar(w, b.String())
}

// buildCedarGrouped writes one permit policy per relation and distinct set
// of rights, listing the roles whose cell holds that set: the same policy
// in far fewer policies, since Cedar evaluates every policy on every
// request.
func buildCedarGrouped(w *workload) (engine, error) {
	var b strings.Builder
	for _, rel := range relations {
		byRights := map[access.CRUD][]string{}
		for _, r := range w.Org.Roles {
			if c := gridFor(&r)[rel]; c != 0 {
				byRights[c] = append(byRights[c], fmt.Sprintf(`Role::"r%d"`, r.ID))
			}
		}
		for _, c := range slices.Sorted(maps.Keys(byRights)) {
			fmt.Fprintf(&b, "permit (principal, action in %s, resource is Record)\nwhen { principal has role && [%s].contains(principal.role) && (%s) };\n",
				cedarActionList(c), strings.Join(byRights[c], ", "), cedarRelation[rel])
		}
	}
	return newCedar(w, b.String())
}

// withRecord adds the one record a request is about to the entities, as an
// application would from the row it is about to show.
type withRecord struct {
	entities types.EntityMap
	record   types.Entity
}

func (x *withRecord) Get(uid types.EntityUID) (types.Entity, bool) {
	if uid == x.record.UID {
		return x.record, true
	}
	return x.entities.Get(uid)
}

func (c *cedarEngine) Member(q memberQuery) (bool, error) {
	d, diag := c.member.IsAuthorized(c.entities, cedar.Request{
		Principal: c.users[q.Who], Action: cedarMember, Resource: c.groups[q.Group],
	})
	return bool(d), cedarErr(diag)
}

func (c *cedarEngine) Decide(q decisionQuery) (bool, error) {
	rec := &c.records[q.Record]
	attrs := make(types.RecordMap, 3)
	if rec.Owner != 0 {
		attrs["owner"] = c.users[rec.Owner]
	}
	if rec.Group != 0 {
		attrs["group"] = c.groups[rec.Group]
	}
	if rec.Team != 0 {
		attrs["team"] = c.groups[rec.Team]
	}
	uid := types.NewEntityUID(cedarRecord, types.String(strconv.FormatInt(rec.ID, 10)))
	es := &withRecord{entities: c.entities, record: types.Entity{UID: uid, Attributes: types.NewRecord(attrs)}}
	d, diag := c.decide.IsAuthorized(es, cedar.Request{
		Principal: c.users[q.Who], Action: cedarActions[q.Action], Resource: uid,
	})
	return bool(d), cedarErr(diag)
}

// cedarErr turns evaluation errors, which Cedar reports beside a decision
// rather than instead of one, into an error: in this workload any of them
// is a bug in the translation.
func cedarErr(d cedar.Diagnostic) error {
	if len(d.Errors) == 0 {
		return nil
	}
	return fmt.Errorf("cedar: %d evaluation errors, first: %s", len(d.Errors), d.Errors[0])
}

func (c *cedarEngine) Close() {}
