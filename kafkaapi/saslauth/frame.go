package saslauth

import (
	"encoding/binary"
	"errors"
	"regexp"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/tags"
	"samsa/kafkaapi/reqcheck"
	"samsa/netpoll"
)

// The requests of the exchange, and their versions (KIP-152; part of the
// protocol: never change).
const (
	apiVersionsKey      = 18
	saslHandshakeKey    = 17
	saslAuthenticateKey = 36
)

// maxVersions are the versions decoded before authentication; the handlers
// serve the same (kafkaapi's api_17, api_18 and api_36).
var maxVersions = map[int16]int16{apiVersionsKey: 3, saslHandshakeKey: 1, saslAuthenticateKey: 2}

var (
	errHeader      = errors.New("malformed request header")
	errUnsupported = errors.New("unsupported request key or version")
	errBody        = errors.New("unparsable request body")
)

// request is one request frame of the exchange, decoded.
type request struct {
	key, version int16
	corr         int32
	req          kmsg.Request // nil: a key or version not served here
}

// decode reads a request header and, for a key and version served before
// authentication, the body, as kafkaapi decodes them: the header's tags
// bounded by internal/tags, a flexible body walked by reqcheck first, so
// no bytes make kmsg spin. It never panics.
func decode(frame []byte) (request, error) {
	var r request
	if len(frame) < 10 {
		return r, errHeader
	}
	r.key = int16(binary.BigEndian.Uint16(frame))
	r.version = int16(binary.BigEndian.Uint16(frame[2:]))
	r.corr = int32(binary.BigEndian.Uint32(frame[4:]))
	max, ok := maxVersions[r.key]
	if !ok || r.version < 0 || r.version > max {
		return r, errUnsupported
	}
	body := frame[10:]
	if n := int16(binary.BigEndian.Uint16(frame[8:])); n >= 0 {
		if int(n) > len(body) {
			return r, errHeader
		}
		body = body[n:]
	}
	req := kmsg.RequestForKey(r.key)
	req.SetVersion(r.version)
	if req.IsFlexible() {
		var err error
		if body, err = tags.Skip(body); err != nil {
			return r, errHeader
		}
	}
	if reqcheck.Check(r.key, r.version, body) != nil || req.ReadFrom(body) != nil {
		return r, errBody
	}
	r.req = req
	return r, nil
}

// respond encodes resp as the answer to r: the correlation id, the tag
// section of a flexible response header (not ApiVersions', always v0),
// the body at r's version.
func (r request) respond(resp kmsg.Response) *netpoll.Response {
	resp.SetVersion(r.version)
	buf := binary.BigEndian.AppendUint32(make([]byte, 0, 64), uint32(r.corr))
	if resp.IsFlexible() && r.key != apiVersionsKey {
		buf = append(buf, 0)
	}
	return netpoll.NewResponse(resp.AppendTo(buf))
}

// isAPIVersions reports whether a frame is an ApiVersions request, of any
// version: the handlers answer it, the unsupported versions too (KIP-511).
func isAPIVersions(frame []byte) bool {
	return len(frame) >= 2 && int16(binary.BigEndian.Uint16(frame)) == apiVersionsKey
}

// softwareNameRe is what Kafka accepts as a client's software name and
// version in ApiVersions v3 (KIP-511), as kafkaapi checks them.
var softwareNameRe = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$`)

// validAPIVersions reports whether an ApiVersions request is one the
// handlers answer without an error: a served version, a v3 that names its
// software properly.
func validAPIVersions(frame []byte) bool {
	r, err := decode(frame)
	if err != nil {
		return false
	}
	req := r.req.(*kmsg.ApiVersionsRequest)
	return r.version < 3 || softwareNameRe.MatchString(req.ClientSoftwareName) && softwareNameRe.MatchString(req.ClientSoftwareVersion)
}
