package sqlstore

import (
	"context"
	"fmt"

	"github.com/crmaccess/access"
)

// expect checks b's ExpectRevision against cur, the revision the store was
// at before this write.
func expect(d *Dialect, b *access.Batch, cur access.Revision) error {
	if b.ExpectRevision != 0 && b.ExpectRevision != cur {
		return fmt.Errorf("%s: %w: the batch expects revision %d, the store is at revision %d", d.Name, access.ErrConflict, b.ExpectRevision, cur)
	}
	return nil
}

// emptyRevision answers an empty batch: the current revision, or a
// conflict when the batch expected another.
func (c *Core) emptyRevision(ctx context.Context, conn Conn, b *access.Batch) (access.Revision, error) {
	cur, err := Revision(ctx, c.d, conn)
	if err != nil {
		return 0, err
	}
	if err := expect(c.d, b, cur); err != nil {
		return 0, err
	}
	return cur, nil
}

// prepare makes the checks of b that need the store rather than a view
// (ExpectRevision against cur, the revision before this write; CreateOnly)
// and returns b with its patches turned into puts of the current rows,
// patched. The caller holds the write lock, so the rows cannot change
// before the write commits. Errors of the checks and of
// [access.Batch.Patched] are returned as they are; others are wrapped with
// the dialect's name.
func prepare(ctx context.Context, d *Dialect, v *View, b *access.Batch, cur access.Revision) (*access.Batch, error) {
	if err := expect(d, b, cur); err != nil {
		return nil, err
	}
	if b.CreateOnly {
		sel := Selection{}
		for _, k := range kinds {
			sel[k.kind] = k.puts(b)
		}
		if err := v.fetch(ctx, sel); err != nil {
			return nil, fmt.Errorf("%s: %w", d.Name, err)
		}
		for _, k := range kinds {
			for _, id := range sel[k.kind] {
				if r := (access.Ref{Kind: k.kind, ID: id}); v.m.Has(r) {
					return nil, fmt.Errorf("%s: %s: %w", d.Name, r, access.ErrExists)
				}
			}
		}
	}
	if len(b.Patches) == 0 {
		return b, nil
	}
	p, err := b.Patched(ctx, v)
	if err != nil {
		return nil, err
	}
	return &p, nil
}
