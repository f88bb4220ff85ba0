package txn

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// MarkerSender sends WriteTxnMarkers to a broker, the leader of the
// partitions the request names. An error is no answer (the connection
// failed, the request timed out): the markers are sent again.
type MarkerSender interface {
	WriteTxnMarkers(ctx context.Context, broker int32, req *kmsg.WriteTxnMarkersRequest) (*kmsg.WriteTxnMarkersResponse, error)
}

// pendingTxn is a transaction whose markers are going out: Kafka's
// PendingCompleteTxn.
type pendingTxn struct {
	id       string
	part     *partition // at the coordinator epoch the markers carry
	tm       *txnMeta
	complete transit // CompleteCommit or CompleteAbort, pending in tm meanwhile
}

func (pt *pendingTxn) commit() bool { return pt.complete.state == CompleteCommit }

// markerEntry is the markers of one transaction for the partitions one
// broker leads: one marker of a WriteTxnMarkers request.
type markerEntry struct {
	txn        *pendingTxn
	producerID int64
	epoch      int16
	partitions []TopicPartition
}

// markerChannel is Kafka's TransactionMarkerChannelManager: markers queued
// by destination broker, one request per broker at a time holding every
// marker queued for it, sent by a goroutine that lives while its queue has
// entries. Partitions whose leader is unknown, and those a broker answered
// with a retriable error, are routed again from the metadata cache after
// RetryBackoff, so that markers follow leadership changes. When every
// partition of a transaction has its marker, the Complete state is written.
type markerChannel struct {
	c      *Coordinator
	ctx    context.Context // cancelled by close: sends in flight end
	cancel context.CancelFunc

	// mu guards the fields below; it is a leaf (no other lock is taken
	// under it).
	mu      sync.Mutex
	pending map[string]*pendingTxn  // by transactional id
	queues  map[int32][]markerEntry // by destination broker
	sending map[int32]bool          // a goroutine sends that broker's queue
	closed  bool
	wg      sync.WaitGroup // senders, completions and retries started before close
}

func newMarkerChannel(c *Coordinator) *markerChannel {
	ctx, cancel := context.WithCancel(context.Background())
	return &markerChannel{c: c, ctx: ctx, cancel: cancel, pending: map[string]*pendingTxn{}, queues: map[int32][]markerEntry{}, sending: map[int32]bool{}}
}

// add starts sending the markers of a transaction whose PrepareCommit or
// PrepareAbort is written; done is its Complete state, pending in tm.
func (m *markerChannel) add(p *partition, tm *txnMeta, done transit) {
	pt := &pendingTxn{id: tm.id, part: p, tm: tm, complete: done}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.pending[pt.id] = pt
	m.mu.Unlock()
	tm.mu.Lock()
	tps, pid, epoch := tm.sortedPartitions(), tm.producerID, tm.producerEpoch
	tm.mu.Unlock()
	m.enqueue(pt, pid, epoch, tps)
	m.maybeComplete(pt.id)
}

// enqueue routes markers to the leaders of their partitions as the
// metadata cache knows them now. A partition the cache no longer has was
// deleted: it needs no marker. One without a live leader waits and is
// routed again, and so does every partition while the cache does not know
// __transaction_state: it has not had the cluster's state yet (a broker
// just started in cluster mode gets the controller's LeaderAndIsr, which
// loads this coordinator, before its UpdateMetadata), so a partition it
// lacks is not known to be deleted.
func (m *markerChannel) enqueue(pt *pendingTxn, pid int64, epoch int16, tps []TopicPartition) {
	snap := m.c.cfg.Cache.Load()
	filled := snap.Topic(Topic) != nil
	byBroker := map[int32][]TopicPartition{}
	var unknown, gone []TopicPartition
	for _, tp := range tps {
		st, ok := snap.Partition(tp.Topic, tp.Partition)
		switch {
		case !ok && !filled:
			unknown = append(unknown, tp)
		case !ok:
			gone = append(gone, tp)
		case st.Leader < 0 || !snap.Alive(st.Leader):
			unknown = append(unknown, tp)
		default:
			byBroker[st.Leader] = append(byBroker[st.Leader], tp)
		}
	}
	if len(gone) > 0 {
		if !m.current(pt) {
			m.remove(pt)
			return
		}
		m.c.log.Info("no marker for deleted partitions", "transactional.id", pt.id, "partitions", gone)
		pt.tm.mu.Lock()
		for _, tp := range gone {
			pt.tm.removePartition(tp) // the state is PrepareCommit or PrepareAbort: no error
		}
		pt.tm.mu.Unlock()
	}
	m.mu.Lock()
	if m.closed || m.pending[pt.id] != pt {
		m.mu.Unlock() // cancelled meanwhile
		return
	}
	for _, b := range slices.Sorted(maps.Keys(byBroker)) {
		m.queues[b] = append(m.queues[b], markerEntry{txn: pt, producerID: pid, epoch: epoch, partitions: byBroker[b]})
		if !m.sending[b] {
			m.sending[b] = true
			m.wg.Add(1)
			go m.run(b)
		}
	}
	m.mu.Unlock()
	if len(unknown) > 0 {
		m.later(func() { m.enqueue(pt, pid, epoch, unknown) })
	}
	if len(gone) > 0 {
		m.maybeComplete(pt.id)
	}
}

// later runs fn after RetryBackoff, unless the channel closes first.
func (m *markerChannel) later(fn func()) {
	time.AfterFunc(m.c.cfg.RetryBackoff, func() {
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return
		}
		m.wg.Add(1)
		m.mu.Unlock()
		defer m.wg.Done()
		fn()
	})
}

// run sends a broker's queue until it is empty.
func (m *markerChannel) run(broker int32) {
	defer m.wg.Done()
	for {
		m.mu.Lock()
		entries := m.queues[broker]
		delete(m.queues, broker)
		if len(entries) == 0 || m.closed {
			delete(m.sending, broker)
			m.mu.Unlock()
			return
		}
		m.mu.Unlock()
		m.send(broker, entries)
	}
}

// send makes one WriteTxnMarkers request of entries and handles its
// answer (Kafka's TransactionMarkerRequestCompletionHandler).
func (m *markerChannel) send(broker int32, entries []markerEntry) {
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	for _, e := range entries {
		mk := kmsg.NewWriteTxnMarkersRequestMarker()
		mk.ProducerID, mk.ProducerEpoch, mk.Committed = e.producerID, e.epoch, e.txn.commit()
		mk.CoordinatorEpoch = e.txn.part.epoch
		for _, tp := range e.partitions {
			if n := len(mk.Topics); n > 0 && mk.Topics[n-1].Topic == tp.Topic {
				mk.Topics[n-1].Partitions = append(mk.Topics[n-1].Partitions, tp.Partition)
				continue
			}
			t := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
			t.Topic, t.Partitions = tp.Topic, []int32{tp.Partition}
			mk.Topics = append(mk.Topics, t)
		}
		req.Markers = append(req.Markers, mk)
	}
	ctx, cancel := context.WithTimeout(m.ctx, m.c.cfg.RequestTimeout)
	resp, err := m.c.cfg.Markers.WriteTxnMarkers(ctx, broker, req)
	cancel()
	if err != nil {
		m.c.log.Debug("sending transaction markers failed; sending again", "broker", broker, "markers", len(entries), "err", err)
		for _, e := range entries {
			if !m.current(e.txn) {
				m.remove(e.txn)
				continue
			}
			m.later(func() { m.enqueue(e.txn, e.producerID, e.epoch, e.partitions) })
		}
		return
	}
	byPID := map[int64]map[TopicPartition]int16{}
	for _, r := range resp.Markers {
		errs := byPID[r.ProducerID]
		if errs == nil {
			errs = map[TopicPartition]int16{}
			byPID[r.ProducerID] = errs
		}
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				errs[TopicPartition{t.Topic, p.Partition}] = p.ErrorCode
			}
		}
	}
	for _, e := range entries {
		m.handle(broker, e, byPID[e.producerID])
	}
}

// handle applies a broker's answer for one transaction's markers.
func (m *markerChannel) handle(broker int32, e markerEntry, errs map[TopicPartition]int16) {
	if !m.current(e.txn) {
		// Unloaded, or loaded again at another epoch: the new coordinator
		// sends its own markers.
		m.remove(e.txn)
		return
	}
	var retry []TopicPartition
	var abort, unexpected *kerr.Error
	tm := e.txn.tm
	tm.mu.Lock()
	for _, tp := range e.partitions {
		code, ok := errs[tp]
		if !ok {
			retry = append(retry, tp) // not in the answer: ask again
			continue
		}
		switch ke, _ := kerr.ErrorForCode(code).(*kerr.Error); ke {
		case nil:
			tm.removePartition(tp)
		case kerr.UnknownTopicOrPartition, kerr.NotLeaderForPartition, kerr.NotEnoughReplicas,
			kerr.NotEnoughReplicasAfterAppend, kerr.RequestTimedOut, kerr.KafkaStorageError:
			retry = append(retry, tp)
		case kerr.InvalidProducerEpoch, kerr.TransactionCoordinatorFenced:
			// A newer producer epoch or coordinator epoch reached the
			// partition: this transaction is another coordinator's now.
			abort = ke
		case kerr.UnsupportedForMessageFormat, kerr.UnsupportedVersion:
			// The producer could not have written to it either.
			tm.removePartition(tp)
		default:
			// Kafka gives up on these (a bug in the leader): sending
			// again keeps the transaction completable.
			unexpected = kerr.ErrorForCode(code).(*kerr.Error)
			retry = append(retry, tp)
		}
	}
	tm.mu.Unlock()
	switch {
	case abort != nil:
		m.c.log.Info("transaction markers fenced; no more are sent", "transactional.id", e.txn.id, "broker", broker, "err", abort.Message)
		m.remove(e.txn)
	case len(retry) > 0:
		if unexpected != nil {
			m.c.log.Error("unexpected answer to transaction markers; sending again", "transactional.id", e.txn.id, "broker", broker, "err", unexpected.Message)
		}
		m.later(func() { m.enqueue(e.txn, e.producerID, e.epoch, retry) })
	default:
		m.maybeComplete(e.txn.id)
	}
}

// current reports whether pt's partition is still loaded at the epoch of
// its markers, with pt's transaction in it.
func (m *markerChannel) current(pt *pendingTxn) bool {
	c := m.c
	c.mu.RLock()
	p := c.parts[pt.part.id]
	c.mu.RUnlock()
	if p != pt.part {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.unloaded && !p.loading && p.txns[pt.id] == pt.tm
}

// remove stops sending pt's markers (Kafka's removeMarkersForTxn).
func (m *markerChannel) remove(pt *pendingTxn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pending[pt.id] == pt {
		delete(m.pending, pt.id)
	}
}

// maybeComplete writes the Complete state of a transaction whose every
// partition has its marker.
func (m *markerChannel) maybeComplete(id string) {
	m.mu.Lock()
	pt := m.pending[id]
	m.mu.Unlock()
	if pt == nil {
		return
	}
	pt.tm.mu.Lock()
	left := len(pt.tm.partitions)
	pt.tm.mu.Unlock()
	if left > 0 {
		return
	}
	m.mu.Lock()
	if m.closed || m.pending[id] != pt {
		m.mu.Unlock()
		return
	}
	delete(m.pending, id)
	m.wg.Add(1)
	m.mu.Unlock()
	go func() {
		defer m.wg.Done()
		m.writeCompletion(pt)
	}()
}

// writeCompletion writes CompleteCommit or CompleteAbort, again after
// RetryBackoff while the log answers COORDINATOR_NOT_AVAILABLE; if the
// partition moved, the next coordinator completes from the log.
func (m *markerChannel) writeCompletion(pt *pendingTxn) {
	c := m.c
	p, perr := c.acquire(pt.id)
	if perr != nil {
		c.log.Info("not completing a transaction: the partition is not loaded here", "transactional.id", pt.id, "err", perr.Message)
		return
	}
	if p != pt.part || p.get(pt.id) != pt.tm {
		p.release()
		c.log.Info("not completing a transaction: its partition was loaded again", "transactional.id", pt.id)
		return
	}
	code := c.write(p, pt.tm, pt.complete, true)
	p.release()
	switch code {
	case nil:
		c.log.Debug("transaction completed", "transactional.id", pt.id, "state", pt.complete.state)
	case kerr.CoordinatorNotAvailable:
		m.later(func() { m.writeCompletion(pt) })
	default:
		c.log.Warn("completing a transaction failed", "transactional.id", pt.id, "state", pt.complete.state, "err", code.Message)
	}
}

// removePartition drops the markers of a partition given up.
func (m *markerChannel) removePartition(p *partition) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for b, entries := range m.queues {
		m.queues[b] = slices.DeleteFunc(entries, func(e markerEntry) bool { return e.txn.part == p })
	}
	maps.DeleteFunc(m.pending, func(_ string, pt *pendingTxn) bool { return pt.part == p })
}

// pendingCount is how many transactions are sending markers.
func (m *markerChannel) pendingCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pending)
}

// close stops sending; sends in flight are cancelled.
func (m *markerChannel) close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel()
}

// wait waits for the goroutines started before close.
func (m *markerChannel) wait() { m.wg.Wait() }
