package groupapi

// SyncGroup (key 14), versions 0-5.
//
// The leader's assignment is written to __consumer_offsets (Kafka's
// GroupMetadataValue) before any member gets its part; followers wait for
// it. Members that do not sync within the rebalance timeout are removed.
// v5 checks the protocol type and name (KIP-559). While the group's
// partition loads the answer is REBALANCE_IN_PROGRESS, as in Kafka. Needs
// Read on the group (GROUP_AUTHORIZATION_FAILED).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(14, 0, 5, serveSyncGroup) }

func serveSyncGroup(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.SyncGroupRequest)
	if rc.Handler().Authorizer() != nil {
		resp := kmsg.NewPtrSyncGroupResponse()
		resp.MemberAssignment = []byte{}
		switch {
		case rc.Version() >= 5 && (req.ProtocolType == nil || req.Protocol == nil):
			// KafkaApis answers this before it authorizes (KIP-559).
			resp.ErrorCode = kerr.InconsistentGroupProtocol.Code
			return rc.Respond(resp)
		case !rc.AuthorizeResource(acl.OpRead, acl.ResourceGroup, req.Group):
			resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
			return rc.Respond(resp)
		}
	}
	return rc.Respond(rc.Handler().Groups().SyncGroup(rc.Context(), req))
}
