package fetcher

// What a follower does with one partition's part of its leader's answer
// (Kafka's AbstractFetcherThread.processFetchRequest, truncateOnFetchResponse
// and handleOutOfRangeError): the table in the package comment.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Apply applies one partition's part of an answer from leader to a fetch
// sent while p was followed at epoch, and returns the partition's error
// (the fetcher then backs it off). It is the fetch loop's step for each
// partition (which makes it through a reused applying); tests that play
// the fetcher call it.
func (m *Manager) Apply(p Partition, leader, epoch int32, rp *kmsg.FetchResponseTopicPartition) error {
	var a applying
	return a.run(m, p, leader, epoch, rp)
}

// applying is one partition's answer being applied: what the function
// Partition.Locked calls needs, held where that function (made once) finds
// it, so that a fetcher's applies allocate no closure each.
type applying struct {
	m      *Manager
	leader int32
	epoch  int32
	rp     *kmsg.FetchResponseTopicPartition
	p      Partition
	locked func(Leadership, Log) error // a.apply, bound once
}

func (a *applying) run(m *Manager, p Partition, leader, epoch int32, rp *kmsg.FetchResponseTopicPartition) error {
	switch rp.ErrorCode {
	case 0:
	case kerr.OffsetOutOfRange.Code:
		return m.outOfRange(p, epoch, rp)
	default:
		// Fenced, not the leader, unknown: the controller will tell us.
		return kerr.ErrorForCode(rp.ErrorCode)
	}
	if a.locked == nil {
		a.locked = a.apply
	}
	a.m, a.p, a.leader, a.epoch, a.rp = m, p, leader, epoch, rp
	err := p.Locked(a.locked)
	a.p, a.rp = nil, nil // nothing kept past the answer
	return err
}

// apply is the change under the partition's lock.
func (a *applying) apply(st Leadership, l Log) error {
	rp := a.rp
	if st.IsLeader || st.Leader != a.leader || st.LeaderEpoch != a.epoch {
		return nil // leadership moved while we fetched
	}
	if rp.DivergingEpoch.EndOffset >= 0 && rp.DivergingEpoch.Epoch >= 0 {
		return a.m.truncateDiverged(a.p, l, rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset)
	}
	if len(rp.RecordBatches) > 0 {
		if err := l.Append(rp.RecordBatches); err != nil {
			return err
		}
	}
	return l.TakeLeaderOffsets(rp.HighWatermark, rp.LogStartOffset)
}

// truncateDiverged cuts the log back to where it agrees with the leader's:
// the leader's log for epoch ends at endOffset; ours for the largest epoch
// not above it ends at ours (invariant 5).
func (m *Manager) truncateDiverged(p Partition, l Log, epoch int32, endOffset int64) error {
	localEpoch, localEnd := l.EpochEndOffset(epoch)
	to := endOffset
	if localEpoch >= 0 && localEnd >= 0 {
		to = min(to, localEnd)
	}
	to = min(to, l.EndOffset())
	topic, index := p.Name()
	m.log.Info("follower log diverged from the leader's; truncating", "topic", topic, "partition", index,
		"leader.epoch", epoch, "leader.end", endOffset, "local.epoch", localEpoch, "local.end", localEnd, "to", to)
	return l.TruncateTo(to)
}

// outOfRange handles OFFSET_OUT_OF_RANGE: the leader's log starts past
// our end (retention moved it): start over at its log start; or ours ends
// past the leader's (should not happen with epochs): cut to its high
// watermark.
func (m *Manager) outOfRange(p Partition, epoch int32, rp *kmsg.FetchResponseTopicPartition) error {
	return p.Locked(func(st Leadership, l Log) error {
		if st.IsLeader || st.LeaderEpoch != epoch {
			return nil
		}
		if rp.LogStartOffset > l.EndOffset() {
			topic, index := p.Name()
			m.log.Info("follower behind the leader's log start; starting over there", "topic", topic, "partition", index, "start", rp.LogStartOffset)
			return l.TruncateFullyAndStartAt(rp.LogStartOffset)
		}
		return l.TruncateTo(max(rp.HighWatermark, l.StartOffset()))
	})
}
