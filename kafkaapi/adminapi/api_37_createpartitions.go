package adminapi

// CreatePartitions (key 37), versions 0-3.
//
// Grows a topic to count partitions (KIP-195); partitions are never
// removed. Standalone, the new partitions' logs exist and their metadata is
// durable when the answer leaves. In a cluster the answer waits up to
// timeout_ms until this broker's metadata has a leader for every partition
// (REQUEST_TIMED_OUT after, the partitions added all the same), as Kafka's
// DelayedCreatePartitions does. An explicit assignment names one replica
// list per new partition (standalone: each this broker).
// validate_only checks and changes nothing.
//
// Errors per topic, with Kafka's messages: INVALID_REQUEST for a topic named
// twice (answered once); UNKNOWN_TOPIC_OR_PARTITION; INVALID_PARTITIONS for
// a count that is not larger than the current one (or above 100000);
// INVALID_REPLICA_ASSIGNMENT for unknown brokers, an assignment count that
// is not the increase, or more than one replica. Needs Alter on each topic
// (TOPIC_AUTHORIZATION_FAILED).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(37, 0, 3, serveCreatePartitions) }

func serveCreatePartitions(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.CreatePartitionsRequest)
	h := rc.Handler()
	resp := kmsg.NewPtrCreatePartitionsResponse()
	count := make(map[string]int, len(req.Topics))
	for _, rt := range req.Topics {
		count[rt.Topic]++
	}
	grown := map[string]int32{} // topics grown, to their new count
	alterable := rc.FilterAuthorized(acl.OpAlter, acl.ResourceTopic, kafkaapi.TopicNames(req.Topics, func(t *kmsg.CreatePartitionsRequestTopic) string { return t.Topic }), false)
	for _, rt := range req.Topics {
		if count[rt.Topic] == 0 {
			continue // a duplicate, answered at its first entry
		}
		st := kmsg.NewCreatePartitionsResponseTopic()
		st.Topic = rt.Topic
		var err error
		if count[rt.Topic] > 1 {
			err = errf(kerr.InvalidRequest, "Duplicate topic in request.")
		} else if !alterable.Has(rt.Topic) {
			err = errf(kerr.TopicAuthorizationFailed, "The topic authorization is failed.")
		} else {
			var assignment [][]int32
			if rt.Assignment != nil {
				assignment = make([][]int32, len(rt.Assignment))
				for i, a := range rt.Assignment {
					assignment[i] = a.Replicas
				}
			}
			err = h.Admin().AddPartitions(rt.Topic, rt.Count, assignment, req.ValidateOnly)
		}
		count[rt.Topic] = 0
		if err != nil {
			st.ErrorCode, st.ErrorMessage = codeOf(err), msgOf(err)
		}
		resp.Topics = append(resp.Topics, st)
		if err == nil {
			grown[rt.Topic] = rt.Count
		}
	}
	if h.Cluster() != nil && !req.ValidateOnly {
		late := awaitTopics(rc.Context(), h, req.TimeoutMillis, grown)
		for i, st := range resp.Topics {
			if late[st.Topic] {
				resp.Topics[i].ErrorCode = kerr.RequestTimedOut.Code
				resp.Topics[i].ErrorMessage = strptr("the partitions are added, but not every one has a leader yet")
			}
		}
	}
	return rc.Respond(resp)
}
