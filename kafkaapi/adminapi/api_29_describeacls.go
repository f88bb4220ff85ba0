package adminapi

// DescribeAcls (key 29), versions 0-3.
//
// The ACLs a filter selects (Kafka's AclApis.handleDescribeAcls), from
// this broker's cache, grouped by resource pattern: the filter's type and
// name (null: any), pattern type (LITERAL, PREFIXED, ANY: either, compared
// exactly; MATCH: every pattern that would apply to the name), principal,
// host, operation and permission. Needs Describe on the cluster
// (CLUSTER_AUTHORIZATION_FAILED); without an authorizer the answer is
// SECURITY_DISABLED. v0 knows only LITERAL patterns (KIP-290). A filter
// with an UNKNOWN (0) element closes the connection, as Kafka's request
// parser refuses it.

import (
	"errors"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(29, 0, 3, serveDescribeACLs) }

func serveDescribeACLs(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.DescribeACLsRequest)
	f := aclFilter(req.ResourceType, req.ResourceName, req.ResourcePatternType, req.Principal, req.Host, req.Operation, req.PermissionType)
	if !filterParses(f) {
		return rc.CloseUnparsable("DescribeAcls filter with UNKNOWN elements")
	}
	resp := kmsg.NewPtrDescribeACLsResponse()
	switch {
	case !rc.AuthorizeCluster(acl.OpDescribe):
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
	case rc.Handler().Authorizer() == nil:
		resp.ErrorCode, resp.ErrorMessage = kerr.SecurityDisabled.Code, strptr("No Authorizer is configured on the broker")
	default:
		for _, b := range rc.Handler().Authorizer().ACLs(f) {
			n := len(resp.Resources)
			if n == 0 || resp.Resources[n-1].ResourceName != b.Pattern.Name || resp.Resources[n-1].ResourceType != kmsg.ACLResourceType(b.Pattern.Type) ||
				resp.Resources[n-1].ResourcePatternType != kmsg.ACLResourcePatternType(b.Pattern.PatternType) {
				r := kmsg.NewDescribeACLsResponseResource()
				r.ResourceType, r.ResourceName = kmsg.ACLResourceType(b.Pattern.Type), b.Pattern.Name
				r.ResourcePatternType = kmsg.ACLResourcePatternType(b.Pattern.PatternType)
				resp.Resources = append(resp.Resources, r)
				n++
			}
			a := kmsg.NewDescribeACLsResponseResourceACL()
			a.Principal, a.Host = b.Entry.Principal, b.Entry.Host
			a.Operation, a.PermissionType = kmsg.ACLOperation(b.Entry.Operation), kmsg.ACLPermissionType(b.Entry.Permission)
			resp.Resources[n-1].ACLs = append(resp.Resources[n-1].ACLs, a)
		}
	}
	return rc.Respond(resp)
}

// aclFilter is a request's filter in the authorizer's terms. v0 requests
// carry no pattern type: kmsg gives them LITERAL, which is what Kafka
// makes of v0's ANY.
func aclFilter(t kmsg.ACLResourceType, name *string, pt kmsg.ACLResourcePatternType, principal, host *string,
	op kmsg.ACLOperation, perm kmsg.ACLPermissionType) acl.Filter {
	return acl.Filter{
		Pattern: acl.PatternFilter{Type: acl.ResourceType(t), Name: name, PatternType: acl.PatternType(pt)},
		Entry:   acl.EntryFilter{Principal: principal, Host: host, Operation: acl.Operation(op), Permission: acl.Permission(perm)},
	}
}

// filterParses reports whether Kafka's request classes accept a filter:
// no element UNKNOWN (0). Other unknown codes parse and match nothing.
func filterParses(f acl.Filter) bool {
	return f.Pattern.Type != acl.ResourceUnknown && f.Pattern.PatternType != acl.PatternUnknown &&
		f.Entry.Operation != acl.OpUnknown && f.Entry.Permission != acl.PermissionUnknown
}

// aclError is the code and message of an authorizer's error.
func aclError(err error) (int16, *string) {
	code := kerr.UnknownServerError.Code
	if errors.Is(err, acl.ErrInvalid) {
		code = kerr.InvalidRequest.Code
	}
	return code, strptr(strings.TrimPrefix(err.Error(), acl.ErrInvalid.Error()+": "))
}
