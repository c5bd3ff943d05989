package access

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Channel is a way of signing in.
type Channel uint8

// The channels. The zero value is no channel: SignIn rejects it.
const (
	_ Channel = iota
	// ChannelClient is the client: SuperOffice's CRM client, Dynamicweb's
	// back office. Only internal associates sign in here, and only with
	// the functional right [FuncBackendLogin] from their role or one of
	// their effective groups (Dynamicweb's "allow backend login" is a
	// group setting).
	ChannelClient
	// ChannelAPI is the web services: SuperOffice's NetServer, an
	// application's API. Internal, external, system and anonymous
	// associates sign in here.
	ChannelAPI
	numChannels
)

// channels lists every channel, in order: Permissions asks SignIn of each.
var channels = [...]Channel{ChannelClient, ChannelAPI}

// String returns the channel's name ("client", "api"), or "channel(N)".
func (c Channel) String() string { return enumName(channelNames[:], c, "channel") }

// Valid reports whether c is one of the defined channels.
func (c Channel) Valid() bool { return c > 0 && c < numChannels }

// SignInCauseKind says what a [SignInCause] is about.
type SignInCauseKind uint8

// The kinds of sign-in cause, in the order SignIn looks at them.
const (
	_ SignInCauseKind = iota
	// SignInGate: a gate stopped the associate (SignInCause.Gate, and for
	// [GateNoLicence] the licence).
	SignInGate
	// SignInType: the associate's type decides whether it may use the
	// channel at all: internal associates use the client and the API;
	// external, system and anonymous associates the API only ("cannot log
	// in to the client", "must use the NetServer API").
	SignInType
	// SignInBackendLogin: on the client channel, the role
	// (SignInCause.Role) or an effective group (SignInCause.Group) grants
	// [FuncBackendLogin], or (neither set) nothing does.
	SignInBackendLogin
)

// String names the kind.
func (k SignInCauseKind) String() string {
	return enumName(signInCauseNames[:], k, "sign-in cause")
}

var signInCauseNames = [...]string{
	SignInGate:         "gate",
	SignInType:         "type",
	SignInBackendLogin: "backend login",
}

// SignInCause is one reason behind a [SignInDecision].
type SignInCause struct {
	Kind SignInCauseKind
	// Allows reports whether the cause lets the associate in (a gate
	// never does).
	Allows bool
	// Gate is set for SignInGate.
	Gate Gate
	// Licence and LicenceProblem are set for SignInGate with
	// [GateNoLicence] (as in [Cause]).
	Licence        LicenceID
	LicenceProblem LicenceProblem
	// Type is the associate's type, for SignInType.
	Type AssociateType
	// Role or Group granted [FuncBackendLogin], for SignInBackendLogin.
	Role  RoleID
	Group GroupID
	// RoleName, GroupName and LicenceName name Role, Group and Licence as
	// they were at the decision's revision.
	RoleName, GroupName, LicenceName string
}

// SignInDecision is the answer to "may this associate sign in through
// this channel?", with its reasons. The zero value denies. Like a
// [Decision] it is a value, safe to copy and keep, and renders names as
// they were at its revision.
type SignInDecision struct {
	// Allowed reports whether the associate may sign in.
	Allowed bool
	// Associate is who asked.
	Associate AssociateID
	// Channel is the channel asked about.
	Channel Channel
	// Gate is the gate that stopped the associate, or GateNone. An
	// anonymous associate passes: [GateAnonymous] keeps it from records,
	// not from the API.
	Gate Gate
	// Revision is the store revision the decision was made at.
	Revision Revision

	causes [2]SignInCause
	n      uint8
	names  *history
}

// Causes returns the reasons, in the order SignIn looked at them, with
// names filled in.
func (d *SignInDecision) Causes() []SignInCause {
	v, unlock := d.names.view(d.Revision)
	defer unlock()
	out := make([]SignInCause, d.n)
	for i, c := range d.causes[:d.n] {
		out[i] = v.namedSignIn(c)
	}
	return out
}

func (v names) namedSignIn(c SignInCause) SignInCause {
	if c.Role != 0 {
		c.RoleName = v.role(c.Role).Name
	}
	if c.Group != 0 {
		c.GroupName = v.group(c.Group).Name
	}
	if c.Licence != 0 {
		c.LicenceName = v.licence(c.Licence)
	}
	return c
}

func (d *SignInDecision) add(c SignInCause) {
	if int(d.n) < len(d.causes) {
		d.causes[d.n] = c
		d.n++
	}
}

// String renders the decision on one line, for example
// "allow: anna (11) may sign in through the client; internal associates may use the client; role Sales (1) grants backend-login".
func (d SignInDecision) String() string {
	v, unlock := d.names.view(d.Revision)
	defer unlock()
	return d.render(v)
}

func (d *SignInDecision) render(v names) string {
	var b strings.Builder
	if d.Allowed {
		b.WriteString("allow: ")
	} else {
		b.WriteString("deny: ")
	}
	b.WriteString(v.assocRef(d.Associate, d.Gate == GateUnknown))
	if d.Allowed {
		fmt.Fprintf(&b, " may sign in through the %s", d.Channel.long())
	} else {
		fmt.Fprintf(&b, " may not sign in through the %s", d.Channel.long())
	}
	for _, c := range d.causes[:d.n] {
		b.WriteString("; ")
		d.writeCause(&b, v, c)
	}
	return b.String()
}

// long names the channel in a sentence.
func (c Channel) long() string {
	switch c {
	case ChannelClient:
		return "client"
	case ChannelAPI:
		return "API"
	}
	return c.String()
}

func (d *SignInDecision) writeCause(b *strings.Builder, v names, c SignInCause) {
	switch c.Kind {
	case SignInGate:
		b.WriteString(c.Gate.String())
		if c.Gate == GateNoLicence && c.Licence != 0 {
			writeLicence(b, v, c.Licence, c.LicenceProblem)
		}
	case SignInType:
		switch {
		case c.Allows:
			fmt.Fprintf(b, "%s associates may use the %s", c.Type, d.Channel.long())
		case c.Type == Resource:
			b.WriteString("resources cannot sign in")
		default:
			fmt.Fprintf(b, "%s associates cannot sign in to the %s: they use the API", c.Type, d.Channel.long())
		}
	case SignInBackendLogin:
		switch {
		case c.Role != 0:
			fmt.Fprintf(b, "role %s grants %s", v.role(c.Role), FuncBackendLogin)
		case c.Group != 0:
			fmt.Fprintf(b, "group %s grants %s", v.group(c.Group), FuncBackendLogin)
		default:
			fmt.Fprintf(b, "neither its role nor any of its groups grants %s", FuncBackendLogin)
		}
	}
}

// MarshalJSON renders the decision as a JSON object:
//
//	allowed    bool
//	associate  {"id", "name"}; name optional
//	channel    "client" or "api"
//	gate       optional: the gate that stopped the associate
//	revision   the store revision
//	causes     each {"kind", "text"} and, where the kind has them,
//	           gate, licence {"id", "name"}, licence_problem, type,
//	           role {"id", "name"}, group {"id", "name"}
//	text       the whole explanation, as String renders it
func (d SignInDecision) MarshalJSON() ([]byte, error) {
	v, unlock := d.names.view(d.Revision)
	defer unlock()
	type causeJSON struct {
		Kind           string   `json:"kind"`
		Allows         bool     `json:"allows"`
		Gate           string   `json:"gate,omitempty"`
		Licence        *refJSON `json:"licence,omitempty"`
		LicenceProblem string   `json:"licence_problem,omitempty"`
		Type           string   `json:"type,omitempty"`
		Role           *refJSON `json:"role,omitempty"`
		Group          *refJSON `json:"group,omitempty"`
		Text           string   `json:"text"`
	}
	out := struct {
		Allowed   bool        `json:"allowed"`
		Associate refJSON     `json:"associate"`
		Channel   string      `json:"channel"`
		Gate      string      `json:"gate,omitempty"`
		Revision  Revision    `json:"revision"`
		Causes    []causeJSON `json:"causes"`
		Text      string      `json:"text"`
	}{
		Allowed:   d.Allowed,
		Associate: refJSON{ID: int64(d.Associate)},
		Channel:   d.Channel.String(),
		Revision:  d.Revision,
		Causes:    []causeJSON{},
		Text:      d.render(v),
	}
	if d.Gate != GateUnknown {
		out.Associate.Name = v.assoc(d.Associate)
	}
	if d.Gate != GateNone {
		out.Gate = d.Gate.String()
	}
	for _, c := range d.causes[:d.n] {
		var b strings.Builder
		d.writeCause(&b, v, c)
		c = v.namedSignIn(c)
		j := causeJSON{Kind: c.Kind.String(), Allows: c.Allows, Text: b.String()}
		switch c.Kind {
		case SignInGate:
			j.Gate = c.Gate.String()
			if c.Licence != 0 {
				j.Licence = &refJSON{int64(c.Licence), c.LicenceName}
				j.LicenceProblem = c.LicenceProblem.String()
			}
		case SignInType:
			j.Type = c.Type.String()
		case SignInBackendLogin:
			if c.Role != 0 {
				j.Role = &refJSON{int64(c.Role), c.RoleName}
			}
			if c.Group != 0 {
				j.Group = &refJSON{int64(c.Group), c.GroupName}
			}
		}
		out.Causes = append(out.Causes, j)
	}
	return json.Marshal(out)
}

// SignIn reports whether the associate may sign in through the channel,
// and why. It applies, in order:
//
//  1. the gates, as [Engine.Can] does: unknown, malformed, inactive,
//     outside its validity window, without a valid licence (see
//     [Licence]), a resource. The anonymous gate does not apply: an
//     anonymous associate gets no record, but may use the API;
//  2. the type: internal associates may use the client and the API;
//     external, system and anonymous associates the API only;
//  3. on the client channel, [FuncBackendLogin] from the associate's role
//     or one of its effective groups.
//
// An unknown associate is denied with [GateUnknown], not an error. An
// undefined channel: an error wrapping [ErrInvalid].
func (e *Engine) SignIn(ctx context.Context, who AssociateID, ch Channel) (SignInDecision, error) {
	s, err := e.current()
	if err != nil {
		return SignInDecision{Associate: who, Channel: ch}, err
	}
	if !ch.Valid() {
		return SignInDecision{Associate: who, Channel: ch, Revision: s.rev, names: s.names},
			fmt.Errorf("access: SignIn: %w: unknown channel %d", ErrInvalid, ch)
	}
	return s.signIn(who, ch, e.now), nil
}

// signIn decides SignIn; Permissions asks it for every channel.
func (s *snapshot) signIn(who AssociateID, ch Channel, now func() time.Time) SignInDecision {
	d := SignInDecision{Associate: who, Channel: ch, Revision: s.rev, names: s.names}
	i, n := s.assoc(who)
	g := s.gate(n, now)
	if g == GateAnonymous {
		g = GateNone // kept from records, not from the API
	}
	if g != GateNone {
		d.Gate = g
		c := s.gateCause(i, g, now)
		d.add(SignInCause{Kind: SignInGate, Gate: g, Licence: c.licence(), LicenceProblem: LicenceProblem(c.sub)})
		return d
	}
	typ := n.a.Type
	typeOK := typ == Internal || (ch == ChannelAPI && typ != Resource)
	d.add(SignInCause{Kind: SignInType, Allows: typeOK, Type: typ})
	if !typeOK {
		return d
	}
	if ch == ChannelClient {
		c := SignInCause{Kind: SignInBackendLogin}
		c.Role, c.Group = s.backendLogin(s.subjectOfNode(n))
		c.Allows = c.Role != 0 || c.Group != 0
		d.add(c)
		d.Allowed = c.Allows
		return d
	}
	d.Allowed = true
	return d
}

// licence returns the licence a GateNoLicence cause names, or 0.
func (c cause) licence() LicenceID {
	if c.kind == CauseGate && c.gate == GateNoLicence {
		return LicenceID(c.id)
	}
	return 0
}

// backendLogin returns what grants an internal associate FuncBackendLogin:
// its role, else the lowest-id effective group that lists it; 0 and 0
// when nothing does. It agrees with has.
func (s *snapshot) backendLogin(x subj) (RoleID, GroupID) {
	if x.h == nil || AssociateType(x.h.typ) != Internal {
		return 0, 0
	}
	if r := s.roleOf(x); r != nil && slices.Contains(r.role.Functions, FuncBackendLogin) {
		return r.role.ID, 0
	}
	var best GroupID
	for _, g := range s.policy.funcGroups[FuncBackendLogin] {
		if s.memberHot(x.h, g) {
			if id := s.groups[g].group.ID; best == 0 || id < best {
				best = id
			}
		}
	}
	return 0, best
}
