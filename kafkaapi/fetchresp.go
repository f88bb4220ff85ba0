package kafkaapi

import (
	"encoding/binary"

	"samsa/logfile"
	"samsa/netpoll"
	"samsa/replica"
	"samsa/zerocopy"
)

// fetchEncoder writes a Fetch response (v4-v12) by hand, so that each
// partition's records are a file region sent with sendfile rather than
// bytes copied through Go memory. Everything else is the schema kmsg
// encodes; tests decode the output with kmsg to keep the two in step.
type fetchEncoder struct {
	version  int16
	flexible bool
	resp     *netpoll.Response
	buf      []byte
}

func (e *fetchEncoder) i16(v int16) { e.buf = binary.BigEndian.AppendUint16(e.buf, uint16(v)) }
func (e *fetchEncoder) i32(v int32) { e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(v)) }
func (e *fetchEncoder) i64(v int64) { e.buf = binary.BigEndian.AppendUint64(e.buf, uint64(v)) }
func (e *fetchEncoder) uvarint(v uint64) {
	e.buf = binary.AppendUvarint(e.buf, v)
}

// arrayLen writes an array length; n < 0 is a null array.
func (e *fetchEncoder) arrayLen(n int) {
	if e.flexible {
		e.uvarint(uint64(n + 1))
	} else {
		e.i32(int32(n))
	}
}

func (e *fetchEncoder) str(s string) {
	if e.flexible {
		e.uvarint(uint64(len(s) + 1))
	} else {
		e.i16(int16(len(s)))
	}
	e.buf = append(e.buf, s...)
}

func (e *fetchEncoder) tags() {
	if e.flexible {
		e.buf = append(e.buf, 0)
	}
}

// records writes the records field: its length, then the region's bytes.
func (e *fetchEncoder) records(r *logfile.Region) {
	n := int64(0)
	if r != nil {
		n = r.Len
	}
	if e.flexible {
		e.uvarint(uint64(n + 1))
	} else {
		e.i32(int32(n))
	}
	if n > 0 {
		e.resp.AddBytes(e.buf)
		e.buf = make([]byte, 0, 128)
		reg := *r
		e.resp.AddRegion(zerocopy.Region{FD: reg.FD(), Off: reg.Pos, Len: reg.Len}, reg.Release)
	}
}

func (e *fetchEncoder) finish() *netpoll.Response {
	e.resp.AddBytes(e.buf)
	return e.resp
}

// encodeFetch builds the response: header, throttle, error, session, then
// per topic and partition the fixed fields and the records region. It
// counts the response's error codes.
func encodeFetch(rc *reqCtx, errCode int16, sessionID int32, topics []replica.FetchTopic) *netpoll.Response {
	e := &fetchEncoder{version: rc.version, flexible: rc.version >= 12, resp: netpoll.NewResponse(), buf: make([]byte, 0, 256)}
	e.buf = rc.appendHeader(e.buf)
	e.i32(0) // throttle_time_ms (v1+)
	if e.version >= 7 {
		e.i16(errCode)
		e.i32(sessionID)
	}
	var m *Metrics // nil (counting nothing) in tests without a Handler
	if rc.h != nil {
		m = rc.h.metrics
	}
	m.countError(fetchKey, errCode)
	e.arrayLen(len(topics))
	for _, t := range topics {
		e.str(t.Name)
		e.arrayLen(len(t.Parts))
		for i := range t.Parts {
			p := &t.Parts[i]
			e.i32(p.Partition)
			e.i16(p.ErrCode)
			m.countError(fetchKey, p.ErrCode)
			e.i64(p.HW)
			e.i64(p.LSO) // v4+
			if e.version >= 5 {
				e.i64(p.LogStart)
			}
			if p.AbortedNull {
				e.arrayLen(-1) // read_uncommitted
			} else {
				e.arrayLen(len(p.Aborted))
				for _, a := range p.Aborted {
					e.i64(a.ProducerID)
					e.i64(a.FirstOffset)
					e.tags()
				}
			}
			if e.version >= 11 {
				e.i32(-1) // preferred_read_replica
			}
			if p.Region.Len > 0 {
				e.records(&p.Region)
			} else {
				e.records(nil)
			}
			if e.flexible && p.Diverging.Epoch >= 0 {
				// One tagged field: diverging_epoch (tag 0), a struct of
				// epoch, end_offset and its own empty tag section.
				e.uvarint(1)
				e.uvarint(0)
				e.uvarint(4 + 8 + 1)
				e.i32(p.Diverging.Epoch)
				e.i64(p.Diverging.EndOffset)
				e.buf = append(e.buf, 0)
			} else {
				e.tags()
			}
		}
		e.tags()
	}
	e.tags()
	return e.finish()
}
