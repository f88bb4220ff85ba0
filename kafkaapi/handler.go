package kafkaapi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/tags"
	"samsa/kafkaapi/reqcheck"
	"samsa/netpoll"
	"samsa/security/acl"
)

// reqCtx is one request being served.
type reqCtx struct {
	h        *Handler
	conn     *netpoll.Conn
	key      int16
	version  int16
	corr     int32
	clientID string
	// flexibleResp: the response header has tagged fields (header v1).
	flexibleResp bool
	// principal is who the connection authenticated as.
	principal acl.Principal
}

// apiHandler serves one API key over a range of versions.
type apiHandler struct {
	min, max int16
	serve    func(rc *reqCtx, req kmsg.Request) *netpoll.Response
	// unsafeDecode: the handler keeps no string or slice of the request
	// past its response, so the request may alias the frame buffer.
	unsafeDecode bool
}

// apis is filled by the api_NN_*.go files' init functions; ApiVersions
// advertises exactly what is here.
var apis = map[int16]apiHandler{}

func register(key int16, min, max int16, serve func(rc *reqCtx, req kmsg.Request) *netpoll.Response) {
	if _, dup := apis[key]; dup {
		panic(fmt.Sprintf("api %d registered twice", key))
	}
	apis[key] = apiHandler{min: min, max: max, serve: serve}
}

// registerHot registers a hot-path API whose request may alias the frame.
func registerHot(key int16, min, max int16, serve func(rc *reqCtx, req kmsg.Request) *netpoll.Response) {
	register(key, min, max, serve)
	h := apis[key]
	h.unsafeDecode = true
	apis[key] = h
}

var errMalformed = errors.New("kafkaapi: malformed request header")

// parseHeader reads a request header: api key, version, correlation id,
// client id (header v1+) and, for flexible versions, tagged fields (v2).
// It returns the body.
func parseHeader(req []byte, flexible func(key, version int16) bool) (rc reqCtx, body []byte, err error) {
	if len(req) < 10 {
		return rc, nil, errMalformed
	}
	rc.key = int16(binary.BigEndian.Uint16(req))
	rc.version = int16(binary.BigEndian.Uint16(req[2:]))
	rc.corr = int32(binary.BigEndian.Uint32(req[4:]))
	n := int16(binary.BigEndian.Uint16(req[8:]))
	body = req[10:]
	if n >= 0 {
		if int(n) > len(body) {
			return rc, nil, errMalformed
		}
		rc.clientID = string(body[:n])
		body = body[n:]
	}
	if flexible(rc.key, rc.version) {
		if body, err = tags.Skip(body); err != nil {
			return rc, nil, errMalformed
		}
	}
	return rc, body, nil
}

func flexibleVersion(key, version int16) bool {
	r := kmsg.RequestForKey(key)
	if r == nil {
		return false
	}
	r.SetVersion(version)
	return r.IsFlexible()
}

// decodeResult is what decodeRequest makes of a frame.
type decodeResult int

const (
	decoded            decodeResult = iota
	malformedHeader                 // close the connection
	unknownKey                      // close the connection
	unsupportedVersion              // close, except ApiVersions: KIP-511 answer
	unparsableBody                  // close the connection
)

// decodeRequest parses a request frame: header, then the body with kmsg at
// the header's version. It never panics, whatever the bytes (fuzzed).
//
// kmsg (v1.15.0, also at franz-go's HEAD) loops over a tagged-field count
// without stopping when the bytes run out: an 8-byte Metadata v12 body
// claiming 2^32-1 tags costs over two minutes of CPU. So a flexible body
// is first walked by reqcheck.Check, which refuses any tag section whose
// count cannot fit in the bytes left; the header's tags are bounded by
// tags.Skip.
func decodeRequest(frame []byte) (rc reqCtx, h apiHandler, req kmsg.Request, res decodeResult) {
	rc, body, err := parseHeader(frame, func(key, version int16) bool {
		h, ok := apis[key]
		if !ok || version < h.min || version > h.max {
			return false // not served: the header is not read further
		}
		return flexibleVersion(key, version)
	})
	if err != nil {
		return rc, h, nil, malformedHeader
	}
	h, ok := apis[rc.key]
	if !ok {
		return rc, h, nil, unknownKey
	}
	if rc.version < h.min || rc.version > h.max {
		return rc, h, nil, unsupportedVersion
	}
	if reqcheck.Check(rc.key, rc.version, body) != nil {
		return rc, h, nil, unparsableBody
	}
	req = kmsg.RequestForKey(rc.key)
	req.SetVersion(rc.version)
	if h.unsafeDecode {
		// Strings alias the frame, valid until the response is written.
		err = req.(kmsg.UnsafeReadFrom).UnsafeReadFrom(body)
	} else {
		err = req.ReadFrom(body)
	}
	if err != nil {
		return rc, h, nil, unparsableBody
	}
	rc.flexibleResp = req.IsFlexible() && rc.key != apiVersionsKey
	return rc, h, req, decoded
}

// Serve is the netpoll.Handler: one request frame in, one response out (nil
// for acks=0 produce). A frame that cannot be served closes the connection,
// as Kafka does for unparsable requests and unsupported versions other than
// ApiVersions'.
func (h *Handler) Serve(c *netpoll.Conn, frame []byte) *netpoll.Response {
	start := time.Now()
	rc, ah, req, res := decodeRequest(frame)
	rc.h, rc.conn = h, c
	rc.principal = h.principalOf(c)
	switch res {
	case decoded:
		resp := h.serveSafely(&rc, ah, req)
		h.metrics.observe(rc.key, time.Since(start))
		return resp
	case unsupportedVersion:
		if rc.key == apiVersionsKey {
			return unsupportedAPIVersions(&rc)
		}
	}
	h.log.Debug("closing connection: request not served", "reason", res.String(), "key", rc.key, "version", rc.version, "remote", c.RemoteAddr())
	h.metrics.unknownRequests.Inc()
	c.Close()
	return nil
}

func (r decodeResult) String() string {
	return [...]string{"decoded", "malformed header", "unknown api key", "unsupported version", "unparsable body"}[r]
}

func (h *Handler) serveSafely(rc *reqCtx, ah apiHandler, req kmsg.Request) (resp *netpoll.Response) {
	defer func() {
		if r := recover(); r != nil {
			h.log.Error("request handler panic; closing connection", "key", rc.key, "version", rc.version, "panic", r, "stack", string(debug.Stack()))
			h.metrics.panics.Inc()
			rc.conn.Close()
			resp = nil
		}
	}()
	return ah.serve(rc, req)
}

// respond encodes a kmsg response with its header, and counts its error
// codes.
func (rc *reqCtx) respond(resp kmsg.Response) *netpoll.Response {
	if rc.h != nil {
		rc.h.metrics.countErrors(rc.key, resp)
	}
	resp.SetVersion(rc.version)
	buf := make([]byte, 0, 256)
	buf = rc.appendHeader(buf)
	buf = resp.AppendTo(buf)
	return netpoll.NewResponse(buf)
}

// appendHeader appends the response header: correlation id and, for
// flexible responses (except ApiVersions', always v0), empty tagged fields.
func (rc *reqCtx) appendHeader(buf []byte) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(rc.corr))
	if rc.flexibleResp {
		buf = append(buf, 0)
	}
	return buf
}
func strptr(s string) *string { return &s }
