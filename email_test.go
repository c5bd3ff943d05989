package access_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/miekg/dns"
	"pgregory.net/rapid"

	"github.com/crmaccess/access"
)

// fakeDNS is a real DNS server on 127.0.0.1, started by the test, serving
// a small zone:
//
//	good.test, other.test   MX mail.<domain>
//	nomx.test               A only
//	nullmx.test             the null MX (RFC 7505)
//	servfail.test           SERVFAIL
//	slow*.test              never answers
//	anything else           NXDOMAIN
//
// It counts queries per name and type, and the most MX queries in flight.
type fakeDNS struct {
	addr string
	// hold delays MX answers for names starting with "held", so that
	// concurrent lookups overlap.
	hold time.Duration

	mu       sync.Mutex
	queries  map[string]int
	inFlight atomic.Int32
	maxMX    atomic.Int32
}

func startDNS(t *testing.T) *fakeDNS { return startDNSHolding(t, 0) }

// startDNSHolding starts a fakeDNS that holds MX answers for "held*"
// names for hold.
func startDNSHolding(t *testing.T, hold time.Duration) *fakeDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeDNS{addr: pc.LocalAddr().String(), hold: hold, queries: map[string]int{}}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(f.serve)}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return f
}

func (f *fakeDNS) serve(w dns.ResponseWriter, req *dns.Msg) {
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	f.mu.Lock()
	f.queries[dns.TypeToString[q.Qtype]+" "+name]++
	f.mu.Unlock()
	if strings.HasPrefix(name, "slow") {
		return // never answers
	}
	if q.Qtype == dns.TypeMX && strings.HasPrefix(name, "held") {
		n := f.inFlight.Add(1)
		for {
			m := f.maxMX.Load()
			if n <= m || f.maxMX.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(f.hold)
		f.inFlight.Add(-1)
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative, m.RecursionAvailable = true, true
	soa, _ := dns.NewRR(name + " 60 IN SOA ns.test. admin.test. 1 60 60 60 60")
	switch {
	case name == "servfail.test.":
		m.Rcode = dns.RcodeServerFailure
	case name == "good.test." || name == "other.test." || strings.HasPrefix(name, "held"):
		if q.Qtype == dns.TypeMX {
			rr, _ := dns.NewRR(name + " 60 IN MX 10 mail." + name)
			m.Answer = append(m.Answer, rr)
		} else {
			m.Ns = append(m.Ns, soa)
		}
	case name == "nullmx.test.":
		if q.Qtype == dns.TypeMX {
			rr, _ := dns.NewRR(name + " 60 IN MX 0 .")
			m.Answer = append(m.Answer, rr)
		} else {
			m.Ns = append(m.Ns, soa)
		}
	case name == "nomx.test.":
		if q.Qtype == dns.TypeA {
			rr, _ := dns.NewRR(name + " 60 IN A 192.0.2.1")
			m.Answer = append(m.Answer, rr)
		} else {
			m.Ns = append(m.Ns, soa)
		}
	default:
		m.Rcode = dns.RcodeNameError
		m.Ns = append(m.Ns, soa)
	}
	w.WriteMsg(m)
}

func (f *fakeDNS) count(typ, name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queries[typ+" "+name]
}

// resolver is a real net.Resolver that asks f and nothing else.
func (f *fakeDNS) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", f.addr)
	}}
}

// emailOrg is one group whose members have the given addresses, ids from 1.
func emailOrg(t *testing.T, emails ...string) *access.Engine {
	t.Helper()
	b := access.Batch{
		Roles:  []access.Role{{ID: 1, Name: "User"}},
		Groups: []access.Group{{ID: 10, Name: "Newsletter"}, {ID: 20, Name: "Customers", Groups: []access.GroupID{10}}},
	}
	for i, e := range emails {
		id := access.AssociateID(i + 1)
		b.Associates = append(b.Associates, access.Associate{ID: id, Name: "user " + string(rune('a'+i)),
			PrimaryGroup: 10, Role: 1, Active: true, Email: e})
	}
	_, e := xResolver(t, b)
	return e
}

func TestValidateEmails(t *testing.T) {
	f := startDNS(t)
	ctx := context.Background()
	e := emailOrg(t,
		"anna@good.test",        // 1 valid
		"BO@Good.Test",          // 2 valid, same domain in another case
		"",                      // 3 no address
		"not an address",        // 4 bad format
		"Carl <carl@good.test>", // 5 bad format: a name
		"dan@nowhere.test",      // 6 NXDOMAIN
		"eva@nomx.test",         // 7 an address record, no MX
		"fay@nullmx.test",       // 8 null MX
		"gus@servfail.test",     // 9 SERVFAIL
		"hal@slow.test",         // 10 no answer: timeout
		"ida@[192.0.2.1]",       // 11 an address literal
		"jon@other.test",        // 12 valid
		"kim@nowhere.test",      // 13 NXDOMAIN again: cached
	)
	// Customers includes Newsletter: its effective members are checked.
	got, err := e.ValidateEmails(ctx, 20, access.EmailCheckOptions{DNS: f.resolver(), Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	type verdict struct {
		ID     access.AssociateID
		Status access.EmailStatus
		Reason string // its beginning
	}
	want := []verdict{
		{1, access.EmailValid, ""},
		{2, access.EmailValid, ""},
		{3, access.EmailMissing, "no address"},
		{4, access.EmailBadFormat, "bad format: mail: "},
		{5, access.EmailBadFormat, "bad format: not a bare address"},
		{6, access.EmailNoDomain, "no such domain"},
		{7, access.EmailNoMX, "no MX record"},
		{8, access.EmailNoMX, "no MX record"},
		{9, access.EmailLookupFailed, "lookup failed: lookup servfail.test."},
		{10, access.EmailLookupFailed, "lookup failed: lookup slow.test."},
		{11, access.EmailBadFormat, "bad format: the domain is an address literal"},
		{12, access.EmailValid, ""},
		{13, access.EmailNoDomain, "no such domain"},
	}
	var gotV []verdict
	for i, r := range got {
		v := verdict{r.Associate, r.Status, r.Reason()}
		if i < len(want) && strings.HasPrefix(v.Reason, want[i].Reason) {
			v.Reason = want[i].Reason
		}
		gotV = append(gotV, v)
		if r.Valid() != (r.Status == access.EmailValid) || (r.Reason() == "") != r.Valid() {
			t.Errorf("associate %d: Valid %v, Reason %q, Status %s disagree", r.Associate, r.Valid(), r.Reason(), r.Status)
		}
	}
	if diff := cmp.Diff(want, gotV); diff != "" {
		t.Errorf("ValidateEmails (-want +got):\n%s", diff)
	}
	if got[0].Email != "anna@good.test" || got[0].Name != "user a" {
		t.Errorf("result 0 = %+v, want anna's address and name", got[0])
	}
	var dnsErr *net.DNSError
	if !errors.As(got[9].Err, &dnsErr) || !dnsErr.IsTimeout {
		t.Errorf("slow.test: Err = %v, want a timeout *net.DNSError", got[9].Err)
	}
	// One MX lookup per domain, whatever the case and however many members.
	for _, d := range []string{"good.test.", "nowhere.test."} {
		if n := f.count("MX", d); n != 1 {
			t.Errorf("MX %s asked %d times, want 1 (cached within the call)", d, n)
		}
	}
	if n := f.count("A", "good.test."); n != 0 {
		t.Errorf("A good.test. asked %d times: a domain with MX needs no address lookup", n)
	}

	if _, err := e.ValidateEmails(ctx, 999, access.EmailCheckOptions{DNS: f.resolver()}); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("unknown group: err = %v, want ErrNotFound", err)
	}
}

// TestValidateEmails_bounded: no more domains are looked up at once than
// Concurrency allows.
func TestValidateEmails_bounded(t *testing.T) {
	f := startDNSHolding(t, 30*time.Millisecond)
	var emails []string
	for i := range 8 {
		emails = append(emails, "x@held"+string(rune('a'+i))+".test")
	}
	e := emailOrg(t, emails...)
	got, err := e.ValidateEmails(context.Background(), 10, access.EmailCheckOptions{DNS: f.resolver(), Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		if !r.Valid() {
			t.Errorf("%s: %s", r.Email, r.Reason())
		}
	}
	if m := f.maxMX.Load(); m > 2 || m < 1 {
		t.Errorf("at most %d MX lookups in flight, want 1 to 2 (Concurrency 2)", m)
	}
}

// TestValidateEmails_cancelled: a call whose context ends returns the
// context's error and no results, promptly, however slow the DNS.
func TestValidateEmails_cancelled(t *testing.T) {
	f := startDNS(t)
	e := emailOrg(t, "a@slowa.test", "b@slowb.test", "c@slowc.test")
	opts := access.EmailCheckOptions{DNS: f.resolver(), Concurrency: 1, Timeout: time.Minute}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := e.ValidateEmails(ctx, 10, opts); !errors.Is(err, context.Canceled) || got != nil {
		t.Errorf("cancelled before: %v, %v; want context.Canceled and no results", got, err)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	got, err := e.ValidateEmails(ctx, 10, opts)
	if !errors.Is(err, context.DeadlineExceeded) || got != nil {
		t.Errorf("cancelled during: %v, %v; want context.DeadlineExceeded and no results", got, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s after the context ended", d)
	}
}

// panickyDNS fails every way a resolver can but by answering.
type panickyDNS struct{}

func (panickyDNS) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	if strings.HasPrefix(name, "panic") {
		panic("resolver bug")
	}
	return nil, errors.New("resolver down")
}

func (panickyDNS) LookupHost(ctx context.Context, host string) ([]string, error) {
	return nil, errors.New("resolver down")
}

// TestValidateEmails_failingResolver: a resolver that errors or panics is
// a reason per address, not the call's error.
func TestValidateEmails_failingResolver(t *testing.T) {
	e := emailOrg(t, "a@panic.test", "b@down.test")
	got, err := e.ValidateEmails(context.Background(), 10, access.EmailCheckOptions{DNS: panickyDNS{}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"lookup failed: the DNS resolver panicked: resolver bug", "lookup failed: resolver down"}
	var reasons []string
	for _, r := range got {
		reasons = append(reasons, r.Reason())
	}
	if diff := cmp.Diff(want, reasons); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
}

// mapDNS is an in-process DNS over fixed tables, safe for concurrent use;
// it counts MX lookups per name.
type mapDNS struct {
	mx    map[string][]*net.MX
	hosts map[string][]string
	fail  map[string]bool

	mu    sync.Mutex
	asked map[string]int
}

func (d *mapDNS) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	d.mu.Lock()
	d.asked[name]++
	d.mu.Unlock()
	if d.fail[name] {
		return nil, &net.DNSError{Err: "server misbehaving", Name: name, IsTemporary: true}
	}
	if mx := d.mx[name]; mx != nil {
		return mx, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (d *mapDNS) LookupHost(ctx context.Context, host string) ([]string, error) {
	if h := d.hosts[host]; h != nil {
		return h, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// TestPropValidateEmails: on random organisations whose associates draw
// addresses from a pool, ValidateEmails gives every effective member of a
// group (by the reference's closure) the verdict the pool says, asking the
// DNS once per domain.
func TestPropValidateEmails(t *testing.T) {
	type entry struct {
		addr   string
		status access.EmailStatus
	}
	pool := []entry{
		{"", access.EmailMissing},
		{"a@mx.test", access.EmailValid},
		{"B@MX.Test", access.EmailValid},
		{"c@mx2.test", access.EmailValid},
		{"d@web.test", access.EmailNoMX},
		{"e@null.test", access.EmailNoMX},
		{"f@gone.test", access.EmailNoDomain},
		{"g@broken.test", access.EmailLookupFailed},
		{"h@", access.EmailBadFormat},
		{"Ina <i@mx.test>", access.EmailBadFormat},
		{"j@[192.0.2.1]", access.EmailBadFormat},
	}
	rapid.Check(t, func(t *rapid.T) {
		b := drawOrg(t, validOrg)
		want := map[access.AssociateID]entry{}
		for i := range b.Associates {
			e := rapid.SampledFrom(pool).Draw(t, "email")
			b.Associates[i].Email = e.addr
			want[b.Associates[i].ID] = e
		}
		_, eng := xResolver(t, b)
		dns := &mapDNS{
			mx: map[string][]*net.MX{
				"mx.test.": {{Host: "mail.mx.test.", Pref: 10}}, "mx2.test.": {{Host: "mx.mx2.test.", Pref: 5}},
				"null.test.": {{Host: ".", Pref: 0}},
			},
			hosts: map[string][]string{"web.test.": {"192.0.2.7"}, "null.test.": {"192.0.2.8"}},
			fail:  map[string]bool{"broken.test.": true},
			asked: map[string]int{},
		}
		members := refFromBatch(&b).members()
		g := b.Groups[rapid.IntRange(0, len(b.Groups)-1).Draw(t, "group")].ID
		got, err := eng.ValidateEmails(context.Background(), g, access.EmailCheckOptions{
			DNS: dns, Concurrency: rapid.IntRange(0, 3).Draw(t, "concurrency")})
		if err != nil {
			t.Fatal(err)
		}
		ids := slices.Clone(members[g])
		slices.Sort(ids)
		var gotIDs []access.AssociateID
		for _, r := range got {
			gotIDs = append(gotIDs, r.Associate)
			if w := want[r.Associate]; r.Email != w.addr || r.Status != w.status {
				t.Fatalf("associate %d <%s>: %s (%v), want %s", r.Associate, r.Email, r.Status, r.Err, w.status)
			}
		}
		if diff := cmp.Diff(ids, gotIDs, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("members of %d (-reference +ValidateEmails):\n%s", g, diff)
		}
		for name, n := range dns.asked {
			if n != 1 {
				t.Fatalf("MX %s asked %d times in one call", name, n)
			}
		}
	})
}

// stuckDNS ignores its context: a lookup of a name starting with "stuck"
// (MX) or of a host starting with "hostless" returns only when release is
// closed; "hostless" names have no MX record, so their address lookup is
// the one that sticks.
type stuckDNS struct{ release chan struct{} }

func (d stuckDNS) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	if strings.HasPrefix(name, "hostless") {
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	<-d.release
	return nil, errors.New("released")
}

func (d stuckDNS) LookupHost(ctx context.Context, host string) ([]string, error) {
	<-d.release
	return nil, errors.New("released")
}

// TestValidateEmails_stuckResolver: a DNS that ignores its context cannot
// hold ValidateEmails past Timeout (each lookup fails with the context's
// error) nor past the caller's deadline (the call returns ctx's error).
func TestValidateEmails_stuckResolver(t *testing.T) {
	dns := stuckDNS{release: make(chan struct{})}
	// Let the stuck lookups end when the test does, fixed or not.
	t.Cleanup(func() { close(dns.release) })
	e := emailOrg(t, "a@stuck.test", "b@hostless.test", "c@stuck2.test")

	// call runs ValidateEmails, waiting at most 3 s for it so that a
	// regression fails the test instead of hanging the suite.
	call := func(t *testing.T, ctx context.Context, opts access.EmailCheckOptions) ([]access.EmailResult, error, time.Duration) {
		t.Helper()
		type answer struct {
			res []access.EmailResult
			err error
		}
		done := make(chan answer, 1)
		start := time.Now()
		go func() {
			res, err := e.ValidateEmails(ctx, 10, opts)
			done <- answer{res, err}
		}()
		select {
		case a := <-done:
			return a.res, a.err, time.Since(start)
		case <-time.After(3 * time.Second):
			t.Fatalf("ValidateEmails (Timeout %s) still blocked after 3 s on a DNS that ignores its context", opts.Timeout)
			return nil, nil, 0
		}
	}

	t.Run("timeout", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		got, err, took := call(t, ctx, access.EmailCheckOptions{DNS: dns, Timeout: 100 * time.Millisecond, Concurrency: 3})
		if err != nil {
			t.Fatalf("err = %v after %s, want results: each lookup ends at its 100 ms timeout", err, took)
		}
		for _, r := range got {
			if r.Status != access.EmailLookupFailed || !errors.Is(r.Err, context.DeadlineExceeded) {
				t.Errorf("%s: %s (%v), want lookup failed with context.DeadlineExceeded", r.Email, r.Status, r.Err)
			}
			if !strings.Contains(r.Reason(), "lookup ") || !strings.Contains(r.Reason(), r.Email[strings.IndexByte(r.Email, '@')+1:]) {
				t.Errorf("%s: reason %q does not name the lookup's domain", r.Email, r.Reason())
			}
		}
	})
	t.Run("caller's deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		got, err, took := call(t, ctx, access.EmailCheckOptions{DNS: dns, Timeout: time.Minute})
		if !errors.Is(err, context.DeadlineExceeded) || got != nil {
			t.Errorf("%v, %v after %s; want context.DeadlineExceeded and no results", got, err, took)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		got, err, took := call(t, ctx, access.EmailCheckOptions{DNS: dns, Timeout: time.Minute, Concurrency: 1})
		if !errors.Is(err, context.Canceled) || got != nil {
			t.Errorf("%v, %v after %s; want context.Canceled and no results", got, err, took)
		}
	})
}
