package fetchsession

// The client's half of a session (Kafka's FetchSessionHandler). A replica
// fetcher that follows thousands of partitions of one leader would name
// each of them in every fetch, and the leader would answer each, twice a
// second while idle. In a session it sends only what changed since its
// previous fetch (partitions added, their parameters moved: fetch offset,
// last fetched epoch, log start, leader epoch) and forgets the ones it no
// longer fetches, and the leader answers only the partitions with news. An
// idle fetch names no partition.
//
// The session's state, as the client keeps it:
//
//	id 0, epoch 0   no session: the next fetch is full (every partition,
//	                epoch 0) and asks for one; the answer's session_id is
//	                the session (0: the leader had no room, try again)
//	id n, epoch e   the next fetch is incremental, at epoch e, naming the
//	                partitions whose parameters differ from sent
//
// Any failed fetch (connection lost, a top-level error, FETCH_SESSION_ID_
// NOT_FOUND or INVALID_FETCH_SESSION_EPOCH among them) must Reset the
// session: the next fetch is full again. A session is bound to one broker.

import "github.com/twmb/franz-go/pkg/kmsg"

// Params are a partition's fetch parameters, as the client sends them and
// the broker's session holds them.
type Params struct {
	Topic       string
	Partition   int32
	FetchOffset int64
	LogStart    int64
	LastEpoch   int32 // last_fetched_epoch
	LeaderEpoch int32 // current_leader_epoch
}

// Follower is a client's session with one broker, for partitions it keys
// by K; one goroutine uses it. Its plans reuse one request and a few maps
// from each fetch to the next, so that planning allocates nothing in the
// steady state.
type Follower[K comparable] struct {
	id    int32
	epoch int32
	// sent is what the broker's session holds, as of the last fetch
	// answered without error; spare is the map the next plan fills (the
	// two swap, so that an idle fetcher of thousands of partitions does
	// not build a map per fetch).
	sent, spare map[K]Params
	plan        Plan[K] // the one plan, reset by each Plan
}

// Reset drops the session: the next fetch is full.
func (s *Follower[K]) Reset() { s.id, s.epoch, s.sent = 0, 0, nil }

// Plan is one fetch being planned: the request (its session fields and
// partitions set), and what the broker's session will hold once it is
// answered. It belongs to its Follower and is valid until the next Plan.
type Plan[K comparable] struct {
	s        *Follower[K]
	req      kmsg.FetchRequest
	next     map[K]Params
	full     bool
	maxBytes int32
	byName   map[string]int // req.Topics' index of each topic
	gone     map[string]int // req.ForgottenTopics' index of each topic
}

// Plan starts the next fetch: full, or incremental against what the
// session holds. Add each partition to fetch, then take the Request.
func (s *Follower[K]) Plan(maxBytes int32) *Plan[K] {
	fp := &s.plan
	if fp.s == nil {
		*fp = Plan[K]{s: s, req: kmsg.NewFetchRequest(), byName: map[string]int{}, gone: map[string]int{}}
	}
	next := s.spare
	if next == nil {
		next = map[K]Params{}
	}
	clear(next)
	s.spare = next
	fp.next, fp.full, fp.maxBytes = next, s.epoch == 0, maxBytes
	clear(fp.byName)
	clear(fp.gone)
	req := &fp.req
	req.Topics, req.ForgottenTopics = req.Topics[:0], req.ForgottenTopics[:0]
	req.SessionID, req.SessionEpoch = s.id, s.epoch
	if fp.full {
		req.SessionID = 0 // a session the broker may still hold was dropped with our state
	}
	return fp
}

// Add makes k, with its parameters now, one of the partitions fetched; the
// request names it if the fetch is full or its parameters changed. Each
// partition is added once.
func (fp *Plan[K]) Add(k K, p Params) {
	fp.next[k] = p
	if old, ok := fp.s.sent[k]; !fp.full && ok && old == p {
		return
	}
	req := &fp.req
	i, ok := fp.byName[p.Topic]
	if !ok {
		i = len(req.Topics)
		req.Topics = extend(req.Topics)
		t := &req.Topics[i]
		t.Topic, t.Partitions = p.Topic, t.Partitions[:0]
		fp.byName[p.Topic] = i
	}
	t := &req.Topics[i]
	t.Partitions = extend(t.Partitions)
	rp := &t.Partitions[len(t.Partitions)-1]
	*rp = kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.CurrentLeaderEpoch = p.Partition, p.LeaderEpoch
	rp.FetchOffset, rp.LastFetchedEpoch = p.FetchOffset, p.LastEpoch
	rp.LogStartOffset, rp.PartitionMaxBytes = p.LogStart, fp.maxBytes
}

// Request finishes the plan (an incremental fetch forgets the partitions
// the session holds that were not added) and returns its request, valid
// until the next Plan.
func (fp *Plan[K]) Request() *kmsg.FetchRequest {
	req := &fp.req
	if fp.full {
		return req
	}
	for k, p := range fp.s.sent {
		if _, ok := fp.next[k]; ok {
			continue
		}
		i, ok := fp.gone[p.Topic]
		if !ok {
			i = len(req.ForgottenTopics)
			req.ForgottenTopics = extend(req.ForgottenTopics)
			t := &req.ForgottenTopics[i]
			t.Topic, t.Partitions = p.Topic, t.Partitions[:0]
			fp.gone[p.Topic] = i
		}
		req.ForgottenTopics[i].Partitions = append(req.ForgottenTopics[i].Partitions, p.Partition)
	}
	return req
}

// extend returns s one element longer, reusing its array (and what that
// element held, for the caller to reset) when it has room.
func extend[T any](s []T) []T {
	if len(s) < cap(s) {
		return s[:len(s)+1]
	}
	var zero T
	return append(s, zero)
}

// Answered moves the session on after a fetch answered without a
// top-level error; sessionID is the response's.
func (s *Follower[K]) Answered(fp *Plan[K], sessionID int32) {
	if fp.full {
		if sessionID == 0 {
			s.Reset() // no room at the broker: full fetches until there is
			return
		}
		s.id, s.epoch = sessionID, 1
	} else {
		s.epoch = nextEpoch(s.epoch)
	}
	s.sent, s.spare = fp.next, s.sent
}
