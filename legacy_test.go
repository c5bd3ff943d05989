package access_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

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
			if diff := cmp.Diff(c.roles, roles, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("roles (-want +got):\n%s", diff)
			}
			// Reasons are compared by their beginning: the rest is advice.
			short := slices.Clone(gaps)
			for i := range short {
				if i < len(c.gaps) && strings.HasPrefix(short[i].Reason, c.gaps[i].Reason) {
					short[i].Reason = c.gaps[i].Reason
				}
			}
			if diff := cmp.Diff(c.gaps, short, cmpopts.EquateEmpty()); diff != "" {
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
	if diff := cmp.Diff(roles, roles2, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("roles depend on the order of rights (-forward +reversed):\n%s", diff)
	}
	if diff := cmp.Diff(gaps, gaps2, cmpopts.EquateEmpty()); diff != "" {
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
