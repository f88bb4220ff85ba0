package kafkaapi

// StopReplica (key 5), versions 1-3: from the controller only.
//
// Stops serving the partitions named and, when asked (topic deletion, a
// replica moved away), deletes their logs. Fencing as LeaderAndIsr: broker
// epoch, controller epoch, and per partition (v3+) a leader epoch older than
// the one applied is FENCED_LEADER_EPOCH (-2 marks a topic being deleted and
// is never fenced). The sender needs ClusterAction on the cluster
// (CLUSTER_AUTHORIZATION_FAILED).

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/replica"
)

func init() { register(5, 1, 3, serveStopReplica) }

func serveStopReplica(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.StopReplicaRequest)
	h := rc.h
	resp := kmsg.NewPtrStopReplicaResponse()
	var stops []replica.StopReplica
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			stops = append(stops, replica.StopReplica{Topic: t.Topic, Partition: p, LeaderEpoch: -1, Delete: req.DeletePartitions})
		}
		for _, ps := range t.PartitionStates {
			stops = append(stops, replica.StopReplica{Topic: t.Topic, Partition: ps.Partition, LeaderEpoch: ps.LeaderEpoch, Delete: ps.Delete})
		}
	}
	answer := func(errs map[int]int16, code int16) *netpoll.Response {
		for i, s := range stops {
			rp := kmsg.NewStopReplicaResponsePartition()
			rp.Topic, rp.Partition, rp.ErrorCode = s.Topic, s.Partition, code
			if errs != nil {
				rp.ErrorCode = errs[i]
			}
			resp.Partitions = append(resp.Partitions, rp)
		}
		return rc.respond(resp)
	}
	if err := rc.fromController(req.BrokerEpoch); err != nil {
		h.log.Warn("refusing StopReplica", "controller", req.ControllerID, "err", err.Message, "remote", rc.conn.RemoteAddr())
		resp.ErrorCode = err.Code
		return answer(nil, err.Code)
	}
	errs, err := h.rm.ApplyStopReplica(req.ControllerEpoch, stops)
	if errors.Is(err, replica.ErrStaleController) {
		resp.ErrorCode = kerr.StaleControllerEpoch.Code
		return answer(nil, kerr.StaleControllerEpoch.Code)
	}
	for i, s := range stops {
		if errs[i] == 0 {
			h.leadershipChanged(s.Topic, s.Partition, false, -1)
		}
	}
	return answer(errs, 0)
}
