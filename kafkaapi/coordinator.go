package kafkaapi

// The broker's side of the coordinators (packages group and txn): their
// internal topics, created on the first FindCoordinator as Kafka does,
// and their partitions handed to them on leadership (package coordtopic).
// This broker's transaction coordinator writes its markers for partitions
// this broker leads through WriteTxnMarkers in process (api_27).

import (
	"net"

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

// clientHost is a member's host as Kafka shows it: "/" and the address.
func clientHost(rc *reqCtx) string {
	if a, ok := rc.conn.RemoteAddr().(*net.TCPAddr); ok {
		return "/" + a.IP.String()
	}
	return "/" + rc.conn.RemoteAddr().String()
}
