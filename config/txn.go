package config

import "time"

// TxnConfig is the server configuration of the transaction coordinator and
// the __transaction_state topic, with Kafka's keys.
type TxnConfig struct {
	NumPartitions  int32         // transaction.state.log.num.partitions
	MinISR         int32         // transaction.state.log.min.isr
	SegmentBytes   int64         // transaction.state.log.segment.bytes
	LoadBufferSize int           // transaction.state.log.load.buffer.size
	MaxTimeout     time.Duration // transaction.max.timeout.ms
	IDExpiration   time.Duration // transactional.id.expiration.ms
	AbortInterval  time.Duration // transaction.abort.timed.out.transaction.cleanup.interval.ms
	RemoveInterval time.Duration // transaction.remove.expired.transaction.cleanup.interval.ms
	// PartitionVerification is transaction.partition.verification.enable.
	PartitionVerification bool
}
