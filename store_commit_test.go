package access_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/crmaccess/access"
)

// TestCommitError checks what a caller of Apply relies on: an unknown
// commit is found with errors.Is and errors.As through the store's
// wrapping, keeps its cause, and is not mistaken for another sentinel.
func TestCommitError(t *testing.T) {
	err := fmt.Errorf("postgres: apply: %w", &access.CommitError{Revision: 7, Txn: 812, Err: io.ErrUnexpectedEOF})
	if !errors.Is(err, access.ErrCommitUnknown) {
		t.Errorf("errors.Is(%v, ErrCommitUnknown) = false", err)
	}
	var ce *access.CommitError
	if !errors.As(err, &ce) || ce.Revision != 7 || ce.Txn != 812 {
		t.Fatalf("errors.As(%v) = %+v", err, ce)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("the cause is lost: %v", err)
	}
	for _, other := range []error{access.ErrInvalid, access.ErrNotFound, context.DeadlineExceeded} {
		if errors.Is(err, other) {
			t.Errorf("errors.Is(%v, %v) = true", err, other)
		}
	}
	if errors.Is(fmt.Errorf("postgres: apply: commit: %w", io.ErrUnexpectedEOF), access.ErrCommitUnknown) {
		t.Error("a plain commit error matches ErrCommitUnknown")
	}
	const want = "postgres: apply: commit of revision 7 (transaction 812): outcome unknown: unexpected EOF"
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}
