// Package metadata is the broker's view of cluster metadata (Kafka's
// KafkaZkClient as a store, and its MetadataCache).
//
// It owns:
//   - Store (store.go): the durable facts, behind one interface: topics with
//     their partitions' replica assignments and topic IDs (KIP-516), per-topic
//     config overrides, the cluster ID and producer-ID blocks. Local
//     (local.go) keeps them in samsa-metadata.json in the data directory for a
//     standalone broker; package zkstore implements the same interface over
//     Kafka's znodes in ZooKeeper mode. Local is also the standalone
//     broker's acl.Store (acls.go): the authorizer's ACLs, each pattern with
//     a version counting its writes, as a znode's would.
//   - Cache (cache.go): what handlers answer from — live brokers, the
//     controller, and each partition's leader, leader epoch, replicas, ISR and
//     offline replicas — as immutable snapshots; UpdateMetadata requests
//     (updatemetadata.go) and a standalone broker's own changes replace them.
//   - AssignReplicas (assign.go): Kafka's rack-aware replica assignment, used
//     by topic creation and partition growth (package admin).
//   - topic-name rules and the internal topics (names.go).
//
// Invariants:
//  1. A Store change is durable when its method returns: Local writes a
//     temporary file, fsyncs it, renames it over samsa-metadata.json and
//     fsyncs the directory; a failed write leaves the previous file whole.
//  2. A topic ID is a random version-4 UUID from internal/uuid, so never
//     one of Kafka's reserved IDs (all zeros, ZERO_UUID, means "no ID");
//     Local's cluster ID is one too, in URL-safe base64 as Kafka's are.
//  3. A Snapshot is never modified once published: Cache.Update copies the
//     current one, edits the copy and publishes it atomically, so a reader
//     sees one consistent moment without locks and may keep it.
//  4. Cache.Changed's channel is closed by the next Update: a waiter takes it
//     before Load and misses no update.
//
// Locks: Local.mu guards its state (read for queries, write for changes,
// held across the file write so changes are durable in order); Cache.mu
// serializes writers and guards the Changed channel; an Update's function
// runs under it and only edits the copy. Both are leaves: nothing else is
// taken under them (admin holds its Manager.mu when it writes either).
package metadata
