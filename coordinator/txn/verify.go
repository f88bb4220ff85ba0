package txn

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kclient"
	"samsa/metadata"
)

// Verifier is the replica layer's TxnVerifier: it checks, for a partition
// leader about to write the first batch of a transaction to a partition
// (KIP-890 part 1), that the partition is part of the producer's ongoing
// transaction, so that a batch arriving after its transaction ended opens
// no new one. It asks the coordinator of the transactional id: this
// broker's in-process, another broker with the broker-to-broker form of
// AddPartitionsToTxn (v4+, verify_only), as Kafka's
// AddPartitionsToTxnManager does.
type Verifier struct {
	Coordinator *Coordinator // this broker's
	Cache       *metadata.Cache
	Self        int32
	Conns       *Conns // to other coordinators
}

// VerifyTxn asks whether each partition of parts (topic to partitions) is
// in the ongoing transaction of transactionalID at producerID and epoch.
// It returns the coordinator's code per partition, as the coordinator
// answers them (0: in the transaction; TRANSACTION_ABORTABLE: not in it),
// or the error of the whole question, a *kerr.Error when the coordinator
// gave one (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS,
// CONCURRENT_TRANSACTIONS, PRODUCER_FENCED, INVALID_PRODUCER_ID_MAPPING,
// CLUSTER_AUTHORIZATION_FAILED, COORDINATOR_NOT_AVAILABLE when none is
// known), another error when it could not be asked. The leader translates
// them for the producer (replica.VerifyTxnProduce). A coordinator too
// old to verify (AddPartitionsToTxn below v4) is not asked: no codes, as
// Kafka skips verification then.
func (v *Verifier) VerifyTxn(ctx context.Context, transactionalID string, producerID int64, epoch int16, parts map[string][]int32) (map[string]map[int32]int16, error) {
	snap := v.Cache.Load()
	st, ok := snap.Partition(Topic, v.Coordinator.PartitionFor(transactionalID))
	if !ok || st.Leader < 0 || !snap.Alive(st.Leader) {
		return nil, kerr.CoordinatorNotAvailable
	}
	out := make(map[string]map[int32]int16, len(parts))
	if st.Leader == v.Self {
		var tps []TopicPartition
		for topic, ps := range parts {
			for _, p := range ps {
				tps = append(tps, TopicPartition{topic, p})
			}
		}
		results, top := v.Coordinator.VerifyPartitions(transactionalID, producerID, epoch, tps)
		if top != nil {
			return nil, top
		}
		for tp, code := range results {
			if out[tp.Topic] == nil {
				out[tp.Topic] = map[int32]int16{}
			}
			out[tp.Topic][tp.Partition] = 0
			if code != nil {
				out[tp.Topic][tp.Partition] = code.Code
			}
		}
		return out, nil
	}
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	t := kmsg.NewAddPartitionsToTxnRequestTransaction()
	t.TransactionalID, t.ProducerID, t.ProducerEpoch, t.VerifyOnly = transactionalID, producerID, epoch, true
	for _, topic := range slices.Sorted(maps.Keys(parts)) {
		rt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
		rt.Topic, rt.Partitions = topic, parts[topic]
		t.Topics = append(t.Topics, rt)
	}
	req.Transactions = append(req.Transactions, t)
	conn, err := v.Conns.conn(st.Leader)
	if err != nil {
		return nil, kerr.CoordinatorNotAvailable
	}
	resp, err := conn.RequestAtLeast(ctx, req, 4)
	switch {
	case errors.Is(err, kclient.ErrUnsupported):
		return nil, nil
	case err != nil:
		return nil, err
	}
	r := resp.(*kmsg.AddPartitionsToTxnResponse)
	if r.ErrorCode != 0 {
		return nil, asKerr(kerr.ErrorForCode(r.ErrorCode))
	}
	for _, tr := range r.Transactions {
		if tr.TransactionalID != transactionalID {
			continue
		}
		for _, rt := range tr.Topics {
			for _, p := range rt.Partitions {
				if out[rt.Topic] == nil {
					out[rt.Topic] = map[int32]int16{}
				}
				out[rt.Topic][p.Partition] = p.ErrorCode
			}
		}
	}
	// A partition the coordinator did not answer for is not verified.
	for topic, ps := range parts {
		for _, p := range ps {
			if _, ok := out[topic][p]; !ok {
				if out[topic] == nil {
					out[topic] = map[int32]int16{}
				}
				out[topic][p] = kerr.InvalidTxnState.Code
			}
		}
	}
	return out, nil
}

func asKerr(err error) *kerr.Error {
	if ke, ok := err.(*kerr.Error); ok {
		return ke
	}
	return kerr.UnknownServerError
}
