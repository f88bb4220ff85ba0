package replica

// A partition as the replica fetchers (package fetcher) feed it: the
// fetchers keep the fetch loop, the truncation rules and the backoffs;
// the partition keeps its locks and what an append as a follower does to
// its log and producer state. A fetched batch is appended only while this
// broker still follows that leader at that leader epoch (invariant 2):
// Locked holds the partition's state lock across the fetcher's check and
// its changes, and the producer-state lock before it, as the produce path
// takes them.

import (
	"errors"
	"time"

	"samsa/logfile"
	"samsa/producerstate"
	"samsa/record"
	"samsa/replica/fetcher"
)

// FetcherConfig configures the replica fetchers, with Kafka's keys.
type FetcherConfig = fetcher.Config

// followed is p as the fetchers see it (fetcher.Partition) and, inside
// Locked, its log (fetcher.Log). Each partition has one, made with it, so
// that the fetchers key their maps by the same pointer and an append as a
// follower allocates nothing for it.
type followed struct {
	m *Manager
	p *Partition
	// planAborts is p's producer state's PlanAborts, as it stands at each
	// append (a truncation replaces the state), made once.
	planAborts logfile.TxnPlan
}

func newFollowed(m *Manager, p *Partition) *followed {
	f := &followed{m: m, p: p}
	f.planAborts = func(bs *record.Batches) ([]logfile.AbortedTxn, error) { return p.prod.State.PlanAborts(bs) }
	return f
}

// followed returns p as the fetchers see it.
func (m *Manager) followed(p *Partition) *followed { return p.follow }

func (f *followed) Name() (string, int32) { return f.p.Topic, f.p.Index }

func (f *followed) Position() (end, start int64, lastEpoch int32) {
	l := f.p.Log
	return l.EndOffset(), l.StartOffset(), l.LatestEpoch()
}

func (f *followed) Locked(fn func(fetcher.Leadership, fetcher.Log) error) error {
	p := f.p
	p.prod.Mu.Lock()
	defer p.prod.Mu.Unlock()
	p.stateMu.RLock()
	defer p.stateMu.RUnlock()
	return fn(fetcher.Leadership{Leader: p.st.Leader, LeaderEpoch: p.st.LeaderEpoch, IsLeader: p.st.IsLeader}, f)
}

// The fetcher.Log methods below are called inside Locked: p.prod.Mu
// held, p.stateMu read-held.

func (f *followed) StartOffset() int64 { return f.p.Log.StartOffset() }
func (f *followed) EndOffset() int64   { return f.p.Log.EndOffset() }

func (f *followed) EpochEndOffset(epoch int32) (int32, int64) { return f.p.Log.EpochEndOffset(epoch) }

func (f *followed) Append(batches []byte) error {
	p, l := f.p, f.p.Log
	// A follower that started over at the leader's log start gets the
	// batch holding it whole when DeleteRecords moved the start inside a
	// batch: its log starts at that batch instead, as in Kafka, rather
	// than refusing it on every fetch.
	if h, err := record.ParseHeader(batches); err == nil && l.StartOffset() == l.EndOffset() &&
		h.BaseOffset < l.EndOffset() && h.LastOffset() >= l.EndOffset() {
		if err := l.TruncateFullyAndStartAt(h.BaseOffset); err != nil {
			return err
		}
	}
	// The same producer state and transaction index as the leader's: the
	// plan writes the index entries of the aborts with the batches, the
	// state applies them after.
	if _, err := l.AppendAsFollowerTxn(batches, f.planAborts); err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	for pos := 0; pos < len(batches); {
		b := batches[pos:]
		h, _ := record.ParseHeader(b)
		if h.ProducerID >= 0 {
			// A control batch holds no marker only if the leader wrote it
			// so: it changes nothing there either.
			_, _, _ = p.prod.State.Apply(&h, b[:h.Size()], now)
		}
		pos += int(h.Size())
	}
	f.m.maybeSnapshot(p)
	f.m.metrics.fetched(len(batches))
	return nil
}

func (f *followed) TakeLeaderOffsets(hw, logStart int64) error {
	p, l := f.p, f.p.Log
	l.SetHighWatermark(min(hw, l.EndOffset()))
	p.prod.Publish(l.HighWatermark())
	if logStart > l.StartOffset() && logStart <= l.HighWatermark() {
		if _, err := l.DeleteRecordsBefore(logStart); err != nil && !errors.Is(err, logfile.ErrOffsetOutOfRange) {
			return err
		}
	}
	p.notify()
	return nil
}

func (f *followed) TruncateTo(offset int64) error {
	if err := f.p.Log.TruncateTo(offset); err != nil {
		return err
	}
	return f.reloadProducers()
}

func (f *followed) TruncateFullyAndStartAt(offset int64) error {
	if err := f.p.Log.TruncateFullyAndStartAt(offset); err != nil {
		return err
	}
	return f.reloadProducers()
}

// reloadProducers rebuilds the producer state after a truncation.
func (f *followed) reloadProducers() error {
	p := f.p
	prod, err := producerstate.Load(p.Log)
	if err != nil {
		return err
	}
	p.prod.Replace(prod, p.Log.HighWatermark())
	return nil
}
