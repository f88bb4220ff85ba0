package replica

// Test harness for the replica layer, after Kafka's PartitionTest and
// ReplicaManagerTest: brokers are Managers over temporary log directories
// in one process, the controller is a fake that records and answers
// AlterPartition proposals, followers are either fetches a test sends by
// hand (ReadFetch with a replica id) or real fetchers whose connection to
// the leader is an in-process call into the leader's Manager (loopback).
// Tests that depend on time run in a testing/synctest bubble and create
// everything inside it, so tickers, timers and parked operations follow
// the fake clock.

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/config"
	"samsa/internal/apierr"
	"samsa/internal/testbatch"
	"samsa/logfile"
	"samsa/metadata"
	"samsa/record"
	"samsa/replica/fetcher"
)

const testTopic = "t"

var topicID = metadata.TopicID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

var quiet = slog.New(slog.DiscardHandler)

// controller is a fake controller's AlterPartition: it records every
// proposal and, unless a test scripts another answer, commits it as
// Kafka's controller does (the proposed ISR, the next partition epoch).
type controller struct {
	mu        sync.Mutex
	proposals []AlterISR
	calls     []int // the number of proposals each AlterPartition carried
	// answer replaces the commit; hold, when set, delays every answer
	// until it is closed (an AlterPartition in flight).
	answer func(AlterISR) (AlterISRResult, error)
	hold   chan struct{}
	// done ends every wait when the test ends, so that a failed test
	// leaves no goroutine blocked in its bubble.
	done chan struct{}
}

func (c *controller) alterISR(ctx context.Context, reqs []AlterISR) ([]AlterISRResult, error) {
	c.mu.Lock()
	c.proposals = append(c.proposals, reqs...)
	c.calls = append(c.calls, len(reqs))
	answer, hold := c.answer, c.hold
	c.mu.Unlock()
	if hold != nil && !c.wait(ctx, hold) {
		return nil, context.Canceled
	}
	out := make([]AlterISRResult, len(reqs))
	for i, req := range reqs {
		if answer != nil {
			res, err := answer(req)
			res.Err = err
			out[i] = res
			continue
		}
		out[i] = AlterISRResult{LeaderEpoch: req.LeaderEpoch, PartitionEpoch: req.PartitionEpoch + 1, ISR: slices.Clone(req.ISR)}
	}
	return out, nil
}

// wait blocks until ch is closed; false if the test or ctx ended first.
func (c *controller) wait(ctx context.Context, ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-ctx.Done():
	case <-c.done:
	}
	return false
}

// take returns the proposals received since the last take.
func (c *controller) take() []AlterISR {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.proposals
	c.proposals = nil
	return out
}

func (c *controller) setAnswer(fn func(AlterISR) (AlterISRResult, error)) {
	c.mu.Lock()
	c.answer = fn
	c.mu.Unlock()
}

func (c *controller) setHold(ch chan struct{}) {
	c.mu.Lock()
	c.hold = ch
	c.mu.Unlock()
}

// cluster is brokers in one process: their Managers, one fake controller,
// and the network between them (addresses "broker-<id>").
type cluster struct {
	t   *testing.T
	ctl *controller

	mu       sync.Mutex
	brokers  map[string]*Manager
	down     map[string]bool // connections to these brokers fail
	fetches  int             // Fetch requests the loopback served
	requests []*kmsg.FetchRequest
}

func newCluster(t *testing.T) *cluster {
	ctl := &controller{done: make(chan struct{})}
	t.Cleanup(func() { close(ctl.done) })
	return &cluster{t: t, ctl: ctl, brokers: map[string]*Manager{}, down: map[string]bool{}}
}

func addr(id int32) string { return "broker-" + strconv.Itoa(int(id)) }

// broker starts a Manager for broker id over a new log directory, in
// cluster mode (manual high watermark, AlterPartition to the fake
// controller); opts adjusts its options. Both close when the test ends.
func (c *cluster) broker(id int32, opts ...func(*Options)) *Manager {
	t := c.t
	dir, err := logfile.OpenDir(t.TempDir(), logfile.DirOptions{ManualHighWatermark: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{
		BrokerID: id, Logger: quiet, Defaults: config.DefaultTopicConfig(), FetchSessionSlots: 10,
		AlterISR: c.ctl.alterISR, ReplicaLagTimeMax: 10 * time.Second,
		Fetcher: FetcherConfig{Connect: c.dial},
	}
	for _, fn := range opts {
		fn(&o)
	}
	m := NewManager(dir, o)
	t.Cleanup(func() {
		m.Close()
		if err := dir.Close(); err != nil {
			t.Errorf("close log dir of broker %d: %v", id, err)
		}
	})
	c.mu.Lock()
	c.brokers[addr(id)] = m
	c.mu.Unlock()
	return m
}

// setDown cuts (or restores) every connection to broker id.
func (c *cluster) setDown(id int32, down bool) {
	c.mu.Lock()
	c.down[addr(id)] = down
	c.mu.Unlock()
}

func (c *cluster) fetchCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetches
}

func (c *cluster) dial(addr, _ string) fetcher.Conn { return &loopback{c: c, addr: addr} }

// loopback is a follower's connection to an in-process leader: a Fetch
// is served as the broker's handler serves it (fetch session, read, long
// poll while under min_bytes, answer), with the records copied out of the
// regions.
type loopback struct {
	c    *cluster
	addr string
}

var errUnreachable = errors.New("loopback: broker unreachable")

func (l *loopback) Addr() string { return l.addr }
func (l *loopback) Close() error { return nil }

// Fetch serves a copy of the request (the fetcher reuses its request from
// one fetch to the next, and the test keeps them) within timeout.
func (l *loopback) Fetch(ctx context.Context, req *kmsg.FetchRequest, into *kmsg.FetchResponse, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := l.request(ctx, cloneFetchRequest(req))
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

func (l *loopback) request(ctx context.Context, fr *kmsg.FetchRequest) (*kmsg.FetchResponse, error) {
	l.c.mu.Lock()
	m, down := l.c.brokers[l.addr], l.c.down[l.addr]
	l.c.fetches++
	l.c.mu.Unlock()
	if m == nil || down {
		return nil, errUnreachable
	}
	l.c.mu.Lock()
	l.c.requests = append(l.c.requests, fr)
	l.c.mu.Unlock()
	fc, fr, code := m.BeginFetch(12, fr, time.Now())
	if code != 0 {
		resp := kmsg.NewPtrFetchResponse()
		resp.ErrorCode = code
		return resp, nil
	}
	deadline := time.Now().Add(time.Duration(fr.MaxWaitMillis) * time.Millisecond)
	for {
		topics, n, anyErr := m.ReadFetch(12, fr)
		if n >= int64(fr.MinBytes) || anyErr || !time.Now().Before(deadline) {
			resp, err := fetchResponse(fc.Finish(topics))
			if resp != nil {
				resp.SessionID = fc.SessionID()
			}
			return resp, err
		}
		ReleaseFetch(topics)
		if !m.WaitForAppend(ctx, topics, deadline) {
			return nil, ctx.Err()
		}
	}
}

// fetchResponse is what the broker's Fetch handler would encode, as kmsg
// decodes it; the regions are released.
func fetchResponse(topics []FetchTopic) (*kmsg.FetchResponse, error) {
	defer ReleaseFetch(topics)
	resp := kmsg.NewPtrFetchResponse()
	for _, ft := range topics {
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic = ft.Name
		for _, fp := range ft.Parts {
			rp := kmsg.NewFetchResponseTopicPartition()
			rp.Partition, rp.ErrorCode = fp.Partition, fp.ErrCode
			rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = fp.HW, fp.LSO, fp.LogStart
			rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset = fp.Diverging.Epoch, fp.Diverging.EndOffset
			if fp.Region.Len > 0 {
				b, err := fp.Region.Bytes()
				if err != nil {
					return nil, err
				}
				rp.RecordBatches = b
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil
}

// lookup is the metadata store's view of the test topic, with configs.
func lookup(configs map[string]string) TopicLookup {
	return func(name string) (metadata.Topic, bool) {
		return metadata.Topic{Name: name, ID: topicID, Configs: configs}, true
	}
}

// leaderAndIsr applies a LeaderAndIsr for partition 0 of the test topic
// from controller epoch 1 and returns the partition and the request's
// per-partition error (0: applied).
func leaderAndIsr(t *testing.T, m *Manager, st State, configs map[string]string) (*Partition, int16) {
	t.Helper()
	return leaderAndIsrOf(t, m, 0, st, configs)
}

// leaderAndIsrOf is leaderAndIsr for another partition of the test topic.
func leaderAndIsrOf(t *testing.T, m *Manager, partition int32, st State, configs map[string]string) (*Partition, int16) {
	t.Helper()
	errs, _, err := m.ApplyLeaderAndIsr(1, []PartitionUpdate{{Topic: testTopic, TopicID: topicID, Partition: partition, State: st}},
		map[int32]string{st.Leader: addr(st.Leader)}, lookup(configs))
	if err != nil {
		t.Fatal(err)
	}
	p := m.Partition(testTopic, partition)
	if p == nil {
		t.Fatal("LeaderAndIsr left the partition unhosted")
	}
	return p, errs[0]
}

// state is a LeaderAndIsr partition state.
func state(leader, leaderEpoch, partitionEpoch int32, replicas, isr []int32) State {
	return State{Leader: leader, LeaderEpoch: leaderEpoch, PartitionEpoch: partitionEpoch, ControllerEpoch: 1, Replicas: replicas, ISR: isr}
}

// batch is one valid uncompressed batch of n records.
func batch(n int) []byte {
	return testbatch.Make(testbatch.Spec{Records: n, ValueSize: 10, Timestamp: time.Now().UnixMilli(), Fill: 'x'})
}

// produce appends one batch of n records as a Produce v9 with acks.
func produce(m *Manager, p *Partition, n int, acks int16) (Appended, error) {
	return m.Append(m.Topic(p.Topic), p, 9, batch(n), time.Now().UnixMilli(), acks)
}

// mustProduce appends n records with acks=1 and returns the last offset.
func mustProduce(t *testing.T, m *Manager, p *Partition, n int) int64 {
	t.Helper()
	a, err := produce(m, p, n, 1)
	if err != nil {
		t.Fatalf("produce: %v", err)
	}
	return a.LastOffset
}

// fetchReq is a Fetch v12 of partition 0 of the test topic: from a
// follower when replica >= 0, a consumer when -1; epochs -1 for none.
func fetchReq(replica int32, offset int64, lastEpoch, currentEpoch int32) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.MaxBytes, req.SessionEpoch = replica, 1<<20, -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = testTopic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.FetchOffset, rp.LastFetchedEpoch, rp.CurrentLeaderEpoch, rp.PartitionMaxBytes = offset, lastEpoch, currentEpoch, 1<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// of sets the partition a fetchReq reads.
func of(partition int32, req *kmsg.FetchRequest) *kmsg.FetchRequest {
	req.Topics[0].Partitions[0].Partition = partition
	return req
}

// fetch reads one partition once (no long poll) and returns its part of
// the response and the record batches, regions released.
func fetch(t *testing.T, m *Manager, req *kmsg.FetchRequest) (FetchPart, []byte) {
	t.Helper()
	topics, _, _ := m.ReadFetch(12, req)
	defer ReleaseFetch(topics)
	if len(topics) != 1 || len(topics[0].Parts) != 1 {
		t.Fatalf("fetch of one partition answered %d topics", len(topics))
	}
	fp := topics[0].Parts[0]
	b, err := fp.Region.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return fp, b
}

// followerFetch is a follower's fetch at offset (its log end), at the
// leader's current epoch, as the follower of a test without fetchers.
func followerFetch(t *testing.T, m *Manager, p *Partition, id int32, offset int64) FetchPart {
	t.Helper()
	fp, _ := fetch(t, m, of(p.Index, fetchReq(id, offset, -1, p.LeaderEpoch())))
	if fp.ErrCode != 0 {
		t.Fatalf("follower %d fetch at %d: error %d", id, offset, fp.ErrCode)
	}
	return fp
}

// batches returns the log's batches from its start to its end, as bytes,
// and their headers.
func batches(t *testing.T, l *logfile.Log) ([]byte, []record.Header) {
	t.Helper()
	if l.StartOffset() == l.EndOffset() {
		return nil, nil
	}
	r, err := l.Read(l.StartOffset(), 1<<30, l.EndOffset())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	b, err := r.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return splitBatches(t, b)
}

// splitBatches returns batches as they are and their headers.
func splitBatches(t *testing.T, b []byte) ([]byte, []record.Header) {
	t.Helper()
	var hs []record.Header
	for pos := 0; pos < len(b); {
		h, err := record.ParseHeader(b[pos:])
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
		pos += int(h.Size())
	}
	return b, hs
}

// sameLogs fails unless two replicas hold the same batches, byte for byte,
// and the same leader epoch cache.
func sameLogs(t *testing.T, a, b *logfile.Log) {
	t.Helper()
	ab, _ := batches(t, a)
	bb, _ := batches(t, b)
	if !bytes.Equal(ab, bb) || a.StartOffset() != b.StartOffset() || a.EndOffset() != b.EndOffset() {
		t.Fatalf("replicas differ: [%d, %d) %d bytes vs [%d, %d) %d bytes", a.StartOffset(), a.EndOffset(), len(ab), b.StartOffset(), b.EndOffset(), len(bb))
	}
	if ae, be := a.Epochs(), b.Epochs(); !slices.Equal(ae, be) {
		t.Fatalf("epoch caches differ: %v vs %v", ae, be)
	}
}

// code is an error's Kafka code (0 for nil).
func code(err error) int16 {
	if err == nil {
		return 0
	}
	return apierr.Code(err)
}

// fetchedFrom reports the leader and leader epoch this broker's fetchers
// fetch p at; ok false when no fetcher has it.
func fetchedFrom(m *Manager, p *Partition) (leader, epoch int32, ok bool) {
	return m.fetchers.Following(m.followed(p))
}

// advance moves the bubble's fake clock on by d and lets whatever that
// wakes run until the bubble is idle again (synctest: no real sleep).
func advance(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}
