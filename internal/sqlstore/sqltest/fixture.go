package sqltest

import (
	"sync"
	"testing"
	"time"

	"github.com/crmaccess/access"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// Sample is a small model using every kind and every field.
func Sample() access.Batch {
	return access.Batch{
		Roles: []access.Role{
			{ID: 1, Name: "Boss", Rights: map[string]access.Grid{
				"*":       {access.Owner: access.LevelFull, access.Other: access.LevelRead},
				"contact": {},
			}, Functions: []string{"user-admin", "export-selection"}},
			{ID: 2, Name: "Seller", Parent: 1, Rights: map[string]access.Grid{
				"sale": {access.Owner: access.LevelUpdate, access.Team: access.R | access.U, access.Unowned: access.LevelNone},
			}},
		},
		Groups: []access.Group{
			{ID: 10, Name: "Team A", Roles: []access.RoleID{2}, Functions: []string{"backend"},
				Defaults: map[string]access.CRUD{"*": access.LevelRead}, SelfService: true,
				Fields: map[string]string{"region": "north"}},
			{ID: 11, Name: "Team B", RolesAndSubordinates: []access.RoleID{1}, Admins: []access.AssociateID{100}},
			{ID: 20, Name: "Sales", Groups: []access.GroupID{11, 10}},
			{ID: 30, Name: "Smart", Smart: `attr.region == "north"`},
		},
		Associates: []access.Associate{
			{ID: 100, Name: "Anna", Type: access.Internal, PrimaryGroup: 10, Groups: []access.GroupID{20, 11},
				Role: 1, Active: true, ValidFrom: date(2020, 1, 1), ValidTo: date(2030, 1, 1),
				Company: 7, Projects: []int64{3, 1}, Attributes: map[string]string{"region": "north", "x": "y"},
				ServiceLogin: 55, Categories: []access.CategoryID{200}},
			{ID: 101, Name: "Room 1", Type: access.Resource},
			{ID: 102, Name: "Partner", Type: access.External, Role: 2, Active: true, Company: 9},
			{ID: 103, Name: "sync", Type: access.System, Role: 1, Active: true},
		},
		SharingRules: []access.SharingRule{
			{ID: 300, Name: "open sales", EntityType: "sale",
				From:   access.Principals{Groups: []access.GroupID{10}, Roles: []access.RoleID{2}},
				To:     access.Principals{Everyone: true, Associates: []access.AssociateID{102}, RolesAndSubordinates: []access.RoleID{1}},
				Rights: access.LevelRead},
		},
		Grants: []access.Grant{
			{ID: 400, Associate: 102, EntityType: "contact", RecordID: 5, Rights: access.LevelUpdate},
			{ID: 401, Group: 20, EntityType: "*", Rights: access.R},
		},
		Categories: []access.Category{
			{ID: 200, Name: "Support", Groups: []access.GroupID{10}, Roles: []access.RoleID{2}},
			{ID: 201, Name: "Billing", Parent: 200, MembersOnly: true},
		},
		Impersonations: []access.Impersonation{
			{ID: 500, Actor: access.Principal{Associate: 100}, Target: access.Principal{Group: 11}},
		},
		Limits: []access.Limit{
			{ID: 600, Group: 20, EntityType: "contact", Max: access.LevelRead},
			{ID: 601, EntityType: "sale", RecordID: 3, Max: access.LevelNone, Scope: access.LimitUnrelated},
		},
	}
}

var cmpOpts = cmp.Options{cmpopts.EquateEmpty()}

// Revisions collects the revisions a watcher is called with. It is safe
// for concurrent use.
type Revisions struct {
	mu   sync.Mutex
	seen []access.Revision
	ch   chan struct{} // signalled after each call
}

// Watch registers a watcher with s, removed when tb's test ends, and
// returns what it collects.
func Watch(tb testing.TB, s access.Watcher) *Revisions {
	r := &Revisions{ch: make(chan struct{}, 1)}
	stop := s.Watch(func(rev access.Revision) {
		r.mu.Lock()
		r.seen = append(r.seen, rev)
		r.mu.Unlock()
		select {
		case r.ch <- struct{}{}:
		default:
		}
	})
	tb.Cleanup(stop)
	return r
}

// WaitFor waits until the watcher has been called with rev or a later
// revision, failing the test after timeout.
func (r *Revisions) WaitFor(tb testing.TB, rev access.Revision, timeout time.Duration) {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		for _, s := range r.seen {
			if s >= rev {
				r.mu.Unlock()
				return
			}
		}
		seen := append([]access.Revision(nil), r.seen...)
		r.mu.Unlock()
		select {
		case <-r.ch:
		case <-deadline:
			tb.Fatalf("watcher not called with revision %d within %v; saw %v", rev, timeout, seen)
		}
	}
}
