package replica

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/internal/apierr"
	"samsa/logfile"
	"samsa/metadata"
)

// DeleteRecords moves one partition's start offset and returns the new one.
func (m *Manager) DeleteRecords(topic string, partition int32, offset int64) (int64, error) {
	ts, p, err := m.Lookup(topic, partition)
	if err == nil {
		err = p.CheckLeader(-1)
	}
	if err != nil {
		return -1, err
	}
	name := ts.Meta.Name
	if metadata.IsInternal(name) {
		return -1, apierr.Errorf(kerr.InvalidTopicException, "Cannot delete records of internal topic %s", name)
	}
	if !ts.Config.CleanupPolicy.Delete {
		return -1, apierr.Errorf(kerr.PolicyViolation, "Records of partition %s-%d can not be deleted due to the configured policy", name, partition)
	}
	l := p.Log
	if offset == -1 {
		offset = l.HighWatermark()
	}
	if offset < 0 {
		return -1, apierr.Errorf(kerr.OffsetOutOfRange, "The offset %d for partition %s-%d is not valid", offset, name, partition)
	}
	low, err := l.DeleteRecordsBefore(offset)
	switch {
	case errors.Is(err, logfile.ErrOffsetOutOfRange):
		return -1, apierr.Errorf(kerr.OffsetOutOfRange, "Cannot increment the log start offset to %d of partition %s-%d since it is larger than the high watermark %d", offset, name, partition, l.HighWatermark())
	case errors.Is(err, logfile.ErrClosed):
		return -1, apierr.Errorf(kerr.NotLeaderForPartition, "partition %s-%d is closing", name, partition)
	case err != nil:
		return -1, apierr.Errorf(kerr.KafkaStorageError, "%v", err)
	}
	p.notify() // parked fetches answer with the new log start
	return low, nil
}
