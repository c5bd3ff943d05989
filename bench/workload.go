package main

import (
	"fmt"
	"math/rand/v2"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/orggen"
)

// entityType is the one entity type every query is about. The generated
// roles give rights through their "*" row, which applies to it.
const entityType = "contact"

// config sizes the workload.
type config struct {
	Associates int    // associates in the organisation
	Groups     int    // usergroups in the organisation
	GroupDepth int    // levels of group nesting (orggen's default when 0)
	Records    int    // records queries are drawn from
	Members    int    // membership queries to check and time
	Decisions  int    // decision queries to check and time
	Seed       uint64 // seed of the organisation, the records and the queries
	Count      int    // times each timing runs
}

// memberQuery asks whether an associate is an effective member of a group.
type memberQuery struct {
	Who   access.AssociateID
	Group access.GroupID
}

// decisionQuery asks whether an associate may act on a record.
type decisionQuery struct {
	Who    access.AssociateID
	Action access.Action
	Record int32 // index into workload.Records
}

// workload is the input every engine is built from and queried with.
type workload struct {
	Config config
	// Org is the orggen organisation reduced to the features every engine
	// can express (see commonSubset). Its ids are dense: roles, groups and
	// associates are numbered from 1 in slice order.
	Org access.Batch
	// StrippedSmart is the number of smart groups turned into plain ones.
	StrippedSmart int
	Records       []access.Record
	Members       []memberQuery
	Decisions     []decisionQuery
}

// newWorkload generates the organisation, the records and the queries. The
// same config always yields the same workload.
func newWorkload(cfg config) (*workload, error) {
	org := orggen.Generate(orggen.Config{Seed: cfg.Seed, Associates: cfg.Associates, Groups: cfg.Groups, GroupDepth: cfg.GroupDepth})
	w := &workload{Config: cfg, Org: org}
	if err := w.checkDense(); err != nil {
		return nil, err
	}
	w.StrippedSmart = commonSubset(&w.Org)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	w.records(rng)
	w.memberQueries(rng)
	w.decisionQueries(rng)
	return w, nil
}

// checkDense verifies the id layout the adapters index by.
func (w *workload) checkDense() error {
	for i, r := range w.Org.Roles {
		if int(r.ID) != i+1 {
			return fmt.Errorf("orggen: role %d at index %d: ids are not dense", r.ID, i)
		}
	}
	for i, g := range w.Org.Groups {
		if int(g.ID) != i+1 {
			return fmt.Errorf("orggen: group %d at index %d: ids are not dense", g.ID, i)
		}
	}
	for i, a := range w.Org.Associates {
		if int(a.ID) != i+1 {
			return fmt.Errorf("orggen: associate %d at index %d: ids are not dense", a.ID, i)
		}
	}
	return nil
}

// commonSubset removes from the organisation what Casbin's g() and Cedar's
// entity hierarchy cannot express without application code: smart groups,
// whose members come from a rule over associate attributes. Each becomes a
// plain group with no rule, so associates that link to it become members
// (in the library, as in the other engines). It returns how many groups it
// changed.
//
// Everything else stays: nested groups (a DAG, up to eight levels), groups
// that list roles, groups that list roles with their subordinates (the role
// tree), associates of every type. The queries, not the organisation, keep
// decisions inside the common subset: see decisionQueries.
func commonSubset(org *access.Batch) int {
	n := 0
	for i := range org.Groups {
		if org.Groups[i].Smart != "" {
			org.Groups[i].Smart = ""
			n++
		}
	}
	return n
}

// associate returns the associate with the given id.
func (w *workload) associate(id access.AssociateID) *access.Associate {
	return &w.Org.Associates[id-1]
}

// eligible reports whether decisions about the associate stay inside the
// common policy: an active internal associate with no validity window. The
// library's gates (inactive, expired, resources, anonymous and external
// users) and its system-user bypass are not part of the policy the three
// engines share.
func eligible(a *access.Associate) bool {
	return a.Type == access.Internal && a.Active && a.ValidFrom.IsZero() && a.ValidTo.IsZero()
}

// parents returns, per group id, the groups that list it in Groups.
func (w *workload) parents() [][]access.GroupID {
	parents := make([][]access.GroupID, len(w.Org.Groups)+1)
	for _, g := range w.Org.Groups {
		for _, c := range g.Groups {
			parents[c] = append(parents[c], g.ID)
		}
	}
	return parents
}

// walkUp returns the group reached from g by up to steps random steps up
// the nesting (fewer where the top is nearer).
func walkUp(rng *rand.Rand, parents [][]access.GroupID, g access.GroupID, steps int) access.GroupID {
	for ; steps > 0 && len(parents[g]) > 0; steps-- {
		g = parents[g][rng.IntN(len(parents[g]))]
	}
	return g
}

// records makes Config.Records records of entityType. Owners are mostly
// internal associates. The group is usually the owner's primary group at
// the time of assignment; some records are stamped with a group higher up
// the owner's hierarchy (a department's record), and some with an
// unrelated group (the record was moved, or its owner changed groups
// since). Some records also belong to a team: a group above the owner's, or
// any group.
func (w *workload) records(rng *rand.Rand) {
	var internal []access.AssociateID
	for i := range w.Org.Associates {
		if a := &w.Org.Associates[i]; a.Type == access.Internal {
			internal = append(internal, a.ID)
		}
	}
	parents := w.parents()
	nAssoc, nGroup := len(w.Org.Associates), len(w.Org.Groups)
	randomGroup := func() access.GroupID { return access.GroupID(1 + rng.IntN(nGroup)) }
	w.Records = make([]access.Record, w.Config.Records)
	for i := range w.Records {
		rec := access.Record{Type: entityType, ID: int64(i + 1)}
		if rng.Float64() < 0.95 && len(internal) > 0 {
			rec.Owner = internal[rng.IntN(len(internal))]
		} else {
			rec.Owner = access.AssociateID(1 + rng.IntN(nAssoc))
		}
		home := w.associate(rec.Owner).PrimaryGroup // 0 for non-internal owners
		switch x := rng.Float64(); {
		case x < 0.75:
			rec.Group = home
		case x < 0.9:
			if home != 0 {
				rec.Group = walkUp(rng, parents, home, 1+rng.IntN(4))
			}
		default:
			rec.Group = randomGroup()
		}
		switch x := rng.Float64(); {
		case x < 0.1 && home != 0:
			rec.Team = walkUp(rng, parents, home, rng.IntN(5))
		case x < 0.2:
			rec.Team = randomGroup()
		}
		w.Records[i] = rec
	}
}

// memberQueries draws (associate, group) pairs: any associate (members and
// non-members of every type), and half the time a group reached by walking
// up the nesting from one of the associate's direct groups, so that about
// half of the answers are yes.
func (w *workload) memberQueries(rng *rand.Rand) {
	parents := w.parents()
	nAssoc, nGroup := len(w.Org.Associates), len(w.Org.Groups)
	w.Members = make([]memberQuery, w.Config.Members)
	for i := range w.Members {
		a := w.associate(access.AssociateID(1 + rng.IntN(nAssoc)))
		q := memberQuery{Who: a.ID, Group: access.GroupID(1 + rng.IntN(nGroup))}
		if rng.IntN(2) == 0 && a.PrimaryGroup != 0 {
			g := a.PrimaryGroup
			if len(a.Groups) > 0 && rng.IntN(2) == 0 {
				g = a.Groups[rng.IntN(len(a.Groups))]
			}
			q.Group = walkUp(rng, parents, g, rng.IntN(8))
		}
		w.Members[i] = q
	}
}

// decisionQueries draws (subject, action, record) triples. The record is
// uniform; the subject is its owner, a colleague in the record's group or
// anyone, so that every ownership relation holds often enough to matter.
// Subjects are always eligible.
func (w *workload) decisionQueries(rng *rand.Rand) {
	var anyone []access.AssociateID
	byPrimary := map[access.GroupID][]access.AssociateID{}
	for i := range w.Org.Associates {
		if a := &w.Org.Associates[i]; eligible(a) {
			anyone = append(anyone, a.ID)
			byPrimary[a.PrimaryGroup] = append(byPrimary[a.PrimaryGroup], a.ID)
		}
	}
	w.Decisions = make([]decisionQuery, w.Config.Decisions)
	if len(anyone) == 0 {
		w.Decisions = nil
		return
	}
	for i := range w.Decisions {
		ri := rng.IntN(len(w.Records))
		rec := &w.Records[ri]
		who := anyone[rng.IntN(len(anyone))]
		switch x := rng.Float64(); {
		case x < 0.15:
			if eligible(w.associate(rec.Owner)) {
				who = rec.Owner
			}
		case x < 0.5:
			if peers := byPrimary[rec.Group]; len(peers) > 0 {
				who = peers[rng.IntN(len(peers))]
			}
		}
		w.Decisions[i] = decisionQuery{Who: who, Action: access.Action(1 + rng.IntN(4)), Record: int32(ri)}
	}
}

// names holds, per dense id, the strings the Casbin and Cedar adapters name
// entities by, so that queries do not pay for formatting them.
type names struct {
	user, group, role, tree []string
}

func newNames(org *access.Batch) *names {
	n := &names{
		user:  make([]string, len(org.Associates)+1),
		group: make([]string, len(org.Groups)+1),
		role:  make([]string, len(org.Roles)+1),
		tree:  make([]string, len(org.Roles)+1),
	}
	for i := 1; i < len(n.user); i++ {
		n.user[i] = fmt.Sprintf("u%d", i)
	}
	for i := 1; i < len(n.group); i++ {
		n.group[i] = fmt.Sprintf("g%d", i)
	}
	for i := 1; i < len(n.role); i++ {
		n.role[i] = fmt.Sprintf("r%d", i)
		n.tree[i] = fmt.Sprintf("t%d", i)
	}
	return n
}
