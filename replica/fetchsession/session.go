// Package fetchsession keeps fetch sessions (KIP-227), both halves: the
// broker's cache of sessions that clients fetch in (Cache, Session), and a
// client's own record of its session with one broker (Follower), which the
// replica fetchers keep with their leaders.
//
// A consumer's fetch names every partition it reads; with hundreds of
// partitions that is most of each request and response. In a session the
// broker remembers the partitions and what it last told the client about
// each, so that an incremental fetch names only the partitions whose fetch
// parameters changed (or that are added or forgotten) and its response
// holds only the partitions with news: records, an error, or a new high
// watermark or log start offset.
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
package fetchsession

import (
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// EvictionIdle is how long a session must have been idle before
// a new one may take its place in a full cache (Kafka's constant
// MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS).
const EvictionIdle = 2 * time.Minute

type sessionKey struct {
	topic     string
	partition int32
}

// sessionPart is a partition of a session: the client's last fetch
// parameters for it, and what the broker last told the client. A
// follower's last fetched epoch is one of them: the leader checks it for a
// diverging log on every fetch (KIP-595), incremental ones included.
type sessionPart struct {
	sessionKey
	fetchOffset int64
	maxBytes    int32
	leaderEpoch int32
	lastEpoch   int32 // last_fetched_epoch (v12)
	logStart    int64 // the client's log start (followers)
	// Sent in the last response that included the partition (-1: never).
	hw, lso, sentLogStart int64
}

type Session struct {
	ID int32

	mu       sync.Mutex
	epoch    int32 // the epoch the next incremental fetch must carry
	parts    []sessionPart
	lastUsed time.Time
	// topics is parts as request topics, built by fetchTopics and reused
	// until parts change (nil then): an idle incremental fetch of
	// thousands of partitions allocates none. A slice handed out is never
	// written again (a fetch may still read it).
	topics []kmsg.FetchRequestTopic
}

// Cache is the broker's fetch session cache.
type Cache struct {
	slots   int
	idleMin time.Duration

	mu   sync.Mutex
	byID map[int32]*Session
}

// NewCache returns a cache of slots sessions.
func NewCache(slots int, idleMin time.Duration) *Cache {
	return &Cache{slots: slots, idleMin: idleMin, byID: map[int32]*Session{}}
}

func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byID)
}

func (c *Cache) Remove(id int32) {
	c.mu.Lock()
	delete(c.byID, id)
	c.mu.Unlock()
}

func (c *Cache) Get(id int32) *Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byID[id]
}

// Open creates a session for the partitions of a full fetch, or returns
// nil when the cache has no room.
func (c *Cache) Open(req *kmsg.FetchRequest, now time.Time) *Session {
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
		sessionKey:   sessionKey{strings.Clone(topic), p.Partition},
		fetchOffset:  p.FetchOffset,
		maxBytes:     p.PartitionMaxBytes,
		leaderEpoch:  p.CurrentLeaderEpoch,
		lastEpoch:    p.LastFetchedEpoch,
		logStart:     p.LogStartOffset,
		hw:           -1,
		sentLogStart: -1,
		lso:          -1,
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
	if len(req.Topics) > 0 || len(req.ForgottenTopics) > 0 {
		s.topics = nil
	}
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
					sp.lastEpoch, sp.logStart = p.LastFetchedEpoch, p.LogStartOffset
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
	if s.topics != nil {
		return s.topics
	}
	var out []kmsg.FetchRequestTopic
	for _, p := range s.parts {
		if len(out) == 0 || out[len(out)-1].Topic != p.topic {
			t := kmsg.NewFetchRequestTopic()
			t.Topic = p.topic
			out = append(out, t)
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = p.partition, p.fetchOffset, p.maxBytes, p.leaderEpoch
		rp.LastFetchedEpoch, rp.LogStartOffset = p.lastEpoch, p.logStart
		t := &out[len(out)-1]
		t.Partitions = append(t.Partitions, rp)
	}
	s.topics = out
	return out
}

// Topics is the session's partitions as a fetch names them, each with its
// latest parameters. The slice is shared: callers read it, never write it.
func (s *Session) Topics() []kmsg.FetchRequestTopic {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetchTopics()
}

// NextEpoch is the session epoch after e (Kafka: after MaxInt32 comes 1).
func NextEpoch(e int32) int32 { return nextEpoch(e) }

// Fetch is a fetch being served, in its session if it has one (Begin).
type Fetch struct {
	Session *Session // nil: no session
	Epoch   int32    // the session epoch this fetch used
	Full    bool     // every partition read is answered
}

// Begin applies a Fetch's session fields (version 7 on; see the package
// comment) before it is read: it closes, opens or advances the session,
// and returns the fetch to read (for an incremental fetch, the session's
// partitions, each with its latest parameters), or a top-level error code:
// FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH.
func (c *Cache) Begin(version int16, req *kmsg.FetchRequest, now time.Time) (Fetch, *kmsg.FetchRequest, int16) {
	f := Fetch{Full: true}
	if version < 7 {
		return f, req, 0
	}
	switch req.SessionEpoch {
	case -1, 0:
		if req.SessionID != 0 {
			c.Remove(req.SessionID)
		}
		if req.SessionEpoch == 0 {
			f.Session = c.Open(req, now)
		}
		return f, req, 0
	}
	s := c.Get(req.SessionID)
	if s == nil {
		return f, nil, kerr.FetchSessionIDNotFound.Code
	}
	topics, epoch, err := s.Update(req, now)
	if err != nil {
		return f, nil, err.Code
	}
	inc := *req
	inc.Topics = topics
	return Fetch{Session: s, Epoch: epoch}, &inc, 0
}

// Answer is one partition as a fetch read it, for the session to decide
// whether the response carries it.
type Answer struct {
	Topic     string
	Partition int32
	Records   bool // it returned records
	News      bool // an error or a diverging epoch: always carried
	HW        int64
	LSO       int64 // the last stable offset
	LogStart  int64
}

// Responder records what a response of the session tells the client
// (Respond); it holds the session's lock until Done.
type Responder struct {
	s     *Session
	stale bool // the fetch is no longer the session's latest: change nothing, carry all
	full  bool
	n     int   // the partitions of the session matched so far
	moved []int // indexes into s.parts of the partitions that returned records
}

// Respond starts recording the response to the fetch of the given epoch:
// Keep each partition read, in the order read, then Done. A fetch that is
// no longer the session's latest (its epoch moved on) changes nothing and
// carries every partition.
//
// The partitions were read from the session's in its order, and no fetch
// has changed the session since (the epoch says so), so the n-th partition
// read is s.parts[n].
func (s *Session) Respond(epoch int32, full bool) *Responder {
	s.mu.Lock()
	return &Responder{s: s, stale: nextEpoch(epoch) != s.epoch, full: full}
}

// Keep records what the response tells of a partition and reports whether
// it carries it: all of them for the full fetch that opened the session,
// else those with news (records, an error, a new high watermark, last
// stable offset or log start).
func (r *Responder) Keep(a Answer) bool {
	if r.stale {
		return true
	}
	s := r.s
	news := r.full || a.Records || a.News
	if r.n < len(s.parts) && s.parts[r.n].sessionKey == (sessionKey{a.Topic, a.Partition}) {
		sp := &s.parts[r.n]
		news = news || a.HW != sp.hw || a.LSO != sp.lso || a.LogStart != sp.sentLogStart
		sp.hw, sp.lso, sp.sentLogStart = a.HW, a.LSO, a.LogStart
		if a.Records {
			r.moved = append(r.moved, r.n)
		}
		r.n++
	}
	return news
}

// Done moves the partitions that returned records to the end of the
// session's order and releases the session.
func (r *Responder) Done() {
	s := r.s
	defer s.mu.Unlock()
	if len(r.moved) == 0 {
		return
	}
	last := make([]bool, len(s.parts))
	for _, i := range r.moved {
		last[i] = true
	}
	next := make([]sessionPart, 0, len(s.parts))
	for i, sp := range s.parts {
		if !last[i] {
			next = append(next, sp)
		}
	}
	for _, i := range r.moved {
		next = append(next, s.parts[i])
	}
	s.parts, s.topics = next, nil
}
