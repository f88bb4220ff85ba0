package txn

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kclient"
	"samsa/metadata"
)

// MarkerFunc is a MarkerSender of a function: the broker's own
// WriteTxnMarkers handler, served in-process.
type MarkerFunc func(ctx context.Context, broker int32, req *kmsg.WriteTxnMarkersRequest) (*kmsg.WriteTxnMarkersResponse, error)

func (f MarkerFunc) WriteTxnMarkers(ctx context.Context, broker int32, req *kmsg.WriteTxnMarkersRequest) (*kmsg.WriteTxnMarkersResponse, error) {
	return f(ctx, broker, req)
}

// Route sends markers for the partitions this broker leads to Local, in
// process (a standalone broker's whole path), and the others to Remote.
type Route struct {
	Self          int32
	Local, Remote MarkerSender
}

func (r Route) WriteTxnMarkers(ctx context.Context, broker int32, req *kmsg.WriteTxnMarkersRequest) (*kmsg.WriteTxnMarkersResponse, error) {
	if broker == r.Self {
		return r.Local.WriteTxnMarkers(ctx, broker, req)
	}
	return r.Remote.WriteTxnMarkers(ctx, broker, req)
}

// Conns are kclient connections to the other brokers, one per broker,
// dialled at the address the metadata cache has for it (again when that
// changes). A Conn sends one request at a time: the marker channel and
// the verifier each have their own Conns.
type Conns struct {
	Cache    *metadata.Cache
	ClientID string
	// Dial reaches the inter-broker listener (TLS when it is SSL); nil:
	// plain TCP.
	Dial kclient.DialFunc

	mu    sync.Mutex // guards conns; a leaf
	conns map[int32]*kclient.Conn
}

func (cs *Conns) conn(broker int32) (*kclient.Conn, error) {
	b, ok := cs.Cache.Load().Broker(broker)
	if !ok {
		return nil, fmt.Errorf("txn: broker %d is not alive", broker)
	}
	addr := net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.conns == nil {
		cs.conns = map[int32]*kclient.Conn{}
	}
	c := cs.conns[broker]
	if c != nil && c.Addr() != addr {
		c.Close()
		c = nil
	}
	if c == nil {
		if cs.Dial != nil {
			c = kclient.New(addr, cs.ClientID, kclient.WithDial(cs.Dial))
		} else {
			c = kclient.New(addr, cs.ClientID)
		}
		cs.conns[broker] = c
	}
	return c, nil
}

// WriteTxnMarkers sends the request to broker over the network.
func (cs *Conns) WriteTxnMarkers(ctx context.Context, broker int32, req *kmsg.WriteTxnMarkersRequest) (*kmsg.WriteTxnMarkersResponse, error) {
	c, err := cs.conn(broker)
	if err != nil {
		return nil, err
	}
	resp, err := c.Request(ctx, req)
	if err != nil {
		return nil, err
	}
	return resp.(*kmsg.WriteTxnMarkersResponse), nil
}

// Close closes every connection.
func (cs *Conns) Close() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for id, c := range cs.conns {
		c.Close()
		delete(cs.conns, id)
	}
}
