// Package acl is the broker's authorizer (Kafka's AclAuthorizer, ZooKeeper
// mode): ACLs, the decision whether a principal may do an operation on a
// resource, and the cache of ACLs those decisions read, fed by a Store
// (Kafka's /kafka-acl* znodes in ZooKeeper mode, the metadata file of a
// standalone broker). It imports nothing of the broker: handlers ask it,
// stores feed it.
//
// # ACLs
//
// An ACL binds an entry (principal, host, operation, ALLOW or DENY) to a
// resource pattern (type, name, LITERAL or PREFIXED). Principals are
// "type:name" ("User:alice"; "User:*" is every user); hosts are a client
// IP as Java writes it (HostOf) or "*". Resource types are Topic, Group,
// Cluster (named kafka-cluster), TransactionalId, DelegationToken and User.
//
// # Decisions (Authorize)
//
//	super user (super.users)                  allowed, whatever the ACLs
//	no ACL applies to the resource            allow.everyone.if.no.acl.found
//	a DENY matches (operation or ALL)         denied: DENY beats ALLOW
//	an ALLOW matches                          allowed
//	otherwise                                 denied
//
// The ACLs that apply to a resource (type T, name N) are those of the
// patterns (T, N, LITERAL), (T, "*", LITERAL) and (T, P, PREFIXED) for
// every prefix P of N, N itself included (KIP-290). An entry matches when
// its principal is the requester's or User:*, its host the requester's or
// "*", and its operation the one asked or ALL. An ALLOW also counts for the
// operations it implies, a DENY only for its own:
//
//	asked            an ALLOW of any of these allows it
//	Describe         Describe, Read, Write, Delete, Alter
//	DescribeConfigs  DescribeConfigs, AlterConfigs
//	anything else    itself
//
// Every decision is logged as Kafka's kafka.authorizer.logger logs it
// ("Principal = User:bob is Denied Operation = Read from host = 10.0.0.1
// on resource = Topic:LITERAL:orders for request = Fetch with
// resourceRefCount = 1"): allowed at DEBUG, denied at INFO, and checks that
// grant nothing by themselves (KIP-430's authorized operations, filters of
// what is listed) below DEBUG.
//
// # Invariants
//
//  1. The cache is an immutable snapshot replaced whole: an authorization
//     reads one consistent state without locking, and never waits for a
//     store.
//  2. Every store write is conditional on the version read (Kafka's
//     conditional znode writes): two brokers changing one pattern at once
//     cannot lose each other's entries; the loser reads again and retries,
//     at most 10 times.
//  3. A pattern's ACLs are a set: stored and compared sorted, without
//     duplicates, so creating an ACL twice changes nothing and sends no
//     notification.
//  4. A change is in this broker's cache when CreateACLs or DeleteACLs
//     returns, and the other brokers are notified after the store write;
//     they read the pattern again (Refresh), so a lost or duplicated
//     notification costs a read, never a wrong cache past the next one.
//
// # Locks
//
// Authorizer.mu serializes Load, Refresh, CreateACLs and DeleteACLs (store
// writes included); it is a leaf. Authorize and ACLs take no lock.
package acl
