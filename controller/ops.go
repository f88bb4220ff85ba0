package controller

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/apierr"
	"samsa/metadata/kafkazk/zkdata"
)

// onDeletions starts deleting topics marked in /admin/delete_topics: their
// partitions leave every broker's metadata (leader -2), every replica is
// asked to stop and delete its log, and the znodes go once all have (a
// replica on a dead broker is asked again when it returns).
func (c *Controller) onDeletions(names []string) error {
	ctx, cancel := c.ctx()
	defer cancel()
	names = c.legalTopics(names)
	var start []string
	var drop []string
	for _, t := range names {
		switch {
		case !c.cfg.DeleteTopicEnable:
			c.log.Warn("topic deletion is disabled (delete.topic.enable=false); dropping the request", "topic", t)
			drop = append(drop, t)
		case c.s.topics[t] == nil:
			drop = append(drop, t)
		case !c.s.deleting[t]:
			start = append(start, t)
		}
	}
	if len(drop) > 0 {
		if err := c.zk.RemoveDeletionMarkers(ctx, c.token, drop...); err != nil {
			return err
		}
	}
	for _, t := range start {
		c.log.Info("deleting topic", "topic", t)
		c.s.deleting[t] = true
		pending := map[int32]bool{}
		for _, pc := range c.s.topics[t].parts {
			for _, r := range pc.replicas {
				pending[r] = true
			}
		}
		c.s.pendingStops[t] = pending
		c.sendUpdateMetadata(c.s.liveIDs(), c.s.topicPartitions(t))
	}
	if len(start) > 0 {
		return c.retryDeletions()
	}
	return nil
}

// retryDeletions asks the live replicas of topics being deleted that have
// not yet stopped to stop and delete.
func (c *Controller) retryDeletions() error {
	for t, pending := range c.s.pendingStops {
		if len(pending) == 0 {
			if err := c.finishDeletion(t); err != nil {
				return err
			}
			continue
		}
		for id := range pending {
			if !c.s.alive(id) {
				continue
			}
			var parts []int32
			for p, pc := range c.s.topics[t].parts {
				if contains(pc.replicas, id) {
					parts = append(parts, p)
				}
			}
			slices.Sort(parts)
			c.sendStopReplica(id, t, parts, true)
		}
	}
	return nil
}

func (c *Controller) onStopReplicaDone(broker int32, topic string, ok bool) error {
	pending := c.s.pendingStops[topic]
	if pending == nil || !ok {
		return nil
	}
	delete(pending, broker)
	if len(pending) > 0 {
		return nil
	}
	return c.finishDeletion(topic)
}

func (c *Controller) finishDeletion(t string) error {
	ctx, cancel := c.ctx()
	defer cancel()
	if err := c.zk.DeleteTopic(ctx, c.token, t); err != nil {
		return err
	}
	delete(c.s.pendingStops, t)
	c.forgetTopic(t)
	c.log.Info("topic deleted", "topic", t)
	// A topic created again under the same name before the /brokers/topics
	// watch looked leaves the list it delivers unchanged, so it delivers
	// nothing: read the list now.
	names, err := c.zk.Topics(ctx)
	if err != nil {
		return err
	}
	return c.onTopicsChange(names)
}

// ControlledShutdown moves a stopping broker's leaderships to other in-sync
// replicas and takes it out of ISRs (Kafka's doControlledShutdown). It
// returns the partitions the broker still leads: those with no other live
// in-sync replica.
func (c *Controller) ControlledShutdown(ctx context.Context, broker int32, brokerEpoch int64) (remaining []kmsg.ControlledShutdownResponsePartitionsRemaining, err error) {
	cerr := c.call(ctx, &err, func() {
		if !c.active {
			err = apierr.Errorf(kerr.NotController, "broker %d is not the controller", c.cfg.BrokerID)
			return
		}
		b, ok := c.s.brokers[broker]
		switch {
		case !ok:
			err = apierr.Errorf(kerr.BrokerNotAvailable, "broker %d is not alive", broker)
			return
		case brokerEpoch != -1 && brokerEpoch < b.Epoch:
			err = apierr.Errorf(kerr.StaleBrokerEpoch, "broker epoch %d is older than %d", brokerEpoch, b.Epoch)
			return
		}
		c.log.Info("controlled shutdown", "broker", broker)
		c.s.shuttingDown[broker] = true
		updates := map[tpKey]zkdata.LeaderAndISR{}
		var changed []tpKey
		for _, k := range c.s.allPartitions() {
			pc := c.s.part(k)
			if pc.state == nil || !contains(pc.replicas, broker) || c.s.deleting[k.topic] {
				continue
			}
			st := *pc.state
			switch {
			case st.Leader == broker:
				if len(pc.replicas) < 2 {
					continue // nowhere to move it
				}
				next := st
				next.Leader = -1
				for _, r := range pc.replicas {
					if r != broker && c.s.alive(r) && !c.s.shuttingDown[r] && contains(st.ISR, r) {
						next.Leader = r
						break
					}
				}
				if next.Leader < 0 {
					continue
				}
				next.ISR = slices.DeleteFunc(slices.Clone(st.ISR), func(x int32) bool { return c.s.shuttingDown[x] })
				next.LeaderEpoch++
				updates[k] = next
			case contains(st.ISR, broker) && len(st.ISR) > 1:
				next := st
				next.ISR = slices.DeleteFunc(slices.Clone(st.ISR), func(x int32) bool { return x == broker })
				next.LeaderEpoch++
				updates[k] = next
			}
		}
		wctx, cancel := c.ctx()
		defer cancel()
		if err = c.writeStates(wctx, updates); err != nil {
			return
		}
		changed = keysOf(updates)
		others := slices.DeleteFunc(c.s.liveIDs(), func(id int32) bool { return id == broker })
		c.sendLeaderAndIsr(changed, others, false)
		c.sendUpdateMetadata(c.s.liveIDs(), changed)
		// The stopping broker stops following (its logs stay), as Kafka
		// sends it StopReplica without deletion.
		stops := map[string][]int32{}
		for _, k := range c.s.allPartitions() {
			if pc := c.s.part(k); pc.state != nil && pc.state.Leader != broker && contains(pc.replicas, broker) {
				stops[k.topic] = append(stops[k.topic], k.part)
			}
		}
		for t, ps := range stops {
			c.sendStopReplica(broker, t, ps, false)
		}
		for _, k := range c.s.allPartitions() {
			if pc := c.s.part(k); pc.state != nil && pc.state.Leader == broker {
				r := kmsg.NewControlledShutdownResponsePartitionsRemaining()
				r.Topic, r.Partition = k.topic, k.part
				remaining = append(remaining, r)
			}
		}
	})
	if cerr != nil {
		return nil, cerr
	}
	return remaining, err
}

// ElectLeaders runs preferred (electionType 0) or unclean (1) elections for
// the partitions named, or for every partition when parts is nil (Kafka's
// ElectLeaders API, KIP-460). It answers per partition: no error when the
// leader changed, ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE,
// ELIGIBLE_LEADERS_NOT_AVAILABLE, UNKNOWN_TOPIC_OR_PARTITION.
func (c *Controller) ElectLeaders(ctx context.Context, electionType int8, parts map[string][]int32) (result map[string]map[int32]int16, err error) {
	cerr := c.call(ctx, &err, func() {
		if !c.active {
			err = apierr.Errorf(kerr.NotController, "broker %d is not the controller", c.cfg.BrokerID)
			return
		}
		result = map[string]map[int32]int16{}
		set := func(k tpKey, code int16) {
			if result[k.topic] == nil {
				result[k.topic] = map[int32]int16{}
			}
			result[k.topic][k.part] = code
		}
		var keys []tpKey
		if parts == nil {
			keys = c.s.allPartitions()
		} else {
			for t, ps := range parts {
				for _, p := range ps {
					keys = append(keys, tpKey{t, p})
				}
			}
		}
		updates := map[tpKey]zkdata.LeaderAndISR{}
		for _, k := range keys {
			pc := c.s.part(k)
			if pc == nil || c.s.deleting[k.topic] {
				set(k, kerr.UnknownTopicOrPartition.Code)
				continue
			}
			if pc.state == nil {
				set(k, kerr.EligibleLeadersNotAvailable.Code)
				continue
			}
			st := *pc.state
			if electionType == 0 {
				pref := pc.replicas[0]
				switch {
				case st.Leader == pref:
					if parts != nil {
						set(k, kerr.ElectionNotNeeded.Code)
					}
				case c.s.alive(pref) && !c.s.shuttingDown[pref] && contains(st.ISR, pref):
					next := st
					next.Leader = pref
					next.LeaderEpoch++
					updates[k] = next
				default:
					if parts != nil {
						set(k, kerr.PreferredLeaderNotAvailable.Code)
					}
				}
				continue
			}
			if st.Leader >= 0 && c.s.alive(st.Leader) {
				set(k, kerr.ElectionNotNeeded.Code)
				continue
			}
			next := st
			next.Leader = -1
			for _, r := range pc.replicas {
				if c.s.alive(r) && !c.s.shuttingDown[r] {
					next.Leader, next.ISR = r, []int32{r}
					break
				}
			}
			if next.Leader < 0 {
				set(k, kerr.EligibleLeadersNotAvailable.Code)
				continue
			}
			next.LeaderEpoch++
			updates[k] = next
		}
		wctx, cancel := c.ctx()
		defer cancel()
		if err = c.writeStates(wctx, updates); err != nil {
			return
		}
		changed := keysOf(updates)
		for _, k := range changed {
			if pc := c.s.part(k); pc.state != nil && pc.state.Leader == updates[k].Leader {
				set(k, 0)
			} else {
				set(k, kerr.UnknownServerError.Code)
			}
		}
		c.sendLeaderAndIsr(changed, c.s.liveIDs(), false)
		c.sendUpdateMetadata(c.s.liveIDs(), changed)
	})
	if cerr != nil {
		return nil, cerr
	}
	return result, err
}

// rebalance is auto.leader.rebalance.enable: for each broker whose share of
// preferred partitions led by another passes leader.imbalance.per.broker.percentage,
// run preferred elections where the preferred leader can lead.
func (c *Controller) rebalance() error {
	byPref := map[int32][]tpKey{}
	for _, k := range c.s.allPartitions() {
		pc := c.s.part(k)
		if pc.state == nil || c.s.deleting[k.topic] || len(pc.replicas) == 0 {
			continue
		}
		byPref[pc.replicas[0]] = append(byPref[pc.replicas[0]], k)
	}
	updates := map[tpKey]zkdata.LeaderAndISR{}
	for b, keys := range byPref {
		var off []tpKey
		for _, k := range keys {
			if c.s.part(k).state.Leader != b {
				off = append(off, k)
			}
		}
		if len(off)*100 <= c.cfg.ImbalancePercent*len(keys) {
			continue
		}
		if !c.s.alive(b) || c.s.shuttingDown[b] {
			continue
		}
		for _, k := range off {
			st := *c.s.part(k).state
			if contains(st.ISR, b) {
				next := st
				next.Leader = b
				next.LeaderEpoch++
				updates[k] = next
			}
		}
	}
	if len(updates) == 0 {
		return nil
	}
	c.log.Info("preferred leader rebalance", "partitions", len(updates))
	ctx, cancel := c.ctx()
	defer cancel()
	if err := c.writeStates(ctx, updates); err != nil {
		return err
	}
	changed := keysOf(updates)
	c.sendLeaderAndIsr(changed, c.s.liveIDs(), false)
	c.sendUpdateMetadata(c.s.liveIDs(), changed)
	return nil
}

// AlterPartition applies leaders' ISR changes (KIP-497; Kafka's
// ZooKeeper-mode controller): each is checked against the partition's state
// (the sender leads it at the request's leader epoch, the request's partition
// epoch is the state's version, every new member is a live replica) and
// written conditionally on that version; every broker is told with
// UpdateMetadata. Errors per partition: NOT_LEADER_OR_FOLLOWER,
// FENCED_LEADER_EPOCH, INVALID_UPDATE_VERSION, INELIGIBLE_REPLICA,
// UNKNOWN_TOPIC_OR_PARTITION, NOT_CONTROLLER (the leader knows newer
// epochs); for the whole request NOT_CONTROLLER and STALE_BROKER_EPOCH. A
// change already committed is answered with the state, whatever partition
// epoch it names, so that a leader can retry.
func (c *Controller) AlterPartition(ctx context.Context, req *kmsg.AlterPartitionRequest) (resp *kmsg.AlterPartitionResponse, err error) {
	resp = kmsg.NewPtrAlterPartitionResponse()
	cerr := c.call(ctx, &err, func() {
		if !c.active {
			resp.ErrorCode = kerr.NotController.Code
			return
		}
		if b, ok := c.s.brokers[req.BrokerID]; !ok || (req.BrokerEpoch != -1 && req.BrokerEpoch != b.Epoch) {
			resp.ErrorCode = kerr.StaleBrokerEpoch.Code
			return
		}
		updates := map[tpKey]zkdata.LeaderAndISR{}
		type slot struct{ t, p int }
		at := map[tpKey]slot{}
		for _, rt := range req.Topics {
			ot := kmsg.NewAlterPartitionResponseTopic()
			ot.Topic, ot.TopidID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				op := kmsg.NewAlterPartitionResponseTopicPartition()
				op.Partition = rp.Partition
				k := tpKey{rt.Topic, rp.Partition}
				newISR := rp.NewISR
				for _, e := range rp.NewEpochISR {
					newISR = append(newISR, e.BrokerID)
				}
				pc := c.s.part(k)
				switch {
				case pc == nil || pc.state == nil || c.s.deleting[k.topic]:
					op.ErrorCode = kerr.UnknownTopicOrPartition.Code
				case rp.LeaderEpoch > pc.state.LeaderEpoch || rp.PartitionEpoch > pc.state.PartitionEpoch:
					// The leader knows a newer state than this controller
					// wrote: another controller wrote it, and the leader
					// should ask that one (Kafka answers so too).
					op.ErrorCode = kerr.NotController.Code
				case pc.state.Leader != req.BrokerID:
					op.ErrorCode = kerr.NotLeaderForPartition.Code
				case rp.LeaderEpoch < pc.state.LeaderEpoch:
					op.ErrorCode = kerr.FencedLeaderEpoch.Code
				case rp.PartitionEpoch < pc.state.PartitionEpoch && !slices.Equal(newISR, pc.state.ISR):
					// A change made on an older state. The same change
					// again is a retry of one committed whose answer was
					// lost: it is answered with the state (Kafka's
					// equalsAllowStalePartitionEpoch), or the leader would
					// never learn its new partition epoch.
					op.ErrorCode = kerr.InvalidUpdateVersion.Code
				case !contains(newISR, req.BrokerID) || slices.ContainsFunc(newISR, func(r int32) bool {
					// A member must be an assigned, live replica, and not one
					// in controlled shutdown: it is leaving.
					return !contains(pc.replicas, r) || !c.s.alive(r) || (c.s.shuttingDown[r] && !contains(pc.state.ISR, r))
				}):
					op.ErrorCode = kerr.IneligibleReplica.Code
					if req.Version == 0 {
						op.ErrorCode = kerr.OperationNotAttempted.Code
					}
				default:
					if !slices.Equal(newISR, pc.state.ISR) {
						next := *pc.state
						next.ISR = slices.Clone(newISR)
						updates[k] = next
					}
				}
				ot.Partitions = append(ot.Partitions, op)
				at[k] = slot{len(resp.Topics), len(ot.Partitions) - 1}
			}
			resp.Topics = append(resp.Topics, ot)
		}
		asked := keysOf(updates)
		wctx, cancel := c.ctx()
		defer cancel()
		if err = c.writeStates(wctx, updates); err != nil {
			return
		}
		changed := keysOf(updates) // writeStates drops the writes that lost a race
		for k, s := range at {
			op := &resp.Topics[s.t].Partitions[s.p]
			if op.ErrorCode != 0 {
				continue
			}
			if slices.Contains(asked, k) && !slices.Contains(changed, k) {
				op.ErrorCode = kerr.InvalidUpdateVersion.Code // re-read, and try again
				continue
			}
			st := c.s.part(k).state
			op.LeaderID, op.LeaderEpoch, op.ISR, op.PartitionEpoch = st.Leader, st.LeaderEpoch, st.ISR, st.PartitionEpoch
			op.LeaderRecoveryState = st.LeaderRecoveryState
		}
		if len(changed) > 0 {
			c.log.Info("ISR changed by its leader", "broker", req.BrokerID, "partitions", len(changed))
			c.sendUpdateMetadata(c.s.liveIDs(), changed)
			for _, k := range changed {
				if err = c.checkReassignment(wctx, k); err != nil {
					return
				}
			}
		}
	})
	if cerr != nil {
		return nil, cerr
	}
	return resp, err
}
