// Package txnapi serves the APIs of transactions that the transaction
// coordinator (package coordinator/txn) answers, the part of Kafka's
// KafkaApis that hands over to its TransactionCoordinator: a
// transaction's partitions and groups (AddPartitionsToTxn 24, with the
// brokers' verify-only form of KIP-890; AddOffsetsToTxn 25), its end
// (EndTxn 26), its offsets (TxnOffsetCommit 28, answered by the group
// coordinator), and the tools' views of KIP-664 (DescribeProducers 61,
// from the partitions' producer state; DescribeTransactions 65;
// ListTransactions 66). One file per API key, as in kafkaapi, each
// opening with the versions it serves, its behaviour and the KIPs it
// follows. InitProducerId and FindCoordinator, which idempotent producers
// and groups share, and WriteTxnMarkers, the partitions' side, stay in
// kafkaapi.
//
// It is a layer above kafkaapi, as kafkaapi/groupapi is: each file's init
// registers its key with kafkaapi.Register, and its handler serves a
// kafkaapi.Request with the Handler's coordinators. Importing the package
// is what makes a broker serve these APIs: server does, and so do
// kafkaapi's tests (link_test.go), which test these handlers with
// kafkaapi's harness. kafkaapi never imports it.
//
// Invariants:
//  1. Each handler asks the authorizer what Kafka's KafkaApis asks, with
//     Kafka's error codes, before the coordinator sees the request; a
//     request or the part of it refused is answered here, the rest by the
//     coordinator. Without an authorizer the coordinator answers it all.
//  2. Nothing here waits but for a coordinator: the transaction
//     coordinator answers once its write to __transaction_state is
//     replicated, and the markers of an ended transaction go out after
//     the answer (package txn); TxnOffsetCommit first asks the
//     transaction coordinator to verify the transaction (KIP-890), over
//     the network when another broker has it, as a produce does.
//
// Locks: none of its own; the coordinators' are taken by their calls, as
// docs/architecture.md orders them.
package txnapi
