package access_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crmaccess/access"
)

// This file tests the group administration questions: who may manage a
// group's members (CanManageMembers), who may join or leave a group
// themselves (CanJoin), and where a custom field's value comes from
// (Field).

// Roles.
const (
	admAdminRole access.RoleID = 1 // holds user-admin
	admUserRole  access.RoleID = 2
)

// Groups.
const (
	admParent     access.GroupID = 10 // includes Child; admin padm
	admChild      access.GroupID = 11 // admin cadm
	admSmart      access.GroupID = 12 // smart
	admOther      access.GroupID = 13 // admin gone, who is inactive
	admHR         access.GroupID = 14 // grants user-admin to its members
	admNewsletter access.GroupID = 15 // self-service
	admHome       access.GroupID = 16
)

// Associates.
const (
	admUadm    access.AssociateID = 1  // user-admin through the role
	admSys     access.AssociateID = 2  // system user
	admCadm    access.AssociateID = 3  // admin of Child
	admGone    access.AssociateID = 4  // admin of Other, inactive
	admPlain   access.AssociateID = 5  // nobody in particular
	admHRA     access.AssociateID = 6  // user-admin through group HR
	admExp     access.AssociateID = 7  // user-admin through the role, expired
	admSysOff  access.AssociateID = 8  // system user, inactive
	admPadm    access.AssociateID = 9  // admin of Parent
	admExt     access.AssociateID = 10 // external
	admRoom    access.AssociateID = 11 // resource
	admUnknown access.AssociateID = 99
)

func admOrg() access.Batch {
	user := func(id access.AssociateID, name string, role access.RoleID) access.Associate {
		return access.Associate{ID: id, Name: name, PrimaryGroup: admHome, Role: role, Active: true}
	}
	gone := user(admGone, "gone", admUserRole)
	gone.Active = false
	hr := user(admHRA, "hr", admUserRole)
	hr.Groups = []access.GroupID{admHR}
	exp := user(admExp, "exp", admAdminRole)
	exp.ValidTo = xNow.Add(-time.Minute)
	return access.Batch{
		Roles: []access.Role{
			{ID: admAdminRole, Name: "Admin", Functions: []string{access.FuncUserAdmin}},
			{ID: admUserRole, Name: "User"},
		},
		Groups: []access.Group{
			{ID: admParent, Name: "Parent", Groups: []access.GroupID{admChild}, Admins: []access.AssociateID{admPadm}},
			{ID: admChild, Name: "Child", Admins: []access.AssociateID{admCadm}},
			{ID: admSmart, Name: "Smart", Smart: `name prefix "a"`, Admins: []access.AssociateID{admCadm}},
			{ID: admOther, Name: "Other", Admins: []access.AssociateID{admGone}},
			{ID: admHR, Name: "HR", Functions: []string{access.FuncUserAdmin}},
			{ID: admNewsletter, Name: "Newsletter", SelfService: true},
			{ID: admHome, Name: "Home"},
		},
		Associates: []access.Associate{
			user(admUadm, "uadm", admAdminRole),
			{ID: admSys, Name: "sys", Type: access.System, Role: admUserRole, Active: true},
			user(admCadm, "cadm", admUserRole),
			gone,
			user(admPlain, "plain", admUserRole),
			hr,
			exp,
			{ID: admSysOff, Name: "sysoff", Type: access.System, Role: admUserRole},
			user(admPadm, "padm", admUserRole),
			{ID: admExt, Name: "ext", Type: access.External, Role: admUserRole, Active: true},
			{ID: admRoom, Name: "room", Type: access.Resource, Active: true},
		},
	}
}

func TestCanManageMembers(t *testing.T) {
	_, e := xResolver(t, admOrg())
	tests := []struct {
		name  string
		actor access.AssociateID
		group access.GroupID
		want  bool
		err   error
	}{
		{"group admin", admCadm, admChild, true, nil},
		{"admin of a child group, on the parent", admCadm, admParent, false, nil},
		{"admin of the parent, on a child group", admPadm, admChild, false, nil},
		{"admin of the parent", admPadm, admParent, true, nil},
		{"admin of another group", admCadm, admOther, false, nil},
		{"user-admin through the role", admUadm, admParent, true, nil},
		{"user-admin through the role, any group", admUadm, admOther, true, nil},
		{"user-admin through a group", admHRA, admChild, true, nil},
		{"system user", admSys, admChild, true, nil},
		{"plain user", admPlain, admChild, false, nil},
		{"inactive group admin", admGone, admOther, false, nil},
		{"expired user-admin", admExp, admParent, false, nil},
		{"inactive system user", admSysOff, admChild, false, nil},
		{"resource", admRoom, admChild, false, nil},
		{"unknown actor", admUnknown, admChild, false, nil},
		{"smart group, its admin", admCadm, admSmart, false, access.ErrSmartGroup},
		{"smart group, system user", admSys, admSmart, false, access.ErrSmartGroup},
		{"smart group, user-admin", admUadm, admSmart, false, access.ErrSmartGroup},
		{"unknown group", admSys, 99, false, access.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.CanManageMembers(context.Background(), tt.actor, tt.group)
			if got != tt.want || !xErrIs(err, tt.err) {
				t.Errorf("CanManageMembers(%d, %d) = %v, %v; want %v, %v", tt.actor, tt.group, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestCanManageMembersFollowsChanges(t *testing.T) {
	ctx := context.Background()
	s, e := xResolver(t, admOrg())
	if ok, _ := e.CanManageMembers(ctx, admPlain, admChild); ok {
		t.Fatal("plain manages Child before being made its admin")
	}
	xApply(t, s, access.Batch{Groups: []access.Group{{ID: admChild, Name: "Child", Admins: []access.AssociateID{admCadm, admPlain}}}})
	if ok, err := e.CanManageMembers(ctx, admPlain, admChild); !ok || err != nil {
		t.Errorf("plain, now an admin of Child: %v, %v", ok, err)
	}
	xApply(t, s, access.Batch{Groups: []access.Group{{ID: admChild, Name: "Child"}}})
	if ok, _ := e.CanManageMembers(ctx, admCadm, admChild); ok {
		t.Error("cadm still manages Child after losing the admin role")
	}
}

func TestCanJoin(t *testing.T) {
	_, e := xResolver(t, admOrg())
	tests := []struct {
		name  string
		who   access.AssociateID
		group access.GroupID
		want  bool
		err   error
	}{
		{"self-service group", admPlain, admNewsletter, true, nil},
		{"self-service group, a group admin elsewhere", admCadm, admNewsletter, true, nil},
		{"not self-service", admPlain, admChild, false, nil},
		{"not self-service, even for its admin", admCadm, admChild, false, nil},
		{"not self-service, even for a user-admin", admUadm, admChild, false, nil},
		{"inactive", admGone, admNewsletter, false, nil},
		{"expired", admExp, admNewsletter, false, nil},
		{"system user", admSys, admNewsletter, false, nil},
		{"external user", admExt, admNewsletter, false, nil},
		{"resource", admRoom, admNewsletter, false, nil},
		{"smart group", admPlain, admSmart, false, access.ErrSmartGroup},
		{"unknown group", admPlain, 99, false, access.ErrNotFound},
		{"unknown associate", admUnknown, admNewsletter, false, access.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.CanJoin(context.Background(), tt.who, tt.group)
			if got != tt.want || !xErrIs(err, tt.err) {
				t.Errorf("CanJoin(%d, %d) = %v, %v; want %v, %v", tt.who, tt.group, got, err, tt.want, tt.err)
			}
		})
	}
}

// Groups of the field organisation. Mid includes Entry, Top includes Mid,
// so an associate entering Entry reaches Mid in one hop and Top in two.
const (
	fldTop     access.GroupID = 18 // 2 hops from Entry, the lowest id
	fldLow     access.GroupID = 19 // a secondary group
	fldPrimary access.GroupID = 20
	fldNear    access.GroupID = 21 // a secondary group
	fldSibA    access.GroupID = 26 // a secondary group
	fldSibB    access.GroupID = 27 // a secondary group
	fldEntry   access.GroupID = 30 // a secondary group, no fields
	fldMid     access.GroupID = 31 // 1 hop from Entry
	fldRole    access.GroupID = 32 // role-based
	fldOther   access.GroupID = 40 // the other associate's primary group
)

func fieldOrg() access.Batch {
	return access.Batch{
		Roles: []access.Role{{ID: 1, Name: "User"}},
		Groups: []access.Group{
			{ID: fldTop, Name: "Top", Groups: []access.GroupID{fldMid}, Fields: map[string]string{"d": "top", "e": "top"}},
			{ID: fldLow, Name: "Low", Fields: map[string]string{"b": "low", "empty": "low"}},
			{ID: fldPrimary, Name: "Primary", Fields: map[string]string{"a": "primary", "b": "primary"}},
			{ID: fldNear, Name: "Near", Fields: map[string]string{"a": "near", "c": "near"}},
			{ID: fldSibA, Name: "Sibling A", Fields: map[string]string{"f": "A"}},
			{ID: fldSibB, Name: "Sibling B", Fields: map[string]string{"f": "B", "g": "B"}},
			{ID: fldEntry, Name: "Entry"},
			{ID: fldMid, Name: "Mid", Groups: []access.GroupID{fldEntry}, Fields: map[string]string{"c": "mid", "d": "mid"}},
			{ID: fldRole, Name: "Users", Roles: []access.RoleID{1}, Fields: map[string]string{"g": "role group", "h": "role group"}},
			{ID: fldOther, Name: "Other"},
		},
		Associates: []access.Associate{
			{ID: 1, Name: "own", Role: 1, Active: true, PrimaryGroup: fldPrimary,
				Groups:     []access.GroupID{fldSibB, fldSibA, fldNear, fldLow, fldEntry},
				Attributes: map[string]string{"a": "own", "e": "own", "empty": ""}},
			{ID: 2, Name: "other", Role: 1, Active: true, PrimaryGroup: fldOther},
		},
	}
}

func TestField(t *testing.T) {
	_, e := xResolver(t, fieldOrg())
	ref := func(id access.GroupID, name string) access.GroupRef { return access.GroupRef{ID: id, Name: name} }
	tests := []struct {
		name string
		who  access.AssociateID
		key  string
		want access.FieldValue
	}{
		{"own value first", 1, "a", access.FieldValue{Value: "own", Found: true}},
		{"own value, even over a farther group", 1, "e", access.FieldValue{Value: "own", Found: true}},
		// Changed: an empty own value used to hide the groups' values.
		{"own empty value falls back", 1, "empty", access.FieldValue{Value: "low", Found: true, Group: ref(fldLow, "Low")}},
		{"primary group before a lower id at the same distance", 1, "b", access.FieldValue{Value: "primary", Found: true, Group: ref(fldPrimary, "Primary")}},
		{"nearest: a direct group before one a hop away", 1, "c", access.FieldValue{Value: "near", Found: true, Group: ref(fldNear, "Near")}},
		{"nearest: one hop before two, whatever the ids", 1, "d", access.FieldValue{Value: "mid", Found: true, Group: ref(fldMid, "Mid")}},
		{"a tie goes to the lowest id", 1, "f", access.FieldValue{Value: "A", Found: true, Group: ref(fldSibA, "Sibling A")}},
		{"a role-based group is direct too", 1, "g", access.FieldValue{Value: "B", Found: true, Group: ref(fldSibB, "Sibling B")}},
		{"only a role-based group has it", 1, "h", access.FieldValue{Value: "role group", Found: true, Group: ref(fldRole, "Users")}},
		{"nobody has it", 1, "zzz", access.FieldValue{}},
		{"another associate's groups do not count", 2, "a", access.FieldValue{}},
		{"the other associate's role-based group", 2, "h", access.FieldValue{Value: "role group", Found: true, Group: ref(fldRole, "Users")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Field(context.Background(), tt.who, tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Field(%d, %q) = %+v, want %+v", tt.who, tt.key, got, tt.want)
			}
		})
	}
	t.Run("unknown associate", func(t *testing.T) {
		if _, err := e.Field(context.Background(), 99, "a"); !errors.Is(err, access.ErrNotFound) {
			t.Errorf("Field(unknown) error = %v, want ErrNotFound", err)
		}
	})
}

func TestFieldFollowsChanges(t *testing.T) {
	ctx := context.Background()
	s, e := xResolver(t, fieldOrg())
	// Once Primary is only a secondary group it no longer comes first:
	// between it and Low, at the same distance, the lower id wins.
	b := fieldOrg()
	a := b.Associates[0]
	a.PrimaryGroup = fldNear
	a.Groups = []access.GroupID{fldPrimary, fldLow}
	xApply(t, s, access.Batch{Associates: []access.Associate{a}})
	got, err := e.Field(ctx, 1, "b")
	if err != nil {
		t.Fatal(err)
	}
	want := access.FieldValue{Value: "low", Found: true, Group: access.GroupRef{ID: fldLow, Name: "Low"}}
	if got != want {
		t.Errorf("after the move, Field(b) = %+v, want %+v", got, want)
	}
}
