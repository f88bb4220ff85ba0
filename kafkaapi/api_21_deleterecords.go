package kafkaapi

// DeleteRecords (key 21), versions 0-2.
//
// Moves each partition's log start offset (low watermark) up to the given
// offset, -1 meaning the high watermark, and deletes the segments wholly
// below it (KIP-107). The log-start-offset checkpoint is written before the
// answer, so deleted records stay deleted after a crash (Kafka waits for its
// periodic checkpoint). An offset below the current start changes
// nothing and answers with the current start. The answer is immediate: this
// broker is the only replica, so its low watermark is the partition's.
//
// Errors per partition, as Kafka's ReplicaManager gives them:
// UNKNOWN_TOPIC_OR_PARTITION; INVALID_TOPIC_EXCEPTION for an internal topic;
// POLICY_VIOLATION when cleanup.policy lacks "delete"; OFFSET_OUT_OF_RANGE
// for a negative offset other than -1 or one past the high watermark;
// NOT_LEADER_OR_FOLLOWER while the log closes; KAFKA_STORAGE_ERROR. A failed
// partition's low watermark is -1. Needs Delete on each topic
// (TOPIC_AUTHORIZATION_FAILED for its partitions).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { register(21, 0, 2, serveDeleteRecords) }

func serveDeleteRecords(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.DeleteRecordsRequest)
	h := rc.h
	resp := kmsg.NewPtrDeleteRecordsResponse()
	moved := false
	deletable := rc.filterAuthorized(acl.OpDelete, acl.ResourceTopic, TopicNames(req.Topics, func(t *kmsg.DeleteRecordsRequestTopic) string { return t.Topic }), false)
	for _, rt := range req.Topics {
		st := kmsg.NewDeleteRecordsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewDeleteRecordsResponseTopicPartition()
			sp.Partition = rp.Partition
			if !deletable.has(rt.Topic) {
				sp.ErrorCode, sp.LowWatermark = kerr.TopicAuthorizationFailed.Code, -1
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			low, err := h.rm.DeleteRecords(rt.Topic, rp.Partition, rp.Offset)
			if err != nil {
				sp.ErrorCode, sp.LowWatermark = codeOf(err), -1
				h.log.Debug("delete records failed", "topic", rt.Topic, "partition", rp.Partition, "offset", rp.Offset, "err", err)
			} else {
				sp.LowWatermark, moved = low, true
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if moved {
		if err := h.rm.Dir().Checkpoint(); err != nil {
			h.log.Error("checkpoint after delete records", "err", err)
		}
	}
	return rc.respond(resp)
}
