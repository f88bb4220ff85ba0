package groupapi

// DeleteGroups (key 42), versions 0-2.
//
// Deletes groups without members: tombstones for the group's metadata and
// each committed offset go to __consumer_offsets. A group with members is
// NON_EMPTY_GROUP; an unknown one GROUP_ID_NOT_FOUND. Each group needs
// Delete (GROUP_AUTHORIZATION_FAILED, answered after the others).

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(42, 0, 2, serveDeleteGroups) }

func serveDeleteGroups(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.DeleteGroupsRequest)
	if rc.Handler().Authorizer() == nil {
		return rc.Respond(rc.Handler().Groups().DeleteGroups(req))
	}
	deletable := rc.FilterAuthorized(acl.OpDelete, acl.ResourceGroup, req.Groups, false)
	sub := *req
	sub.Groups = nil
	var refused []string
	for _, g := range req.Groups {
		if !deletable.Has(g) {
			if !slices.Contains(refused, g) {
				refused = append(refused, g)
			}
		} else if !slices.Contains(sub.Groups, g) {
			sub.Groups = append(sub.Groups, g)
		}
	}
	resp := kmsg.NewPtrDeleteGroupsResponse()
	if len(sub.Groups) > 0 {
		resp = rc.Handler().Groups().DeleteGroups(&sub)
	}
	for _, g := range refused {
		dg := kmsg.NewDeleteGroupsResponseGroup()
		dg.Group, dg.ErrorCode = g, kerr.GroupAuthorizationFailed.Code
		resp.Groups = append(resp.Groups, dg)
	}
	return rc.Respond(resp)
}
