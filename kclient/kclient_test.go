package kclient

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestRequestDeadlineWhileReading: a peer that takes the connection and
// answers ApiVersions but never answers the next request; each request
// ends at its context's deadline, when the connection's own deadline
// fires too. The connection is closed then, while the context's cleanup
// may still be running: neither may touch the other's state (this
// crashed a broker: nil pointer dereference in the context's AfterFunc).
func TestRequestDeadlineWhileReading(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go serveApiVersionsOnly(nc)
		}
	}()
	c := New(ln.Addr().String(), "test")
	defer c.Close()
	for i := 0; i < 300; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(1+i%3)*time.Millisecond)
		_, err := c.Request(ctx, kmsg.NewPtrMetadataRequest())
		cancel()
		if err == nil {
			t.Fatal("a request the peer never answers succeeded")
		}
	}
}

// serveApiVersionsOnly answers the first request (ApiVersions) and then
// reads requests without answering.
func serveApiVersionsOnly(nc net.Conn) {
	defer nc.Close()
	first := true
	for {
		var size [4]byte
		if _, err := io.ReadFull(nc, size[:]); err != nil {
			return
		}
		frame := make([]byte, int(size[0])<<24|int(size[1])<<16|int(size[2])<<8|int(size[3]))
		if _, err := io.ReadFull(nc, frame); err != nil {
			return
		}
		if !first {
			continue
		}
		first = false
		resp := kmsg.NewPtrApiVersionsResponse()
		resp.SetVersion(3)
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MaxVersion = 3, 12
		resp.ApiKeys = append(resp.ApiKeys, k)
		body := append(append([]byte(nil), frame[4:8]...), resp.AppendTo(nil)...) // correlation id
		out := append([]byte{byte(len(body) >> 24), byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
		if _, err := nc.Write(out); err != nil && !errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

// TestRequestAtLeast: a request whose caller needs a version above what
// the peer serves is ErrUnsupported and is not sent (the peer would read
// it as another request: AddPartitionsToTxn v3 adds, v4 may only verify);
// at a version the peer serves it goes out.
func TestRequestAtLeast(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go serveApiVersionsOnly(nc) // Metadata up to v12
		}
	}()
	c := New(ln.Addr().String(), "test")
	defer c.Close()
	req := kmsg.NewPtrMetadataRequest()
	if _, err := c.RequestAtLeast(context.Background(), req, 13); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("v13 of a peer serving v12: %v, want ErrUnsupported", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = c.RequestAtLeast(ctx, req, 12)
	if errors.Is(err, ErrUnsupported) || err == nil {
		t.Fatalf("v12 of a peer serving v12 (never answered): %v, want a timeout", err)
	}
	if req.GetVersion() != 12 {
		t.Errorf("sent at v%d, want v12", req.GetVersion())
	}
}
