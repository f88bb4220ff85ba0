package txn

import (
	"maps"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

// AbortTimedOut aborts the transactions open longer than their timeout
// (Kafka's abortTimedOutTransactions), bumping the producer epoch so that
// the producer, fenced, cannot go on writing to them. It runs every
// transaction.abort.timed.out.transaction.cleanup.interval.ms.
func (c *Coordinator) AbortTimedOut() {
	type candidate struct {
		id  string
		pid int64
	}
	parts, _ := c.loadedPartitions()
	now := nowMs()
	for _, p := range parts {
		var todo []candidate
		p.mu.Lock()
		for _, tm := range p.txns {
			tm.mu.Lock()
			if tm.pending == noState && tm.state == Ongoing && tm.startMs+int64(tm.timeoutMs) < now {
				todo = append(todo, candidate{tm.id, tm.producerID})
			}
			tm.mu.Unlock()
		}
		p.mu.Unlock()
		slices.SortFunc(todo, func(a, b candidate) int { return strings.Compare(a.id, b.id) })
		for _, x := range todo {
			c.abortTimedOut(x.id, x.pid)
		}
	}
}

func (c *Coordinator) abortTimedOut(id string, pid int64) {
	p, perr := c.acquire(id)
	if perr != nil {
		return
	}
	defer p.release()
	tm := p.get(id)
	if tm == nil {
		return
	}
	tm.mu.Lock()
	if tm.producerID != pid || tm.pending != noState || tm.state != Ongoing {
		tm.mu.Unlock()
		return // changed since it was found: not this transaction any more
	}
	t, err := tm.prepareFence()
	tm.mu.Unlock()
	if err != nil {
		c.illegal(id, err)
		return
	}
	switch code := c.endTxn(p, id, t.producerID, t.producerEpoch, false, false); code {
	case nil:
		c.log.Info("aborted a timed-out transaction", "transactional.id", id, "producer.id", t.producerID, "epoch", t.producerEpoch)
	case kerr.InvalidProducerIDMapping, kerr.ProducerFenced, kerr.ConcurrentTransactions:
		c.log.Debug("abort of a timed-out transaction cancelled", "transactional.id", id, "err", code.Message)
	default:
		c.log.Warn("abort of a timed-out transaction failed", "transactional.id", id, "err", code.Message)
	}
}

// maxTombstoneBatch bounds the tombstones of expired ids written as one
// batch (Kafka bounds them by the topic's max.message.bytes, 1 MiB).
const maxTombstoneBatch = 512 << 10

// ExpireIDs forgets the transactional ids idle for
// transactional.id.expiration.ms outside a transaction (Kafka's
// removeExpiredTransactionalIds): a tombstone of each is written, and
// once it is in the log the id is dropped. An id used meanwhile is kept:
// its pending Dead state keeps transitions out until the tombstone is
// written. It runs every
// transaction.remove.expired.transaction.cleanup.interval.ms.
func (c *Coordinator) ExpireIDs() {
	parts, _ := c.loadedPartitions()
	for _, p := range parts {
		c.expirePartition(p)
	}
}

func (c *Coordinator) expirePartition(p *partition) {
	p.appendMu.RLock()
	defer p.appendMu.RUnlock()
	p.mu.Lock()
	if p.unloaded || p.loading {
		p.mu.Unlock()
		return
	}
	cutoff := nowMs() - c.cfg.IDExpiration.Milliseconds()
	var dead []*txnMeta
	epochs := map[*txnMeta]int16{}
	for _, id := range slices.Sorted(maps.Keys(p.txns)) {
		tm := p.txns[id]
		tm.mu.Lock()
		if tm.pending == noState && tm.state.expirationAllowed() && tm.updateMs <= cutoff {
			if _, err := tm.prepareDead(); err == nil {
				dead = append(dead, tm)
				epochs[tm] = tm.producerEpoch
			}
		}
		tm.mu.Unlock()
	}
	p.mu.Unlock()
	for len(dead) > 0 {
		var recs [][2][]byte
		size, n := 0, 0
		for ; n < len(dead) && (n == 0 || size < maxTombstoneBatch); n++ {
			k := encodeKey(dead[n].id)
			recs = append(recs, [2][]byte{k, nil})
			size += len(k) + 16
		}
		err := p.log.Append(encodeBatch(nowMs(), recs...))
		p.mu.Lock()
		for _, tm := range dead[:n] {
			tm.mu.Lock()
			if err == nil && tm.pending == Dead && tm.producerEpoch == epochs[tm] {
				delete(p.txns, tm.id)
			} else {
				tm.pending = noState
			}
			tm.mu.Unlock()
		}
		p.mu.Unlock()
		if err != nil {
			c.log.Warn("writing tombstones of expired transactional ids failed", "partition", p.id, "ids", n, "err", err)
		} else {
			c.log.Info("expired transactional ids", "partition", p.id, "ids", n)
		}
		dead = dead[n:]
	}
}
