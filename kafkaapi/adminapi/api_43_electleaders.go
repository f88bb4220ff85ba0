package adminapi

// ElectLeaders (key 43), versions 0-2 (KIP-460): preferred (type 0) or
// unclean (type 1, v1+) leader elections for the partitions named, or for
// every partition when the topic list is null. Served by the active
// controller; another broker answers NOT_CONTROLLER, a standalone one
// CLUSTER_AUTHORIZATION_FAILED (it leads everything already), as does any
// broker to a principal without Alter on the cluster. Errors per
// partition: ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE,
// ELIGIBLE_LEADERS_NOT_AVAILABLE, UNKNOWN_TOPIC_OR_PARTITION.

import (
	"context"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(43, 0, 2, serveElectLeaders) }

func serveElectLeaders(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.ElectLeadersRequest)
	resp := kmsg.NewPtrElectLeadersResponse()
	fail := func(code int16) *netpoll.Response {
		if rc.Version() >= 1 {
			resp.ErrorCode = code
		}
		for _, t := range req.Topics {
			rt := kmsg.NewElectLeadersResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewElectLeadersResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p, code
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return rc.Respond(resp)
	}
	ctl, code := rc.ActiveController(acl.OpAlter)
	if ctl == nil {
		return fail(code)
	}
	if req.ElectionType != 0 && req.ElectionType != 1 {
		return fail(kerr.InvalidRequest.Code)
	}
	var parts map[string][]int32
	if req.Topics != nil {
		parts = map[string][]int32{}
		for _, t := range req.Topics {
			parts[t.Topic] = append(parts[t.Topic], t.Partitions...)
		}
	}
	timeout := time.Duration(max(req.TimeoutMillis, 1000)) * time.Millisecond
	ctx, cancel := context.WithTimeout(rc.Context(), timeout)
	defer cancel()
	result, err := ctl.ElectLeaders(ctx, req.ElectionType, parts)
	if err != nil {
		return fail(codeOf(err))
	}
	topics := make([]string, 0, len(result))
	for t := range result {
		topics = append(topics, t)
	}
	slices.Sort(topics)
	for _, t := range topics {
		rt := kmsg.NewElectLeadersResponseTopic()
		rt.Topic = t
		ps := make([]int32, 0, len(result[t]))
		for p := range result[t] {
			ps = append(ps, p)
		}
		slices.Sort(ps)
		for _, p := range ps {
			rp := kmsg.NewElectLeadersResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p, result[t][p]
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return rc.Respond(resp)
}
