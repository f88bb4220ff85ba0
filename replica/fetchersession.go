package replica

// The follower's half of a fetch session (KIP-227; Kafka's
// FetchSessionHandler). A fetcher that follows thousands of partitions of
// one leader would name each of them in every fetch, and the leader would
// answer each, twice a second while idle. In a session the leader keeps
// the partitions and their fetch parameters; the fetcher sends only what
// changed since its previous fetch (partitions added, their parameters
// moved: fetch offset, last fetched epoch, log start, leader epoch) and
// forgets the ones it no longer fetches, and the leader answers only the
// partitions with news. An idle fetch names no partition.
//
// The session's state, as the follower keeps it:
//
//	id 0, epoch 0   no session: the next fetch is full (every partition,
//	                epoch 0) and asks for one; the answer's session_id is
//	                the session (0: the leader had no room, try again)
//	id n, epoch e   the next fetch is incremental, at epoch e, naming the
//	                partitions whose parameters differ from sent
//
// Any failed fetch (connection lost, a top-level error, FETCH_SESSION_ID_
// NOT_FOUND or INVALID_FETCH_SESSION_EPOCH among them) drops the session:
// the next fetch is full again. A session is bound to one leader address.

import "github.com/twmb/franz-go/pkg/kmsg"

// sentPart is a partition's fetch parameters as the leader's session
// holds them.
type sentPart struct {
	fetchOffset, logStart  int64
	lastEpoch, leaderEpoch int32
}

// fetchParams are p's parameters for a fetch at leaderEpoch, read now.
func fetchParams(p *Partition, leaderEpoch int32) sentPart {
	return sentPart{fetchOffset: p.Log.EndOffset(), logStart: p.Log.StartOffset(),
		lastEpoch: p.Log.LatestEpoch(), leaderEpoch: leaderEpoch}
}

// followerSession is a fetcher's session with its leader; only the
// fetcher's goroutine uses it.
type followerSession struct {
	id    int32
	epoch int32
	// sent is what the leader's session holds, as of the last fetch
	// answered without error; spare is the map the next plan fills (the
	// two swap, so that an idle fetcher of thousands of partitions does
	// not build a map per fetch).
	sent, spare map[*Partition]sentPart
}

func (s *followerSession) reset() { s.id, s.epoch, s.sent = 0, 0, nil }

// fetchPlan is one fetch: the request, and what the session will hold if
// it is answered.
type fetchPlan struct {
	req  *kmsg.FetchRequest
	next map[*Partition]sentPart
	full bool
}

// plan builds the next fetch of parts (each with the leader epoch it is
// fetched at): full, or incremental against what the session holds.
func (s *followerSession) plan(parts map[*Partition]int32, maxBytes int32) fetchPlan {
	next := s.spare
	if next == nil {
		next = make(map[*Partition]sentPart, len(parts))
	}
	clear(next)
	s.spare = next
	fp := fetchPlan{req: kmsg.NewPtrFetchRequest(), next: next, full: s.epoch == 0}
	req := fp.req
	req.SessionID, req.SessionEpoch = s.id, s.epoch
	if fp.full {
		req.SessionID = 0 // a session the leader may still hold was dropped with our state
	}
	byName := map[string]int{}
	add := func(p *Partition, sp sentPart) {
		i, ok := byName[p.Topic]
		if !ok {
			t := kmsg.NewFetchRequestTopic()
			t.Topic = p.Topic
			req.Topics = append(req.Topics, t)
			i = len(req.Topics) - 1
			byName[p.Topic] = i
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.CurrentLeaderEpoch = p.Index, sp.leaderEpoch
		rp.FetchOffset, rp.LastFetchedEpoch = sp.fetchOffset, sp.lastEpoch
		rp.LogStartOffset, rp.PartitionMaxBytes = sp.logStart, maxBytes
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
	}
	for p, epoch := range parts {
		sp := fetchParams(p, epoch)
		fp.next[p] = sp
		if old, ok := s.sent[p]; fp.full || !ok || old != sp {
			add(p, sp)
		}
	}
	if fp.full {
		return fp
	}
	gone := map[string]int{}
	for p := range s.sent {
		if _, ok := parts[p]; ok {
			continue
		}
		i, ok := gone[p.Topic]
		if !ok {
			req.ForgottenTopics = append(req.ForgottenTopics, kmsg.FetchRequestForgottenTopic{Topic: p.Topic})
			i = len(req.ForgottenTopics) - 1
			gone[p.Topic] = i
		}
		req.ForgottenTopics[i].Partitions = append(req.ForgottenTopics[i].Partitions, p.Index)
	}
	return fp
}

// answered moves the session on after a fetch answered without a
// top-level error: sessionID is the response's.
func (s *followerSession) answered(fp fetchPlan, sessionID int32) {
	if fp.full {
		if sessionID == 0 {
			s.reset() // no room at the leader: full fetches until there is
			return
		}
		s.id, s.epoch = sessionID, 1
	} else {
		s.epoch = nextEpoch(s.epoch)
	}
	s.sent, s.spare = fp.next, s.sent
}
