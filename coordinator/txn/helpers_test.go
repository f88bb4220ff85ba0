package txn

// The coordinator's test harness (Kafka's TransactionCoordinatorTest and
// TransactionStateManagerTest are the models): a Coordinator over an
// in-memory Log of __transaction_state, a fake MarkerSender that records
// each WriteTxnMarkers request and answers as the test says, and a real
// metadata cache naming the partitions' leaders. Tests run inside
// testing/synctest bubbles: the coordinator's timers run on the fake
// clock, and synctest.Wait lets its background work (loading, markers,
// completions) finish before the test looks.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/metadata"
	"samsa/record"
)

// memLog is a partition of __transaction_state in memory.
type memLog struct {
	mu      sync.Mutex
	batches [][]byte
	next    int64
	// fail, when set, decides whether an append fails (nothing written).
	fail func(batch []byte) error
	// gate, when set, holds Replay until it is closed.
	gate chan struct{}
}

func (l *memLog) Append(batch []byte) error {
	l.mu.Lock()
	fail := l.fail
	l.mu.Unlock()
	if fail != nil {
		if err := fail(batch); err != nil {
			return err
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := slices.Clone(batch)
	h, err := record.ParseHeader(b)
	if err != nil {
		return err
	}
	record.SetBaseOffset(b, l.next)
	l.next += int64(h.LastOffsetDelta) + 1
	l.batches = append(l.batches, b)
	return nil
}

func (l *memLog) Replay(fn func([]byte) error) error {
	if l.gate != nil {
		<-l.gate
	}
	l.mu.Lock()
	all := slices.Concat(l.batches...)
	l.mu.Unlock()
	if len(all) == 0 {
		return nil
	}
	return fn(all)
}

func (l *memLog) setFail(f func([]byte) error) {
	l.mu.Lock()
	l.fail = f
	l.mu.Unlock()
}

// logRecord is one record of the log: the id, and the transit written
// (nil for a tombstone).
type logRecord struct {
	id string
	t  *transit
}

// records decodes everything appended.
func (l *memLog) records(t testing.TB) []logRecord {
	t.Helper()
	l.mu.Lock()
	all := slices.Concat(l.batches...)
	l.mu.Unlock()
	var out []logRecord
	err := decodeBatches(all, func(k, v []byte) {
		id, err := decodeKey(k)
		if err != nil {
			t.Fatalf("key: %v", err)
		}
		if v == nil {
			out = append(out, logRecord{id: id})
			return
		}
		tr, err := decodeValue(v)
		if err != nil {
			t.Fatalf("value: %v", err)
		}
		out = append(out, logRecord{id: id, t: &tr})
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// states lists the states written for id, "tombstone" for a tombstone.
func (l *memLog) states(t testing.TB, id string) []string {
	var out []string
	for _, r := range l.records(t) {
		switch {
		case r.id != id:
		case r.t == nil:
			out = append(out, "tombstone")
		default:
			out = append(out, r.t.state.String())
		}
	}
	return out
}

// sent is one WriteTxnMarkers request the coordinator sent.
type sent struct {
	broker int32
	req    *kmsg.WriteTxnMarkersRequest
}

// fakeSender records requests; answer decides each partition's code
// (nil: success) or, with err, that the request got no answer.
type fakeSender struct {
	mu     sync.Mutex
	reqs   []sent
	answer func(broker int32, m kmsg.WriteTxnMarkersRequestMarker, topic string, partition int32) int16
	err    func(broker int32) error
}

func (f *fakeSender) WriteTxnMarkers(ctx context.Context, broker int32, req *kmsg.WriteTxnMarkersRequest) (*kmsg.WriteTxnMarkersResponse, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, sent{broker, req})
	answer, errf := f.answer, f.err
	f.mu.Unlock()
	if errf != nil {
		if err := errf(broker); err != nil {
			return nil, err
		}
	}
	resp := kmsg.NewPtrWriteTxnMarkersResponse()
	for _, m := range req.Markers {
		rm := kmsg.NewWriteTxnMarkersResponseMarker()
		rm.ProducerID = m.ProducerID
		for _, t := range m.Topics {
			rt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
				rp.Partition = p
				if answer != nil {
					rp.ErrorCode = answer(broker, m, t.Topic, p)
				}
				rt.Partitions = append(rt.Partitions, rp)
			}
			rm.Topics = append(rm.Topics, rt)
		}
		resp.Markers = append(resp.Markers, rm)
	}
	return resp, nil
}

func (f *fakeSender) set(answer func(broker int32, m kmsg.WriteTxnMarkersRequestMarker, topic string, partition int32) int16, err func(int32) error) {
	f.mu.Lock()
	f.answer, f.err = answer, err
	f.mu.Unlock()
}

// summary lists the requests sent, in order, each as
// "broker: marker; marker" with a marker as "commit|abort pid/epoch@coordinatorEpoch topic-partition,...",
// e.g. "1: commit 1000/0@5 a-0,a-2".
func (f *fakeSender) summary() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.reqs {
		var ms []string
		for _, m := range r.req.Markers {
			var parts []string
			for _, t := range m.Topics {
				for _, p := range t.Partitions {
					parts = append(parts, fmt.Sprintf("%s-%d", t.Topic, p))
				}
			}
			res := "abort"
			if m.Committed {
				res = "commit"
			}
			ms = append(ms, fmt.Sprintf("%s %d/%d@%d %s", res, m.ProducerID, m.ProducerEpoch, m.CoordinatorEpoch, strings.Join(parts, ",")))
		}
		out = append(out, fmt.Sprintf("%d: %s", r.broker, strings.Join(ms, "; ")))
	}
	return out
}

// marked lists the partitions sent markers, by broker, across requests:
// "1:a-0,a-2 3:b-0".
func (f *fakeSender) marked() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	by := map[int32][]string{}
	for _, r := range f.reqs {
		for _, m := range r.req.Markers {
			for _, t := range m.Topics {
				for _, p := range t.Partitions {
					by[r.broker] = append(by[r.broker], fmt.Sprintf("%s-%d", t.Topic, p))
				}
			}
		}
	}
	var out []string
	for _, b := range slices.Sorted(maps.Keys(by)) {
		ps := by[b]
		slices.Sort(ps)
		out = append(out, fmt.Sprintf("%d:%s", b, strings.Join(ps, ",")))
	}
	return strings.Join(out, " ")
}

func (f *fakeSender) reset() {
	f.mu.Lock()
	f.reqs = nil
	f.mu.Unlock()
}

// harness is a coordinator owning partition 0 of a one-partition
// __transaction_state at leader epoch 5, in a cluster of brokers 1-3 where
// topic a's partitions 0-2 are led by 1, 2, 1 and topic b's 0 by 3.
type harness struct {
	t      *testing.T
	c      *Coordinator
	log    *memLog
	sender *fakeSender
	cache  *metadata.Cache

	mu   sync.Mutex
	pids int64
}

func newHarness(t *testing.T, cfg Config) *harness {
	h := &harness{t: t, log: &memLog{}, sender: &fakeSender{}, cache: metadata.NewCache("test"), pids: 1000}
	h.cache.Update(func(e *metadata.Edit) {
		e.SetBrokers([]metadata.Broker{{ID: 1, Host: "b1", Port: 9092}, {ID: 2, Host: "b2", Port: 9092}, {ID: 3, Host: "b3", Port: 9092}})
		e.PutTopic(&metadata.TopicInfo{Name: "a", Partitions: []metadata.PartitionState{{Leader: 1}, {Leader: 2}, {Leader: 1}}})
		e.PutTopic(&metadata.TopicInfo{Name: "b", Partitions: []metadata.PartitionState{{Leader: 3}}})
		e.PutTopic(&metadata.TopicInfo{Name: Topic, Internal: true, Partitions: []metadata.PartitionState{{Leader: 1, LeaderEpoch: 5}}})
	})
	if cfg.Partitions == 0 {
		cfg.Partitions = 1
	}
	cfg.Cache, cfg.Markers = h.cache, h.sender
	cfg.ProducerIDs = func() (int64, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.pids++
		return h.pids - 1, nil
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	h.c = New(cfg)
	t.Cleanup(h.c.Close)
	return h
}

// load takes over partition 0 at epoch 5 and waits for it.
func (h *harness) load() {
	<-h.c.Load(0, 5, h.log)
}

// setLeader changes a partition's leader in the metadata cache (-1: none).
func (h *harness) setLeader(topic string, p int32, leader int32) {
	st, _ := h.cache.Load().Partition(topic, p)
	st.Leader = leader
	h.cache.Update(func(e *metadata.Edit) { e.SetPartition(topic, p, st) })
}

// init is InitProducerID with no expectation; it must succeed.
func (h *harness) init(id string) (int64, int16) {
	h.t.Helper()
	pid, epoch, err := h.c.InitProducerID(id, 60000, -1, -1)
	if err != nil {
		h.t.Fatalf("InitProducerID(%s): %v", id, err)
	}
	return pid, epoch
}

// begin initializes id and adds partitions to its transaction.
func (h *harness) begin(id string, parts ...string) (int64, int16) {
	h.t.Helper()
	pid, epoch := h.init(id)
	if err := h.c.AddPartitions(id, pid, epoch, tpList(parts...)); err != nil {
		h.t.Fatalf("AddPartitions(%s): %v", id, err)
	}
	return pid, epoch
}

// tpList parses "a-0"-style names.
func tpList(names ...string) []TopicPartition {
	var out []TopicPartition
	for _, n := range names {
		i := len(n) - 1
		for n[i-1] != '-' {
			i--
		}
		var p int32
		for _, c := range n[i:] {
			p = p*10 + int32(c-'0')
		}
		out = append(out, TopicPartition{n[:i-1], p})
	}
	return out
}

// describe returns id's description; the test fails on an error.
func (h *harness) describe(id string) Description {
	h.t.Helper()
	d, err := h.c.Describe(id)
	if err != nil {
		h.t.Fatalf("Describe(%s): %v", id, err)
	}
	return d
}

func wantErr(t *testing.T, what string, got, want *kerr.Error) {
	t.Helper()
	if got != want {
		name := func(e *kerr.Error) string {
			if e == nil {
				return "NONE"
			}
			return e.Message
		}
		t.Errorf("%s: %s, want %s", what, name(got), name(want))
	}
}

var errNetwork = errors.New("connection refused")

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))
