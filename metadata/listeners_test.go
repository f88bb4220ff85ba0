package metadata

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/security"
)

// TestApplyUpdateMetadataEndpoints: the cache keeps every endpoint of each
// live broker the controller sends, its address the inter-broker
// listener's, and answers per listener.
func TestApplyUpdateMetadataEndpoints(t *testing.T) {
	c := NewCache("c")
	req := kmsg.NewPtrUpdateMetadataRequest()
	req.ControllerID = 1
	for id, eps := range map[int32][]kmsg.UpdateMetadataRequestLiveBrokerEndpoint{
		1: {endpoint("CLIENT", "b1.example", 9093, security.SSL), endpoint("REPLICATION", "10.0.0.1", 9095, security.SSL)},
		2: {endpoint("REPLICATION", "10.0.0.2", 9095, security.SSL)},
	} {
		lb := kmsg.NewUpdateMetadataRequestLiveBroker()
		lb.ID, lb.Endpoints = id, eps
		req.LiveBrokers = append(req.LiveBrokers, lb)
	}
	c.ApplyUpdateMetadata(req, "REPLICATION")
	snap := c.Load()
	b1, _ := snap.Broker(1)
	if b1.Host != "10.0.0.1" || b1.Port != 9095 || len(b1.Endpoints) != 2 || b1.Endpoints[0].Protocol != security.SSL {
		t.Fatalf("broker 1 %+v", b1)
	}
	if on := snap.BrokersOn("CLIENT"); len(on) != 1 || on[0].ID != 1 || on[0].Host != "b1.example" || on[0].Port != 9093 {
		t.Fatalf("brokers on CLIENT %+v: want broker 1 at b1.example:9093 alone", on)
	}
	if on := snap.BrokersOn("REPLICATION"); len(on) != 2 {
		t.Fatalf("brokers on REPLICATION %+v", on)
	}
	if _, ok := snap.BrokerOn(2, "CLIENT"); ok {
		t.Fatal("broker 2 has no CLIENT listener")
	}
	// A broker known without endpoints is at its address on any listener.
	c.Update(func(e *Edit) { e.SetBrokers([]Broker{{ID: 3, Host: "h", Port: 1}}) })
	if b, ok := c.Load().BrokerOn(3, "ANY"); !ok || b.Host != "h" {
		t.Fatalf("broker without endpoints: %+v, %v", b, ok)
	}
}

func endpoint(listener, host string, port int32, p security.Protocol) kmsg.UpdateMetadataRequestLiveBrokerEndpoint {
	e := kmsg.NewUpdateMetadataRequestLiveBrokerEndpoint()
	e.ListenerName, e.Host, e.Port, e.SecurityProtocol = listener, host, port, int16(p)
	return e
}
