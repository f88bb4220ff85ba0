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
// by K; one goroutine uses it.
type Follower[K comparable] struct {
	id    int32
	epoch int32
	// sent is what the broker's session holds, as of the last fetch
	// answered without error; spare is the map the next plan fills (the
	// two swap, so that an idle fetcher of thousands of partitions does
	// not build a map per fetch).
	sent, spare map[K]Params
}

// Reset drops the session: the next fetch is full.
func (s *Follower[K]) Reset() { s.id, s.epoch, s.sent = 0, 0, nil }

// Plan is one fetch: the request (its session fields and partitions set),
// and what the broker's session will hold once it is answered.
type Plan[K comparable] struct {
	Req  *kmsg.FetchRequest
	next map[K]Params
	full bool
}

// Plan builds the next fetch of the partitions each adds (each once, with
// its parameters now): full, or incremental against what the session
// holds.
func (s *Follower[K]) Plan(maxBytes int32, each func(add func(K, Params))) Plan[K] {
	next := s.spare
	if next == nil {
		next = map[K]Params{}
	}
	clear(next)
	s.spare = next
	fp := Plan[K]{Req: kmsg.NewPtrFetchRequest(), next: next, full: s.epoch == 0}
	req := fp.Req
	req.SessionID, req.SessionEpoch = s.id, s.epoch
	if fp.full {
		req.SessionID = 0 // a session the broker may still hold was dropped with our state
	}
	byName := map[string]int{}
	each(func(k K, p Params) {
		next[k] = p
		if old, ok := s.sent[k]; !fp.full && ok && old == p {
			return
		}
		i, ok := byName[p.Topic]
		if !ok {
			t := kmsg.NewFetchRequestTopic()
			t.Topic = p.Topic
			req.Topics = append(req.Topics, t)
			i = len(req.Topics) - 1
			byName[p.Topic] = i
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.CurrentLeaderEpoch = p.Partition, p.LeaderEpoch
		rp.FetchOffset, rp.LastFetchedEpoch = p.FetchOffset, p.LastEpoch
		rp.LogStartOffset, rp.PartitionMaxBytes = p.LogStart, maxBytes
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
	})
	if fp.full {
		return fp
	}
	gone := map[string]int{}
	for k, p := range s.sent {
		if _, ok := next[k]; ok {
			continue
		}
		i, ok := gone[p.Topic]
		if !ok {
			req.ForgottenTopics = append(req.ForgottenTopics, kmsg.FetchRequestForgottenTopic{Topic: p.Topic})
			i = len(req.ForgottenTopics) - 1
			gone[p.Topic] = i
		}
		req.ForgottenTopics[i].Partitions = append(req.ForgottenTopics[i].Partitions, p.Partition)
	}
	return fp
}

// Answered moves the session on after a fetch answered without a
// top-level error; sessionID is the response's.
func (s *Follower[K]) Answered(fp Plan[K], sessionID int32) {
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
