// Package kafkazk is Samsa's counterpart of Kafka's KafkaZkClient: Kafka's
// ZooKeeper-mode znodes (Kafka 3.x) read and written with typed methods
// over github.com/go-zookeeper/zk, with fenced writes, sessions and
// watchers, so that Kafka's own tools and brokers can read what Samsa
// writes and the other way round. The layout (paths) and the bytes of
// each znode, Kafka's ZkData, are package zkdata's: this package decides
// when and under which condition they are read and written.
//
// # Epochs and what each write checks
//
//	write                                   fenced by
//	--------------------------------------  ----------------------------------------------------------------
//	RegisterBroker                          ownership: the znode is new, or its ephemeral owner is our session
//	ElectController                         /controller absent (create) and /controller_epoch at the version read
//	CreatePartitionStates                   /controller_epoch at token.ZkVersion (controller epoch)
//	UpdatePartitionStates                   controller epoch, and each state znode at its PartitionEpoch
//	SetTopicAssignment, DeleteTopic,        controller epoch
//	RemoveDeletionMarkers, Resign,
//	Set/DeletePartitionReassignment
//	NextProducerIDBlock                     /latest_producer_id_block at the version read
//	AddPartitions                           /brokers/topics/<t> at the version read
//	CreateTopic, SetTopicConfig,            none (admin writes; Kafka's are unconditional too)
//	MarkTopicForDeletion, GenerateBrokerID,
//	CreatePartitionReassignment,
//	GetOrCreateClusterID
//
// # Invariants
//
//  1. The broker epoch is the czxid of /brokers/ids/<id>. RegisterBroker
//     creates the znode and sets its data in one multi, so the epoch comes
//     from the multi's own result; every registration in a new session
//     gets a larger epoch.
//  2. One session holds /brokers/ids/<id>. An existing registration is
//     replaced only when a session of this Client owns it (ZooKeeper has not
//     yet removed an expired session's ephemerals); any other owner is
//     ErrBrokerIDInUse.
//  3. /controller and the increment of /controller_epoch are written in one
//     multi, so the controller epoch grows by exactly one per election, and
//     /controller_epoch's mzxid equals /controller's czxid for the sitting
//     controller. The token (epoch, /controller_epoch version) is valid until
//     the next election.
//  4. Every controller write is a multi whose first op checks
//     /controller_epoch at the token's version. If another controller has
//     been elected since, the whole multi fails and the call returns
//     ErrControllerMoved: a deposed (zombie) controller cannot write.
//  5. A partition state is written only on condition that its znode is at
//     the PartitionEpoch the controller read; a stale write fails with
//     ErrBadVersion for that partition alone and changes nothing.
//  6. Producer-id blocks are allocated by a conditional write of
//     /latest_producer_id_block: blocks never overlap across the cluster and
//     follow each other without gaps.
//  7. A write whose reply was lost (connection closed, session moved or
//     expired) may have been applied. Before trying it again the client
//     re-reads: a create counts as applied when the znode holds our bytes; a
//     set when it holds our bytes one version on; a registration or
//     election when the znode's ephemeral owner is our session (and, for the
//     election, the epoch was written in the same transaction). Lost replies
//     of idempotent writes (unconditional sets, deletes) are simply retried;
//     a lost config change notification may be created twice, and a lost
//     /brokers/seqid write skips a broker id.
//  8. Reads of any znode return a value or an error: bytes that are not the
//     znode's shape give an error matching ErrCorrupt that names the path
//     (zkdata's decoders say what is wrong; they never panic).
//  9. No znode is created without the ACL zkdata.DefaultACL gives its
//     path, and Connect refuses SecureACLs without an identity.
//  10. Over TLS the server's certificate is checked against the host as
//     configured, not the address it resolves to.
//
// # Security (security.go)
//
// With Config.SecureACLs (zookeeper.set.acl) every znode is created with
// Kafka's ACLs (zkdata.DefaultACL): ALL for the creating session's
// identities ("auth" ids, which ZooKeeper expands), READ for the world
// except under the sensitive roots (/config/users, /config/brokers,
// /delegation_tokens), /consumers open. The identity is a digest
// (Config.Digest, added before any other request and resent by
// go-zookeeper on every reconnection), or the subject of the client
// certificate of a TLS connection (Config.TLS; ZooKeeper's
// X509AuthenticationProvider maps it to x509:<DN>). Every broker must
// be the same identity, or each could not write what another created.
// Kafka authenticates with SASL (DIGEST-MD5 or Kerberos), which
// go-zookeeper cannot speak: Kafka's brokers are sasl:<user> where
// Samsa's are digest:<user>:<hash>.
//
// # go-zookeeper's pitfalls, and what this package does about them
//
//   - On session expiry go-zookeeper silently opens a new session: the
//     ephemerals are gone. OnNewSession hooks run then (re-register the
//     broker, run the election again); SessionID tells the current session.
//   - Watches fire once and belong to a session: WatchChildren and WatchData
//     re-arm after every event and after a new session, re-read, and deliver
//     the latest state to a callback, folding bursts of events together.
//   - Its event channel drops events when full: session states come through
//     zk.WithEventCallback, which queues them without blocking.
//   - A request cut off by a lost connection may have been applied:
//     invariant 7.
//   - Calls retry a lost connection until their ctx ends (waiting at most
//     SessionTimeout at a time when ctx has no deadline); Connect waits
//     ConnectionTimeout for the first session.
//   - It has no chroot: the Client prefixes paths, and creates the chroot.
//
// # Locks
//
// A Client is safe for concurrent use. Client.mu guards its session
// bookkeeping (the current session, every session it has held, session
// events not yet handled, the OnNewSession hooks, whether it is closed)
// and the channel that wakes waiters for a session. It is a leaf: the
// hooks run on the session goroutine after it is released. Each Watcher
// calls its fn from its own goroutine, one call at a time.
package kafkazk
