package adminapi

// DeleteTopics (key 20), versions 0-6.
//
// Topics by name, or (v6, KIP-516) by name or topic ID. Standalone,
// deletion is synchronous: the topic stops being served, its partition
// directories are removed, then its metadata. In a cluster the controller
// deletes it: the answer waits up to timeout_ms until the topic is gone from
// this broker's metadata (REQUEST_TIMED_OUT after; the deletion goes on), as
// Kafka's DelayedDeleteTopics does. A topic
// named twice is deleted once and both entries succeed. With
// delete.topic.enable=false every topic fails with TOPIC_DELETION_DISABLED
// (v3+) or INVALID_REQUEST (v0-v2), as in Kafka 2.1+. An entry with both a
// name and an ID fails the whole request with INVALID_REQUEST. Internal
// topics may be deleted: Kafka's broker allows it (only its command-line
// tool refuses). Errors: UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID,
// with a message from v5. Each topic needs Delete, and one named by ID also
// Describe (else TOPIC_AUTHORIZATION_FAILED, without its name), as Kafka.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/metadata"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(20, 0, 6, serveDeleteTopics) }

func serveDeleteTopics(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.DeleteTopicsRequest)
	h := rc.Handler()
	resp := kmsg.NewPtrDeleteTopicsResponse()
	topics := req.Topics
	if rc.Version() < 6 {
		topics = make([]kmsg.DeleteTopicsRequestTopic, len(req.TopicNames))
		for i := range req.TopicNames {
			topics[i].Topic = &req.TopicNames[i]
		}
	}
	var all error // an error for every topic
	for _, t := range topics {
		if t.Topic != nil && t.TopicID != [16]byte{} {
			all = errf(kerr.InvalidRequest, "Topic name and topic ID can not both be specified.")
		}
	}
	if all == nil && !h.Config().DeleteTopicEnable {
		code := kerr.TopicDeletionDisabled
		if rc.Version() < 3 {
			code = kerr.InvalidRequest
		}
		all = errf(code, "Topic deletion is disabled.")
	}
	// Delete on each topic; a topic named by ID also needs Describe, or
	// its name is not returned.
	var describable, deletable kafkaapi.Allowed
	if all == nil && h.Authorizer() != nil {
		var names []string
		for _, t := range topics {
			if name := topicNameOf(h, t); name != "" {
				names = append(names, name)
			}
		}
		describable = rc.FilterAuthorized(acl.OpDescribe, acl.ResourceTopic, names, false)
		deletable = rc.FilterAuthorized(acl.OpDelete, acl.ResourceTopic, names, false)
	}
	deleted := map[string]bool{}
	for _, t := range topics {
		st := kmsg.NewDeleteTopicsResponseTopic()
		st.Topic, st.TopicID = t.Topic, t.TopicID
		err := all
		if name := topicNameOf(h, t); err == nil && name != "" {
			switch {
			case t.TopicID != [16]byte{} && !describable.Has(name):
				err = errf(kerr.TopicAuthorizationFailed, "Topic authorization failed.")
			case !deletable.Has(name):
				st.Topic = &name
				err = errf(kerr.TopicAuthorizationFailed, "Topic authorization failed.")
			}
		}
		if err == nil {
			err = deleteOneTopic(h, &st, deleted)
		}
		if err != nil {
			st.ErrorCode, st.ErrorMessage = codeOf(err), msgOf(err)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if h.Cluster() != nil {
		gone := map[string]int32{}
		for name := range deleted {
			gone[name] = 0
		}
		late := awaitTopics(rc.Context(), h, req.TimeoutMillis, gone)
		for i, st := range resp.Topics {
			if st.ErrorCode == 0 && st.Topic != nil && late[*st.Topic] {
				resp.Topics[i].ErrorCode = kerr.RequestTimedOut.Code
				resp.Topics[i].ErrorMessage = strptr("the topic is marked for deletion, but not deleted yet")
			}
		}
	}
	return rc.Respond(resp)
}

// topicNameOf is the topic an entry names, by name or by ID; "" for an
// unknown ID.
func topicNameOf(h *kafkaapi.Handler, t kmsg.DeleteTopicsRequestTopic) string {
	if t.TopicID != [16]byte{} {
		if ti := h.Cache().Load().TopicByID(metadata.TopicID(t.TopicID)); ti != nil {
			return ti.Name
		}
		return ""
	}
	if t.Topic == nil {
		return ""
	}
	return *t.Topic
}

// deleteOneTopic resolves an entry to a topic name (filling it in for an ID)
// and deletes the topic unless this request already did.
func deleteOneTopic(h *kafkaapi.Handler, st *kmsg.DeleteTopicsResponseTopic, deleted map[string]bool) error {
	if st.TopicID != [16]byte{} {
		t := h.Cache().Load().TopicByID(metadata.TopicID(st.TopicID))
		if t == nil {
			return errf(kerr.UnknownTopicID, "Topic ID %s does not exist.", metadata.TopicID(st.TopicID))
		}
		st.Topic = strptr(t.Name)
	}
	if st.Topic == nil {
		return errf(kerr.UnknownTopicOrPartition, "no topic name or ID given")
	}
	name := *st.Topic
	if deleted[name] {
		return nil
	}
	if err := h.Admin().DeleteTopic(name); err != nil {
		return err
	}
	deleted[name] = true
	return nil
}
