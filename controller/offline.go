package controller

// Replicas a broker cannot host, and the creation of new partitions.
//
// A broker that cannot create or open a partition's log (a full disk, a
// broken directory) answers its LeaderAndIsr with KAFKA_STORAGE_ERROR for
// that partition. As Kafka's controller does with replicas on an offline
// log directory, the controller then takes the replica offline: it is not
// elected (leadership moves to another in-sync replica, or the partition
// goes offline if none is left), it leaves the ISR (never its last member),
// and UpdateMetadata lists it among the partition's offline replicas, so
// that Metadata shows it. It stays offline until its broker registers
// again (a restart retries the log).
//
// New partitions (New -> Online) reach the brokers' metadata only once
// every replica answered the LeaderAndIsr that created it, or after
// controller.socket.timeout.ms if one does not answer: the brokers learn
// a new partition together with its offline replicas, and CreateTopics,
// which waits for that metadata, can answer that the topic is not fully
// hosted instead of leaving it half-hosted unreported.

import (
	"slices"
	"time"

	"samsa/metadata/kafkazk/zkdata"
)

// creation is the partitions one event created, whose UpdateMetadata
// waits for the replicas' answers. Owned by the loop.
type creation struct {
	keys    []tpKey
	waiting map[int32]bool // brokers whose answer is awaited
	done    bool
	timer   *time.Timer
}

// failedReplica is a partition a LeaderAndIsr answer refused with
// KAFKA_STORAGE_ERROR: by topic ID from v5 on, by name before.
type failedReplica struct {
	topicID zkdata.Uuid
	topic   string
	part    int32
}

type (
	// evLeaderAndIsrAnswer is a broker's answer to a LeaderAndIsr (or its
	// failure: the channel closed), for the incarnation epoch it was sent to.
	evLeaderAndIsrAnswer struct {
		activation int
		broker     int32
		epoch      int64
		creations  []*creation
		storage    []failedReplica
	}
	// evCreationDue: a creation waited controller.socket.timeout.ms.
	evCreationDue struct {
		activation int
		cr         *creation
	}
)

// createdPartitions adds partitions the event created to its batch: their
// LeaderAndIsr goes out with the batch, their UpdateMetadata once the
// replicas answered it.
func (c *Controller) createdPartitions(keys []tpKey) {
	if len(keys) == 0 {
		return
	}
	b := c.pending()
	b.creations = append(b.creations, &creation{keys: keys, waiting: map[int32]bool{}})
}

// startCreation runs when the batch of a creation is flushed: it waits for
// the brokers its LeaderAndIsr went to (queueLeaderAndIsr marked them), for
// at most the request timeout.
func (c *Controller) startCreation(cr *creation) {
	if len(cr.waiting) == 0 {
		c.finishCreation(cr, true)
		return
	}
	activation := c.activation
	cr.timer = time.AfterFunc(c.cfg.RequestTimeout, func() { c.post(evCreationDue{activation, cr}) })
}

// finishCreation tells every live broker the created partitions that still
// exist: now (queued directly, from flush) or with the event's batch.
func (c *Controller) finishCreation(cr *creation, direct bool) {
	if cr.done {
		return
	}
	cr.done = true
	if cr.timer != nil {
		cr.timer.Stop()
	}
	keys := slices.DeleteFunc(slices.Clone(cr.keys), func(k tpKey) bool { return c.s.part(k) == nil })
	if len(keys) == 0 {
		return
	}
	if !direct {
		c.sendUpdateMetadata(c.s.liveIDs(), keys)
		return
	}
	for _, id := range c.s.liveIDs() {
		c.queueUpdateMetadata(id, keys)
	}
}

// onLeaderAndIsrAnswer takes the replicas the broker could not host
// offline, and moves the creations the request carried on.
func (c *Controller) onLeaderAndIsrAnswer(e evLeaderAndIsrAnswer) error {
	for _, cr := range e.creations {
		delete(cr.waiting, e.broker)
		if len(cr.waiting) == 0 {
			c.finishCreation(cr, false)
		}
	}
	if b, ok := c.s.brokers[e.broker]; !ok || b.Epoch != e.epoch || len(e.storage) == 0 {
		return nil // an answer of an earlier incarnation: it registered anew since
	}
	byID := map[zkdata.Uuid]string{}
	for name, tc := range c.s.topics {
		byID[tc.id] = name
	}
	var keys []tpKey
	for _, f := range e.storage {
		topic := f.topic
		if f.topicID != zkdata.ZeroUuid {
			topic = byID[f.topicID]
		}
		k := tpKey{topic, f.part}
		if pc := c.s.part(k); pc != nil && contains(pc.replicas, e.broker) && !c.s.offline[e.broker][k] && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.SortFunc(keys, cmpKey)
	return c.onReplicasOffline(e.broker, keys)
}

// onReplicasOffline takes a broker's replicas of keys offline (Kafka's
// OfflineReplica transition): a partition it led gets another leader, one
// whose ISR holds it loses it (not its last member), leader epoch + 1;
// every broker learns the offline replicas.
func (c *Controller) onReplicasOffline(broker int32, keys []tpKey) error {
	ctx, cancel := c.ctx()
	defer cancel()
	c.log.Warn("replicas offline: their broker could not host them", "broker", broker, "partitions", len(keys),
		"first.topic", keys[0].topic, "first.partition", keys[0].part)
	if c.s.offline[broker] == nil {
		c.s.offline[broker] = map[tpKey]bool{}
	}
	updates := map[tpKey]zkdata.LeaderAndISR{}
	for _, k := range keys {
		c.s.offline[broker][k] = true
		pc := c.s.part(k)
		if pc.state == nil || c.s.deleting[k.topic] {
			continue
		}
		st := *pc.state
		switch {
		case st.Leader == broker:
			updates[k] = c.electOffline(k, pc, st)
		case contains(st.ISR, broker) && len(st.ISR) > 1:
			next := st
			next.ISR = withoutLast(st.ISR, func(x int32) bool { return x == broker })
			next.LeaderEpoch++
			updates[k] = next
		}
	}
	if err := c.writeStates(ctx, updates); err != nil {
		return err
	}
	live := c.s.liveIDs()
	c.sendLeaderAndIsr(keysOf(updates), live, false)
	c.sendUpdateMetadata(live, keys)
	return nil
}
