package kafkaapi

// CreatePartitions (key 37), versions 0-3.
//
// Grows a topic to count partitions (KIP-195); partitions are never
// removed. The new partitions' logs exist and their metadata is durable when
// the answer leaves, so timeout_ms has nothing to wait for. An explicit
// assignment names one replica list per new partition, each this broker.
// validate_only checks and changes nothing.
//
// Errors per topic, with Kafka's messages: INVALID_REQUEST for a topic named
// twice (answered once); UNKNOWN_TOPIC_OR_PARTITION; INVALID_PARTITIONS for
// a count that is not larger than the current one (or above 100000);
// INVALID_REPLICA_ASSIGNMENT for unknown brokers, an assignment count that
// is not the increase, or more than one replica.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

func init() { register(37, 0, 3, serveCreatePartitions) }

func serveCreatePartitions(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.CreatePartitionsRequest)
	h := rc.h
	resp := kmsg.NewPtrCreatePartitionsResponse()
	count := make(map[string]int, len(req.Topics))
	for _, rt := range req.Topics {
		count[rt.Topic]++
	}
	for _, rt := range req.Topics {
		if count[rt.Topic] == 0 {
			continue // a duplicate, answered at its first entry
		}
		st := kmsg.NewCreatePartitionsResponseTopic()
		st.Topic = rt.Topic
		var err error
		if count[rt.Topic] > 1 {
			err = errf(kerr.InvalidRequest, "Duplicate topic in request.")
		} else {
			var assignment [][]int32
			if rt.Assignment != nil {
				assignment = make([][]int32, len(rt.Assignment))
				for i, a := range rt.Assignment {
					assignment[i] = a.Replicas
				}
			}
			err = h.addPartitions(rt.Topic, rt.Count, assignment, req.ValidateOnly)
		}
		count[rt.Topic] = 0
		if err != nil {
			st.ErrorCode, st.ErrorMessage = codeOf(err), msgOf(err)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return rc.respond(resp)
}
