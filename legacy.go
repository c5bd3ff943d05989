package access

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// LegacyRole is one row of SuperOffice Customer Service's obsolete role
// table (ej_role), with the role's access rights decoded to names: the
// input of [ConvertLegacyRoles]. The table keeps the rights as a bit mask
// (access_mask, access_values) whose bit assignments SuperOffice does not
// publish, so the left-hand names of the conversion table are this
// library's names for the Customer Service rights, one per right that
// became a Service functional right, plus those that did not; decoding the
// mask into them is the importer's business (see [LegacyRights]).
type LegacyRole struct {
	// ID is the ej_role id; it becomes the Role's id, so it must be
	// positive and must not clash with a Sales & Marketing role's id
	// (an importer offsets it when it would).
	ID int64
	// Name is the role's name.
	Name string
	// Rights names the access rights the role gave its members.
	Rights []string
}

// LegacyGap is one thing [ConvertLegacyRoles] could not carry over: a
// right without a functional-right equivalent, or a row it could not turn
// into a valid Role.
type LegacyGap struct {
	// Role is the legacy role's id.
	Role int64
	// Right is the legacy right, as the row spelled it, or "" when the gap
	// is about the row itself.
	Right string
	// Reason says why, and what to do instead where there is something.
	Reason string
}

// String renders the gap in one line, e.g.
// `role 3: right "delete-requests": …`.
func (g LegacyGap) String() string {
	if g.Right == "" {
		return fmt.Sprintf("role %d: %s", g.Role, g.Reason)
	}
	return fmt.Sprintf("role %d: right %q: %s", g.Role, g.Right, g.Reason)
}

// legacyRight is one entry of the conversion table: the functional right
// a legacy right becomes, or, when there is none, why.
type legacyRight struct {
	function string
	gap      string
}

// legacyRights is the conversion table, keyed by the normalised legacy
// name (see legacyKey). Every functional right named here is one that
// SuperOffice lists for Service in Sales & Marketing roles; the library
// spells them as its functional rights are spelled, lower case with
// hyphens.
var legacyRights = map[string]legacyRight{
	// Administration.
	"admin":          {function: "service-administration"},
	"category-admin": {function: "category-administration"},
	// Requests (tickets): list, read and edit, each for all requests or
	// for those in the member's categories.
	"list-all-tickets": {function: "list-all-requests"},
	"list-own-tickets": {function: "list-requests-in-own-categories"},
	"read-all-tickets": {function: "read-all-requests"},
	"read-own-tickets": {function: "read-requests-in-own-categories"},
	"edit-all-tickets": {function: "edit-all-requests"},
	"edit-own-tickets": {function: "edit-requests-in-own-categories"},
	// The knowledge base (FAQ).
	"kb":          {function: "knowledge-base"},
	"faq-edit":    {function: "edit-faq-entries"},
	"faq-publish": {function: "administrate-faq"},
	// Reports, extra tables, channels.
	"statistics":  {function: "view-statistics"},
	"list-tables": {function: "list-tables"},
	"edit-tables": {function: "edit-tables"},
	"facebook":    {function: "facebook"},

	// Rights that are not functional rights in a Sales & Marketing role.
	"delete-tickets": {gap: "deleting requests is a data right: give the role Delete on the request entity type in its Rights"},
	"use-user-group": {gap: "a role no longer overrides its members' usergroup: set each associate's PrimaryGroup"},
	"use-categories": {gap: "a role no longer overrides its members' categories: give the categories to a usergroup (Category.Groups) or to the associates"},
}

// LegacyRights lists, sorted, the legacy right names [ConvertLegacyRoles]
// knows: those it converts and those it reports as having no equivalent.
func LegacyRights() []string {
	out := make([]string, 0, len(legacyRights))
	for k := range legacyRights {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// legacyFunctions is the set of functional rights the table produces, so
// that a row already spelled in them converts to itself.
var legacyFunctions = func() map[string]bool {
	m := map[string]bool{}
	for _, r := range legacyRights {
		if r.function != "" {
			m[r.function] = true
		}
	}
	return m
}()

// legacyKey normalises a right's name: trimmed, lower case, with runs of
// spaces and underscores as one hyphen, so that "Edit all tickets",
// "EDIT_ALL_TICKETS" and "edit-all-tickets" are one right.
func legacyKey(s string) string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ' ' || r == '_' || r == '-' || r == '\t' })
	return strings.Join(f, "-")
}

// ConvertLegacyRoles converts Customer Service roles to Sales & Marketing
// roles with functional rights, as SuperOffice's upgrade did when ej_role
// became obsolete in version 7.5. It is pure: it reads only its argument,
// and the same rows give the same result.
//
// Each row becomes a Role with the row's id and name, no parent and no
// data rights (a Customer Service role had none), and as Functions, sorted
// and without repeats, the functional rights its rights convert to:
//
//	legacy right      functional right
//	admin             service-administration
//	category-admin    category-administration
//	list-all-tickets  list-all-requests
//	list-own-tickets  list-requests-in-own-categories
//	read-all-tickets  read-all-requests
//	read-own-tickets  read-requests-in-own-categories
//	edit-all-tickets  edit-all-requests
//	edit-own-tickets  edit-requests-in-own-categories
//	kb                knowledge-base
//	faq-edit          edit-faq-entries
//	faq-publish       administrate-faq
//	statistics        view-statistics
//	list-tables       list-tables
//	edit-tables       edit-tables
//	facebook          facebook
//
// Names compare case-insensitively, with spaces, underscores and hyphens
// alike ("Edit all tickets" is edit-all-tickets); a right already named as
// one of the functional rights above is kept. The right side is SuperOffice's
// list of Service functional rights ("Service administration", "List
// requests in own categories"…) in the library's spelling.
//
// Nothing is dropped silently. Every right the table has no functional
// right for is a [LegacyGap] with the reason: delete-tickets (a data right
// on requests now), use-user-group and use-categories (the role no longer
// overrides its members' usergroup or categories), an empty name, or a
// name the table does not know. A row that cannot be a valid Role (an id
// that is not positive or is repeated, a name outside the value domain) is
// left out with a gap saying so; an empty name is replaced by
// "Customer Service role <id>", with a gap too. Every Role returned passes
// [Batch.Check].
//
// Roles come in ascending id order, gaps by role id, then right, then
// reason.
func ConvertLegacyRoles(rows []LegacyRole) ([]Role, []LegacyGap) {
	var roles []Role
	var gaps []LegacyGap
	seen := map[int64]bool{}
	for _, row := range rows {
		gap := func(right, format string, args ...any) {
			gaps = append(gaps, LegacyGap{Role: row.ID, Right: right, Reason: fmt.Sprintf(format, args...)})
		}
		if row.ID <= 0 {
			gap("", "id %d is not positive: the role is left out", row.ID)
			continue
		}
		if seen[row.ID] {
			gap("", "id %d appears twice: the second row is left out", row.ID)
			continue
		}
		seen[row.ID] = true
		r := Role{ID: RoleID(row.ID), Name: row.Name}
		if strings.TrimSpace(r.Name) == "" {
			r.Name = fmt.Sprintf("Customer Service role %d", row.ID)
			gap("", "the role has no name: it is named %q", r.Name)
		}
		for _, right := range row.Rights {
			k := legacyKey(right)
			switch e, ok := legacyRights[k]; {
			case k == "":
				gap(right, "empty right name")
			case ok && e.function != "":
				r.Functions = append(r.Functions, e.function)
			case ok:
				gap(right, "%s", e.gap)
			case legacyFunctions[k]:
				r.Functions = append(r.Functions, k)
			default:
				gap(right, "unknown legacy right: no functional right is known for it (known: %s)", strings.Join(LegacyRights(), ", "))
			}
		}
		slices.Sort(r.Functions)
		r.Functions = slices.Compact(r.Functions)
		if err := r.check(); err != nil {
			gap("", "not a valid role, left out: %v", err)
			continue
		}
		roles = append(roles, r)
	}
	slices.SortFunc(roles, func(a, b Role) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortStableFunc(gaps, func(a, b LegacyGap) int {
		return cmp.Or(cmp.Compare(a.Role, b.Role), cmp.Compare(a.Right, b.Right), cmp.Compare(a.Reason, b.Reason))
	})
	return roles, gaps
}
