// Package sqlite stores an access model in an SQLite database, with the
// pure-Go driver modernc.org/sqlite (driver name "sqlite").
//
// The tables, their migrations and their rules are those of
// store/postgres: tables named access_…, created and upgraded only by an
// explicit [Store.Migrate]; every other operation fails with an error
// wrapping [ErrNotMigrated] until then, and with one wrapping
// [ErrSchemaTooNew] against a database migrated by newer code. Times are
// stored as UTC text (to the microsecond, all [access.Batch.Check] lets
// in), booleans as 0 and 1, string maps as
// JSON text; foreign keys are on for every connection.
//
// Writes run in BEGIN IMMEDIATE transactions, which SQLite serialises:
// each validates its batch with [access.Batch.Validate] against everything
// committed before it, raises the revision counter and records what it
// touched in the change log. [Store.Changes] reads one snapshot. A file
// database is opened in WAL mode so that reads do not wait for writes.
//
// Several Stores (in one process or several) may share one file. A Store
// tells its watchers about its own writes before the write returns, and
// learns of the others' by polling the revision counter (see
// [Options.PollInterval]).
//
// # Many tenants in one file
//
// One file may hold the models of many tenants (organisations), each
// opened as a Store of its own with [Options.Tenant]. SQLite has no
// schemas inside a file (an attached database is another file), so the
// counterpart of PostgreSQL's schema per tenant is a namespace of table
// names: tenant acme's tables, indexes and schema record are
// access_acme__role, access_acme__associate_name_fold, access_acme__schema
// and so on, the same objects as the default tenant's access_role… under
// its names. The Store rewrites every statement it runs (and every
// migration) for its tenant at the connection, once per statement text.
//
// That layout, rather than a tenant column on every row and in every key,
// keeps ids per tenant (two tenants may both hold associate 11) with the
// keys and queries of a single-tenant file unchanged: every foreign key of
// a tenant's tables refers to that tenant's tables, so a reference across
// tenants is impossible by construction, not by a check. Each tenant has
// its own revision counter, change log, migrations record ([Store.Migrate]
// migrates one tenant) and retention; a Store polls its own tenant's
// revision, so its watchers never wake for another tenant's writes, and
// two Stores of one tenant see each other's writes as on a file of its
// own. The default tenant ("") is the unprefixed tables: an existing
// single-tenant file is the default tenant of a many-tenant file, with
// nothing to move. Tenant names are lower-case letters, digits and single
// underscores ([ValidTenant]), which keeps every tenant's names apart
// from every other's. [Store.Tenants] lists a file's tenants. Errors of a
// tenant's Store begin "sqlite tenant acme:" and name tables by their
// default names ([RowError]); [Store.DB] is the whole file, whose tables
// an application addresses by the tenant's names.
//
// The limit is the schema: SQLite parses all of a file's schema, every
// tenant's 50 tables and indexes, on each new connection, and again on
// every connection after any tenant's migration; each ALTER TABLE of a
// migration parses it once more; and each table and index takes a page of
// its own, about 230 KB a tenant. [Store.Tenant] opens a
// tenant's Store on connections that have parsed the schema already.
// Measured (BenchmarkTenants; tenants of 100 associates, pure-Go driver,
// one run on a small shared machine):
//
//	tenants  file    Open and load  Store.Tenant and load  read   Migrate a new tenant
//	      1  0.23 MB        2.5 ms                 2.1 ms  0.5 ms                27 ms
//	     10   2.3 MB         13 ms                 1.8 ms  0.6 ms               0.2 s
//	    100    23 MB        210 ms                 5.1 ms  0.5 ms               2.4 s
//	    200    47 MB        0.9 s                   40 ms                          7 s
//
// The cost grows faster than the number of tenants (a file of 1,000 was
// not measured: making it takes hours, for the same reason). Reads and
// writes on a connection that has parsed the schema cost what they cost
// in a file of one tenant; the rewrite is a cached lookup of about
// 0.15 µs a statement. So one file suits a few dozen tenants, kept open
// with Store.Tenant and migrated one by one at deployment. For hundreds,
// give each tenant a file of its own (an [access.Pool] opens each on first
// use), or use store/postgres with a schema per tenant.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/sqlstore"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

var (
	_ access.Store   = (*Store)(nil)
	_ access.Writer  = (*Store)(nil)
	_ access.Watcher = (*Store)(nil)
	_ access.View    = (*Store)(nil)
)

// Errors a Store returns, beyond those of [access.Batch.Validate].
var (
	// ErrSchemaTooNew marks a database migrated by newer code than this.
	ErrSchemaTooNew = sqlstore.ErrSchemaTooNew
	// ErrNotMigrated marks a database whose schema is older than this code,
	// or absent: call [Store.Migrate].
	ErrNotMigrated = sqlstore.ErrNotMigrated
	// ErrBadRow marks a row the code cannot understand, written by some
	// other program; the error is a [*RowError] naming the table and row.
	ErrBadRow = sqlstore.ErrBadRow
	// ErrClosed marks use of a closed Store.
	ErrClosed = errors.New("store closed")
)

// RowError reports a row the code cannot understand, naming its table and
// key, as in "sqlite: table access_associate row 17: unknown associate
// type 9". A tenant's Store names the table as the default tenant's, after
// the tenant: "sqlite tenant acme: table access_associate row 17: …" is a
// row of access_acme__associate.
type RowError = sqlstore.RowError

//go:embed migrations/*.sql
var migrationFiles embed.FS

var migrations, errMigrations = sqlstore.ParseMigrations(migrationFiles, "migrations", SchemaVersion)

// SchemaVersion is the schema version this code reads and writes: the
// number of its migrations.
const SchemaVersion = 7

// Options tune a Store. A nil *Options, or a zero field, means the default
// documented on the field.
type Options struct {
	// PollInterval is how often a Store with watchers reads the revision
	// counter to learn of writes made by other Stores on the same file.
	// Each poll is one single-row read. Default one second.
	PollInterval time.Duration
	// BusyTimeout is how long a write waits for another connection's
	// write transaction to finish before failing. Default five seconds.
	BusyTimeout time.Duration
	// MaxConns limits the connection pool of a file database. Writes take
	// turns anyway; the other connections serve concurrent reads. Default
	// 4. An in-memory database always has one connection, since each
	// connection to ":memory:" would be a different database.
	MaxConns int
	// KeepChanges is how many change-log entries to keep; older ones are
	// trimmed (whole revisions at a time), and a Changes call from before
	// them gets a full delta. Default 100,000; negative keeps every entry.
	KeepChanges int
	// KeepFor trims change-log entries older than this as well. Default:
	// no limit by age.
	KeepFor time.Duration
	// TrimEvery is how many revisions pass between automatic trims, done
	// inside the write that reaches the revision. Default 100.
	TrimEvery int
	// Now tells the time for change-log entries. Default time.Now.
	Now func() time.Time
	// Tenant names the tenant whose model this Store reads and writes,
	// one of many in the file, in tables named access_<tenant>__… (see
	// "Many tenants in one file" in the package documentation, and
	// [ValidTenant] for the names allowed). Default "": the default
	// tenant, whose tables are those of a single-tenant file.
	Tenant string
}

// Store is an access model in an SQLite database. It is safe for
// concurrent use.
type Store struct {
	db      *sql.DB
	memory  bool
	opts    Options
	shared  *shared           // counts the Stores on db
	tenant  *tenant           // rewrites the tenant's statements; nil for the default tenant
	dialect *sqlstore.Dialect // the package's, or the tenant's
	core    *sqlstore.Core    // closing, checks, reads, writes, watchers
}

// Open opens (creating if need be) the database at path: a file name, a
// "file:" URI, or ":memory:" for a private in-memory database. It sets
// busy_timeout and foreign_keys on every connection, and WAL mode and
// synchronous=NORMAL on a file. It does not migrate.
//
// Errors: one wrapping [access.ErrInvalid] for a bad [Options.Tenant];
// the file cannot be opened.
func Open(ctx context.Context, path string, opts *Options) (*Store, error) {
	if errMigrations != nil {
		return nil, fmt.Errorf("sqlite: embedded migrations: %w", errMigrations)
	}
	s := &Store{}
	if opts != nil {
		s.opts = *opts
	}
	if err := ValidTenant(s.opts.Tenant); err != nil {
		return nil, err
	}
	s.setTenant(s.opts.Tenant)
	if s.opts.PollInterval <= 0 {
		s.opts.PollInterval = time.Second
	}
	if s.opts.BusyTimeout <= 0 {
		s.opts.BusyTimeout = 5 * time.Second
	}
	if s.opts.MaxConns <= 0 {
		s.opts.MaxConns = 4
	}
	s.memory = path == "" || path == ":memory:" || strings.Contains(path, "mode=memory")
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", s.opts.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if !s.memory {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
	}
	// Transactions an application begins on DB() take the write lock at
	// once, so that ApplyTx never finds its snapshot stale when it writes.
	q.Set("_txlock", "immediate")
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	db, err := sql.Open("sqlite", path+sep+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	n := s.opts.MaxConns
	if s.memory {
		n = 1
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s.db, s.shared = db, &shared{n: 1}
	if err := s.start(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// start makes the Store's core, on s.db, and checks the schema: one not
// migrated yet, or too new, is no error yet.
func (s *Store) start(ctx context.Context) error {
	cfg := sqlstore.Config{
		Dialect:   s.dialect,
		ErrClosed: ErrClosed,
		Version:   SchemaVersion,
		DB:        s.conn(s.db),
		Snapshot:  s.snapshot,
		Write: func(ctx context.Context, _ string, fn func(c sqlstore.Conn) (access.Revision, error)) (access.Revision, error) {
			return s.write(ctx, fn)
		},
		Retention: sqlstore.Retention{
			KeepChanges: s.opts.KeepChanges, KeepFor: s.opts.KeepFor, TrimEvery: s.opts.TrimEvery, Now: s.opts.Now,
		},
	}
	// An in-memory database has no other writers to poll for.
	if !s.memory {
		cfg.Follow = s.poll
	}
	s.core = sqlstore.NewCore(cfg)
	if err := s.core.Check(ctx); err != nil && !errors.Is(err, ErrNotMigrated) && !errors.Is(err, ErrSchemaTooNew) {
		return err
	}
	return nil
}

// DB returns the database handle, for applications that want to begin
// transactions for [Store.ApplyTx] on it (they begin with BEGIN
// IMMEDIATE). An in-memory database has a single connection: while the
// application holds a transaction, other calls on the Store wait for it.
func (s *Store) DB() *sql.DB { return s.db }

// Close stops polling and closes the database, once no other Store shares
// its connections (see [Store.Tenant]). It may be called more than once;
// afterwards operations fail. It must not be called from a watcher.
func (s *Store) Close() {
	if s.core.Close() && s.shared.release() {
		s.db.Close()
	}
}

// Migrate brings the database schema up to [SchemaVersion] in one write
// transaction, which also keeps concurrent Migrate calls apart. It is
// idempotent and never drops data.
//
// Errors: one wrapping [ErrSchemaTooNew] when the database was migrated by
// newer code; database errors.
func (s *Store) Migrate(ctx context.Context) error {
	return s.migrateTo(ctx, SchemaVersion)
}

func (s *Store) migrateTo(ctx context.Context, version int) error {
	if _, err := s.write(ctx, func(c sqlstore.Conn) (access.Revision, error) {
		return 0, sqlstore.Migrate(ctx, s.dialect, c, migrations, version)
	}); err != nil {
		return err
	}
	s.core.Migrated(version)
	return nil
}

// snapshot begins a read-only transaction, so that everything read in it
// belongs to one committed state.
func (s *Store) snapshot(ctx context.Context) (sqlstore.Conn, func(), error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, err
	}
	return s.conn(tx), func() { tx.Rollback() }, nil
}

// write runs fn in a write transaction on a connection of its own, and
// commits if fn succeeds. It drives BEGIN IMMEDIATE, COMMIT and ROLLBACK
// itself because a COMMIT that fails (a deferred foreign key) leaves the
// transaction open, and only the connection's holder can roll it back.
//
// ctx must not reach COMMIT: the driver reports ctx.Err() for any
// statement during which ctx ends, even one that completed, so a COMMIT
// that landed would be reported as failed. ctx is checked just before
// COMMIT instead, and COMMIT runs without it. SQLite commits locally (the
// write lock is held since BEGIN IMMEDIATE; in WAL mode COMMIT waits for
// nobody), so it takes little time, and an error from it means the
// transaction did not commit: the outcome is never unknown.
func (s *Store) write(ctx context.Context, fn func(c sqlstore.Conn) (access.Revision, error)) (access.Revision, error) {
	if err := s.core.Closed(); err != nil {
		return 0, err
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqlite: %w", err)
	}
	defer c.Close()
	rollback := func() {
		if _, err := c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); err != nil {
			// A connection whose transaction could not be ended must not
			// go back to the pool: ErrBadConn makes database/sql close it.
			c.Raw(func(any) error { return driver.ErrBadConn })
		}
	}
	// end rolls back a transaction that may or may not be open: a
	// SAVEPOINT begins one if none is, so that the ROLLBACK ends one either
	// way rather than fail and cost the connection (and with it an
	// in-memory database).
	end := func() {
		c.ExecContext(context.WithoutCancel(ctx), "SAVEPOINT access_end")
		rollback()
	}
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		if ctx.Err() != nil {
			// The BEGIN may have run all the same (see above), and the
			// connection must not go back to the pool inside a
			// transaction.
			end()
		}
		return 0, fmt.Errorf("sqlite: begin: %w", err)
	}
	rev, err := fn(s.conn(c))
	if err != nil {
		rollback()
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		rollback()
		return 0, fmt.Errorf("sqlite: before commit: %w", err)
	}
	if _, err := c.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
		// SQLITE_BUSY leaves the transaction open; other errors roll it
		// back.
		end()
		return 0, fmt.Errorf("sqlite: commit: %w", err)
	}
	return rev, nil
}

// timeFormat is how times are stored: UTC, fixed width, so that text order
// is time order.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

// timeLayouts are the forms a stored time is read in: this package's, and
// those other tools (and SQLite's own date functions) write.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02"}

// dialect tells the shared SQL code about SQLite. Lists of values travel
// as one JSON array parameter read with json_each.
var dialect = &sqlstore.Dialect{
	Name: "sqlite",
	In:   func(col string) string { return col + " IN (SELECT value FROM json_each($1))" },
	IDs: func(ids []int64) any {
		b := make([]byte, 0, 2+len(ids)*8)
		b = append(b, '[')
		for i, id := range ids {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, id, 10)
		}
		return string(append(b, ']'))
	},
	List:   "SELECT value FROM json_each($1)",
	InText: func(col string) string { return col + " IN (SELECT value FROM json_each($1))" },
	Texts: func(s []string) any {
		b, _ := json.Marshal(s) // a []string always marshals
		return string(b)
	},
	Time: func(t time.Time) any { return t.UTC().Format(timeFormat) },
	ScanTime: func() (any, func() (time.Time, error)) {
		var s sql.NullString
		return &s, func() (time.Time, error) {
			if !s.Valid {
				return time.Time{}, nil
			}
			for _, l := range timeLayouts {
				if t, err := time.Parse(l, s.String); err == nil {
					return t, nil
				}
			}
			return time.Time{}, fmt.Errorf("%q is not a time", s.String)
		}
	},
	HasTable: "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = $1",
	SchemaTable: `CREATE TABLE IF NOT EXISTS access_schema (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	applied_at text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)`,
}

// querier is what *sql.DB, *sql.Conn and *sql.Tx have in common.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// tenantDialect is the package's dialect for tenant t: its errors name
// the tenant, and it finds t's tables.
func tenantDialect(t *tenant) *sqlstore.Dialect {
	d := *dialect
	d.Name = "sqlite tenant " + t.name
	// sqlstore asks for a table by its access_ name as a parameter, which
	// no statement rewrite reaches.
	d.HasTable = "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '" +
		t.prefix + "' || substr($1, " + strconv.Itoa(len(tablePrefix)+1) + ")"
	return &d
}

// conn adapts a database/sql handle to sqlstore.Conn, rewriting each
// statement for the tenant t (nil: the default tenant).
type conn struct {
	q querier
	t *tenant
}

// conn returns q as a sqlstore.Conn for the Store's tenant.
func (s *Store) conn(q querier) conn { return conn{q, s.tenant} }

type rows struct{ *sql.Rows }

func (r rows) Close() { r.Rows.Close() }

func (c conn) Query(ctx context.Context, sql string, args ...any) (sqlstore.Rows, error) {
	r, err := c.q.QueryContext(ctx, c.t.rewrite(sql), args...)
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}

func (c conn) Exec(ctx context.Context, sql string, args ...any) error {
	_, err := c.q.ExecContext(ctx, c.t.rewrite(sql), args...)
	return err
}

// maxInsertRows bounds the rows of one INSERT statement; SQLite allows
// 32766 parameters in one statement.
const maxInsertRows = 200

func (c conn) Insert(ctx context.Context, table string, cols []string, rows [][]any) error {
	// The statement's text depends on the number of rows, so it is built
	// for the tenant's table rather than rewritten and cached.
	table = c.t.table(table)
	per := min(maxInsertRows, 32766/len(cols))
	var stmt *sql.Stmt
	stmtRows := 0
	defer func() {
		if stmt != nil {
			stmt.Close()
		}
	}()
	args := make([]any, 0, per*len(cols))
	for len(rows) > 0 {
		n := min(per, len(rows))
		if stmt == nil || n != stmtRows {
			if stmt != nil {
				stmt.Close()
			}
			var err error
			if stmt, err = c.q.PrepareContext(ctx, insertSQL(table, cols, n)); err != nil {
				return err
			}
			stmtRows = n
		}
		args = args[:0]
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

func insertSQL(table string, cols []string, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	row := "(" + strings.Repeat("?, ", len(cols)-1) + "?)"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}
