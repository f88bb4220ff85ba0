package txn

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Description is a transactional id as DescribeTransactions shows it.
type Description struct {
	ProducerID int64
	Epoch      int16
	State      State
	TimeoutMs  int32
	StartMs    int64 // -1 outside a transaction
	Partitions []TopicPartition
}

// Describe serves DescribeTransactions for one id (Kafka's
// handleDescribeTransactions): TRANSACTIONAL_ID_NOT_FOUND for an id it
// does not know (or is forgetting), NOT_COORDINATOR or
// COORDINATOR_LOAD_IN_PROGRESS when it is not the one to ask.
func (c *Coordinator) Describe(id string) (Description, *kerr.Error) {
	if id == "" {
		return Description{}, kerr.InvalidRequest
	}
	p, perr := c.acquire(id)
	if perr != nil {
		return Description{}, perr
	}
	defer p.release()
	tm := p.get(id)
	if tm == nil {
		return Description{}, kerr.TransactionalIDNotFound
	}
	tm.mu.Lock()
	defer tm.mu.Unlock()
	if tm.state == Dead {
		return Description{}, kerr.TransactionalIDNotFound
	}
	return Description{
		ProducerID: tm.producerID, Epoch: tm.producerEpoch, State: tm.state, TimeoutMs: tm.timeoutMs,
		StartMs: tm.startMs, Partitions: tm.sortedPartitions(),
	}, nil
}

// Listed is a transactional id as ListTransactions shows it.
type Listed struct {
	ID         string
	ProducerID int64
	State      State
}

// List serves ListTransactions (KIP-664; Kafka's listTransactionStates):
// the ids of every loaded partition, filtered by producer id (none: all),
// by state name (none: all; names Kafka does not know are returned in
// unknown and match nothing) and, with minDurationMs >= 0 (v1), to
// transactions running longer than that. COORDINATOR_LOAD_IN_PROGRESS
// while any partition loads.
func (c *Coordinator) List(producerIDs []int64, states []string, minDurationMs int64) (list []Listed, unknown []string, code *kerr.Error) {
	parts, loading := c.loadedPartitions()
	if loading {
		return nil, nil, kerr.CoordinatorLoadInProgress
	}
	want := map[State]bool{}
	for _, name := range states {
		if s, ok := StateByName(name); ok {
			want[s] = true
		} else {
			unknown = append(unknown, name)
		}
	}
	now := nowMs()
	for _, p := range parts {
		p.mu.Lock()
		for _, tm := range p.txns {
			tm.mu.Lock()
			switch {
			case tm.state == Dead:
			case len(producerIDs) > 0 && !slices.Contains(producerIDs, tm.producerID):
			case len(states) > 0 && !want[tm.state]:
			case minDurationMs >= 0 && now-tm.startMs <= minDurationMs:
			default:
				list = append(list, Listed{ID: tm.id, ProducerID: tm.producerID, State: tm.state})
			}
			tm.mu.Unlock()
		}
		p.mu.Unlock()
	}
	slices.SortFunc(list, func(a, b Listed) int { return strings.Compare(a.ID, b.ID) })
	return list, unknown, nil
}
