package adminapi

// AlterPartitionReassignments (key 45), version 0 (KIP-455): start a
// partition's move to new replicas, or cancel one in progress (null
// replicas). Served by the active controller (controller/reassign.go: the
// new replicas catch up and join the ISR, then the old ones are removed);
// another broker answers NOT_CONTROLLER, a standalone one
// CLUSTER_AUTHORIZATION_FAILED, as does any broker to a principal without
// Alter on the cluster (List: Describe). Errors per partition:
// UNKNOWN_TOPIC_OR_PARTITION, INVALID_REPLICA_ASSIGNMENT,
// NO_REASSIGNMENT_IN_PROGRESS.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() {
	kafkaapi.Register(45, 0, 0, serveAlterPartitionReassignments)
	kafkaapi.Register(46, 0, 0, serveListPartitionReassignments)
}

func serveAlterPartitionReassignments(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.AlterPartitionAssignmentsRequest)
	resp := kmsg.NewPtrAlterPartitionAssignmentsResponse()
	ctl, code := rc.ActiveController(acl.OpAlter)
	if ctl == nil {
		resp.ErrorCode = code
		if code == kerr.ClusterAuthorizationFailed.Code {
			// Kafka's error response: every partition carries the error too.
			for _, t := range req.Topics {
				rt := kmsg.NewAlterPartitionAssignmentsResponseTopic()
				rt.Topic = t.Topic
				for _, p := range t.Partitions {
					rp := kmsg.NewAlterPartitionAssignmentsResponseTopicPartition()
					rp.Partition, rp.ErrorCode = p.Partition, code
					rt.Partitions = append(rt.Partitions, rp)
				}
				resp.Topics = append(resp.Topics, rt)
			}
		}
		return rc.Respond(resp)
	}
	ctx, cancel := context.WithTimeout(rc.Context(), time.Duration(max(req.TimeoutMillis, 1000))*time.Millisecond)
	defer cancel()
	out, err := ctl.AlterPartitionReassignments(ctx, req)
	if err != nil {
		resp.ErrorCode, resp.ErrorMessage = codeOf(err), msgOf(err)
		return rc.Respond(resp)
	}
	return rc.Respond(out)
}

// ListPartitionReassignments (key 46), version 0 (KIP-455): the
// reassignments in progress, of the partitions named or all, with their
// replicas, adding and removing replicas. Served by the active controller.
func serveListPartitionReassignments(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.ListPartitionReassignmentsRequest)
	resp := kmsg.NewPtrListPartitionReassignmentsResponse()
	ctl, code := rc.ActiveController(acl.OpDescribe)
	if ctl == nil {
		resp.ErrorCode = code
		return rc.Respond(resp)
	}
	ctx, cancel := context.WithTimeout(rc.Context(), time.Duration(max(req.TimeoutMillis, 1000))*time.Millisecond)
	defer cancel()
	out, err := ctl.ListPartitionReassignments(ctx, req)
	if err != nil {
		resp.ErrorCode, resp.ErrorMessage = codeOf(err), msgOf(err)
		return rc.Respond(resp)
	}
	return rc.Respond(out)
}
