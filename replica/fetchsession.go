package replica

// Fetch sessions (KIP-227). A consumer's fetch names every partition it
// reads; with hundreds of partitions that is most of each request and
// response. In a session the broker remembers the partitions and what it
// last told the client about each, so that an incremental fetch names only
// the partitions whose fetch offset changed (or that are added or
// forgotten) and its response holds only the partitions with news:
// records, an error, or a new high watermark or log start offset.
//
// The session epoch in a request says what it is, as in Kafka:
//
//	epoch -1  a full fetch without a session; closes session_id if set
//	epoch  0  a full fetch that opens a session (closing session_id if
//	          set); the response carries the new id, or 0 if the cache
//	          has no room
//	epoch  n  an incremental fetch in session_id, the n-th since it opened:
//	          FETCH_SESSION_ID_NOT_FOUND for a session not in the cache,
//	          INVALID_FETCH_SESSION_EPOCH for the wrong n
//
// The cache holds max.incremental.fetch.session.cache.slots sessions (0
// turns sessions off). When it is full, a new session takes the place of
// the least recently used one if that has been idle for
// min.incremental.fetch.session.eviction.ms; otherwise the client gets no
// session and keeps sending full fetches. Partitions that returned records
// move to the end of the session's order, so that a response's byte limits
// do not starve the partitions after them.

import (
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// FetchSessionEvictionIdle is how long a session must have been idle before
// a new one may take its place in a full cache (Kafka's constant
// MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS).
const FetchSessionEvictionIdle = 2 * time.Minute

type sessionKey struct {
	topic     string
	partition int32
}

// sessionPart is a partition of a session: the client's last fetch
// parameters for it, and what the broker last told the client.
type sessionPart struct {
	sessionKey
	fetchOffset int64
	maxBytes    int32
	leaderEpoch int32
	// Sent in the last response that included the partition (-1: never).
	hw, lso, logStart int64
}

type Session struct {
	ID int32

	mu       sync.Mutex
	epoch    int32 // the epoch the next incremental fetch must carry
	parts    []sessionPart
	lastUsed time.Time
}

// Sessions is the broker's fetch session cache.
type Sessions struct {
	slots   int
	idleMin time.Duration

	mu   sync.Mutex
	byID map[int32]*Session
}

func NewSessions(slots int, idleMin time.Duration) *Sessions {
	return &Sessions{slots: slots, idleMin: idleMin, byID: map[int32]*Session{}}
}

func (c *Sessions) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byID)
}

func (c *Sessions) Remove(id int32) {
	c.mu.Lock()
	delete(c.byID, id)
	c.mu.Unlock()
}

func (c *Sessions) Get(id int32) *Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byID[id]
}

// Open creates a session for the partitions of a full fetch, or returns
// nil when the cache has no room.
func (c *Sessions) Open(req *kmsg.FetchRequest, now time.Time) *Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.slots <= 0 {
		return nil
	}
	if len(c.byID) >= c.slots {
		var lru *Session
		for _, s := range c.byID {
			s.mu.Lock()
			if lru == nil || s.lastUsed.Before(lru.lastUsed) {
				lru = s
			}
			s.mu.Unlock()
		}
		lru.mu.Lock()
		idle := now.Sub(lru.lastUsed)
		lru.mu.Unlock()
		if idle < c.idleMin {
			return nil
		}
		delete(c.byID, lru.ID)
	}
	s := &Session{epoch: 1, lastUsed: now}
	for s.ID == 0 || c.byID[s.ID] != nil {
		s.ID = rand.Int32()
	}
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			s.parts = append(s.parts, newSessionPart(t.Topic, p))
		}
	}
	c.byID[s.ID] = s
	return s
}

// newSessionPart copies the topic name: Fetch requests are decoded with
// their strings aliasing the request frame, which is reused once answered.
func newSessionPart(topic string, p kmsg.FetchRequestTopicPartition) sessionPart {
	return sessionPart{
		sessionKey:  sessionKey{strings.Clone(topic), p.Partition},
		fetchOffset: p.FetchOffset,
		maxBytes:    p.PartitionMaxBytes,
		leaderEpoch: p.CurrentLeaderEpoch,
		hw:          -1,
		lso:         -1,
		logStart:    -1,
	}
}

// Update applies an incremental fetch to the session: the partitions it
// names are added or get their new parameters, the forgotten ones go. It
// returns the session's partitions as the topics of a full fetch, in the
// session's order, and the epoch this fetch used.
func (s *Session) Update(req *kmsg.FetchRequest, now time.Time) ([]kmsg.FetchRequestTopic, int32, *kerr.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.SessionEpoch != s.epoch {
		return nil, 0, kerr.InvalidFetchSessionEpoch
	}
	epoch := s.epoch
	s.epoch = nextEpoch(s.epoch)
	s.lastUsed = now
	if len(req.Topics) > 0 {
		at := make(map[sessionKey]int, len(s.parts))
		for i, p := range s.parts {
			at[p.sessionKey] = i
		}
		for _, t := range req.Topics {
			for _, p := range t.Partitions {
				if i, ok := at[sessionKey{t.Topic, p.Partition}]; ok {
					sp := &s.parts[i]
					sp.fetchOffset, sp.maxBytes, sp.leaderEpoch = p.FetchOffset, p.PartitionMaxBytes, p.CurrentLeaderEpoch
				} else {
					at[sessionKey{t.Topic, p.Partition}] = len(s.parts)
					s.parts = append(s.parts, newSessionPart(t.Topic, p))
				}
			}
		}
	}
	if len(req.ForgottenTopics) > 0 {
		forget := map[sessionKey]bool{}
		for _, t := range req.ForgottenTopics {
			for _, p := range t.Partitions {
				forget[sessionKey{t.Topic, p}] = true
			}
		}
		s.parts = slices.DeleteFunc(s.parts, func(p sessionPart) bool { return forget[p.sessionKey] })
	}
	return s.fetchTopics(), epoch, nil
}

// nextEpoch follows Kafka: after MaxInt32 comes 1.
func nextEpoch(e int32) int32 {
	if e == 1<<31-1 {
		return 1
	}
	return e + 1
}

// fetchTopics is the session's partitions as request topics; adjacent
// partitions of one topic share an entry.
func (s *Session) fetchTopics() []kmsg.FetchRequestTopic {
	var out []kmsg.FetchRequestTopic
	for _, p := range s.parts {
		if len(out) == 0 || out[len(out)-1].Topic != p.topic {
			t := kmsg.NewFetchRequestTopic()
			t.Topic = p.topic
			out = append(out, t)
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = p.partition, p.fetchOffset, p.maxBytes, p.leaderEpoch
		t := &out[len(out)-1]
		t.Partitions = append(t.Partitions, rp)
	}
	return out
}

// Respond records what a response tells the client and keeps, of topics
// read for the whole session, the partitions with news (all of them for
// the full fetch that opened the session: full). Partitions that returned
// records move to the end of the session's order. A fetch that is no
// longer the session's latest (epoch) changes nothing and keeps all.
//
// The topics were read from the session's partitions in its order, and
// no fetch has changed the session since (the epoch says so), so the
// n-th partition read is s.parts[n].
func (s *Session) Respond(topics []FetchTopic, epoch int32, full bool) []FetchTopic {
	s.mu.Lock()
	defer s.mu.Unlock()
	if nextEpoch(epoch) != s.epoch {
		return topics
	}
	stay, moved := make([]sessionPart, 0, len(s.parts)), []sessionPart(nil)
	n := 0
	out := topics[:0]
	for _, t := range topics {
		kept := t.Parts[:0]
		for _, fp := range t.Parts {
			news := full || fp.Region.Len > 0 || fp.ErrCode != 0 || fp.Diverging.Epoch >= 0
			if n < len(s.parts) && s.parts[n].sessionKey == (sessionKey{t.Name, fp.Partition}) {
				sp := s.parts[n]
				news = news || fp.HW != sp.hw || fp.LSO != sp.lso || fp.LogStart != sp.logStart
				sp.hw, sp.lso, sp.logStart = fp.HW, fp.LSO, fp.LogStart
				if fp.Region.Len > 0 {
					moved = append(moved, sp)
				} else {
					stay = append(stay, sp)
				}
				n++
			}
			if news {
				kept = append(kept, fp)
			} else {
				fp.Region.Release()
			}
		}
		if len(kept) > 0 {
			out = append(out, FetchTopic{Name: t.Name, Parts: kept})
		}
	}
	s.parts = append(append(stay, s.parts[n:]...), moved...)
	return out
}
