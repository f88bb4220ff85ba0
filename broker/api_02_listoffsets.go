package broker

// ListOffsets (key 2), versions 0-7.
//
// Timestamp -2 is the log start offset, -1 the high watermark (the last
// stable offset for read_committed, v2+: the same, no transactions yet),
// -3 (v7+, KIP-734) the offset and time of the largest timestamp, and any
// other timestamp the first offset whose record timestamp is >= it, found
// with the time index and then the records of the batch. v0 answers with
// the old offsets array (max_num_offsets: the start and end offsets).
// Leader epochs are checked (v4+).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/record"

	"samsa/logfile"
	"samsa/netpoll"
)

func init() { register(2, 0, 7, serveListOffsets) }

const (
	tsLatest   = -1
	tsEarliest = -2
	tsMax      = -3
)

func serveListOffsets(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.ListOffsetsRequest)
	b := rc.b
	resp := kmsg.NewPtrListOffsetsResponse()
	for _, rt := range req.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.Timestamp, sp.Offset = -1, -1
			p := b.partition(rt.Topic, rp.Partition)
			switch {
			case p == nil:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case rp.CurrentLeaderEpoch >= 0 && rp.CurrentLeaderEpoch != p.LeaderEpoch:
				sp.ErrorCode = kerr.FencedLeaderEpoch.Code
				if rp.CurrentLeaderEpoch > p.LeaderEpoch {
					sp.ErrorCode = kerr.UnknownLeaderEpoch.Code
				}
			default:
				sp.LeaderEpoch = p.LeaderEpoch
				off, ts, err := b.offsetFor(p, rp.Timestamp)
				if err != nil {
					sp.ErrorCode = codeOf(err)
					break
				}
				sp.Offset, sp.Timestamp = off, ts
				if rc.version == 0 {
					sp.OldStyleOffsets = oldStyleOffsets(p, rp.Timestamp, rp.MaxNumOffsets)
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return rc.respond(resp)
}

// oldStyleOffsets answers v0: offsets at or before the timestamp, newest
// first, at most max of them; this log offers its start and end.
func oldStyleOffsets(p *Partition, ts int64, max int32) []int64 {
	l := p.Log
	var offs []int64
	switch ts {
	case tsLatest:
		offs = []int64{l.HighWatermark(), l.StartOffset()}
	case tsEarliest:
		offs = []int64{l.StartOffset()}
	default:
		offs = []int64{l.StartOffset()}
	}
	if offs[0] == offs[len(offs)-1] {
		offs = offs[:1]
	}
	if int(max) < len(offs) && max >= 0 {
		offs = offs[:max]
	}
	return offs
}

// offsetFor resolves a ListOffsets timestamp to an offset and timestamp.
func (b *Broker) offsetFor(p *Partition, ts int64) (int64, int64, error) {
	l := p.Log
	hw := l.HighWatermark()
	switch ts {
	case tsLatest:
		return hw, -1, nil
	case tsEarliest:
		return l.StartOffset(), -1, nil
	case tsMax:
		t, off := l.MaxTimestamp()
		if off < 0 || off >= hw {
			return -1, -1, nil
		}
		// off is the batch's last offset; answer with the record that has
		// the timestamp (KIP-734, as Kafka does since KAFKA-16310).
		if rec, ok := recordAtTimestamp(l, off, t); ok {
			off = rec
		}
		return off, t, nil
	}
	if ts < 0 {
		return -1, -1, errf(kerr.InvalidRequest, "timestamp %d", ts)
	}
	info, region, found, err := l.OffsetForTimestamp(ts)
	if err != nil {
		return -1, -1, errf(kerr.KafkaStorageError, "%v", err)
	}
	if !found {
		return -1, -1, nil
	}
	defer region.Release()
	off, rts := info.BaseOffset, info.MaxTimestamp
	if info.Attributes&logfile.AttrLogAppendTime == 0 {
		// Find the first record at or after ts within the batch.
		batch, err := region.Bytes()
		var recs []byte
		if err == nil {
			recs, err = record.Inflate(batch, &info.Header, nil, inflateLimit(l.Config().MaxMessageBytes))
		}
		if err == nil {
			record.Check(recs, &info.Header, 0, -1, false, func(delta int32, t int64) bool {
				if t >= ts {
					off, rts = info.BaseOffset+int64(delta), t
					return false
				}
				return true
			})
		}
	}
	if off < l.StartOffset() {
		off = l.StartOffset()
	}
	if off >= hw {
		return -1, -1, nil
	}
	return off, rts, nil
}

// recordAtTimestamp returns the offset of the first record of the batch
// holding offset whose timestamp is ts (LogAppendTime batches: the first).
func recordAtTimestamp(l *logfile.Log, offset, ts int64) (int64, bool) {
	info, batch, err := l.ReadBatchAt(offset)
	if err != nil {
		return 0, false
	}
	if info.Attributes&logfile.AttrLogAppendTime != 0 {
		return info.BaseOffset, true
	}
	recs, err := record.Inflate(batch, &info.Header, nil, inflateLimit(l.Config().MaxMessageBytes))
	if err != nil {
		return 0, false
	}
	found, at := false, int64(0)
	record.Check(recs, &info.Header, 0, -1, false, func(delta int32, t int64) bool {
		if t == ts {
			found, at = true, info.BaseOffset+int64(delta)
		}
		return !found
	})
	return at, found
}
