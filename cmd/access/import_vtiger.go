package main

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/crmaccess/access"
)

// vtiger keeps its security model in these tables (vtiger CRM 5–8, MySQL
// or MariaDB). The importer reads them into vtigerData and maps that to a
// batch in (*vtigerData).batch, which knows nothing of SQL so that tests
// can feed it generated fixtures.
//
//	vtiger_users                   id, user_name, status ('Active'/'Inactive'), is_admin ('on'/'off'), deleted
//	vtiger_role                    roleid ('H1'…), rolename, parentrole ('H1::H2::H5'), depth
//	vtiger_user2role               userid, roleid
//	vtiger_groups                  groupid, groupname, description
//	vtiger_users2group             groupid, userid
//	vtiger_group2grouprel          groupid, containsgroupid
//	vtiger_group2role              groupid, roleid
//	vtiger_group2rs                groupid, roleandsubid
//	vtiger_role2profile            roleid, profileid
//	vtiger_profile2tab             profileid, tabid, permissions (0 = allowed)
//	vtiger_profile2standardpermissions profileid, tabid, operation, permissions (0 = allowed)
//	vtiger_profile2globalpermissions   profileid, globalactionid (1 view all, 2 edit all), globalactionpermission (0 = allowed)
//	vtiger_def_org_share           tabid, permission (0 read-only, 1 read-write, 2 read-write-delete, 3 private)
//	vtiger_tab                     tabid, name
//
// The tables from vtiger_role2profile on are optional: without them roles
// have no rights, and the summary says so. The rows of the tables in
// vtigerUnread are counted and reported as not imported.

// vtiger's standard operations (vtiger_actionmapping): 0 Save, 1 EditView,
// 2 Delete, 3 index (list), 4 DetailView, 7 CreateView (vtiger 7 and
// later; before that EditView covers creating too).
const (
	vtOpSave       = 0
	vtOpEditView   = 1
	vtOpDelete     = 2
	vtOpIndex      = 3
	vtOpDetailView = 4
	vtOpCreateView = 7
)

// vtiger's global actions (vtiger_profile2globalpermissions).
const (
	vtGlobalViewAll = 1
	vtGlobalEditAll = 2
)

// vtigerAdminGroup names the group the importer creates for vtiger's
// administrators (is_admin = 'on'); it grants the functional right
// "admin".
const vtigerAdminGroup = "vtiger administrators"

// vtigerNoGroup names the group the importer makes the primary group of
// users who are in no vtiger group: the library requires a primary group
// of every internal associate, vtiger has no such notion.
const vtigerNoGroup = "vtiger users without a group"

// vtigerSharingGroup names the group the importer limits by vtiger's
// organisation-wide sharing when some roles have view all or edit all
// (vtiger lets those past it): the holders of every other role.
const vtigerSharingGroup = "vtiger organisation-wide sharing"

// vtigerUnread are vtiger tables with security settings the importer
// does not map (yet); their rows are counted for the summary.
var vtigerUnread = []string{
	"vtiger_datashare_module_rel", // custom sharing rules
	"vtiger_profile2field",        // field-level access
	"vtiger_profile2utility",      // import, export, merge… per module
	"vtiger_org_share_action2tab",
}

type vtUser struct {
	ID      int64
	Name    string
	Status  string // Active or Inactive
	IsAdmin string // on or off
	Deleted int
}

type vtRole struct {
	ID         string // H1, H2…
	Name       string
	ParentRole string // H1::H2::H5, ending in ID
}

type vtGroup struct {
	ID          int64
	Name        string
	Description string
}

type vtLink struct { // a row of a two-column link table
	A, B string
}

type vtPerm struct {
	Profile, Tab, Op int64
	Permission       int64 // 0 allowed, anything else denied
}

// vtigerData is what the importer reads from a vtiger database.
type vtigerData struct {
	Users       []vtUser
	Roles       []vtRole
	UserRoles   []vtLink // userid, roleid
	Groups      []vtGroup
	UserGroups  []vtLink // groupid, userid
	GroupGroups []vtLink // groupid, containsgroupid
	GroupRoles  []vtLink // groupid, roleid
	GroupRS     []vtLink // groupid, roleandsubid
	RoleProfile []vtLink // roleid, profileid
	ProfileTabs []vtPerm // Op unused
	StdPerms    []vtPerm
	GlobalPerms []vtPerm         // Op is globalactionid: 1 view all, 2 edit all
	Unread      map[string]int64 // table → rows, for tables not imported
	OrgShare    map[int64]int64  // tabid → permission
	Tabs        map[int64]string // tabid → module name
	Missing     []string         // optional tables that are not there
}

// readVtiger reads the vtiger tables from db.
// progress, when not nil, is called before each step with the number of
// steps done and the number of steps, and once at the end.
func readVtiger(ctx context.Context, db *sql.DB, progress func(done, total int)) (*vtigerData, error) {
	d := &vtigerData{OrgShare: map[int64]int64{}, Tabs: map[int64]string{}, Unread: map[string]int64{}}
	has := func(table string) (bool, error) {
		var n int
		err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?`, table).Scan(&n)
		return n > 0, err
	}
	q := func(table, query string, scan func(*sql.Rows) error) error {
		ok, err := has(table)
		if err != nil {
			return fmt.Errorf("vtiger: %w", err)
		}
		if !ok {
			d.Missing = append(d.Missing, table)
			return nil
		}
		return readRows(ctx, db, "vtiger", table, query, scan)
	}
	links := func(table, a, b string, into *[]vtLink) error {
		return q(table, fmt.Sprintf("SELECT %s, %s FROM %s ORDER BY 1, 2", a, b, table), func(r *sql.Rows) error {
			var l vtLink
			err := r.Scan(&l.A, &l.B)
			*into = append(*into, l)
			return err
		})
	}
	steps := []func() error{
		func() error {
			return q("vtiger_users", `SELECT id, COALESCE(user_name, ''), COALESCE(status, ''), COALESCE(is_admin, 'off'), COALESCE(deleted, 0) FROM vtiger_users ORDER BY id`, func(r *sql.Rows) error {
				var u vtUser
				err := r.Scan(&u.ID, &u.Name, &u.Status, &u.IsAdmin, &u.Deleted)
				d.Users = append(d.Users, u)
				return err
			})
		},
		func() error {
			return q("vtiger_role", `SELECT roleid, COALESCE(rolename, ''), COALESCE(parentrole, '') FROM vtiger_role ORDER BY roleid`, func(r *sql.Rows) error {
				var x vtRole
				err := r.Scan(&x.ID, &x.Name, &x.ParentRole)
				d.Roles = append(d.Roles, x)
				return err
			})
		},
		func() error { return links("vtiger_user2role", "userid", "roleid", &d.UserRoles) },
		func() error {
			return q("vtiger_groups", `SELECT groupid, COALESCE(groupname, ''), COALESCE(description, '') FROM vtiger_groups ORDER BY groupid`, func(r *sql.Rows) error {
				var g vtGroup
				err := r.Scan(&g.ID, &g.Name, &g.Description)
				d.Groups = append(d.Groups, g)
				return err
			})
		},
		func() error { return links("vtiger_users2group", "groupid", "userid", &d.UserGroups) },
		func() error { return links("vtiger_group2grouprel", "groupid", "containsgroupid", &d.GroupGroups) },
		func() error { return links("vtiger_group2role", "groupid", "roleid", &d.GroupRoles) },
		func() error { return links("vtiger_group2rs", "groupid", "roleandsubid", &d.GroupRS) },
		func() error { return links("vtiger_role2profile", "roleid", "profileid", &d.RoleProfile) },
		func() error {
			return q("vtiger_profile2tab", `SELECT profileid, tabid, permissions FROM vtiger_profile2tab WHERE profileid IS NOT NULL AND tabid IS NOT NULL`, func(r *sql.Rows) error {
				var p vtPerm
				err := r.Scan(&p.Profile, &p.Tab, &p.Permission)
				d.ProfileTabs = append(d.ProfileTabs, p)
				return err
			})
		},
		func() error {
			return q("vtiger_profile2standardpermissions", `SELECT profileid, tabid, operation, COALESCE(permissions, 1) FROM vtiger_profile2standardpermissions`, func(r *sql.Rows) error {
				var p vtPerm
				err := r.Scan(&p.Profile, &p.Tab, &p.Op, &p.Permission)
				d.StdPerms = append(d.StdPerms, p)
				return err
			})
		},
		func() error {
			return q("vtiger_profile2globalpermissions", `SELECT profileid, globalactionid, COALESCE(globalactionpermission, 1) FROM vtiger_profile2globalpermissions`, func(r *sql.Rows) error {
				var p vtPerm
				err := r.Scan(&p.Profile, &p.Op, &p.Permission)
				d.GlobalPerms = append(d.GlobalPerms, p)
				return err
			})
		},
		func() error {
			return q("vtiger_def_org_share", `SELECT tabid, permission FROM vtiger_def_org_share`, func(r *sql.Rows) error {
				var tab, perm int64
				err := r.Scan(&tab, &perm)
				d.OrgShare[tab] = perm
				return err
			})
		},
		func() error {
			return q("vtiger_tab", `SELECT tabid, name FROM vtiger_tab`, func(r *sql.Rows) error {
				var tab int64
				var name string
				err := r.Scan(&tab, &name)
				d.Tabs[tab] = name
				return err
			})
		},
	}
	for _, t := range vtigerUnread {
		steps = append(steps, func() error {
			ok, err := has(t)
			if err != nil || !ok {
				return err
			}
			var n int64
			err = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t).Scan(&n)
			if n > 0 {
				d.Unread[t] = n
			}
			return err
		})
	}
	for i, step := range steps {
		if progress != nil {
			progress(i, len(steps))
		}
		if err := step(); err != nil {
			return nil, err
		}
	}
	if progress != nil {
		progress(len(steps), len(steps))
	}
	for _, t := range d.Missing {
		switch t {
		case "vtiger_users", "vtiger_role", "vtiger_user2role", "vtiger_groups", "vtiger_users2group":
			return nil, fmt.Errorf("vtiger: table %s not found: is this a vtiger database?", t)
		}
	}
	return d, nil
}

// vtRoleNumber maps vtiger's role id "H12" to 12, or 0 when it has
// another form.
func vtRoleNumber(id string) int64 {
	n, err := strconv.ParseInt(strings.TrimPrefix(id, "H"), 10, 64)
	if !strings.HasPrefix(id, "H") || err != nil || n <= 0 {
		return 0
	}
	return n
}

// batch maps the vtiger model to the library's:
//   - roles keep vtiger's number (H5 becomes role 5; another id gets the
//     next free number) and their parent from the second-last step of
//     parentrole;
//   - groups keep their groupid; member groups, roles and roles with
//     subordinates come from group2grouprel, group2role and group2rs;
//   - users keep their id and become internal associates, active when
//     their status is Active, with their role from user2role; deleted
//     users are left out (vtiger keeps their rows but they cannot sign
//     in, and their records were transferred when they were deleted);
//   - vtiger has no primary group: a user's direct group with the lowest
//     id is the primary group, the others secondary groups; users in no
//     group get the group vtigerNoGroup. vtiger records carry no stamped
//     group, so the primary group grants nothing by itself (roles get no
//     primary group or other group cells);
//   - role rights: per module (vtiger_tab.name in lower case as entity
//     type) the union over the role's profiles, as vtiger combines them,
//     of tab visibility and standard operations (0 = allowed, vtiger's
//     inverted convention): DetailView is R, CreateView (EditView before
//     vtiger 7) is C, EditView is U, Delete is D, for the owner — and so
//     for a record's group (team) members, who vtiger makes owners — and
//     for subordinates, whose records vtiger shows their superiors;
//     view all and edit all (global permissions) add R and RU (CRU before
//     vtiger 7) to every cell, and to the other cell, of every module
//     the role sees;
//   - admins (is_admin = 'on') are secondary members of the group
//     vtigerAdminGroup, which grants the functional right "admin".
//
// Everything without an equivalent is listed in the returned notes.
func (d *vtigerData) batch() (access.Batch, []string) {
	var b access.Batch
	var notes []string
	note := func(format string, args ...any) { notes = append(notes, fmt.Sprintf(format, args...)) }

	// The tables' primary keys keep these unique; a copy of the data
	// might not have them. (d is the caller's: work on a copy.)
	c := *d
	d = &c
	d.Roles = uniqueRows(d.Roles, func(r vtRole) string { return r.ID }, "vtiger_role", note)
	d.Groups = uniqueRows(d.Groups, func(g vtGroup) int64 { return g.ID }, "vtiger_groups", note)
	d.Users = uniqueRows(d.Users, func(u vtUser) int64 { return u.ID }, "vtiger_users", note)

	// Roles.
	roleID := map[string]access.RoleID{}
	used := map[int64]bool{}
	for _, r := range d.Roles {
		if n := vtRoleNumber(r.ID); n > 0 && !used[n] {
			roleID[r.ID] = access.RoleID(n)
			used[n] = true
		}
	}
	next := int64(1)
	for _, r := range d.Roles {
		if _, ok := roleID[r.ID]; ok {
			continue
		}
		for used[next] {
			next++
		}
		roleID[r.ID], used[next] = access.RoleID(next), true
		note("role %s: id is not of the form H<number>; imported as role %d", r.ID, next)
	}
	rights, unlimited := d.roleRights(roleID, note)
	for _, r := range d.Roles {
		role := access.Role{ID: roleID[r.ID], Name: importName("role "+r.ID, r.Name, idText("role", roleID[r.ID]), note), Rights: rights[r.ID]}
		path := strings.Split(r.ParentRole, "::")
		if path[len(path)-1] != r.ID {
			note("role %s: parentrole %q does not end in the role itself; taken as its path of superiors", r.ID, r.ParentRole)
			path = append(path, r.ID)
		}
		if len(path) >= 2 {
			p := path[len(path)-2]
			if id, ok := roleID[p]; ok {
				role.Parent = id
			} else {
				note("role %s: parent role %s does not exist; imported as a top role", r.ID, p)
			}
		}
		b.Roles = append(b.Roles, role)
	}
	vtName := map[int64]string{}
	for id, n := range roleID {
		vtName[int64(n)] = id
	}
	parents := map[int64][]int64{}
	for _, r := range b.Roles {
		if r.Parent != 0 {
			parents[int64(r.ID)] = []int64{int64(r.Parent)}
		}
	}
	for _, e := range breakCycles(parents) {
		for i := range b.Roles {
			if int64(b.Roles[i].ID) == e[0] {
				b.Roles[i].Parent = 0
			}
		}
		note("role %s: its parentrole puts it below itself (through %s); imported as a top role", vtName[e[0]], vtName[e[1]])
	}

	// Groups.
	groupIDs := map[string]access.GroupID{}
	maxGroup := int64(0)
	for _, g := range d.Groups {
		if g.ID > 0 {
			groupIDs[strconv.FormatInt(g.ID, 10)] = access.GroupID(g.ID)
		}
		maxGroup = max(maxGroup, g.ID)
	}
	groups := map[access.GroupID]*access.Group{}
	for _, g := range d.Groups {
		if g.ID <= 0 {
			note("group %d: ids must be positive; not imported", g.ID)
			continue
		}
		name := importName(idText("group", g.ID), g.Name, idText("group", g.ID), note)
		groups[access.GroupID(g.ID)] = &access.Group{ID: access.GroupID(g.ID), Name: name, Description: g.Description}
	}
	edge := func(table string, l vtLink, add func(g *access.Group) bool) {
		g, ok := groups[groupIDs[l.A]]
		if !ok {
			note("%s: group %s does not exist; row (%s, %s) skipped", table, l.A, l.A, l.B)
			return
		}
		if !add(g) {
			note("%s: %s does not exist; row (%s, %s) skipped", table, l.B, l.A, l.B)
		}
	}
	for _, l := range d.GroupGroups {
		edge("vtiger_group2grouprel", l, func(g *access.Group) bool {
			id, ok := groupIDs[l.B]
			if ok {
				g.Groups = append(g.Groups, id)
			}
			return ok
		})
	}
	for _, l := range d.GroupRoles {
		edge("vtiger_group2role", l, func(g *access.Group) bool {
			id, ok := roleID[l.B]
			if ok {
				g.Roles = append(g.Roles, id)
			}
			return ok
		})
	}
	for _, l := range d.GroupRS {
		edge("vtiger_group2rs", l, func(g *access.Group) bool {
			id, ok := roleID[l.B]
			if ok {
				g.RolesAndSubordinates = append(g.RolesAndSubordinates, id)
			}
			return ok
		})
	}

	nested := map[int64][]int64{}
	for id, g := range groups {
		for _, m := range g.Groups {
			nested[int64(id)] = append(nested[int64(id)], int64(m))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(nested)) {
		nested[id] = slices.Compact(slices.Sorted(slices.Values(nested[id])))
	}
	for _, e := range breakCycles(nested) {
		note("vtiger_group2grouprel: group %d contains group %d, which contains it; that row skipped (nesting must not be circular)", e[0], e[1])
	}
	for id, g := range groups {
		g.Groups = nil
		for _, m := range nested[int64(id)] {
			g.Groups = append(g.Groups, access.GroupID(m))
		}
	}

	// Users.
	userRole := map[string]string{}
	for _, l := range d.UserRoles {
		if old, ok := userRole[l.A]; ok && old != l.B {
			note("vtiger_user2role: user %s has roles %s and %s; the library allows one, %s kept", l.A, old, l.B, old)
			continue
		}
		userRole[l.A] = l.B
	}
	direct := map[string][]access.GroupID{}
	for _, l := range d.UserGroups {
		id, ok := groupIDs[l.A]
		if !ok {
			note("vtiger_users2group: group %s does not exist; row (%s, %s) skipped", l.A, l.A, l.B)
			continue
		}
		direct[l.B] = append(direct[l.B], id)
	}
	var noGroup, adminGroup *access.Group
	newGroup := func(name string) *access.Group {
		maxGroup++
		g := &access.Group{ID: access.GroupID(maxGroup), Name: name}
		groups[g.ID] = g
		return g
	}
	known := map[string]bool{}
	names := logins{}
	for _, u := range d.Users {
		key := strconv.FormatInt(u.ID, 10)
		known[key] = true
		if u.Deleted != 0 {
			note("user %s (%d): deleted in vtiger; not imported", u.Name, u.ID)
			continue
		}
		r, ok := roleID[userRole[key]]
		if !ok {
			note("user %s (%d): has no role (or an unknown one: %q); not imported, every vtiger user needs one", u.Name, u.ID, userRole[key])
			continue
		}
		if u.ID <= 0 {
			note("user %s (%d): ids must be positive; not imported", u.Name, u.ID)
			continue
		}
		what := fmt.Sprintf("user %s (%d)", u.Name, u.ID)
		a := access.Associate{ID: access.AssociateID(u.ID), Name: importName(what, u.Name, idText("user", u.ID), note), Type: access.Internal, Role: r, Active: strings.EqualFold(u.Status, "Active")}
		if !names.take(what, a.Name, note) {
			continue
		}
		gs := slices.Compact(slices.Sorted(slices.Values(direct[key])))
		if len(gs) == 0 {
			if noGroup == nil {
				noGroup = newGroup(vtigerNoGroup)
				note("users in no vtiger group get the primary group %q (%d), which grants nothing", vtigerNoGroup, noGroup.ID)
			}
			gs = []access.GroupID{noGroup.ID}
		}
		a.PrimaryGroup, a.Groups = gs[0], gs[1:]
		if len(a.Groups) == 0 {
			a.Groups = nil
		}
		if strings.EqualFold(u.IsAdmin, "on") {
			if adminGroup == nil {
				adminGroup = newGroup(vtigerAdminGroup)
				adminGroup.Functions = []string{"admin"}
				note("administrators are secondary members of the group %q (%d), which grants the functional right admin; vtiger also lets them past every record rule, which no role here does", vtigerAdminGroup, adminGroup.ID)
			}
			a.Groups = append(a.Groups, adminGroup.ID)
		}
		b.Associates = append(b.Associates, a)
	}
	for _, l := range d.UserRoles {
		if !known[l.A] {
			note("vtiger_user2role: user %s does not exist; row skipped", l.A)
		}
	}
	for _, l := range d.UserGroups {
		if !known[l.B] {
			note("vtiger_users2group: user %s does not exist; row skipped", l.B)
		}
	}
	// Organisation-wide sharing: a limit per module that caps, on records
	// a user is not related to, what the role's cells give (roleRights
	// put the profile's rights in the other cell of every shared module).
	// vtiger's view all and edit all reach past it: the roles that hold
	// them are left out of the limit and have their other cell capped
	// already.
	var limited access.GroupID // 0: everyone
	if len(unlimited) > 0 && len(d.OrgShare) > 0 {
		g := newGroup(vtigerSharingGroup)
		g.Description = "vtiger users whose role has no view all or edit all: vtiger_def_org_share limits them"
		for _, r := range d.Roles {
			if id, ok := roleID[r.ID]; ok && !unlimited[r.ID] {
				g.Roles = append(g.Roles, id)
			}
		}
		limited = g.ID
		note("organisation-wide sharing limits the group %q (%d), the holders of every role without view all or edit all, which vtiger lets past it", vtigerSharingGroup, g.ID)
	}
	for _, tab := range slices.Sorted(maps.Keys(d.OrgShare)) {
		level, ok := vtOrgShareLevel(d.OrgShare[tab])
		if !ok {
			note("vtiger_def_org_share: tab %d has the unknown permission %d; not imported, so records of others are not shared", tab, d.OrgShare[tab])
			continue
		}
		b.Limits = append(b.Limits, access.Limit{
			ID: access.LimitID(len(b.Limits) + 1), Group: limited, EntityType: vtEntityType(d.Tabs, tab),
			Max: level, Scope: access.LimitUnrelated,
		})
	}
	for _, id := range slices.Sorted(maps.Keys(groups)) {
		b.Groups = append(b.Groups, *groups[id])
	}
	for _, t := range slices.Sorted(maps.Keys(d.Unread)) {
		why := "no mapping yet"
		if t == "vtiger_datashare_module_rel" {
			// The library's sharing rules add rights past a role's
			// cells; vtiger's stay within the profile's permissions, so
			// importing them as they are would grant more than vtiger.
			why = "custom sharing rules: no mapping yet"
		}
		note("%s: %d rows not imported (%s)", t, d.Unread[t], why)
	}
	for _, t := range d.Missing {
		note("table %s not found; nothing imported from it", t)
	}
	return b, notes
}

// vtOrgShareLevel returns the most a vtiger_def_org_share permission
// lets a user do with records of others: public read-only, public
// read-write, public read-write-delete, private.
func vtOrgShareLevel(p int64) (access.CRUD, bool) {
	switch p {
	case 0:
		return access.LevelRead, true
	case 1:
		return access.LevelUpdate, true
	case 2:
		return access.LevelFull, true
	case 3:
		return access.LevelNone, true
	}
	return 0, false
}

// vtEntityType is the entity type of a vtiger module: its name in lower
// case, or tab<id> when vtiger_tab lacks it.
func vtEntityType(tabs map[int64]string, tab int64) string {
	if name := tabs[tab]; name != "" {
		return strings.ToLower(name)
	}
	return fmt.Sprintf("tab%d", tab)
}

// roleRights returns each vtiger role's rights grids, from its profiles,
// and the roles whose profiles hold view all or edit all. The other cell
// of a module with organisation-wide sharing holds the profile's rights
// (the limit batch adds caps them on unrelated records) or, for a role
// with view all or edit all, which vtiger lets past the sharing, those
// rights capped here and the global ones.
func (d *vtigerData) roleRights(roleID map[string]access.RoleID, note func(string, ...any)) (map[string]map[string]access.Grid, map[string]bool) {
	profiles := map[string][]int64{}
	for _, l := range d.RoleProfile {
		if _, ok := roleID[l.A]; !ok {
			note("vtiger_role2profile: role %s does not exist; row skipped", l.A)
			continue
		}
		p, err := strconv.ParseInt(l.B, 10, 64)
		if err != nil {
			note("vtiger_role2profile: profile id %q is no number; row skipped", l.B)
			continue
		}
		profiles[l.A] = append(profiles[l.A], p)
	}
	type key struct{ profile, tab, op int64 }
	tabOK := map[[2]int64]bool{}
	for _, p := range d.ProfileTabs {
		if p.Permission == 0 {
			tabOK[[2]int64{p.Profile, p.Tab}] = true
		}
	}
	opOK := map[key]bool{}
	hasCreateView := false
	for _, p := range d.StdPerms {
		if p.Op == vtOpCreateView {
			hasCreateView = true
		}
		if p.Permission == 0 {
			opOK[key{p.Profile, p.Tab, p.Op}] = true
		}
	}
	tabs := map[int64]bool{}
	for _, p := range d.StdPerms {
		tabs[p.Tab] = true
	}
	for _, p := range d.ProfileTabs {
		tabs[p.Tab] = true
	}
	global := map[[2]int64]bool{} // profile, globalactionid
	for _, p := range d.GlobalPerms {
		if p.Permission == 0 {
			global[[2]int64{p.Profile, p.Op}] = true
		}
	}
	out := map[string]map[string]access.Grid{}
	unlimited := map[string]bool{}
	for _, r := range d.Roles {
		ps := profiles[r.ID]
		if len(ps) == 0 {
			continue
		}
		// vtiger combines a user's profiles by union, separately for tab
		// visibility and for each operation.
		anyProfile := func(ok func(p int64) bool) bool { return slices.ContainsFunc(ps, ok) }
		if anyProfile(func(p int64) bool {
			return global[[2]int64{p, vtGlobalViewAll}] || global[[2]int64{p, vtGlobalEditAll}]
		}) {
			unlimited[r.ID] = true
		}
		for _, tab := range slices.Sorted(maps.Keys(tabs)) {
			if !anyProfile(func(p int64) bool { return tabOK[[2]int64{p, tab}] }) {
				continue
			}
			op := func(o int64) bool { return anyProfile(func(p int64) bool { return opOK[key{p, tab, o}] }) }
			var c access.CRUD
			if op(vtOpDetailView) {
				c |= access.R
			}
			create := op(vtOpCreateView)
			if !hasCreateView {
				create = op(vtOpEditView)
			}
			if create {
				c |= access.C
			}
			if op(vtOpEditView) {
				c |= access.U
			}
			if op(vtOpDelete) {
				c |= access.D
			}
			// View all and edit all (vtiger_profile2globalpermissions)
			// reach every record of every module the role sees, whoever
			// owns it, past the standard permissions.
			var all access.CRUD
			if anyProfile(func(p int64) bool { return global[[2]int64{p, vtGlobalViewAll}] }) {
				all |= access.R
			}
			if anyProfile(func(p int64) bool { return global[[2]int64{p, vtGlobalEditAll}] }) {
				all |= access.R | access.U
				if !hasCreateView {
					all |= access.C
				}
			}
			if c|all == 0 {
				continue
			}
			name := d.Tabs[tab]
			if name == "" {
				name = fmt.Sprintf("tab%d", tab)
				note("role %s: module of tab %d is unknown (vtiger_tab); imported as entity type %q", r.ID, tab, name)
			}
			if !(c | all).Accumulative() {
				note("role %s: %s: vtiger allows %s without viewing; the library's rights are accumulative, imported as none", r.ID, name, c)
				c = 0
				if all == 0 {
					continue
				}
			}
			if out[r.ID] == nil {
				out[r.ID] = map[string]access.Grid{}
			}
			g := access.Grid{access.Owner: c | all, access.Subordinate: c | all}
			other := all
			if level, ok := vtOrgShareLevel(d.OrgShare[tab]); ok && d.hasOrgShare(tab) {
				if unlimited[r.ID] {
					other |= c & level
				} else {
					other = c
				}
			}
			if other != 0 {
				g[access.Other] = other
			}
			out[r.ID][strings.ToLower(name)] = g
		}
	}
	return out, unlimited
}

// hasOrgShare reports whether vtiger_def_org_share has a row for tab.
func (d *vtigerData) hasOrgShare(tab int64) bool {
	_, ok := d.OrgShare[tab]
	return ok
}

// uniqueRows returns the rows with the first of each key, noting the
// others.
func uniqueRows[T any, K comparable](rows []T, key func(T) K, table string, note func(string, ...any)) []T {
	seen := map[K]bool{}
	var out []T
	for _, r := range rows {
		k := key(r)
		if seen[k] {
			note("%s: id %v appears more than once; only its first row imported", table, k)
			continue
		}
		seen[k] = true
		out = append(out, r)
	}
	return out
}
