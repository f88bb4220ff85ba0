package kafkaapi

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/security/acl"
)

// Cluster is what the handlers need of ZooKeeper mode; a standalone
// broker has none (Handler.cluster is nil) and refuses the inter-broker
// APIs.
type Cluster interface {
	// BrokerEpoch is this broker's epoch: the czxid of its registration.
	BrokerEpoch() int64
	// ControllerID is the broker ZooKeeper names as controller, -1 if none.
	ControllerID() int32
	// Controller is this broker's active controller, or nil when another
	// broker is the controller.
	Controller() Controller
}

// Controller is the part of the active controller that brokers reach with
// requests (ControlledShutdown, AlterPartition, ...).
type Controller interface {
	// ControlledShutdown moves the leaderships of a stopping broker away
	// and returns the partitions it still leads.
	ControlledShutdown(ctx context.Context, broker int32, brokerEpoch int64) ([]kmsg.ControlledShutdownResponsePartitionsRemaining, error)
	// AlterPartition applies a leader's ISR changes.
	AlterPartition(ctx context.Context, req *kmsg.AlterPartitionRequest) (*kmsg.AlterPartitionResponse, error)
	// AlterPartitionReassignments starts or cancels reassignments.
	AlterPartitionReassignments(ctx context.Context, req *kmsg.AlterPartitionAssignmentsRequest) (*kmsg.AlterPartitionAssignmentsResponse, error)
	// ListPartitionReassignments lists those in progress.
	ListPartitionReassignments(ctx context.Context, req *kmsg.ListPartitionReassignmentsRequest) (*kmsg.ListPartitionReassignmentsResponse, error)
	// ElectLeaders runs preferred (0) or unclean (1) elections for the
	// partitions named, or all when nil; the error code per partition.
	ElectLeaders(ctx context.Context, electionType int8, parts map[string][]int32) (map[string]map[int32]int16, error)
}

// fromController checks a controller request: that its sender may send
// it (ClusterAction on the cluster, as Kafka checks it first), that this
// broker runs in cluster mode at all, and the broker epoch it was meant
// for (STALE_BROKER_EPOCH when older than ours: it was meant for an
// earlier incarnation of this broker).
func (rc *reqCtx) fromController(brokerEpoch int64) *kerr.Error {
	h := rc.h
	if !rc.authorizeCluster(acl.OpClusterAction) || h.cluster == nil {
		return kerr.ClusterAuthorizationFailed
	}
	if brokerEpoch != -1 && brokerEpoch < h.cluster.BrokerEpoch() {
		return kerr.StaleBrokerEpoch
	}
	return nil
}

// leadershipChanged follows partitions of __consumer_offsets this broker
// comes to lead (the group coordinator loads their groups; requests for
// them get COORDINATOR_LOAD_IN_PROGRESS meanwhile) or stops leading (their
// groups are dropped; requests get NOT_COORDINATOR).
func (h *Handler) leadershipChanged(topic string, partition int32, leader bool) {
	if topic != offsetsTopic || h.groups == nil || partition >= h.groups.Partitions() {
		return
	}
	if leader {
		if p := h.rm.Partition(topic, partition); p != nil {
			h.groups.Load(partition, offsetsLog{h.rm, p})
		}
		return
	}
	h.groups.Unload(partition)
}

// activeController is the controller to serve a request that only the
// active controller answers, or the error code: CLUSTER_AUTHORIZATION_FAILED
// when the sender may not do op on the cluster (Kafka checks it first) or
// on a standalone broker, NOT_CONTROLLER on one that is not the controller.
func (rc *reqCtx) activeController(op acl.Operation) (Controller, int16) {
	h := rc.h
	if !rc.authorizeCluster(op) || h.cluster == nil {
		return nil, kerr.ClusterAuthorizationFailed.Code
	}
	if ctl := h.cluster.Controller(); ctl != nil {
		return ctl, 0
	}
	return nil, kerr.NotController.Code
}
