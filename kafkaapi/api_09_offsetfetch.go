package kafkaapi

// OffsetFetch (key 9), versions 0-8.
//
// A group's committed offsets: the partitions asked for (-1 and empty
// metadata for none), or all of them for a null topic list (v2+); v5+
// with the leader epoch; v8 (KIP-709) for several groups at once. Group
// errors (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS) are top-level
// from v2, per group in v8, per partition in v0-v1. require_stable (v7)
// never waits: there are no pending transactional offsets. Needs Describe
// on the group (GROUP_AUTHORIZATION_FAILED: top-level v2-v7, per group v8,
// per partition v0-v1) and on each topic: a topic named is
// TOPIC_AUTHORIZATION_FAILED, one of "all topics" is left out.

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { register(9, 0, 8, serveOffsetFetch) }

func serveOffsetFetch(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.OffsetFetchRequest)
	if rc.h.authz == nil {
		return rc.respond(rc.h.groups.OffsetFetch(req))
	}
	if rc.version >= 8 {
		resp := kmsg.NewPtrOffsetFetchResponse()
		for _, g := range req.Groups {
			resp.Groups = append(resp.Groups, offsetFetchGroup(rc, req, g))
		}
		return rc.respond(resp)
	}
	if !rc.authorize(acl.OpDescribe, acl.ResourceGroup, req.Group) {
		resp := kmsg.NewPtrOffsetFetchResponse()
		if rc.version >= 2 {
			resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		} else {
			resp.Topics = offsetFetchRefused(req.Topics, kerr.GroupAuthorizationFailed.Code)
		}
		return rc.respond(resp)
	}
	if req.Topics == nil && rc.version >= 2 {
		resp := rc.h.groups.OffsetFetch(req)
		describable := rc.filterAuthorized(acl.OpDescribe, acl.ResourceTopic, TopicNames(resp.Topics, func(t *kmsg.OffsetFetchResponseTopic) string { return t.Topic }), false)
		resp.Topics = slices.DeleteFunc(resp.Topics, func(t kmsg.OffsetFetchResponseTopic) bool { return !describable.has(t.Topic) })
		return rc.respond(resp)
	}
	describable := rc.filterAuthorized(acl.OpDescribe, acl.ResourceTopic, TopicNames(req.Topics, func(t *kmsg.OffsetFetchRequestTopic) string { return t.Topic }), false)
	sub := *req
	sub.Topics = []kmsg.OffsetFetchRequestTopic{} // not nil: nil asks for all
	var refused []kmsg.OffsetFetchRequestTopic
	for _, t := range req.Topics {
		if describable.has(t.Topic) {
			sub.Topics = append(sub.Topics, t)
		} else {
			refused = append(refused, t)
		}
	}
	resp := rc.h.groups.OffsetFetch(&sub)
	if resp.ErrorCode == 0 {
		resp.Topics = append(resp.Topics, offsetFetchRefused(refused, kerr.TopicAuthorizationFailed.Code)...)
	}
	return rc.respond(resp)
}

// offsetFetchGroup answers one group of an OffsetFetch v8+, as
// KafkaApis.handleOffsetFetchRequestFromCoordinator.
func offsetFetchGroup(rc *reqCtx, req *kmsg.OffsetFetchRequest, g kmsg.OffsetFetchRequestGroup) kmsg.OffsetFetchResponseGroup {
	if !rc.authorize(acl.OpDescribe, acl.ResourceGroup, g.Group) {
		sg := kmsg.NewOffsetFetchResponseGroup()
		sg.Group, sg.ErrorCode = g.Group, kerr.GroupAuthorizationFailed.Code
		return sg
	}
	sub := *req
	sub.Groups = []kmsg.OffsetFetchRequestGroup{g}
	var refused []kmsg.OffsetFetchRequestGroupTopic
	if g.Topics != nil {
		describable := rc.filterAuthorized(acl.OpDescribe, acl.ResourceTopic, TopicNames(g.Topics, func(t *kmsg.OffsetFetchRequestGroupTopic) string { return t.Topic }), false)
		ok := []kmsg.OffsetFetchRequestGroupTopic{} // not nil: nil asks for all
		for _, t := range g.Topics {
			if describable.has(t.Topic) {
				ok = append(ok, t)
			} else {
				refused = append(refused, t)
			}
		}
		sub.Groups[0].Topics = ok
	}
	sg := rc.h.groups.OffsetFetch(&sub).Groups[0]
	if sg.ErrorCode != 0 {
		return sg
	}
	if g.Topics == nil {
		// Offsets of topics the principal may not describe are left out.
		describable := rc.filterAuthorized(acl.OpDescribe, acl.ResourceTopic, TopicNames(sg.Topics, func(t *kmsg.OffsetFetchResponseGroupTopic) string { return t.Topic }), false)
		sg.Topics = slices.DeleteFunc(sg.Topics, func(t kmsg.OffsetFetchResponseGroupTopic) bool { return !describable.has(t.Topic) })
	}
	for _, t := range refused {
		st := kmsg.NewOffsetFetchResponseGroupTopic()
		st.Topic = t.Topic
		for _, p := range t.Partitions {
			sp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
			sp.Partition, sp.Offset, sp.ErrorCode = p, -1, kerr.TopicAuthorizationFailed.Code
			st.Partitions = append(st.Partitions, sp)
		}
		sg.Topics = append(sg.Topics, st)
	}
	return sg
}

// offsetFetchRefused answers every partition of topics with code, no
// offset.
func offsetFetchRefused(topics []kmsg.OffsetFetchRequestTopic, code int16) []kmsg.OffsetFetchResponseTopic {
	out := make([]kmsg.OffsetFetchResponseTopic, 0, len(topics))
	for _, t := range topics {
		rt := kmsg.NewOffsetFetchResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetFetchResponseTopicPartition()
			rp.Partition, rp.Offset, rp.ErrorCode = p, -1, code
			rt.Partitions = append(rt.Partitions, rp)
		}
		out = append(out, rt)
	}
	return out
}
