package kafkaapi

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
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
	// OnLeadershipChange is told, after a LeaderAndIsr, which partitions
	// this broker now leads or follows.
	OnLeadershipChange(topic string, partition int32, leader bool, epoch int32)
}

// Controller is the part of the active controller that brokers reach with
// requests (ControlledShutdown, AlterPartition, ...).
type Controller interface {
	// ControlledShutdown moves the leaderships of a stopping broker away
	// and returns the partitions it still leads.
	ControlledShutdown(ctx context.Context, broker int32, brokerEpoch int64) ([]kmsg.ControlledShutdownResponsePartitionsRemaining, error)
	// AlterPartition applies a leader's ISR changes.
	AlterPartition(ctx context.Context, req *kmsg.AlterPartitionRequest) (*kmsg.AlterPartitionResponse, error)
}

// fromController checks a controller request's epochs: the broker epoch
// it was meant for (STALE_BROKER_EPOCH when older than ours: it was meant
// for an earlier incarnation of this broker), and that this broker runs in
// cluster mode at all.
func (h *Handler) fromController(brokerEpoch int64) *kerr.Error {
	if h.cluster == nil {
		return kerr.ClusterAuthorizationFailed
	}
	if brokerEpoch != -1 && brokerEpoch < h.cluster.BrokerEpoch() {
		return kerr.StaleBrokerEpoch
	}
	return nil
}
