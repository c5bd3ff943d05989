package access_test

import (
	"context"
	"errors"
	"testing"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// TestValidate_namedTwice checks the error for an id a batch names twice,
// for every kind it puts: two puts, or a put and a delete, are rejected
// with the id named, before any other check of the second value (a second
// associate with the first one's name too is named twice, not a taken
// name), and the store keeps nothing.
func TestValidate_namedTwice(t *testing.T) {
	ctx := context.Background()
	base := access.Batch{
		Roles:      []access.Role{{ID: 1, Name: "r"}},
		Groups:     []access.Group{{ID: 1, Name: "g"}},
		Associates: []access.Associate{{ID: 1, Name: "a", Type: access.Internal, Role: 1, PrimaryGroup: 1}},
	}
	twice := []struct {
		name string
		add  func(b *access.Batch)
		want string
	}{
		{"role", func(b *access.Batch) { b.Roles = append(b.Roles, b.Roles[0]) }, "access: invalid: role 1 is named twice in one batch"},
		{"group", func(b *access.Batch) { b.Groups = append(b.Groups, b.Groups[0]) }, "access: invalid: group 1 is named twice in one batch"},
		{"associate", func(b *access.Batch) { b.Associates = append(b.Associates, b.Associates[0]) }, "access: invalid: associate 1 is named twice in one batch"},
		{"sharing rule", func(b *access.Batch) {
			r := access.SharingRule{ID: 4, Name: "s", EntityType: "*", Rights: access.R, From: access.Principals{Groups: []access.GroupID{1}}, To: access.Principals{Groups: []access.GroupID{1}}}
			b.SharingRules = []access.SharingRule{r, r}
		}, "access: invalid: sharing rule 4 is named twice in one batch"},
		{"grant", func(b *access.Batch) {
			g := access.Grant{ID: 5, Group: 1, EntityType: "*", Rights: access.R}
			b.Grants = []access.Grant{g, g}
		}, "access: invalid: grant 5 is named twice in one batch"},
		{"category", func(b *access.Batch) {
			b.Categories = []access.Category{{ID: 6, Name: "c"}, {ID: 6, Name: "c"}}
		}, "access: invalid: category 6 is named twice in one batch"},
		{"limit", func(b *access.Batch) {
			l := access.Limit{ID: 7, EntityType: "*"}
			b.Limits = []access.Limit{l, l}
		}, "access: invalid: limit 7 is named twice in one batch"},
		{"licence", func(b *access.Batch) {
			b.Licences = []access.Licence{{ID: 8, Name: "l"}, {ID: 8, Name: "l"}}
		}, "access: invalid: licence 8 is named twice in one batch"},
		{"put and delete", func(b *access.Batch) { b.DeleteGroups = []access.GroupID{1} }, "access: invalid: group 1 is named twice in one batch"},
	}
	for _, c := range twice {
		t.Run(c.name, func(t *testing.T) {
			b := base.Clone()
			c.add(&b)
			if err := b.Check(); err != nil {
				t.Fatalf("the batch is not valid on its own: %v", err)
			}
			s := memory.New()
			_, err := s.Apply(ctx, b)
			if err == nil || err.Error() != c.want || !errors.Is(err, access.ErrInvalid) {
				t.Fatalf("Apply = %v, want %q", err, c.want)
			}
			if d, _ := s.Changes(ctx, 0); !d.Empty() || s.Revision() != 0 {
				t.Errorf("a rejected batch left revision %d and %+v", s.Revision(), d.Batch)
			}
		})
	}
}
