package adminapi

// DescribeUserScramCredentials (key 50), version 0 (KIP-554).
//
// The SCRAM mechanisms and iteration counts of users' credentials, never
// the credentials (Kafka's ZkAdminManager.describeUserScramCredentials),
// read from where they are stored: every user that has one when no user is
// named, sorted; else each named user once, in the order named, with
// RESOURCE_NOT_FOUND for a user without credentials or an empty name and
// DUPLICATE_RESOURCE for a user named twice. Needs Describe on the cluster
// (CLUSTER_AUTHORIZATION_FAILED at the top level). A broker without a
// credential store knows no users.

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
	"samsa/security/sasl"
)

func init() { kafkaapi.Register(50, 0, 0, serveDescribeUserSCRAM) }

const errorProcessingDescribe = "Error processing describe user SCRAM credential configs request"

func serveDescribeUserSCRAM(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.DescribeUserSCRAMCredentialsRequest)
	resp := kmsg.NewPtrDescribeUserSCRAMCredentialsResponse()
	if !rc.AuthorizeCluster(acl.OpDescribe) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		resp.ErrorMessage = strptr(kerr.ClusterAuthorizationFailed.Description)
		return rc.Respond(resp)
	}
	store := rc.Handler().Credentials()
	result := func(user string, cfg map[string]string, named bool) (kmsg.DescribeUserSCRAMCredentialsResponseResult, bool) {
		r := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
		r.User = user
		creds, err := sasl.ParseUserConfigs(cfg)
		switch {
		case err != nil:
			r.ErrorCode, r.ErrorMessage = kerr.UnknownServerError.Code, strptr(errorProcessingDescribe)
		case len(creds) > 0:
			for _, m := range sasl.ScramMechanisms {
				if c, ok := creds[m.Name]; ok {
					ci := kmsg.NewDescribeUserSCRAMCredentialsResponseResultCredentialInfo()
					ci.Mechanism, ci.Iterations = m.Type, int32(c.Iterations)
					r.CredentialInfos = append(r.CredentialInfos, ci)
				}
			}
		case named:
			r.ErrorCode = kerr.ResourceNotFound.Code
			r.ErrorMessage = strptr("Attempt to describe a user credential that does not exist: " + user)
		default:
			return r, false
		}
		return r, true
	}
	if len(req.Users) == 0 {
		all := map[string]map[string]string{}
		if store != nil {
			var err error
			if all, err = store.UserConfigs(); err != nil {
				resp.ErrorCode, resp.ErrorMessage = kerr.UnknownServerError.Code, strptr(errorProcessingDescribe)
				return rc.Respond(resp)
			}
		}
		for _, u := range sortedKeys(all) {
			if r, ok := result(u, all[u], false); ok {
				resp.Results = append(resp.Results, r)
			}
		}
		return rc.Respond(resp)
	}
	count := map[string]int{}
	for _, u := range req.Users {
		count[u.Name]++
	}
	done := map[string]bool{}
	for _, u := range req.Users {
		name := u.Name
		if done[name] {
			continue
		}
		done[name] = true
		r := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
		r.User = name
		switch {
		case name == "":
			r.ErrorCode, r.ErrorMessage = kerr.ResourceNotFound.Code, strptr("Username must not be empty")
		case count[name] > 1:
			r.ErrorCode = kerr.DuplicateResource.Code
			r.ErrorMessage = strptr("Cannot describe SCRAM credentials for the same user twice in a single request: " + name)
		default:
			cfg := map[string]string{}
			if store != nil {
				var err error
				if cfg, err = store.UserConfig(name); err != nil {
					r.ErrorCode, r.ErrorMessage = kerr.UnknownServerError.Code, strptr(errorProcessingDescribe)
					break
				}
			}
			r, _ = result(name, cfg, true)
		}
		resp.Results = append(resp.Results, r)
	}
	return rc.Respond(resp)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
