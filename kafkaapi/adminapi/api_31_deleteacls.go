package adminapi

// DeleteAcls (key 31), versions 0-3.
//
// Removes the ACLs each filter selects (Kafka's AclAuthorizer.deleteAcls)
// with conditional writes, and tells the other brokers. A filter reaches
// the patterns this broker's cache holds and, if it names one pattern
// exactly (a type, a name, LITERAL, PREFIXED or ANY), that pattern even if
// this broker has not heard of it yet. An ACL several filters select is
// reported by the first. Needs Alter on the cluster
// (CLUSTER_AUTHORIZATION_FAILED for every filter); without an authorizer
// every filter is SECURITY_DISABLED. v0 knows only LITERAL patterns; a
// filter with an UNKNOWN (0) element closes the connection, as Kafka's
// request parser refuses it.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(31, 0, 3, serveDeleteACLs) }

func serveDeleteACLs(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.DeleteACLsRequest)
	filters := make([]acl.Filter, len(req.Filters))
	for i, f := range req.Filters {
		filters[i] = aclFilter(f.ResourceType, f.ResourceName, f.ResourcePatternType, f.Principal, f.Host, f.Operation, f.PermissionType)
		if !filterParses(filters[i]) {
			return rc.CloseUnparsable("DeleteAcls filter with UNKNOWN elements")
		}
	}
	resp := kmsg.NewPtrDeleteACLsResponse()
	resp.Results = make([]kmsg.DeleteACLsResponseResult, len(filters))
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
		for i, deleted := range rc.Handler().Authorizer().DeleteACLs(filters) {
			for _, d := range deleted {
				m := kmsg.NewDeleteACLsResponseResultMatchingACL()
				p, e := d.Binding.Pattern, d.Binding.Entry
				m.ResourceType, m.ResourceName, m.ResourcePatternType = kmsg.ACLResourceType(p.Type), p.Name, kmsg.ACLResourcePatternType(p.PatternType)
				m.Principal, m.Host = e.Principal, e.Host
				m.Operation, m.PermissionType = kmsg.ACLOperation(e.Operation), kmsg.ACLPermissionType(e.Permission)
				if d.Err != nil {
					m.ErrorCode, m.ErrorMessage = aclError(d.Err)
				}
				resp.Results[i].MatchingACLs = append(resp.Results[i].MatchingACLs, m)
			}
		}
	}
	return rc.Respond(resp)
}
