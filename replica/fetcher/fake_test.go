package fetcher

// Fakes for the fetcher's tests, after Kafka's AbstractFetcherThreadTest:
// logs are in memory, one leader epoch per record, and a record batch on
// the wire is one byte per record (its epoch), since the fetchers never
// look inside batches. The leader answers as a Samsa leader does: records
// from the fetch offset, a diverging epoch when the follower's last
// fetched epoch ends earlier on the leader (KIP-595), OFFSET_OUT_OF_RANGE
// outside its log, and a long poll while it has nothing to send.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// memLog is a log in memory: the leader epoch of each record from start on.
type memLog struct {
	start  int64
	epochs []int32
	hw     int64
}

func (l *memLog) end() int64 { return l.start + int64(len(l.epochs)) }

// endOf is the largest epoch of the log not above epoch and where it ends
// (where the next epoch starts, or the log end), or -1, -1.
func (l *memLog) endOf(epoch int32) (int32, int64) {
	found, end := int32(-1), int64(-1)
	for i, e := range l.epochs {
		switch {
		case e <= epoch:
			found, end = e, l.start+int64(i)+1
		case found >= 0:
			return found, end
		}
	}
	return found, end
}

func (l *memLog) clone() memLog {
	return memLog{start: l.start, epochs: slices.Clone(l.epochs), hw: l.hw}
}

// part is a fake partition a fetcher feeds.
type part struct {
	topic string
	index int32

	mu        sync.Mutex
	st        Leadership
	log       memLog
	appendErr error    // Append fails with it
	calls     []string // the fetcher's changes, in order
}

func newPart(topic string, index int32, st Leadership, log memLog) *part {
	return &part{topic: topic, index: index, st: st, log: log}
}

func (p *part) Name() (string, int32) { return p.topic, p.index }

func (p *part) Position() (end, start int64, lastEpoch int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	last := int32(-1)
	if n := len(p.log.epochs); n > 0 {
		last = p.log.epochs[n-1]
	}
	return p.log.end(), p.log.start, last
}

func (p *part) Locked(fn func(Leadership, Log) error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fn(p.st, partLog{p})
}

func (p *part) setState(st Leadership) {
	p.mu.Lock()
	p.st = st
	p.mu.Unlock()
}

// snapshot returns the log and the changes made so far.
func (p *part) snapshot() (memLog, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.clone(), slices.Clone(p.calls)
}

// partLog is a part's log under Locked (p.mu held).
type partLog struct{ p *part }

func (l partLog) StartOffset() int64 { return l.p.log.start }
func (l partLog) EndOffset() int64   { return l.p.log.end() }

func (l partLog) EpochEndOffset(epoch int32) (int32, int64) { return l.p.log.endOf(epoch) }

func (l partLog) Append(batches []byte) error {
	if l.p.appendErr != nil {
		return l.p.appendErr
	}
	for _, b := range batches {
		l.p.log.epochs = append(l.p.log.epochs, int32(b))
	}
	l.p.calls = append(l.p.calls, fmt.Sprintf("append %d", len(batches)))
	return nil
}

func (l partLog) TakeLeaderOffsets(hw, logStart int64) error {
	log := &l.p.log
	log.hw = min(hw, log.end())
	if logStart > log.start && logStart <= log.hw {
		log.epochs = log.epochs[logStart-log.start:]
		log.start = logStart
	}
	return nil
}

func (l partLog) TruncateTo(offset int64) error {
	log := &l.p.log
	if offset < log.end() {
		log.epochs = log.epochs[:max(0, offset-log.start)]
	}
	log.hw = min(log.hw, log.end())
	l.p.calls = append(l.p.calls, fmt.Sprintf("truncate %d", offset))
	return nil
}

func (l partLog) TruncateFullyAndStartAt(offset int64) error {
	l.p.log = memLog{start: offset, hw: offset}
	l.p.calls = append(l.p.calls, fmt.Sprintf("start at %d", offset))
	return nil
}

// leader is a fake leader broker and every connection to it.
type leader struct {
	mu      sync.Mutex
	logs    map[tp]*memLog
	errs    map[tp]int16 // a partition's answer, instead of its records
	topErr  []int16      // the next answers' top-level errors
	down    bool         // requests fail
	reqs    []request
	conns   int // connections opened
	closed  int // connections closed
	changed chan struct{}
}

// request is a fetch sent to the leader: when, on which connection (its
// number and address), by which client, and whether it failed (the leader
// was down).
type request struct {
	*kmsg.FetchRequest
	at       time.Time
	conn     int
	addr     string
	clientID string
	failed   bool
}

var errDown = errors.New("leader unreachable")

// maxFetches is more fetches than any test makes.
const maxFetches = 100

func newLeader() *leader {
	return &leader{logs: map[tp]*memLog{}, errs: map[tp]int16{}, changed: make(chan struct{})}
}

// set replaces a partition's log (and wakes parked fetches).
func (l *leader) set(topic string, index int32, log memLog) {
	l.mu.Lock()
	l.logs[tp{topic, index}] = &log
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

func (l *leader) setErr(topic string, index int32, code int16) {
	l.mu.Lock()
	l.errs[tp{topic, index}] = code
	l.mu.Unlock()
}

func (l *leader) setDown(down bool) {
	l.mu.Lock()
	l.down = down
	l.mu.Unlock()
}

// requests returns the fetches received so far.
func (l *leader) requests() []request {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.reqs)
}

func (l *leader) connCounts() (opened, closed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns, l.closed
}

// connect is a Config.Connect to this leader.
func (l *leader) connect(addr, clientID string) Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.conns++
	return &conn{l: l, n: l.conns, addr: addr, clientID: clientID}
}

type conn struct {
	l        *leader
	n        int
	addr     string
	clientID string
}

func (c *conn) Addr() string { return c.addr }

func (c *conn) Close() error {
	c.l.mu.Lock()
	c.l.closed++
	c.l.mu.Unlock()
	return nil
}

// Fetch records a copy of the request (the fetcher reuses its request
// from one fetch to the next) and answers as request does.
func (c *conn) Fetch(ctx context.Context, req *kmsg.FetchRequest, into *kmsg.FetchResponse, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := c.request(ctx, cloneFetchRequest(req))
	if err != nil {
		return err
	}
	*into = *resp
	return nil
}

// cloneFetchRequest is a deep copy of a fetch request.
func cloneFetchRequest(req *kmsg.FetchRequest) *kmsg.FetchRequest {
	c := *req
	c.Topics = slices.Clone(req.Topics)
	for i := range c.Topics {
		c.Topics[i].Partitions = slices.Clone(c.Topics[i].Partitions)
	}
	c.ForgottenTopics = slices.Clone(req.ForgottenTopics)
	for i := range c.ForgottenTopics {
		c.ForgottenTopics[i].Partitions = slices.Clone(c.ForgottenTopics[i].Partitions)
	}
	return &c
}

func (c *conn) request(ctx context.Context, req *kmsg.FetchRequest) (*kmsg.FetchResponse, error) {
	l := c.l
	l.mu.Lock()
	l.reqs = append(l.reqs, request{FetchRequest: req, at: time.Now(), conn: c.n, addr: c.addr, clientID: c.clientID, failed: l.down})
	if len(l.reqs) > maxFetches {
		// A fetcher that fetches without end (no backoff) would keep the
		// bubble busy forever: park it, and let the test count.
		l.mu.Unlock()
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if l.down {
		l.mu.Unlock()
		return nil, errDown
	}
	l.mu.Unlock()
	t := time.NewTimer(time.Duration(req.MaxWaitMillis) * time.Millisecond)
	defer t.Stop()
	for {
		l.mu.Lock()
		resp := kmsg.NewPtrFetchResponse()
		if len(l.topErr) > 0 {
			resp.ErrorCode, l.topErr = l.topErr[0], l.topErr[1:]
			l.mu.Unlock()
			return resp, nil
		}
		news := l.answer(req, resp)
		changed := l.changed
		l.mu.Unlock()
		if news {
			return resp, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
			return resp, nil // what it has after max_wait: no records
		case <-changed:
		}
	}
}

// answer fills resp for req and reports whether it has anything but
// empty partitions. Called with l.mu held.
func (l *leader) answer(req *kmsg.FetchRequest, resp *kmsg.FetchResponse) bool {
	news := false
	for _, rt := range req.Topics {
		t := kmsg.NewFetchResponseTopic()
		t.Topic = rt.Topic
		for _, fp := range rt.Partitions {
			rp := kmsg.NewFetchResponseTopicPartition()
			rp.Partition = fp.Partition
			k := tp{rt.Topic, fp.Partition}
			log := l.logs[k]
			switch {
			case l.errs[k] != 0:
				rp.ErrorCode = l.errs[k]
			case log == nil:
				rp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			default:
				rp.HighWatermark, rp.LogStartOffset = log.hw, log.start
				if fp.LastFetchedEpoch >= 0 {
					e, end := log.endOf(fp.LastFetchedEpoch)
					if e < fp.LastFetchedEpoch || end < fp.FetchOffset {
						rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset = e, end
						break
					}
				}
				if fp.FetchOffset < log.start || fp.FetchOffset > log.end() {
					rp.ErrorCode = kerr.OffsetOutOfRange.Code
					break
				}
				for _, e := range log.epochs[fp.FetchOffset-log.start:] {
					rp.RecordBatches = append(rp.RecordBatches, byte(e))
				}
			}
			if rp.ErrorCode != 0 || rp.DivergingEpoch.EndOffset >= 0 || len(rp.RecordBatches) > 0 {
				news = true
			}
			t.Partitions = append(t.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return news
}
