package kafkaapi

// The handlers' test harness (Kafka's KafkaApisTest is the model): a
// Handler over real lower layers in a temporary directory (config, log
// directory, metadata store and cache, replica manager, group coordinator),
// served by a real netpoll.Server over in-memory connections (net.Pipe), so
// that a test sends a kmsg request at a chosen version and decodes the very
// bytes a client would get, file regions included, with kmsg. No socket, no
// process; it works inside a testing/synctest bubble, where the long polls
// and timeouts of the handlers run on the fake clock.
//
// ZooKeeper mode is a fakeCluster (and fakeController) implementing the
// interfaces of cluster.go: the test sets the broker epoch, the controller,
// and what the controller answers.

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/config"
	"samsa/coordinator/group"
	"samsa/coordinator/txn"
	"samsa/internal/apierr"
	"samsa/logfile"
	"samsa/metadata"
	"samsa/netpoll"
	"samsa/replica"
	"samsa/security/acl"
	"samsa/security/sasl"
)

// pipeListener is a net.Listener of in-memory connections.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// dial returns the client end of a new connection the server accepts.
func (l *pipeListener) dial() (net.Conn, error) {
	cli, srv := net.Pipe()
	select {
	case l.conns <- srv:
		return cli, nil
	case <-l.closed:
		cli.Close()
		srv.Close()
		return nil, net.ErrClosed
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// testBroker is one broker's handlers over real layers, and a client
// connection to them.
type testBroker struct {
	t       testing.TB
	cfg     *config.Config
	store   *metadata.Local
	cache   *metadata.Cache
	dir     *logfile.Dir
	rm      *replica.Manager
	groups  *group.Coordinator
	txns    *txn.Coordinator
	markers *fakeMarkers // what the transaction coordinator sends
	h       *Handler
	cluster *fakeCluster // nil standalone
	reg     *prometheus.Registry
	// authz is the authorizer (props authorizer.class.name, over the
	// metadata file, as a standalone broker's); nil without. who is the
	// principal every connection is authenticated as (Deps.Principal):
	// User:ANONYMOUS until the test sets another.
	authz *acl.Authorizer
	who   *atomic.Pointer[acl.Principal]

	srv  *netpoll.Server
	ln   *pipeListener
	conn net.Conn // the client's end; nil once the broker closed it
	corr int32
}

// testProps are the properties every test broker starts from: nothing
// listens, groups rebalance at once, __consumer_offsets has one partition.
var testProps = map[string]string{
	"listeners":                            "PLAINTEXT://127.0.0.1:9092",
	"admin.listener":                       "",
	"offsets.topic.num.partitions":         "1",
	"transaction.state.log.num.partitions": "1",
	"group.initial.rebalance.delay.ms":     "0",
}

// newTestBroker returns a standalone broker (its own controller, leader of
// every partition at epoch 0) configured with props over testProps, closed
// when the test ends.
func newTestBroker(t testing.TB, props map[string]string) *testBroker {
	return startTestBroker(t, props, nil)
}

// newClusterBroker returns a broker in ZooKeeper mode with cl as its
// cluster: it hosts nothing until a LeaderAndIsr says so, and its
// metadata cache knows what UpdateMetadata (or the test) puts there.
func newClusterBroker(t testing.TB, cl *fakeCluster, props map[string]string) *testBroker {
	return startTestBroker(t, props, cl)
}

func startTestBroker(t testing.TB, props map[string]string, cl *fakeCluster) *testBroker {
	t.Helper()
	all := map[string]string{"log.dirs": t.TempDir()}
	for k, v := range testProps {
		all[k] = v
	}
	if cl != nil {
		// Only read as "cluster mode" (offsets.topic.replication.factor is
		// not capped at the live brokers); nothing connects to it.
		all["zookeeper.connect"] = "zookeeper.invalid:2181"
	}
	for k, v := range props {
		all[k] = v
	}
	order := make([]string, 0, len(all))
	for k := range all {
		order = append(order, k)
	}
	cfg, err := config.New(all, order)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	b := &testBroker{t: t, cfg: cfg, cluster: cl, reg: prometheus.NewRegistry()}
	dataDir := cfg.LogDirs[0]
	if b.store, err = metadata.OpenLocal(dataDir); err != nil {
		t.Fatal(err)
	}
	b.dir, err = logfile.OpenDir(dataDir, logfile.DirOptions{
		Logger:                 quiet,
		ConfigFor:              replica.LogConfigFor(cfg.TopicDefaults, b.store, quiet),
		RetentionCheckInterval: cfg.RetentionCheckInterval,
		CheckpointInterval:     cfg.FlushCheckpointInterval,
		FlushCheckInterval:     cfg.FlushCheckInterval,
		ManualHighWatermark:    cl != nil,
	})
	if err != nil {
		t.Fatal(err)
	}
	b.cache = metadata.NewCache(b.store.ClusterID())
	ropts := replica.Options{
		BrokerID: cfg.BrokerID, Cache: b.cache, Logger: quiet, Defaults: cfg.TopicDefaults,
		FetchSessionSlots: cfg.FetchSessionSlots,
	}
	if cl != nil {
		ropts.AlterISR = cl.alterISR
		ropts.ReplicaLagTimeMax = cfg.ReplicaLagTimeMax
	}
	b.rm = replica.NewManager(b.dir, ropts)
	adv := cfg.AdvertisedListeners[0]
	b.cache.Update(func(e *metadata.Edit) {
		e.SetBrokers([]metadata.Broker{{ID: cfg.BrokerID, Host: adv.Host, Port: adv.Port, Epoch: -1}})
		if cl == nil {
			e.SetController(cfg.BrokerID)
		}
	})
	b.groups = group.New(group.Config{
		Partitions:             cfg.OffsetsTopicNumPartitions,
		MinSessionTimeout:      cfg.Groups.MinSessionTimeout,
		MaxSessionTimeout:      cfg.Groups.MaxSessionTimeout,
		InitialRebalanceDelay:  cfg.Groups.InitialRebalanceDelay,
		OffsetsRetention:       cfg.Groups.OffsetsRetention,
		RetentionCheckInterval: cfg.Groups.OffsetsRetentionCheck,
		MaxMetadataSize:        max(cfg.Groups.OffsetMetadataMaxBytes, 1),
		PartitionExists: func(topic string, p int32) bool {
			_, ok := b.cache.Load().Partition(topic, p)
			return ok
		},
		Logger: quiet,
	})
	b.markers = &fakeMarkers{}
	b.txns = txn.New(txn.Config{
		Partitions: cfg.Txn.NumPartitions, MaxTimeout: cfg.Txn.MaxTimeout, IDExpiration: cfg.Txn.IDExpiration,
		AbortInterval: cfg.Txn.AbortInterval, RemoveInterval: cfg.Txn.RemoveInterval,
		ProducerIDs: func() (int64, error) { return b.h.NextProducerID() },
		Cache:       b.cache, Markers: b.markers, Logger: quiet,
	})
	deps := Deps{Config: cfg, Logger: quiet, Store: b.store, Cache: b.cache, Replicas: b.rm, Groups: b.groups, Txns: b.txns, Metrics: NewMetrics(b.reg),
		Credentials: b.store, SCRAM: &sasl.CredentialCache{}}
	b.who = new(atomic.Pointer[acl.Principal])
	b.who.Store(&acl.Anonymous)
	deps.Principal = func(*netpoll.Conn) acl.Principal { return *b.who.Load() }
	if cfg.AuthorizerClassName != "" {
		supers, err := acl.ParseSuperUsers(cfg.SuperUsers)
		if err != nil {
			t.Fatal(err)
		}
		b.authz = acl.New(acl.Config{SuperUsers: supers, AllowIfNoACL: cfg.AllowEveryoneIfNoACLFound, Store: b.store, Logger: quiet, Decided: deps.Metrics.AuthorizerDecided})
		if err := b.authz.Load(); err != nil {
			t.Fatal(err)
		}
		deps.Authorizer = b.authz
	}
	if cl != nil {
		deps.Cluster = cl
	}
	b.h = New(deps)
	b.ln = newPipeListener()
	b.srv = netpoll.NewServer(netpoll.Config{IdleTimeout: -1, Logger: quiet}, b.h)
	served := make(chan struct{})
	go func() {
		defer close(served)
		b.srv.Serve(b.ln)
	}()
	t.Cleanup(func() {
		if b.conn != nil {
			b.conn.Close()
		}
		if err := b.srv.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		<-served
		b.txns.Close()
		b.groups.Close()
		b.rm.Close()
		if err := b.dir.Close(); err != nil {
			t.Error(err)
		}
		b.store.Close()
	})
	return b
}

// client returns another connection to the same broker (its own
// correlation ids), for requests that must overlap: a long poll and the
// produce that ends it. The server closes it when the test ends.
func (b *testBroker) client() *testBroker {
	c := *b
	c.conn, c.corr = nil, 0
	return &c
}

// send writes a request at its version and returns the response frame
// (correlation id first), or closed when the broker closed the connection
// instead of answering. A request the broker answers with nothing (acks=0
// produce) is followed by an ApiVersions probe, whose answer comes first
// and makes send return nil, false.
func (b *testBroker) send(req kmsg.Request, expectNone bool) (frame []byte, closed bool) {
	b.t.Helper()
	b.corr++
	corr := b.corr
	out := sized(requestFrame(req, corr))
	var probe int32
	if expectNone {
		b.corr++
		probe = b.corr
		av := kmsg.NewPtrApiVersionsRequest()
		av.SetVersion(0)
		out = append(out, sized(requestFrame(av, probe))...)
	}
	frame, closed = b.exchange(out)
	if closed {
		return nil, true
	}
	got := int32(binary.BigEndian.Uint32(frame))
	switch {
	case expectNone && got == probe:
		return nil, false
	case expectNone:
		b.t.Fatalf("a response (correlation id %d) to a request that should have none", got)
	case got != corr:
		b.t.Fatalf("correlation id %d, want %d", got, corr)
	}
	return frame, false
}

// exchange writes bytes (size-prefixed frames) and reads one response
// frame, or reports that the broker closed the connection.
func (b *testBroker) exchange(out []byte) (frame []byte, closed bool) {
	b.t.Helper()
	if b.conn == nil {
		c, err := b.ln.dial()
		if err != nil {
			b.t.Fatal(err)
		}
		b.conn = c
	}
	// net.Pipe writes wait for the reader: write while reading.
	werr := make(chan error, 1)
	go func() {
		_, err := b.conn.Write(out)
		werr <- err
	}()
	frame, err := readSized(b.conn)
	if err != nil {
		b.conn.Close()
		<-werr
		b.conn = nil
		return nil, true
	}
	if err := <-werr; err != nil {
		b.t.Fatalf("writing the request: %v", err)
	}
	return frame, false
}

func sized(frame []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(frame))), frame...)
}

func readSized(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	frame := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(r, frame); err != nil {
		return nil, err
	}
	return frame, nil
}

// decodeResponse decodes a response frame to req's response type at
// version, the header as the version has it (ApiVersions' is always v0).
func decodeResponse(frame []byte, key, version int16) (kmsg.Response, error) {
	req := kmsg.RequestForKey(key)
	req.SetVersion(version)
	resp := req.ResponseKind()
	resp.SetVersion(version)
	body := frame[4:]
	if resp.IsFlexible() && key != apiVersionsKey {
		if len(body) == 0 || body[0] != 0 {
			return nil, fmt.Errorf("response header tags % x", body[:min(len(body), 1)])
		}
		body = body[1:]
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("kmsg cannot decode the %s v%d response: %w", kmsg.NameForKey(key), version, err)
	}
	return resp, nil
}

// do sends req at version and returns the decoded response; the test
// fails if the broker closes the connection instead.
func do[R kmsg.Response](b *testBroker, version int16, req kmsg.Request) R {
	b.t.Helper()
	req.SetVersion(version)
	frame, closed := b.send(req, false)
	if closed {
		b.t.Fatalf("%s v%d: the broker closed the connection", kmsg.NameForKey(req.Key()), version)
	}
	resp, err := decodeResponse(frame, req.Key(), version)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp.(R)
}

// closes reports whether the broker closes the connection on req.
func (b *testBroker) closes(version int16, req kmsg.Request) bool {
	b.t.Helper()
	req.SetVersion(version)
	_, closed := b.send(req, false)
	return closed
}

// wantCode fails the test unless got is want, naming both.
func wantCode(t testing.TB, what string, got int16, want *kerr.Error) {
	t.Helper()
	var wantCode int16
	name := "NONE"
	if want != nil {
		wantCode, name = want.Code, want.Message
	}
	if got != wantCode {
		gotName := "NONE"
		if e := kerr.ErrorForCode(got); e != nil {
			gotName = e.(*kerr.Error).Message
		}
		t.Errorf("%s: error %s (%d), want %s (%d)", what, gotName, got, name, wantCode)
	}
}

// createTopic creates a topic with CreateTopics and fails the test if it
// is refused.
func (b *testBroker) createTopic(name string, partitions int32, configs map[string]string) {
	b.t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, partitions, 1
	for k, v := range configs {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, kmsg.StringPtr(v)
		rt.Configs = append(rt.Configs, c)
	}
	req.Topics = append(req.Topics, rt)
	if b.cluster != nil {
		req.TimeoutMillis = 0 // no controller makes the partitions: do not wait for them
	}
	resp := do[*kmsg.CreateTopicsResponse](b, 7, req)
	if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 {
		b.t.Fatalf("creating %s: %+v", name, resp.Topics)
	}
}

// produce sends one partition's records with acks and returns its answer.
func (b *testBroker) produce(version int16, acks int16, topic string, partition int32, records []byte) kmsg.ProduceResponseTopicPartition {
	b.t.Helper()
	resp := do[*kmsg.ProduceResponse](b, version, produceRequest(acks, topic, partition, records))
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		b.t.Fatalf("produce answered %+v", resp.Topics)
	}
	return resp.Topics[0].Partitions[0]
}

func produceRequest(acks int16, topic string, partition int32, records []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = acks, 30000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// fetchRequest asks for one partition from offset, without waiting and
// without a session.
func fetchRequest(topic string, partition int32, offset int64) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.MaxBytes, req.SessionEpoch = -1, 1<<20, -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = partition, offset, 1<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// fakeCluster is ZooKeeper mode as the handlers see it.
type fakeCluster struct {
	mu           sync.Mutex
	epoch        int64
	controllerID int32
	ctl          Controller // nil: another broker is the controller
	// alterISRs are the ISR changes the replica layer proposed.
	alterISRs []replica.AlterISR
}

func (c *fakeCluster) BrokerEpoch() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

func (c *fakeCluster) ControllerID() int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.controllerID
}

func (c *fakeCluster) Controller() Controller {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ctl
}

// alterISR refuses every ISR change: no test here expects one.
func (c *fakeCluster) alterISR(_ context.Context, as []replica.AlterISR) ([]replica.AlterISRResult, error) {
	c.mu.Lock()
	c.alterISRs = append(c.alterISRs, as...)
	c.mu.Unlock()
	return nil, apierr.Errorf(kerr.NotController, "the fake cluster has no controller for ISR changes")
}

// fakeController records what it is asked and answers with its fields.
type fakeController struct {
	mu    sync.Mutex
	calls []string

	shutdownRemaining []kmsg.ControlledShutdownResponsePartitionsRemaining
	shutdownEpoch     int64 // the broker epoch ControlledShutdown was given
	alterPartition    *kmsg.AlterPartitionResponse
	elected           map[string]map[int32]int16
	electType         int8
	electParts        map[string][]int32
	err               error // returned by every method when set
}

func (f *fakeController) record(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	return f.err
}

func (f *fakeController) ControlledShutdown(_ context.Context, broker int32, brokerEpoch int64) ([]kmsg.ControlledShutdownResponsePartitionsRemaining, error) {
	if err := f.record(fmt.Sprintf("ControlledShutdown %d", broker)); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shutdownEpoch = brokerEpoch
	return f.shutdownRemaining, nil
}

func (f *fakeController) AlterPartition(_ context.Context, req *kmsg.AlterPartitionRequest) (*kmsg.AlterPartitionResponse, error) {
	if err := f.record(fmt.Sprintf("AlterPartition %d", req.BrokerID)); err != nil {
		return nil, err
	}
	return f.alterPartition, nil
}

func (f *fakeController) AlterPartitionReassignments(_ context.Context, req *kmsg.AlterPartitionAssignmentsRequest) (*kmsg.AlterPartitionAssignmentsResponse, error) {
	if err := f.record("AlterPartitionReassignments"); err != nil {
		return nil, err
	}
	return kmsg.NewPtrAlterPartitionAssignmentsResponse(), nil
}

func (f *fakeController) ListPartitionReassignments(_ context.Context, req *kmsg.ListPartitionReassignmentsRequest) (*kmsg.ListPartitionReassignmentsResponse, error) {
	if err := f.record("ListPartitionReassignments"); err != nil {
		return nil, err
	}
	return kmsg.NewPtrListPartitionReassignmentsResponse(), nil
}

func (f *fakeController) ElectLeaders(_ context.Context, electionType int8, parts map[string][]int32) (map[string]map[int32]int16, error) {
	if err := f.record("ElectLeaders"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.electType, f.electParts = electionType, parts
	return f.elected, nil
}

// TestHarnessRoundTrip: the harness serves requests through the handlers
// and netpoll, decodes their answers, sees a connection the broker closes,
// and dials again.
func TestHarnessRoundTrip(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 2, nil)
	md := do[*kmsg.MetadataResponse](b, 12, metadataRequest("t"))
	if len(md.Topics) != 1 || len(md.Topics[0].Partitions) != 2 || md.Topics[0].Partitions[1].Leader != b.cfg.BrokerID {
		t.Fatalf("metadata %+v", md.Topics)
	}
	// An unsupported version of Metadata closes the connection, as Kafka does.
	if !b.closes(13, kmsg.NewPtrMetadataRequest()) {
		t.Fatal("Metadata v13 was answered")
	}
	av := do[*kmsg.ApiVersionsResponse](b, 3, apiVersionsRequest())
	wantCode(t, "ApiVersions after a redial", av.ErrorCode, nil)
}

func metadataRequest(topics ...string) *kmsg.MetadataRequest {
	req := kmsg.NewPtrMetadataRequest()
	for _, name := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(name)
		req.Topics = append(req.Topics, rt)
	}
	return req
}

func apiVersionsRequest() *kmsg.ApiVersionsRequest {
	req := kmsg.NewPtrApiVersionsRequest()
	req.ClientSoftwareName, req.ClientSoftwareVersion = "samsa-test", "1.0"
	return req
}

// TestHarnessSynctest: the harness runs in a synctest bubble, where a
// long poll waits out its max_wait_ms on the fake clock.
func TestHarnessSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newTestBroker(t, nil)
		b.createTopic("t", 1, nil)
		req := fetchRequest("t", 0, 0)
		req.MaxWaitMillis, req.MinBytes = 60_000, 1
		start := time.Now()
		resp := do[*kmsg.FetchResponse](b, 12, req)
		if waited := time.Since(start); waited != time.Minute {
			t.Errorf("the fetch answered after %v, want its max wait of 1m", waited)
		}
		if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || len(p.RecordBatches) != 0 || p.HighWatermark != 0 {
			t.Errorf("fetch of an empty log %+v", p)
		}
	})
}

// controllerEpoch is the controller epoch the test cluster's requests carry.
const controllerEpoch = 1

// leaderAndIsr sends the LeaderAndIsr (v6) a controller would for one
// partition of topic: this broker hosts it, led by leader (-1: none) at
// leaderEpoch, with replicas and isr. The partition's answer must be
// NONE.
func (b *testBroker) leaderAndIsr(topic string, partition, leader, leaderEpoch int32, replicas, isr []int32) {
	b.t.Helper()
	resp := do[*kmsg.LeaderAndISRResponse](b, 6, leaderAndIsrRequest(b.cluster.BrokerEpoch(), topic, partition, leader, leaderEpoch, replicas, isr))
	if resp.ErrorCode != 0 || len(resp.Topics) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		b.t.Fatalf("LeaderAndIsr refused: %+v", resp)
	}
	// As UpdateMetadata would tell it: the partition in this broker's
	// metadata.
	b.setPartition(topic, partition, metadata.PartitionState{Leader: leader, LeaderEpoch: leaderEpoch, Replicas: replicas, ISR: isr})
}

func leaderAndIsrRequest(brokerEpoch int64, topic string, partition, leader, leaderEpoch int32, replicas, isr []int32) *kmsg.LeaderAndISRRequest {
	req := kmsg.NewPtrLeaderAndISRRequest()
	req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = 1, controllerEpoch, brokerEpoch
	ts := kmsg.NewLeaderAndISRRequestTopicState()
	ts.Topic = topic
	ps := kmsg.NewLeaderAndISRRequestTopicPartition()
	ps.Topic, ps.Partition, ps.ControllerEpoch = topic, partition, controllerEpoch
	ps.Leader, ps.LeaderEpoch, ps.Replicas, ps.ISR = leader, leaderEpoch, replicas, isr
	ts.PartitionStates = append(ts.PartitionStates, ps)
	req.TopicStates = append(req.TopicStates, ts)
	return req
}

// setPartition puts one partition's state in the metadata cache, the topic
// too if it is not there yet.
func (b *testBroker) setPartition(topic string, partition int32, st metadata.PartitionState) {
	b.cache.Update(func(e *metadata.Edit) {
		if e.SetPartition(topic, partition, st) {
			return
		}
		info := &metadata.TopicInfo{Name: topic, ID: metadata.NewTopicID(), Partitions: make([]metadata.PartitionState, partition+1)}
		for i := range info.Partitions {
			info.Partitions[i] = metadata.PartitionState{Leader: -1}
		}
		info.Partitions[partition] = st
		e.PutTopic(info)
	})
}

// metadataState is a partition's state led by leader at epoch over
// replicas, all in sync.
func metadataState(leader, epoch int32, replicas ...int32) metadata.PartitionState {
	return metadata.PartitionState{Leader: leader, LeaderEpoch: epoch, Replicas: replicas, ISR: replicas}
}

func findCoordinatorRequest(keyType int8, keys ...string) *kmsg.FindCoordinatorRequest {
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.CoordinatorType = keyType
	if len(keys) > 0 {
		req.CoordinatorKey = keys[0]
	}
	req.CoordinatorKeys = keys
	return req
}

// listOffsetsRequest asks for one partition's offset at timestamp (-1: the
// end, -2: the start), with a current leader epoch (-1: none).
func listOffsetsRequest(topic string, partition int32, timestamp int64, leaderEpoch int32) *kmsg.ListOffsetsRequest {
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch, rp.MaxNumOffsets = partition, timestamp, leaderEpoch, 1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}
