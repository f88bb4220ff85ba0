package kafkaapi

// AlterPartition (key 56), versions 0-1: a partition's leader asks the
// controller to change its ISR (KIP-497).
//
// Served by the active controller (controller.AlterPartition: leader,
// leader epoch, partition epoch and the new members checked, the state
// znode written conditionally). Another broker answers NOT_CONTROLLER, a
// standalone one CLUSTER_AUTHORIZATION_FAILED, as does any broker to a
// sender without ClusterAction on the cluster.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { register(56, 0, 1, serveAlterPartition) }

func serveAlterPartition(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.AlterPartitionRequest)
	resp := kmsg.NewPtrAlterPartitionResponse()
	ctl, code := rc.activeController(acl.OpClusterAction)
	if ctl == nil {
		resp.ErrorCode = code
		return rc.respond(resp)
	}
	ctx, cancel := context.WithTimeout(rc.conn.Context(), 30*time.Second)
	defer cancel()
	out, err := ctl.AlterPartition(ctx, req)
	if err != nil {
		resp.ErrorCode = codeOf(err)
		return rc.respond(resp)
	}
	return rc.respond(out)
}
