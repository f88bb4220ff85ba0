package kafkaapi

// DescribeProducers (key 61), version 0 (KIP-664).
//
// The active producers of each partition this broker leads, from its
// producer state (replica.Manager.DescribeProducers): producer id and
// epoch, last sequence, the time of its last append, the coordinator
// epoch of its last transaction marker and the first offset of its open
// transaction (-1: none). UNKNOWN_TOPIC_OR_PARTITION for a partition the
// cluster does not have, NOT_LEADER_OR_FOLLOWER for one this broker does
// not lead.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

func init() { register(61, 0, 0, serveDescribeProducers) }

func serveDescribeProducers(rc *reqCtx, req kmsg.Request) *netpoll.Response {
	return rc.respond(rc.h.rm.DescribeProducers(req.(*kmsg.DescribeProducersRequest)))
}
