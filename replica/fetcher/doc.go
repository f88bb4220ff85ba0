// Package fetcher is the follower's side of replication (Kafka's
// ReplicaFetcherManager, AbstractFetcherThread and ReplicaFetcherThread):
// for each leader, num.replica.fetchers goroutines fetch the partitions
// this broker follows from it, with Fetch v12 (replica_id = this broker,
// current_leader_epoch, last_fetched_epoch) in a fetch session with the
// leader (fetchsession.Follower: after the first fetch, each names only
// the partitions whose position changed), and hand each partition what
// came, to be appended as it is (offsets and leader epochs kept).
//
// A partition's answer is applied by these rules (Apply):
//
//	error                 action
//	none                  append the batches; take the leader's high
//	                      watermark (bounded by the log end) and log start
//	diverging epoch e, o  truncate to min(o, the end of the follower's
//	                      largest epoch <= e, its log end) (KIP-320, KIP-595)
//	OFFSET_OUT_OF_RANGE   the leader's log starts past ours: start over
//	                      there; else cut back to the leader's high
//	                      watermark (not below our log start)
//	any other             back off replica.fetch.backoff.ms: the
//	                      controller's next LeaderAndIsr settles it
//
// A request that fails whole (connection, top-level error) backs the
// fetcher off; a lost fetch session (FETCH_SESSION_ID_NOT_FOUND,
// INVALID_FETCH_SESSION_EPOCH) is replaced by a full fetch at once.
//
// The fetchers own no partition and no log: they reach what they feed
// through the Partition interface (package replica's partitions), whose
// name and position they read without a lock and whose log they change
// only inside Partition.Locked; and a leader through Conn (a kclient.Conn
// in production, an in-process leader in tests).
//
// Invariants:
//  1. An answer changes a partition only while it still follows the
//     leader it was fetched from, at the leader epoch it was fetched at;
//     the check and the change are one Locked call, and the partition's
//     owner changes its leadership under the same lock.
//  2. A partition is fetched by at most one fetcher: the one of its leader
//     and of the index its name hashes to. Add moves it there, Remove and
//     Close take it off; a fetcher left with no partition ends.
//  3. Nothing polls: an idle fetcher waits for Add or the earliest end of
//     a partition's backoff, a busy one parks its fetch at the leader
//     (replica.fetch.wait.max.ms).
//  4. Every failed fetch resets the fetch session: the next is full.
//  5. A truncation never cuts the follower's log past its own end, nor
//     past where the leader says its log for the diverging epoch ends.
//  6. A fetch in the steady state allocates nothing and copies no record:
//     the session's plan reuses one request, the answer is read into the
//     connection's buffer and decoded in place into a response the
//     fetcher keeps (Conn.Fetch), a partition's answer is applied through
//     one applying made once, and its batches go to Log.Append as read,
//     where the log checks their CRCs and writes them. Nothing of an
//     answer is kept past the next fetch. The follower never decompresses
//     nor walks records: the leader checked them on produce.
//
// Locks: Manager.mu guards the registry (fetchers by leader and index,
// each partition's fetcher, the leaders' addresses); a fetcher's mu (its
// partitions, the epochs they are followed at, their backoffs) is taken
// under it or alone and is a leaf. Neither is held while a Partition is
// called, so its owner may call Add and Remove under its own locks. Remove
// and Close wait for a fetcher that ends to return, which may be waiting
// in Locked: they must not be called with a partition's lock held.
package fetcher
