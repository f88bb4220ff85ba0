package zkdata

import "strings"

// ZooKeeper ACLs of the znodes brokers create with zookeeper.set.acl=true
// (Kafka's ZkData.defaultAcls): the creator's identities may do anything,
// everyone else may only read, and not even that under the sensitive
// roots, whose znodes hold credentials and secrets. Part of what Kafka's
// tools expect: never loosen.

// DelegationTokensPath holds delegation tokens (Kafka's
// DelegationTokensZNode); Samsa writes none, but it is a sensitive root.
const DelegationTokensPath = "/delegation_tokens"

// SensitiveRootPaths are the roots whose znodes are not world-readable
// with secure ACLs: SCRAM credentials (/config/users), brokers' dynamic
// configs with their encrypted passwords (/config/brokers), delegation
// tokens. Kafka's ZkData.SensitiveRootPaths.
var SensitiveRootPaths = []string{
	ConfigPath + "/" + ConfigUsers,
	ConfigPath + "/" + ConfigBrokers,
	DelegationTokensPath,
}

// SensitivePath reports whether a znode (a path relative to the chroot)
// is under a sensitive root. Like Kafka's it is a prefix match, so a
// sibling whose name starts with a root's ("/config/usersX") counts too:
// erring towards secrecy.
func SensitivePath(path string) bool {
	for _, root := range SensitiveRootPaths {
		if strings.HasPrefix(path, root) {
			return true
		}
	}
	return false
}

// ACLKind is which ACL a znode gets.
type ACLKind int

const (
	// ACLOpen: anyone may do anything (ZooKeeper's OPEN_ACL_UNSAFE).
	ACLOpen ACLKind = iota
	// ACLCreatorAllWorldRead: the creator's authenticated identities may
	// do anything, everyone may read (CREATOR_ALL_ACL + READ_ACL_UNSAFE).
	ACLCreatorAllWorldRead
	// ACLCreatorAll: only the creator's identities, for anything.
	ACLCreatorAll
)

// DefaultACL is the ACL a broker creates path with: open unless secure
// (zookeeper.set.acl), and always open for /consumers, which the old
// consumers of any identity write under.
func DefaultACL(secure bool, path string) ACLKind {
	switch {
	case !secure || path == ConsumersPath:
		return ACLOpen
	case SensitivePath(path):
		return ACLCreatorAll
	}
	return ACLCreatorAllWorldRead
}
