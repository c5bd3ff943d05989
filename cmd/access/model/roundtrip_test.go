package model

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"
)

// Names that YAML or JSON could misread if written carelessly, and
// duplicates, so that export must fall back to ids.
var namePool = []string{"Sales", "Sales", "sales", "42", "true", "null", "- dash", "a: b", "#hash",
	"[x]", "{y}", `quote "q"`, "Ærlig", " padded ", "*", "~", "0x1F", "1e3", "yes", "multi\nline",
	"tab\there", "a, b", "'", "&anchor", "*alias", "!tag", "%pct", "@at", "`tick", "? q", "| pipe", "> gt", "-", "--- doc",
	"...", "\u2028", "trailing\n", "3.0", ".inf", "0o17", "+1", "2026-01-01", "=", "<<"}

var typePool = []string{"*", "contact", "sale", "project"}

func drawIDs(t *rapid.T, label string, n int) []int64 {
	return rapid.SliceOfNDistinct(rapid.Int64Range(1, 60), n, n, rapid.ID).Draw(t, label)
}

func pick[T any](t *rapid.T, label string, from []T) []T {
	if len(from) == 0 {
		return nil
	}
	return rapid.SliceOfNDistinct(rapid.SampledFrom(from), 0, min(3, len(from)), func(v T) string { return fmt.Sprint(v) }).Draw(t, label)
}

func crudGen(nonEmpty bool) *rapid.Generator[access.CRUD] {
	lo := 0
	if nonEmpty {
		lo = 1
	}
	return rapid.Custom(func(t *rapid.T) access.CRUD { return access.CRUD(rapid.IntRange(lo, 15).Draw(t, "crud")) })
}

func strMap(t *rapid.T, label string) map[string]string {
	return rapid.MapOfN(rapid.SampledFrom([]string{"city", "a: b", "x"}), rapid.SampledFrom(namePool), 0, 2).Draw(t, label)
}

// batchGen draws a valid model: every reference points to something that
// exists, trees and nesting point only backwards, types follow the rules.
func batchGen() *rapid.Generator[access.Batch] {
	return rapid.Custom(func(t *rapid.T) access.Batch {
		var b access.Batch
		roleIDs := drawIDs(t, "roles", rapid.IntRange(1, 4).Draw(t, "nroles"))
		groupIDs := drawIDs(t, "groups", rapid.IntRange(1, 4).Draw(t, "ngroups"))
		assocIDs := drawIDs(t, "assocs", rapid.IntRange(0, 5).Draw(t, "nassocs"))
		catIDs := drawIDs(t, "cats", rapid.IntRange(0, 3).Draw(t, "ncats"))
		asRoles := func(ids []int64) []access.RoleID {
			out := make([]access.RoleID, len(ids))
			for i, v := range ids {
				out[i] = access.RoleID(v)
			}
			return out
		}
		for i, id := range roleIDs {
			r := access.Role{ID: access.RoleID(id), Name: rapid.SampledFrom(namePool).Draw(t, "rname")}
			if i > 0 && rapid.Bool().Draw(t, "hasParent") {
				r.Parent = access.RoleID(rapid.SampledFrom(roleIDs[:i]).Draw(t, "parent"))
			}
			for _, typ := range pick(t, "rtypes", typePool) {
				if r.Rights == nil {
					r.Rights = map[string]access.Grid{}
				}
				g := access.Grid{}
				for _, rel := range pick(t, "rels", []access.Relation{access.Owner, access.Team, access.PrimaryGroup, access.OtherGroup, access.Subordinate, access.CategoryMember, access.MyCompany, access.SameProject, access.Other, access.Unowned}) {
					if c := crudGen(false).Draw(t, "cell"); c != 0 {
						g[rel] = c | access.R // CRUD is accumulative
					} else {
						g[rel] = c
					}
				}
				r.Rights[typ] = g
			}
			r.Functions = pick(t, "functions", []string{"admin", "export-selection", "a: b"})
			b.Roles = append(b.Roles, r)
		}
		smart := map[int64]bool{}
		for i, id := range groupIDs {
			g := access.Group{ID: access.GroupID(id), Name: rapid.SampledFrom(namePool).Draw(t, "gname")}
			if i > 0 && rapid.IntRange(0, 4).Draw(t, "smart") == 0 {
				g.Smart = `attr.city == "Berlin"`
				smart[id] = true
			} else {
				for _, c := range pick(t, "members", groupIDs[:i]) {
					g.Groups = append(g.Groups, access.GroupID(c))
				}
				g.Roles = asRoles(pick(t, "groles", roleIDs))
				g.RolesAndSubordinates = asRoles(pick(t, "gras", roleIDs))
			}
			g.Functions = pick(t, "gfunctions", []string{"backend-login", "x"})
			g.Defaults = rapid.MapOfN(rapid.SampledFrom(typePool), crudGen(false), 0, 2).Draw(t, "defaults")
			for _, a := range pick(t, "admins", assocIDs) {
				g.Admins = append(g.Admins, access.AssociateID(a))
			}
			g.SelfService = rapid.Bool().Draw(t, "self")
			g.Fields = strMap(t, "fields")
			g.Description = rapid.SampledFrom([]string{"", "Oslo office", "line one\nline two: \"quoted\""}).Draw(t, "description")
			b.Groups = append(b.Groups, g)
		}
		var plain []int64
		for _, id := range groupIDs {
			if !smart[id] {
				plain = append(plain, id)
			}
		}
		for i, id := range catIDs {
			c := access.Category{ID: access.CategoryID(id), Name: rapid.SampledFrom(namePool).Draw(t, "cname")}
			if i > 0 && rapid.Bool().Draw(t, "cparent") {
				c.Parent = access.CategoryID(rapid.SampledFrom(catIDs[:i]).Draw(t, "cp"))
			}
			c.MembersOnly = rapid.Bool().Draw(t, "membersOnly")
			for _, g := range pick(t, "cgroups", groupIDs) {
				c.Groups = append(c.Groups, access.GroupID(g))
			}
			c.Roles = asRoles(pick(t, "croles", roleIDs))
			b.Categories = append(b.Categories, c)
		}
		used := map[string]bool{}
		var systems []int64
		for _, id := range assocIDs {
			name := rapid.SampledFrom(namePool).Draw(t, "aname")
			if used[access.FoldName(name)] {
				name += " " + strconv.FormatInt(id, 10)
			}
			used[access.FoldName(name)] = true
			a := access.Associate{ID: access.AssociateID(id), Name: name, Active: rapid.Bool().Draw(t, "active")}
			a.Type = rapid.SampledFrom([]access.AssociateType{access.Internal, access.Internal, access.External, access.Resource, access.System, access.Anonymous}).Draw(t, "type")
			switch a.Type {
			case access.Internal:
				a.PrimaryGroup = access.GroupID(rapid.SampledFrom(plain).Draw(t, "primary"))
				for _, g := range pick(t, "agroups", groupIDs) {
					a.Groups = append(a.Groups, access.GroupID(g))
				}
			case access.System:
				systems = append(systems, id)
			}
			if a.Type != access.Resource {
				a.Role = access.RoleID(rapid.SampledFrom(roleIDs).Draw(t, "arole"))
			}
			if rapid.Bool().Draw(t, "window") {
				from := time.Unix(rapid.Int64Range(0, 2e9).Draw(t, "from"), 1000*rapid.Int64Range(0, 999999).Draw(t, "us")).UTC()
				a.ValidFrom = from
				a.ValidTo = from.Add(time.Microsecond * time.Duration(rapid.Int64Range(1, 1e12).Draw(t, "len")))
			}
			a.Company = rapid.Int64Range(0, 5).Draw(t, "company")
			a.Projects = pick(t, "projects", []int64{1, 2, 3})
			a.Attributes = strMap(t, "attrs")
			a.Email = rapid.SampledFrom([]string{"", "anna@example.com", "not an address", "o'brien+x@example.co.uk"}).Draw(t, "email")
			if rapid.Bool().Draw(t, "login") {
				a.ServiceLogin = rapid.Int64Range(1, 100).Draw(t, "sl")
				for _, c := range pick(t, "acats", catIDs) {
					a.Categories = append(a.Categories, access.CategoryID(c))
				}
			}
			b.Associates = append(b.Associates, a)
		}
		principals := func(label string) access.Principals {
			p := access.Principals{Everyone: rapid.IntRange(0, 3).Draw(t, label+"every") == 0}
			for _, a := range pick(t, label+"a", assocIDs) {
				p.Associates = append(p.Associates, access.AssociateID(a))
			}
			for _, g := range pick(t, label+"g", groupIDs) {
				p.Groups = append(p.Groups, access.GroupID(g))
			}
			p.Roles = asRoles(pick(t, label+"r", roleIDs))
			p.RolesAndSubordinates = asRoles(pick(t, label+"s", roleIDs))
			if p.IsEmpty() {
				p.Everyone = true
			}
			return p
		}
		for _, id := range drawIDs(t, "rules", rapid.IntRange(0, 3).Draw(t, "nrules")) {
			b.SharingRules = append(b.SharingRules, access.SharingRule{
				ID: access.RuleID(id), Name: rapid.SampledFrom(append([]string{""}, namePool...)).Draw(t, "rulename"),
				EntityType: rapid.SampledFrom(typePool).Draw(t, "ruletype"),
				From:       principals("from"), To: principals("to"), Rights: crudGen(true).Draw(t, "rights"),
			})
		}
		principal := func(label string, notSystem bool) access.Principal {
			var ok []int64
			for _, a := range assocIDs {
				if !notSystem || !slices.Contains(systems, a) {
					ok = append(ok, a)
				}
			}
			if len(ok) > 0 && rapid.Bool().Draw(t, label+"isAssoc") {
				return access.Principal{Associate: access.AssociateID(rapid.SampledFrom(ok).Draw(t, label+"a"))}
			}
			return access.Principal{Group: access.GroupID(rapid.SampledFrom(groupIDs).Draw(t, label+"g"))}
		}
		for _, id := range drawIDs(t, "grants", rapid.IntRange(0, 3).Draw(t, "ngrants")) {
			p := principal("grantee", false)
			g := access.Grant{ID: access.GrantID(id), Associate: p.Associate, Group: p.Group,
				EntityType: rapid.SampledFrom(typePool).Draw(t, "gtype"), Rights: crudGen(false).Draw(t, "grights")}
			if g.EntityType != access.Wildcard {
				g.RecordID = rapid.Int64Range(0, 9).Draw(t, "record")
			}
			b.Grants = append(b.Grants, g)
		}
		for _, id := range drawIDs(t, "imps", rapid.IntRange(0, 2).Draw(t, "nimps")) {
			b.Impersonations = append(b.Impersonations, access.Impersonation{
				ID: access.ImpersonationID(id), Actor: principal("actor", false), Target: principal("target", true),
			})
		}
		for _, id := range drawIDs(t, "limits", rapid.IntRange(0, 2).Draw(t, "nlimits")) {
			l := access.Limit{ID: access.LimitID(id), EntityType: rapid.SampledFrom(typePool).Draw(t, "ltype"),
				Max:   rapid.SampledFrom([]access.CRUD{access.LevelNone, access.LevelRead, access.LevelCreate, access.LevelUpdate, access.LevelFull}).Draw(t, "lmax"),
				Scope: rapid.SampledFrom([]access.LimitScope{access.LimitAll, access.LimitUnrelated}).Draw(t, "lscope")}
			if l.EntityType != access.Wildcard {
				l.RecordID = rapid.Int64Range(0, 9).Draw(t, "lrecord")
			}
			if rapid.Bool().Draw(t, "lgroup") {
				l.Group = access.GroupID(rapid.SampledFrom(groupIDs).Draw(t, "lg"))
			}
			b.Limits = append(b.Limits, l)
		}
		for _, id := range drawIDs(t, "licences", rapid.IntRange(0, 2).Draw(t, "nlicences")) {
			l := access.Licence{ID: access.LicenceID(id), Name: rapid.SampledFrom(namePool).Draw(t, "lname"),
				For: pick(t, "lfor", []access.AssociateType{access.Internal, access.External, access.System, access.Anonymous})}
			if rapid.Bool().Draw(t, "lwindow") {
				l.ValidFrom = time.Unix(rapid.Int64Range(0, 2e9).Draw(t, "lfrom"), 0).UTC()
				l.ValidTo = l.ValidFrom.Add(time.Hour)
			}
			holders := 0
			for i := range b.Associates {
				if rapid.Bool().Draw(t, "holds") {
					b.Associates[i].Licences = append(b.Associates[i].Licences, l.ID)
					holders++
				}
			}
			if rapid.Bool().Draw(t, "seats") {
				l.Seats = holders + rapid.IntRange(0, 2).Draw(t, "spare")
			}
			b.Licences = append(b.Licences, l)
		}
		// Drawn last, so that the kept failure files still replay.
		for i := range b.Roles {
			b.Roles[i].LimitTeams = rapid.Bool().Draw(t, "limit teams")
		}
		return b
	})
}

// sortBatch orders every kind by id, as stores need not.
func sortBatch(b *access.Batch) {
	slices.SortFunc(b.Roles, func(x, y access.Role) int { return cmp.Compare(x.ID, y.ID) })
	slices.SortFunc(b.Groups, func(x, y access.Group) int { return cmp.Compare(x.ID, y.ID) })
	slices.SortFunc(b.Associates, func(x, y access.Associate) int { return cmp.Compare(x.ID, y.ID) })
	slices.SortFunc(b.SharingRules, func(x, y access.SharingRule) int { return cmp.Compare(x.ID, y.ID) })
	slices.SortFunc(b.Grants, func(x, y access.Grant) int { return cmp.Compare(x.ID, y.ID) })
	slices.SortFunc(b.Categories, func(x, y access.Category) int { return cmp.Compare(x.ID, y.ID) })
	slices.SortFunc(b.Impersonations, func(x, y access.Impersonation) int { return cmp.Compare(x.ID, y.ID) })
	slices.SortFunc(b.Limits, func(x, y access.Limit) int { return cmp.Compare(x.ID, y.ID) })
	slices.SortFunc(b.Licences, func(x, y access.Licence) int { return cmp.Compare(x.ID, y.ID) })
}

// TestExportLoadIdentity: a store exported to a file (YAML or JSON) and
// loaded into an empty store holds exactly what the first one held.
func TestExportLoadIdentity(t *testing.T) {
	ctx := context.Background()
	rapid.Check(t, func(t *rapid.T) {
		b := batchGen().Draw(t, "model")
		asJSON := rapid.Bool().Draw(t, "json")
		src := memory.New()
		if _, err := src.Apply(ctx, b); err != nil {
			t.Fatalf("the generator drew an invalid model: %v", err)
		}
		f, err := Export(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		data, err := Marshal(f, asJSON)
		if err != nil {
			t.Fatal(err)
		}
		name := "export.yaml"
		if asJSON {
			name = "export.json"
		}
		g, err := Parse(name, data)
		if err != nil {
			t.Fatalf("parse of the export: %v\n%s", err, data)
		}
		dst := memory.New()
		if _, _, err := Load(ctx, dst, g); err != nil {
			t.Fatalf("load of the export: %v\n%s", err, data)
		}
		want, err := src.Changes(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := dst.Changes(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		sortBatch(&want.Batch)
		sortBatch(&got.Batch)
		if diff := gocmp.Diff(want.Batch, got.Batch, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("store after export and load (-want +got):\n%s\nfile:\n%s", diff, data)
		}
	})
}
