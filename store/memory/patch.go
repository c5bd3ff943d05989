package memory

import (
	"context"
	"fmt"

	"github.com/crmaccess/access"
)

// expect checks b's ExpectRevision against the store's revision cur.
func expect(b *access.Batch, cur access.Revision) error {
	if b.ExpectRevision != 0 && b.ExpectRevision != cur {
		return fmt.Errorf("memory: %w: the batch expects revision %d, the store is at revision %d", access.ErrConflict, b.ExpectRevision, cur)
	}
	return nil
}

// prepare makes the checks of b that need the store rather than a view
// (ExpectRevision, CreateOnly) and turns its patches into puts of the
// current values, patched. The caller holds wmu, so nothing changes
// between these checks and the commit.
func (s *Store) prepare(ctx context.Context, b *access.Batch) error {
	if err := expect(b, s.Revision()); err != nil {
		return err
	}
	if b.CreateOnly {
		if err := s.absent(b); err != nil {
			return err
		}
	}
	if len(b.Patches) > 0 {
		p, err := b.Patched(ctx, txView{s})
		if err != nil {
			return err
		}
		*b = p
	}
	return nil
}

// absent reports an error wrapping ErrExists for the first put of b whose
// id the store holds.
func (s *Store) absent(b *access.Batch) error {
	var err error
	check := func(k access.Kind, id int64) {
		if r := (access.Ref{Kind: k, ID: id}); err == nil && s.has(r) {
			err = fmt.Errorf("memory: %s: %w", r, access.ErrExists)
		}
	}
	for _, v := range b.Roles {
		check(access.KindRole, int64(v.ID))
	}
	for _, v := range b.Groups {
		check(access.KindGroup, int64(v.ID))
	}
	for _, v := range b.Associates {
		check(access.KindAssociate, int64(v.ID))
	}
	for _, v := range b.SharingRules {
		check(access.KindSharingRule, int64(v.ID))
	}
	for _, v := range b.Grants {
		check(access.KindGrant, int64(v.ID))
	}
	for _, v := range b.Categories {
		check(access.KindCategory, int64(v.ID))
	}
	for _, v := range b.Impersonations {
		check(access.KindImpersonation, int64(v.ID))
	}
	for _, v := range b.Limits {
		check(access.KindLimit, int64(v.ID))
	}
	for _, v := range b.Licences {
		check(access.KindLicence, int64(v.ID))
	}
	return err
}
