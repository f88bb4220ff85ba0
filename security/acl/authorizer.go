package acl

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
)

// Config configures an Authorizer.
type Config struct {
	// SuperUsers are allowed everything without ACLs (super.users).
	SuperUsers []Principal
	// AllowIfNoACL allows everyone on a resource that no ACL applies to
	// (allow.everyone.if.no.acl.found).
	AllowIfNoACL bool
	// Store holds the ACLs; Load reads them, CreateACLs and DeleteACLs
	// write them.
	Store Store
	// Logger receives the decisions, as Kafka's kafka.authorizer.logger:
	// DEBUG for an access allowed, INFO for one denied, and a trace level
	// below DEBUG for checks that grant or refuse nothing by themselves.
	Logger *slog.Logger
	// Decided, if set, is called with every decision logged above the
	// trace level (the metrics).
	Decided func(a Action, allowed bool)
}

// Authorizer decides whether a principal may do an operation on a
// resource, from ACLs cached in memory (Kafka's AclAuthorizer). A nil
// *Authorizer is no authorizer (authorizer.class.name empty): it allows
// everything.
type Authorizer struct {
	superUsers   []Principal
	allowIfNoACL bool
	store        Store
	log          *slog.Logger
	decided      func(Action, bool)

	// snap is the cache, replaced whole under mu; readers load it.
	snap atomic.Pointer[snapshot]

	// mu serializes the changes of the cache and the store: loads,
	// refreshes from notifications, creations and deletions (Kafka's
	// lock). It is a leaf: nothing else is locked under it.
	mu sync.Mutex
}

// New returns an authorizer with an empty cache; Load fills it.
func New(cfg Config) *Authorizer {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Authorizer{superUsers: slices.Clone(cfg.SuperUsers), allowIfNoACL: cfg.AllowIfNoACL, store: cfg.Store,
		log: log.With("logger", "kafka.authorizer.logger"), decided: cfg.Decided}
	a.snap.Store(newSnapshot(nil))
	return a
}

// Requester is who a request comes from.
type Requester struct {
	Principal Principal
	// Host is the client's address as HostOf writes it.
	Host string
	// API names the request in the log (Produce, Metadata).
	API string
}

// Action is one check: an operation on a resource named literally.
type Action struct {
	Operation Operation
	Type      ResourceType
	Name      string
	// RefCount is how many times the request names the resource (Kafka's
	// resourceReferenceCount), for the log; 0 counts as 1.
	RefCount int
	// QuietAllowed and QuietDenied log an allowed or a denied decision at
	// the trace level only, for checks that grant nothing by themselves or
	// only filter what is shown (Kafka's logIfAllowed and logIfDenied
	// false).
	QuietAllowed, QuietDenied bool
}

// levelTrace is below DEBUG: the decisions Kafka logs at TRACE.
const levelTrace = slog.LevelDebug - 4

// Authorize reports whether r may do act, as AclAuthorizer.authorizeAction:
// a super user may do anything; a resource no ACL applies to is allowed to
// everyone if AllowIfNoACL; otherwise a matching DENY refuses, and else a
// matching ALLOW (of the operation, of ALL, or of an operation implying
// it) allows. An ACL matches when its principal is the requester's or
// User:*, and its host the requester's or "*".
func (a *Authorizer) Authorize(r Requester, act Action) bool {
	if a == nil {
		return true
	}
	allowed := a.isSuperUser(r.Principal) || a.aclsAllow(r, act)
	a.record(r, act, act.Type.String()+":LITERAL:"+act.Name, allowed)
	return allowed
}

func (a *Authorizer) isSuperUser(p Principal) bool {
	if slices.Contains(a.superUsers, p) {
		if a.log.Enabled(context.Background(), slog.LevelDebug) {
			a.log.Debug(fmt.Sprintf("principal = %s is a super user, allowing operation without checking acls.", p))
		}
		return true
	}
	return false
}

func (a *Authorizer) aclsAllow(r Requester, act Action) bool {
	acls := a.snap.Load().matching(act.Type, act.Name)
	if len(acls) == 0 {
		if a.log.Enabled(context.Background(), slog.LevelDebug) {
			a.log.Debug(fmt.Sprintf("No acl found for resource %s, authorized = %t", Pattern{act.Type, act.Name, PatternLiteral}, a.allowIfNoACL))
		}
		return a.allowIfNoACL
	}
	principal := r.Principal.String()
	if matchExists(acls, act.Operation, principal, r.Host, PermissionDeny) {
		return false
	}
	for _, op := range implied(act.Operation) {
		if matchExists(acls, op, principal, r.Host, PermissionAllow) {
			return true
		}
	}
	return false
}

var wildcardPrincipal = WildcardPrincipal.String()

func matchExists(acls [][]Entry, op Operation, principal, host string, perm Permission) bool {
	for _, es := range acls {
		for _, e := range es {
			if e.Permission == perm &&
				(e.Principal == principal || e.Principal == wildcardPrincipal) &&
				(e.Operation == op || e.Operation == OpAll) &&
				(e.Host == host || e.Host == Wildcard) {
				return true
			}
		}
	}
	return false
}

// record logs a decision as Kafka's authorizer does and counts it, unless
// it is a quiet one.
func (a *Authorizer) record(r Requester, act Action, resource string, allowed bool) {
	level, result := slog.LevelInfo, "Denied"
	if allowed {
		level, result = slog.LevelDebug, "Allowed"
	}
	if (allowed && act.QuietAllowed) || (!allowed && act.QuietDenied) {
		level = levelTrace
	} else if a.decided != nil {
		a.decided(act, allowed)
	}
	ctx := context.Background()
	if !a.log.Enabled(ctx, level) {
		return
	}
	a.log.Log(ctx, level, fmt.Sprintf("Principal = %s is %s Operation = %s from host = %s on resource = %s for request = %s with resourceRefCount = %d",
		r.Principal, result, act.Operation, r.Host, resource, r.API, max(act.RefCount, 1)))
}

// AuthorizedOperations is the KIP-430 bitfield of the operations r may do
// on the resource, over the operations Kafka defines on its type (quietly:
// nothing is granted by computing it). No authorizer allows them all.
func (a *Authorizer) AuthorizedOperations(r Requester, t ResourceType, name string) int32 {
	var ops []Operation
	for _, op := range SupportedOperations(t) {
		if a.Authorize(r, Action{Operation: op, Type: t, Name: name, QuietAllowed: true, QuietDenied: true}) {
			ops = append(ops, op)
		}
	}
	return OperationBits(ops)
}

// AuthorizeByResourceType reports whether r may do op on at least one
// resource of type t, as AclAuthorizer.authorizeByResourceType (KIP-679:
// an idempotent producer needs Write on some topic): a super user may; a
// literal DENY on "*" refuses; AllowIfNoACL allows; then some ALLOW, on a
// literal name or a prefix, that no DENY on the same name or a shorter
// prefix covers. Only op and ALL count: implications do not apply.
func (a *Authorizer) AuthorizeByResourceType(r Requester, op Operation, t ResourceType) bool {
	if a == nil {
		return true
	}
	act := Action{Operation: op, Type: t, Name: "NONE"}
	resource := t.String() + ":UNKNOWN:NONE"
	if a.isSuperUser(r.Principal) {
		return true
	}
	allowed := a.byResourceType(r, op, t)
	a.record(r, act, resource, allowed)
	return allowed
}

func (a *Authorizer) byResourceType(r Requester, op Operation, t ResourceType) bool {
	s := a.snap.Load()
	principal := r.Principal.String()
	sets := func(perm Permission, pt PatternType) []map[string]struct{} {
		var out []map[string]struct{}
		for _, p := range []string{principal, wildcardPrincipal} {
			for _, h := range []string{r.Host, Wildcard} {
				for _, o := range []Operation{op, OpAll} {
					if set, ok := s.names[typeKey{Entry{p, h, o, perm}, t, pt}]; ok {
						out = append(out, set)
					}
				}
			}
		}
		return out
	}
	has := func(sets []map[string]struct{}, name string) bool {
		for _, set := range sets {
			if _, ok := set[name]; ok {
				return true
			}
		}
		return false
	}
	denyLiterals := sets(PermissionDeny, PatternLiteral)
	if has(denyLiterals, Wildcard) {
		return false
	}
	if a.allowIfNoACL {
		return true
	}
	denyPrefixes := sets(PermissionDeny, PatternPrefix)
	allowLiterals := sets(PermissionAllow, PatternLiteral)
	allowPrefixes := sets(PermissionAllow, PatternPrefix)
	if len(denyLiterals) == 0 && len(denyPrefixes) == 0 {
		return len(allowPrefixes) > 0 || len(allowLiterals) > 0
	}
	// A deny on a prefix of the name (the name included) dominates it.
	dominated := func(name string) bool {
		for i := 1; i <= len(name); i++ {
			if has(denyPrefixes, name[:i]) {
				return true
			}
		}
		return false
	}
	for _, set := range allowPrefixes {
		for prefix := range set {
			if !dominated(prefix) {
				return true
			}
		}
	}
	for _, set := range allowLiterals {
		for name := range set {
			if name == Wildcard || (!has(denyLiterals, name) && !dominated(name)) {
				return true
			}
		}
	}
	return false
}
