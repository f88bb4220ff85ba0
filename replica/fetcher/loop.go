package fetcher

// One fetcher's loop (Kafka's AbstractFetcherThread.doWork): fetch the
// partitions not backing off, in the session with the leader, and apply
// each partition's answer.

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/replica/fetchsession"
)

func (f *fetcher) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *fetcher) close() {
	select {
	case <-f.stop:
	default:
		close(f.stop)
	}
	<-f.done
	if f.conn != nil {
		f.conn.Close()
	}
}

func (f *fetcher) run() {
	defer close(f.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-f.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		select {
		case <-f.stop:
			return
		default:
		}
		parts, wait := f.readyParts(time.Now())
		if len(parts) == 0 {
			t := time.NewTimer(wait)
			select {
			case <-f.stop:
				t.Stop()
				return
			case <-f.wake:
			case <-t.C:
			}
			t.Stop()
			continue
		}
		if err := f.fetchOnce(ctx, parts); err != nil {
			if ctx.Err() != nil {
				return
			}
			f.m.log.Warn("replica fetch failed", "leader", f.key.leader, "err", err, "retry.in", f.m.cfg.Backoff)
			select {
			case <-f.stop:
				return
			case <-time.After(f.m.cfg.Backoff):
			}
		}
	}
}

// readyParts returns the partitions not backing off (a map the next call
// reuses), or how long until one is.
func (f *fetcher) readyParts(now time.Time) (map[Partition]int32, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ready == nil {
		f.ready = map[Partition]int32{}
	}
	out := f.ready
	clear(out)
	wait := time.Hour
	for p, st := range f.parts {
		if now.Before(st.backoffUntil) {
			wait = min(wait, st.backoffUntil.Sub(now))
			continue
		}
		out[p] = st.epoch
	}
	return out, wait
}

func (f *fetcher) backoff(p Partition) {
	f.mu.Lock()
	if st := f.parts[p]; st != nil {
		st.backoffUntil = time.Now().Add(f.m.cfg.Backoff)
	}
	f.mu.Unlock()
}

// fetchOnce sends one fetch of parts (each with the leader epoch it is
// followed at) in the fetch session, and applies the answer. In the steady
// state it allocates nothing: the plan's request, the response and the
// connection's buffers are reused from one fetch to the next, and the
// answer's batches go to the partitions from the connection's buffer.
func (f *fetcher) fetchOnce(ctx context.Context, parts map[Partition]int32) error {
	m := f.m
	addr, ok := m.addr(f.key.leader)
	if !ok {
		return errors.New("leader's address unknown")
	}
	if f.conn == nil || f.conn.Addr() != addr {
		if f.conn != nil {
			f.conn.Close()
		}
		f.conn = m.cfg.Connect(addr, "samsa-replica-fetcher-"+strconv.Itoa(int(m.id)))
		f.sess.Reset()
	}
	cfg := m.cfg
	plan := f.sess.Plan(cfg.MaxBytes)
	for p, epoch := range parts {
		topic, index := p.Name()
		end, start, last := p.Position()
		plan.Add(p, fetchsession.Params{Topic: topic, Partition: index, FetchOffset: end,
			LogStart: start, LastEpoch: last, LeaderEpoch: epoch})
	}
	req := plan.Request()
	req.ReplicaID = m.id
	req.MaxWaitMillis = int32(cfg.MaxWait / time.Millisecond)
	req.MinBytes = cfg.MinBytes
	req.MaxBytes = cfg.ResponseMaxBytes
	r := &f.resp
	if err := f.conn.Fetch(ctx, req, r, cfg.MaxWait+cfg.Timeout); err != nil {
		f.sess.Reset()
		return err
	}
	if r.ErrorCode != 0 {
		f.sess.Reset()
		if r.ErrorCode == kerr.FetchSessionIDNotFound.Code || r.ErrorCode == kerr.InvalidFetchSessionEpoch.Code {
			// The leader lost or moved past the session (restarted,
			// evicted it): start a new one at once.
			m.log.Debug("fetch session lost; fetching in full", "leader", f.key.leader, "err", kerr.ErrorForCode(r.ErrorCode))
			return nil
		}
		return kerr.ErrorForCode(r.ErrorCode)
	}
	f.sess.Answered(plan, r.SessionID)
	if len(r.Topics) == 0 {
		return nil // an idle incremental fetch: nothing to apply
	}
	if f.index == nil {
		f.index = map[tp]Partition{}
	}
	index := f.index
	clear(index)
	for p := range parts {
		topic, i := p.Name()
		index[tp{topic, i}] = p
	}
	for _, t := range r.Topics {
		for i := range t.Partitions {
			rp := &t.Partitions[i]
			p := index[tp{t.Topic, rp.Partition}]
			if p == nil {
				continue
			}
			if err := f.apply.run(m, p, f.key.leader, parts[p], rp); err != nil {
				level := slog.LevelWarn
				switch {
				case errors.Is(err, kerr.NotLeaderForPartition), errors.Is(err, kerr.UnknownTopicOrPartition),
					errors.Is(err, kerr.FencedLeaderEpoch), errors.Is(err, kerr.UnknownLeaderEpoch):
					// The leader has not heard of the change yet, or we
					// have not: the controller's next request settles it.
					level = slog.LevelDebug
				}
				m.log.Log(context.Background(), level, "replica fetch of a partition failed", "topic", t.Topic, "partition", rp.Partition, "leader", f.key.leader, "err", err)
				f.backoff(p)
			}
		}
	}
	return nil
}
