package txn

// The coordinator's requests and responses, as Kafka's KafkaApis and
// TransactionCoordinator answer them; kafkaapi's api_NN files serve them.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// code is a coordinator error as a request of this version may carry it:
// PRODUCER_FENCED is INVALID_PRODUCER_EPOCH for clients that predate it
// (KIP-588: InitProducerId v4, the others v2).
func code(err *kerr.Error, version, fencedSince int16) int16 {
	if err == nil {
		return 0
	}
	if err == kerr.ProducerFenced && version < fencedSince {
		return kerr.InvalidProducerEpoch.Code
	}
	return err.Code
}

// HandleInitProducerID serves InitProducerId (v0-v5). Without a
// transactional id the producer is idempotent: a new producer id at epoch
// 0 (also for a producer naming its current id and epoch: KIP-360). With
// one, InitProducerID. A producer id without an epoch, or the reverse, is
// INVALID_REQUEST.
func (c *Coordinator) HandleInitProducerID(req *kmsg.InitProducerIDRequest) *kmsg.InitProducerIDResponse {
	resp := kmsg.NewPtrInitProducerIDResponse()
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if (req.ProducerID == -1) != (req.ProducerEpoch == -1) {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return resp
	}
	if req.TransactionalID == nil {
		pid, err := c.cfg.ProducerIDs()
		if err != nil {
			c.log.Error("allocating a producer id failed", "err", err)
			resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
			return resp
		}
		resp.ProducerID, resp.ProducerEpoch = pid, 0
		return resp
	}
	pid, epoch, err := c.InitProducerID(*req.TransactionalID, req.TransactionTimeoutMillis, req.ProducerID, req.ProducerEpoch)
	if err != nil {
		resp.ErrorCode = code(err, req.Version, 4)
		return resp
	}
	resp.ProducerID, resp.ProducerEpoch = pid, epoch
	return resp
}

// HandleAddPartitionsToTxn serves AddPartitionsToTxn (v0-v5): one
// transaction from a producer (v0-v3), or a batch from a broker (v4+),
// whose verify-only transactions are checked (VerifyPartitions), the
// others added (AddPartitions). For a producer's request, a transactional
// id it may not write (writeTxn) is TRANSACTIONAL_ID_AUTHORIZATION_FAILED
// for every partition; a topic it may not write (writeTopic: internal
// topics never, AddOffsetsToTxn adds __consumer_offsets) is
// TOPIC_AUTHORIZATION_FAILED. A partition so refused, or one that does not
// exist (exists: UNKNOWN_TOPIC_OR_PARTITION), fails its whole
// transaction: OPERATION_NOT_ATTEMPTED for the others.
func (c *Coordinator) HandleAddPartitionsToTxn(req *kmsg.AddPartitionsToTxnRequest, exists func(topic string, partition int32) bool, writeTxn, writeTopic func(name string) bool) *kmsg.AddPartitionsToTxnResponse {
	resp := kmsg.NewPtrAddPartitionsToTxnResponse()
	type one struct {
		id         string
		pid        int64
		epoch      int16
		verifyOnly bool
		parts      []TopicPartition
	}
	var txns []one
	if req.Version < 4 {
		t := one{id: req.TransactionalID, pid: req.ProducerID, epoch: req.ProducerEpoch}
		for _, rt := range req.Topics {
			for _, p := range rt.Partitions {
				t.parts = append(t.parts, TopicPartition{rt.Topic, p})
			}
		}
		txns = append(txns, t)
	}
	for _, rt := range req.Transactions {
		t := one{id: rt.TransactionalID, pid: rt.ProducerID, epoch: rt.ProducerEpoch, verifyOnly: rt.VerifyOnly}
		for _, tt := range rt.Topics {
			for _, p := range tt.Partitions {
				t.parts = append(t.parts, TopicPartition{tt.Topic, p})
			}
		}
		txns = append(txns, t)
	}
	for _, t := range txns {
		codes := make([]int16, len(t.parts))
		all := func(c int16) {
			for i := range codes {
				codes[i] = c
			}
		}
		if req.Version < 4 && !writeTxn(t.id) {
			all(kerr.TransactionalIDAuthorizationFailed.Code)
		} else {
			c.addOrVerify(req.Version, t.id, t.pid, t.epoch, t.verifyOnly, t.parts, codes, exists, writeTopic)
		}
		rt := kmsg.NewAddPartitionsToTxnResponseTransaction()
		rt.TransactionalID = t.id
		for i, tp := range t.parts {
			n := len(rt.Topics)
			if n == 0 || rt.Topics[n-1].Topic != tp.Topic {
				tt := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
				tt.Topic = tp.Topic
				rt.Topics = append(rt.Topics, tt)
				n++
			}
			p := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
			p.Partition, p.ErrorCode = tp.Partition, codes[i]
			rt.Topics[n-1].Partitions = append(rt.Topics[n-1].Partitions, p)
		}
		if req.Version >= 4 {
			resp.Transactions = append(resp.Transactions, rt)
			continue
		}
		for _, tt := range rt.Topics {
			st := kmsg.NewAddPartitionsToTxnResponseTopic()
			st.Topic = tt.Topic
			for _, p := range tt.Partitions {
				sp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
				sp.Partition, sp.ErrorCode = p.Partition, p.ErrorCode
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
	}
	return resp
}

// addOrVerify answers one transaction of AddPartitionsToTxn in codes.
func (c *Coordinator) addOrVerify(version int16, id string, pid int64, epoch int16, verifyOnly bool, tps []TopicPartition, codes []int16,
	exists func(string, int32) bool, writeTopic func(string) bool) {
	failed := false
	for i, tp := range tps {
		switch {
		case version < 4 && !writeTopic(tp.Topic):
			codes[i], failed = kerr.TopicAuthorizationFailed.Code, true
		case !exists(tp.Topic, tp.Partition):
			codes[i], failed = kerr.UnknownTopicOrPartition.Code, true
		}
	}
	all := func(code int16) {
		for i := range codes {
			codes[i] = code
		}
	}
	switch {
	case failed:
		for i := range codes {
			if codes[i] == 0 {
				codes[i] = kerr.OperationNotAttempted.Code
			}
		}
	case !verifyOnly:
		all(code(c.AddPartitions(id, pid, epoch, tps), version, 2))
	default:
		results, top := c.VerifyPartitions(id, pid, epoch, tps)
		if top != nil {
			all(top.Code)
			return
		}
		for i, tp := range tps {
			if e := results[tp]; e != nil {
				codes[i] = e.Code
			}
		}
	}
}

// HandleAddOffsetsToTxn serves AddOffsetsToTxn (v0-v4): the group's
// partition of __consumer_offsets (offsetsPartition) joins the
// transaction.
func (c *Coordinator) HandleAddOffsetsToTxn(req *kmsg.AddOffsetsToTxnRequest, offsetsTopic string, offsetsPartition int32) *kmsg.AddOffsetsToTxnResponse {
	resp := kmsg.NewPtrAddOffsetsToTxnResponse()
	err := c.AddPartitions(req.TransactionalID, req.ProducerID, req.ProducerEpoch, []TopicPartition{{offsetsTopic, offsetsPartition}})
	resp.ErrorCode = code(err, req.Version, 2)
	return resp
}

// HandleEndTxn serves EndTxn (v0-v4).
func (c *Coordinator) HandleEndTxn(req *kmsg.EndTxnRequest) *kmsg.EndTxnResponse {
	resp := kmsg.NewPtrEndTxnResponse()
	resp.ErrorCode = code(c.EndTxn(req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit), req.Version, 2)
	return resp
}

// HandleDescribeTransactions serves DescribeTransactions (v0).
func (c *Coordinator) HandleDescribeTransactions(req *kmsg.DescribeTransactionsRequest) *kmsg.DescribeTransactionsResponse {
	resp := kmsg.NewPtrDescribeTransactionsResponse()
	for _, id := range req.TransactionalIDs {
		st := kmsg.NewDescribeTransactionsResponseTransactionState()
		st.TransactionalID = id
		st.ProducerID, st.ProducerEpoch, st.StartTimestamp = -1, -1, -1
		d, err := c.Describe(id)
		if err != nil {
			st.ErrorCode = err.Code
			resp.TransactionStates = append(resp.TransactionStates, st)
			continue
		}
		st.State, st.TimeoutMillis, st.StartTimestamp = d.State.String(), d.TimeoutMs, d.StartMs
		st.ProducerID, st.ProducerEpoch = d.ProducerID, d.Epoch
		for _, tp := range d.Partitions {
			if n := len(st.Topics); n > 0 && st.Topics[n-1].Topic == tp.Topic {
				st.Topics[n-1].Partitions = append(st.Topics[n-1].Partitions, tp.Partition)
				continue
			}
			t := kmsg.NewDescribeTransactionsResponseTransactionStateTopic()
			t.Topic, t.Partitions = tp.Topic, []int32{tp.Partition}
			st.Topics = append(st.Topics, t)
		}
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	return resp
}

// HandleListTransactions serves ListTransactions (v0-v1).
func (c *Coordinator) HandleListTransactions(req *kmsg.ListTransactionsRequest) *kmsg.ListTransactionsResponse {
	resp := kmsg.NewPtrListTransactionsResponse()
	minDuration := int64(-1)
	if req.Version >= 1 {
		minDuration = req.DurationFilterMillis
	}
	list, unknown, err := c.List(req.ProducerIDFilters, req.StateFilters, minDuration)
	if err != nil {
		resp.ErrorCode = err.Code
		return resp
	}
	resp.UnknownStateFilters = unknown
	for _, l := range list {
		st := kmsg.NewListTransactionsResponseTransactionState()
		st.TransactionalID, st.ProducerID, st.TransactionState = l.ID, l.ProducerID, l.State.String()
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	return resp
}
