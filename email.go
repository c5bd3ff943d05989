package access

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"
)

// DNS is what [Engine.ValidateEmails] asks of the domain name system: a
// domain's mail servers, and, when it has none, whether it has addresses
// at all. A *net.Resolver implements it; tests and applications with their
// own resolver pass another. It must be safe for concurrent use, and
// should return when its context ends: one that does not is left behind
// when the lookup's timeout or the caller's context ends (its goroutine
// runs on until it returns), so that it cannot hold the check.
type DNS interface {
	// LookupMX returns the MX records of name. An error whose
	// *net.DNSError has IsNotFound set means name has none (or does not
	// exist); any other error is a failed lookup.
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	// LookupHost returns the addresses of host, with IsNotFound as for
	// LookupMX.
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// EmailCheckOptions tune [Engine.ValidateEmails]. The zero value is the
// default on every field.
type EmailCheckOptions struct {
	// DNS answers the lookups; nil means net.DefaultResolver.
	DNS DNS
	// Concurrency bounds how many domains are looked up at once; 0 or
	// less means 8.
	Concurrency int
	// Timeout bounds each lookup; 0 or less means 5 seconds. A lookup that
	// takes longer is reported as failed, for its domain only.
	Timeout time.Duration
}

// EmailStatus is the verdict on one e-mail address. The zero value,
// [EmailUnchecked], says nothing was checked: it is not valid.
type EmailStatus uint8

// The verdicts, in the order the checks run.
const (
	// EmailUnchecked: no check ran.
	EmailUnchecked EmailStatus = iota
	// EmailValid: the address is well formed and its domain has a mail
	// server (MX) record.
	EmailValid
	// EmailMissing: the associate has no address.
	EmailMissing
	// EmailBadFormat: the address is not one bare addr-spec
	// (net/mail.ParseAddress), or its domain is an address literal.
	EmailBadFormat
	// EmailNoDomain: the domain has neither MX nor address records.
	EmailNoDomain
	// EmailNoMX: the domain exists but has no MX record, or only the
	// "null MX" of RFC 7505 (it takes no mail).
	EmailNoMX
	// EmailLookupFailed: the DNS did not answer, or answered with an
	// error (SERVFAIL, a timeout…): nothing is known about the domain.
	EmailLookupFailed
)

// String names the status ("valid", "no MX record"…).
func (s EmailStatus) String() string { return enumName(emailStatusNames[:], s, "email status") }

// EmailResult is the verdict on one member's address.
type EmailResult struct {
	// Associate and Name identify the member.
	Associate AssociateID
	Name      string
	// Email is the address checked, as stored.
	Email string
	// Status is the verdict.
	Status EmailStatus
	// Err is, for EmailBadFormat and EmailLookupFailed, the error behind
	// the verdict; nil otherwise.
	Err error
}

// Valid reports whether the address passed every check.
func (r EmailResult) Valid() bool { return r.Status == EmailValid }

// Reason says why the address is invalid: "no address", "bad format:
// <err>", "no such domain", "no MX record", "lookup failed: <err>"; ""
// for a valid address.
func (r EmailResult) Reason() string {
	switch {
	case r.Status == EmailValid:
		return ""
	case r.Err != nil:
		return r.Status.String() + ": " + r.Err.Error()
	}
	return r.Status.String()
}

// ValidateEmails checks the e-mail address of every effective member of
// group g, as Dynamicweb's "validate emails" does: is the format valid,
// does the domain exist, does it have a mail server (MX) record. It
// returns one result per member, in ascending id order (the members of
// [Engine.Members]), invalid ones with the reason; a caller showing "the
// invalid ones" keeps those whose Valid is false.
//
// The members come from the snapshot current at the call; the lookups
// then run without it, concurrently (at most opts.Concurrency domains at
// once, each lookup bounded by opts.Timeout), one per domain however many
// members share it. Each lookup ends with its context even when opts.DNS
// ignores it: a lookup past opts.Timeout fails with a *net.DNSError
// wrapping [context.DeadlineExceeded]. A lookup that fails is that
// domain's members' verdict, [EmailLookupFailed] with the error, never the
// call's error, and neither is a panicking [DNS]. The call fails only as
// [Engine.Members] does (unknown group: [ErrNotFound]) or when ctx ends
// first: a check cut short returns ctx's error, wrapped, and no results.
//
// A domain "exists" when it has MX or address records: net.Resolver does
// not tell a name that does not exist (NXDOMAIN) from one without records
// of the type asked, so a domain with neither is reported as no such
// domain. Domains are compared and looked up in lower case, fully
// qualified (no search list applies).
func (e *Engine) ValidateEmails(ctx context.Context, g GroupID, opts EmailCheckOptions) ([]EmailResult, error) {
	s, err := e.current()
	if err != nil {
		return nil, err
	}
	gi, gn := s.group(g)
	if gn == nil {
		return nil, fmt.Errorf("access: ValidateEmails: group %d: %w", g, ErrNotFound)
	}
	members := s.byID(s.memberSet(gi).list())
	out := make([]EmailResult, len(members))
	domainOf := make([]int, len(members)) // index into domains, or -1
	var domains []string
	index := map[string]int{}
	for i, a := range members {
		n := s.assocs.at(a)
		out[i] = EmailResult{Associate: n.a.ID, Name: n.a.Name, Email: n.a.Email}
		domainOf[i] = -1
		d, status, err := emailDomain(n.a.Email)
		if status != EmailUnchecked {
			out[i].Status, out[i].Err = status, err
			continue
		}
		j, ok := index[d]
		if !ok {
			j = len(domains)
			index[d] = j
			domains = append(domains, d)
		}
		domainOf[i] = j
	}
	verdicts, err := checkDomains(ctx, domains, opts)
	if err != nil {
		return nil, fmt.Errorf("access: ValidateEmails: %w", err)
	}
	for i, j := range domainOf {
		if j >= 0 {
			out[i].Status, out[i].Err = verdicts[j].status, verdicts[j].err
		}
	}
	return out, nil
}

// emailDomain returns the lower-case domain of a well-formed address, or
// the verdict on one that is missing or malformed.
func emailDomain(addr string) (string, EmailStatus, error) {
	if addr == "" {
		return "", EmailMissing, nil
	}
	a, err := mail.ParseAddress(addr)
	if err != nil {
		return "", EmailBadFormat, err
	}
	if a.Address != addr || a.Name != "" {
		return "", EmailBadFormat, errors.New("not a bare address (name <address> or surrounding text)")
	}
	d := strings.ToLower(addr[strings.LastIndexByte(addr, '@')+1:])
	if strings.HasPrefix(d, "[") {
		return "", EmailBadFormat, errors.New("the domain is an address literal")
	}
	return d, EmailUnchecked, nil
}

// domainVerdict is what the lookups found about one domain.
type domainVerdict struct {
	status EmailStatus
	err    error
}

// checkDomains looks up every domain, opts.Concurrency at a time, and
// returns the verdicts in the order of domains, or ctx's error if it ended
// before all were known.
func checkDomains(ctx context.Context, domains []string, opts EmailCheckOptions) ([]domainVerdict, error) {
	dns := opts.DNS
	if dns == nil {
		dns = net.DefaultResolver
	}
	workers := opts.Concurrency
	if workers <= 0 {
		workers = 8
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	verdicts := make([]domainVerdict, len(domains))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(domains)) {
		wg.Go(func() {
			for j := range next {
				verdicts[j] = checkDomain(ctx, dns, timeout, domains[j])
			}
		})
	}
feed:
	for j := range domains {
		select {
		case next <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// A lookup cut short by the context's deadline fails as an I/O
	// timeout, which can be seen a moment before ctx.Err reports it.
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return nil, context.DeadlineExceeded
	}
	return verdicts, nil
}

// checkDomain decides one domain: an MX record makes it valid; without
// one, address records tell a domain that exists from one that does not.
func checkDomain(ctx context.Context, dns DNS, timeout time.Duration, domain string) domainVerdict {
	fqdn := domain + "."
	mx, err := dnsLookup(ctx, timeout, fqdn, func(ctx context.Context) ([]*net.MX, error) {
		return dns.LookupMX(ctx, fqdn)
	})
	// net.Resolver returns the well-formed records along with an error
	// about malformed ones: the records decide.
	if len(mx) > 0 {
		for _, m := range mx {
			if m != nil && m.Host != "." && m.Host != "" {
				return domainVerdict{EmailValid, nil}
			}
		}
		return domainVerdict{EmailNoMX, nil} // a null MX: no mail
	}
	if err == nil {
		return domainVerdict{EmailNoMX, nil}
	}
	if !notFound(err) {
		return domainVerdict{EmailLookupFailed, err}
	}
	_, err = dnsLookup(ctx, timeout, fqdn, func(ctx context.Context) ([]string, error) {
		return dns.LookupHost(ctx, fqdn)
	})
	switch {
	case err == nil:
		return domainVerdict{EmailNoMX, nil}
	case notFound(err):
		return domainVerdict{EmailNoDomain, nil}
	}
	return domainVerdict{EmailLookupFailed, err}
}

// dnsLookup runs lookup f of name with ctx bounded by timeout, and returns
// when f does or when that context ends, whichever is first. A DNS that
// ignores its context (the interface cannot enforce it) would otherwise
// hold the whole check past every deadline; f then runs on in its own
// goroutine until it returns, its answer dropped into a one-slot channel
// nobody reads, and the lookup fails with a *net.DNSError that wraps the
// context's error, as net.Resolver's own do. A panic in f is a failed
// lookup too: it cannot be recovered anywhere but in f's goroutine.
func dnsLookup[T any](ctx context.Context, timeout time.Duration, name string, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type answer struct {
		v   T
		err error
	}
	done := make(chan answer, 1)
	go func() {
		var a answer
		defer func() {
			if p := recover(); p != nil {
				a = answer{err: fmt.Errorf("the DNS resolver panicked: %v", p)}
			}
			done <- a
		}()
		a.v, a.err = f(ctx)
	}()
	select {
	case a := <-done:
		return a.v, a.err
	case <-ctx.Done():
		var zero T
		err := ctx.Err()
		return zero, &net.DNSError{UnwrapErr: err, Err: err.Error(), Name: name,
			IsTimeout: errors.Is(err, context.DeadlineExceeded)}
	}
}

// notFound reports whether err says the name has no records of the type
// asked (or does not exist).
func notFound(err error) bool {
	var d *net.DNSError
	return errors.As(err, &d) && d.IsNotFound
}
