package group

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/logfile"
	"samsa/record"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fileLog is a partition of __consumer_offsets on a real logfile.Log, as
// the broker gives the coordinator.
type fileLog struct {
	l *logfile.Log
	// block, if set, holds Replay until closed (a slow load).
	block chan struct{}
	// guards are those AppendTxn was given; refuseTxn, if set, is its
	// answer, nothing written (a verification a marker voided).
	guards    []uint64
	refuseTxn error
}

func (f *fileLog) Append(b []byte) error { _, err := f.l.Append(b); return err }

func (f *fileLog) AppendTxn(b []byte, guard uint64) error {
	f.guards = append(f.guards, guard)
	if f.refuseTxn != nil {
		return f.refuseTxn
	}
	return f.Append(b)
}

func (f *fileLog) Replay(fn func([]byte) error) error {
	if f.block != nil {
		<-f.block
	}
	return f.l.ReadChunks(1<<20, fn)
}

// records returns every (key, value) in the log, in order.
func (f *fileLog) records(t testing.TB) []rec {
	t.Helper()
	var out []rec
	if err := f.Replay(func(b []byte) error {
		return decodeBatches(b, func(k, v []byte) error {
			out = append(out, rec{key: append([]byte(nil), k...), value: v})
			return nil
		}, nil)
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// clock offsets the coordinator's Now from the bubble's clock: offset
// expiry can be tested hours ahead without firing every timer on the way.
// Each test using newEnv runs in a synctest bubble, so the coordinator's
// timers (initial rebalance delay, sessions, rebalance timeouts, pending
// member ids) run on a fake clock that only moves when every goroutine of
// the test waits: timing is exact, and load cannot change it.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

type env struct {
	t     *testing.T
	c     *Coordinator
	logs  []*fileLog
	dir   string
	clock *clock
	cfg   Config
}

const testParts = 3

// newEnv starts a coordinator over testParts fresh logs with short
// timeouts and loads them.
func newEnv(t *testing.T, mod func(*Config)) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clock: &clock{}}
	e.cfg = Config{
		Partitions: testParts, MinSessionTimeout: 10 * time.Millisecond, MaxSessionTimeout: time.Minute,
		Logger: quiet, Now: e.clock.now, RetentionCheckInterval: time.Hour,
		// Members that join together land in one generation.
		InitialRebalanceDelay: 100 * time.Millisecond,
		PartitionExists:       func(topic string, p int32) bool { return topic != "nope" },
	}
	if mod != nil {
		mod(&e.cfg)
	}
	for i := range testParts {
		l, err := logfile.Open(filepath.Join(e.dir, "__consumer_offsets-"+string(rune('0'+i))), logfile.DefaultConfig(), logfile.Options{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		e.logs = append(e.logs, &fileLog{l: l})
	}
	e.start()
	t.Cleanup(func() {
		e.c.Close()
		for _, l := range e.logs {
			l.l.Close()
		}
	})
	return e
}

func (e *env) start() {
	e.c = New(e.cfg)
	for i, l := range e.logs {
		<-e.c.Load(int32(i), l)
	}
}

// restart replaces the coordinator with a new one over the same logs, as a
// broker restart does.
func (e *env) restart() {
	e.c.Close()
	e.start()
}

func (e *env) log(group string) *fileLog { return e.logs[e.c.PartitionFor(group)] }

func consumerMeta(topics ...string) []byte {
	m := kmsg.NewConsumerMemberMetadata()
	m.Topics = topics
	return m.AppendTo(nil)
}

type joinReq struct {
	group, member string
	instance      *string
	version       int16
	session       time.Duration
	rebalance     time.Duration
	protocols     []string
	meta          []byte
}

func (e *env) joinAsync(j joinReq) <-chan *kmsg.JoinGroupResponse {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version = j.version
	if req.Version == 0 {
		req.Version = 5
	}
	req.Group, req.MemberID, req.InstanceID = j.group, j.member, j.instance
	req.SessionTimeoutMillis = int32(max(j.session, 10*time.Second).Milliseconds())
	req.RebalanceTimeoutMillis = int32(max(j.rebalance, 10*time.Second).Milliseconds())
	if j.session > 0 {
		req.SessionTimeoutMillis = int32(j.session.Milliseconds())
	}
	if j.rebalance > 0 {
		req.RebalanceTimeoutMillis = int32(j.rebalance.Milliseconds())
	}
	req.ProtocolType = "consumer"
	if j.protocols == nil {
		j.protocols = []string{"range"}
	}
	if j.meta == nil {
		j.meta = consumerMeta("t")
	}
	for _, p := range j.protocols {
		rp := kmsg.NewJoinGroupRequestProtocol()
		rp.Name, rp.Metadata = p, j.meta
		req.Protocols = append(req.Protocols, rp)
	}
	ch := make(chan *kmsg.JoinGroupResponse, 1)
	go func() { ch <- e.c.JoinGroup(context.Background(), req, "client", "/127.0.0.1") }()
	return ch
}

func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no answer in 10s", what)
		panic("unreachable")
	}
}

func (e *env) join(j joinReq) *kmsg.JoinGroupResponse {
	e.t.Helper()
	return wait(e.t, e.joinAsync(j), "JoinGroup")
}

func (e *env) syncAsync(group, member string, gen int32, assign map[string][]byte) <-chan *kmsg.SyncGroupResponse {
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version = 5
	req.Group, req.MemberID, req.Generation = group, member, gen
	for id, a := range assign {
		ra := kmsg.NewSyncGroupRequestGroupAssignment()
		ra.MemberID, ra.MemberAssignment = id, a
		req.GroupAssignment = append(req.GroupAssignment, ra)
	}
	ch := make(chan *kmsg.SyncGroupResponse, 1)
	go func() { ch <- e.c.SyncGroup(context.Background(), req) }()
	return ch
}

func (e *env) heartbeat(group, member string, gen int32) int16 {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Version = 4
	req.Group, req.MemberID, req.Generation = group, member, gen
	return e.c.Heartbeat(req).ErrorCode
}

func (e *env) commit(group, member string, gen int32, topic string, offsets map[int32]int64) []int16 {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version = 8
	req.Group, req.MemberID, req.Generation = group, member, gen
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = topic
	for p, o := range offsets {
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset = p, o
		md := "m"
		rp.Metadata = &md
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	var codes []int16
	for _, t := range e.c.OffsetCommit(req).Topics {
		for _, p := range t.Partitions {
			codes = append(codes, p.ErrorCode)
		}
	}
	return codes
}

// fetch returns the group's committed offsets of topic (all topics asked
// with a null list), and the group error.
func (e *env) fetch(group, topic string) (map[int32]int64, int16) {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 8
	rg := kmsg.NewOffsetFetchRequestGroup()
	rg.Group = group
	req.Groups = append(req.Groups, rg)
	resp := e.c.OffsetFetch(req)
	out := map[int32]int64{}
	g := resp.Groups[0]
	for _, t := range g.Topics {
		for _, p := range t.Partitions {
			if t.Topic == topic {
				out[p.Partition] = p.Offset
			}
		}
	}
	return out, g.ErrorCode
}

func errName(c int16) string {
	if c == 0 {
		return "NONE"
	}
	return kerr.ErrorForCode(c).Error()
}

func wantCode(t *testing.T, what string, got int16, want *kerr.Error) {
	t.Helper()
	var w int16
	if want != nil {
		w = want.Code
	}
	if got != w {
		t.Fatalf("%s: %s, want %s", what, errName(got), errName(w))
	}
}

// stableGroup joins n members (v3: no member id round trip) and syncs
// them with assignment "a-<member>"; it returns the member ids, leader
// first, and the generation.
func (e *env) stableGroup(group string, n int) ([]string, int32) {
	e.t.Helper()
	var chs []<-chan *kmsg.JoinGroupResponse
	for range n {
		chs = append(chs, e.joinAsync(joinReq{group: group, version: 3}))
	}
	var ids []string
	var leader string
	var gen int32
	for _, ch := range chs {
		r := wait(e.t, ch, "join")
		wantCode(e.t, "join", r.ErrorCode, nil)
		ids = append(ids, r.MemberID)
		leader, gen = r.LeaderID, r.Generation
	}
	assign := map[string][]byte{}
	for _, id := range ids {
		assign[id] = []byte("a-" + id)
	}
	var syncs []<-chan *kmsg.SyncGroupResponse
	for _, id := range ids {
		a := map[string][]byte(nil)
		if id == leader {
			a = assign
		}
		syncs = append(syncs, e.syncAsync(group, id, gen, a))
	}
	for i, ch := range syncs {
		r := wait(e.t, ch, "sync")
		wantCode(e.t, "sync", r.ErrorCode, nil)
		if string(r.MemberAssignment) != "a-"+ids[i] {
			e.t.Fatalf("member %s got assignment %q", ids[i], r.MemberAssignment)
		}
	}
	out := []string{leader}
	for _, id := range ids {
		if id != leader {
			out = append(out, id)
		}
	}
	return out, gen
}

func (e *env) describe(group string) kmsg.DescribeGroupsResponseGroup {
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Version = 5
	req.Groups = []string{group}
	return e.c.DescribeGroups(req).Groups[0]
}

func TestPartitionFor(t *testing.T) {
	for _, c := range []struct {
		s    string
		hash int32
	}{{"hello", 99162322}, {"", 0}, {"polygenelubricants", -1 << 31}, {"😀", 1772899}, {"my-group", -1906497762}} {
		if h := JavaHash(c.s); h != c.hash {
			t.Errorf("JavaHash(%q) = %d, want %d", c.s, h, c.hash)
		}
	}
	if p := PartitionFor("polygenelubricants", 50); p != 0 {
		t.Errorf("abs(MIN_VALUE) partition %d, want 0 (Kafka's Utils.abs)", p)
	}
	if p := PartitionFor("my-group", 50); p != 1906497762%50 {
		t.Errorf("my-group: partition %d", p)
	}
}

// TestRecordsFormat: keys and values are Kafka's schemas with Kafka's
// version prefixes, and batches round-trip.
func TestRecordsFormat(t *testing.T) {
	k := offsetKey("g", "t", 3)
	if v := binary.BigEndian.Uint16(k); v != 1 {
		t.Fatalf("offset key version %d, want 1", v)
	}
	var ok kmsg.OffsetCommitKey
	if err := ok.ReadFrom(k); err != nil || ok.Group != "g" || ok.Topic != "t" || ok.Partition != 3 {
		t.Fatalf("offset key %+v %v", ok, err)
	}
	if v := binary.BigEndian.Uint16(groupKey("g")); v != 2 {
		t.Fatalf("group key version %d, want 2", v)
	}
	val := offsetValue(offset{offset: 42, leaderEpoch: 7, metadata: "md", commitMs: 1000, expireMs: -1})
	var ov kmsg.OffsetCommitValue
	if err := ov.ReadFrom(val); err != nil || ov.Version != 3 || ov.Offset != 42 || ov.LeaderEpoch != 7 || ov.Metadata != "md" || ov.CommitTimestamp != 1000 {
		t.Fatalf("offset value %+v %v", ov, err)
	}
	val = offsetValue(offset{offset: 1, commitMs: 1000, expireMs: 5000})
	if err := ov.ReadFrom(val); err != nil || ov.Version != 1 || ov.ExpireTimestamp != 5000 {
		t.Fatalf("offset value with expiry %+v %v", ov, err)
	}
	batch := encodeBatch([]rec{{key: []byte("a"), value: []byte("1")}, {key: []byte("b")}}, 123)
	if _, err := record.ValidateProduce(batch, 1<<20, false); err != nil {
		t.Fatalf("encoded batch does not validate: %v", err)
	}
	var got []rec
	if err := decodeBatches(batch, func(k, v []byte) error { got = append(got, rec{k, v}); return nil }, nil); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || string(got[0].key) != "a" || string(got[0].value) != "1" || string(got[1].key) != "b" || got[1].value != nil {
		t.Fatalf("decoded %q", got)
	}
}

// TestJoinSync: members join, the leader gets every member's metadata,
// the assignment reaches everyone, and the group is described.
func TestJoinSync(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nil)
		ids, gen := e.stableGroup("g", 3)
		if gen != 1 {
			t.Fatalf("generation %d, want 1", gen)
		}
		d := e.describe("g")
		if d.State != "Stable" || d.Protocol != "range" || d.ProtocolType != "consumer" || len(d.Members) != 3 {
			t.Fatalf("describe: %+v", d)
		}
		for _, m := range d.Members {
			if string(m.MemberAssignment) != "a-"+m.MemberID || m.ClientHost != "/127.0.0.1" || m.ClientID != "client" {
				t.Fatalf("member %+v", m)
			}
		}
		for _, id := range ids {
			wantCode(t, "heartbeat", e.heartbeat("g", id, gen), nil)
		}
		wantCode(t, "heartbeat of an old generation", e.heartbeat("g", ids[0], gen-1), kerr.IllegalGeneration)
		wantCode(t, "heartbeat of a stranger", e.heartbeat("g", "who", gen), kerr.UnknownMemberID)
		// A follower rejoining with the same protocols in a stable group gets
		// its generation back without a rebalance.
		r := e.join(joinReq{group: "g", member: ids[1], version: 5})
		if r.ErrorCode != 0 || r.Generation != gen || len(r.Members) != 0 {
			t.Fatalf("follower rejoin: %+v", r)
		}
		// The leader rejoining starts a rebalance: the others hear of it.
		lj := e.joinAsync(joinReq{group: "g", member: ids[0], version: 5})
		synctest.Wait() // the leader's join is in and waits for the others
		wantCode(t, "follower heartbeat after the leader rejoined", e.heartbeat("g", ids[1], gen), kerr.RebalanceInProgress)
		j1 := e.joinAsync(joinReq{group: "g", member: ids[1], version: 5})
		j2 := e.joinAsync(joinReq{group: "g", member: ids[2], version: 5})
		for _, ch := range []<-chan *kmsg.JoinGroupResponse{lj, j1, j2} {
			r := wait(t, ch, "rejoin")
			if r.ErrorCode != 0 || r.Generation != gen+1 {
				t.Fatalf("rejoin: %s generation %d", errName(r.ErrorCode), r.Generation)
			}
			if (r.MemberID == r.LeaderID) != (len(r.Members) == 3) {
				t.Fatalf("rejoin of %s: %d members (leader %s)", r.MemberID, len(r.Members), r.LeaderID)
			}
		}
		// A SyncGroup of the old generation is fenced.
		wantCode(t, "sync of an old generation", wait(t, e.syncAsync("g", ids[1], gen, nil), "sync").ErrorCode, kerr.IllegalGeneration)
	})
}

// TestMemberIDRequired: v4+ joins without a member id get one to join with
// (KIP-394); the id is forgotten if the member never comes back.
func TestMemberIDRequired(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nil)
		r := e.join(joinReq{group: "g", version: 4, session: 50 * time.Millisecond})
		if r.ErrorCode != kerr.MemberIDRequired.Code || r.MemberID == "" {
			t.Fatalf("first join: %s member %q", errName(r.ErrorCode), r.MemberID)
		}
		r2 := e.join(joinReq{group: "g", member: r.MemberID, version: 4})
		if r2.ErrorCode != 0 || r2.MemberID != r.MemberID || r2.LeaderID != r.MemberID || r2.Generation != 1 {
			t.Fatalf("second join: %+v", r2)
		}
		// An id handed out and never used does not hold up a rebalance.
		r3 := e.join(joinReq{group: "g", version: 4, session: 50 * time.Millisecond})
		if r3.ErrorCode != kerr.MemberIDRequired.Code {
			t.Fatalf("third join: %s", errName(r3.ErrorCode))
		}
		lj := e.join(joinReq{group: "g", member: r.MemberID, version: 4, rebalance: 5 * time.Second, meta: consumerMeta("t", "u")})
		if lj.ErrorCode != 0 || lj.Generation != 2 || len(lj.Members) != 1 {
			t.Fatalf("rejoin with a pending id outstanding: %s gen %d members %d", errName(lj.ErrorCode), lj.Generation, len(lj.Members))
		}
		wantCode(t, "join with an unknown id", e.join(joinReq{group: "g", member: "bogus", version: 4}).ErrorCode, kerr.UnknownMemberID)
		wantCode(t, "session timeout too small", e.join(joinReq{group: "g", version: 4, session: time.Millisecond}).ErrorCode, kerr.InvalidSessionTimeout)
		wantCode(t, "empty group id", e.join(joinReq{group: "", version: 4}).ErrorCode, kerr.InvalidGroupID)
		wantCode(t, "other protocol", e.join(joinReq{group: "g", member: r.MemberID, version: 4, protocols: []string{"roundrobin"}}).ErrorCode, kerr.InconsistentGroupProtocol)
	})
}

// TestSessionTimeout: a member that stops heartbeating is removed and the
// group rebalances without it; one that leaves goes at once.
func TestSessionTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nil)
		chA := e.joinAsync(joinReq{group: "g", version: 3, session: 300 * time.Millisecond, rebalance: 5 * time.Second})
		chB := e.joinAsync(joinReq{group: "g", version: 3, session: 300 * time.Millisecond, rebalance: 5 * time.Second})
		a, b := wait(t, chA, "join"), wait(t, chB, "join")
		gen := a.Generation
		leader, follower := a, b
		if b.MemberID == b.LeaderID {
			leader, follower = b, a
		}
		fs := e.syncAsync("g", follower.MemberID, gen, nil)
		wait(t, e.syncAsync("g", leader.MemberID, gen, map[string][]byte{leader.MemberID: {1}, follower.MemberID: {2}}), "sync")
		if r := wait(t, fs, "sync"); r.ErrorCode != 0 || string(r.MemberAssignment) != "\x02" {
			t.Fatalf("follower's sync: %s %q", errName(r.ErrorCode), r.MemberAssignment)
		}
		// Only the leader heartbeats. The follower's session, which its
		// sync began, ends 300 ms later: not a moment before.
		synced := time.Now()
		for _, at := range []time.Duration{150 * time.Millisecond, 299 * time.Millisecond} {
			time.Sleep(at - time.Since(synced))
			wantCode(t, fmt.Sprintf("leader heartbeat %v after the sync", at), e.heartbeat("g", leader.MemberID, gen), nil)
			wantCode(t, fmt.Sprintf("follower still a member %v after its sync", at), e.heartbeat("g", follower.MemberID, -1), kerr.IllegalGeneration)
		}
		time.Sleep(301*time.Millisecond - time.Since(synced))
		wantCode(t, "leader heartbeat once the follower's session ended", e.heartbeat("g", leader.MemberID, gen), kerr.RebalanceInProgress)
		r := e.join(joinReq{group: "g", member: leader.MemberID, version: 3, session: 300 * time.Millisecond})
		if r.ErrorCode != 0 || r.Generation != gen+1 || len(r.Members) != 1 {
			t.Fatalf("rejoin alone: %s gen %d members %d", errName(r.ErrorCode), r.Generation, len(r.Members))
		}
		wantCode(t, "expired follower's heartbeat", e.heartbeat("g", follower.MemberID, gen), kerr.UnknownMemberID)
		wait(t, e.syncAsync("g", leader.MemberID, r.Generation, map[string][]byte{leader.MemberID: {1}}), "sync")

		lv := kmsg.NewPtrLeaveGroupRequest()
		lv.Version = 3
		lv.Group = "g"
		lm := kmsg.NewLeaveGroupRequestMember()
		lm.MemberID = leader.MemberID
		lv.Members = []kmsg.LeaveGroupRequestMember{lm}
		lm.MemberID = "nobody"
		lv.Members = append(lv.Members, lm)
		lr := e.c.LeaveGroup(lv)
		if lr.ErrorCode != 0 || len(lr.Members) != 2 || lr.Members[0].ErrorCode != 0 || lr.Members[1].ErrorCode != kerr.UnknownMemberID.Code {
			t.Fatalf("leave: %+v", lr)
		}
		if d := e.describe("g"); d.State != "Empty" || len(d.Members) != 0 {
			t.Fatalf("after the last member left: %+v", d)
		}
	})
}

// TestPendingSync: a member that joins but never syncs is removed after
// the rebalance timeout; the group rebalances without it.
func TestPendingSync(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nil)
		chA := e.joinAsync(joinReq{group: "g", version: 3, rebalance: 300 * time.Millisecond, session: 10 * time.Second})
		chB := e.joinAsync(joinReq{group: "g", version: 3, rebalance: 300 * time.Millisecond, session: 10 * time.Second})
		a, b := wait(t, chA, "join"), wait(t, chB, "join")
		leader, silent := a, b
		if b.MemberID == b.LeaderID {
			leader, silent = b, a
		}
		wait(t, e.syncAsync("g", leader.MemberID, a.Generation, map[string][]byte{leader.MemberID: {1}, silent.MemberID: {2}}), "sync")
		// The silent member has the rebalance timeout from the end of the
		// join phase to sync: it goes at 300 ms, not before.
		joined := time.Now()
		time.Sleep(299 * time.Millisecond)
		wantCode(t, "leader heartbeat before the rebalance timeout", e.heartbeat("g", leader.MemberID, a.Generation), nil)
		time.Sleep(301*time.Millisecond - time.Since(joined))
		wantCode(t, "leader heartbeat after the rebalance timeout", e.heartbeat("g", leader.MemberID, a.Generation), kerr.RebalanceInProgress)
		wantCode(t, "silent member", e.heartbeat("g", silent.MemberID, a.Generation), kerr.UnknownMemberID)
	})
}

// TestStaticMember: a static member that rejoins with a new member id
// replaces its old incarnation without a rebalance; the old id is fenced.
func TestStaticMember(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nil)
		ia, ib := "inst-a", "inst-b"
		chA := e.joinAsync(joinReq{group: "g", instance: &ia, version: 5})
		chB := e.joinAsync(joinReq{group: "g", instance: &ib, version: 5})
		a, b := wait(t, chA, "join"), wait(t, chB, "join")
		gen := a.Generation
		assign := map[string][]byte{a.MemberID: []byte("A"), b.MemberID: []byte("B")}
		leader := a.LeaderID
		var syncs []<-chan *kmsg.SyncGroupResponse
		for _, id := range []string{a.MemberID, b.MemberID} {
			var as map[string][]byte
			if id == leader {
				as = assign
			}
			syncs = append(syncs, e.syncAsync("g", id, gen, as))
		}
		for _, s := range syncs {
			wait(t, s, "sync")
		}
		follower, finst := b, ib
		if b.MemberID == leader {
			follower, finst = a, ia
		}
		// The follower restarts: a join with no member id and its instance id.
		r := e.join(joinReq{group: "g", instance: &finst, version: 5})
		if r.ErrorCode != 0 || r.Generation != gen || r.MemberID == follower.MemberID || r.LeaderID != leader {
			t.Fatalf("static rejoin: %s gen %d (want %d) member %s leader %s", errName(r.ErrorCode), r.Generation, gen, r.MemberID, r.LeaderID)
		}
		sr := wait(t, e.syncAsync("g", r.MemberID, gen, nil), "sync")
		if sr.ErrorCode != 0 || string(sr.MemberAssignment) != string(assign[follower.MemberID]) {
			t.Fatalf("static member's assignment after restart: %s %q", errName(sr.ErrorCode), sr.MemberAssignment)
		}
		wantCode(t, "leader heartbeat after the static restart", e.heartbeat("g", leader, gen), nil)
		hb := kmsg.NewPtrHeartbeatRequest()
		hb.Version = 4
		hb.Group, hb.MemberID, hb.Generation, hb.InstanceID = "g", follower.MemberID, gen, &finst
		wantCode(t, "old incarnation", e.c.Heartbeat(hb).ErrorCode, kerr.FencedInstanceID)
		if d := e.describe("g"); d.State != "Stable" || len(d.Members) != 2 {
			t.Fatalf("describe after static restart: %+v", d)
		}
		// The replacement is durable: a restarted coordinator knows the new id.
		e.restart()
		wantCode(t, "new incarnation after a coordinator restart", e.heartbeat("g", r.MemberID, gen), nil)
		// Admin removal by instance id alone (KIP-345).
		lv := kmsg.NewPtrLeaveGroupRequest()
		lv.Version = 4
		lv.Group = "g"
		lm := kmsg.NewLeaveGroupRequestMember()
		lm.InstanceID = &finst
		lv.Members = []kmsg.LeaveGroupRequestMember{lm}
		if lr := e.c.LeaveGroup(lv); lr.ErrorCode != 0 || lr.Members[0].ErrorCode != 0 {
			t.Fatalf("leave by instance id: %+v", lr)
		}
		wantCode(t, "removed static member", e.heartbeat("g", r.MemberID, gen), kerr.UnknownMemberID)
	})
}

// TestCommitFetch: members commit with their generation; simple consumers
// with -1 only while the group has no members; the offsets survive a
// restart of the coordinator, and so does the group.
func TestCommitFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nil)
		ids, gen := e.stableGroup("g", 2)
		for _, c := range e.commit("g", ids[1], gen, "t", map[int32]int64{0: 10, 1: 20}) {
			wantCode(t, "member commit", c, nil)
		}
		for _, c := range e.commit("g", "", -1, "t", map[int32]int64{0: 99}) {
			wantCode(t, "simple commit to a group with members", c, kerr.UnknownMemberID)
		}
		for _, c := range e.commit("g", ids[1], gen+1, "t", map[int32]int64{0: 99}) {
			wantCode(t, "commit of a future generation", c, kerr.IllegalGeneration)
		}
		for _, c := range e.commit("g", ids[1], gen, "nope", map[int32]int64{0: 99}) {
			wantCode(t, "commit to an unknown topic", c, kerr.UnknownTopicOrPartition)
		}
		for _, c := range e.commit("simple", "", -1, "t", map[int32]int64{3: 33}) {
			wantCode(t, "simple consumer commit", c, nil)
		}
		for _, c := range e.commit("gone", "m", 5, "t", map[int32]int64{3: 33}) {
			wantCode(t, "commit with a generation to an unknown group", c, kerr.IllegalGeneration)
		}
		got, code := e.fetch("g", "t")
		if code != 0 || got[0] != 10 || got[1] != 20 || len(got) != 2 {
			t.Fatalf("fetch: %v %s", got, errName(code))
		}
		e.restart()
		if got, _ := e.fetch("g", "t"); got[0] != 10 || got[1] != 20 {
			t.Fatalf("fetch after restart: %v", got)
		}
		if got, _ := e.fetch("simple", "t"); got[3] != 33 {
			t.Fatalf("simple consumer's offsets after restart: %v", got)
		}
		d := e.describe("g")
		if d.State != "Stable" || len(d.Members) != 2 {
			t.Fatalf("group after restart: %+v", d)
		}
		// Members carry on where they were: same member ids and generation.
		wantCode(t, "heartbeat after restart", e.heartbeat("g", ids[0], gen), nil)
		// Versions 0-1 carry group errors per partition, 2+ at the top.
		req := kmsg.NewPtrOffsetFetchRequest()
		req.Version = 1
		req.Group = "g"
		rt := kmsg.NewOffsetFetchRequestTopic()
		rt.Topic, rt.Partitions = "t", []int32{0, 5}
		req.Topics = append(req.Topics, rt)
		resp := e.c.OffsetFetch(req)
		if ps := resp.Topics[0].Partitions; ps[0].Offset != 10 || ps[1].Offset != -1 || *ps[1].Metadata != "" {
			t.Fatalf("v1 fetch: %+v", ps)
		}
	})
}

// TestLoadInProgress: until a partition is replayed, its groups' requests
// get COORDINATOR_LOAD_IN_PROGRESS (heartbeats: success; syncs:
// REBALANCE_IN_PROGRESS), as in Kafka.
func TestLoadInProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nil)
		e.c.Close()
		p := e.c.PartitionFor("g")
		block := make(chan struct{})
		e.logs[p].block = block
		e.c = New(e.cfg)
		loaded := e.c.Load(p, e.logs[p])
		if owned, loading := e.c.Owns(p); !owned || !loading {
			t.Fatalf("Owns during load: %v %v", owned, loading)
		}
		if _, code := e.fetch("g", "t"); code != kerr.CoordinatorLoadInProgress.Code {
			t.Fatalf("fetch during load: %s", errName(code))
		}
		wantCode(t, "join during load", e.join(joinReq{group: "g", version: 5}).ErrorCode, kerr.CoordinatorLoadInProgress)
		wantCode(t, "heartbeat during load", e.heartbeat("g", "m", 1), nil)
		wantCode(t, "sync during load", wait(t, e.syncAsync("g", "m", 1, nil), "sync").ErrorCode, kerr.RebalanceInProgress)
		lr := e.c.ListGroups(kmsg.NewPtrListGroupsRequest())
		wantCode(t, "list during load", lr.ErrorCode, kerr.CoordinatorLoadInProgress)
		close(block)
		<-loaded
		if _, code := e.fetch("g", "t"); code != 0 {
			t.Fatalf("fetch after load: %s", errName(code))
		}
		e.logs[p].block = nil
		// A partition not owned at all is NOT_COORDINATOR.
		e.c.Unload(p)
		if _, code := e.fetch("g", "t"); code != kerr.NotCoordinator.Code {
			t.Fatalf("fetch after unload: %s", errName(code))
		}
	})
}

// TestExpireAndDelete: an empty group's offsets expire
// offsets.retention.minutes after it became empty, with tombstones, and
// the group goes; DeleteGroups refuses a group with members and removes an
// empty one with tombstones; OffsetDelete keeps subscribed topics.
func TestExpireAndDelete(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, func(c *Config) { c.OffsetsRetention = time.Hour })
		e.commit("simple", "", -1, "t", map[int32]int64{0: 1})
		ids, gen := e.stableGroup("g", 1)
		e.commit("g", ids[0], gen, "t", map[int32]int64{0: 5})
		e.commit("g", ids[0], gen, "other", map[int32]int64{0: 7})

		req := kmsg.NewPtrOffsetDeleteRequest()
		req.Group = "g"
		for _, topic := range []string{"t", "other"} {
			rt := kmsg.NewOffsetDeleteRequestTopic()
			rt.Topic = topic
			rt.Partitions = []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}
			req.Topics = append(req.Topics, rt)
		}
		od := e.c.OffsetDelete(req)
		if od.ErrorCode != 0 || od.Topics[0].Partitions[0].ErrorCode != kerr.GroupSubscribedToTopic.Code || od.Topics[1].Partitions[0].ErrorCode != 0 {
			t.Fatalf("offset delete: %+v", od)
		}
		if got, _ := e.fetch("g", "other"); len(got) != 0 {
			t.Fatalf("deleted offset still there: %v", got)
		}

		del := func(name string) int16 {
			r := kmsg.NewPtrDeleteGroupsRequest()
			r.Groups = []string{name}
			return e.c.DeleteGroups(r).Groups[0].ErrorCode
		}
		wantCode(t, "delete a group with members", del("g"), kerr.NonEmptyGroup)
		lv := kmsg.NewPtrLeaveGroupRequest()
		lv.Version = 0
		lv.Group, lv.MemberID = "g", ids[0]
		wantCode(t, "leave v0", e.c.LeaveGroup(lv).ErrorCode, nil)

		// Stable and empty groups keep their offsets within the retention.
		if n := e.c.ExpireOffsets(); n != 0 {
			t.Fatalf("expired %d offsets within the retention", n)
		}
		e.clock.advance(2 * time.Hour)
		if n := e.c.ExpireOffsets(); n != 2 {
			t.Fatalf("expired %d offsets, want 2 (g's and simple's)", n)
		}
		for _, g := range []string{"g", "simple"} {
			if got, _ := e.fetch(g, "t"); len(got) != 0 {
				t.Fatalf("%s's offsets after expiry: %v", g, got)
			}
			if d := e.describe(g); d.State != "Dead" {
				t.Fatalf("%s after expiry: %s, want Dead (gone)", g, d.State)
			}
		}
		tomb := 0
		for _, r := range e.log("g").records(t) {
			if r.value == nil {
				tomb++
			}
		}
		if tomb < 2 {
			t.Fatalf("%d tombstones in g's partition, want the offset's and the group's", tomb)
		}
		e.restart()
		if got, _ := e.fetch("g", "t"); len(got) != 0 {
			t.Fatalf("expired offsets came back after a restart: %v", got)
		}

		e.commit("d", "", -1, "t", map[int32]int64{0: 1, 1: 2})
		wantCode(t, "delete an empty group", del("d"), nil)
		wantCode(t, "delete it again", del("d"), kerr.GroupIDNotFound)
		e.restart()
		if got, _ := e.fetch("d", "t"); len(got) != 0 {
			t.Fatalf("deleted group's offsets after a restart: %v", got)
		}
		lg := e.c.ListGroups(kmsg.NewPtrListGroupsRequest())
		if len(lg.Groups) != 0 {
			t.Fatalf("groups listed after expiry and deletion: %+v", lg.Groups)
		}
	})
}

// TestDeleteTopicOffsets: a deleted topic's committed offsets go from every
// group, with tombstones that hold across a restart.
func TestDeleteTopicOffsets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nil)
		for _, g := range []string{"a", "b", "c"} {
			e.commit(g, "", -1, "gone", map[int32]int64{0: 1, 1: 2})
			e.commit(g, "", -1, "kept", map[int32]int64{0: 3})
		}
		if n := e.c.DeleteTopicOffsets("gone"); n != 6 {
			t.Fatalf("removed %d offsets, want 6", n)
		}
		e.restart()
		for _, g := range []string{"a", "b", "c"} {
			if got, _ := e.fetch(g, "gone"); len(got) != 0 {
				t.Fatalf("%s still has offsets of the deleted topic: %v", g, got)
			}
			if got, _ := e.fetch(g, "kept"); got[0] != 3 {
				t.Fatalf("%s lost the other topic's offsets: %v", g, got)
			}
		}
	})
}

// TestGroupMaxSize: a join past group.max.size is GROUP_MAX_SIZE_REACHED;
// members already in the group may rejoin.
func TestGroupMaxSize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, func(c *Config) { c.MaxGroupSize = 1 })
		ids, gen := e.stableGroup("g", 1)
		wantCode(t, "a second member", e.join(joinReq{group: "g", version: 3}).ErrorCode, kerr.GroupMaxSizeReached)
		r := e.join(joinReq{group: "g", member: ids[0], version: 3})
		if r.ErrorCode != 0 || r.Generation != gen+1 {
			t.Fatalf("the member rejoining: %s gen %d", errName(r.ErrorCode), r.Generation)
		}
	})
}

// recordingLog keeps the messages and levels of the records logged.
type recordingLog struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *recordingLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *recordingLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, r)
	l.mu.Unlock()
	return nil
}
func (l *recordingLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *recordingLog) WithGroup(string) slog.Handler      { return l }

// lines returns "LEVEL message k=v ..." per record.
func (l *recordingLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.recs {
		line := r.Level.String() + " " + r.Message
		r.Attrs(func(a slog.Attr) bool {
			if a.Key != "took" && a.Key != "partition" {
				line += " " + a.String()
			}
			return true
		})
		out = append(out, line)
	}
	return out
}

// TestLoadLogSummary: loading the partitions of __consumer_offsets, at
// start or after a restart, logs one INFO line for the batch with the
// totals, and one DEBUG line per partition, even when partitions load one
// after the other (as empty ones do, within microseconds); a load long
// after is a batch of its own.
func TestLoadLogSummary(t *testing.T) {
	e := newEnv(t, nil)
	e.commit("g1", "", -1, "t", map[int32]int64{0: 5, 1: 7})
	e.commit("g2", "", -1, "t", map[int32]int64{0: 1})

	rec := &recordingLog{}
	e.cfg.Logger = slog.New(rec)
	e.restart() // each Load waited for before the next: one batch still
	want := []string{"DEBUG loaded __consumer_offsets partition", "INFO loaded __consumer_offsets partitions partitions=3 records=3 groups=2"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got []string
		for _, l := range rec.lines() {
			if strings.HasPrefix(l, "DEBUG") {
				l = strings.Join(strings.Fields(l)[:4], " ") // drop records and groups
			}
			got = append(got, l)
		}
		slices.Sort(got)
		got = slices.Compact(got)
		debug := 0
		for _, l := range rec.lines() {
			if strings.HasPrefix(l, "DEBUG loaded") {
				debug++
			}
		}
		if slices.Equal(got, want) && debug == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log lines:\n%s", strings.Join(rec.lines(), "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Unloading and loading one partition again much later: a batch of one.
	e.c.Unload(0)
	<-e.c.Load(0, e.logs[0])
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var infos []string
		for _, l := range rec.lines() {
			if strings.HasPrefix(l, "INFO loaded") {
				infos = append(infos, l)
			}
		}
		if len(infos) == 2 && strings.Contains(infos[1], "partitions=1 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after reloading partition 0:\n%s", strings.Join(rec.lines(), "\n"))
		}
	}
}
