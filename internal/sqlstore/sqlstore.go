// Package sqlstore holds what the SQL store adapters (store/postgres and
// store/sqlite) genuinely share: the per-kind table definitions, turning
// rows into model values and values into rows, the change log, and the
// [View] that [access.Batch.Validate] reads inside a write transaction.
//
// The adapters own their connections, transactions, locking, schema
// migrations and notifications; they hand this package a [Conn] bound to
// one transaction and a [Dialect] describing their SQL. A [Core] holds
// what both adapters' Stores do around that: the closed and schema
// checks, the read, write and trim flows, and the watchers.
//
// Both schemas use the same table and column names, so the queries here
// are written once, with $1-style parameters (which SQLite also accepts).
package sqlstore

import (
	"context"
	"errors"
	"time"
)

// Errors the adapters re-export, so that both report schema trouble with
// the same values.
var (
	// ErrSchemaTooNew marks a database whose schema version is newer than
	// the code: a newer release migrated it. The code refuses to read or
	// write it rather than misread it.
	ErrSchemaTooNew = errors.New("database schema is newer than this code")
	// ErrNotMigrated marks a database whose schema is older than the code
	// (or absent): call Migrate.
	ErrNotMigrated = errors.New("database schema is not migrated")
	// ErrBadRow marks a row the code cannot turn into a model value: an
	// unknown enum value, a malformed attribute object, a child row
	// without its parent. Such rows were written by something other than
	// this code; see [RowError].
	ErrBadRow = errors.New("bad row")
)

// RowError reports a row the code cannot understand, naming its table and
// its key. It matches [ErrBadRow] with errors.Is.
type RowError struct {
	// Table is the table the row is in.
	Table string
	// Row is the row's key: the id for an entity's main row, the key
	// columns in parentheses for other rows.
	Row string
	// Msg says what is wrong with it.
	Msg string
}

// Error renders the error as "table access_associate row 17: unknown
// associate type 9".
func (e *RowError) Error() string {
	return "table " + e.Table + " row " + e.Row + ": " + e.Msg
}

// Is makes errors.Is(err, ErrBadRow) true.
func (e *RowError) Is(target error) bool { return target == ErrBadRow }

// Rows is the part of pgx.Rows and *sql.Rows the loaders use.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Conn runs statements in one transaction. The SQL uses $1-style
// parameters.
type Conn interface {
	Query(ctx context.Context, sql string, args ...any) (Rows, error)
	Exec(ctx context.Context, sql string, args ...any) error
	// Insert adds rows to table; each row holds one value per column, as
	// the Dialect's encoders made them.
	Insert(ctx context.Context, table string, cols []string, rows [][]any) error
}

// Dialect is what differs between the SQL engines, as far as this package
// is concerned.
type Dialect struct {
	// Name prefixes errors: "postgres", "sqlite".
	Name string
	// In renders a condition that col is one of the int64s in parameter
	// $1, which IDs encodes.
	In func(col string) string
	// IDs encodes a list of int64s as parameter $1 for In and List.
	IDs func(ids []int64) any
	// List is a subquery yielding the int64s in parameter $1, one per row.
	List string
	// InText renders a condition that col is one of the strings in
	// parameter $1, which Texts encodes.
	InText func(col string) string
	// Texts encodes a list of strings as parameter $1 for InText.
	Texts func(s []string) any
	// Time encodes a non-zero time.
	Time func(t time.Time) any
	// ScanTime returns a scan destination for a nullable time column and a
	// function that decodes what was scanned into it (the zero time for
	// NULL).
	ScanTime func() (dest any, get func() (time.Time, error))
	// HasTable is a query reporting whether the table named $1 exists.
	HasTable string
	// SchemaTable is the CREATE TABLE IF NOT EXISTS statement for
	// access_schema (version, name, applied_at).
	SchemaTable string
}
