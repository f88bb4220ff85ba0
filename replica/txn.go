package replica

// Transactions on the partitions this broker leads (KIP-98, KIP-890 part
// 1; Kafka's ReplicaManager.appendRecordsWithTransactionVerification and
// the WriteTxnMarkers path of KafkaApis):
//
//   - A producer's first transactional batch on a partition is written
//     only once the transaction coordinator has said the partition is in
//     the producer's ongoing transaction (TxnVerifier; producerstate's
//     guard voids an answer a marker overtook), so a produce that comes
//     after its transaction was aborted is refused (INVALID_TXN_STATE)
//     instead of opening a transaction no coordinator will end.
//   - The coordinator ends a transaction with a COMMIT or ABORT marker on
//     each partition (WriteTxnMarker), fenced by producer epoch and
//     coordinator epoch; an abort adds its entry to the log's transaction
//     index, written with the marker.
//   - The last stable offset is the log's (logfile.Log.LastStableOffset,
//     fed by the producer state): read_committed reads stop there.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/internal/apierr"
	"samsa/producerstate"
	"samsa/record"
)

// TxnVerifier answers whether partitions are part of a producer's ongoing
// transaction (KIP-890 part 1): the transaction coordinator of the
// transactional ID does, through AddPartitionsToTxn v4+ with verify_only
// (broker to broker), or in process when this broker coordinates the id.
type TxnVerifier interface {
	// VerifyTxn asks for the partitions of parts (topic to partitions)
	// whether each is in the ongoing transaction of transactionalID with
	// that producer ID and epoch. It returns the coordinator's error code
	// per partition (0 or absent: verified; INVALID_TXN_STATE: not in the
	// transaction; PRODUCER_FENCED, CONCURRENT_TRANSACTIONS, ...), or an
	// error for the whole request (a kerr.Error code, such as
	// NOT_COORDINATOR, or a failure to reach the coordinator).
	VerifyTxn(ctx context.Context, transactionalID string, producerID int64, epoch int16, parts map[string][]int32) (map[string]map[int32]int16, error)
}

// AlwaysVerified is the TxnVerifier of a broker without a transaction
// coordinator: every partition is in the transaction. The guard still
// refuses a batch whose verification a marker overtook.
type AlwaysVerified struct{}

func (AlwaysVerified) VerifyTxn(context.Context, string, int64, int16, map[string][]int32) (map[string]map[int32]int16, error) {
	return nil, nil
}

// SetTxnVerifier sets the verifier of transactional produces (the
// transaction coordinator is built after the replica manager).
func (m *Manager) SetTxnVerifier(v TxnVerifier) {
	if v == nil {
		v = AlwaysVerified{}
	}
	m.verifier.Store(&v)
}

func (m *Manager) txnVerifier() TxnVerifier {
	if v := m.verifier.Load(); v != nil {
		return *v
	}
	return AlwaysVerified{}
}

// TxnProduce is one partition of a produce request that carries a
// transactional batch.
type TxnProduce struct {
	P          *Partition
	ProducerID int64
	Epoch      int16
	// Guard is set by VerifyTxnProduce: give it to AppendTxn.
	Guard uint64
	// Err is set by VerifyTxnProduce when the partition may not be
	// written: Kafka's code for the producer.
	Err error
	// Code is the coordinator's refusal behind Err as Kafka's
	// AddPartitionsToTxnManager hands it on (0: verified or not asked):
	// PRODUCER_FENCED as INVALID_PRODUCER_EPOCH, CLUSTER_AUTHORIZATION_FAILED
	// as INVALID_TXN_STATE, a coordinator not reached NETWORK_EXCEPTION,
	// the others (TRANSACTION_ABORTABLE included) as answered. Callers
	// that are not produces (TxnOffsetCommit) word it their own way.
	Code int16
}

// VerifyTxnProduce verifies, with one question to the coordinator, the
// partitions of a produce on which the producer has no open transaction
// yet, and sets each one's guard or error. The coordinator's retriable
// errors become NOT_ENOUGH_REPLICAS, which every client retries without a
// metadata refresh, and PRODUCER_FENCED becomes INVALID_PRODUCER_EPOCH,
// as Kafka translates them for producers.
func (m *Manager) VerifyTxnProduce(ctx context.Context, transactionalID string, parts []TxnProduce) {
	if len(parts) == 0 {
		return
	}
	now := time.Now().UnixMilli()
	ask := map[string][]int32{}
	for i := range parts {
		tp := &parts[i]
		p := tp.P
		p.prod.Mu.Lock()
		guard, need := p.prod.State.StartVerification(tp.ProducerID, now)
		p.prod.Mu.Unlock()
		tp.Guard = guard
		if need {
			ask[p.Topic] = append(ask[p.Topic], p.Index)
		}
	}
	if len(ask) == 0 {
		return
	}
	pid, epoch := parts[0].ProducerID, parts[0].Epoch
	codes, err := m.txnVerifier().VerifyTxn(ctx, transactionalID, pid, epoch, ask)
	for i := range parts {
		tp := &parts[i]
		asked := false
		for _, x := range ask[tp.P.Topic] {
			asked = asked || x == tp.P.Index
		}
		if !asked {
			continue
		}
		var code int16
		switch {
		case err != nil:
			code = kerr.NetworkException.Code
			var ke *kerr.Error
			if errors.As(err, &ke) {
				code = ke.Code
			}
			if code == kerr.ClusterAuthorizationFailed.Code {
				// Producers must not see the brokers' authorization.
				code = kerr.InvalidTxnState.Code
			}
		default:
			code = codes[tp.P.Topic][tp.P.Index]
		}
		if code != 0 {
			tp.Err = verificationError(code)
			tp.Code = code
			if code == kerr.ProducerFenced.Code {
				tp.Code = kerr.InvalidProducerEpoch.Code // producers know only this one here
			}
		}
	}
}

// verificationError is what a producer is told of a coordinator's
// verification error (Kafka's AddPartitionsToTxnManager and
// ReplicaManager translations).
func verificationError(code int16) error {
	switch code {
	case kerr.InvalidTxnState.Code, kerr.TransactionAbortable.Code:
		return apierr.Errorf(kerr.InvalidTxnState, "Partition was not added to the transaction")
	case kerr.ProducerFenced.Code:
		return apierr.Errorf(kerr.InvalidProducerEpoch, "the producer's epoch was fenced by the transaction coordinator")
	case kerr.ConcurrentTransactions.Code, kerr.NetworkException.Code, kerr.CoordinatorLoadInProgress.Code,
		kerr.CoordinatorNotAvailable.Code, kerr.NotCoordinator.Code:
		return apierr.Errorf(kerr.NotEnoughReplicas, "Unable to verify the partition has been added to the transaction. Underlying error: %s", kerr.TypedErrorForCode(code).Message)
	}
	return apierr.Errorf(kerr.TypedErrorForCode(code), "transaction verification failed")
}

// Marker is one marker WriteTxnMarker writes.
type Marker struct {
	ProducerID       int64
	ProducerEpoch    int16
	CoordinatorEpoch int32
	Commit           bool
	// MinISR is the topic's min.insync.replicas: markers are written
	// with acks=all, so not below it (0: not checked).
	MinISR int
}

// WriteTxnMarker ends producer pid's transaction on a partition this
// broker leads with a COMMIT or ABORT control batch (Kafka's
// WriteTxnMarkers append, origin coordinator), and returns the marker's
// offset for the caller to wait for the in-sync replicas
// (AwaitReplication: markers are written with acks=all). Errors, with
// Kafka's codes: NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS below
// min.insync.replicas, INVALID_PRODUCER_EPOCH for an
// epoch older than the producer's, TRANSACTION_COORDINATOR_FENCED for a
// coordinator epoch older than the last marker's (a zombie coordinator),
// or the log's.
func (m *Manager) WriteTxnMarker(p *Partition, mk Marker) (int64, error) {
	off, err := m.writeMarker(p, mk, time.Now().UnixMilli())
	if err == nil && m.alterISR != nil {
		p.AdvanceHW()
	}
	return off, err
}

func (m *Manager) writeMarker(p *Partition, mk Marker, now int64) (int64, error) {
	typ := record.ControlAbort
	if mk.Commit {
		typ = record.ControlCommit
	}
	batch := record.AppendEndTxnMarker(nil, mk.ProducerID, mk.ProducerEpoch, record.EndTxnMarker{Type: typ, CoordinatorEpoch: mk.CoordinatorEpoch}, now)
	bs, err := record.ValidateProduce(batch, 1<<20, true)
	if err != nil {
		panic(fmt.Sprintf("replica: a marker the broker built does not validate: %v", err))
	}
	p.prod.Mu.Lock()
	defer p.prod.Mu.Unlock()
	p.stateMu.RLock()
	defer p.stateMu.RUnlock()
	if !p.st.IsLeader {
		return -1, apierr.Errorf(kerr.NotLeaderForPartition, "broker is not the leader of %s-%d", p.Topic, p.Index)
	}
	if len(p.st.ISR) < mk.MinISR {
		return -1, apierr.Errorf(kerr.NotEnoughReplicas, "The size of the current ISR %v is insufficient to satisfy the min.isr requirement of %d for partition %s-%d", p.st.ISR, mk.MinISR, p.Topic, p.Index)
	}
	if err := p.prod.State.CheckMarker(mk.ProducerID, mk.ProducerEpoch, mk.CoordinatorEpoch); err != nil {
		return -1, apierr.Errorf(codeOfKerr(err), "%v", err)
	}
	bs.SetLeaderEpoch(p.st.LeaderEpoch)
	info, err := p.Log.AppendValidatedTxn(&bs, p.prod.State.PlanAborts)
	if err != nil {
		return -1, produceError(err)
	}
	h := bs.Header(0)
	p.prod.State.EndTxn(h, record.EndTxnMarker{Type: typ, CoordinatorEpoch: mk.CoordinatorEpoch}, now)
	p.prod.Publish(p.Log.HighWatermark())
	m.maybeSnapshot(p)
	p.notify()
	return info.LastOffset, nil
}

// codeOfKerr returns the Kafka error an error of package producerstate
// wraps.
func codeOfKerr(err error) *kerr.Error {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke
	}
	return kerr.UnknownServerError
}

// LastStableOffset returns the partition's last stable offset.
func (p *Partition) LastStableOffset() int64 { return p.Log.LastStableOffset() }

// ActiveProducers returns the partition's producers with their epochs,
// last sequences and open transactions (DescribeProducers, KIP-664).
func (p *Partition) ActiveProducers() []producerstate.ProducerInfo {
	p.prod.Mu.Lock()
	defer p.prod.Mu.Unlock()
	return p.prod.State.Active()
}

// OpenTxns returns the first offsets of the partition's open transactions
// by producer (tools and tests).
func (p *Partition) OpenTxns() map[int64]int64 {
	p.prod.Mu.Lock()
	defer p.prod.Mu.Unlock()
	out := map[int64]int64{}
	for _, s := range p.prod.State.OpenTxns() {
		out[s.ProducerID] = s.First
	}
	return out
}
