package access_test

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

func TestConvertLegacyRoles(t *testing.T) {
	for _, c := range []struct {
		name  string
		rows  []access.LegacyRole
		roles []access.Role
		gaps  []access.LegacyGap
	}{
		{name: "nothing", rows: nil},
		{
			name: "every right with an equivalent, in any spelling",
			rows: []access.LegacyRole{{ID: 1, Name: "Support", Rights: []string{
				"admin", "Category admin", "LIST_ALL_TICKETS", "list own tickets", "read-all-tickets", "read_own_tickets",
				"edit all tickets", "edit-own-tickets", "KB", "faq-edit", "faq publish", "statistics", "list tables",
				"edit-tables", "Facebook",
			}}},
			roles: []access.Role{{ID: 1, Name: "Support", Functions: []string{
				"administrate-faq", "category-administration", "edit-all-requests", "edit-faq-entries",
				"edit-requests-in-own-categories", "edit-tables", "facebook", "knowledge-base", "list-all-requests",
				"list-requests-in-own-categories", "list-tables", "read-all-requests", "read-requests-in-own-categories",
				"service-administration", "view-statistics",
			}}},
		},
		{
			name:  "repeats collapse and a right already converted is kept",
			rows:  []access.LegacyRole{{ID: 2, Name: "Agent", Rights: []string{"kb", "KB", "knowledge-base", "Read all requests"}}},
			roles: []access.Role{{ID: 2, Name: "Agent", Functions: []string{"knowledge-base", "read-all-requests"}}},
		},
		{
			name:  "rights without an equivalent are reported, the rest converted",
			rows:  []access.LegacyRole{{ID: 3, Name: "Lead", Rights: []string{"delete-tickets", "edit-all-tickets", "use_user_group", "Use categories", "", "launch-rockets"}}},
			roles: []access.Role{{ID: 3, Name: "Lead", Functions: []string{"edit-all-requests"}}},
			gaps: []access.LegacyGap{
				{Role: 3, Right: "", Reason: "empty right name"},
				{Role: 3, Right: "Use categories", Reason: "a role no longer overrides its members' categories"},
				{Role: 3, Right: "delete-tickets", Reason: "deleting requests is a data right"},
				{Role: 3, Right: "launch-rockets", Reason: "unknown legacy right"},
				{Role: 3, Right: "use_user_group", Reason: "a role no longer overrides its members' usergroup"},
			},
		},
		{
			name: "rows that cannot be roles are left out with a gap; order is by id",
			rows: []access.LegacyRole{
				{ID: 9, Name: "Nine", Rights: []string{"kb"}},
				{ID: 0, Name: "zero", Rights: []string{"kb"}},
				{ID: 4, Name: "Four"},
				{ID: 4, Name: "Four again", Rights: []string{"admin"}},
				{ID: 5, Name: "bad\x00name", Rights: []string{"admin"}},
				{ID: 6, Name: "  "},
			},
			roles: []access.Role{
				{ID: 4, Name: "Four"},
				{ID: 6, Name: "Customer Service role 6"},
				{ID: 9, Name: "Nine", Functions: []string{"knowledge-base"}},
			},
			gaps: []access.LegacyGap{
				{Role: 0, Reason: "id 0 is not positive"},
				{Role: 4, Reason: "id 4 appears twice"},
				{Role: 5, Reason: "not a valid role, left out"},
				{Role: 6, Reason: "the role has no name"},
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			roles, gaps := access.ConvertLegacyRoles(c.rows)
			if diff := gocmp.Diff(c.roles, roles, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("roles (-want +got):\n%s", diff)
			}
			// Reasons are compared by their beginning: the rest is advice.
			short := slices.Clone(gaps)
			for i := range short {
				if i < len(c.gaps) && strings.HasPrefix(short[i].Reason, c.gaps[i].Reason) {
					short[i].Reason = c.gaps[i].Reason
				}
			}
			if diff := gocmp.Diff(c.gaps, short, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("gaps (-want +got):\n%s", diff)
			}
			checkLegacy(t, c.rows, roles, gaps)
		})
	}
}

// checkLegacy checks what must hold of any conversion: the roles load into
// a store; every right of every row is either converted or reported; the
// result does not depend on the order of the rows' rights.
func checkLegacy(t testing.TB, rows []access.LegacyRole, roles []access.Role, gaps []access.LegacyGap) {
	t.Helper()
	if _, err := memory.New().Apply(context.Background(), access.Batch{Roles: roles}); err != nil {
		t.Fatalf("the converted roles do not load: %v", err)
	}
	if !slices.IsSortedFunc(roles, func(a, b access.Role) int { return int(a.ID - b.ID) }) {
		t.Fatalf("roles not in id order: %v", roles)
	}
	byID := map[int64]access.Role{}
	for _, r := range roles {
		byID[int64(r.ID)] = r
	}
	gapped := map[int64]map[string]bool{}
	rowGap := map[int64]bool{}
	for _, g := range gaps {
		if g.Right == "" {
			rowGap[g.Role] = true
		}
		if gapped[g.Role] == nil {
			gapped[g.Role] = map[string]bool{}
		}
		gapped[g.Role][g.Right] = true
	}
	first := map[int64]bool{}
	for _, row := range rows {
		r, kept := byID[row.ID]
		if !kept || first[row.ID] {
			if !rowGap[row.ID] {
				t.Fatalf("row %d left out without a gap", row.ID)
			}
			continue
		}
		first[row.ID] = true
		for _, right := range row.Rights {
			if gapped[row.ID][right] {
				continue
			}
			// Not reported: alone it converts to one functional right,
			// which the role has.
			one, _ := access.ConvertLegacyRoles([]access.LegacyRole{{ID: 1, Name: "one", Rights: []string{right}}})
			if len(one) != 1 || len(one[0].Functions) != 1 || !slices.Contains(r.Functions, one[0].Functions[0]) {
				t.Fatalf("row %d: right %q neither converted nor reported (alone: %v; role's: %v)", row.ID, right, one, r.Functions)
			}
		}
	}
	// The rights' order does not matter.
	rev := make([]access.LegacyRole, len(rows))
	for i, row := range rows {
		row.Rights = slices.Clone(row.Rights)
		slices.Reverse(row.Rights)
		rev[i] = row
	}
	roles2, gaps2 := access.ConvertLegacyRoles(rev)
	if diff := gocmp.Diff(roles, roles2, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("roles depend on the order of rights (-forward +reversed):\n%s", diff)
	}
	if diff := gocmp.Diff(gaps, gaps2, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("gaps depend on the order of rights (-forward +reversed):\n%s", diff)
	}
}

// FuzzConvertLegacyRoles: rows decoded from arbitrary bytes (one row per
// line: id, name, then rights, separated by |) never panic, and the
// conversion keeps its promises.
func FuzzConvertLegacyRoles(f *testing.F) {
	f.Add("1|Support|admin|kb|edit all tickets\n2|Lead|delete-tickets|use categories")
	f.Add("0||\n3|x\x00y|faq publish\n3|again|")
	f.Add("7|Agent|LIST_OWN_TICKETS|read own tickets|Facebook|knowledge-base")
	f.Fuzz(func(t *testing.T, s string) {
		var rows []access.LegacyRole
		for _, line := range strings.Split(s, "\n") {
			parts := strings.Split(line, "|")
			var id int64
			for _, c := range parts[0] {
				if c >= '0' && c <= '9' && id < 1e15 {
					id = id*10 + int64(c-'0')
				}
			}
			if strings.HasPrefix(parts[0], "-") {
				id = -id
			}
			row := access.LegacyRole{ID: id}
			if len(parts) > 1 {
				row.Name = parts[1]
			}
			if len(parts) > 2 {
				row.Rights = parts[2:]
			}
			rows = append(rows, row)
		}
		roles, gaps := access.ConvertLegacyRoles(rows)
		checkLegacy(t, rows, roles, gaps)
	})
}

// refLegacy is the reference conversion table, kept here apart from
// legacy.go's: each Customer Service right the seeds name, and the
// functional right it becomes, or "" when it has none (a reported gap).
var refLegacy = map[string]string{
	"admin":            "service-administration",
	"category-admin":   "category-administration",
	"list-all-tickets": "list-all-requests",
	"list-own-tickets": "list-requests-in-own-categories",
	"read-all-tickets": "read-all-requests",
	"read-own-tickets": "read-requests-in-own-categories",
	"edit-all-tickets": "edit-all-requests",
	"edit-own-tickets": "edit-requests-in-own-categories",
	"kb":               "knowledge-base",
	"faq-edit":         "edit-faq-entries",
	"faq-publish":      "administrate-faq",
	"statistics":       "view-statistics",
	"list-tables":      "list-tables",
	"edit-tables":      "edit-tables",
	"facebook":         "facebook",
	"delete-tickets":   "",
	"use-user-group":   "",
	"use-categories":   "",
}

// refLegacyGap is a gap as the reference model knows it: whose, and which
// right ("" for the row itself).
type refLegacyGap struct {
	Role  int64
	Right string
}

// refConvert is the reference model of ConvertLegacyRoles: plain loops
// over refLegacy, with rights matched by splitting on spaces, underscores
// and hyphens and lower-casing.
func refConvert(rows []access.LegacyRole) ([]access.Role, []refLegacyGap) {
	functions := map[string]bool{}
	for _, f := range refLegacy {
		if f != "" {
			functions[f] = true
		}
	}
	norm := func(s string) string {
		return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return strings.ContainsRune(" \t_-", r) }), "-")
	}
	var roles []access.Role
	var gaps []refLegacyGap
	seen := map[int64]bool{}
	for _, row := range rows {
		if row.ID <= 0 || seen[row.ID] {
			gaps = append(gaps, refLegacyGap{row.ID, ""})
			continue
		}
		seen[row.ID] = true
		r := access.Role{ID: access.RoleID(row.ID), Name: row.Name}
		valid := !strings.ContainsRune(row.Name, 0)
		if strings.TrimSpace(row.Name) == "" {
			r.Name = "Customer Service role " + strconv.FormatInt(row.ID, 10)
			gaps = append(gaps, refLegacyGap{row.ID, ""})
		}
		fs := map[string]bool{}
		for _, right := range row.Rights {
			k := norm(right)
			if f, ok := refLegacy[k]; ok && f != "" {
				fs[f] = true
			} else if functions[k] {
				fs[k] = true
			} else {
				gaps = append(gaps, refLegacyGap{row.ID, right})
			}
		}
		if !valid {
			gaps = append(gaps, refLegacyGap{row.ID, ""})
			continue
		}
		if len(fs) > 0 {
			r.Functions = slices.Sorted(maps.Keys(fs))
		}
		roles = append(roles, r)
	}
	slices.SortFunc(roles, func(a, b access.Role) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(gaps, func(a, b refLegacyGap) int {
		return cmp.Or(cmp.Compare(a.Role, b.Role), strings.Compare(a.Right, b.Right))
	})
	return roles, gaps
}

// drawLegacyRight draws a right as an importer might spell it: a known
// legacy right in any case with spaces, underscores or hyphens, a
// functional right already converted, an unknown name, or an empty one.
func drawLegacyRight(t *rapid.T) string {
	known := slices.Sorted(maps.Keys(refLegacy))
	switch rapid.IntRange(0, 9).Draw(t, "kind") {
	case 0:
		return rapid.SampledFrom([]string{"", " ", "__"}).Draw(t, "empty")
	case 1:
		return rapid.SampledFrom([]string{"launch-rockets", "edit all", "Admin istrator", "tickets"}).Draw(t, "unknown")
	case 2:
		var fs []string
		for _, f := range refLegacy {
			if f != "" {
				fs = append(fs, f)
			}
		}
		slices.Sort(fs)
		return rapid.SampledFrom(fs).Draw(t, "function")
	}
	k := rapid.SampledFrom(known).Draw(t, "right")
	sep := rapid.SampledFrom([]string{"-", " ", "_", "  "}).Draw(t, "sep")
	k = strings.ReplaceAll(k, "-", sep)
	switch rapid.IntRange(0, 2).Draw(t, "case") {
	case 1:
		k = strings.ToUpper(k)
	case 2:
		k = strings.ToUpper(k[:1]) + k[1:]
	}
	return rapid.SampledFrom([]string{"", " "}).Draw(t, "pad") + k
}

// TestPropConvertLegacyRoles: on random rows, ConvertLegacyRoles gives the
// reference model's roles and gaps — every right converted or reported,
// ids kept, rows that cannot be roles left out with a gap — and the same
// answer whatever the order of each row's rights, and of rows with
// distinct ids.
func TestPropConvertLegacyRoles(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var rows []access.LegacyRole
		for i := range rapid.IntRange(0, 6).Draw(t, "rows") {
			row := access.LegacyRole{
				ID:   rapid.Int64Range(-1, 8).Draw(t, "id"),
				Name: rapid.SampledFrom([]string{"Support", "Agent", "Lead " + strconv.Itoa(i), "", "  ", "bad\x00name"}).Draw(t, "name"),
			}
			for range rapid.IntRange(0, 6).Draw(t, "rights") {
				row.Rights = append(row.Rights, drawLegacyRight(t))
			}
			rows = append(rows, row)
		}
		roles, gaps := access.ConvertLegacyRoles(rows)
		wantRoles, wantGaps := refConvert(rows)
		if diff := gocmp.Diff(wantRoles, roles, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("roles (-reference +ConvertLegacyRoles):\n%s", diff)
		}
		var gotGaps []refLegacyGap
		for _, g := range gaps {
			if g.Reason == "" {
				t.Fatalf("gap %+v gives no reason", g)
			}
			gotGaps = append(gotGaps, refLegacyGap{g.Role, g.Right})
		}
		if diff := gocmp.Diff(wantGaps, gotGaps, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("gaps (-reference +ConvertLegacyRoles):\n%s", diff)
		}

		// Order: shuffle each row's rights, and the rows when their ids
		// are distinct (with a repeat, the first row wins by design).
		shuffled := make([]access.LegacyRole, len(rows))
		for i, row := range rows {
			row.Rights = rapid.Permutation(row.Rights).Draw(t, "rights order")
			shuffled[i] = row
		}
		ids := map[int64]bool{}
		for _, row := range rows {
			ids[row.ID] = true
		}
		if len(ids) == len(rows) {
			shuffled = rapid.Permutation(shuffled).Draw(t, "rows order")
		}
		roles2, gaps2 := access.ConvertLegacyRoles(shuffled)
		if diff := gocmp.Diff(roles, roles2, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("roles depend on order (-given +shuffled):\n%s", diff)
		}
		if diff := gocmp.Diff(gaps, gaps2, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("gaps depend on order (-given +shuffled):\n%s", diff)
		}
	})
}
