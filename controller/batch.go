package controller

import "slices"

// batch is what one event tells the brokers (Kafka's
// ControllerBrokerRequestBatch). The event's steps add partitions to it as
// they decide (sendLeaderAndIsr, sendUpdateMetadata, sendStopReplica); when
// the event ends, flush builds at most one request of each kind per broker
// from the state the event left, covering every partition it changed, and
// queues them: LeaderAndIsr, then UpdateMetadata, then StopReplica (without
// deletion, then with), as Kafka does. With thousands of partitions an
// event that touches each of them in several steps still costs each broker
// a handful of requests, and no request carries a state an event step
// overwrote later.
type batch struct {
	lisr map[int32]*lisrSet
	// um holds, per broker, the partitions its UpdateMetadata carries; a
	// broker present with an empty set gets the live brokers alone.
	um   map[int32]map[tpKey]bool
	stop map[int32]map[tpKey]bool // value: delete the log
	// creations are the partitions the event created: their
	// UpdateMetadata waits for the replicas' answers (creation.go).
	creations []*creation
}

type lisrSet struct {
	keys map[tpKey]bool
	full bool // the broker gets all its partitions (type FULL)
}

func newBatch() *batch {
	return &batch{lisr: map[int32]*lisrSet{}, um: map[int32]map[tpKey]bool{}, stop: map[int32]map[tpKey]bool{}}
}

// pending is the batch of the event being handled.
func (c *Controller) pending() *batch {
	if c.batch == nil {
		c.batch = newBatch()
	}
	return c.batch
}

// sendLeaderAndIsr tells each broker in to about the partitions of keys
// it holds a replica of, when the event ends.
func (c *Controller) sendLeaderAndIsr(keys []tpKey, to []int32, full bool) {
	b := c.pending()
	for _, id := range to {
		s := b.lisr[id]
		if s == nil {
			s = &lisrSet{keys: map[tpKey]bool{}}
			b.lisr[id] = s
		}
		s.full = s.full || full
		for _, k := range keys {
			s.keys[k] = true
		}
	}
}

// sendUpdateMetadata tells brokers the live brokers and the states of the
// partitions of keys (a topic being deleted with leader -2), when the
// event ends.
func (c *Controller) sendUpdateMetadata(to []int32, keys []tpKey) {
	b := c.pending()
	for _, id := range to {
		s := b.um[id]
		if s == nil {
			s = map[tpKey]bool{}
			b.um[id] = s
		}
		for _, k := range keys {
			s[k] = true
		}
	}
}

// sendStopReplica asks a broker to stop (and, with del, delete) partitions
// of a topic, when the event ends. A deletion's outcome comes back to the
// loop as evStopDone, per topic.
func (c *Controller) sendStopReplica(id int32, topic string, parts []int32, del bool) {
	b := c.pending()
	s := b.stop[id]
	if s == nil {
		s = map[tpKey]bool{}
		b.stop[id] = s
	}
	for _, p := range parts {
		k := tpKey{topic, p}
		s[k] = s[k] || del
	}
}

// discardBatch drops what the event meant to send: it failed, or this
// controller resigned and the channels are gone.
func (c *Controller) discardBatch() { c.batch = nil }

// flush queues the event's requests on the brokers' channels.
func (c *Controller) flush() {
	b := c.batch
	c.batch = nil
	if b == nil || !c.active {
		return
	}
	for _, id := range sortedIDs(b.lisr) {
		c.queueLeaderAndIsr(id, sortedKeys(b.lisr[id].keys), b.lisr[id].full, b.creations)
	}
	for _, cr := range b.creations {
		c.startCreation(cr)
	}
	for _, cr := range b.creations {
		for _, keys := range b.um {
			for _, k := range cr.keys {
				delete(keys, k) // told with the creation, once its replicas answered
			}
		}
	}
	for _, id := range sortedIDs(b.um) {
		c.queueUpdateMetadata(id, sortedKeys(b.um[id]))
	}
	for _, id := range sortedIDs(b.stop) {
		keep, del := map[tpKey]bool{}, map[tpKey]bool{}
		for k, d := range b.stop[id] {
			if d {
				del[k] = true
			} else {
				keep[k] = true
			}
		}
		if len(keep) > 0 {
			c.queueStopReplica(id, sortedKeys(keep), false)
		}
		if len(del) > 0 {
			c.queueStopReplica(id, sortedKeys(del), true)
		}
	}
}

func sortedIDs[V any](m map[int32]V) []int32 {
	out := make([]int32, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func sortedKeys(m map[tpKey]bool) []tpKey {
	out := make([]tpKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, cmpKey)
	return out
}
