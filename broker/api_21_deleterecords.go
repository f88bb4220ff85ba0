package broker

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
// partition's low watermark is -1.

import (
	"errors"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/logfile"
	"samsa/netpoll"
)

func init() { register(21, 0, 2, serveDeleteRecords) }

func serveDeleteRecords(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.DeleteRecordsRequest)
	b := rc.b
	resp := kmsg.NewPtrDeleteRecordsResponse()
	moved := false
	for _, rt := range req.Topics {
		st := kmsg.NewDeleteRecordsResponseTopic()
		st.Topic = rt.Topic
		ts := b.topic(rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewDeleteRecordsResponseTopicPartition()
			sp.Partition = rp.Partition
			low, err := deleteRecords(ts, rp.Partition, rp.Offset)
			if err != nil {
				sp.ErrorCode, sp.LowWatermark = codeOf(err), -1
				b.log.Debug("delete records failed", "topic", rt.Topic, "partition", rp.Partition, "offset", rp.Offset, "err", err)
			} else {
				sp.LowWatermark, moved = low, true
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if moved {
		if err := b.dir.Checkpoint(); err != nil {
			b.log.Error("checkpoint after delete records", "err", err)
		}
	}
	return rc.respond(resp)
}

// deleteRecords moves one partition's start offset and returns the new one.
func deleteRecords(ts *topicState, partition int32, offset int64) (int64, error) {
	if ts == nil || partition < 0 || int(partition) >= len(ts.parts) {
		return -1, errf(kerr.UnknownTopicOrPartition, "This server does not host this topic-partition.")
	}
	name := ts.meta.Name
	if isInternal(name) {
		return -1, errf(kerr.InvalidTopicException, "Cannot delete records of internal topic %s", name)
	}
	if !slices.Contains(strings.Split(strings.ReplaceAll(ts.cfg["cleanup.policy"], " ", ""), ","), "delete") {
		return -1, errf(kerr.PolicyViolation, "Records of partition %s-%d can not be deleted due to the configured policy", name, partition)
	}
	l := ts.parts[partition].Log
	if offset == -1 {
		offset = l.HighWatermark()
	}
	if offset < 0 {
		return -1, errf(kerr.OffsetOutOfRange, "The offset %d for partition %s-%d is not valid", offset, name, partition)
	}
	low, err := l.DeleteRecordsBefore(offset)
	switch {
	case errors.Is(err, logfile.ErrOffsetOutOfRange):
		return -1, errf(kerr.OffsetOutOfRange, "Cannot increment the log start offset to %d of partition %s-%d since it is larger than the high watermark %d", offset, name, partition, l.HighWatermark())
	case errors.Is(err, logfile.ErrClosed):
		return -1, errf(kerr.NotLeaderForPartition, "partition %s-%d is closing", name, partition)
	case err != nil:
		return -1, errf(kerr.KafkaStorageError, "%v", err)
	}
	return low, nil
}
