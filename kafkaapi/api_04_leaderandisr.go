package kafkaapi

// LeaderAndIsr (key 4), versions 2-6: from the controller only.
//
// Makes this broker leader or follower of the partitions named (replica
// layer: ApplyLeaderAndIsr). Fencing, as Kafka's ZooKeeper mode: a standalone
// broker refuses with CLUSTER_AUTHORIZATION_FAILED; a request meant for an
// older incarnation of this broker (broker epoch older than ours) gets
// STALE_BROKER_EPOCH; one from an older controller epoch than any seen gets
// STALE_CONTROLLER_EPOCH; per partition, a leader epoch not newer than the
// one applied is ignored with STALE_CONTROLLER_EPOCH. Partitions this broker
// comes to lead or stops leading are told to the cluster layer (the group
// coordinator loads or drops __consumer_offsets partitions, the transaction
// coordinator __transaction_state partitions). The sender needs
// ClusterAction on the cluster (CLUSTER_AUTHORIZATION_FAILED).

import (
	"errors"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/replica"
)

func init() { register(4, 2, 6, serveLeaderAndIsr) }

func serveLeaderAndIsr(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.LeaderAndISRRequest)
	h := rc.h
	resp := kmsg.NewPtrLeaderAndISRResponse()
	updates := replica.LeaderAndIsrUpdates(req)
	fail := func(code int16) *netpoll.Response {
		resp.ErrorCode = code
		leaderAndIsrPartitions(rc.version, resp, req, nil, code)
		return rc.respond(resp)
	}
	if err := rc.fromController(req.BrokerEpoch); err != nil {
		h.log.Warn("refusing LeaderAndIsr", "controller", req.ControllerID, "controller.epoch", req.ControllerEpoch, "broker.epoch", req.BrokerEpoch, "err", err.Message, "remote", rc.conn.RemoteAddr())
		return fail(err.Code)
	}
	leaders := map[int32]string{}
	for _, l := range req.LiveLeaders {
		leaders[l.BrokerID] = net.JoinHostPort(l.Host, strconv.Itoa(int(l.Port)))
	}
	errs, changes, err := h.rm.ApplyLeaderAndIsr(req.ControllerEpoch, updates, leaders, h.meta.Topic)
	if errors.Is(err, replica.ErrStaleController) {
		h.log.Warn("refusing LeaderAndIsr from a stale controller", "controller", req.ControllerID, "err", err)
		return fail(kerr.StaleControllerEpoch.Code)
	}
	for _, c := range changes {
		h.leadershipChanged(c.Topic, c.Partition, c.Leader, c.Epoch)
	}
	leaderAndIsrPartitions(rc.version, resp, req, errs, 0)
	return rc.respond(resp)
}

// leaderAndIsrPartitions fills the per-partition answers: errs by the
// position of the partition in the request, or code for all when errs is nil.
func leaderAndIsrPartitions(version int16, resp *kmsg.LeaderAndISRResponse, req *kmsg.LeaderAndISRRequest, errs map[int]int16, code int16) {
	i := 0
	for _, t := range req.TopicStates {
		rt := kmsg.NewLeaderAndISRResponseTopic()
		rt.TopicID = t.TopicID
		for _, ps := range t.PartitionStates {
			rp := kmsg.NewLeaderAndISRResponseTopicPartition()
			rp.Topic, rp.Partition, rp.ErrorCode = t.Topic, ps.Partition, code
			if errs != nil {
				rp.ErrorCode = errs[i]
			}
			i++
			if version >= 5 {
				rt.Partitions = append(rt.Partitions, rp)
			} else {
				resp.Partitions = append(resp.Partitions, rp)
			}
		}
		if version >= 5 {
			resp.Topics = append(resp.Topics, rt)
		}
	}
}
