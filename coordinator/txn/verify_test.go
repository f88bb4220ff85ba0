package txn

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/metadata"
)

// peer is another broker on a local socket: it answers ApiVersions
// (advertising max for the keys it serves) and hands every other request
// to serve.
type peer struct {
	ln    net.Listener
	max   map[int16]int16
	serve func(req kmsg.Request) kmsg.Response

	mu   sync.Mutex
	reqs []kmsg.Request
}

func newPeer(t *testing.T, max map[int16]int16, serve func(kmsg.Request) kmsg.Response) *peer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{ln: ln, max: max, serve: serve}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go p.conn(nc)
		}
	}()
	return p
}

func (p *peer) port() int32 {
	_, port, _ := net.SplitHostPort(p.ln.Addr().String())
	n, _ := strconv.Atoi(port)
	return int32(n)
}

func (p *peer) conn(nc net.Conn) {
	defer nc.Close()
	for {
		var size [4]byte
		if _, err := io.ReadFull(nc, size[:]); err != nil {
			return
		}
		frame := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(nc, frame); err != nil {
			return
		}
		key, version := int16(binary.BigEndian.Uint16(frame)), int16(binary.BigEndian.Uint16(frame[2:]))
		body := frame[8:]
		n := int(binary.BigEndian.Uint16(body))
		body = body[2+n:]
		req := kmsg.RequestForKey(key)
		req.SetVersion(version)
		if req.IsFlexible() {
			body = body[1:] // no header tags from kclient
		}
		if err := req.ReadFrom(body); err != nil {
			return
		}
		var resp kmsg.Response
		if key == 18 {
			av := kmsg.NewPtrApiVersionsResponse()
			for k, m := range p.max {
				ak := kmsg.NewApiVersionsResponseApiKey()
				ak.ApiKey, ak.MaxVersion = k, m
				av.ApiKeys = append(av.ApiKeys, ak)
			}
			resp = av
		} else {
			p.mu.Lock()
			p.reqs = append(p.reqs, req)
			p.mu.Unlock()
			resp = p.serve(req)
		}
		resp.SetVersion(version)
		out := append([]byte{0, 0, 0, 0}, frame[4:8]...)
		if resp.IsFlexible() && key != 18 {
			out = append(out, 0)
		}
		out = resp.AppendTo(out)
		binary.BigEndian.PutUint32(out, uint32(len(out)-4))
		if _, err := nc.Write(out); err != nil {
			return
		}
	}
}

func (p *peer) requests() []kmsg.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reqs
}

// TestVerifierLocal: this broker coordinates the id: the coordinator
// answers in process, with its codes.
func TestVerifierLocal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{})
		h.load()
		v := &Verifier{Coordinator: h.c, Cache: h.cache, Self: 1, Conns: &Conns{Cache: h.cache}}
		pid, epoch := h.begin("t1", "a-0")
		got, err := v.VerifyTxn(context.Background(), "t1", pid, epoch, map[string][]int32{"a": {0, 1}})
		if want := map[string]map[int32]int16{"a": {0: 0, 1: kerr.TransactionAbortable.Code}}; err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("got %v %v, want %v", got, err, want)
		}
		_, err = v.VerifyTxn(context.Background(), "t1", pid, epoch+1, map[string][]int32{"a": {0}})
		if err != kerr.ProducerFenced {
			t.Errorf("fenced: %v", err)
		}
		h.setLeader(Topic, 0, -1)
		if _, err := v.VerifyTxn(context.Background(), "t1", pid, epoch, map[string][]int32{"a": {0}}); err != kerr.CoordinatorNotAvailable {
			t.Errorf("no coordinator: %v", err)
		}
	})
}

// TestVerifierRemote: another broker coordinates the id: it is asked with
// AddPartitionsToTxn v4+ verify_only, and its codes come back as it gave
// them; a coordinator that cannot verify (below v4) is not asked.
func TestVerifierRemote(t *testing.T) {
	p := newPeer(t, map[int16]int16{24: 5}, func(r kmsg.Request) kmsg.Response {
		req := r.(*kmsg.AddPartitionsToTxnRequest)
		resp := kmsg.NewPtrAddPartitionsToTxnResponse()
		for _, tx := range req.Transactions {
			rt := kmsg.NewAddPartitionsToTxnResponseTransaction()
			rt.TransactionalID = tx.TransactionalID
			for _, top := range tx.Topics {
				rtt := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
				rtt.Topic = top.Topic
				for _, part := range top.Partitions {
					rp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
					rp.Partition = part
					if part == 1 {
						rp.ErrorCode = kerr.TransactionAbortable.Code
					}
					rtt.Partitions = append(rtt.Partitions, rp)
				}
				rt.Topics = append(rt.Topics, rtt)
			}
			resp.Transactions = append(resp.Transactions, rt)
		}
		return resp
	})
	old := newPeer(t, map[int16]int16{24: 3}, func(kmsg.Request) kmsg.Response {
		t.Error("a v3 coordinator was asked")
		return kmsg.NewPtrAddPartitionsToTxnResponse()
	})
	cache := metadata.NewCache("test")
	cache.Update(func(e *metadata.Edit) {
		e.SetBrokers([]metadata.Broker{{ID: 1, Host: "127.0.0.1", Port: 1}, {ID: 2, Host: "127.0.0.1", Port: p.port()}, {ID: 3, Host: "127.0.0.1", Port: old.port()}})
		e.PutTopic(&metadata.TopicInfo{Name: Topic, Partitions: []metadata.PartitionState{{Leader: 2}}})
	})
	c := New(Config{Partitions: 1, Cache: cache, Markers: &fakeSender{}, ProducerIDs: func() (int64, error) { return 1, nil }, Logger: discard})
	defer c.Close()
	conns := &Conns{Cache: cache, ClientID: "broker-1"}
	defer conns.Close()
	v := &Verifier{Coordinator: c, Cache: cache, Self: 1, Conns: conns}
	got, err := v.VerifyTxn(context.Background(), "t1", 7, 3, map[string][]int32{"a": {0, 1}, "b": {2}})
	want := map[string]map[int32]int16{"a": {0: 0, 1: kerr.TransactionAbortable.Code}, "b": {2: 0}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v %v, want %v", got, err, want)
	}
	reqs := p.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	req := reqs[0].(*kmsg.AddPartitionsToTxnRequest)
	if req.GetVersion() < 4 || len(req.Transactions) != 1 || !req.Transactions[0].VerifyOnly || req.Transactions[0].ProducerID != 7 || req.Transactions[0].ProducerEpoch != 3 {
		t.Errorf("request v%d %+v", req.GetVersion(), req.Transactions)
	}
	cache.Update(func(e *metadata.Edit) {
		e.PutTopic(&metadata.TopicInfo{Name: Topic, Partitions: []metadata.PartitionState{{Leader: 3}}})
	})
	if got, err := v.VerifyTxn(context.Background(), "t1", 7, 3, map[string][]int32{"a": {0}}); got != nil || err != nil {
		t.Errorf("a coordinator below v4: %v %v, want no verification", got, err)
	}
	p.ln.Close()
	cache.Update(func(e *metadata.Edit) {
		e.PutTopic(&metadata.TopicInfo{Name: Topic, Partitions: []metadata.PartitionState{{Leader: 2}}})
	})
	conns.Close()
	if _, err := v.VerifyTxn(context.Background(), "t1", 7, 3, map[string][]int32{"a": {0}}); err == nil || errors.As(err, new(*kerr.Error)) {
		t.Errorf("an unreachable coordinator: %v, want a network error", err)
	}
}

// TestConnsWriteTxnMarkers: markers for another broker go over the
// network to the address the cache has for it, and its answer comes back.
func TestConnsWriteTxnMarkers(t *testing.T) {
	p := newPeer(t, map[int16]int16{27: 1}, func(r kmsg.Request) kmsg.Response {
		req := r.(*kmsg.WriteTxnMarkersRequest)
		resp := kmsg.NewPtrWriteTxnMarkersResponse()
		for _, m := range req.Markers {
			rm := kmsg.NewWriteTxnMarkersResponseMarker()
			rm.ProducerID = m.ProducerID
			resp.Markers = append(resp.Markers, rm)
		}
		return resp
	})
	cache := metadata.NewCache("test")
	cache.Update(func(e *metadata.Edit) {
		e.SetBrokers([]metadata.Broker{{ID: 2, Host: "127.0.0.1", Port: p.port()}})
	})
	conns := &Conns{Cache: cache, ClientID: "broker-1"}
	defer conns.Close()
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	mk := kmsg.NewWriteTxnMarkersRequestMarker()
	mk.ProducerID, mk.CoordinatorEpoch = 42, 9
	req.Markers = append(req.Markers, mk)
	resp, err := conns.WriteTxnMarkers(context.Background(), 2, req)
	if err != nil || len(resp.Markers) != 1 || resp.Markers[0].ProducerID != 42 {
		t.Fatalf("%+v %v", resp, err)
	}
	if got := p.requests()[0].(*kmsg.WriteTxnMarkersRequest); got.Markers[0].CoordinatorEpoch != 9 || got.GetVersion() != 1 {
		t.Errorf("sent v%d %+v", got.GetVersion(), got.Markers)
	}
	if _, err := conns.WriteTxnMarkers(context.Background(), 5, req); err == nil {
		t.Error("a broker the cache does not have")
	}
	local := 0
	r := Route{Self: 1, Local: MarkerFunc(func(context.Context, int32, *kmsg.WriteTxnMarkersRequest) (*kmsg.WriteTxnMarkersResponse, error) {
		local++
		return kmsg.NewPtrWriteTxnMarkersResponse(), nil
	}), Remote: conns}
	r.WriteTxnMarkers(context.Background(), 1, req)
	r.WriteTxnMarkers(context.Background(), 2, req)
	if local != 1 || len(p.requests()) != 2 {
		t.Errorf("route: %d local, %d remote", local, len(p.requests()))
	}
}
