package kafkaapi

// ApiVersions (key 18), versions 0-3.
//
// Lists every API key this broker serves with its version range, nothing
// more (apis is the registry). KIP-511: a request at a version above 3 gets
// a v0 response with UNSUPPORTED_VERSION and the list, so that the client
// can retry with a version we speak; its body is not parsed. The response
// header is always v0, even for flexible versions (KIP-482). v3 checks the
// client software name and version as Kafka does (INVALID_REQUEST).

import (
	"regexp"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

const apiVersionsKey = 18

func init() { register(apiVersionsKey, 0, 3, serveAPIVersions) }

func apiVersionsList() []kmsg.ApiVersionsResponseApiKey {
	keys := make([]int16, 0, len(apis))
	for k := range apis {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]kmsg.ApiVersionsResponseApiKey, 0, len(keys))
	for _, k := range keys {
		v := kmsg.NewApiVersionsResponseApiKey()
		v.ApiKey, v.MinVersion, v.MaxVersion = k, apis[k].min, apis[k].max
		out = append(out, v)
	}
	return out
}

// softwareNameRe is what Kafka accepts as client software name and version
// (KIP-511); anything else is INVALID_REQUEST.
var softwareNameRe = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$`)

func serveAPIVersions(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.ApiVersionsRequest)
	resp := kmsg.NewPtrApiVersionsResponse()
	if rc.version >= 3 && (!softwareNameRe.MatchString(req.ClientSoftwareName) || !softwareNameRe.MatchString(req.ClientSoftwareVersion)) {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return rc.respond(resp)
	}
	resp.ApiKeys = apiVersionsList()
	return rc.respond(resp)
}

func unsupportedAPIVersions(rc *reqCtx) *netpoll.Response {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	resp.ApiKeys = apiVersionsList()
	rc.version = 0
	rc.flexibleResp = false
	return rc.respond(resp)
}
