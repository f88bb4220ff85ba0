package acl

import (
	"fmt"
	"strings"
)

// The enumerations carry Kafka's wire codes (CreateAcls, DescribeAcls,
// DeleteAcls, and the KIP-430 bitfields): part of the protocol, never
// change them. Each value also has Kafka's two spellings: the enum name
// (TRANSACTIONAL_ID, which Kafka writes in change notifications and
// kafka-acls.sh prints) and the Pascal-case name (TransactionalId, which
// it writes in znode paths, ACL JSON and its authorizer log).

// ResourceType is what an ACL protects (Kafka's ResourceType).
type ResourceType int8

const (
	ResourceUnknown         ResourceType = 0
	ResourceAny             ResourceType = 1 // filters only
	ResourceTopic           ResourceType = 2
	ResourceGroup           ResourceType = 3
	ResourceCluster         ResourceType = 4
	ResourceTransactionalID ResourceType = 5
	ResourceDelegationToken ResourceType = 6
	ResourceUser            ResourceType = 7
)

// PatternType says how a pattern's name matches resource names.
type PatternType int8

const (
	PatternUnknown PatternType = 0
	PatternAny     PatternType = 1 // filters only: LITERAL or PREFIXED, names compared as they are
	PatternMatch   PatternType = 2 // filters only: every pattern that would match the name
	PatternLiteral PatternType = 3 // the name itself, or "*" for every resource of the type
	PatternPrefix  PatternType = 4 // every resource whose name starts with the name (KIP-290)
)

// Operation is what an ACL allows or denies (Kafka's AclOperation).
type Operation int8

const (
	OpUnknown         Operation = 0
	OpAny             Operation = 1 // filters only
	OpAll             Operation = 2
	OpRead            Operation = 3
	OpWrite           Operation = 4
	OpCreate          Operation = 5
	OpDelete          Operation = 6
	OpAlter           Operation = 7
	OpDescribe        Operation = 8
	OpClusterAction   Operation = 9
	OpDescribeConfigs Operation = 10
	OpAlterConfigs    Operation = 11
	OpIdempotentWrite Operation = 12
	OpCreateTokens    Operation = 13
	OpDescribeTokens  Operation = 14
)

// Permission is an ACL's kind.
type Permission int8

const (
	PermissionUnknown Permission = 0
	PermissionAny     Permission = 1 // filters only
	PermissionDeny    Permission = 2
	PermissionAllow   Permission = 3
)

// ClusterName is the only name of the cluster resource.
const ClusterName = "kafka-cluster"

// Wildcard is the literal resource name, principal name and host that
// stand for every one.
const Wildcard = "*"

// enumNames are the enum spellings, by code.
var (
	resourceNames   = []string{"UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN", "USER"}
	patternNames    = []string{"UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"}
	operationNames  = []string{"UNKNOWN", "ANY", "ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE", "CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE", "CREATE_TOKENS", "DESCRIBE_TOKENS"}
	permissionNames = []string{"UNKNOWN", "ANY", "DENY", "ALLOW"}
)

func enumName(names []string, code int8) string {
	if code < 0 || int(code) >= len(names) {
		return names[0]
	}
	return names[code]
}

// pascal turns an enum name into Kafka's Pascal case (SecurityUtils.toPascalCase):
// TRANSACTIONAL_ID is TransactionalId.
func pascal(name string) string {
	var b strings.Builder
	up := true
	for _, r := range name {
		switch {
		case r == '_':
			up = true
		case up:
			b.WriteString(strings.ToUpper(string(r)))
			up = false
		default:
			b.WriteString(strings.ToLower(string(r)))
		}
	}
	return b.String()
}

// lookup finds a code by name as Kafka's SecurityUtils and the enums'
// fromString accept it: the Pascal name, its upper case (TRANSACTIONALID),
// or the enum name in any case (transactional_id).
func lookup(names []string, s string) (int8, bool) {
	for code, n := range names {
		if s == pascal(n) || strings.EqualFold(s, n) || strings.EqualFold(s, strings.ReplaceAll(n, "_", "")) {
			return int8(code), true
		}
	}
	return 0, false
}

// String is Kafka's Pascal-case name: Topic, TransactionalId.
func (t ResourceType) String() string { return pascal(enumName(resourceNames, int8(t))) }

// EnumName is Kafka's enum name: TOPIC, TRANSACTIONAL_ID.
func (t ResourceType) EnumName() string { return enumName(resourceNames, int8(t)) }

// Known reports whether t is a concrete type an ACL may name.
func (t ResourceType) Known() bool { return t >= ResourceTopic && t <= ResourceUser }

func (p PatternType) String() string { return enumName(patternNames, int8(p)) }

// Specific reports whether p may be stored: LITERAL or PREFIXED.
func (p PatternType) Specific() bool { return p == PatternLiteral || p == PatternPrefix }

// String is Kafka's Pascal-case name: Read, IdempotentWrite.
func (o Operation) String() string { return pascal(enumName(operationNames, int8(o))) }

// EnumName is Kafka's enum name: READ, IDEMPOTENT_WRITE.
func (o Operation) EnumName() string { return enumName(operationNames, int8(o)) }

// Known reports whether o is an operation an ACL may name (ALL included).
func (o Operation) Known() bool { return o >= OpAll && o <= OpDescribeTokens }

// String is Kafka's Pascal-case name: Allow, Deny.
func (p Permission) String() string { return pascal(enumName(permissionNames, int8(p))) }

// EnumName is Kafka's enum name: ALLOW, DENY.
func (p Permission) EnumName() string { return enumName(permissionNames, int8(p)) }

// Known reports whether p is ALLOW or DENY.
func (p Permission) Known() bool { return p == PermissionDeny || p == PermissionAllow }

// ParseResourceType reads a resource type in either of Kafka's spellings.
func ParseResourceType(s string) (ResourceType, error) {
	if c, ok := lookup(resourceNames, s); ok && c != 0 {
		return ResourceType(c), nil
	}
	return ResourceUnknown, fmt.Errorf("%w: resource type %q", ErrInvalid, s)
}

// ParsePatternType reads a pattern type (LITERAL, PREFIXED, ANY, MATCH; any case).
func ParsePatternType(s string) (PatternType, error) {
	if c, ok := lookup(patternNames, s); ok && c != 0 {
		return PatternType(c), nil
	}
	return PatternUnknown, fmt.Errorf("%w: pattern type %q", ErrInvalid, s)
}

// ParseOperation reads an operation in either of Kafka's spellings.
func ParseOperation(s string) (Operation, error) {
	if c, ok := lookup(operationNames, s); ok && c != 0 {
		return Operation(c), nil
	}
	return OpUnknown, fmt.Errorf("%w: operation %q", ErrInvalid, s)
}

// ParsePermission reads Allow or Deny (or ANY) in either spelling.
func ParsePermission(s string) (Permission, error) {
	if c, ok := lookup(permissionNames, s); ok && c != 0 {
		return Permission(c), nil
	}
	return PermissionUnknown, fmt.Errorf("%w: permission type %q", ErrInvalid, s)
}

// implied are the operations whose ALLOW also allows an operation
// (AclAuthorizer.authorizeAction): Read, Write, Delete and Alter imply
// Describe; AlterConfigs implies DescribeConfigs. ALL implies everything,
// and is checked apart. Denials imply nothing: a DENY stops only its own
// operation (or ALL).
func implied(op Operation) []Operation {
	switch op {
	case OpDescribe:
		return []Operation{OpDescribe, OpRead, OpWrite, OpDelete, OpAlter}
	case OpDescribeConfigs:
		return []Operation{OpDescribeConfigs, OpAlterConfigs}
	}
	return []Operation{op}
}

// SupportedOperations are the operations Kafka defines on a resource type
// (AclEntry.supportedOperations), in code order: what KIP-430's authorized
// operations are computed over.
func SupportedOperations(t ResourceType) []Operation {
	switch t {
	case ResourceTopic:
		return []Operation{OpRead, OpWrite, OpCreate, OpDelete, OpAlter, OpDescribe, OpDescribeConfigs, OpAlterConfigs}
	case ResourceGroup:
		return []Operation{OpRead, OpDelete, OpDescribe}
	case ResourceCluster:
		return []Operation{OpCreate, OpAlter, OpDescribe, OpClusterAction, OpDescribeConfigs, OpAlterConfigs, OpIdempotentWrite}
	case ResourceTransactionalID:
		return []Operation{OpWrite, OpDescribe}
	case ResourceDelegationToken:
		return []Operation{OpDescribe}
	case ResourceUser:
		return []Operation{OpCreateTokens, OpDescribeTokens}
	}
	return nil
}

// OperationBits is the KIP-430 bitfield of ops: bit n set for the
// operation of code n.
func OperationBits(ops []Operation) int32 {
	var bits int32
	for _, o := range ops {
		bits |= 1 << o
	}
	return bits
}
