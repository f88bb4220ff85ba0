package fetcher

// The follower's fetch path measured whole: a fetcher's fetches through
// kclient over loopback TCP from a leader in the same process that answers
// every fetch at once with the same batches, their base offsets moved on,
// into a partition that checks them as a follower's log does.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/record"
)

// wireLeader is a leader on a loopback socket that serves one follower:
// ApiVersions (Fetch up to v12, as a Samsa broker), then each Fetch
// answered with the next of its answers (the last one again once they
// run out), the batches' base offsets stamped from next. Past the first
// request it allocates nothing, so a benchmark's allocations are the
// follower's.
type wireLeader struct {
	ln      net.Listener
	answers []wireAnswer
	next    int64 // the offset the next answer starts at
}

// wireAnswer is one encoded Fetch response frame (correlation id at 4)
// and where its batches are, with their record counts.
type wireAnswer struct {
	frame   []byte
	batches []int
	counts  []int64
}

// newWireLeader serves answers, each a set of whole batches for partition
// 0 of topic "t", until the test ends.
func newWireLeader(tb testing.TB, answers ...[][]byte) *wireLeader {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	l := &wireLeader{ln: ln}
	for _, batches := range answers {
		var all []byte
		var a wireAnswer
		for _, b := range batches {
			h, err := record.ParseHeader(b)
			if err != nil {
				tb.Fatal(err)
			}
			all = append(all, b...)
			a.counts = append(a.counts, int64(h.LastOffsetDelta)+1)
		}
		resp := kmsg.NewPtrFetchResponse()
		resp.SetVersion(12)
		resp.SessionID = 1
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic = "t"
		rp := kmsg.NewFetchResponseTopicPartition()
		rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = 1<<62, 1<<62, 0
		rp.RecordBatches = all
		rt.Partitions = append(rt.Partitions, rp)
		resp.Topics = append(resp.Topics, rt)
		a.frame = resp.AppendTo([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0}) // size, correlation id, no header tags
		binary.BigEndian.PutUint32(a.frame, uint32(len(a.frame)-4))
		at := bytes.LastIndex(a.frame, all)
		for _, b := range batches {
			a.batches = append(a.batches, at)
			at += len(b)
		}
		l.answers = append(l.answers, a)
	}
	go l.serve()
	return l
}

func (l *wireLeader) addr() string { return l.ln.Addr().String() }

func (l *wireLeader) serve() {
	c, err := l.ln.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	req, size := make([]byte, 64<<10), make([]byte, 4)
	av := kmsg.NewPtrApiVersionsResponse()
	av.SetVersion(3)
	for _, k := range []int16{1, 18} {
		v := kmsg.NewApiVersionsResponseApiKey()
		v.ApiKey, v.MaxVersion = k, 12
		if k == 18 {
			v.MaxVersion = 3
		}
		av.ApiKeys = append(av.ApiKeys, v)
	}
	for {
		if _, err := io.ReadFull(c, size); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(size))
		if n > len(req) {
			return
		}
		if _, err := io.ReadFull(c, req[:n]); err != nil {
			return
		}
		key, corr := binary.BigEndian.Uint16(req), req[4:8]
		var out []byte
		switch key {
		case 18: // once per connection
			out = av.AppendTo([]byte{0, 0, 0, 0, corr[0], corr[1], corr[2], corr[3]})
			binary.BigEndian.PutUint32(out, uint32(len(out)-4))
		case 1:
			a := &l.answers[0]
			if len(l.answers) > 1 {
				l.answers = l.answers[1:]
			}
			out = a.frame
			copy(out[4:8], corr)
			for i, at := range a.batches {
				record.SetBaseOffset(out[at:], l.next)
				l.next += a.counts[i]
			}
		default:
			return
		}
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// checkedPart is a followed partition whose log keeps only its end: an
// append checks the batches as a follower's log does (framing, CRC, order:
// record.ValidateBatches, with one Batches kept across appends) and moves
// the end past them.
type checkedPart struct {
	end int64
	bs  record.Batches
}

func (p *checkedPart) Name() (string, int32)                    { return "t", 0 }
func (p *checkedPart) Position() (end, start int64, last int32) { return p.end, 0, 1 }
func (p *checkedPart) Locked(fn func(Leadership, Log) error) error {
	return fn(Leadership{Leader: 1, LeaderEpoch: 1}, p)
}
func (p *checkedPart) StartOffset() int64                         { return 0 }
func (p *checkedPart) EndOffset() int64                           { return p.end }
func (p *checkedPart) EpochEndOffset(int32) (int32, int64)        { return -1, -1 }
func (p *checkedPart) TakeLeaderOffsets(hw, logStart int64) error { return nil }
func (p *checkedPart) TruncateTo(int64) error                     { return errors.New("no truncation") }
func (p *checkedPart) TruncateFullyAndStartAt(int64) error        { return errors.New("no truncation") }
func (p *checkedPart) Append(batches []byte) error {
	if err := record.ValidateBatches(&p.bs, batches); err != nil {
		return err
	}
	if h := p.bs.Header(0); h.BaseOffset != p.end {
		return errors.New("a gap")
	}
	p.end = p.bs.Header(p.bs.Count - 1).NextOffset()
	return nil
}

// leaderBatches is n batches of records 1 KiB records each made of fill,
// at leader epoch 1, and their size.
func leaderBatches(n, records int, fill byte) ([][]byte, int) {
	var batches [][]byte
	size := 0
	for range n {
		bb := record.NewBuilder(0)
		for range records {
			bb.Add(0, nil, bytes.Repeat([]byte{fill}, 1000))
		}
		bb.Header.LeaderEpoch = 1
		out, _ := bb.AppendTo(nil)
		batches = append(batches, out)
		size += len(out)
	}
	return batches, size
}

// BenchmarkFollowerFetch measures a follower's fetch in the steady state
// (the fetch session established): the request planned and sent, the
// answer read and decoded, each batch checked (CRC) and handed to the log,
// per fetch of 1 MiB (16 batches of 64 KiB, 1 KiB records) and of one
// 16 KiB batch. The log keeps nothing, so the figure is the fetch path's
// own: allocations per fetch and time per MiB fetched.
func BenchmarkFollowerFetch(b *testing.B) {
	for _, shape := range []struct {
		name             string
		batches, records int
	}{{"1MiB", 16, 64}, {"16KiB", 1, 16}} {
		b.Run(shape.name, func(b *testing.B) {
			batches, size := leaderBatches(shape.batches, shape.records, 'v')
			leader := newWireLeader(b, batches)
			m := New(2, Config{}, quiet)
			m.SetLeaderAddr(1, leader.addr())
			f := &fetcher{m: m, key: key{leader: 1}}
			defer func() {
				if f.conn != nil {
					f.conn.Close()
				}
			}()
			p := &checkedPart{}
			parts := map[Partition]int32{p: 1}
			ctx := context.Background()
			fetch := func() {
				before := p.end
				if err := f.fetchOnce(ctx, parts); err != nil {
					b.Fatal(err)
				}
				if p.end == before {
					b.Fatal("nothing appended")
				}
			}
			fetch() // the session's full fetch, and the connection
			fetch()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				fetch()
			}
			b.ReportMetric(float64(b.Elapsed())/float64(b.N)/(float64(size)/(1<<20)), "ns/MiB")
		})
	}
}
