package access

import (
	"fmt"
	"strconv"
)

// The enums as text. Each enum has one name table below; its String method
// reads it, and its MarshalText, UnmarshalText and Parse function read the
// same table, so a name shown in a log line is exactly the name a JSON
// document or a configuration file may use.
//
// The rules, the same for every enum:
//   - String never fails: a value without a name renders as "action(200)",
//     "relation(0)"… so a corrupt value stays visible in a log line.
//   - MarshalText writes the name. A value that has no name and is not the
//     zero value is an error wrapping [ErrInvalid] — an out-of-range value
//     never silently becomes text that would read back as something else.
//     For an enum whose zero value is "not set" (no action, no relation…)
//     the zero value marshals as empty text, so a struct with unset
//     fields still marshals, and empty text unmarshals back to zero.
//   - UnmarshalText and the Parse function accept exactly the names String
//     writes; anything else is an error wrapping [ErrInvalid]. Parse also
//     refuses the empty string, since it names no valid value.

// enumValue is what the name helpers accept: the integer kinds the enums
// are declared with.
type enumValue interface{ ~uint8 | ~int }

// enumName returns v's name in names, or what(v) when it has none.
func enumName[T enumValue](names []string, v T, what string) string {
	if i := int(v); i >= 0 && i < len(names) && names[i] != "" {
		return names[i]
	}
	return what + "(" + strconv.Itoa(int(v)) + ")"
}

// enumMarshal returns v's name, empty text for an unnamed zero value, and an
// error for any other value without a name.
func enumMarshal[T enumValue](names []string, v T, what string) ([]byte, error) {
	if i := int(v); i >= 0 && i < len(names) && names[i] != "" {
		return []byte(names[i]), nil
	}
	if v == 0 {
		return []byte{}, nil
	}
	return nil, fmt.Errorf("%w: %s(%d) has no name", ErrInvalid, what, int(v))
}

// enumParse returns the value named s.
func enumParse[T enumValue](names []string, s, what string) (T, error) {
	if s != "" {
		for i, n := range names {
			if n == s {
				return T(i), nil
			}
		}
	}
	return 0, fmt.Errorf("%w: unknown %s %q", ErrInvalid, what, s)
}

// enumUnmarshal is enumParse, except that empty text is the zero value when
// the zero value has no name (the counterpart of enumMarshal).
func enumUnmarshal[T enumValue](names []string, text []byte, what string) (T, error) {
	if len(text) == 0 && names[0] == "" {
		return 0, nil
	}
	return enumParse[T](names, string(text), what)
}

// Action

var actionNames = [...]string{
	Read:   "read",
	Create: "create",
	Update: "update",
	Delete: "delete",
}

// MarshalText writes the action's name ("read"…), empty text for the zero
// value, and fails with [ErrInvalid] for any other value.
func (a Action) MarshalText() ([]byte, error) { return enumMarshal(actionNames[:], a, "action") }

// UnmarshalText reads a name [Action.MarshalText] writes.
func (a *Action) UnmarshalText(text []byte) error {
	v, err := enumUnmarshal[Action](actionNames[:], text, "action")
	if err == nil {
		*a = v
	}
	return err
}

// ParseAction returns the action named s ("read", "create", "update" or
// "delete"), or an error wrapping [ErrInvalid].
func ParseAction(s string) (Action, error) { return enumParse[Action](actionNames[:], s, "action") }

// Relation (its table, relationNames, is in ownership.go)

// MarshalText writes the relation's name ("owner", "primary group"…), empty
// text for the zero value, and fails with [ErrInvalid] for any other value.
// It makes a [Grid] marshal to JSON as {"owner":"CRUD","other":"R"}.
func (r Relation) MarshalText() ([]byte, error) {
	return enumMarshal(relationNames[:], r, "relation")
}

// UnmarshalText reads a name [Relation.MarshalText] writes.
func (r *Relation) UnmarshalText(text []byte) error {
	v, err := enumUnmarshal[Relation](relationNames[:], text, "relation")
	if err == nil {
		*r = v
	}
	return err
}

// ParseRelation returns the relation named s, as [Relation.String] writes
// it ("owner", "primary group"…), or an error wrapping [ErrInvalid].
func ParseRelation(s string) (Relation, error) {
	return enumParse[Relation](relationNames[:], s, "relation")
}

// CauseKind

var causeKindNames = [...]string{
	CauseGate:        "gate",
	CauseSystem:      "system",
	CauseNoRole:      "no role",
	CauseRole:        "role",
	CauseSharing:     "sharing rule",
	CauseGrant:       "grant",
	CauseDefault:     "default permission",
	CauseRestriction: "restriction",
	CauseNearMiss:    "nearest miss",
	CauseLimit:       "limit",
}

// String names the layer ("gate", "role", "sharing rule"…), or
// "cause(N)" for an undefined value.
func (k CauseKind) String() string { return enumName(causeKindNames[:], k, "cause") }

// MarshalText writes the kind's name, empty text for the zero value, and
// fails with [ErrInvalid] for any other value.
func (k CauseKind) MarshalText() ([]byte, error) {
	return enumMarshal(causeKindNames[:], k, "cause")
}

// UnmarshalText reads a name [CauseKind.MarshalText] writes.
func (k *CauseKind) UnmarshalText(text []byte) error {
	v, err := enumUnmarshal[CauseKind](causeKindNames[:], text, "cause")
	if err == nil {
		*k = v
	}
	return err
}

// ParseCauseKind returns the kind of cause named s, as [CauseKind.String]
// writes it, or an error wrapping [ErrInvalid].
func ParseCauseKind(s string) (CauseKind, error) {
	return enumParse[CauseKind](causeKindNames[:], s, "cause")
}

// LimitScope

var limitScopeNames = [...]string{
	LimitAll:       "all records",
	LimitUnrelated: "unrelated records",
}

// String names the scope ("all records" or "unrelated records"), or
// "limit scope(N)" for an undefined value.
func (s LimitScope) String() string { return enumName(limitScopeNames[:], s, "limit scope") }

// MarshalText writes the scope's name, and fails with [ErrInvalid] for an
// undefined value.
func (s LimitScope) MarshalText() ([]byte, error) {
	return enumMarshal(limitScopeNames[:], s, "limit scope")
}

// UnmarshalText reads a name [LimitScope.MarshalText] writes.
func (s *LimitScope) UnmarshalText(text []byte) error {
	v, err := enumUnmarshal[LimitScope](limitScopeNames[:], text, "limit scope")
	if err == nil {
		*s = v
	}
	return err
}

// ParseLimitScope returns the scope named s ("all records" or "unrelated
// records"), or an error wrapping [ErrInvalid].
func ParseLimitScope(s string) (LimitScope, error) {
	return enumParse[LimitScope](limitScopeNames[:], s, "limit scope")
}

// Gate

var gateNames = [...]string{
	GateNone:        "passed",
	GateUnknown:     "unknown associate",
	GateInactive:    "inactive",
	GateNotYetValid: "not yet valid",
	GateExpired:     "expired",
	GateResource:    "resources cannot sign in",
	GateAnonymous:   "anonymous associates are obsolete",
	GateMalformed:   "unknown associate type",
	GateNoLicence:   "no valid licence",
}

// MarshalText writes the gate's description as [Gate.String] does
// ("passed" for [GateNone]), and fails with [ErrInvalid] for an undefined
// value.
func (g Gate) MarshalText() ([]byte, error) { return enumMarshal(gateNames[:], g, "gate") }

// UnmarshalText reads a name [Gate.MarshalText] writes.
func (g *Gate) UnmarshalText(text []byte) error {
	v, err := enumUnmarshal[Gate](gateNames[:], text, "gate")
	if err == nil {
		*g = v
	}
	return err
}

// ParseGate returns the gate [Gate.String] describes as s, or an error
// wrapping [ErrInvalid].
func ParseGate(s string) (Gate, error) { return enumParse[Gate](gateNames[:], s, "gate") }

// Restriction

var restrictionNames = [...]string{
	RestrictVisibleAssociate: "visible to its owner only",
	RestrictVisibleGroup:     "visible to its owner and group only",
	RestrictUnpublished:      "not published, and external users see only published records",
	RestrictMembersOnly:      "its category is for members only",
	RestrictExternalScope:    "outside the external user's own company and projects",
}

// MarshalText writes the restriction's description as
// [Restriction.String] does, empty text for the zero value, and fails with
// [ErrInvalid] for any other value.
func (r Restriction) MarshalText() ([]byte, error) {
	return enumMarshal(restrictionNames[:], r, "restriction")
}

// UnmarshalText reads a name [Restriction.MarshalText] writes.
func (r *Restriction) UnmarshalText(text []byte) error {
	v, err := enumUnmarshal[Restriction](restrictionNames[:], text, "restriction")
	if err == nil {
		*r = v
	}
	return err
}

// ParseRestriction returns the restriction [Restriction.String] describes
// as s, or an error wrapping [ErrInvalid].
func ParseRestriction(s string) (Restriction, error) {
	return enumParse[Restriction](restrictionNames[:], s, "restriction")
}

// AssociateType: the table is indexed by SuperOffice's numeric values, so
// it has gaps.

var associateTypeNames = [...]string{
	Internal:  "internal",
	Resource:  "resource",
	External:  "external",
	Anonymous: "anonymous",
	System:    "system",
}

// MarshalText writes the type's name ("internal"…), and fails with
// [ErrInvalid] for an undefined value. The zero value is [Internal].
func (t AssociateType) MarshalText() ([]byte, error) {
	return enumMarshal(associateTypeNames[:], t, "type")
}

// UnmarshalText reads a name [AssociateType.MarshalText] writes.
func (t *AssociateType) UnmarshalText(text []byte) error {
	v, err := enumUnmarshal[AssociateType](associateTypeNames[:], text, "type")
	if err == nil {
		*t = v
	}
	return err
}

// ParseAssociateType returns the associate type named s ("internal",
// "resource", "external", "anonymous" or "system"), or an error wrapping
// [ErrInvalid].
func ParseAssociateType(s string) (AssociateType, error) {
	return enumParse[AssociateType](associateTypeNames[:], s, "type")
}

// Reason

var reasonNames = [...]string{
	ViaPrimary:   "primary group",
	ViaSecondary: "secondary group",
	ViaRole:      "role",
	ViaRoleTree:  "role or subordinate",
	ViaSmart:     "smart rule",
	ViaGroup:     "nested group",
}

// MarshalText writes the reason's name ("primary group"…), empty text for
// the zero value, and fails with [ErrInvalid] for any other value.
func (r Reason) MarshalText() ([]byte, error) { return enumMarshal(reasonNames[:], r, "reason") }

// UnmarshalText reads a name [Reason.MarshalText] writes.
func (r *Reason) UnmarshalText(text []byte) error {
	v, err := enumUnmarshal[Reason](reasonNames[:], text, "reason")
	if err == nil {
		*r = v
	}
	return err
}

// ParseReason returns the reason named s, as [Reason.String] writes it, or
// an error wrapping [ErrInvalid].
func ParseReason(s string) (Reason, error) { return enumParse[Reason](reasonNames[:], s, "reason") }

// Visibility

var visibilityNames = [...]string{
	VisibleAll:       "all",
	VisibleGroup:     "group",
	VisibleAssociate: "associate",
}

// MarshalText writes the visibility's name ("all", "group" or
// "associate"), and fails with [ErrInvalid] for an undefined value.
func (v Visibility) MarshalText() ([]byte, error) {
	return enumMarshal(visibilityNames[:], v, "visibility")
}

// UnmarshalText reads a name [Visibility.MarshalText] writes.
func (v *Visibility) UnmarshalText(text []byte) error {
	x, err := enumUnmarshal[Visibility](visibilityNames[:], text, "visibility")
	if err == nil {
		*v = x
	}
	return err
}

// ParseVisibility returns the visibility named s ("all", "group" or
// "associate"), or an error wrapping [ErrInvalid].
func ParseVisibility(s string) (Visibility, error) {
	return enumParse[Visibility](visibilityNames[:], s, "visibility")
}

// Kind

var kindNames = [...]string{
	KindRole:          "role",
	KindGroup:         "group",
	KindAssociate:     "associate",
	KindSharingRule:   "sharing rule",
	KindGrant:         "grant",
	KindCategory:      "category",
	KindImpersonation: "impersonation",
	KindLimit:         "limit",
	KindLicence:       "licence",
	KindPastOwner:     "past owner",
}

// MarshalText writes the kind's name ("role", "sharing rule"…), empty text
// for the zero value, and fails with [ErrInvalid] for any other value.
func (k Kind) MarshalText() ([]byte, error) { return enumMarshal(kindNames[:], k, "kind") }

// UnmarshalText reads a name [Kind.MarshalText] writes.
func (k *Kind) UnmarshalText(text []byte) error {
	v, err := enumUnmarshal[Kind](kindNames[:], text, "kind")
	if err == nil {
		*k = v
	}
	return err
}

// ParseKind returns the kind of entity named s, as [Kind.String] writes it,
// or an error wrapping [ErrInvalid].
func ParseKind(s string) (Kind, error) { return enumParse[Kind](kindNames[:], s, "kind") }

// Dialect

var dialectNames = [...]string{
	PostgreSQL: "postgresql",
	SQLite:     "sqlite",
}

// String names the dialect ("postgresql" or "sqlite"), or "dialect(N)" for
// an undefined value.
func (d Dialect) String() string { return enumName(dialectNames[:], d, "dialect") }

// MarshalText writes the dialect's name, empty text for the zero value, and
// fails with [ErrInvalid] for any other value.
func (d Dialect) MarshalText() ([]byte, error) { return enumMarshal(dialectNames[:], d, "dialect") }

// UnmarshalText reads a name [Dialect.MarshalText] writes.
func (d *Dialect) UnmarshalText(text []byte) error {
	v, err := enumUnmarshal[Dialect](dialectNames[:], text, "dialect")
	if err == nil {
		*d = v
	}
	return err
}

// ParseDialect returns the SQL dialect named s ("postgresql" or "sqlite"),
// or an error wrapping [ErrInvalid].
func ParseDialect(s string) (Dialect, error) {
	return enumParse[Dialect](dialectNames[:], s, "dialect")
}

// CRUD is a set, not an enum: its text is letters, as [CRUD.String] writes
// them, and [ParseCRUD] reads them.

// MarshalText writes the set as [CRUD.String] does ("CRUD", "R", "-" for
// the empty set), and fails with [ErrInvalid] when c holds bits beyond the
// four rights. With [Relation.MarshalText] it makes a [Grid] marshal to
// JSON as {"owner":"CRUD","primary group":"CRU","other":"R"}, and a [Role]
// with it.
func (c CRUD) MarshalText() ([]byte, error) {
	if !c.Valid() {
		return nil, fmt.Errorf("%w: rights %#x hold bits beyond CRUD", ErrInvalid, uint8(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalText reads the letters [ParseCRUD] accepts.
func (c *CRUD) UnmarshalText(text []byte) error {
	v, err := ParseCRUD(string(text))
	if err == nil {
		*c = v
	}
	return err
}

// EmailStatus

var emailStatusNames = [...]string{
	EmailUnchecked:    "unchecked",
	EmailValid:        "valid",
	EmailMissing:      "no address",
	EmailBadFormat:    "bad format",
	EmailNoDomain:     "no such domain",
	EmailNoMX:         "no MX record",
	EmailLookupFailed: "lookup failed",
}

// MarshalText writes the status's name ("valid", "no MX record"…), and
// fails with [ErrInvalid] for an undefined value.
func (s EmailStatus) MarshalText() ([]byte, error) {
	return enumMarshal(emailStatusNames[:], s, "email status")
}

// UnmarshalText reads a name [EmailStatus.MarshalText] writes.
func (s *EmailStatus) UnmarshalText(text []byte) error {
	v, err := enumUnmarshal[EmailStatus](emailStatusNames[:], text, "email status")
	if err == nil {
		*s = v
	}
	return err
}

// LicenceProblem

var licenceProblemNames = [...]string{
	LicenceOK:          "ok",
	LicenceMissing:     "missing",
	LicenceNotYetValid: "not yet valid",
	LicenceExpired:     "expired",
}

// MarshalText writes the problem as [LicenceProblem.String] does, and
// fails with [ErrInvalid] for an undefined value.
func (p LicenceProblem) MarshalText() ([]byte, error) {
	return enumMarshal(licenceProblemNames[:], p, "licence problem")
}

// UnmarshalText reads a name [LicenceProblem.MarshalText] writes.
func (p *LicenceProblem) UnmarshalText(text []byte) error {
	v, err := enumUnmarshal[LicenceProblem](licenceProblemNames[:], text, "licence problem")
	if err == nil {
		*p = v
	}
	return err
}

// ParseLicenceProblem returns the problem named s ("ok", "missing", "not
// yet valid" or "expired"), or an error wrapping [ErrInvalid].
func ParseLicenceProblem(s string) (LicenceProblem, error) {
	return enumParse[LicenceProblem](licenceProblemNames[:], s, "licence problem")
}

// SignInCauseKind

// MarshalText writes the kind's name ("gate", "type", "backend login"),
// and fails with [ErrInvalid] for an undefined value.
func (k SignInCauseKind) MarshalText() ([]byte, error) {
	return enumMarshal(signInCauseNames[:], k, "sign-in cause")
}

// UnmarshalText reads a name [SignInCauseKind.MarshalText] writes.
func (k *SignInCauseKind) UnmarshalText(text []byte) error {
	v, err := enumUnmarshal[SignInCauseKind](signInCauseNames[:], text, "sign-in cause")
	if err == nil {
		*k = v
	}
	return err
}

// ParseSignInCauseKind returns the kind named s, or an error wrapping
// [ErrInvalid].
func ParseSignInCauseKind(s string) (SignInCauseKind, error) {
	return enumParse[SignInCauseKind](signInCauseNames[:], s, "sign-in cause")
}

// Channel

var channelNames = [...]string{
	ChannelClient: "client",
	ChannelAPI:    "api",
}

// MarshalText writes the channel's name ("client", "api"), and fails with
// [ErrInvalid] for an undefined value.
func (c Channel) MarshalText() ([]byte, error) { return enumMarshal(channelNames[:], c, "channel") }

// UnmarshalText reads a name [Channel.MarshalText] writes.
func (c *Channel) UnmarshalText(text []byte) error {
	v, err := enumUnmarshal[Channel](channelNames[:], text, "channel")
	if err == nil {
		*c = v
	}
	return err
}

// ParseEmailStatus returns the status named s, or an error wrapping
// [ErrInvalid].
func ParseEmailStatus(s string) (EmailStatus, error) {
	return enumParse[EmailStatus](emailStatusNames[:], s, "email status")
}

// ParseChannel returns the channel named s ("client" or "api"), or an
// error wrapping [ErrInvalid].
func ParseChannel(s string) (Channel, error) {
	return enumParse[Channel](channelNames[:], s, "channel")
}
