package replica

// Fetch sessions (KIP-227) as the Fetch handler uses them; the sessions
// themselves, both the broker's and a follower's, are package
// fetchsession's.

import (
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/replica/fetchsession"
)

// FetchContext is a Fetch being served and its session, if any
// (BeginFetch).
type FetchContext struct{ f fetchsession.Fetch }

// SessionID is the session_id of the response: 0 for none.
func (fc FetchContext) SessionID() int32 {
	if fc.f.Session == nil {
		return 0
	}
	return fc.f.Session.ID
}

// BeginFetch applies a Fetch's session fields before it is read
// (fetchsession.Cache.Begin): it returns the fetch to read, or a top-level
// error code.
func (m *Manager) BeginFetch(version int16, req *kmsg.FetchRequest, now time.Time) (FetchContext, *kmsg.FetchRequest, int16) {
	f, req, code := m.Sessions.Begin(version, req, now)
	return FetchContext{f}, req, code
}

// Finish trims the partitions read to those the response carries: all of
// them without a session or for a full fetch, else those with news; the
// regions of the others are released.
func (fc FetchContext) Finish(topics []FetchTopic) []FetchTopic {
	if fc.f.Session == nil {
		return topics
	}
	r := fc.f.Session.Respond(fc.f.Epoch, fc.f.Full)
	defer r.Done()
	out := topics[:0]
	for _, t := range topics {
		kept := t.Parts[:0]
		for _, fp := range t.Parts {
			if r.Keep(fetchsession.Answer{Topic: t.Name, Partition: fp.Partition, Records: fp.Region.Len > 0,
				News: fp.ErrCode != 0 || fp.Diverging.Epoch >= 0, HW: fp.HW, LSO: fp.LSO, LogStart: fp.LogStart}) {
				kept = append(kept, fp)
			} else {
				fp.Region.Release()
			}
		}
		if len(kept) > 0 {
			out = append(out, FetchTopic{Name: t.Name, Parts: kept})
		}
	}
	return out
}
