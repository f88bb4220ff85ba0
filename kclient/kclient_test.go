package kclient

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestRequestAgainstKfake sends requests to franz-go's kfake broker (a
// peer nobody here wrote): versions are negotiated, flexible and
// non-flexible responses decode, and the connection redials after the
// peer closes it.
func TestRequestAgainstKfake(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn := New(c.ListenAddrs()[0], "kclient-test")
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	md := kmsg.NewPtrMetadataRequest()
	resp, err := conn.Request(ctx, md)
	if err != nil {
		t.Fatal(err)
	}
	mr := resp.(*kmsg.MetadataResponse)
	if md.Version < 9 {
		t.Errorf("Metadata went at v%d; kfake serves flexible versions", md.Version)
	}
	if len(mr.Topics) != 1 || *mr.Topics[0].Topic != "t" || len(mr.Brokers) != 1 {
		t.Fatalf("metadata: %+v", mr)
	}

	// A version the peer does not know of is never sent: cap by removing
	// the key from what the peer advertised.
	conn.mu.Lock()
	delete(conn.versions, 60)
	conn.mu.Unlock()
	if _, err := conn.Request(ctx, kmsg.NewPtrDescribeClusterRequest()); !errors.Is(err, ErrUnsupported) {
		t.Errorf("request for an unadvertised key: %v, want ErrUnsupported", err)
	}

	// A dead connection is redialled on the next request.
	conn.mu.Lock()
	conn.c.Close()
	conn.mu.Unlock()
	if _, err := conn.Request(ctx, kmsg.NewPtrMetadataRequest()); err == nil {
		t.Fatal("request on a closed socket succeeded")
	}
	if _, err := conn.Request(ctx, kmsg.NewPtrMetadataRequest()); err != nil {
		t.Fatalf("after redial: %v", err)
	}

	// A cancelled context ends a request at once.
	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	if _, err := conn.Request(done, kmsg.NewPtrMetadataRequest()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled request: %v, want context.Canceled", err)
	}
}
