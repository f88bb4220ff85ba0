package broker

// The broker's side of the group coordinator (package group): the
// internal topic __consumer_offsets, created on the first FindCoordinator
// as Kafka does and loaded partition by partition at start; and the log
// cleaner that compacts it and every other topic with
// cleanup.policy=compact.

import (
	"net"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/coordinator/group"
	"samsa/logfile"
	"samsa/record/codec"
)

const offsetsTopic = "__consumer_offsets"

// offsetsLog is one partition of __consumer_offsets as the coordinator
// writes and replays it.
type offsetsLog struct{ p *Partition }

func (o offsetsLog) Append(batch []byte) error {
	logfile.SetLeaderEpoch(batch, o.p.LeaderEpoch)
	if _, err := o.p.Log.Append(batch); err != nil {
		return err
	}
	o.p.notify()
	return nil
}

func (o offsetsLog) Replay(fn func(batches []byte) error) error {
	return o.p.Log.ReadChunks(1<<20, fn)
}

// startGroups creates the coordinator, loads the partitions of an existing
// __consumer_offsets in the background and starts the log cleaner.
func (b *Broker) startGroups() error {
	gc := b.cfg.Groups
	n := b.cfg.OffsetsTopicNumPartitions
	if ts := b.topic(offsetsTopic); ts != nil {
		n = int32(len(ts.parts)) // the topic's count wins, as in Kafka
	}
	b.groups = group.New(group.Config{
		Partitions:             n,
		MinSessionTimeout:      gc.MinSessionTimeout,
		MaxSessionTimeout:      gc.MaxSessionTimeout,
		InitialRebalanceDelay:  gc.InitialRebalanceDelay,
		MaxGroupSize:           gc.MaxSize,
		OffsetsRetention:       gc.OffsetsRetention,
		RetentionCheckInterval: gc.OffsetsRetentionCheck,
		MaxMetadataSize:        max(gc.OffsetMetadataMaxBytes, 1),
		PartitionExists:        func(t string, p int32) bool { return b.partition(t, p) != nil },
		Logger:                 b.log,
	})
	if ts := b.topic(offsetsTopic); ts != nil {
		b.loadOffsetsPartitions(ts)
	}
	if gc.CleanerEnable {
		cl, err := logfile.NewCleaner(b.dir, cleanerCodec{}, gc.CleanerMaxKeys())
		if err != nil {
			return err
		}
		b.bg.Add(1)
		go b.runCleaner(cl)
	}
	return nil
}

func (b *Broker) loadOffsetsPartitions(ts *topicState) {
	for i, p := range ts.parts {
		if int32(i) < b.groups.Partitions() {
			b.groups.Load(int32(i), offsetsLog{p})
		}
	}
}

// offsetsTopicState returns __consumer_offsets, creating it the first time
// (offsets.topic.num.partitions partitions, compacted,
// offsets.topic.segment.bytes segments) and making sure the coordinator
// owns its partitions.
func (b *Broker) offsetsTopicState() (*topicState, error) {
	ts := b.topic(offsetsTopic)
	if ts == nil {
		_, err := b.createTopic(topicSpec{
			name: offsetsTopic, partitions: b.groups.Partitions(), replication: -1,
			configs: map[string]string{
				"cleanup.policy":   "compact",
				"segment.bytes":    strconv.FormatInt(b.cfg.Groups.OffsetsTopicSegmentBytes, 10),
				"compression.type": "producer",
				// Kafka keeps the 10 MiB default; 1 MiB indexes a 100 MiB
				// segment many times over and reserves far less disk for
				// 50 partitions.
				"segment.index.bytes": "1048576",
			},
		}, false)
		if err != nil && codeOf(err) != kerr.TopicAlreadyExists.Code {
			return nil, err
		}
		if ts = b.topic(offsetsTopic); ts == nil {
			return nil, errf(kerr.CoordinatorNotAvailable, "%s is being created", offsetsTopic)
		}
	}
	b.loadOffsetsPartitions(ts)
	return ts, nil
}

// runCleaner compacts logs every log.cleaner.backoff.ms.
func (b *Broker) runCleaner(cl *logfile.Cleaner) {
	defer b.bg.Done()
	t := time.NewTicker(b.cfg.Groups.CleanerBackoff)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
		if _, err := cl.RunOnce(false); err != nil {
			b.log.Error("log cleaner", "err", err)
		}
	}
}

// cleanerCodec lets the cleaner read and rewrite compressed batches.
type cleanerCodec struct{}

// maxCleanerBatch bounds what one batch may inflate to during cleaning.
const maxCleanerBatch = 256 << 20

func (cleanerCodec) Decompress(c int, src []byte) ([]byte, error) {
	return codec.Decompress(codec.Codec(c), nil, src, maxCleanerBatch)
}

func (cleanerCodec) Compress(c int, src []byte) ([]byte, error) {
	return codec.Compress(codec.Codec(c), nil, src)
}

// clientHost is a member's host as Kafka shows it: "/" and the address.
func clientHost(rc *reqCtx) string {
	if a, ok := rc.conn.RemoteAddr().(*net.TCPAddr); ok {
		return "/" + a.IP.String()
	}
	return "/" + rc.conn.RemoteAddr().String()
}
