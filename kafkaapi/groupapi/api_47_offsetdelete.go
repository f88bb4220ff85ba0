package groupapi

// OffsetDelete (key 47), version 0 (KIP-496).
//
// Deletes committed offsets of a group, with tombstones: any of an empty
// group; of a consumer group with members, only those of topics it does
// not subscribe to (GROUP_SUBSCRIBED_TO_TOPIC otherwise). Other non-empty
// groups are NON_EMPTY_GROUP; unknown ones GROUP_ID_NOT_FOUND. Needs Delete
// on the group (GROUP_AUTHORIZATION_FAILED) and Read on each topic
// (TOPIC_AUTHORIZATION_FAILED for its partitions).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(47, 0, 0, serveOffsetDelete) }

func serveOffsetDelete(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.OffsetDeleteRequest)
	if rc.Handler().Authorizer() == nil {
		return rc.Respond(rc.Handler().Groups().OffsetDelete(req))
	}
	if !rc.AuthorizeResource(acl.OpDelete, acl.ResourceGroup, req.Group) {
		resp := kmsg.NewPtrOffsetDeleteResponse()
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return rc.Respond(resp)
	}
	readable := rc.FilterAuthorized(acl.OpRead, acl.ResourceTopic, kafkaapi.TopicNames(req.Topics, func(t *kmsg.OffsetDeleteRequestTopic) string { return t.Topic }), false)
	sub := *req
	sub.Topics = nil
	var refused []kmsg.OffsetDeleteResponseTopic
	for _, t := range req.Topics {
		if readable.Has(t.Topic) {
			sub.Topics = append(sub.Topics, t)
			continue
		}
		rt := kmsg.NewOffsetDeleteResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetDeleteResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, kerr.TopicAuthorizationFailed.Code
			rt.Partitions = append(rt.Partitions, rp)
		}
		refused = append(refused, rt)
	}
	resp := rc.Handler().Groups().OffsetDelete(&sub)
	resp.Topics = append(resp.Topics, refused...)
	return rc.Respond(resp)
}
