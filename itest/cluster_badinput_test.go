package itest

// What no controller sends: malformed inter-broker requests, requests from
// a deposed controller or meant for an earlier incarnation of a broker, and
// garbage in the znodes the brokers read. The cluster must refuse, log,
// and keep serving.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/testbatch"
)

// controllerEpoch reads /controller_epoch.
func (c *kcluster) controllerEpoch() int32 {
	c.t.Helper()
	data, _ := c.get("/controller_epoch")
	e, err := strconv.Atoi(string(data))
	if err != nil {
		c.t.Fatalf("/controller_epoch %q: %v", data, err)
	}
	return int32(e)
}

// sendRaw writes frame on a new connection and reports whether the broker
// answered (with the response frame) or closed the connection; a broker
// that does neither within 10 s fails the test.
func sendRaw(t *testing.T, b *broker, frame []byte) (answer []byte, closed bool) {
	t.Helper()
	conn := b.dial(t)
	conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(frame); err != nil {
		return nil, true // closed while we wrote
	}
	resp, err := conn.readFrame(10 * time.Second)
	var ne net.Error
	switch {
	case err == nil:
		return resp, false
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), errors.Is(err, io.ErrUnexpectedEOF):
		return nil, true
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatalf("broker %d neither answered nor closed the connection in 10 s", b.id)
	}
	return nil, true // reset by peer
}

// requestFrame is req encoded as a client sends it, at req's version.
func requestFrame(req kmsg.Request) []byte {
	return kmsg.NewRequestFormatter(kmsg.FormatterClientID("samsa-itest")).AppendRequest(nil, req, 1)
}

// malformed are broken variants of a request frame: the body cut in
// half, the body replaced by bytes that decode to absurd array lengths,
// and the body cut to nothing.
func malformed(full []byte, req kmsg.Request) map[string][]byte {
	body := req.AppendTo(nil)
	head := full[4 : len(full)-len(body)]
	reframe := func(b []byte) []byte {
		p := append(slices.Clone(head), b...)
		return append(binary.BigEndian.AppendUint32(nil, uint32(len(p))), p...)
	}
	garbage := slices.Repeat([]byte{0x7f, 0xff, 0xff, 0xff, 0xfe}, 8)
	return map[string][]byte{
		"truncated":   reframe(body[:len(body)/2]),
		"huge counts": reframe(garbage),
		"empty body":  reframe(nil),
	}
}

// interBroker builds a LeaderAndIsr, UpdateMetadata, StopReplica and
// ControlledShutdown as a controller (or a stopping broker) would send
// them to broker id about partition p of topic, with the epochs given.
// The LeaderAndIsr makes another broker, other, the leader; the
// UpdateMetadata names no live broker; the StopReplica deletes.
func interBroker(topic string, topicID [16]byte, p int32, id, other int32, ctlEpoch int32, brokerEpoch int64) map[string]kmsg.Request {
	lai := kmsg.NewPtrLeaderAndISRRequest()
	lai.SetVersion(6)
	lai.ControllerID, lai.ControllerEpoch, lai.BrokerEpoch = other, ctlEpoch, brokerEpoch
	ts := kmsg.NewLeaderAndISRRequestTopicState()
	ts.Topic, ts.TopicID = topic, topicID
	ps := kmsg.NewLeaderAndISRRequestTopicPartition()
	ps.Topic, ps.Partition, ps.ControllerEpoch = topic, p, ctlEpoch
	ps.Leader, ps.LeaderEpoch, ps.ISR, ps.Replicas, ps.ZKVersion = other, 7, []int32{other}, []int32{other}, 7
	ts.PartitionStates = append(ts.PartitionStates, ps)
	lai.TopicStates = append(lai.TopicStates, ts)

	um := kmsg.NewPtrUpdateMetadataRequest()
	um.SetVersion(7)
	um.ControllerID, um.ControllerEpoch, um.BrokerEpoch = other, ctlEpoch, brokerEpoch

	sr := kmsg.NewPtrStopReplicaRequest()
	sr.SetVersion(3)
	sr.ControllerID, sr.ControllerEpoch, sr.BrokerEpoch = other, ctlEpoch, brokerEpoch
	st := kmsg.NewStopReplicaRequestTopic()
	st.Topic = topic
	sp := kmsg.NewStopReplicaRequestTopicPartitionState()
	sp.Partition, sp.LeaderEpoch, sp.Delete = p, 7, true
	st.PartitionStates = append(st.PartitionStates, sp)
	sr.Topics = append(sr.Topics, st)

	cs := kmsg.NewPtrControlledShutdownRequest()
	cs.SetVersion(3)
	cs.BrokerID, cs.BrokerEpoch = id, brokerEpoch
	return map[string]kmsg.Request{"LeaderAndIsr": lai, "UpdateMetadata": um, "StopReplica": sr, "ControlledShutdown": cs}
}

// topErr is a controller request's top-level error code.
func topErr(t *testing.T, resp kmsg.Response) int16 {
	t.Helper()
	switch r := resp.(type) {
	case *kmsg.LeaderAndISRResponse:
		return r.ErrorCode
	case *kmsg.UpdateMetadataResponse:
		return r.ErrorCode
	case *kmsg.StopReplicaResponse:
		return r.ErrorCode
	case *kmsg.ControlledShutdownResponse:
		return r.ErrorCode
	}
	t.Fatalf("unexpected response %T", resp)
	return 0
}

// TestClusterBadControllerRequests: a client that is not the controller
// sends LeaderAndIsr, UpdateMetadata, StopReplica and ControlledShutdown.
// Malformed ones (cut short, absurd lengths, no body) get the connection
// closed or an error, to the controller and to another broker alike.
// Well-formed ones carrying a controller epoch older than the current
// one get STALE_CONTROLLER_EPOCH, those meant for an older incarnation of
// the broker STALE_BROKER_EPOCH; ControlledShutdown to a broker that is
// not the controller gets NOT_CONTROLLER, and to the controller with a
// stale broker epoch STALE_BROKER_EPOCH. A LeaderAndIsr with current
// epochs but a leader epoch the broker already has changes nothing. After
// all of it every broker serves as before: the same leaders and brokers,
// the data intact, produce and consume through every broker.
func TestClusterBadControllerRequests(t *testing.T) {
	c := startCluster(t, 3, clusterOpts{})
	const topic, parts = "badctl", 6
	leaders := c.createTopic(c.broker(1), topic, parts, nil)
	ctl := c.waitConverged()
	l := ledger{}
	c.produceTo(t, l, topic, allParts(parts), 10, "before")
	md, err := c.broker(1).metadata(topic)
	if err != nil {
		t.Fatal(err)
	}
	topicID := md.Topics[0].TopicID
	epoch := c.controllerEpoch()

	for _, b := range c.brokers {
		p := partsLedBy(leaders, b.id)[0]
		other := c.other(b.id).id
		be := c.brokerEpoch(b.id)
		for name, req := range interBroker(topic, topicID, p, b.id, other, epoch, be) {
			for variant, frame := range malformed(requestFrame(req), req) {
				if _, closed := sendRaw(t, b, frame); !closed {
					t.Logf("broker %d answered a %s %s (did not close)", b.id, variant, name)
				}
			}
		}
		cases := []struct {
			what        string
			ctlEpoch    int32
			brokerEpoch int64
			want        map[string]*kerr.Error
		}{
			{"a stale controller epoch", epoch - 1, be, map[string]*kerr.Error{
				"LeaderAndIsr": kerr.StaleControllerEpoch, "UpdateMetadata": kerr.StaleControllerEpoch, "StopReplica": kerr.StaleControllerEpoch}},
			{"a stale broker epoch", epoch, be - 1, map[string]*kerr.Error{
				"LeaderAndIsr": kerr.StaleBrokerEpoch, "UpdateMetadata": kerr.StaleBrokerEpoch, "StopReplica": kerr.StaleBrokerEpoch}},
		}
		for _, tc := range cases {
			reqs := interBroker(topic, topicID, p, b.id, other, tc.ctlEpoch, tc.brokerEpoch)
			for name, want := range tc.want {
				resp, err := b.request(reqs[name])
				if err != nil {
					t.Fatalf("%s with %s to broker %d: %v", name, tc.what, b.id, err)
				}
				if got := topErr(t, resp); got != want.Code {
					t.Errorf("%s with %s to broker %d: %v, want %v", name, tc.what, b.id, kerr.ErrorForCode(got), want)
				}
			}
		}
		// ControlledShutdown: only the controller serves it.
		cs := interBroker(topic, topicID, p, b.id, other, epoch, be-1)["ControlledShutdown"]
		resp, err := b.request(cs)
		if err != nil {
			t.Fatal(err)
		}
		want := kerr.NotController
		if b.id == ctl {
			want = kerr.StaleBrokerEpoch
		}
		if got := topErr(t, resp); got != want.Code {
			t.Errorf("ControlledShutdown of broker %d at a stale epoch, sent to broker %d: %v, want %v", b.id, b.id, kerr.ErrorForCode(got), want)
		}
		// Current epochs, but a partition state this broker already has.
		lai := interBroker(topic, topicID, p, b.id, other, epoch, be)["LeaderAndIsr"].(*kmsg.LeaderAndISRRequest)
		st := &lai.TopicStates[0].PartitionStates[0]
		st.Leader, st.LeaderEpoch, st.ISR, st.Replicas, st.ZKVersion = other, 0, []int32{other}, []int32{other}, 0
		resp, err = b.request(lai)
		if err != nil {
			t.Fatal(err)
		}
		r := resp.(*kmsg.LeaderAndISRResponse)
		if r.ErrorCode != 0 || len(r.Topics) != 1 || len(r.Topics[0].Partitions) != 1 || r.Topics[0].Partitions[0].ErrorCode != kerr.StaleControllerEpoch.Code {
			t.Errorf("LeaderAndIsr repeating leader epoch 0 to broker %d: %+v, want STALE_CONTROLLER_EPOCH for the partition", b.id, r)
		}
	}
	// ControlledShutdown of a broker the controller does not know.
	cs := interBroker(topic, topicID, 0, 99, 1, epoch, 1)["ControlledShutdown"]
	if resp, err := c.broker(ctl).request(cs); err != nil {
		t.Fatal(err)
	} else if got := topErr(t, resp); got != kerr.BrokerNotAvailable.Code {
		t.Errorf("ControlledShutdown of unknown broker 99: %v, want BROKER_NOT_AVAILABLE", kerr.ErrorForCode(got))
	}

	if got := c.waitConverged(); got != ctl {
		t.Errorf("controller %d, was %d", got, ctl)
	}
	if got := c.online(topic, parts); !slices.Equal(got, leaders) {
		t.Errorf("leaders %v, were %v", got, leaders)
	}
	for _, b := range c.brokers {
		if !b.running() {
			t.Fatalf("broker %d exited", b.id)
		}
	}
	c.produceTo(t, l, topic, allParts(parts), 10, "after")
	l.check(t, c, topic, allParts(parts))
}

// logged reports whether a broker's log has a line holding every part.
func logged(b *broker, parts ...string) bool {
	for line := range strings.Lines(b.log.String()) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// waitLogged waits until some broker of bs logs a line with every part.
func waitLogged(t *testing.T, what string, bs []*broker, parts ...string) {
	t.Helper()
	waitUntil(t, clusterWait, what, func() error {
		for _, b := range bs {
			if logged(b, parts...) {
				return nil
			}
		}
		return fmt.Errorf("no broker logged a line with %q", parts)
	})
}

// TestClusterZnodeGarbage writes what Kafka never writes into znodes the
// brokers read, each while the cluster runs: a topic assignment that is
// not JSON, a partition state that is not JSON (then the controller
// fails over, so that the new one reads it), a config change
// notification that is not JSON (then a real change, which must still
// reach every broker), a broker registration that is not JSON (then a
// broker dies, which must still be noticed), and a deletion request for a
// topic that does not exist. Each is logged with the znode's path; no
// broker exits; the cluster keeps electing, creating topics and serving.
func TestClusterZnodeGarbage(t *testing.T) {
	c := startCluster(t, 3, clusterOpts{})
	const topic, parts = "garbage", 6
	leaders := c.createTopic(c.broker(1), topic, parts, nil)
	l := ledger{}
	c.produceTo(t, l, topic, allParts(parts), 10, "before")
	garbage := []byte("{not json")

	// A topic assignment.
	c.set("/brokers/topics/bad-assignment", garbage)
	waitLogged(t, "the bad assignment logged", c.brokers, "/brokers/topics/bad-assignment")
	c.createTopic(c.broker(2), "after-bad-assignment", 3, nil)

	// A config change notification, then a real change.
	if _, err := c.raw.Create(c.chroot+"/config/changes/config_change_", garbage, zk.FlagSequence, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	waitLogged(t, "the bad notification logged", c.brokers, "/config/changes/config_change_")
	if resp, err := c.broker(3).admin(t).AlterTopicConfigs(ctx(t), []kadm.AlterConfig{{Name: "max.message.bytes", Value: kadm.StringPtr("2000")}}, topic); err != nil || resp[0].Err != nil {
		t.Fatalf("alter config: %v %v", err, resp)
	}
	for _, b := range c.brokers {
		p := partsLedBy(leaders, b.id)[0]
		waitUntil(t, clusterWait, fmt.Sprintf("broker %d applying max.message.bytes", b.id), func() error {
			code, _ := b.dial(t).produceCode(t, 9, topic, p, testbatch.Make(testbatch.Spec{Records: 1, ValueSize: 3000}))
			if code == 0 { // not applied yet: the record is in the log now
				l[p] = append(l[p], string(make([]byte, 3000)))
			}
			if code != kerr.MessageTooLarge.Code {
				return fmt.Errorf("a 3000-byte record to partition %d: %v", p, kerr.ErrorForCode(code))
			}
			return nil
		})
	}

	// A broker registration, then a broker failure.
	c.set("/brokers/ids/99", garbage)
	ctl := c.waitController()
	waitLogged(t, "the bad registration logged", []*broker{c.broker(ctl)}, "/brokers/ids/99")
	victim := c.other(ctl)
	victim.kill()
	mine := partsLedBy(leaders, victim.id)
	c.waitLeaders(topic, parts, func(p, l int32) bool {
		if slices.Contains(mine, p) {
			return l == -1
		}
		return l == leaders[p]
	})
	victim.restart()
	c.online(topic, parts)
	c.delete("/brokers/ids/99")

	// A deletion request for no topic: dropped.
	c.set("/admin/delete_topics/no-such-topic", nil)
	waitUntil(t, clusterWait, "the deletion marker removed", func() error {
		if c.exists("/admin/delete_topics/no-such-topic") {
			return errors.New("still there")
		}
		return nil
	})

	// A partition state, read by the next controller.
	c.set(fmt.Sprintf("/brokers/topics/%s/partitions/0/state", topic), garbage)
	ctl = c.waitController()
	c.broker(ctl).kill()
	next := c.waitController(ctl)
	waitLogged(t, "the bad partition state logged", []*broker{c.broker(next)}, fmt.Sprintf("/brokers/topics/%s/partitions/0/state", topic))
	c.broker(ctl).restart()
	c.waitConverged()

	for _, b := range c.brokers {
		if !b.running() {
			t.Fatalf("broker %d exited", b.id)
		}
	}
	if got := ledBy(c.createTopic(c.broker(1), "after-garbage", 6, nil)); len(got) != 3 {
		t.Errorf("a topic created after the garbage is led %v", got)
	}
	// Partition 0, whose state is garbage, has no leader now.
	c.produceTo(t, l, topic, allParts(parts)[1:], 10, "after")
	l.check(t, c, topic, allParts(parts)[1:])
}
