package access_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// The examples mirror the claims of the programs under examples/, so that
// go test checks them.

// exampleResolver loads b into a new memory store and returns the store and
// a resolver following it.
func exampleResolver(b access.Batch) (*memory.Store, *access.Engine) {
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Apply(ctx, b); err != nil {
		log.Fatal(err)
	}
	r, err := access.NewResolver(ctx, s, nil)
	if err != nil {
		log.Fatal(err)
	}
	return s, r
}

// The quickstart: a role tree with Sales → Sales Assistant, Team A and
// Team B inside the group Sales, a role-based group, a
// roles-and-subordinates group and a smart group; every associate's
// effective groups with the reason for each.
func Example() {
	ctx := context.Background()
	seller := map[string]access.Grid{access.Wildcard: {access.Owner: access.LevelFull}}
	_, r := exampleResolver(access.Batch{
		Roles: []access.Role{
			{ID: 1, Name: "Sales", Rights: seller},
			{ID: 2, Name: "Sales Assistant", Parent: 1, Rights: seller},
			{ID: 3, Name: "Marketing", Rights: seller},
			{ID: 4, Name: "Marketing Assistant", Parent: 3, Rights: seller},
		},
		Groups: []access.Group{
			{ID: 10, Name: "Team A"},
			{ID: 11, Name: "Team B"},
			{ID: 20, Name: "Sales", Groups: []access.GroupID{10, 11}},
			{ID: 30, Name: "Sales and Marketing", Roles: []access.RoleID{1, 3}},
			{ID: 31, Name: "Sales and Marketing, with assistants", RolesAndSubordinates: []access.RoleID{1, 3}},
			{ID: 40, Name: "Berlin office", Smart: `attr.city == "Berlin"`},
		},
		Associates: []access.Associate{
			{ID: 101, Name: "Person 1", PrimaryGroup: 10, Role: 1, Active: true, Attributes: map[string]string{"city": "Berlin"}},
			{ID: 102, Name: "Person 2", PrimaryGroup: 10, Role: 2, Active: true},
			{ID: 103, Name: "Person 3", PrimaryGroup: 11, Role: 3, Active: true},
			{ID: 104, Name: "Person 4", PrimaryGroup: 11, Role: 4, Active: true, Attributes: map[string]string{"city": "Berlin"}},
		},
	})
	defer r.Close()

	for _, who := range []access.AssociateID{101, 102, 103, 104} {
		ms, err := r.EffectiveGroups(ctx, who)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("associate %d:\n", who)
		for _, m := range ms {
			fmt.Println("  ", m)
		}
	}
	for _, g := range []access.GroupID{20, 30, 31, 40} {
		members, _ := r.Members(ctx, g)
		fmt.Printf("members of group %d: %v\n", g, members)
	}
	// Output:
	// associate 101:
	//    Team A (10): primary group Team A (10)
	//    Sales (20): primary group Team A (10) via Team A (10) → Sales (20)
	//    Sales and Marketing (30): role Sales (1) (Roles of Sales and Marketing (30))
	//    Sales and Marketing, with assistants (31): role Sales (1) (RolesAndSubordinates of Sales and Marketing, with assistants (31))
	//    Berlin office (40): smart rule of Berlin office (40)
	// associate 102:
	//    Team A (10): primary group Team A (10)
	//    Sales (20): primary group Team A (10) via Team A (10) → Sales (20)
	//    Sales and Marketing, with assistants (31): role Sales Assistant (2) ⊂ Sales (1) (RolesAndSubordinates of Sales and Marketing, with assistants (31))
	// associate 103:
	//    Team B (11): primary group Team B (11)
	//    Sales (20): primary group Team B (11) via Team B (11) → Sales (20)
	//    Sales and Marketing (30): role Marketing (3) (Roles of Sales and Marketing (30))
	//    Sales and Marketing, with assistants (31): role Marketing (3) (RolesAndSubordinates of Sales and Marketing, with assistants (31))
	// associate 104:
	//    Team B (11): primary group Team B (11)
	//    Sales (20): primary group Team B (11) via Team B (11) → Sales (20)
	//    Sales and Marketing, with assistants (31): role Marketing Assistant (4) ⊂ Marketing (3) (RolesAndSubordinates of Sales and Marketing, with assistants (31))
	//    Berlin office (40): smart rule of Berlin office (40)
	// members of group 20: [101 102 103 104]
	// members of group 30: [101 103]
	// members of group 31: [101 102 103 104]
	// members of group 40: [101 104]
}

// Records are stamped with their owner's primary group when they are
// assigned; when the owner moves to another group the records stay with the
// old one. Sharing rules and grants only ever add rights.
func ExampleEngine_Can() {
	ctx := context.Background()
	s, r := exampleResolver(access.Batch{
		Roles: access.UserLevels(),
		Groups: []access.Group{
			{ID: 10, Name: "Oslo"},
			{ID: 20, Name: "Stockholm"},
		},
		Associates: []access.Associate{
			{ID: 101, Name: "anna", PrimaryGroup: 10, Role: 3, Active: true}, // user level 2
			{ID: 102, Name: "bo", PrimaryGroup: 10, Role: 4, Active: true},   // user level 3
			{ID: 103, Name: "cy", PrimaryGroup: 20, Role: 5, Active: true},   // user level 4
			{ID: 301, Name: "erp-sync", Type: access.System, Role: 1, Active: true},
		},
	})
	defer r.Close()
	can := func(who access.AssociateID, act access.Action, rec access.Record) {
		d, err := r.Can(ctx, who, act, rec)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(d)
	}

	st, _ := r.Stamp(ctx, 102)
	contact := access.Record{Type: "contact", ID: 2, Owner: st.Owner, Group: st.Group}
	fmt.Printf("bo's contact is stamped with group %d\n", contact.Group)
	can(101, access.Delete, contact)
	can(103, access.Read, contact)

	// bo moves to Stockholm: his contact stays with Oslo.
	if err := s.PutAssociate(ctx, access.Associate{ID: 102, Name: "bo", PrimaryGroup: 20, Role: 4, Active: true}); err != nil {
		log.Fatal(err)
	}
	st, _ = r.Stamp(ctx, 102)
	fmt.Printf("bo's new records are stamped with group %d\n", st.Group)
	can(101, access.Delete, contact)

	_, err := s.Apply(ctx, access.Batch{
		SharingRules: []access.SharingRule{{ID: 1, Name: "Oslo for Stockholm", EntityType: "contact",
			From: access.Principals{Associates: []access.AssociateID{101}}, To: access.Principals{Groups: []access.GroupID{20}}, Rights: access.R}},
		Grants: []access.Grant{{ID: 1, Associate: 103, EntityType: "contact", RecordID: 1, Rights: access.U}},
	})
	if err != nil {
		log.Fatal(err)
	}
	annas := access.Record{Type: "contact", ID: 1, Owner: 101, Group: 10}
	can(103, access.Update, annas)
	can(301, access.Delete, annas)
	// Output:
	// bo's contact is stamped with group 10
	// allow: anna (101) may delete contact 2; role User level 2 (3) grants CRUD for primary group
	// deny: cy (103) needs read on contact 2; role User level 4 (5) grants - for other; has -
	// bo's new records are stamped with group 20
	// allow: anna (101) may delete contact 2; role User level 2 (3) grants CRUD for primary group
	// allow: cy (103) may update contact 1; role User level 4 (5) grants - for other; sharing rule Oslo for Stockholm (1) adds R; grant 1 adds U
	// allow: erp-sync (301) may delete contact 1; system user
}

// A Customer Service user is a member of a category through its usergroups
// (shown "from usergroup", with the path when the group is nested), its
// role, or individually.
func ExampleEngine_Categories() {
	ctx := context.Background()
	_, r := exampleResolver(access.Batch{
		Roles: []access.Role{{ID: 1, Name: "Service agent"}},
		Groups: []access.Group{
			{ID: 10, Name: "Support", Groups: []access.GroupID{11}},
			{ID: 11, Name: "Tier 2"},
		},
		Categories: []access.Category{
			{ID: 1, Name: "General", Groups: []access.GroupID{10}},
			{ID: 2, Name: "Billing", Parent: 1, MembersOnly: true},
			{ID: 3, Name: "Escalations", Roles: []access.RoleID{1}},
		},
		Associates: []access.Associate{
			{ID: 101, Name: "anna", PrimaryGroup: 10, Role: 1, Active: true, ServiceLogin: 1, Categories: []access.CategoryID{1, 2}},
			{ID: 102, Name: "bo", PrimaryGroup: 11, Role: 1, Active: true, ServiceLogin: 2},
			{ID: 103, Name: "cy", PrimaryGroup: 11, Role: 1, Active: true}, // no service login
		},
	})
	defer r.Close()
	for _, who := range []access.AssociateID{101, 102, 103} {
		cats, _ := r.Categories(ctx, who)
		fmt.Printf("associate %d: %d categories\n", who, len(cats))
		for _, c := range cats {
			fmt.Println("  ", c)
		}
	}
	members, _ := r.CategoryMembers(ctx, 1)
	fmt.Println("members of General:", members)
	// Output:
	// associate 101: 3 categories
	//    General (1) (individual) (from usergroup Support (10))
	//    Billing (2) (individual)
	//    Escalations (3) (from role Service agent (1))
	// associate 102: 2 categories
	//    General (1) (from usergroup Tier 2 (11) → Support (10))
	//    Escalations (3) (from role Service agent (1))
	// associate 103: 0 categories
	// members of General: [101 102]
}

// An individual category membership can be removed; one that comes from a
// usergroup cannot, and the error says which usergroup to change.
func ExampleEngine_RemoveCategory() {
	ctx := context.Background()
	s, r := exampleResolver(access.Batch{
		Roles:      []access.Role{{ID: 1, Name: "Service agent"}},
		Groups:     []access.Group{{ID: 10, Name: "Support"}},
		Categories: []access.Category{{ID: 1, Name: "General", Groups: []access.GroupID{10}}},
		Associates: []access.Associate{
			{ID: 101, Name: "anna", PrimaryGroup: 10, Role: 1, Active: true, ServiceLogin: 1, Categories: []access.CategoryID{1}},
		},
	})
	defer r.Close()

	a, err := r.RemoveCategory(ctx, 101, 1)
	if err != nil {
		log.Fatal(err)
	}
	if err := s.PutAssociate(ctx, a); err != nil {
		log.Fatal(err)
	}
	cats, _ := r.Categories(ctx, 101)
	fmt.Println(cats[0])

	_, err = r.RemoveCategory(ctx, 101, 1)
	fmt.Println(errors.Is(err, access.ErrDerived), err)
	// Output:
	// General (1) (from usergroup Support (10))
	// true access: RemoveCategory: associate 101 is a member of category General (1) from usergroup Support (10): membership is derived; change that usergroup or the category's groups
}

// A support agent acts on behalf of a customer; the decision is the
// customer's alone. A group rule does not reach a target whose role is
// above the actor's, and rules do not chain.
func ExampleEngine_Impersonate() {
	ctx := context.Background()
	own := map[string]access.Grid{access.Wildcard: {access.Owner: access.LevelFull}}
	_, r := exampleResolver(access.Batch{
		Roles: []access.Role{
			{ID: 1, Name: "Shop admin", Rights: own},
			{ID: 2, Name: "Support", Parent: 1, Rights: map[string]access.Grid{access.Wildcard: {access.Owner: access.LevelFull, access.Subordinate: access.LevelFull}}},
			{ID: 3, Name: "Customer", Parent: 2, Rights: own},
		},
		Groups: []access.Group{
			{ID: 1, Name: "Staff"},
			{ID: 2, Name: "Support"},
			{ID: 10, Name: "Customers"},
		},
		Associates: []access.Associate{
			{ID: 1, Name: "ada", PrimaryGroup: 1, Groups: []access.GroupID{10}, Role: 1, Active: true},
			{ID: 2, Name: "sam", PrimaryGroup: 2, Role: 2, Active: true},
			{ID: 11, Name: "kim", PrimaryGroup: 10, Role: 3, Active: true},
			{ID: 12, Name: "lars", PrimaryGroup: 10, Role: 3, Active: true},
		},
		Impersonations: []access.Impersonation{
			{ID: 1, Actor: access.Principal{Group: 2}, Target: access.Principal{Group: 10}},
			{ID: 2, Actor: access.Principal{Associate: 11}, Target: access.Principal{Associate: 2}},
		},
	})
	defer r.Close()

	as, err := r.Impersonate(ctx, 2, 11)
	if err != nil {
		log.Fatal(err)
	}
	for _, rec := range []access.Record{{Type: "order", ID: 1001, Owner: 11}, {Type: "order", ID: 1002, Owner: 12}} {
		d, _ := r.CanAs(ctx, as, access.Update, rec)
		fmt.Println(d)
	}
	// Sam himself could; as kim he cannot.
	d, _ := r.Can(ctx, 2, access.Update, access.Record{Type: "order", ID: 1002, Owner: 12})
	fmt.Println(d)

	_, err = r.Impersonate(ctx, 2, 1)
	fmt.Println(errors.Is(err, access.ErrTargetAbove), err)
	_, err = r.Impersonate(ctx, 11, 12) // kim → sam → lars does not chain
	fmt.Println(errors.Is(err, access.ErrNoImpersonationRule), err)
	// Output:
	// allow: kim (11) (acting: sam (2)) may update order 1001; role Customer (3) grants CRUD for owner
	// deny: kim (11) (acting: sam (2)) needs update on order 1002; role Customer (3) grants - for other; has -
	// allow: sam (2) may update order 1002; role Support (2) grants CRUD for subordinate
	// true access: associate 2 acting as 1: impersonation refused: the target's role is above the actor's (rule 1 names a group)
	// true access: associate 11 acting as 12: impersonation refused: no rule allows it
}

// Group admins manage their own group, not the groups that include it; a
// smart group's members come from its rule alone; anyone may join or
// leave a self-service group.
func ExampleEngine_CanManageMembers() {
	ctx := context.Background()
	_, r := exampleResolver(access.Batch{
		Roles: []access.Role{{ID: 1, Name: "Customer"}},
		Groups: []access.Group{
			{ID: 10, Name: "Customers", Groups: []access.GroupID{12}},
			{ID: 12, Name: "Wholesale", Admins: []access.AssociateID{2}},
			{ID: 20, Name: "Danes", Smart: `attr.country == "DK"`},
			{ID: 30, Name: "Newsletter", SelfService: true},
		},
		Associates: []access.Associate{
			{ID: 2, Name: "sam", PrimaryGroup: 10, Role: 1, Active: true},
			{ID: 11, Name: "kim", PrimaryGroup: 12, Role: 1, Active: true},
		},
	})
	defer r.Close()
	for _, g := range []access.GroupID{12, 10, 20} {
		ok, err := r.CanManageMembers(ctx, 2, g)
		fmt.Printf("sam manages group %d: %v %v\n", g, ok, err)
	}
	for _, g := range []access.GroupID{30, 12} {
		ok, _ := r.CanJoin(ctx, 11, g)
		fmt.Printf("kim may join or leave group %d: %v\n", g, ok)
	}
	// Output:
	// sam manages group 12: true <nil>
	// sam manages group 10: false <nil>
	// sam manages group 20: false access: CanManageMembers: group 20: smart group membership comes from its rule
	// kim may join or leave group 30: true
	// kim may join or leave group 12: false
}

// A custom field falls back from the associate's own value to its primary
// group, then to its other groups, nearest first.
func ExampleEngine_Field() {
	ctx := context.Background()
	_, r := exampleResolver(access.Batch{
		Roles: []access.Role{{ID: 1, Name: "Customer"}},
		Groups: []access.Group{
			{ID: 10, Name: "Customers", Groups: []access.GroupID{11, 12}, Fields: map[string]string{"currency": "EUR", "shipping": "standard"}},
			{ID: 11, Name: "Retail"},
			{ID: 12, Name: "Wholesale", Fields: map[string]string{"currency": "DKK"}},
		},
		Associates: []access.Associate{
			{ID: 11, Name: "kim", PrimaryGroup: 11, Role: 1, Active: true},
			{ID: 12, Name: "lars", PrimaryGroup: 12, Role: 1, Active: true, Attributes: map[string]string{"shipping": "express"}},
		},
	})
	defer r.Close()
	for _, q := range []struct {
		who access.AssociateID
		key string
	}{{11, "currency"}, {12, "currency"}, {12, "shipping"}, {11, "shipping"}, {11, "vat-id"}} {
		v, _ := r.Field(ctx, q.who, q.key)
		switch {
		case !v.Found:
			fmt.Printf("%d %s: not set\n", q.who, q.key)
		case v.Group.ID == 0:
			fmt.Printf("%d %s: %s (own value)\n", q.who, q.key, v.Value)
		default:
			fmt.Printf("%d %s: %s (from %s)\n", q.who, q.key, v.Value, v.Group)
		}
	}
	// Output:
	// 11 currency: EUR (from Customers (10))
	// 12 currency: DKK (from Wholesale (12))
	// 12 shipping: express (own value)
	// 11 shipping: standard (from Customers (10))
	// 11 vat-id: not set
}

// The six default roles: each level's rights are a subset of the level
// above, and none has a lint finding.
func ExampleUserLevels() {
	for _, l := range access.UserLevels() {
		g := l.Rights[access.Wildcard]
		fmt.Printf("%d %s: owner %s, team %s, primary group %s, other %s; %v; lint %d\n",
			l.ID, l.Name, g[access.Owner], g[access.Team], g[access.PrimaryGroup], g[access.Other], l.Functions, len(l.Lint()))
	}
	// Output:
	// 1 User level 0: owner CRUD, team CRUD, primary group CRUD, other CRUD; [admin user-admin list-admin export-selection bulk-update backend-login]; lint 0
	// 2 User level 1: owner CRUD, team CRUD, primary group CRUD, other CRUD; [export-selection bulk-update backend-login]; lint 0
	// 3 User level 2: owner CRUD, team CRUD, primary group CRUD, other R; [export-selection backend-login]; lint 0
	// 4 User level 3: owner CRUD, team CRUD, primary group R, other R; [backend-login]; lint 0
	// 5 User level 4: owner CRUD, team CRUD, primary group R, other -; [backend-login]; lint 0
	// 6 User level 5: owner R, team R, primary group R, other -; [backend-login]; lint 0
}

// ExampleEngine_Filter lists what a salesperson may update as a SQL WHERE
// fragment: own contacts, and contacts stamped with her primary group.
func ExampleEngine_Filter() {
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Apply(ctx, access.Batch{
		Roles: []access.Role{{ID: 1, Name: "Sales", Rights: map[string]access.Grid{"contact": {
			access.Owner: access.LevelFull, access.PrimaryGroup: access.LevelUpdate, access.Other: access.LevelRead,
		}}}},
		Groups:     []access.Group{{ID: 10, Name: "Team A"}},
		Associates: []access.Associate{{ID: 11, Name: "anna", Type: access.Internal, PrimaryGroup: 10, Role: 1, Active: true}},
	}); err != nil {
		fmt.Println(err)
		return
	}
	r, err := access.NewResolver(ctx, s, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()

	f, err := r.Filter(ctx, 11, access.Update, "contact")
	if err != nil {
		fmt.Println(err)
		return
	}
	where, args, err := f.SQL(access.PostgreSQL, access.Columns{ID: "id", Owner: "associate_id", Group: "group_id"}, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("SELECT id FROM contact WHERE " + where + " ORDER BY id LIMIT 50")
	fmt.Println(args)
	fmt.Println(f.Match(access.Record{Type: "contact", ID: 7, Owner: 12, Group: 10}))
	fmt.Println(f.Match(access.Record{Type: "contact", ID: 8, Owner: 12, Group: 20}))
	// Output:
	// SELECT id FROM contact WHERE (associate_id = $1 OR group_id = $2) ORDER BY id LIMIT 50
	// [11 10]
	// true
	// false
}
