package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/crmaccess/access"
)

// maxTenantLen bounds a tenant name, so that every table name stays short
// and readable in sqlite_master and in error messages.
const maxTenantLen = 32

// ValidTenant reports whether name may name a tenant (see
// [Options.Tenant]): nil, or an error wrapping [access.ErrInvalid] that
// says why not. The empty name is the default tenant and valid. Any other
// name is 1 to 32 characters of lower-case ASCII letters, digits and
// single underscores, neither first nor last: "acme", "org_42", "7".
//
// The rules make the tables' names unambiguous: a tenant's tables are
// named access_<tenant>__<table>, the default tenant's access_<table>, and
// no table name of the schema contains "__", so the first "__" of a name
// ends the tenant and no two tenants, nor a tenant and the default, can
// ever name the same table. Upper case is refused because SQLite compares
// names without case: "Acme" and "acme" would be one tenant.
func ValidTenant(name string) error {
	if name == "" {
		return nil
	}
	if len(name) > maxTenantLen {
		return fmt.Errorf("sqlite: tenant %.40q…: %w: longer than %d characters", name, access.ErrInvalid, maxTenantLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '_' && i == 0:
			return fmt.Errorf("sqlite: tenant %q: %w: begins with _", name, access.ErrInvalid)
		case c == '_' && i == len(name)-1:
			return fmt.Errorf("sqlite: tenant %q: %w: ends with _", name, access.ErrInvalid)
		case c == '_' && name[i-1] == '_':
			return fmt.Errorf("sqlite: tenant %q: %w: holds __, which ends a tenant's part of a table name", name, access.ErrInvalid)
		case c == '_':
		default:
			return fmt.Errorf("sqlite: tenant %q: %w: character %q at %d; use a-z, 0-9 and _", name, access.ErrInvalid, rune(c), i)
		}
	}
	return nil
}

// tablePrefix is what every table, index and other schema object of the
// store is named with: access_ for the default tenant.
const tablePrefix = "access_"

// maxCached bounds the rewritten statements a Store keeps. The code's
// statements are a fixed set of a few hundred texts; the bound only keeps
// a mistake from growing the cache without end.
const maxCached = 4096

// tenant rewrites the statements of one tenant other than the default:
// every identifier that begins with access_ (a table, an index, the
// schema record) gets the tenant's prefix. A nil *tenant is the default
// tenant and rewrites nothing.
type tenant struct {
	name   string
	prefix string // access_<name>__

	cache  sync.Map // statement text → rewritten text
	cached atomic.Int64
}

func newTenant(name string) *tenant {
	if name == "" {
		return nil
	}
	return &tenant{name: name, prefix: tablePrefix + name + "__"}
}

// table returns the tenant's name for table, one of the schema's access_…
// names.
func (t *tenant) table(table string) string {
	if t == nil || !hasTablePrefix(table) || strings.HasPrefix(table, t.prefix) {
		return table
	}
	return t.prefix + table[len(tablePrefix):]
}

// rewrite returns sql for the tenant, from the cache after the first time.
func (t *tenant) rewrite(sql string) string {
	if t == nil {
		return sql
	}
	if out, ok := t.cache.Load(sql); ok {
		return out.(string)
	}
	out := rewriteSQL(sql, t.prefix)
	if t.cached.Add(1) <= maxCached {
		t.cache.Store(sql, out)
	}
	return out
}

func hasTablePrefix(s string) bool {
	return len(s) >= len(tablePrefix) && strings.EqualFold(s[:len(tablePrefix)], tablePrefix)
}

// rewriteSQL replaces the access_ of every identifier in sql that begins
// with it (bare or quoted, in any case, as SQLite reads names) by prefix.
// String literals and comments are left as they are.
func rewriteSQL(sql, prefix string) string {
	var b strings.Builder
	last := 0
	rename := func(at int) {
		if b.Len() == 0 {
			b.Grow(len(sql) + 16*len(prefix))
		}
		b.WriteString(sql[last:at])
		b.WriteString(prefix)
		last = at + len(tablePrefix)
	}
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'':
			// A doubled quote inside a literal ends it and begins the
			// next at once, which reads the same.
			i = skipPast(sql, i+1, "'")
		case c == '-' && strings.HasPrefix(sql[i:], "--"):
			i = skipPast(sql, i+2, "\n")
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			i = skipPast(sql, i+2, "*/")
		case c == '"' || c == '`' || c == '[':
			end := string(c)
			if c == '[' {
				end = "]"
			}
			if hasTablePrefix(sql[i+1:]) {
				rename(i + 1)
			}
			i = skipPast(sql, i+1, end)
		case isIdent(c):
			j := i
			for j < len(sql) && isIdent(sql[j]) {
				j++
			}
			if hasTablePrefix(sql[i:j]) {
				rename(i)
			}
			i = j
		default:
			i++
		}
	}
	if last == 0 {
		return sql
	}
	b.WriteString(sql[last:])
	return b.String()
}

// skipPast returns the index after the first end in sql at or after i, or
// len(sql).
func skipPast(sql string, i int, end string) int {
	if j := strings.Index(sql[i:], end); j >= 0 {
		return i + j + len(end)
	}
	return len(sql)
}

// isIdent reports whether c may be part of a bare SQLite identifier (or of
// a number or a $1 parameter, which never begin with access_).
func isIdent(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '$' || c >= 0x80
}

// Tenants lists the tenants migrated in the Store's file (those with a
// schema record, whatever its version), in name order; "" is the default
// tenant. A deployment migrates each of them in turn.
//
// Errors: [ErrClosed]; ctx.Err() and database errors, wrapped.
func (s *Store) Tenants(ctx context.Context) ([]string, error) {
	if err := s.core.Closed(); err != nil {
		return nil, err
	}
	// The LIKE pattern narrows the scan; the names are checked in full
	// below. _ matches any character in LIKE, hence the escapes.
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND (name = 'access_schema' OR name LIKE 'access\_%\_\_schema' ESCAPE '\') ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("%s: listing tenants: %w", s.dialect.Name, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("%s: listing tenants: %w", s.dialect.Name, err)
		}
		if t, ok := tenantOfSchemaTable(name); ok {
			out = append(out, t)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: listing tenants: %w", s.dialect.Name, err)
	}
	slices.Sort(out)
	return out, nil
}

// tenantOfSchemaTable returns the tenant whose schema record table is
// named name, and whether there is one.
func tenantOfSchemaTable(name string) (string, bool) {
	const schema = "schema"
	if name == tablePrefix+schema {
		return "", true
	}
	t, ok := strings.CutPrefix(name, tablePrefix)
	if !ok {
		return "", false
	}
	if t, ok = strings.CutSuffix(t, "__"+schema); !ok || t == "" || ValidTenant(t) != nil {
		return "", false
	}
	return t, true
}

// Tenant returns a Store for tenant name of s's file that shares s's
// connections, with s's options otherwise. A process that keeps many
// tenants of one file open saves a connection pool per tenant, and with
// it the parse of the whole file's schema that each new connection makes
// (see "Many tenants in one file" in the package documentation). The
// connections close with the last of the Stores that share them; each
// Store's Close stops its own polling. Tenants take turns to write, as
// SQLite has them do anyway, and a long read or an application's
// transaction on one holds a connection the others may be waiting for.
//
// Errors: one wrapping [access.ErrInvalid] for a bad name; [ErrClosed];
// ctx.Err() and database errors, wrapped.
func (s *Store) Tenant(ctx context.Context, name string) (*Store, error) {
	if err := ValidTenant(name); err != nil {
		return nil, err
	}
	if err := s.core.Closed(); err != nil || !s.shared.acquire() {
		return nil, fmt.Errorf("%s: %w", s.dialect.Name, ErrClosed)
	}
	t := &Store{db: s.db, memory: s.memory, opts: s.opts, shared: s.shared}
	t.setTenant(name)
	if err := t.start(ctx); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// setTenant makes s the Store of tenant name, a valid name.
func (s *Store) setTenant(name string) {
	s.opts.Tenant = name
	s.tenant, s.dialect = newTenant(name), dialect
	if s.tenant != nil {
		s.dialect = tenantDialect(s.tenant)
	}
}

// shared counts the open Stores on one connection pool.
type shared struct {
	mu sync.Mutex
	n  int
}

// acquire counts one more Store, unless the last one has released the
// pool already.
func (c *shared) acquire() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		return false
	}
	c.n++
	return true
}

// release counts one Store less and reports whether it was the last.
func (c *shared) release() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n--
	return c.n == 0
}
