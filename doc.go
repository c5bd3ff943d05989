// Package access answers "may this user do this to that record — and why?"
// for business applications (CRM, customer service, web shops) built on the
// usergroup, role and ownership security model of SuperOffice, vtiger and
// Dynamicweb.
//
// A service describes its associates, usergroups, roles, sharing rules,
// grants and categories in a [Store] (the in-memory store in store/memory,
// or the SQL stores in store/postgres and store/sqlite), builds a resolver
// with [NewResolver], and asks it:
//
//	r, err := access.NewResolver(ctx, store, nil)
//	d, err := r.Can(ctx, 11, access.Update, access.Record{Type: "contact", ID: 42, Owner: 12, Group: 3})
//	if d.Allowed { … }
//	fmt.Println(d) // deny: anna (11) needs update on contact 42; role Sales (1) grants R for other group via …
//
// Every answer comes from an immutable snapshot of one store revision, needs
// no I/O and no locks, and explains itself. Any error means deny.
//
// These docs call what NewResolver returns the resolver. Its type is
// *[Engine], which implements the [Resolver] interface: hold an *Engine
// where you build it (it also has the lifecycle and health methods:
// Refresh, Sync, Close, Ready, Stats), and accept a [Resolver] where code
// only asks questions, so tests can pass another one. Methods are linked
// as Engine's, where each is documented in full.
//
// What a store's author needs (the Store contract, View, Writer, Watcher,
// Delta, Ref, Kind, Batch.Validate) comes last, under "Writing a store".
//
// # Associates
//
// An [Associate] is a user of one of five types, with SuperOffice's numeric
// values: [Internal] (0, employees), [Resource] (1, rooms and equipment),
// [External] (4, partners and customers), [Anonymous] (7: granted no
// record, but may sign in to the API, see [Engine.SignIn]) and [System] (13,
// integrations). Login names
// are unique compared case-insensitively ([FoldName]).
//
// Before any rule, the gates: an associate must exist, be Active, and the
// time (Options.Now) must lie in its validity window [ValidFrom, ValidTo).
// Resources cannot sign in and anonymous associates get no record. A system
// user that passes the gates bypasses every rule. An inactive or deleted
// associate still matters as the owner of its records.
//
// # Licences and sign-in
//
// A site's licences are [Licence] values: a name, seats (0 for
// unlimited), an optional validity window, and the associate types that
// need one (For). Associates hold licences through Associate.Licences; a
// write that gives a licence more holders than seats is rejected. Once any
// licence lists a type, every associate of that type must hold one for its
// type that is valid at the time of the question, or it fails the gate
// [GateNoLicence] — after the active and window gates, before the resource
// and anonymous ones, system users included — and the explanation names
// the licence and whether it is missing, expired or not yet valid. A model
// without licences decides exactly as before.
//
// [Engine.SignIn] answers whether an associate may sign in through a
// [Channel], and why: the gates (an anonymous associate, kept from
// records, may still use the API), then the type (internal associates use
// the client and the API; external, system and anonymous ones the API
// only, as SuperOffice's NetServer rules say), then for the client the
// backend-login functional right from the role or an effective group, like
// Dynamicweb's "allow backend login" group setting. Only internal
// associates ever hold backend-login.
//
// Stores need not validate what they hand over, so data no [Batch.Validate]
// would accept fails closed when loaded: an associate of any other type
// fails the gates ([GateMalformed], "unknown associate type 9") on every
// path, and a rights value with bits beyond C, R, U and D grants nothing,
// in a role's cell, a sharing rule, a grant or a group default.
//
// # Groups
//
// Only internal associates belong to usergroups: a primary group (stamped
// on the records they own) and secondary groups. A [Group]'s effective
// members are the associates linked to it directly, the holders of the
// roles it lists in Roles, the holders of the roles it lists in
// RolesAndSubordinates and of every role below them, and the effective
// members of the groups it lists in Groups, to any depth. A group with a
// Smart rule ([ParseSmartRule]) instead has exactly the internal associates
// the rule matches. Writes that would make group nesting circular are
// rejected with a [*CycleError] naming the cycle; data loaded around the
// validator that holds a cycle still resolves, as the least fixpoint.
//
// [Engine.EffectiveGroups] returns each membership with the shortest path
// that explains it; [Engine.IsMember] and [Engine.Members] answer from a
// precomputed closure, so their cost does not depend on nesting depth.
//
// # Roles
//
// Every associate except a resource holds one [Role]; roles form a tree
// through Parent. A role grants, per entity type ("*" being the default
// row) and per ownership [Relation], a [CRUD] set: the accumulative levels
// [LevelNone], [LevelRead], [LevelCreate], [LevelUpdate] and [LevelFull],
// or any set. It also lists functional rights ([Engine.Has]), which groups
// can grant too. [UserLevels] returns the six default roles of SuperOffice
// CRM Online; [Role.Lint] reports cells where a farther relation grants
// more than a closer one. Such a role is legal but surprising (a colleague
// may get less than a stranger), so a write through [Apply] returns the
// findings of every role it wrote alongside the revision, as warnings.
//
// # Ownership
//
// A [Record] carries its owner, the group stamped on it when it was
// assigned ([Engine.Stamp] gives the pair to write), and optionally a team
// (a group that owns it as a whole), a company, a project, a category, a
// published flag and a [Visibility]. For an internal subject the specific
// relations are [Owner], [Team], [PrimaryGroup], [OtherGroup],
// [Subordinate] and [CategoryMember]; when none holds, the fallback [Other]
// (the record has an owner or team) or [Unowned]. The role's rights are the
// union of its cells for every specific relation that holds, or the
// fallback's cell. Every effective member of a record's team is an owner of
// it (vtiger: "all members of this group are the owners of this entry"), so
// the [Team] relation gives the role's [Owner] cell too, unless the role
// sets [Role.LimitTeams] to apply its team cells as written. A cell follows
// the accumulative CRUD pattern: create, update or delete without read is
// rejected ([CRUD.Accumulative]). The stamped group, not the owner's current group,
// decides [PrimaryGroup] and [OtherGroup]: when an owner moves group or is
// deleted, the record stays with the old group.
//
// A deleted associate remains a [PastOwner] — name, type, role, company
// and primary group, kept by the store in the delete's transaction —
// until the application has moved its records ([Batch].ForgetPastOwners,
// or putting the associate again): its superiors keep the Subordinate
// relation to its records and sharing rules from its role or primary
// group keep matching, in every question alike ([Engine.PastOwners] lists
// who waits). vtiger deletes a group or user only after transferring what
// it owns: [TransferGroup] and [TransferAssociate] build one batch that
// moves every reference onto another group or associate — memberships,
// nesting, sharing rules, grants, categories, impersonation rules, admins,
// limits — collapses duplicates, deletes the old one and expects the
// revision it was read at. Past owners whose primary group is the old
// group get the new one in the same write ([Batch].MovePastOwners); a
// smart group is transferred only when the new group would hold all its
// members, and [TransferAssociate] of a past owner just forgets it once
// its records have moved. The records are the application's: apply the
// batch with the SQL store's ApplyTx and call its TransferRecords with the
// same [Columns] [Engine.Filter] uses, in one transaction, so team-owned
// records never silently lose their owners ([Applied].Deleted lists what
// a plain delete removed). External subjects have only
// [Owner], [MyCompany] and [SameProject], and see unpublished records only
// when they own them.
//
// # Decisions
//
// [Engine.Can] applies, in order: the gates; the system-user bypass; the
// role's rights by relation; [SharingRule]s (from the record's owners to
// subjects, each side a set of associates, groups, roles, roles with
// subordinates or everyone) which add rights; explicit [Grant]s on one
// record or a whole type, and where no grant covers the record, group
// default permissions (Group.Defaults), which add rights; then the
// [Limit]s, which only take rights away; and finally the restrictions
// (visibility, unpublished records for externals, members-only
// categories), which only remove rights too. The [Decision] carries the final
// CRUD set, the relations that held and typed [Cause]s for allows and
// denies alike; its zero value denies. Can does not allocate.
//
// # Limits and denials
//
// A [Limit] names a group (its effective members are limited) or none
// (everyone but system users), an entity type or "*", optionally one
// record, and Max: the most the subject keeps, one of the five levels.
// With the default scope, [LimitAll], it caps everything the subject holds
// on the record, so Max [LevelNone] is a denial that beats every grant and
// sharing rule (Dynamicweb: members "denied access altogether"). With
// [LimitUnrelated] it is vtiger's organisation-wide sharing access
// (private, public read-only, read-write, read-write-delete): it caps only
// what the role's cells and group defaults give, and only on records the
// subject neither owns nor reaches through team, group, hierarchy or (for
// an external) its company or project; sharing rules and explicit grants
// still open such records beyond it, as vtiger's sharing rules do. Several
// limits intersect. System users bypass limits, as every rule. The
// explanation names each limit that took something away ([CauseLimit]):
// "limit 4 (group Temps (11)) keeps at most R on contact: takes away CUD".
// Adding a limit never adds a right; a property test checks it.
//
// # External associates
//
// An [External] associate's access is its own company and its projects,
// and what the internal users publish there. Which layers reach it:
//
//   - its role, only through [Owner], [MyCompany] and [SameProject];
//   - usergroups never: externals are members of no group, so group
//     grants, group default permissions, group functional rights and
//     impersonation rules naming a group do not reach them;
//   - sharing rules whose To is everyone or lists its role, and grants to
//     a group, only on records it owns or of its company or one of its
//     projects; elsewhere they are held back, and the decision says so
//     with a [RestrictExternalScope] cause;
//   - a sharing rule whose To lists the associate itself, or a grant to
//     the associate, anywhere: the only way past its company and projects,
//     marked Cause.Named in the explanation;
//   - functional rights never: [Engine.Has] reports none for an external,
//     whatever its role lists, so it may manage a group's members only
//     when the group lists it as an admin by name.
//
// The unpublished restriction then applies as for every record: an external
// sees an unpublished record only when it owns it. [Engine.Filter],
// [Engine.WhoCan] and [Engine.Permissions] follow the same rules.
//
// A Decision renders its reasons with names (String, [Decision.MarshalJSON]
// for JSON, [Decision.LogValue] for log/slog) as they were at its revision,
// without keeping that revision's snapshot alive, so decisions can be
// queued for auditing. A deny whose role would have granted the action to a
// stranger — its Other or Unowned cell — but not through the specific
// relation that held (see [Role.Lint]) names that nearest miss
// ([CauseNearMiss]).
//
// # Categories
//
// Customer Service [Category] membership comes individually (for
// associates with a ServiceLogin), from the usergroups a category lists, or
// from roles it lists. [Engine.Categories] shows each with its provenance,
// and [Engine.RemoveCategory] refuses to remove a usergroup-derived
// membership with [ErrDerived]. Membership of a parent category does not
// imply its subcategories. A members-only category restricts its records
// to its members.
//
// # Impersonation and administration
//
// [Impersonation] rules let an associate or group act on behalf of another
// associate or group. [Engine.Impersonate] checks them — never chaining,
// never onto a system user, never onto a role above the actor's unless the
// rule names the target — and [Engine.CanAs] decides as the target alone,
// recording the actor. Group admins, user-admin holders and system users
// may manage a group's members ([Engine.CanManageMembers]); self-service
// groups let associates join themselves ([Engine.CanJoin]). Groups carry
// custom field values that members fall back to ([Engine.Field]).
//
// # Stores
//
// A [Store] holds the model; the resolver follows it. Writes are atomic
// [Batch]es, and every store enforces the same rules with the same
// errors: ids are positive, times lie in the years [MinYear]–[MaxYear]
// UTC to the microsecond, text is valid UTF-8 without NUL bytes, names
// are up to [MaxNameLen] bytes, keys up to [MaxKeyLen], values up to
// [MaxValueLen], lists up to [MaxListLen] entries. Stores return times in
// UTC. Choose:
//
//   - store/memory for one process, tests and embedded use: writes through
//     it are visible to the very next resolver call;
//   - store/sqlite for a single node that must persist, with no server;
//   - store/postgres for fleets of replicas: each embeds a resolver that
//     applies only the changes since its revision, learns of them through
//     LISTEN/NOTIFY, and can wait for a revision ([Engine.Sync]) so a
//     request that carries its user's last write revision is served
//     consistently. A resolver may read from a hot standby while writes
//     go to the primary: the standby's store hears of each revision from
//     the primary (or by polling) once the standby has replayed it, so
//     Sync waits for the standby to catch up.
//
// A write reported as failed has not taken effect: a store does not let
// the caller's deadline cut its COMMIT short. Only a PostgreSQL connection
// lost while the server commits leaves the outcome unknown; the error then
// wraps [ErrCommitUnknown] (see "Writing a store" for what to do then).
//
// # Staleness
//
// When the store goes away, a resolver keeps answering from its last
// snapshot, but not for ever. Its staleness ([Engine.Staleness]) is how
// long ago the store last answered it, on the monotonic clock, so a step of
// the wall clock cannot hide an outage; failed refreshes do not reset it.
// Past Options.MaxStaleness — by default [DefaultMaxStaleness] for the SQL
// stores and any other store that can fail, no bound for an [Infallible]
// one such as store/memory — every question that decides anything refuses
// with an error wrapping [ErrStale], and denies: [Engine.Can], CanAs,
// Impersonate, IsMember, Members, EffectiveGroups, Has, Stamp, WhoCan,
// Filter, Permissions, GroupPermissions, Matrix, Categories,
// CategoryMembers, RemoveCategory, CanManageMembers, CanJoin, Field,
// ValidateEmails and the listings (GroupsSeq, AssociatesSeq, RolesSeq).
// They all read the snapshot through one gate, so a new question cannot forget it. Only the
// reports (Revision, Staleness, [Engine.Stats], [Engine.Ready]) and the
// lifecycle (Refresh, Sync, Close) answer regardless. The gate costs Can
// nothing: a watchdog timer, not a clock read per question, marks the
// resolver stale.
//
// Refresh failures are logged (Options.Logger, by default [slog.Default])
// and counted in [Engine.Stats]; [Engine.Ready] is what a readiness probe
// calls. Every call that takes a context returns by its deadline, even
// while a refresh is stuck in the store, and the resolver's own refreshes
// give up after Options.RefreshTimeout.
//
// # Auditing and lookups
//
// [Options.Audit] receives every decision [Engine.Can] and [Engine.CanAs]
// make and every impersonation, granted or refused, synchronously and
// without allocating. [Options.EntityTypes] makes a question about a type
// the application does not have (a typo) an error instead of a deny.
// [Engine.AssociateByName] and [Engine.GroupsByName] answer from the
// snapshot, so authenticating a request needs no store round trip;
// [Engine.MembersSeq] and [Engine.WhoCanSeq] stream the large answers.
//
// # What-if
//
// [Engine.WhatIf] previews a write: it checks the batch against the
// resolver's model exactly as a store's Apply would, with the same errors,
// builds the model the write would lead to without publishing it, and
// reports per associate what changes — effective memberships added or
// removed with their paths, permission cells (an entity type and a source:
// the role for a relation, a sharing rule, a grant, the group defaults,
// the ceiling the whole-type limits put on the type, or one limit on a
// record or on unrelated records) with rights before and after, functional rights gained or lost, and the
// associate's status. Only the associates the write can reach are
// compared, so a one-group change at 100,000 associates previews in about
// a second. Nothing is written.
//
// # Group administration
//
// Groups carry a short Description and associates an Email address;
// [Engine.GroupsSeq], [Engine.AssociatesSeq] and [Engine.RolesSeq] list
// them from one snapshot in id order, page by page after a given id.
// [Engine.Field] falls back to the groups when the associate has no value,
// and an empty or blank value counts as none (Dynamicweb: group values
// apply "if the field has no value on a user"). [Engine.ValidateEmails] is
// Dynamicweb's "validate emails": for every effective member of a group it
// checks that the address is well formed, that its domain exists and that
// it has an MX record. It asks the DNS through the small [DNS] interface
// (a *net.Resolver by default), at most Concurrency domains at once, each
// within Timeout and once per domain, and reports a failing lookup as that
// address's reason, never as the call's error; a DNS that ignores its
// context cannot hold the call past Timeout or the caller's deadline.
// [ConvertLegacyRoles] turns
// SuperOffice Customer Service roles (the ej_role table, obsolete since
// 7.5) into roles with the matching Service functional rights, and lists
// what had no equivalent.
//
// # Many tenants
//
// A service that answers for many organisations keeps a [Pool]: it hands
// out one resolver per tenant, loaded on first use — once, however many
// requests ask at the same moment — from the store [PoolOptions].Open
// returns for that tenant, and keeps the recently used ones while their
// snapshots ([Stats.SnapshotBytes]) fit the budget, evicting the least
// recently used. Each tenant's resolver follows its own store, with its own
// staleness; a resolver is never handed out for another tenant, so tenants
// may reuse ids. [Pool.Stats] gives resident tenants, bytes, loads,
// evictions and load latency.
//
// On PostgreSQL each tenant's store is a schema of one database, opened
// with postgres.Options.Schema over one connection pool shared by all
// tenants and followed through one postgres.Listener; on SQLite, a set of
// tables of one file (sqlite.Options.Tenant). Either way ids are per
// tenant and a reference across tenants is impossible by the keys.
//
// # Concurrency
//
// [Engine] is safe for concurrent use. It publishes each compiled snapshot
// through an atomic pointer; one writer at a time builds the next one,
// incrementally: a change to one associate recomputes that associate's
// memberships only, and a change to groups or roles recomputes the members
// of the groups whose closure changed.
//
// # Performance
//
// On a 100,000-associate, 10,000-group organisation (2 vCPUs):
// [Engine.IsMember] answers in 20–90 ns and [Engine.Can] on random
// (subject, record) pairs in about 275 ns (median), 110 ns when the
// subject is in cache, neither allocating; a full snapshot compiles in
// about 0.3 s into about 20 MB beside the associates it points at; a
// membership change is visible in about 25 µs and a nesting change that
// moves a thousand members in about a millisecond, each copying only the
// chunks it touches. Decisions read a dense
// 32-byte header per associate, which on Linux the resolver asks to be
// backed by transparent huge pages. When only yes or no is needed,
// [Engine.Allowed] gives Can's answer without building its explanation.
// The README has the full table and the design.
//
// Deep and wide shapes stay near-linear: the role tree is compiled into a
// depth-first numbering, so "is this role below that one" is two
// comparisons at any depth, and a role write that keeps the tree's shape
// (new rights, name or functional rights) recompiles only the written
// roles; one that adds, deletes or moves a role renumbers the tree in one
// linear pass. [Batch.Validate] finds group cycles in one pass over the
// batch's groups, and no compile or check recurses, so no depth can
// overflow the stack. [Engine.EffectiveGroups] shares path storage between
// memberships (see [Membership.Path]).
//
// # Writing a store
//
// Users pick a store; this section is for whoever writes one, as
// database/sql/driver is for a driver's author. A store implements:
//
//   - [Store]: Changes hands the resolver the whole model at a revision
//     (a [Delta] with Full set) or what changed since the revision it has,
//     under a [Revision] that every committed [Batch] bumps;
//   - [Watcher], optionally: Watch tells the resolver a revision was
//     committed, so a write is visible to the next question rather than
//     the next poll;
//   - [Infallible], optionally: the promise that Changes cannot fail,
//     which lifts the default staleness bound;
//   - [Writer]: Apply commits a [Batch] atomically and returns its
//     revision (adapters add convenience methods on top of it).
//
// Inside its write transaction a store calls [Batch.Validate] with a
// [View] of the model it holds, so that every store enforces the same
// rules with the same errors; Validate runs [Batch.Check] first, which
// defines the values every store must keep exactly (the limits listed
// under "Stores"). A [Ref] names one entity by [Kind] and id: the View's
// Dependants answers with Refs, so Validate can refuse a delete that would
// leave a reference dangling; [References] lists what an entity refers to,
// from the one table of references every store derives its index from. A
// PostgreSQL store that loses its connection while the server commits
// returns an error wrapping [ErrCommitUnknown] whose [CommitError] carries
// what the store needs to find out whether the batch took effect.
//
// store/storetest runs the conformance suite every store must pass.
package access
