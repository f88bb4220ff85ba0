package replica

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/config"
	"samsa/internal/apierr"
	"samsa/logfile"
	"samsa/record"
)

// Appended is where a produce's records went.
type Appended struct {
	BaseOffset     int64
	LogAppendTime  int64 // -1 unless the topic uses LogAppendTime
	LogStartOffset int64
}

// Append validates one partition's record set from a Produce request of
// the given version and appends it (Kafka's LogValidator, then the append
// under the partition's producer-state lock). Errors carry Kafka's code
// (apierr).
func (m *Manager) Append(ts *Topic, p *Partition, version int16, records []byte, now int64) (Appended, error) {
	res := Appended{BaseOffset: -1, LogAppendTime: -1, LogStartOffset: -1}
	err := m.append(ts, p, version, records, now, &res)
	return res, err
}

func (m *Manager) append(ts *Topic, p *Partition, version int16, records []byte, now int64, sp *Appended) error {
	maxBytes := int64(ts.Config.MaxMessageBytes)
	if version >= 3 {
		// Kafka: v3+ carries exactly one batch of magic 2 per partition.
		if len(records) == 0 {
			return apierr.Errorf(kerr.InvalidRecord, "produce v3+ needs exactly one record batch, got none")
		}
		h, err := record.ParseHeader(records)
		switch {
		case errors.Is(err, record.ErrMagic):
			return apierr.Errorf(kerr.InvalidRecord, "produce v3+ allows only record batches of magic 2: %v", err)
		case err == nil && h.Size() < int64(len(records)):
			return apierr.Errorf(kerr.InvalidRecord, "produce v3+ needs exactly one record batch per partition, got more")
		}
	} else if len(records) == 0 {
		return apierr.Errorf(kerr.CorruptMessage, "empty record set")
	}
	bs, err := record.ValidateProduce(records, maxBytes)
	if err != nil {
		return produceError(err)
	}
	bs, idem, err := validateBatches(version, ts, p, bs, now)
	if err != nil {
		return err
	}
	p.prod.Mu.Lock()
	defer p.prod.Mu.Unlock()
	// Leadership holds for the whole append: a LeaderAndIsr that moves it
	// waits, so every batch carries the epoch of the leader that took it.
	p.stateMu.RLock()
	defer p.stateMu.RUnlock()
	if !p.st.IsLeader {
		return apierr.Errorf(kerr.NotLeaderForPartition, "broker is not the leader of %s-%d", p.Topic, p.Index)
	}
	// Idempotent batches: a retry of a batch already written gets its
	// original offsets; gaps and stale epochs are refused.
	for i := range idem {
		dup, err := p.prod.State.Check(&idem[i])
		if err != nil {
			return err
		}
		if dup != nil {
			if bs.Count != 1 {
				return apierr.Errorf(kerr.OutOfOrderSequenceNumber, "a duplicate batch in a request of %d batches", bs.Count)
			}
			sp.BaseOffset, sp.LogStartOffset = dup.FirstOffset, p.Log.StartOffset()
			return nil
		}
	}
	if len(idem) > 1 {
		return apierr.Errorf(kerr.InvalidRecord, "%d idempotent batches for one partition in one request", len(idem))
	}
	for batch := range bs.All() {
		record.SetLeaderEpoch(batch, p.st.LeaderEpoch)
	}
	info, err := p.Log.AppendValidated(bs)
	if err != nil {
		return produceError(err)
	}
	if len(idem) == 1 {
		p.prod.State.Update(&idem[0], info.FirstOffset, now)
		m.maybeSnapshot(p)
	}
	p.notify()
	ts.C.in(int64(len(bs.Buf)), info.Records)
	sp.BaseOffset = info.FirstOffset
	sp.LogStartOffset = info.LogStartOffset
	if ts.Config.MessageTimestampType == config.LogAppendTime {
		sp.LogAppendTime = now
	}
	return nil
}

// maybeSnapshot writes a producer snapshot when the log has rolled since
// the last one, so that rebuilding after a crash scans about one segment.
// Called with p.prod.mu held.
func (m *Manager) maybeSnapshot(p *Partition) {
	segs := p.Log.SegmentBases()
	if active := segs[len(segs)-1]; active != p.prod.SnapBase {
		if err := p.prod.Snapshot(p.Log.EndOffset()); err != nil {
			m.log.Warn("producer snapshot", "dir", p.Log.Dir(), "err", err)
			return
		}
		p.prod.SnapBase = active
	}
}

func produceError(err error) error {
	switch {
	case errors.Is(err, record.ErrMagic):
		return apierr.Errorf(kerr.UnsupportedForMessageFormat, "%v: only RecordBatch v2 (magic 2) is stored", err)
	case errors.Is(err, record.ErrBatchTooLarge):
		return apierr.Errorf(kerr.MessageTooLarge, "%v", err)
	case errors.Is(err, record.ErrInvalidRecord), errors.Is(err, record.ErrFraming), errors.Is(err, record.ErrNoKey):
		return apierr.Errorf(kerr.InvalidRecord, "%v", err)
	case errors.Is(err, record.ErrTimestamp):
		return apierr.Errorf(kerr.InvalidTimestamp, "%v", err)
	case errors.Is(err, record.ErrCorrupt):
		return apierr.Errorf(kerr.CorruptMessage, "%v", err)
	case errors.Is(err, logfile.ErrClosed):
		return apierr.Errorf(kerr.NotLeaderForPartition, "partition is closing")
	}
	return apierr.Errorf(kerr.KafkaStorageError, "%v", err)
}
