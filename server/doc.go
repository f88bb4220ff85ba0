// Package server builds and wires one broker process (Kafka's
// KafkaServer): the log directory, the metadata store and cache, the
// replica manager, the group coordinator, the Kafka listener with the
// protocol handlers, the admin HTTP listener (/metrics, /healthz readiness,
// /livez liveness, /debug/pprof; metrics.go, health.go), the background
// loops, and in ZooKeeper mode the broker's part of the cluster
// (cluster.go: the ZooKeeper session, broker.id generation, registration,
// the controller candidate, the config-change watch, and the
// AlterPartition and ControlledShutdown requests it sends the controller).
//
// Start order. New: the data directory; in ZooKeeper mode the ZooKeeper
// session, Kafka's top-level znodes, the cluster ID and a generated
// broker.id, with the ZooKeeper store, or else the local store;
// meta.properties; the log directory (recovery); the metadata cache; the
// replica manager; standalone, every stored topic opened and published in
// the cache. Start: the Kafka listener bound (a port of 0 advertised as
// the one taken), this broker in the cache, the group coordinator, the
// protocol handlers with the partitions of __consumer_offsets this broker
// leads, serving, the admin listener; in ZooKeeper mode registration, the
// controller candidate and the config-change watch; the producer-expiry
// loop.
//
// Shutdown runs it backwards: readiness fails; in ZooKeeper mode the
// controller candidate withdraws and the controller is asked to move this
// broker's leaderships away (controlled shutdown); the listeners stop
// accepting and in-flight requests finish; the coordinator stops; the
// loops end; the replica manager stops; producer state is snapshotted;
// the logs are flushed and closed with their checkpoints and the
// clean-shutdown marker; the store is closed, then the controller and the
// ZooKeeper session.
//
// Invariants:
//  1. A data directory belongs to one broker of one cluster:
//     meta.properties is written on the first start, and a broker.id or
//     cluster.id that differs from it stops the start (in ZooKeeper mode
//     with Kafka's own message).
//  2. Standalone, every topic of the store is served from the start, and
//     partition directories the store lacks are adopted into it, never
//     deleted or served unrecorded. In ZooKeeper mode no partition is
//     served until the controller's LeaderAndIsr names it.
//  3. /healthz answers 200 only while the broker serves, is not shutting
//     down and no log has a sticky write error; otherwise 503 with the
//     reasons. /livez answers 200 whenever HTTP is served.
//  4. Shutdown runs once (a second call returns an error), and the
//     clean-shutdown marker is written only if every log closed without
//     an error.
//  5. In ZooKeeper mode the broker registers once its listener is bound,
//     so its registration advertises the port it serves; after a session
//     expiry it registers again (a new broker epoch), retrying every
//     second until it succeeds or the broker stops. Topic config changes
//     announced in /config/changes are applied in order, each once, to the
//     topics this broker hosts.
//
// Locks: everything New and Start wire is set before the broker serves and
// only read after; the broker epoch, which a re-registration changes, is
// an atomic. In cluster.go, regMu serializes registrations (the first
// and those after session expiries); configMu serializes the application
// of config changes, which takes the replica manager's locks under it;
// ctlConnMu guards the connection to the controller used for
// AlterPartition, a leaf released before the request is sent.
package server
