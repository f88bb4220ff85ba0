// Package adminapi serves the administrative Kafka APIs, the part of
// Kafka's KafkaApis that hands over to ZkAdminManager, ConfigHelper and
// AclApis: topics (CreateTopics 19, DeleteTopics 20, CreatePartitions 37),
// configs (DescribeConfigs 32, AlterConfigs 33, IncrementalAlterConfigs
// 44), ACLs (DescribeAcls 29, CreateAcls 30, DeleteAcls 31), log
// directories (DescribeLogDirs 35), SCRAM users
// (DescribeUserScramCredentials 50, AlterUserScramCredentials 51, KIP-554,
// over the Handler's credential store and cache), and the requests only
// the active controller serves (ElectLeaders 43,
// AlterPartitionReassignments 45, ListPartitionReassignments 46). One file per API key, as in kafkaapi,
// each opening with the versions it serves, its behaviour and the KIPs it
// follows.
//
// It is a layer above kafkaapi: each file's init registers its key with
// kafkaapi.Register, and its handler serves a kafkaapi.Request with the
// Handler's dependencies (Admin, Config, Cache, ...). Importing the
// package is what makes a broker serve these APIs: server does, and so do
// kafkaapi's tests (link_test.go), which test these handlers with
// kafkaapi's harness. kafkaapi never imports it.
//
// Invariants:
//  1. Every topic change (create, delete, partitions, configs) goes
//     through the Handler's admin.Manager, which serializes them.
//  2. Each handler asks the authorizer what Kafka's KafkaApis asks before
//     it acts, with Kafka's error codes; without an authorizer it asks
//     nothing, and the ACL APIs answer SECURITY_DISABLED.
//  3. In cluster mode CreateTopics, DeleteTopics and CreatePartitions wait
//     for the controller's work on the metadata cache's Changed channel
//     (awaitTopics: Kafka's DelayedCreatePartitions and
//     DelayedDeleteTopics), never by polling, and end at the request's
//     timeout or when its connection or the broker closes.
//  4. A standalone broker answers the requests only an active controller
//     serves with CLUSTER_AUTHORIZATION_FAILED, a broker that is not the
//     controller with NOT_CONTROLLER (kafkaapi.Request.ActiveController).
//
// Locks: none of its own. The admin.Manager's lock is taken by its calls,
// the authorizer's by ACL changes, as docs/architecture.md orders them.
package adminapi
