package kafkaapi

// The broker's side of the coordinators (packages group and txn): their
// internal topics, created on the first FindCoordinator as Kafka does,
// and their partitions handed to them on leadership (package coordtopic),
// and the in-process path of WriteTxnMarkers for the transaction
// coordinator's markers to partitions this broker leads.

import (
	"context"
	"net"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi/coordtopic"
)

const (
	offsetsTopic = coordtopic.Offsets
	txnTopic     = coordtopic.Txn
)

// LoadCoordinatorPartitions hands the coordinators the partitions of
// __consumer_offsets and __transaction_state this broker leads; they
// replay them in the background.
func (h *Handler) LoadCoordinatorPartitions() { h.topics.Load() }

// localMarkers is the partition side of WriteTxnMarkers (key 27), set by
// the file serving it: the markers this broker's transaction coordinator
// writes to partitions this broker leads go through it in process, the
// path a WriteTxnMarkers of another broker's coordinator takes.
var localMarkers func(h *Handler, ctx context.Context, req *kmsg.WriteTxnMarkersRequest) *kmsg.WriteTxnMarkersResponse

// WriteTxnMarkersLocal serves the markers of this broker's transaction
// coordinator for partitions this broker leads (a txn.MarkerFunc). Without
// a WriteTxnMarkers handler it fails, and the coordinator sends them again
// later.
func (h *Handler) WriteTxnMarkersLocal(ctx context.Context, _ int32, req *kmsg.WriteTxnMarkersRequest) (*kmsg.WriteTxnMarkersResponse, error) {
	if localMarkers == nil {
		return nil, errf(kerr.UnsupportedVersion, "this broker does not write transaction markers")
	}
	return localMarkers(h, ctx, req), nil
}

// clientHost is a member's host as Kafka shows it: "/" and the address.
func clientHost(rc *reqCtx) string {
	if a, ok := rc.conn.RemoteAddr().(*net.TCPAddr); ok {
		return "/" + a.IP.String()
	}
	return "/" + rc.conn.RemoteAddr().String()
}
