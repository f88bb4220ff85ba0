package kafkaapi

// ControlledShutdown (key 7), versions 1-3: a stopping broker asks the
// controller to move its leaderships away first (KIP-... Kafka's
// controlled.shutdown.enable).
//
// Served by the active controller: it answers with the partitions the
// broker still leads (none once every leadership moved; a partition with no
// other in-sync replica stays). Any other broker answers NOT_CONTROLLER, a
// standalone one CLUSTER_AUTHORIZATION_FAILED; a broker epoch that is not
// the broker's current one STALE_BROKER_EPOCH (v2+). The sender needs
// ClusterAction on the cluster (CLUSTER_AUTHORIZATION_FAILED).

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { register(7, 1, 3, serveControlledShutdown) }

func serveControlledShutdown(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.ControlledShutdownRequest)
	resp := kmsg.NewPtrControlledShutdownResponse()
	ctl, code := rc.activeController(acl.OpClusterAction)
	if ctl == nil {
		resp.ErrorCode = code
		return rc.respond(resp)
	}
	epoch := req.BrokerEpoch
	if rc.version < 2 {
		epoch = -1
	}
	ctx, cancel := context.WithTimeout(rc.conn.Context(), 30*time.Second)
	defer cancel()
	remaining, err := ctl.ControlledShutdown(ctx, req.BrokerID, epoch)
	if err != nil {
		resp.ErrorCode = codeOf(err)
		return rc.respond(resp)
	}
	resp.PartitionsRemaining = remaining
	return rc.respond(resp)
}
