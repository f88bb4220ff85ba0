package txn

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/apierr"
	"samsa/kclient"
	"samsa/metadata"
)

// Verifier checks, for a partition leader about to write the first batch
// of a transaction to a partition (KIP-890 part 1), that the partition is
// part of the producer's ongoing transaction, so that a batch arriving
// after its transaction ended opens no new one. It asks the coordinator of
// the transactional id: this broker's in-process, another broker with the
// broker-to-broker form of AddPartitionsToTxn (v4+, verify_only), as
// Kafka's AddPartitionsToTxnManager does.
type Verifier struct {
	Coordinator *Coordinator // this broker's
	Cache       *metadata.Cache
	Self        int32
	Conns       *Conns // to other coordinators
}

// Verify returns nil when the partition is in the ongoing transaction of
// producerID at epoch; otherwise an error carrying (internal/apierr) the
// code the produce is refused with, mapped as Kafka maps them for
// producers: INVALID_TXN_STATE when the partition is not in the
// transaction (TRANSACTION_ABORTABLE from the coordinator) or the
// coordinator refused this broker, INVALID_PRODUCER_EPOCH when the
// producer is fenced, COORDINATOR_NOT_AVAILABLE when no coordinator is
// known, NETWORK_EXCEPTION when it did not answer, and NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS, CONCURRENT_TRANSACTIONS or
// INVALID_PRODUCER_ID_MAPPING as it answered. A coordinator too old to
// verify (AddPartitionsToTxn below v4) is not asked: nil, as in Kafka.
func (v *Verifier) Verify(ctx context.Context, transactionalID string, producerID int64, epoch int16, topic string, partition int32) error {
	tp := TopicPartition{topic, partition}
	snap := v.Cache.Load()
	st, ok := snap.Partition(Topic, v.Coordinator.PartitionFor(transactionalID))
	if !ok || st.Leader < 0 || !snap.Alive(st.Leader) {
		return apierr.Errorf(kerr.CoordinatorNotAvailable, "no coordinator is known for transactional id %q", transactionalID)
	}
	if st.Leader == v.Self {
		results, top := v.Coordinator.VerifyPartitions(transactionalID, producerID, epoch, []TopicPartition{tp})
		if top == nil {
			top = results[tp]
		}
		return verifyError(top, transactionalID, tp)
	}
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	t := kmsg.NewAddPartitionsToTxnRequestTransaction()
	t.TransactionalID, t.ProducerID, t.ProducerEpoch, t.VerifyOnly = transactionalID, producerID, epoch, true
	rt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
	rt.Topic, rt.Partitions = topic, []int32{partition}
	t.Topics = append(t.Topics, rt)
	req.Transactions = append(req.Transactions, t)
	conn, err := v.Conns.conn(st.Leader)
	if err != nil {
		return apierr.Errorf(kerr.CoordinatorNotAvailable, "%v", err)
	}
	resp, err := conn.RequestAtLeast(ctx, req, 4)
	switch {
	case errors.Is(err, kclient.ErrUnsupported):
		return nil
	case err != nil:
		return apierr.Errorf(kerr.NetworkException, "verifying the transaction with its coordinator: %v", err)
	}
	r := resp.(*kmsg.AddPartitionsToTxnResponse)
	if r.ErrorCode != 0 {
		code := kerr.ErrorForCode(r.ErrorCode)
		if code == kerr.ClusterAuthorizationFailed {
			code = kerr.InvalidTxnState // the producer cannot act on the broker's authorization
		}
		return verifyError(asKerr(code), transactionalID, tp)
	}
	for _, tr := range r.Transactions {
		if tr.TransactionalID != transactionalID {
			continue
		}
		for _, t := range tr.Topics {
			for _, p := range t.Partitions {
				if t.Topic == topic && p.Partition == partition {
					return verifyError(asKerr(kerr.ErrorForCode(p.ErrorCode)), transactionalID, tp)
				}
			}
		}
	}
	return apierr.Errorf(kerr.InvalidTxnState, "the coordinator did not answer for %s", tp)
}

func asKerr(err error) *kerr.Error {
	if err == nil {
		return nil
	}
	if ke, ok := err.(*kerr.Error); ok {
		return ke
	}
	return kerr.UnknownServerError
}

func verifyError(code *kerr.Error, id string, tp TopicPartition) error {
	switch code {
	case nil:
		return nil
	case kerr.ProducerFenced:
		code = kerr.InvalidProducerEpoch // what producers expect here
	case kerr.TransactionAbortable:
		code = kerr.InvalidTxnState // for producers that predate TRANSACTION_ABORTABLE
	}
	return apierr.Errorf(code, "%s is not part of the ongoing transaction of transactional id %q", tp, id)
}
