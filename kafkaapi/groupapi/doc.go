// Package groupapi serves the APIs of the classic group protocol that the
// group coordinator (package coordinator/group) answers: membership
// (JoinGroup 11, Heartbeat 12, LeaveGroup 13, SyncGroup 14) and the
// groups' administration (DescribeGroups 15, ListGroups 16, DeleteGroups
// 42, OffsetDelete 47), the part of Kafka's KafkaApis that hands over to
// its GroupCoordinator. One file per API key, as in kafkaapi, each opening
// with the versions it serves, its behaviour and the KIPs it follows.
// OffsetCommit, OffsetFetch and FindCoordinator, which transactions share,
// stay in kafkaapi, with the broker's side of __consumer_offsets.
//
// It is a layer above kafkaapi, as kafkaapi/adminapi is: each file's init
// registers its key with kafkaapi.Register, and its handler serves a
// kafkaapi.Request with the Handler's group coordinator. Importing the
// package is what makes a broker serve these APIs: server does, and so do
// kafkaapi's tests (link_test.go), which test these handlers with
// kafkaapi's harness. kafkaapi never imports it.
//
// Invariants:
//  1. Each handler asks the authorizer what Kafka's KafkaApis asks, with
//     Kafka's error codes, before the coordinator sees the request; a
//     request or the part of it refused is answered here, the rest by the
//     coordinator. Without an authorizer the coordinator answers it all.
//  2. JoinGroup and SyncGroup wait for the coordinator, which answers them
//     when the rebalance allows, or when the request's connection or the
//     broker closes (kafkaapi.Request.Context); nothing here sleeps or
//     polls.
//
// Locks: none of its own; the coordinator's are taken by its calls, as
// docs/architecture.md orders them.
package groupapi
