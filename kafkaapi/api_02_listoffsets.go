package kafkaapi

// ListOffsets (key 2), versions 0-7.
//
// Timestamp -2 is the log start offset, -1 the high watermark (for
// read_committed, isolation_level 1 in v2+, the last stable offset), -3
// (v7+, KIP-734) the offset and time of the largest timestamp, and any
// other timestamp the first offset whose record timestamp is >= it, found
// with the time index and then the records of the batch; an offset a
// consumer of the isolation level cannot fetch yet is none (-1). v0 answers with
// the old offsets array (max_num_offsets: the start and end offsets).
// Leader epochs are checked (v4+). A new leader whose high watermark has not
// reached the start of its epoch answers OFFSET_NOT_AVAILABLE (v5+; before,
// LEADER_NOT_AVAILABLE), as Kafka does. A partition named more than once in
// a v1+ request fails at each entry with INVALID_REQUEST, as in Kafka.
// Needs Describe on each topic (TOPIC_AUTHORIZATION_FAILED for its
// partitions, checked first).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/replica"
	"samsa/security/acl"
)

func init() { register(2, 0, 7, serveListOffsets) }

func serveListOffsets(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.ListOffsetsRequest)
	h := rc.h
	resp := kmsg.NewPtrListOffsetsResponse()
	type tp struct {
		topic     string
		partition int32
	}
	named := map[tp]int{}
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			named[tp{rt.Topic, rp.Partition}]++
		}
	}
	describable := rc.filterAuthorized(acl.OpDescribe, acl.ResourceTopic, TopicNames(req.Topics, func(t *kmsg.ListOffsetsRequestTopic) string { return t.Topic }), false)
	for _, rt := range req.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.Timestamp, sp.Offset = -1, -1
			if !describable.has(rt.Topic) {
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			_, p, err := h.rm.Lookup(rt.Topic, rp.Partition)
			if err == nil {
				err = p.CheckLeader(rp.CurrentLeaderEpoch)
			}
			if rc.version >= 1 && named[tp{rt.Topic, rp.Partition}] > 1 {
				err = errf(kerr.InvalidRequest, "partition named more than once")
			}
			switch {
			case err != nil:
				sp.ErrorCode = codeOf(err)
			default:
				sp.LeaderEpoch = p.LeaderEpoch()
				off, ts, err := replica.OffsetForIsolation(p, rp.Timestamp, rc.version >= 2 && req.IsolationLevel == 1)
				if err != nil {
					sp.ErrorCode, sp.LeaderEpoch = codeOf(err), -1
					if sp.ErrorCode == kerr.OffsetNotAvailable.Code && rc.version < 5 {
						// Clients before v5 do not know it (Kafka's rule).
						sp.ErrorCode = kerr.LeaderNotAvailable.Code
					}
					break
				}
				sp.Offset, sp.Timestamp = off, ts
				if rc.version == 0 {
					sp.OldStyleOffsets = replica.OldStyleOffsets(p, rp.Timestamp, rp.MaxNumOffsets)
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return rc.respond(resp)
}
