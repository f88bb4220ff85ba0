package acl

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Pattern names the resources an ACL applies to (Kafka's ResourcePattern):
// a type, a name and how the name matches.
type Pattern struct {
	Type        ResourceType
	Name        string
	PatternType PatternType
}

func (p Pattern) String() string {
	return p.Type.String() + ":" + p.PatternType.String() + ":" + p.Name
}

// Entry is one access control entry (Kafka's AccessControlEntry): who
// (the principal as "type:name"), from where (an IP as HostOf writes it,
// or "*"), what, and allowed or denied.
type Entry struct {
	Principal  string
	Host       string
	Operation  Operation
	Permission Permission
}

func (e Entry) String() string {
	return fmt.Sprintf("%s has %s permission for operations: %s from hosts: %s", e.Principal, e.Permission.EnumName(), e.Operation.EnumName(), e.Host)
}

func compareEntries(a, b Entry) int {
	return cmp.Or(strings.Compare(a.Principal, b.Principal), strings.Compare(a.Host, b.Host),
		cmp.Compare(a.Operation, b.Operation), cmp.Compare(a.Permission, b.Permission))
}

// normalize sorts entries and drops duplicates: the ACLs of a pattern are a
// set, kept in one order so that equal sets compare and encode equal.
func normalize(es []Entry) []Entry {
	es = slices.Clone(es)
	slices.SortFunc(es, compareEntries)
	return slices.Compact(es)
}

// Binding is one ACL: an entry on a pattern.
type Binding struct {
	Pattern Pattern
	Entry   Entry
}

func (b Binding) String() string { return b.Pattern.String() + ": " + b.Entry.String() }

// Validate reports why b cannot be stored, as Kafka's AclApis and
// AclAuthorizer refuse a creation (INVALID_REQUEST): unknown or filter-only
// elements, a cluster not named kafka-cluster, an empty name, a name with
// "/" (a znode path element), a principal without a type.
func (b Binding) Validate() error {
	p, e := b.Pattern, b.Entry
	switch {
	case p.Type == ResourceCluster && p.Name != ClusterName:
		return fmt.Errorf("%w: The only valid name for the CLUSTER resource is %s", ErrInvalid, ClusterName)
	case p.Name == "":
		return fmt.Errorf("%w: Invalid empty resource name", ErrInvalid)
	case !p.Type.Known() || !p.PatternType.Specific() || !e.Operation.Known() || !e.Permission.Known():
		return fmt.Errorf("%w: ACL binding contains unknown elements", ErrInvalid)
	case strings.Contains(p.Name, "/"):
		return fmt.Errorf("%w: ACL binding contains invalid resource name: %s", ErrInvalid, p.Name)
	}
	if _, err := ParsePrincipal(e.Principal); err != nil {
		return err
	}
	return nil
}

// PatternFilter selects patterns (Kafka's ResourcePatternFilter). Type ANY
// and a nil Name match any; PatternType ANY compares names as they are
// across LITERAL and PREFIXED, MATCH selects every pattern that would
// apply to a resource of that name (the literal name, the literal "*",
// the prefixes of the name).
type PatternFilter struct {
	Type        ResourceType
	Name        *string
	PatternType PatternType
}

// Matches is ResourcePatternFilter.matches.
func (f PatternFilter) Matches(p Pattern) bool {
	if f.Type != ResourceAny && f.Type != p.Type {
		return false
	}
	if f.PatternType != PatternAny && f.PatternType != PatternMatch && f.PatternType != p.PatternType {
		return false
	}
	if f.Name == nil {
		return true
	}
	if f.PatternType == PatternAny || f.PatternType == p.PatternType {
		return *f.Name == p.Name
	}
	switch p.PatternType { // f is MATCH
	case PatternLiteral:
		return *f.Name == p.Name || p.Name == Wildcard
	case PatternPrefix:
		return strings.HasPrefix(*f.Name, p.Name)
	}
	return false
}

// exact reports whether f names at most one pattern, and which patterns it
// may name (Kafka's matchesAtMostOne and filterToResources): a delete
// reaches those even if this broker's cache has not seen them yet.
func (f PatternFilter) exact() []Pattern {
	if f.Type == ResourceAny || !f.Type.Known() || f.Name == nil {
		return nil
	}
	switch f.PatternType {
	case PatternLiteral, PatternPrefix:
		return []Pattern{{f.Type, *f.Name, f.PatternType}}
	case PatternAny:
		return []Pattern{{f.Type, *f.Name, PatternLiteral}, {f.Type, *f.Name, PatternPrefix}}
	}
	return nil
}

// EntryFilter selects entries (Kafka's AccessControlEntryFilter): nil
// principal or host and ANY operation or permission match any; the rest
// compare exactly (a filter on User:* finds the wildcard ACLs, not every
// ACL).
type EntryFilter struct {
	Principal  *string
	Host       *string
	Operation  Operation
	Permission Permission
}

// Matches is AccessControlEntryFilter.matches.
func (f EntryFilter) Matches(e Entry) bool {
	return (f.Principal == nil || *f.Principal == e.Principal) &&
		(f.Host == nil || *f.Host == e.Host) &&
		(f.Operation == OpAny || f.Operation == e.Operation) &&
		(f.Permission == PermissionAny || f.Permission == e.Permission)
}

// Filter selects bindings (Kafka's AclBindingFilter).
type Filter struct {
	Pattern PatternFilter
	Entry   EntryFilter
}

// MatchAll is the filter that matches every binding.
var MatchAll = Filter{
	Pattern: PatternFilter{Type: ResourceAny, PatternType: PatternAny},
	Entry:   EntryFilter{Operation: OpAny, Permission: PermissionAny},
}

// Matches reports whether f selects b.
func (f Filter) Matches(b Binding) bool {
	return f.Pattern.Matches(b.Pattern) && f.Entry.Matches(b.Entry)
}

// The ACLs of one pattern as Kafka stores them, in a znode of
// /kafka-acl/<Type>/<name> (AclEntry.toJsonCompatibleMap):
//
//	{"version":1,"acls":[{"principal":"User:alice","permissionType":"Allow","operation":"Read","host":"*"}]}
//
// Part of the format shared with Kafka: never change it. Names are written
// in Pascal case (Allow, Read, IdempotentWrite) and read in either of
// Kafka's spellings (READ too), as Kafka reads them.
type aclsJSON struct {
	Version *int        `json:"version"`
	ACLs    []entryJSON `json:"acls"`
}

type entryJSON struct {
	Principal      *string `json:"principal"`
	PermissionType *string `json:"permissionType"`
	Operation      *string `json:"operation"`
	Host           *string `json:"host"`
}

// aclsVersion is the only version of the ACL JSON.
const aclsVersion = 1

// MarshalJSON writes the entry in Kafka's ACL JSON.
func (e Entry) MarshalJSON() ([]byte, error) {
	perm, op := e.Permission.String(), e.Operation.String()
	return json.Marshal(entryJSON{Principal: &e.Principal, PermissionType: &perm, Operation: &op, Host: &e.Host})
}

// UnmarshalJSON reads an entry of Kafka's ACL JSON; every field is
// required and must name a known permission and operation.
func (e *Entry) UnmarshalJSON(data []byte) error {
	var j entryJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	if j.Principal == nil || j.PermissionType == nil || j.Operation == nil || j.Host == nil {
		return errors.New("acl: an ACL needs principal, permissionType, operation and host")
	}
	p, err := ParsePrincipal(*j.Principal)
	if err != nil {
		return err
	}
	perm, err := ParsePermission(*j.PermissionType)
	if err != nil || !perm.Known() {
		return fmt.Errorf("%w: permissionType %q", ErrInvalid, *j.PermissionType)
	}
	op, err := ParseOperation(*j.Operation)
	if err != nil || !op.Known() {
		return fmt.Errorf("%w: operation %q", ErrInvalid, *j.Operation)
	}
	*e = Entry{Principal: p.String(), Host: *j.Host, Operation: op, Permission: perm}
	return nil
}

// EncodeACLs is the ACL JSON of a pattern's entries, in one order whatever
// the order given.
func EncodeACLs(entries []Entry) []byte {
	v := aclsVersion
	out := struct {
		Version *int    `json:"version"`
		ACLs    []Entry `json:"acls"`
	}{&v, normalize(entries)}
	if out.ACLs == nil {
		out.ACLs = []Entry{}
	}
	data, err := json.Marshal(out)
	if err != nil {
		panic(err) // strings and small integers always marshal
	}
	return data
}

// DecodeACLs reads the ACL JSON of a pattern (AclEntry.fromBytes): no
// bytes are no ACLs; the version must be 1; every entry must be whole.
func DecodeACLs(data []byte) ([]Entry, error) {
	if len(data) == 0 {
		return nil, nil
	}
	var j struct {
		Version *int    `json:"version"`
		ACLs    []Entry `json:"acls"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("acl: ACL JSON: %w", err)
	}
	if j.Version == nil || *j.Version != aclsVersion {
		return nil, fmt.Errorf("acl: ACL JSON of version %v, want %d", derefInt(j.Version), aclsVersion)
	}
	return normalize(j.ACLs), nil
}

func derefInt(p *int) any {
	if p == nil {
		return "none"
	}
	return *p
}
