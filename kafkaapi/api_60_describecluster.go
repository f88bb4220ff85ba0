package kafkaapi

// DescribeCluster (key 60), versions 0-1.
//
// KIP-700: the brokers at their endpoints on the listener the request came
// in on (those without it left out), the
// cluster ID, the controller (this broker: a standalone broker is its own
// controller) and, when asked, the authorized cluster operations (KIP-430:
// from the ACLs, 0 without Describe on the cluster; all of them without an
// authorizer). v1 (KIP-919) has an endpoint type: this is
// a broker endpoint, so asking for controllers (2) fails with
// MISMATCHED_ENDPOINT_TYPE and an unknown type with UNSUPPORTED_VERSION, as
// in Kafka.

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { register(60, 0, 1, serveDescribeCluster) }

const endpointTypeBrokers = 1

func serveDescribeCluster(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.DescribeClusterRequest)
	h := rc.h
	resp := kmsg.NewPtrDescribeClusterResponse()
	resp.EndpointType = endpointTypeBrokers
	if rc.version >= 1 && req.EndpointType != endpointTypeBrokers {
		if req.EndpointType == 2 {
			resp.ErrorCode = kerr.MismatchedEndpointType.Code
			resp.ErrorMessage = strptr("The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER")
		} else {
			resp.ErrorCode = kerr.UnsupportedVersion.Code
			resp.ErrorMessage = strptr("Unsupported endpoint type " + strconv.Itoa(int(req.EndpointType)))
		}
		return rc.respond(resp)
	}
	snap := h.cache.Load()
	for _, b := range snap.BrokersOn(rc.conn.Listener()) {
		br := kmsg.NewDescribeClusterResponseBroker()
		br.NodeID, br.Host, br.Port, br.Rack = b.ID, b.Host, b.Port, b.Rack
		resp.Brokers = append(resp.Brokers, br)
	}
	resp.ClusterID = snap.ClusterID
	resp.ControllerID = snap.ControllerID
	if req.IncludeClusterAuthorizedOperations {
		resp.ClusterAuthorizedOperations = 0
		if rc.authorizeCluster(acl.OpDescribe) {
			resp.ClusterAuthorizedOperations = rc.authorizedOperations(acl.ResourceCluster, acl.ClusterName)
		}
	}
	return rc.respond(resp)
}
