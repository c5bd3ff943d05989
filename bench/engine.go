package main

import (
	"maps"
	"runtime"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/cputime"
)

// engine answers the two kinds of query in one engine's own terms. Each
// adapter translates the query (ids) into the engine's request inside the
// call, so the cost of building a request is part of the measured cost.
type engine interface {
	// Member reports whether the associate is an effective member of the
	// group.
	Member(q memberQuery) (bool, error)
	// Decide reports whether the subject may perform the action on the
	// record.
	Decide(q decisionQuery) (bool, error)
	// Close releases what the engine holds outside the heap, if anything.
	Close()
}

// contender is one engine formulation in the comparison.
type contender struct {
	// Name labels the row of the table; Formulation says how the policy is
	// expressed, for the notes under it.
	Name, Formulation string
	// Build builds the engine from the workload's organisation and the
	// workload's records (which only some engines keep).
	Build func(w *workload) (engine, error)
}

// floorName names the floor, which every run includes: the table reports
// each engine's time per query as a multiple of the floor's.
const floorName = "floor"

// contenders lists every formulation, the library first: it is the
// reference the others are checked against. The floor comes second.
func contenders() []contender {
	return []contender{
		{
			Name:        "access",
			Formulation: "access.Engine over store/memory: Engine.IsMember, Engine.Can",
			Build:       buildLibrary,
		},
		{
			Name:        "access-allowed",
			Formulation: "the same access.Engine: Engine.IsMember, Engine.Allowed (the yes/no path, no explanation)",
			Build:       buildLibraryAllowed,
		},
		{
			Name: floorName,
			Formulation: "the floor: no engine, the barest correct code; per associate its effective groups as a sorted " +
				"[]int32 (bisection), role and primary group; per record its owner's role; per role its cells and the roles " +
				"below it, all computed in advance",
			Build: buildFloor,
		},
		{
			Name: "casbin-g2",
			Formulation: "Casbin: g() for membership (user, role, role-tree and group links); rights as g2(role, relation, action) " +
				"links; one matcher evaluated once per request, no p rules",
			Build: buildCasbinG2,
		},
		{
			Name: "casbin-p",
			Formulation: "Casbin: g() for membership; one p rule per role x relation x action; the matcher tests the rule's " +
				"relation and is evaluated per rule until one allows",
			Build: buildCasbinP,
		},
		{
			Name: "cedar-role",
			Formulation: "cedar-go: entities with parents for membership; one permit policy per role x relation " +
				"(when { principal.role == Role::\"r\" && <relation> })",
			Build: buildCedarPerRole,
		},
		{
			Name: "cedar-grouped",
			Formulation: "cedar-go: same entities; one permit policy per relation x rights set, naming its roles " +
				"(when { [Role::\"r1\", ...].contains(principal.role) && <relation> })",
			Build: buildCedarGrouped,
		},
	}
}

// heapAlloc returns the bytes of live heap after a full collection.
func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// built is an engine with what it cost to build it.
type built struct {
	engine
	Load time.Duration
	// LoadCPU is the process CPU time the build used, garbage collection
	// included.
	LoadCPU time.Duration
	// Heap is the live heap the engine added: a difference of heapAlloc
	// before and after building it, with the workload already in memory.
	Heap int64
}

// build builds c's engine and measures its build time and heap.
func build(c contender, w *workload) (*built, error) {
	before := heapAlloc()
	start, cpu := time.Now(), cputime.Process()
	e, err := c.Build(w)
	if err != nil {
		return nil, err
	}
	load, loadCPU := time.Since(start), cputime.Process()-cpu
	after := heapAlloc()
	return &built{engine: e, Load: load, LoadCPU: loadCPU, Heap: int64(after) - int64(before)}, nil
}

// relations are the ownership relations the shared policy covers. The
// others cannot hold in this workload: records have no category
// (CategoryMember), subjects are internal (MyCompany, SameProject), and
// every record has an owner (Unowned).
var relations = []access.Relation{
	access.Owner, access.Team, access.PrimaryGroup, access.OtherGroup, access.Subordinate, access.Other,
}

// gridFor returns the role's rights on entityType records: the type's own
// row, or else the "*" row, with the Team cell as the library applies it:
// unless the role sets LimitTeams, a team member is an owner, so the Team
// relation gives the Owner cell too.
func gridFor(r *access.Role) access.Grid {
	g, ok := r.Rights[entityType]
	if !ok {
		g = r.Rights[access.Wildcard]
	}
	if !r.LimitTeams && g[access.Owner]&^g[access.Team] != 0 {
		g = maps.Clone(g) // the organisation's own grid stays as it is
		g[access.Team] |= g[access.Owner]
	}
	return g
}

// actions lists the actions a set of rights allows, in action order.
func actions(c access.CRUD) []access.Action {
	var out []access.Action
	for a := access.Read; a <= access.Delete; a++ {
		if c.Allows(a) {
			out = append(out, a)
		}
	}
	return out
}
