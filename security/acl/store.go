package acl

import "errors"

var (
	// ErrInvalid: a binding, principal or name that cannot be an ACL
	// (INVALID_REQUEST).
	ErrInvalid = errors.New("acl: invalid")
	// ErrConflict: a conditional store write found the pattern at another
	// version than the one read (another broker changed it): read again.
	ErrConflict = errors.New("acl: stored ACLs changed concurrently")
)

// Absent is the version of a pattern that has no stored ACLs (Kafka's
// ZkVersion.UnknownVersion). It is not ZooKeeper's "any version" (-1): a
// conditional delete at Absent fails if the ACLs appeared meanwhile.
const Absent int32 = -2

// Versioned are a pattern's ACLs and the version of their stored form (the
// znode version in ZooKeeper): a write conditional on it fails if another
// writer came between.
type Versioned struct {
	Entries []Entry
	Version int32
}

// Exists reports whether the pattern has stored ACLs.
func (v Versioned) Exists() bool { return v.Version != Absent }

// Store is where ACLs are durable: Kafka's /kafka-acl* znodes in ZooKeeper
// mode (package zkstore), the metadata file of a standalone broker
// (metadata.Local). Writes are conditional on the version read, as
// Kafka's are, so that brokers changing the same pattern at once do not
// lose each other's ACLs.
type Store interface {
	// LoadACLs reads the ACLs of every pattern.
	LoadACLs() (map[Pattern]Versioned, error)
	// ReadACLs reads one pattern's ACLs; Version Absent if it has none.
	ReadACLs(p Pattern) (Versioned, error)
	// CreateACLs stores the ACLs of a pattern that has none and returns
	// their version; ErrConflict if it has some.
	CreateACLs(p Pattern, entries []Entry) (int32, error)
	// SetACLs replaces a pattern's ACLs if they are still at version and
	// returns the new version; ErrConflict if not (or if they are gone).
	SetACLs(p Pattern, entries []Entry, version int32) (int32, error)
	// DeleteACLs removes a pattern's ACLs if they are at version (Absent:
	// if there are none); nil if there are none; ErrConflict if they are
	// at another version.
	DeleteACLs(p Pattern, version int32) error
	// NotifyACLChange tells the other brokers that p's ACLs changed
	// (ZooKeeper's change notifications; nothing for a standalone broker).
	NotifyACLChange(p Pattern) error
}
