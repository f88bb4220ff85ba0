package kafkaapi

// The broker's side of the group coordinator (package group): the
// internal topic __consumer_offsets, created on the first FindCoordinator
// as Kafka does, and its partitions handed to the coordinator, which
// replays them before it serves their groups.

import (
	"context"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/admin"
	"samsa/config"
	"samsa/replica"
)

const offsetsTopic = "__consumer_offsets"

// offsetsLog is one partition of __consumer_offsets as the coordinator
// writes and replays it.
type offsetsLog struct {
	rm *replica.Manager
	p  *replica.Partition
}

func (o offsetsLog) Append(batch []byte) error {
	return o.rm.AppendInternal(context.Background(), o.p, batch)
}

func (o offsetsLog) Replay(fn func(batches []byte) error) error {
	return o.p.Log.ReadChunks(1<<20, fn)
}

// LoadOffsetsPartitions hands the coordinator the partitions of
// __consumer_offsets this broker hosts; it replays them in the background.
func (h *Handler) LoadOffsetsPartitions() {
	if ts := h.rm.Topic(offsetsTopic); ts != nil {
		h.loadOffsetsPartitions(ts)
	}
}

func (h *Handler) loadOffsetsPartitions(ts *replica.Topic) {
	for i, p := range ts.Parts {
		if p != nil && p.IsLeader() && int32(i) < h.groups.Partitions() {
			h.groups.Load(int32(i), offsetsLog{h.rm, p})
		}
	}
}

// offsetsTopicState returns __consumer_offsets, creating it the first time
// (offsets.topic.num.partitions partitions, compacted,
// offsets.topic.segment.bytes segments) and making sure the coordinator
// owns its partitions.
func (h *Handler) offsetsTopicState() (*replica.Topic, error) {
	ts := h.rm.Topic(offsetsTopic)
	if ts == nil {
		spec, err := h.offsetsTopicSpec()
		if err != nil {
			return nil, err
		}
		_, err = h.admin.CreateTopic(spec, false)
		if err != nil && codeOf(err) != kerr.TopicAlreadyExists.Code {
			return nil, err
		}
		if ts = h.rm.Topic(offsetsTopic); ts == nil {
			return nil, errf(kerr.CoordinatorNotAvailable, "%s is being created", offsetsTopic)
		}
	}
	h.loadOffsetsPartitions(ts)
	return ts, nil
}

// ensureOffsetsTopic, in cluster mode, asks for __consumer_offsets to be
// created the first time a coordinator is looked for: the controller makes
// its partitions and FindCoordinator answers COORDINATOR_NOT_AVAILABLE until
// their leaders are known, as Kafka does.
func (h *Handler) ensureOffsetsTopic() error {
	if h.admin.TopicExists(offsetsTopic) {
		return nil
	}
	spec, err := h.offsetsTopicSpec()
	if err != nil {
		return err
	}
	if _, err := h.admin.CreateTopic(spec, false); err != nil && codeOf(err) != kerr.TopicAlreadyExists.Code {
		return err
	}
	return errf(kerr.CoordinatorNotAvailable, "%s is being created", offsetsTopic)
}

// offsetsTopicSpec is __consumer_offsets as Kafka creates it:
// offsets.topic.num.partitions partitions, compacted,
// offsets.topic.segment.bytes segments, offsets.topic.replication.factor
// replicas (capped at the live brokers only by a standalone broker; in
// cluster mode the topic waits for enough brokers, as in Kafka).
func (h *Handler) offsetsTopicSpec() (admin.TopicSpec, error) {
	rf, ok := h.cfg.OffsetsTopicReplication(len(h.cache.Load().Brokers))
	if !ok {
		return admin.TopicSpec{}, errf(kerr.CoordinatorNotAvailable, "%s needs %d live brokers (offsets.topic.replication.factor)", offsetsTopic, rf)
	}
	return admin.TopicSpec{
		Name: offsetsTopic, Partitions: h.groups.Partitions(), Replication: rf,
		Configs: map[string]string{
			config.KeyCleanupPolicy:   "compact",
			config.KeySegmentBytes:    strconv.FormatInt(h.cfg.Groups.OffsetsTopicSegmentBytes, 10),
			config.KeyCompressionType: "producer",
			// Kafka keeps the 10 MiB default; 1 MiB indexes a 100 MiB
			// segment many times over and reserves far less disk for 50
			// partitions.
			config.KeySegmentIndexBytes: "1048576",
		},
	}, nil
}

// clientHost is a member's host as Kafka shows it: "/" and the address.
func clientHost(rc *reqCtx) string {
	if a, ok := rc.conn.RemoteAddr().(*net.TCPAddr); ok {
		return "/" + a.IP.String()
	}
	return "/" + rc.conn.RemoteAddr().String()
}
