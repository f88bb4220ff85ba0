package kafkaapi

// UpdateMetadata (key 6), versions 5-7: from the controller only.
//
// Replaces the metadata cache's live brokers (every endpoint of each, the
// inter-broker one as its address) and controller and upserts
// the partition states named (a topic being deleted is dropped); Metadata,
// FindCoordinator and DescribeCluster answer from the cache. Fencing: broker
// epoch (STALE_BROKER_EPOCH) and controller epoch (STALE_CONTROLLER_EPOCH),
// as LeaderAndIsr. The sender needs ClusterAction on the cluster
// (CLUSTER_AUTHORIZATION_FAILED).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

func init() { register(6, 5, 7, serveUpdateMetadata) }

func serveUpdateMetadata(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.UpdateMetadataRequest)
	h := rc.h
	resp := kmsg.NewPtrUpdateMetadataResponse()
	if err := rc.fromController(req.BrokerEpoch); err != nil {
		h.log.Warn("refusing UpdateMetadata", "controller", req.ControllerID, "err", err.Message, "remote", rc.conn.RemoteAddr())
		resp.ErrorCode = err.Code
		return rc.respond(resp)
	}
	if err := h.rm.ObserveControllerEpoch(req.ControllerEpoch); err != nil {
		h.log.Warn("refusing UpdateMetadata from a stale controller", "controller", req.ControllerID, "err", err)
		resp.ErrorCode = kerr.StaleControllerEpoch.Code
		return rc.respond(resp)
	}
	h.cache.ApplyUpdateMetadata(req, h.cfg.InterBrokerListener)
	return rc.respond(resp)
}
