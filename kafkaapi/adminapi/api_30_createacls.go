package adminapi

// CreateAcls (key 30), versions 0-3.
//
// Adds ACLs (Kafka's AclApis.handleCreateAcls and AclAuthorizer.createAcls):
// each creation's pattern gets its entry, stored as Kafka stores it
// (/kafka-acl* in ZooKeeper, with a change notification every broker
// follows; the metadata file of a standalone broker) by a write
// conditional on the version read. Needs Alter on the cluster
// (CLUSTER_AUTHORIZATION_FAILED for every creation); without an authorizer
// every creation is SECURITY_DISABLED. A creation is INVALID_REQUEST when
// its cluster is not kafka-cluster, its name is empty or has a "/", its
// principal is not type:name, or it names an ANY, MATCH or unknown element.
// v0 takes only LITERAL patterns; a creation with an UNKNOWN (0) element,
// or a v0 one with another pattern type, closes the connection, as Kafka's
// request parser refuses it.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(30, 0, 3, serveCreateACLs) }

func serveCreateACLs(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.CreateACLsRequest)
	bindings := make([]acl.Binding, len(req.Creations))
	for i, c := range req.Creations {
		if c.ResourceType == 0 || c.ResourcePatternType == 0 || c.Operation == 0 || c.PermissionType == 0 ||
			(rc.Version() == 0 && c.ResourcePatternType != kmsg.ACLResourcePatternTypeLiteral) {
			return rc.CloseUnparsable("CreateAcls creation with UNKNOWN elements")
		}
		bindings[i] = acl.Binding{
			Pattern: acl.Pattern{Type: acl.ResourceType(c.ResourceType), Name: c.ResourceName, PatternType: acl.PatternType(c.ResourcePatternType)},
			Entry:   acl.Entry{Principal: c.Principal, Host: c.Host, Operation: acl.Operation(c.Operation), Permission: acl.Permission(c.PermissionType)},
		}
	}
	resp := kmsg.NewPtrCreateACLsResponse()
	resp.Results = make([]kmsg.CreateACLsResponseResult, len(bindings))
	switch {
	case !rc.AuthorizeCluster(acl.OpAlter):
		for i := range resp.Results {
			resp.Results[i].ErrorCode = kerr.ClusterAuthorizationFailed.Code
		}
	case rc.Handler().Authorizer() == nil:
		for i := range resp.Results {
			resp.Results[i].ErrorCode, resp.Results[i].ErrorMessage = kerr.SecurityDisabled.Code, strptr("No Authorizer is configured.")
		}
	default:
		for i, err := range rc.Handler().Authorizer().CreateACLs(bindings) {
			if err != nil {
				resp.Results[i].ErrorCode, resp.Results[i].ErrorMessage = aclError(err)
				rc.Handler().Logger().Debug("ACL not created", "acl", bindings[i].String(), "err", err)
			}
		}
	}
	return rc.Respond(resp)
}
