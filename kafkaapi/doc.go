// Package kafkaapi serves the Kafka protocol (Kafka's KafkaApis): one file
// per API key (api_NN_name.go, each opening with the versions it serves,
// its behaviour and the KIPs it follows), the request context and decoding
// (handler.go), the zero-copy Fetch response encoder (fetchresp.go), the
// request metrics (metrics.go), the broker's side of the group coordinator
// and of __consumer_offsets (coordinator.go) and of ZooKeeper mode
// (cluster.go: the Cluster and Controller interfaces the server fills
// in). It keeps no partition state of its own: hosted partitions are the
// replica layer's, cluster facts (brokers, leaders, ISR, controller) come
// from the metadata cache, groups from the group coordinator, topic
// changes go through package admin. Each handler asks the authorizer
// (package security/acl, through authz.go) what Kafka's KafkaApis asks,
// before it acts; without one it asks nothing.
//
// The administrative APIs (topics, configs, ACLs, log directories,
// elections and reassignments) are served from package kafkaapi/adminapi,
// the group protocol's (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, and
// DescribeGroups, ListGroups, DeleteGroups, OffsetDelete) from
// kafkaapi/groupapi: layers above this one, whose files register their
// keys with Register, from init, and serve a Request with the Handler's
// dependencies (request.go holds that surface). This package never
// imports them; a binary that does serves their APIs.
//
// Each request's connection (reqCtx.conn, a netpoll.Conn) names the
// listener it came in on, which decides the broker endpoints Metadata,
// FindCoordinator and DescribeCluster answer with, and carries the
// security.Principal it authenticated as (Conn.Principal), which the
// authorizer is to check. Dynamic broker configs (the TLS listeners'
// keystores, KIP-226) go to the BrokerConfigs the server fills in.
//
// Invariants:
//  1. Every frame ends in exactly one of: a response, no response (a
//     Produce with acks=0), or the connection closed. A malformed header,
//     an unknown key, an unparsable body or an unsupported version closes
//     it, but for ApiVersions, which answers UNSUPPORTED_VERSION with the
//     versions served (KIP-511). Decoding never panics, whatever the bytes
//     (FuzzDecodeRequest, FuzzServe); a handler that panics closes its
//     connection and is counted.
//  2. A flexible body is walked by package reqcheck before kmsg decodes
//     it, and the header's tag section is read by internal/tags, so a
//     claimed tag count cannot make the decoder spin.
//  3. ApiVersions advertises exactly the handlers registered at init, by
//     this package's api_NN files and with Register, each key once (a
//     second registration panics).
//  4. Produce and Fetch requests are decoded with their strings aliasing
//     the frame; nothing of them outlives the response (fetch sessions
//     copy the names they keep).
//  5. A handler that waits parks on a condition, never a sleep or a poll,
//     and ends at its deadline or when its connection or the broker
//     closes: Fetch in the replica purgatory (appends, high watermark and
//     leadership changes wake it), an acks=-1 Produce in
//     AwaitReplication (the waits of adminapi and groupapi are theirs).
//  6. Topic changes (create, delete, partitions, configs) go through
//     package admin, which serializes them: the Handler's one
//     admin.Manager, which Handler.Admin gives adminapi.
//  7. A standalone broker answers the controller's requests and those
//     only an active controller serves with CLUSTER_AUTHORIZATION_FAILED;
//     in cluster mode a controller request meant for an earlier
//     incarnation of this broker is STALE_BROKER_EPOCH, and one that needs
//     the active controller on another broker is NOT_CONTROLLER.
//
// Locks: pidAllocator.mu guards the producer-ID block being handed out,
// and is held across the store write that reserves the next block, so one
// exhausted block leads to one reservation. Handlers hold no lock of this
// package while they call the others; those take their own locks in the
// order docs/architecture.md gives (admin's first, then the group
// coordinator's, then a partition's, then the log's). Metrics are
// atomics.
package kafkaapi
