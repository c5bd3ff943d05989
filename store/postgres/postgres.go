// Package postgres stores an access model in PostgreSQL.
//
// A [Store] owns its tables, all named access_…, in the first schema of
// the connection's search_path (select one with a search_path parameter in
// the DSN), or in the schema [Options.Schema] names, which lets the Stores
// of many schemas — one per tenant — share one connection pool. It creates and upgrades them with versioned migrations
// embedded in the binary, applied only by an explicit [Store.Migrate];
// until then every other operation fails with an error wrapping
// [ErrNotMigrated], and against a database migrated by newer code with
// one wrapping [ErrSchemaTooNew].
//
// # Schema
//
// Each kind of entity has a main table keyed by id (access_role,
// access_group, access_associate, access_sharing_rule, access_grant,
// access_category, access_impersonation) and child tables for its lists
// and maps (access_role_right, access_group_member, access_associate_group
// and so on), whose rows go with their owner. References between entities
// are foreign keys checked at commit; the rules and their error messages
// are [access.Batch.Validate]'s. A large write (100,000 rows or more, and
// at least a quarter of what the tables it writes hold, by a Store whose
// user owns the tables) suspends the foreign keys of those tables instead,
// and adds them back after its last row, which checks every row of the
// tables at once: PostgreSQL checks a key row by row, which at a million
// associates is most of an import. Until such a write commits, readers of
// the tables it writes wait for it (it holds ACCESS EXCLUSIVE locks,
// which it asks for without waiting, trying a few times, so that it never
// waits while it holds the store's write lock; when the tables stay busy
// it writes row by row). [Store.ApplyTx] always writes row by row: the
// transaction is the caller's. access_revision holds the revision
// counter, access_change the change log, access_schema the applied
// migrations. The SQL files under migrations/ document every column.
//
// Times are stored as timestamptz, to the microsecond.
//
// # Writes
//
// [Store.Apply] commits an [access.Batch] in one transaction: it takes a
// transaction-scoped advisory lock, so writers serialise (two writers
// cannot together create a group cycle), raises the revision counter,
// validates the batch with [access.Batch.Validate] against what the
// transaction sees, writes it, records each entity it touched in the change
// log, and NOTIFYs the store's channel with the new revision.
// [Store.ApplyTx] does the same inside the caller's own transaction, so an
// application can write a user and its own rows atomically.
//
// A write reported as failed has not taken effect. The caller's context
// cannot cut COMMIT short: it is checked just before, and COMMIT runs to
// its answer, waited for 30 seconds plus 50 microseconds for each row the
// write inserted (a write with its foreign keys in force checks them at
// commit, row by row). Only when the connection is lost while the server commits
// is the outcome unknown; Apply then returns an error wrapping
// [access.ErrCommitUnknown], and [Store.Committed] asks the server, by the
// write's transaction id, whether it committed.
//
// # Reads
//
// [Store.Changes] reads in a REPEATABLE READ snapshot: the whole model in a
// few bulk queries (since 0, or since older than the trimmed change log),
// or the current values of the entities the log lists after since. The
// store is also an [access.View] of its latest committed state.
//
// # Notifications
//
// [Store.Watch] LISTENs on a dedicated connection and reconnects with
// capped backoff when it is lost; [Store.Health] and [Options.OnListen]
// tell whether it is up.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
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
	// ErrListenerDown marks [Store.Health]'s report that the listen
	// connection is lost and being re-established.
	ErrListenerDown = errors.New("listener down")
	// ErrClosed marks use of a closed Store.
	ErrClosed = errors.New("store closed")
)

// RowError reports a row the code cannot understand, naming its table and
// key, as in "postgres: table access_associate row 17: unknown associate
// type 9".
type RowError = sqlstore.RowError

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations is the schema history. A malformed embedded file is a bug in
// this package, caught by its tests.
var migrations, errMigrations = sqlstore.ParseMigrations(migrationFiles, "migrations", SchemaVersion)

// SchemaVersion is the schema version this code reads and writes: the
// number of its migrations.
const SchemaVersion = 7

// Options tune a Store. A nil *Options, or a zero field, means the default
// documented on the field.
type Options struct {
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
	// Channel is the NOTIFY channel. Default "access_" followed by the
	// schema name (hashed when that would be too long), so that stores in
	// different schemas of one database do not hear each other.
	Channel string
	// ListenRetryMax caps the wait between attempts to re-establish a lost
	// listen connection; the wait starts at 50 ms and doubles. Default 5 s.
	ListenRetryMax time.Duration
	// ListenPing is how long the listen connection may sit idle before it
	// is checked with a round trip, so a silently dead connection is found.
	// Default 30 s.
	ListenPing time.Duration
	// OnListen, if set, is called from the listener goroutine each time the
	// listener's state changes: with nil once it is listening (after the
	// first connection and after each reconnection), with an error wrapping
	// [ErrListenerDown] when it loses its connection or fails to make one.
	// It must not block for long.
	OnListen func(err error)
	// Now tells the time for change-log entries. Default time.Now.
	Now func() time.Time
	// Primary is, for a Store on a hot standby, the DSN of the primary it
	// replicates. NOTIFY does not reach a standby, so such a Store listens
	// on the primary instead, and passes each notification on once the
	// standby has replayed that revision. Without it, a Store on a standby
	// polls the standby's replayed revision every StandbyPoll. Ignored
	// when the server is not in recovery. See [Store.Standby].
	Primary string
	// Listener, when set, is the one LISTEN connection this Store shares
	// with the other Stores of the process — a service with a schema per
	// tenant opens one Store per tenant and one Listener for all. Without
	// it each watched Store keeps a listen connection of its own. Not used
	// on a standby (see Primary).
	Listener *Listener
	// StandbyPoll is how often a Store on a standby without Primary asks
	// for the replayed revision, and the longest a notification from the
	// primary waits between looks at the standby's. Default 100 ms.
	StandbyPoll time.Duration
	// Schema, when set, names the schema that holds the store's tables,
	// in place of the first schema of the connection's search_path: a
	// service with a schema per tenant opens every tenant's Store with [New]
	// over one shared pool, each with its tenant's schema here. Every
	// transaction the Store runs begins by setting its search_path to the
	// schema alone, local to the transaction (SET LOCAL), in the same round
	// trip as BEGIN, so the pool's connections are left as they were;
	// statements outside a transaction ([Store.Revision], the version
	// check) run in a short one (three round trips instead of one);
	// [Store.ApplyTx] sets it for its own statements and puts the caller's
	// back. [Store.Migrate] creates the schema if it does not exist.
	// PostgreSQL re-plans a cached statement when the search_path differs
	// from the one it was planned under, so one pool's prepared statements
	// serve every schema; all the schemas a pool serves must be at the same
	// [SchemaVersion].
	//
	// The name must be a plain lower-case SQL identifier: 1 to 63 bytes of
	// a-z, 0-9 and _, not starting with a digit or with pg_ (say
	// "tenant_42"), so that quoted and unquoted it names the same schema.
	// Any other name is refused with an error wrapping [access.ErrInvalid].
	// The channel and the lock keys derive from it as from a DSN's schema.
	Schema string
}

// Store is an access model in PostgreSQL. It is safe for concurrent use.
// Several Stores, in one process or many, may share one database schema:
// each sees the others' writes.
type Store struct {
	pool       *pgxpool.Pool
	ownPool    bool
	listenCfg  *pgx.ConnConfig
	opts       Options
	schema     string
	channel    string
	lockKey    int64
	migrateKey int64
	core       *sqlstore.Core // closing, checks, reads, writes, watchers

	// For a Store opened with Options.Schema: the statements beginning its
	// read, write and short transactions, each followed by the setting of
	// the search_path, and the search_path value; all empty otherwise.
	beginRead, beginWrite, beginShort string
	searchPath                        string

	bulk      bulkPolicy    // which writes suspend the foreign keys (txConn.Bulk)
	listenPID atomic.Uint32 // backend pid of the listen connection, for tests
	standby   bool          // the server was in recovery when the Store opened
}

// Open connects to the database dsn names (a URL or key=value string that
// pgxpool.ParseConfig accepts; a search_path parameter selects the schema)
// and returns a Store that owns the connection pool. It does not migrate.
//
// Errors: a malformed dsn, a failed connection, or a database with no
// schema to create the tables in.
func Open(ctx context.Context, dsn string, opts *Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s, err := newStore(ctx, pool, true, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// New returns a Store over pool, which the caller keeps owning: Close does
// not close it. The listener makes its own connection with the pool's
// configuration. New does not migrate.
//
// With [Options.Schema] set, the Store keeps its tables in that schema
// whatever the pool's search_path, so one pool serves the Stores of any
// number of schemas — a tenant's Store costs no connection of its own:
//
//	pool, _ := pgxpool.New(ctx, dsn)     // one pool for every tenant
//	ln, _ := postgres.NewListener(dsn)   // one LISTEN connection for every tenant
//	s, err := postgres.New(ctx, pool, &postgres.Options{Schema: "tenant_42", Listener: ln})
//
// Errors: one wrapping [access.ErrInvalid] for a malformed Options.Schema;
// a failed connection, or, without Options.Schema, a database with no
// schema to create the tables in.
func New(ctx context.Context, pool *pgxpool.Pool, opts *Options) (*Store, error) {
	return newStore(ctx, pool, false, opts)
}

// newStore is Open and New: it fills in the options' defaults, derives
// the notification channel and lock keys from the current schema, and
// checks the schema's version, leaving an unmigrated or too new schema for
// the store's methods to report. own says whether Close closes the pool.
func newStore(ctx context.Context, pool *pgxpool.Pool, own bool, opts *Options) (*Store, error) {
	if errMigrations != nil {
		return nil, fmt.Errorf("postgres: embedded migrations: %w", errMigrations)
	}
	if opts != nil && opts.Schema != "" {
		if err := checkSchema(opts.Schema); err != nil {
			return nil, err
		}
	}
	s := &Store{pool: pool, ownPool: own, listenCfg: pool.Config().ConnConfig.Copy(), bulk: defaultBulk}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.ListenRetryMax <= 0 {
		s.opts.ListenRetryMax = 5 * time.Second
	}
	if s.opts.ListenPing <= 0 {
		s.opts.ListenPing = 30 * time.Second
	}
	if err := s.openStandby(ctx); err != nil {
		return nil, err
	}
	db := sqlstore.Conn(txConn{q: pool})
	if s.opts.Schema != "" {
		s.schema = s.opts.Schema
		s.searchPath = pgx.Identifier{s.schema}.Sanitize()
		set := "; SELECT set_config('search_path', '" + s.searchPath + "', true)"
		s.beginRead = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" + set
		s.beginWrite = "BEGIN ISOLATION LEVEL READ COMMITTED" + set
		s.beginShort = "BEGIN" + set
		db = shortConn{s}
	} else {
		var schema *string
		if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		if schema == nil {
			return nil, fmt.Errorf("postgres: no schema in the search_path exists to hold the tables")
		}
		s.schema = *schema
	}
	s.channel = s.opts.Channel
	if s.channel == "" {
		s.channel = "access_" + s.schema
		if len(s.channel) > 63 {
			s.channel = "access_" + strconv.FormatUint(hash(s.schema), 16)
		}
	}
	s.lockKey = int64(hash("github.com/crmaccess/access write " + s.schema))
	s.migrateKey = int64(hash("github.com/crmaccess/access migrate " + s.schema))
	s.core = sqlstore.NewCore(sqlstore.Config{
		Dialect:   dialect,
		ErrClosed: ErrClosed,
		Version:   SchemaVersion,
		DB:        db,
		Snapshot:  s.snapshot,
		Write:     s.inTx,
		Lock:      s.lock,
		Announce:  s.announce,
		Follow:    s.follow,
		Starting:  fmt.Errorf("postgres: %w: connecting", ErrListenerDown),
		OnHealth:  s.opts.OnListen,
		Retention: sqlstore.Retention{
			KeepChanges: s.opts.KeepChanges, KeepFor: s.opts.KeepFor, TrimEvery: s.opts.TrimEvery, Now: s.opts.Now,
		},
	})
	if err := s.core.Check(ctx); err != nil && !errors.Is(err, ErrNotMigrated) && !errors.Is(err, ErrSchemaTooNew) {
		return nil, err
	}
	return s, nil
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// Close stops the listener and, for a Store made by Open, closes the
// connection pool. It waits for the listener goroutine to finish, so it
// must not be called from a watcher. Close may be called more than once;
// afterwards operations fail.
func (s *Store) Close() {
	if s.core.Close() && s.ownPool {
		s.pool.Close()
	}
}

// Pool returns the connection pool, for applications that want to begin
// transactions for [Store.ApplyTx] on it.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Schema returns the name of the schema holding the store's tables.
func (s *Store) Schema() string { return s.schema }

// Migrate brings the database schema up to [SchemaVersion], applying the
// missing migrations in one transaction under an advisory lock, so that
// concurrent Migrate calls (from several processes starting at once) are
// safe. It is idempotent and never drops data. A Store opened with
// [Options.Schema] first creates that schema if it does not exist, in the
// same transaction (which needs the CREATE privilege on the database when
// it does not).
//
// Errors: one wrapping [ErrSchemaTooNew] when the database was migrated by
// newer code; database errors.
func (s *Store) Migrate(ctx context.Context) error {
	return s.migrateTo(ctx, SchemaVersion)
}

func (s *Store) migrateTo(ctx context.Context, version int) error {
	if err := s.core.Closed(); err != nil {
		return err
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: s.beginShort})
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", s.migrateKey); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if s.searchPath != "" {
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+s.searchPath); err != nil {
			return fmt.Errorf("postgres: migrate: creating schema %s: %w", s.searchPath, err)
		}
	}
	if err := sqlstore.Migrate(ctx, dialect, txConn{q: tx}, migrations, version); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	s.core.Migrated(version)
	return nil
}

// snapshot begins a read-only REPEATABLE READ transaction, so that
// everything read in it belongs to one committed state.
func (s *Store) snapshot(ctx context.Context) (sqlstore.Conn, func(), error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly, BeginQuery: s.beginRead})
	if err != nil {
		return nil, nil, err
	}
	return txConn{q: tx}, func() { tx.Rollback(context.WithoutCancel(ctx)) }, nil
}

// commitTimeout bounds the wait for the answer to COMMIT, which does not
// end with the caller's context (see inTx), plus commitPerRow for each row
// the transaction inserted: COMMIT checks the deferred foreign keys of
// every row a write inserted with them in force, about ten microseconds
// a key, so a batch of a million associates may legitimately take longer
// than 30 s to commit. A commit that takes longer is reported as unknown;
// Store.Apply's documentation names the figures.
const (
	commitTimeout = 30 * time.Second
	commitPerRow  = 50 * time.Microsecond
)

// inTx runs fn in a new READ COMMITTED transaction and commits it if fn
// succeeds.
//
// The caller's context may end at any moment, but it must not end the
// COMMIT: pgx would drop the connection while the server carries on and
// commits, and a write reported as failed would take effect. So ctx is
// checked once more just before COMMIT, and COMMIT runs detached from it
// (bounded by commitTimeout), which may make inTx return a COMMIT's round
// trip after the deadline. An error from inTx then means the write did not
// take effect, except when the connection is lost (or the timeout passes)
// while COMMIT is under way: that error is an *access.CommitError, and
// [Store.Committed] tells from the transaction id read just before COMMIT
// whether the write landed.
func (s *Store) inTx(ctx context.Context, op string, fn func(c sqlstore.Conn) (access.Revision, error)) (access.Revision, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, BeginQuery: s.beginWrite})
	if err != nil {
		return 0, fmt.Errorf("postgres: %s: %w", op, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var rows int
	rev, err := fn(txConn{q: tx, rows: &rows, bulk: &s.bulk})
	if err != nil {
		return 0, readOnly(op, err)
	}
	var xid uint64
	if err := tx.QueryRow(ctx, "SELECT pg_current_xact_id()::text::bigint").Scan(&xid); err != nil {
		return 0, fmt.Errorf("postgres: %s: reading the transaction id: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("postgres: %s: before commit: %w", op, err)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout+time.Duration(rows)*commitPerRow)
	defer cancel()
	if err := tx.Commit(cctx); err != nil {
		if commitRefused(err) {
			return 0, fmt.Errorf("postgres: %s: commit: %w", op, err)
		}
		return 0, fmt.Errorf("postgres: %s: %w", op, &access.CommitError{Revision: rev, Txn: xid, Err: err})
	}
	return rev, nil
}

// commitRefused reports whether err, from COMMIT, says for certain that
// the transaction did not commit: the server answered COMMIT with an
// ERROR (a deferred constraint, a serialization failure) or by rolling
// back. A FATAL or PANIC is not certain: the server may report one while
// dying after the commit. Nor is pgconn.SafeToRetry: when reading the
// answer fails, pgx closes the connection and reports "conn closed",
// which it calls safe to retry although COMMIT was sent.
func commitRefused(err error) bool {
	if errors.Is(err, pgx.ErrTxCommitRollback) {
		return true
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	severity := pgErr.SeverityUnlocalized
	if severity == "" {
		severity = pgErr.Severity
	}
	return severity == "ERROR"
}

// Committed reports whether the write that e describes committed, for an
// error wrapping [access.ErrCommitUnknown] returned by this Store or by
// another on the same database, in this process or another. It asks the
// server for the status of the write's transaction, e.Txn, waiting while
// the server still finishes it (a server that lost its client in the
// middle of COMMIT completes it first). If it reports true, e.Revision is
// the write's revision.
//
// The server answers for recent transactions only: ask within hours, not
// months, of the error (until the server's transaction status log has
// been truncated past e.Txn).
//
// Errors: one wrapping [access.ErrInvalid] for a zero e.Txn; [ErrClosed];
// ctx.Err() and database errors, wrapped, including the server's
// answer that it can no longer tell.
func (s *Store) Committed(ctx context.Context, e *access.CommitError) (bool, error) {
	if err := s.core.Closed(); err != nil {
		return false, err
	}
	if e == nil || e.Txn == 0 {
		return false, fmt.Errorf("postgres: committed: no transaction id: %w", access.ErrInvalid)
	}
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		var status *string
		if err := s.pool.QueryRow(ctx, "SELECT pg_xact_status($1::text::xid8)", strconv.FormatUint(e.Txn, 10)).Scan(&status); err != nil {
			return false, fmt.Errorf("postgres: committed: transaction %d: %w", e.Txn, err)
		}
		switch {
		case status == nil:
			return false, fmt.Errorf("postgres: committed: transaction %d is too old for the server to tell", e.Txn)
		case *status == "committed":
			return true, nil
		case *status == "aborted":
			return false, nil
		}
		// "in progress"
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("postgres: committed: transaction %d still in progress: %w", e.Txn, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// lock takes the store's write lock, a transaction-scoped advisory lock,
// so that writers serialise.
func (s *Store) lock(ctx context.Context, c sqlstore.Conn) error {
	return c.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", s.lockKey)
}

// announce queues a NOTIFY of rev on the store's channel, which
// PostgreSQL delivers when the transaction commits.
func (s *Store) announce(ctx context.Context, c sqlstore.Conn, rev access.Revision) error {
	if err := c.Exec(ctx, "SELECT pg_notify($1, $2)", s.channel, strconv.FormatUint(uint64(rev), 10)); err != nil {
		return fmt.Errorf("postgres: apply: notify: %w", err)
	}
	return nil
}

// dialect tells the shared SQL code about PostgreSQL. InText names its
// strings as a subquery: PostgreSQL plans "col = ANY($1)" by looking at
// every element, which for the names of a million associates (the lookup
// of an import's names) takes over a second.
var dialect = &sqlstore.Dialect{
	Name:   "postgres",
	In:     func(col string) string { return col + " = ANY($1::bigint[])" },
	IDs:    func(ids []int64) any { return ids },
	List:   "SELECT unnest($1::bigint[])",
	InText: func(col string) string { return col + " IN (SELECT unnest($1::text[]))" },
	Texts:  func(s []string) any { return s },
	Time:   func(t time.Time) any { return t },
	ScanTime: func() (any, func() (time.Time, error)) {
		var ts pgtype.Timestamptz
		return &ts, func() (time.Time, error) {
			switch {
			case !ts.Valid:
				return time.Time{}, nil
			case ts.InfinityModifier != pgtype.Finite:
				return time.Time{}, fmt.Errorf("%s is not a time", ts.InfinityModifier)
			}
			return ts.Time.UTC(), nil
		}
	},
	HasTable: "SELECT to_regclass($1) IS NOT NULL",
	SchemaTable: `CREATE TABLE IF NOT EXISTS access_schema (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`,
}

// querier is what pgx.Tx and *pgxpool.Pool have in common.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// txConn adapts a pgx transaction (or pool) to sqlstore.Conn. If rows is
// not nil, Insert adds the number of rows it inserts to it. bulk, for a
// write transaction, says when a write suspends the foreign keys (see
// txConn.Bulk); nil never.
type txConn struct {
	q    querier
	rows *int
	bulk *bulkPolicy
}

func (c txConn) Query(ctx context.Context, sql string, args ...any) (sqlstore.Rows, error) {
	rows, err := c.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (c txConn) Exec(ctx context.Context, sql string, args ...any) error {
	_, err := c.q.Exec(ctx, sql, args...)
	return err
}

// copyThreshold is the number of rows from which Insert uses COPY rather
// than one multi-row INSERT: COPY costs an extra round trip to describe the
// table but streams any number of rows.
const copyThreshold = 64

// Insert adds rows to table: with one multi-row INSERT for a few rows, by
// COPY from copyThreshold rows on.
func (c txConn) Insert(ctx context.Context, table string, cols []string, rows [][]any) error {
	if c.rows != nil {
		*c.rows += len(rows)
	}
	if len(rows) >= copyThreshold {
		_, err := c.q.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
		return err
	}
	q, args := insertSQL(table, cols, rows)
	_, err := c.q.Exec(ctx, q, args...)
	return err
}

// insertSQL writes one multi-row INSERT of rows into table, with numbered
// parameters.
func insertSQL(table string, cols []string, rows [][]any) (string, []any) {
	q := make([]byte, 0, 64+len(rows)*len(cols)*5)
	q = append(q, "INSERT INTO "...)
	q = append(q, table...)
	q = append(q, " ("...)
	for i, c := range cols {
		if i > 0 {
			q = append(q, ", "...)
		}
		q = append(q, c...)
	}
	q = append(q, ") VALUES "...)
	args := make([]any, 0, len(rows)*len(cols))
	for i, r := range rows {
		if i > 0 {
			q = append(q, ", "...)
		}
		q = append(q, '(')
		for j, v := range r {
			if j > 0 {
				q = append(q, ", "...)
			}
			args = append(args, v)
			q = append(q, '$')
			q = strconv.AppendInt(q, int64(len(args)), 10)
		}
		q = append(q, ')')
	}
	return string(q), args
}
