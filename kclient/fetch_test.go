package kclient

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// randomFetchResponse is a Fetch response of version v with random
// topics, partitions, aborted transactions, records (up to maxRecords
// bytes) and (v12) tagged fields, as a leader could send it.
func randomFetchResponse(rng *rand.Rand, v int16, maxRecords int) *kmsg.FetchResponse {
	resp := kmsg.NewPtrFetchResponse()
	resp.SetVersion(v)
	resp.ThrottleMillis = rng.Int32()
	if v >= 7 {
		resp.ErrorCode, resp.SessionID = int16(rng.IntN(100)), rng.Int32()
	}
	for t := range rng.IntN(4) {
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic = fmt.Sprintf("topic-%d-%d", t, rng.IntN(3))
		for p := range rng.IntN(5) {
			rp := kmsg.NewFetchResponseTopicPartition()
			rp.Partition, rp.ErrorCode = int32(p), int16(rng.IntN(3))
			rp.HighWatermark, rp.LastStableOffset = rng.Int64(), rng.Int64()
			if v >= 5 {
				rp.LogStartOffset = rng.Int64()
			}
			switch rng.IntN(3) {
			case 0:
				rp.AbortedTransactions = nil
			case 1:
				rp.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
			default:
				for range 1 + rng.IntN(3) {
					a := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
					a.ProducerID, a.FirstOffset = rng.Int64(), rng.Int64()
					rp.AbortedTransactions = append(rp.AbortedTransactions, a)
				}
			}
			if v >= 11 {
				rp.PreferredReadReplica = rng.Int32()
			}
			if rng.IntN(4) > 0 {
				rp.RecordBatches = make([]byte, rng.IntN(maxRecords))
				for i := range rp.RecordBatches {
					rp.RecordBatches[i] = byte(rng.IntN(256))
				}
			}
			if v >= 12 {
				if rng.IntN(2) == 0 {
					rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset = rng.Int32(), rng.Int64()
				}
				if rng.IntN(2) == 0 {
					rp.CurrentLeader.LeaderID, rp.CurrentLeader.LeaderEpoch = rng.Int32(), rng.Int32()
				}
				if rng.IntN(3) == 0 {
					rp.SnapshotID.EndOffset, rp.SnapshotID.Epoch = rng.Int64(), rng.Int32()
				}
				if rng.IntN(4) == 0 {
					rp.UnknownTags.Set(9, []byte("unknown"))
				}
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// sameFetchResponse compares what readFetchResponse decoded with what
// kmsg decoded from the same bytes: every field but the unknown tags
// (skipped), a null and an empty list of topics or partitions alike.
func sameFetchResponse(got, want *kmsg.FetchResponse) error {
	norm := func(r *kmsg.FetchResponse) kmsg.FetchResponse {
		n := *r
		n.UnknownTags = kmsg.Tags{}
		n.Topics = nil
		for _, t := range r.Topics {
			t.UnknownTags = kmsg.Tags{}
			ps := t.Partitions
			t.Partitions = nil
			for _, p := range ps {
				p.UnknownTags = kmsg.Tags{}
				p.DivergingEpoch.UnknownTags, p.CurrentLeader.UnknownTags, p.SnapshotID.UnknownTags = kmsg.Tags{}, kmsg.Tags{}, kmsg.Tags{}
				var aborted []kmsg.FetchResponseTopicPartitionAbortedTransaction
				for _, a := range p.AbortedTransactions {
					a.UnknownTags = kmsg.Tags{}
					aborted = append(aborted, a)
				}
				if p.AbortedTransactions != nil && aborted == nil {
					aborted = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
				}
				p.AbortedTransactions = aborted
				t.Partitions = append(t.Partitions, p)
			}
			n.Topics = append(n.Topics, t)
		}
		return n
	}
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		return fmt.Errorf("decoded\n %+v\nkmsg decoded\n %+v", g, w)
	}
	return nil
}

// TestReadFetchResponse: responses of every version Fetch reads (4-12),
// of random shapes, decode as kmsg decodes them, into one response reused
// from each to the next whatever their shapes; the record batches alias
// the bytes read.
func TestReadFetchResponse(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 1))
	into := kmsg.NewPtrFetchResponse()
	for i := range 3000 {
		v := int16(fetchMinVersion + i%(fetchVersion-fetchMinVersion+1))
		sent := randomFetchResponse(rng, v, 300)
		body := sent.AppendTo(nil)
		want := kmsg.NewPtrFetchResponse()
		want.SetVersion(v)
		if err := want.ReadFrom(body); err != nil {
			t.Fatalf("kmsg: %v", err)
		}
		into.SetVersion(v)
		if err := readFetchResponse(body, into); err != nil {
			t.Fatalf("response %d (v%d): %v", i, v, err)
		}
		if err := sameFetchResponse(into, want); err != nil {
			t.Fatalf("response %d (v%d): %v", i, v, err)
		}
		for _, rt := range into.Topics {
			for _, rp := range rt.Partitions {
				if len(rp.RecordBatches) > 0 && !aliases(rp.RecordBatches, body) {
					t.Fatalf("response %d: record batches copied out of the frame", i)
				}
			}
		}
	}
}

// aliases reports whether b lies within buf.
func aliases(b, buf []byte) bool {
	for i := range len(buf) - len(b) + 1 {
		if &buf[i] == &b[0] {
			return true
		}
	}
	return false
}

// TestReadFetchResponseMalformed: every cut of a response and a count that
// claims more than the bytes hold are errors, never panics nor large
// allocations.
func TestReadFetchResponseMalformed(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 2))
	for _, v := range []int16{4, 11, 12} {
		var sent *kmsg.FetchResponse
		for sent == nil || len(sent.Topics) == 0 || len(sent.Topics[0].Partitions) == 0 {
			sent = randomFetchResponse(rng, v, 300)
		}
		body := sent.AppendTo(nil)
		for n := range len(body) {
			r := kmsg.NewPtrFetchResponse()
			r.SetVersion(v)
			if err := readFetchResponse(body[:n], r); err == nil {
				t.Fatalf("v%d cut at %d of %d bytes: accepted", v, n, len(body))
			}
		}
		huge := bytes.Clone(body)
		at := 4 + 2 + 4 // throttle, error, session: the topics' count
		if v < 7 {
			at = 4
		}
		if v >= 12 {
			huge[at] = 0xff // uvarint continues: a count far past the bytes
			huge = append(huge[:at+1], append([]byte{0xff, 0xff, 0x7f}, huge[at+1:]...)...)
		} else {
			binary.BigEndian.PutUint32(huge[at:], 1<<30)
		}
		r := kmsg.NewPtrFetchResponse()
		r.SetVersion(v)
		if err := readFetchResponse(huge, r); !errors.Is(err, errMalformed) {
			t.Fatalf("v%d with 2^30 topics claimed: %v", v, err)
		}
	}
}

// FuzzReadFetchResponse feeds arbitrary bytes to the Fetch response
// reader as a body of each version it reads. Invariants: never panics;
// every body kmsg decodes, it decodes too, to the same response (it skips
// the tags it does not use, where kmsg decodes or keeps them, so it may
// accept a body whose unused tags kmsg refuses).
func FuzzReadFetchResponse(f *testing.F) {
	rng := rand.New(rand.NewPCG(18, 3))
	for v := int16(fetchMinVersion); v <= fetchVersion; v++ {
		f.Add(byte(v), randomFetchResponse(rng, v, 8).AppendTo(nil)) // small: the fuzzer minimizes what it finds
	}
	f.Fuzz(func(t *testing.T, vb byte, body []byte) {
		v := int16(fetchMinVersion + int(vb)%(fetchVersion-fetchMinVersion+1))
		got := kmsg.NewPtrFetchResponse()
		got.SetVersion(v)
		err := readFetchResponse(body, got)
		want := kmsg.NewPtrFetchResponse()
		want.SetVersion(v)
		if want.ReadFrom(body) != nil {
			return
		}
		if err != nil {
			t.Fatalf("refused what kmsg decodes: %v", err)
		}
		if err := sameFetchResponse(got, want); err != nil {
			t.Fatal(err)
		}
	})
}

// fetchPeer is a broker on a loopback socket that answers ApiVersions
// (Fetch up to v12) and each Fetch with the next of answers (as a v12
// response), or, past them, never. Past the first request of a connection
// it allocates nothing, so a test's allocations are the client's.
type fetchPeer struct {
	ln       net.Listener
	received chan int16 // each Fetch's version as it arrives

	mu      sync.Mutex
	answers [][]byte // whole frames: size, correlation id (set when sent), no header tags, body
}

func newFetchPeer(t *testing.T, answers ...*kmsg.FetchResponse) *fetchPeer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &fetchPeer{ln: ln, received: make(chan int16, 100)}
	for _, a := range answers {
		frame := a.AppendTo([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0})
		binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
		p.answers = append(p.answers, frame)
	}
	go p.serve()
	return p
}

func (p *fetchPeer) serve() {
	for {
		nc, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.conn(nc)
	}
}

func (p *fetchPeer) conn(nc net.Conn) {
	defer nc.Close()
	req, size := make([]byte, 4096), make([]byte, 4)
	for {
		if _, err := io.ReadFull(nc, size); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(size))
		if n > len(req) {
			return
		}
		if _, err := io.ReadFull(nc, req[:n]); err != nil {
			return
		}
		key, version := binary.BigEndian.Uint16(req), int16(binary.BigEndian.Uint16(req[2:]))
		var out []byte
		switch key {
		case 18:
			av := kmsg.NewPtrApiVersionsResponse()
			av.SetVersion(3)
			k := kmsg.NewApiVersionsResponseApiKey()
			k.ApiKey, k.MinVersion, k.MaxVersion = 1, 4, 12
			av.ApiKeys = append(av.ApiKeys, k)
			out = av.AppendTo([]byte{0, 0, 0, 0, 0, 0, 0, 0})
			binary.BigEndian.PutUint32(out, uint32(len(out)-4))
		case 1:
			p.received <- version
			p.mu.Lock()
			if len(p.answers) == 0 {
				p.mu.Unlock()
				continue // never answered
			}
			out, p.answers = p.answers[0], p.answers[1:]
			p.mu.Unlock()
		default:
			return
		}
		copy(out[4:8], req[4:8]) // the correlation id
		if _, err := nc.Write(out); err != nil {
			return
		}
	}
}

// recordsAnswer is a v12 Fetch answer of one partition with n bytes of
// records made of fill.
func recordsAnswer(n int, fill byte) *kmsg.FetchResponse {
	resp := kmsg.NewPtrFetchResponse()
	resp.SetVersion(12)
	rt := kmsg.NewFetchResponseTopic()
	rt.Topic = "t"
	rp := kmsg.NewFetchResponseTopicPartition()
	rp.RecordBatches = bytes.Repeat([]byte{fill}, n)
	rt.Partitions = append(rt.Partitions, rp)
	resp.Topics = append(resp.Topics, rt)
	return resp
}

// TestFetchReusesBuffers: fetches of growing and shrinking answers through
// one Conn into one response read right, at v12 even though kmsg knows
// later versions; the answer's frame is read into the same buffer while it
// fits and into a larger one, kept, when not; and a fetch that fits
// allocates nothing.
func TestFetchReusesBuffers(t *testing.T) {
	sizes := []int{1000, 500, 4000, 4000, 100}
	var answers []*kmsg.FetchResponse
	for i, n := range sizes {
		answers = append(answers, recordsAnswer(n, byte('a'+i)))
	}
	const again = 50 // fetches of the last answer's size, counted for allocations
	for range again + 1 {
		answers = append(answers, recordsAnswer(100, 'z'))
	}
	peer := newFetchPeer(t, answers...)
	c := New(peer.ln.Addr().String(), "test")
	defer c.Close()
	ctx := context.Background()
	req := kmsg.NewPtrFetchRequest()
	resp := kmsg.NewPtrFetchResponse()
	reused := []bool{false, true, false, true, true} // while the answer fits
	var frames [][]byte
	for i, n := range sizes {
		if err := c.Fetch(ctx, req, resp, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if v := <-peer.received; v != 12 {
			t.Fatalf("fetch sent at v%d, want 12", v)
		}
		got := resp.Topics[0].Partitions[0].RecordBatches
		if !bytes.Equal(got, bytes.Repeat([]byte{byte('a' + i)}, n)) {
			t.Fatalf("fetch %d: %d bytes of records, want %d of %q", i, len(got), n, rune('a'+i))
		}
		frames = append(frames, c.in)
	}
	for i := 1; i < len(frames); i++ {
		if same := &frames[i][:1][0] == &frames[i-1][:1][0]; same != reused[i] {
			t.Errorf("fetch %d of %d bytes after %v: frame buffer reused %v, want %v", i, sizes[i], sizes[:i], same, reused[i])
		}
	}
	if err := c.Fetch(ctx, req, resp, 5*time.Second); err != nil { // the sizes' last
		t.Fatal(err)
	}
	<-peer.received
	if a := testing.AllocsPerRun(again-1, func() {
		if err := c.Fetch(ctx, req, resp, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		<-peer.received
	}); a != 0 {
		t.Errorf("%v allocations per fetch in the steady state", a)
	}
}

// TestFetchEnds: a fetch the peer never answers ends at its timeout, and
// at once when its context ends, also a context passed to earlier fetches
// (armed once); the connection is closed and the next fetch dials again.
func TestFetchEnds(t *testing.T) {
	peer := newFetchPeer(t, recordsAnswer(10, 'a'), recordsAnswer(10, 'b'))
	c := New(peer.ln.Addr().String(), "test")
	defer c.Close()
	req, resp := kmsg.NewPtrFetchRequest(), kmsg.NewPtrFetchResponse()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range 2 {
		if err := c.Fetch(ctx, req, resp, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		<-peer.received
	}
	done := make(chan error, 1)
	go func() { done <- c.Fetch(ctx, req, resp, time.Hour) }()
	<-peer.received // sent, never to be answered
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("fetch whose context was cancelled: %v", err)
	}
	start := time.Now()
	if err := c.Fetch(context.Background(), req, resp, 20*time.Millisecond); err == nil {
		t.Fatal("a fetch the peer never answers succeeded")
	}
	<-peer.received
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("a fetch with a 20ms timeout took %v", took)
	}
}

// TestAppendFetchRequest: the requests a follower sends, of random shapes
// and every version Fetch sends, encode byte for byte as kmsg encodes
// them; one with a field the encoder leaves out is not plain (kmsg's
// AppendTo encodes it).
func TestAppendFetchRequest(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 4))
	for i := range 2000 {
		req := kmsg.NewPtrFetchRequest()
		req.SetVersion(int16(fetchMinVersion + i%(fetchVersion-fetchMinVersion+1)))
		req.ReplicaID, req.MaxWaitMillis, req.MinBytes, req.MaxBytes = rng.Int32(), rng.Int32(), rng.Int32(), rng.Int32()
		req.IsolationLevel = int8(rng.IntN(2))
		req.SessionID, req.SessionEpoch = rng.Int32(), rng.Int32()
		for tn := range rng.IntN(3) {
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic = fmt.Sprintf("topic-%d", tn)
			for pn := range rng.IntN(4) {
				rp := kmsg.NewFetchRequestTopicPartition()
				rp.Partition, rp.CurrentLeaderEpoch, rp.FetchOffset = int32(pn), rng.Int32(), rng.Int64()
				rp.LastFetchedEpoch, rp.LogStartOffset, rp.PartitionMaxBytes = rng.Int32(), rng.Int64(), rng.Int32()
				rt.Partitions = append(rt.Partitions, rp)
			}
			req.Topics = append(req.Topics, rt)
		}
		for tn := range rng.IntN(3) {
			ft := kmsg.NewFetchRequestForgottenTopic()
			ft.Topic = fmt.Sprintf("gone-%d", tn)
			for range rng.IntN(3) {
				ft.Partitions = append(ft.Partitions, rng.Int32())
			}
			req.ForgottenTopics = append(req.ForgottenTopics, ft)
		}
		if rng.IntN(2) == 0 {
			req.Rack = "rack-a"
		}
		if !plainFetchRequest(req) {
			t.Fatalf("request %d: not plain", i)
		}
		if got, want := appendFetchRequest([]byte("x"), req), req.AppendTo([]byte("x")); !bytes.Equal(got, want) {
			t.Fatalf("request %d (v%d):\n got % x\nwant % x", i, req.GetVersion(), got, want)
		}
	}
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(12)
	id := "cluster"
	req.ClusterID = &id
	if plainFetchRequest(req) {
		t.Fatal("a request with a cluster id is plain")
	}
}
