package controller

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/metadata/kafkazk"
	"samsa/metadata/kafkazk/zkdata"
)

// channel sends the controller's requests to one broker, in order (Kafka's
// RequestSendThread): a request that fails is retried, with a growing
// pause, until it is answered or the channel closes (the broker died, or
// this controller resigned). A broker that restarts gets a new channel and
// the full state again, so requests dropped with a closed channel are not
// lost work.
type channel struct {
	id      int32
	conn    Conn
	timeout time.Duration
	log     *slog.Logger

	mu   sync.Mutex
	q    []pending
	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

type pending struct {
	req  kmsg.Request
	then func(kmsg.Response, error) // may be nil; runs on the channel's goroutine
}

// endpoint is a broker's address on the given listener (its first one if
// none has that name).
func endpoint(b kafkazk.RegisteredBroker, listener string) string {
	for _, e := range b.Endpoints {
		if e.Listener == listener {
			return net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port)))
		}
	}
	if len(b.Endpoints) > 0 {
		e := b.Endpoints[0]
		return net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port)))
	}
	return ""
}

func (c *Controller) openChannel(b kafkazk.RegisteredBroker) {
	if old := c.channels[b.ID]; old != nil {
		old.close()
	}
	// The control plane listener when the broker has it; a broker without
	// it (not yet restarted with it) on the inter-broker listener.
	listener := c.cfg.Listener
	for _, e := range b.Endpoints {
		if c.cfg.ControlListener != "" && e.Listener == c.cfg.ControlListener {
			listener = c.cfg.ControlListener
		}
	}
	c.channels[b.ID] = newChannel(b.ID, c.cfg.Dial(b.ID, endpoint(b, listener)), c.cfg.RequestTimeout, c.log.With("broker", b.ID))
}

// newChannel starts a channel to broker id over conn.
func newChannel(id int32, conn Conn, timeout time.Duration, log *slog.Logger) *channel {
	ch := &channel{id: id, conn: conn, timeout: timeout, log: log,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go ch.run()
	return ch
}

func (ch *channel) send(req kmsg.Request, then func(kmsg.Response, error)) {
	ch.mu.Lock()
	ch.q = append(ch.q, pending{req, then})
	ch.mu.Unlock()
	select {
	case ch.wake <- struct{}{}:
	default:
	}
}

func (ch *channel) close() {
	select {
	case <-ch.stop:
	default:
		close(ch.stop)
	}
	<-ch.done
	ch.conn.Close()
}

func (ch *channel) run() {
	defer close(ch.done)
	for {
		select {
		case <-ch.stop:
			return // the queue goes with the channel: nothing more is sent
		default:
		}
		ch.mu.Lock()
		if len(ch.q) == 0 {
			ch.mu.Unlock()
			select {
			case <-ch.stop:
				return
			case <-ch.wake:
				continue
			}
		}
		p := ch.q[0]
		ch.q = ch.q[1:]
		ch.mu.Unlock()
		resp, err := ch.deliver(p.req)
		if p.then != nil {
			p.then(resp, err)
		}
	}
}

// deliver sends until answered or closed.
func (ch *channel) deliver(req kmsg.Request) (kmsg.Response, error) {
	pause := 100 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), ch.timeout)
		go func() {
			select {
			case <-ch.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		resp, err := ch.conn.Request(ctx, req)
		cancel()
		if err == nil {
			return resp, nil
		}
		select {
		case <-ch.stop:
			return nil, err
		default:
		}
		ch.log.Warn("controller request failed; retrying", "request", kmsg.NameForKey(req.Key()), "err", err, "retry.in", pause)
		select {
		case <-ch.stop:
			return nil, err
		case <-time.After(pause):
		}
		pause = min(2*pause, 2*time.Second)
	}
}

// sendLeaderAndIsr tells each broker in to about the partitions of keys
// it holds a replica of.
func (c *Controller) sendLeaderAndIsr(keys []tpKey, to []int32, full bool) {
	for _, id := range to {
		b, ok := c.s.brokers[id]
		ch := c.channels[id]
		if !ok || ch == nil {
			continue
		}
		req := kmsg.NewPtrLeaderAndISRRequest()
		req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = c.cfg.BrokerID, c.token.Epoch, b.Epoch
		if full {
			req.Type = 1
		}
		leaders := map[int32]bool{}
		byTopic := map[string]int{}
		for _, k := range keys {
			pc := c.s.part(k)
			if pc == nil || pc.state == nil || !contains(pc.replicas, id) || c.s.deleting[k.topic] {
				continue
			}
			i, ok := byTopic[k.topic]
			if !ok {
				ts := kmsg.NewLeaderAndISRRequestTopicState()
				ts.Topic, ts.TopicID = k.topic, c.s.topics[k.topic].id
				req.TopicStates = append(req.TopicStates, ts)
				i = len(req.TopicStates) - 1
				byTopic[k.topic] = i
			}
			st := pc.state
			ps := kmsg.NewLeaderAndISRRequestTopicPartition()
			ps.Topic, ps.Partition = k.topic, k.part
			ps.ControllerEpoch, ps.Leader, ps.LeaderEpoch = st.ControllerEpoch, st.Leader, st.LeaderEpoch
			ps.ISR, ps.ZKVersion, ps.Replicas = st.ISR, st.PartitionEpoch, pc.replicas
			ps.AddingReplicas, ps.RemovingReplicas = pc.adding, pc.removing
			ps.LeaderRecoveryState = st.LeaderRecoveryState
			req.TopicStates[i].PartitionStates = append(req.TopicStates[i].PartitionStates, ps)
			if st.Leader >= 0 {
				leaders[st.Leader] = true
			}
		}
		if len(req.TopicStates) == 0 {
			continue
		}
		for l := range leaders {
			if lb, ok := c.s.brokers[l]; ok {
				ll := kmsg.NewLeaderAndISRRequestLiveLeader()
				host, port := hostPort(endpoint(lb, c.cfg.Listener))
				ll.BrokerID, ll.Host, ll.Port = l, host, port
				req.LiveLeaders = append(req.LiveLeaders, ll)
			}
		}
		ch.send(req, func(resp kmsg.Response, err error) {
			if err != nil {
				return
			}
			r := resp.(*kmsg.LeaderAndISRResponse)
			if r.ErrorCode != 0 {
				ch.log.Warn("LeaderAndIsr refused", "error", r.ErrorCode)
			}
		})
	}
}

func contains(s []int32, x int32) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func hostPort(addr string) (string, int32) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, -1
	}
	n, _ := strconv.Atoi(p)
	return h, int32(n)
}

// sendUpdateMetadata tells brokers the live brokers and the states of the
// partitions of keys (a topic being deleted with leader -2).
func (c *Controller) sendUpdateMetadata(to []int32, keys []tpKey) {
	for _, id := range to {
		b, ok := c.s.brokers[id]
		ch := c.channels[id]
		if !ok || ch == nil {
			continue
		}
		req := c.updateMetadata(keys)
		req.BrokerEpoch = b.Epoch
		ch.send(req, nil)
	}
}

func (c *Controller) updateMetadata(keys []tpKey) *kmsg.UpdateMetadataRequest {
	req := kmsg.NewPtrUpdateMetadataRequest()
	req.ControllerID, req.ControllerEpoch = c.cfg.BrokerID, c.token.Epoch
	for _, id := range c.s.liveIDs() {
		b := c.s.brokers[id]
		lb := kmsg.NewUpdateMetadataRequestLiveBroker()
		lb.ID = id
		if b.Rack != "" {
			rack := b.Rack
			lb.Rack = &rack
		}
		for _, e := range b.Endpoints {
			ep := kmsg.NewUpdateMetadataRequestLiveBrokerEndpoint()
			ep.Host, ep.Port, ep.ListenerName = e.Host, e.Port, e.Listener
			ep.SecurityProtocol = securityProtocolID(e.SecurityProtocol)
			lb.Endpoints = append(lb.Endpoints, ep)
		}
		req.LiveBrokers = append(req.LiveBrokers, lb)
	}
	byTopic := map[string]int{}
	for _, k := range keys {
		pc := c.s.part(k)
		if pc == nil {
			continue
		}
		i, ok := byTopic[k.topic]
		if !ok {
			ts := kmsg.NewUpdateMetadataRequestTopicState()
			ts.Topic, ts.TopicID = k.topic, c.s.topics[k.topic].id
			req.TopicStates = append(req.TopicStates, ts)
			i = len(req.TopicStates) - 1
			byTopic[k.topic] = i
		}
		ps := kmsg.NewUpdateMetadataRequestTopicPartition()
		ps.Topic, ps.Partition, ps.Replicas = k.topic, k.part, pc.replicas
		ps.Leader, ps.ISR = zkdata.NoLeader, []int32{}
		if st := pc.state; st != nil {
			ps.ControllerEpoch, ps.Leader, ps.LeaderEpoch = st.ControllerEpoch, st.Leader, st.LeaderEpoch
			ps.ISR, ps.ZKVersion = st.ISR, st.PartitionEpoch
		}
		if c.s.deleting[k.topic] {
			ps.Leader = zkdata.LeaderDuringDelete
		}
		for _, r := range pc.replicas {
			if !c.s.alive(r) {
				ps.OfflineReplicas = append(ps.OfflineReplicas, r)
			}
		}
		req.TopicStates[i].PartitionStates = append(req.TopicStates[i].PartitionStates, ps)
	}
	return req
}

// securityProtocolID is Kafka's SecurityProtocol id.
func securityProtocolID(name string) int16 {
	switch name {
	case "SSL":
		return 1
	case "SASL_PLAINTEXT":
		return 2
	case "SASL_SSL":
		return 3
	}
	return 0
}

// sendStopReplica asks a broker to stop (and, with del, delete) partitions;
// done is told the outcome on the loop.
func (c *Controller) sendStopReplica(id int32, topic string, parts []int32, del bool) {
	b, ok := c.s.brokers[id]
	ch := c.channels[id]
	if !ok || ch == nil {
		return
	}
	req := kmsg.NewPtrStopReplicaRequest()
	req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = c.cfg.BrokerID, c.token.Epoch, b.Epoch
	t := kmsg.NewStopReplicaRequestTopic()
	t.Topic = topic
	for _, p := range parts {
		ps := kmsg.NewStopReplicaRequestTopicPartitionState()
		ps.Partition, ps.Delete = p, del
		ps.LeaderEpoch = -1
		if del {
			ps.LeaderEpoch = -2 // the topic is being deleted: never fenced
		}
		t.PartitionStates = append(t.PartitionStates, ps)
		t.Partitions = append(t.Partitions, p) // v1-v2
	}
	req.DeletePartitions = del
	req.Topics = append(req.Topics, t)
	activation := c.activation
	ch.send(req, func(resp kmsg.Response, err error) {
		if !del {
			return
		}
		ok := err == nil && resp.(*kmsg.StopReplicaResponse).ErrorCode == 0
		if ok {
			for _, p := range resp.(*kmsg.StopReplicaResponse).Partitions {
				if p.ErrorCode != 0 {
					ok = false
				}
			}
		}
		c.post(evStopDone{activation: activation, broker: id, topic: topic, ok: ok})
	})
}
