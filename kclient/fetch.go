package kclient

// A follower's fetch: the one request a broker sends in a loop, thousands
// of times a second, whose answer carries the records it stores. Fetch
// reuses the Conn's frames and the caller's response from one fetch to the
// next, and decodes the answer in place (readFetchResponse), so that a
// follower in its steady state allocates nothing per fetch and its
// records are never copied after the socket read.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/tags"
)

// fetchVersion is the highest Fetch version Fetch sends: from v13 on,
// topics are named by ID, and followers name them (a Samsa broker serves
// Fetch up to v12). fetchMinVersion is the lowest it reads.
const (
	fetchVersion    = 12
	fetchMinVersion = 4
)

// Fetch sends req, a Fetch, at the highest version both sides know (at
// most 12) and decodes the answer into resp, reusing resp's slices and
// the Conn's frame buffers (grown as needed). The answer's record batches
// and topic names alias those buffers: they are valid until the Conn's
// next Fetch. The round trip ends timeout after it starts, or when ctx
// ends. Like Request, it closes the connection on any failure.
func (c *Conn) Fetch(ctx context.Context, req *kmsg.FetchRequest, resp *kmsg.FetchResponse, timeout time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c != nil && stale(c.c) {
		c.closeLocked()
	}
	if c.c == nil {
		if err := c.dial(ctx); err != nil {
			return err
		}
	}
	max, ok := c.versions[req.Key()]
	if !ok || max < fetchMinVersion {
		return fmt.Errorf("%w: Fetch v%d+ at %s", ErrUnsupported, fetchMinVersion, c.addr)
	}
	req.SetVersion(min(max, fetchVersion))
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	frame, err := c.exchange(ctx, req, deadline, true)
	if err == nil {
		body := frame[4:]
		if req.GetVersion() >= 12 { // a flexible response header
			body, err = tags.Skip(body)
		}
		if err == nil {
			resp.SetVersion(req.GetVersion())
			err = readFetchResponse(body, resp)
		}
	}
	if err != nil {
		c.closeLocked()
		return fmt.Errorf("kclient: Fetch to %s: %w", c.addr, err)
	}
	return nil
}

// errMalformed: a Fetch response that does not decode.
var errMalformed = errors.New("malformed Fetch response")

// Least encoded sizes, by which an array's count is checked against the
// bytes left before anything is sized by it.
const (
	minTopicSize     = 3  // flexible: name, partitions, tags
	minPartitionSize = 30 // v4: index, error, two offsets, aborted, records
	minAbortedSize   = 16 // producer id, first offset
)

// readFetchResponse decodes a Fetch response body of resp's version (4 to
// 12) into resp, as kmsg's ReadFrom would but for unknown tags, which it
// skips, and for what it reuses: resp's slices (their capacity), a topic
// name equal to the one already in its place, and the body itself, which
// the record batches alias. Malformed bytes are an error, never a panic,
// and no count is trusted past what the bytes left can hold.
func readFetchResponse(body []byte, resp *kmsg.FetchResponse) error {
	v := resp.GetVersion()
	if v < fetchMinVersion || v > fetchVersion {
		return fmt.Errorf("Fetch v%d: %w", v, ErrUnsupported)
	}
	r := fetchReader{b: body, flexible: v >= 12}
	resp.ThrottleMillis = r.int32()
	resp.ErrorCode, resp.SessionID = 0, 0
	if v >= 7 {
		resp.ErrorCode = r.int16()
		resp.SessionID = r.int32()
	}
	topics := grow(resp.Topics, max(r.count(minTopicSize), 0)) // null reads as none
	for i := range topics {
		t := &topics[i]
		if name := r.str(); string(name) != t.Topic { // compared without allocating
			t.Topic = string(name)
		}
		t.TopicID, t.UnknownTags = [16]byte{}, kmsg.Tags{}
		parts := grow(t.Partitions, max(r.count(minPartitionSize), 0))
		for j := range parts {
			r.partition(&parts[j], v)
		}
		t.Partitions = parts
		r.skipTags()
	}
	resp.Topics = topics
	r.skipTags()
	return r.err
}

// grow returns s resized to n elements, reusing its array when it is large
// enough; the elements keep what they held (the caller overwrites them).
func grow[T any](s []T, n int) []T {
	if n <= cap(s) {
		return s[:n]
	}
	return make([]T, n)
}

// partition decodes one partition of a Fetch response of version v.
func (r *fetchReader) partition(p *kmsg.FetchResponseTopicPartition, v int16) {
	aborted := p.AbortedTransactions
	*p = kmsg.NewFetchResponseTopicPartition()
	p.Partition = r.int32()
	p.ErrorCode = r.int16()
	p.HighWatermark = r.int64()
	p.LastStableOffset = r.int64()
	if v >= 5 {
		p.LogStartOffset = r.int64()
	}
	switch n := r.count(minAbortedSize); {
	case n < 0:
		p.AbortedTransactions = nil
	case n == 0:
		p.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{} // empty, not null, as kmsg reads it
	default:
		aborted = grow(aborted, n)
		for i := range aborted {
			a := &aborted[i]
			a.ProducerID, a.FirstOffset, a.UnknownTags = r.int64(), r.int64(), kmsg.Tags{}
			r.skipTags()
		}
		p.AbortedTransactions = aborted
	}
	if v >= 11 {
		p.PreferredReadReplica = r.int32()
	}
	p.RecordBatches = r.nullableBytes()
	if !r.flexible {
		return
	}
	count := r.uvarint()
	for ; count > 0 && r.err == nil; count-- {
		key := r.uvarint()
		t := fetchReader{b: r.span(int(r.uvarint())), flexible: true}
		switch key {
		case 0:
			p.DivergingEpoch.Epoch, p.DivergingEpoch.EndOffset = t.int32(), t.int64()
		case 1:
			p.CurrentLeader.LeaderID, p.CurrentLeader.LeaderEpoch = t.int32(), t.int32()
		case 2:
			p.SnapshotID.EndOffset, p.SnapshotID.Epoch = t.int64(), t.int32()
		default:
			continue
		}
		t.skipTags()
		if t.err != nil {
			r.fail()
		}
	}
}

// fetchReader reads a Fetch response with a sticky error: after the first
// malformed field, every read returns zero and the error stays.
type fetchReader struct {
	b        []byte
	flexible bool
	err      error
}

func (r *fetchReader) fail() {
	if r.err == nil {
		r.err = errMalformed
	}
	r.b = nil
}

func (r *fetchReader) span(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.fail()
		return nil
	}
	s := r.b[:n:n]
	r.b = r.b[n:]
	return s
}

func (r *fetchReader) int16() int16 {
	if s := r.span(2); s != nil {
		return int16(binary.BigEndian.Uint16(s))
	}
	return 0
}

func (r *fetchReader) int32() int32 {
	if s := r.span(4); s != nil {
		return int32(binary.BigEndian.Uint32(s))
	}
	return 0
}

func (r *fetchReader) int64() int64 {
	if s := r.span(8); s != nil {
		return int64(binary.BigEndian.Uint64(s))
	}
	return 0
}

func (r *fetchReader) uvarint() uint32 {
	v, n := tags.Uvarint(r.b)
	if n == 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// length reads an array's or a byte string's length: -1 is null.
func (r *fetchReader) length() int {
	if r.flexible {
		return int(r.uvarint()) - 1
	}
	return int(r.int32())
}

// count reads an array's length and refuses one whose elements, at least
// least bytes each, the bytes left cannot hold: -1 is null.
func (r *fetchReader) count(least int) int {
	n := r.length()
	if n > len(r.b)/least {
		r.fail()
		return 0
	}
	return max(n, -1)
}

// str reads a string (not null) as the bytes it is made of.
func (r *fetchReader) str() []byte {
	var n int
	if r.flexible {
		n = int(r.uvarint()) - 1
	} else {
		n = int(r.int16())
	}
	if n < 0 {
		r.fail()
		return nil
	}
	return r.span(n)
}

// nullableBytes reads a nullable byte string: nil when null.
func (r *fetchReader) nullableBytes() []byte {
	n := r.length()
	if n < 0 {
		return nil
	}
	return r.span(n)
}

func (r *fetchReader) skipTags() {
	if !r.flexible || r.err != nil {
		return
	}
	rest, err := tags.Skip(r.b)
	if err != nil {
		r.fail()
		return
	}
	r.b = rest
}

// appendFetchRequest appends req's body at its version (4 to 12) as kmsg's
// AppendTo would, for a request of what a follower sets (no cluster id,
// replica state, replica directory, high watermark or unknown tags:
// plainFetchRequest), without kmsg's allocations for the tags it checks.
func appendFetchRequest(dst []byte, req *kmsg.FetchRequest) []byte {
	v := req.GetVersion()
	w := fetchWriter{dst: dst, flexible: v >= 12}
	w.int32(req.ReplicaID)
	w.int32(req.MaxWaitMillis)
	w.int32(req.MinBytes)
	w.int32(req.MaxBytes)
	w.dst = append(w.dst, byte(req.IsolationLevel))
	if v >= 7 {
		w.int32(req.SessionID)
		w.int32(req.SessionEpoch)
	}
	w.arrayLen(len(req.Topics))
	for i := range req.Topics {
		t := &req.Topics[i]
		w.str(t.Topic)
		w.arrayLen(len(t.Partitions))
		for j := range t.Partitions {
			p := &t.Partitions[j]
			w.int32(p.Partition)
			if v >= 9 {
				w.int32(p.CurrentLeaderEpoch)
			}
			w.int64(p.FetchOffset)
			if v >= 12 {
				w.int32(p.LastFetchedEpoch)
			}
			if v >= 5 {
				w.int64(p.LogStartOffset)
			}
			w.int32(p.PartitionMaxBytes)
			w.noTags()
		}
		w.noTags()
	}
	if v >= 7 {
		w.arrayLen(len(req.ForgottenTopics))
		for i := range req.ForgottenTopics {
			t := &req.ForgottenTopics[i]
			w.str(t.Topic)
			w.arrayLen(len(t.Partitions))
			for _, p := range t.Partitions {
				w.int32(p)
			}
			w.noTags()
		}
	}
	if v >= 11 {
		w.str(req.Rack)
	}
	w.noTags()
	return w.dst
}

// plainFetchRequest reports whether appendFetchRequest encodes req as kmsg
// would: a version it writes, and none of the fields it leaves out set.
func plainFetchRequest(req *kmsg.FetchRequest) bool {
	v := req.GetVersion()
	if v < fetchMinVersion || v > fetchVersion || req.ClusterID != nil || req.UnknownTags.Len() != 0 ||
		req.ReplicaState.ID != -1 || req.ReplicaState.Epoch != -1 || req.ReplicaState.UnknownTags.Len() != 0 {
		return false
	}
	for i := range req.Topics {
		t := &req.Topics[i]
		if t.UnknownTags.Len() != 0 {
			return false
		}
		for j := range t.Partitions {
			p := &t.Partitions[j]
			if p.ReplicaDirectoryID != [16]byte{} || p.HighWatermark != 1<<63-1 || p.UnknownTags.Len() != 0 {
				return false
			}
		}
	}
	for i := range req.ForgottenTopics {
		if req.ForgottenTopics[i].UnknownTags.Len() != 0 {
			return false
		}
	}
	return true
}

// fetchWriter appends a Fetch request's fields in its version's encoding.
type fetchWriter struct {
	dst      []byte
	flexible bool
}

func (w *fetchWriter) int32(v int32) { w.dst = binary.BigEndian.AppendUint32(w.dst, uint32(v)) }
func (w *fetchWriter) int64(v int64) { w.dst = binary.BigEndian.AppendUint64(w.dst, uint64(v)) }

func (w *fetchWriter) arrayLen(n int) {
	if w.flexible {
		w.dst = binary.AppendUvarint(w.dst, uint64(n)+1)
	} else {
		w.int32(int32(n))
	}
}

func (w *fetchWriter) str(s string) {
	if w.flexible {
		w.dst = binary.AppendUvarint(w.dst, uint64(len(s))+1)
	} else {
		w.dst = binary.BigEndian.AppendUint16(w.dst, uint16(len(s)))
	}
	w.dst = append(w.dst, s...)
}

func (w *fetchWriter) noTags() {
	if w.flexible {
		w.dst = append(w.dst, 0)
	}
}
