package group

import (
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetCommit serves an OffsetCommit request (v0-v8). Members commit with
// their generation; simple consumers with generation -1 and no member id,
// which Kafka allows while the group has no members. The records are in
// the log before the answer.
func (c *Coordinator) OffsetCommit(req *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	resp.SetVersion(req.Version)
	// codes[i][j] is the answer for req.Topics[i].Partitions[j]; nil
	// entries are to be committed.
	codes := make([][]*kerr.Error, len(req.Topics))
	now := c.now().UnixMilli()
	var todo int
	for i, t := range req.Topics {
		codes[i] = make([]*kerr.Error, len(t.Partitions))
		for j, p := range t.Partitions {
			switch {
			case !c.cfg.PartitionExists(t.Topic, p.Partition):
				codes[i][j] = kerr.UnknownTopicOrPartition
			case p.Metadata != nil && len(*p.Metadata) > c.cfg.MaxMetadataSize:
				codes[i][j] = kerr.OffsetMetadataTooLarge
			default:
				todo++
			}
		}
	}
	setAll := func(e *kerr.Error) {
		for i := range codes {
			for j := range codes[i] {
				if codes[i][j] == nil {
					codes[i][j] = e
				}
			}
		}
	}
	if e := c.commit(req, codes, now); e != nil {
		setAll(e)
	}
	for i, t := range req.Topics {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for j, p := range t.Partitions {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			rp.ErrorCode = code(codes[i][j])
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// commit validates the committer and writes the offsets whose code is nil.
// A non-nil result applies to every such offset.
func (c *Coordinator) commit(req *kmsg.OffsetCommitRequest, codes [][]*kerr.Error, now int64) *kerr.Error {
	p, perr := c.partitionOf(req.Group)
	if perr != nil {
		return perr
	}
	g := p.get(req.Group)
	if g == nil {
		if req.Generation >= 0 {
			return kerr.IllegalGeneration // an old generation, or a group that is gone
		}
		g = p.getOrCreate(req.Group)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.is(stateDead) {
		return kerr.CoordinatorNotAvailable
	}
	var m *member
	if req.Generation >= 0 || req.MemberID != "" || req.InstanceID != nil {
		if e := g.validateMember(req.MemberID, req.InstanceID); e != nil {
			return e
		}
		if req.Generation != g.generation {
			return kerr.IllegalGeneration
		}
		m = g.members[req.MemberID]
	} else if !g.is(stateEmpty) {
		return kerr.UnknownMemberID // only members commit while there are members
	}
	switch g.state {
	case stateCompletingRebalance:
		return kerr.RebalanceInProgress
	case stateStable, statePreparingRebalance:
		if m != nil {
			g.heartbeat(m)
		}
	}
	type pending struct {
		tp topicPartition
		o  offset
	}
	var recs []rec
	var todo []pending
	for i, t := range req.Topics {
		for j, rp := range t.Partitions {
			if codes[i][j] != nil {
				continue
			}
			o := offset{offset: rp.Offset, leaderEpoch: rp.LeaderEpoch, commitMs: now, expireMs: -1}
			if rp.Metadata != nil {
				o.metadata = *rp.Metadata
			}
			if req.Version == 1 && rp.Timestamp != -1 {
				o.commitMs = rp.Timestamp
			}
			if req.Version >= 2 && req.Version <= 4 && req.RetentionTimeMillis != -1 {
				o.expireMs = o.commitMs + req.RetentionTimeMillis
			}
			tp := topicPartition{t.Topic, rp.Partition}
			recs = append(recs, rec{key: offsetKey(g.name, tp.topic, tp.partition), value: offsetValue(o)})
			todo = append(todo, pending{tp, o})
		}
	}
	if err := g.part.append(recs); err != nil {
		g.c.log.Warn("writing offsets failed", "group", g.name, "err", err)
		return storeError(err)
	}
	for _, x := range todo {
		g.offsets[x.tp] = x.o
	}
	return nil
}

// OffsetFetch serves an OffsetFetch request: one group (v0-v7; all its
// offsets for a null topic list, v2+) or several (v8+). Offsets a
// transaction holds pending are not seen; with require_stable (v7+) the
// partitions asked for that have one are UNSTABLE_OFFSET_COMMIT.
func (c *Coordinator) OffsetFetch(req *kmsg.OffsetFetchRequest) *kmsg.OffsetFetchResponse {
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	resp.SetVersion(req.Version)
	if req.Version >= 8 {
		for _, rg := range req.Groups {
			var topics []kmsg.OffsetFetchRequestTopic
			if rg.Topics != nil {
				topics = make([]kmsg.OffsetFetchRequestTopic, 0, len(rg.Topics))
				for _, t := range rg.Topics {
					rt := kmsg.NewOffsetFetchRequestTopic()
					rt.Topic, rt.Partitions = t.Topic, t.Partitions
					topics = append(topics, rt)
				}
			}
			sg := kmsg.NewOffsetFetchResponseGroup()
			sg.Group = rg.Group
			ts, err := c.fetchOffsets(rg.Group, topics, rg.Topics == nil, req.RequireStable)
			sg.ErrorCode = code(err)
			for _, t := range ts {
				st := kmsg.NewOffsetFetchResponseGroupTopic()
				st.Topic = t.Topic
				for _, p := range t.Partitions {
					sp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
					sp.Partition, sp.Offset, sp.LeaderEpoch, sp.Metadata, sp.ErrorCode = p.Partition, p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode
					st.Partitions = append(st.Partitions, sp)
				}
				sg.Topics = append(sg.Topics, st)
			}
			resp.Groups = append(resp.Groups, sg)
		}
		return resp
	}
	all := req.Topics == nil && req.Version >= 2
	ts, err := c.fetchOffsets(req.Group, req.Topics, all, req.Version >= 7 && req.RequireStable)
	if err != nil {
		if req.Version >= 2 {
			resp.ErrorCode = code(err)
			return resp
		}
		// v0-v1 have no group-level error: every partition carries it.
		for _, t := range req.Topics {
			rt := kmsg.NewOffsetFetchResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewOffsetFetchResponseTopicPartition()
				rp.Partition, rp.Offset, rp.ErrorCode = p, -1, err.Code
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp
	}
	resp.Topics = ts
	return resp
}

// fetchOffsets returns a group's committed offsets for the partitions
// asked (-1 for none), or all of them. With requireStable (v7+, KIP-447)
// a partition asked for whose offset a transaction holds pending is
// UNSTABLE_OFFSET_COMMIT, as in Kafka.
func (c *Coordinator) fetchOffsets(name string, topics []kmsg.OffsetFetchRequestTopic, all, requireStable bool) ([]kmsg.OffsetFetchResponseTopic, *kerr.Error) {
	p, perr := c.partitionOf(name)
	if perr != nil {
		return nil, perr
	}
	g := p.get(name)
	got := map[topicPartition]offset{}
	unstable := map[topicPartition]bool{}
	if g != nil {
		g.mu.Lock()
		if !g.is(stateDead) {
			for tp, o := range g.offsets {
				got[tp] = o
			}
			for _, pend := range g.pendingTxn {
				for tp := range pend {
					unstable[tp] = true
				}
			}
		}
		g.mu.Unlock()
	}
	part := func(tp topicPartition) kmsg.OffsetFetchResponseTopicPartition {
		rp := kmsg.NewOffsetFetchResponseTopicPartition()
		rp.Partition, rp.Offset, rp.LeaderEpoch = tp.partition, -1, -1
		rp.Metadata = new(string)
		if requireStable && !all && unstable[tp] {
			rp.ErrorCode = kerr.UnstableOffsetCommit.Code
			return rp
		}
		if o, ok := got[tp]; ok {
			rp.Offset, rp.LeaderEpoch, rp.Metadata = o.offset, o.leaderEpoch, &o.metadata
		}
		return rp
	}
	out := []kmsg.OffsetFetchResponseTopic{}
	if all {
		byTopic := map[string][]int32{}
		for tp := range got {
			byTopic[tp.topic] = append(byTopic[tp.topic], tp.partition)
		}
		names := make([]string, 0, len(byTopic))
		for t := range byTopic {
			names = append(names, t)
		}
		sort.Strings(names)
		for _, t := range names {
			ps := byTopic[t]
			sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
			rt := kmsg.NewOffsetFetchResponseTopic()
			rt.Topic = t
			for _, pi := range ps {
				rt.Partitions = append(rt.Partitions, part(topicPartition{t, pi}))
			}
			out = append(out, rt)
		}
		return out, nil
	}
	for _, t := range topics {
		rt := kmsg.NewOffsetFetchResponseTopic()
		rt.Topic = t.Topic
		for _, pi := range t.Partitions {
			rt.Partitions = append(rt.Partitions, part(topicPartition{t.Topic, pi}))
		}
		out = append(out, rt)
	}
	return out, nil
}

// OffsetDelete serves an OffsetDelete request (v0, KIP-496): offsets of an
// empty group, or of topics a consumer group does not subscribe to.
func (c *Coordinator) OffsetDelete(req *kmsg.OffsetDeleteRequest) *kmsg.OffsetDeleteResponse {
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	resp.SetVersion(req.Version)
	codes := make([][]*kerr.Error, len(req.Topics))
	for i, t := range req.Topics {
		codes[i] = make([]*kerr.Error, len(t.Partitions))
		for j, p := range t.Partitions {
			if !c.cfg.PartitionExists(t.Topic, p.Partition) {
				codes[i][j] = kerr.UnknownTopicOrPartition
			}
		}
	}
	if top := c.deleteOffsets(req, codes); top != nil {
		resp.ErrorCode = top.Code
		return resp
	}
	for i, t := range req.Topics {
		rt := kmsg.NewOffsetDeleteResponseTopic()
		rt.Topic = t.Topic
		for j, p := range t.Partitions {
			rp := kmsg.NewOffsetDeleteResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, code(codes[i][j])
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

func (c *Coordinator) deleteOffsets(req *kmsg.OffsetDeleteRequest, codes [][]*kerr.Error) *kerr.Error {
	if req.Group == "" {
		return kerr.InvalidGroupID
	}
	p, perr := c.partitionOf(req.Group)
	if perr != nil {
		return perr
	}
	g := p.get(req.Group)
	if g == nil {
		return kerr.GroupIDNotFound
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var subscribed map[string]bool
	switch g.state {
	case stateDead:
		return kerr.GroupIDNotFound
	case stateEmpty:
	default:
		if g.protocolType == nil || *g.protocolType != "consumer" {
			return kerr.NonEmptyGroup
		}
		subscribed, _ = g.subscribedTopics()
	}
	var recs []rec
	var drop []topicPartition
	for i, t := range req.Topics {
		for j, rp := range t.Partitions {
			if codes[i][j] != nil {
				continue
			}
			if subscribed[t.Topic] {
				codes[i][j] = kerr.GroupSubscribedToTopic
				continue
			}
			tp := topicPartition{t.Topic, rp.Partition}
			if _, ok := g.offsets[tp]; ok {
				recs = append(recs, rec{key: offsetKey(g.name, tp.topic, tp.partition)})
				drop = append(drop, tp)
			}
		}
	}
	if err := g.part.append(recs); err != nil {
		return storeError(err)
	}
	for _, tp := range drop {
		delete(g.offsets, tp)
	}
	return nil
}

// ExpireOffsets applies offsets.retention.minutes to every loaded group, as
// Kafka's cleanupGroupMetadata does: an empty group's offsets expire a
// retention period after it became empty; a stable consumer group's
// offsets of topics it no longer subscribes to, and a simple consumer's,
// a retention period after their commit; commits with an explicit expire
// timestamp (OffsetCommit v2-v4) at that time. An empty group left with no
// offsets is deleted. Tombstones record every removal. It returns the
// number of offsets expired.
func (c *Coordinator) ExpireOffsets() int {
	parts, _ := c.loadedPartitions()
	n := 0
	for _, p := range parts {
		for _, g := range p.groupsSnapshot() {
			n += g.expire()
			p.dropIfDead(g)
		}
	}
	return n
}

func (g *group) expire() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.is(stateDead) {
		return 0
	}
	now := g.c.now().UnixMilli()
	retention := g.c.cfg.OffsetsRetention.Milliseconds()
	var base func(o offset) int64
	var keep map[string]bool
	switch {
	case g.protocolType != nil && g.is(stateEmpty):
		st := g.stateTime.UnixMilli()
		base = func(offset) int64 { return st }
	case g.protocolType != nil && *g.protocolType == "consumer" && g.is(stateStable):
		var ok bool
		if keep, ok = g.subscribedTopics(); !ok {
			return 0
		}
		base = func(o offset) int64 { return o.commitMs }
	case g.protocolType == nil:
		base = func(o offset) int64 { return o.commitMs }
	default:
		return 0
	}
	var recs []rec
	var drop []topicPartition
	for tp, o := range g.offsets {
		if keep[tp.topic] {
			continue
		}
		expired := now-base(o) >= retention
		if o.expireMs >= 0 {
			expired = now >= o.expireMs
		}
		if expired {
			recs = append(recs, rec{key: offsetKey(g.name, tp.topic, tp.partition)})
			drop = append(drop, tp)
		}
	}
	dead := g.is(stateEmpty) && len(g.offsets) == len(drop)
	if dead {
		recs = append(recs, rec{key: groupKey(g.name)})
	}
	if len(recs) == 0 {
		return 0
	}
	if err := g.part.append(recs); err != nil {
		g.c.log.Warn("writing expired offsets' tombstones failed", "group", g.name, "err", err)
		return 0
	}
	for _, tp := range drop {
		delete(g.offsets, tp)
	}
	if len(drop) > 0 {
		g.c.log.Info("expired offsets", "group", g.name, "offsets", len(drop))
	}
	if dead {
		g.unload()
		g.c.log.Info("group has no members and no offsets left; removed", "group", g.name)
	}
	return len(drop)
}

func (c *Coordinator) expireLoop() {
	defer close(c.done)
	t := time.NewTicker(c.cfg.RetentionCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.ExpireOffsets()
		}
	}
}

// DeleteTopicOffsets removes every group's committed offsets of a deleted
// topic, with tombstones, as Kafka does when a topic goes: a topic created
// again under the name must not inherit them. It returns how many went.
func (c *Coordinator) DeleteTopicOffsets(topic string) int {
	parts, _ := c.loadedPartitions()
	n := 0
	for _, p := range parts {
		for _, g := range p.groupsSnapshot() {
			n += g.dropTopic(topic)
		}
	}
	return n
}

func (g *group) dropTopic(topic string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.is(stateDead) {
		return 0
	}
	var recs []rec
	var drop []topicPartition
	for tp := range g.offsets {
		if tp.topic == topic {
			recs = append(recs, rec{key: offsetKey(g.name, tp.topic, tp.partition)})
			drop = append(drop, tp)
		}
	}
	if err := g.part.append(recs); err != nil {
		g.c.log.Warn("writing tombstones of a deleted topic's offsets failed", "group", g.name, "topic", topic, "err", err)
		return 0
	}
	for _, tp := range drop {
		delete(g.offsets, tp)
	}
	return len(drop)
}
