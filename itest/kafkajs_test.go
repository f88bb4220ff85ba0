package itest

// kafkajs (Node.js) against the real broker: its producer plain,
// idempotent and with GZIP, partitioning keyed messages with its default
// (murmur2) partitioner; a group of two kafkajs consumers splitting a
// topic and committing, and a new consumer resuming after the commits;
// its admin client. The scripts and their npm project are in
// testdata/kafkajs; needKafkajs installs the pinned kafkajs there with
// npm ci the first time. node and npm come from Debian packages that
// .ci/run installs.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkajsDir is the npm project of the kafkajs scripts.
var kafkajsDir = filepath.Join("testdata", "kafkajs")

var kafkajsSetup struct {
	once sync.Once
	node string
	err  error
}

// needKafkajs fails the test unless node and npm are installed and the
// pinned kafkajs is in testdata/kafkajs/node_modules, running npm ci
// there once per test process if it is not. It returns node's path.
func needKafkajs(t testing.TB) string {
	t.Helper()
	kafkajsSetup.once.Do(func() { kafkajsSetup.node, kafkajsSetup.err = installKafkajs() })
	if kafkajsSetup.err != nil {
		t.Fatal(kafkajsSetup.err)
	}
	return kafkajsSetup.node
}

func installKafkajs() (string, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return "", errors.New("node is not installed: install the Debian package nodejs (.ci/run does)")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", errors.New("npm is not installed: install the Debian package npm (.ci/run does)")
	}
	// Another test process may be installing too: take turns on a lock
	// of package.json.
	f, err := os.Open(filepath.Join(kafkajsDir, "package.json"))
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.NewDecoder(f).Decode(&pkg); err != nil {
		return "", fmt.Errorf("%s: %w", f.Name(), err)
	}
	pinned := pkg.Dependencies["kafkajs"]
	installed := func() string {
		var v struct {
			Version string `json:"version"`
		}
		b, err := os.ReadFile(filepath.Join(kafkajsDir, "node_modules", "kafkajs", "package.json"))
		if err != nil || json.Unmarshal(b, &v) != nil {
			return ""
		}
		return v.Version
	}
	if installed() == pinned {
		return node, nil
	}
	c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(c, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = kafkajsDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm ci in %s: %v\n%s", kafkajsDir, err, out)
	}
	if v := installed(); v != pinned {
		return "", fmt.Errorf("npm ci in %s installed kafkajs %q, package.json pins %q", kafkajsDir, v, pinned)
	}
	return node, nil
}

// nodeProc is a kafkajs script running in the background.
type nodeProc struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr lockedBuffer
	done   chan struct{}
	err    error // cmd.Wait's result, valid after done
}

// startKafkajs starts node on a script of testdata/kafkajs with args; the
// process is killed at the end of the test if still running, and its
// stderr (kafkajs's log) printed if the test failed.
func startKafkajs(t testing.TB, stdin []byte, script string, args ...string) *nodeProc {
	t.Helper()
	return startKafkajsEnv(t, nil, stdin, script, args...)
}

// startKafkajsEnv is startKafkajs with extra environment variables
// (KEY=value): the TLS and SASL of common.js.
func startKafkajsEnv(t testing.TB, env []string, stdin []byte, script string, args ...string) *nodeProc {
	t.Helper()
	node := needKafkajs(t)
	p := &nodeProc{done: make(chan struct{})}
	p.cmd = exec.Command(node, append([]string{script}, args...)...)
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	p.cmd.Dir = kafkajsDir
	p.cmd.Stdin = bytes.NewReader(stdin)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s stderr:\n%s", strings.Join(p.cmd.Args[1:], " "), p.stderr.String())
		}
	})
	return p
}

// wait waits up to a minute for the script to exit and decodes its JSON
// output into out; it fails the test, showing stderr, if the script
// fails.
func (p *nodeProc) wait(t testing.TB, out any) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("%s did not finish within a minute\nstderr:\n%s", strings.Join(p.cmd.Args, " "), p.stderr.String())
	}
	if p.err != nil {
		t.Fatalf("%s: %v\nstderr:\n%s\nstdout:\n%s", strings.Join(p.cmd.Args, " "), p.err, p.stderr.String(), p.stdout.String())
	}
	if err := json.Unmarshal(p.stdout.Bytes(), out); err != nil {
		t.Fatalf("%s: output %q: %v\nstderr:\n%s", strings.Join(p.cmd.Args, " "), p.stdout.String(), err, p.stderr.String())
	}
}

// runKafkajs runs a script to the end and decodes its JSON output.
func runKafkajs(t testing.TB, out any, stdin []byte, script string, args ...string) {
	t.Helper()
	startKafkajs(t, stdin, script, args...).wait(t, out)
}

// jsRecord is a record as the scripts take and print it: bytes as base64
// (encoding/json's []byte), null as null, headers as [key, base64] pairs.
type jsRecord struct {
	Partition int32       `json:"partition"`
	Offset    int64       `json:"offset"`
	Key       []byte      `json:"key"`
	Value     []byte      `json:"value"`
	Headers   [][2]string `json:"headers"`
}

func toJS(r binRec) jsRecord {
	j := jsRecord{Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value, Headers: [][2]string{}}
	for _, h := range r.Headers {
		j.Headers = append(j.Headers, [2]string{h.Key, base64.StdEncoding.EncodeToString(h.Value)})
	}
	return j
}

func (j jsRecord) bin(t testing.TB) binRec {
	t.Helper()
	r := binRec{Partition: j.Partition, Offset: j.Offset, Key: j.Key, Value: j.Value}
	for _, h := range j.Headers {
		v, err := base64.StdEncoding.DecodeString(h[1])
		if err != nil {
			t.Fatalf("header %s: %q is not base64: %v", h[0], h[1], err)
		}
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: h[0], Value: v})
	}
	return r
}

// murmur2Partition is the Java client's partition for a key, which
// kafkajs's DefaultPartitioner follows (franz-go's sticky-key partitioner
// hashes keys the same way).
func murmur2Partition(key []byte, partitions int) int32 {
	p := kgo.StickyKeyPartitioner(nil).ForTopic("")
	return int32(p.Partition(&kgo.Record{Key: key}, partitions))
}

// TestKafkajsProduce: kafkajs producers (plain, idempotent, GZIP, and
// both) send keyed messages to a three-partition topic in two sends;
// franz-go reads back every key, value (null and empty told apart) and
// header byte for byte, each key's in the partition murmur2 picks, in the
// order sent. The delivery reports give each send's first offset in each
// partition. A topic the producer's Metadata request creates works the
// same. The stored batches carry the codec, and for the idempotent
// producer one producer id with sequences that continue from batch to
// batch; the plain producer's carry none.
func TestKafkajsProduce(t *testing.T) {
	needKafkajs(t)
	const parts, keys, perKey = 3, 10, 4
	b := startBroker(t, fmt.Sprintf("num.partitions=%d", parts))
	for _, c := range []struct {
		name        string
		idempotent  bool
		compression string
		autoCreate  bool
	}{
		{"plain", false, "none", false},
		{"idempotent", true, "none", false},
		{"gzip", false, "gzip", false},
		{"idempotent-gzip", true, "gzip", false},
		// The topic made by the producer's Metadata request.
		{"gzip-autocreate", false, "gzip", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			topic := "kafkajs.produce." + c.name
			if !c.autoCreate {
				b.newTopic(t, topic, parts, nil)
			}
			sent := keyedRecords(c.name, keys, perKey)
			half := len(sent) / 2
			type send struct {
				Idempotent  bool         `json:"idempotent"`
				Compression string       `json:"compression"`
				AutoCreate  bool         `json:"autoCreate"`
				Sends       [][]jsRecord `json:"sends"`
			}
			in := send{Idempotent: c.idempotent, Compression: c.compression, AutoCreate: c.autoCreate}
			for _, part := range [][]binRec{sent[:half], sent[half:]} {
				var js []jsRecord
				for _, r := range part {
					js = append(js, toJS(r))
				}
				in.Sends = append(in.Sends, js)
			}
			stdin, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			var out struct {
				Reports [][]struct {
					Partition  int32 `json:"partition"`
					BaseOffset int64 `json:"baseOffset"`
					ErrorCode  int16 `json:"errorCode"`
				} `json:"reports"`
			}
			runKafkajs(t, &out, stdin, "produce.js", b.addr, topic)

			read := checkKeyed(t, b.consumeAll(t, topic), sent, func(key []byte) int32 { return murmur2Partition(key, parts) })

			// Each send's report: its first offset in each partition it wrote.
			if len(out.Reports) != 2 {
				t.Fatalf("%d send reports, want 2", len(out.Reports))
			}
			for i, part := range [][]binRec{read[:half], read[half:]} {
				first := map[int32]int64{}
				for _, r := range part {
					if o, ok := first[r.Partition]; !ok || r.Offset < o {
						first[r.Partition] = r.Offset
					}
				}
				got := map[int32]int64{}
				for _, rep := range out.Reports[i] {
					if rep.ErrorCode != 0 {
						t.Fatalf("send %d: partition %d error %d", i, rep.Partition, rep.ErrorCode)
					}
					got[rep.Partition] = rep.BaseOffset
				}
				if fmt.Sprint(got) != fmt.Sprint(first) {
					t.Fatalf("send %d: reported base offsets %v, records read start at %v", i, got, first)
				}
			}

			codec := codecIDs[c.compression]
			pid := int64(-2)
			for p := range int32(parts) {
				seq := int32(0)
				for _, sb := range b.readBatches(t, topic, p) {
					if sb.codec() != codec {
						t.Fatalf("p%d: batch at %d stored with codec %d, want %d", p, sb.FirstOffset, sb.codec(), codec)
					}
					if !c.idempotent {
						// kafkajs leaves the sequence at 0 without a producer id.
						if sb.ProducerID != -1 {
							t.Fatalf("p%d: batch at %d has producer id %d; want none", p, sb.FirstOffset, sb.ProducerID)
						}
						continue
					}
					if pid == -2 {
						pid = sb.ProducerID
					}
					if sb.ProducerID < 0 || sb.ProducerID != pid || sb.ProducerEpoch < 0 || sb.FirstSequence != seq {
						t.Fatalf("p%d: batch at %d: producer %d epoch %d sequence %d; want producer %d (>= 0) sequence %d",
							p, sb.FirstOffset, sb.ProducerID, sb.ProducerEpoch, sb.FirstSequence, pid, seq)
					}
					seq += sb.NumRecords
				}
			}
		})
	}
}

// kafkajsMember is what group.js reports of one consumer: its last
// GROUP_JOIN and the records it read.
type kafkajsMember struct {
	MemberID   string             `json:"memberId"`
	Assignment map[string][]int32 `json:"assignment"`
	Records    []jsRecord         `json:"records"`
}

// produceBinary produces n records round-robin over parts partitions
// with franz-go: value "<prefix>-<i>", a binary key and headers.
func produceBinary(t testing.TB, b *broker, topic string, parts int32, n int, prefix string) {
	t.Helper()
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, &kgo.Record{
			Topic:     topic,
			Partition: int32(i) % parts,
			Key:       []byte{0, byte(i), 0xff, byte(i >> 8)},
			Value:     []byte(fmt.Sprintf("%s-%d", prefix, i)),
			Headers:   []kgo.RecordHeader{{Key: "h", Value: []byte{0xfe, byte(i)}}, {Key: "h", Value: []byte{}}},
		})
	}
	produceSync(t, b.client(t), recs...)
}

// TestKafkajsGroup: two kafkajs consumers of one group split a
// six-partition topic with no overlap and no gap (their GROUP_JOIN
// assignments are DescribeGroups'), read each record once, from their own
// partitions, byte for byte what franz-go reads, and commit it all; once
// they have left, a new kafkajs consumer of the group reads only what was
// produced after the commits.
func TestKafkajsGroup(t *testing.T) {
	needKafkajs(t)
	b := startGroupBroker(t)
	const topic, group, parts = "kafkajs.group", "kafkajs-group", 6
	b.newTopic(t, topic, parts, nil)
	adm := b.admin(t)

	proc := startKafkajs(t, nil, "group.js", b.addr, topic, group, "2", "300")
	a := waitSplit(t, adm, group, topic, parts, 2, 30*time.Second)
	produceBinary(t, b, topic, parts, 300, "first")
	var out struct {
		Members []kafkajsMember `json:"members"`
	}
	proc.wait(t, &out)

	all := map[string]binRec{}
	for _, r := range b.consumeAll(t, topic) {
		all[string(r.Value)] = binFromKgo(r)
	}
	if len(out.Members) != 2 {
		t.Fatalf("%d members reported, want 2", len(out.Members))
	}
	seen := map[string]int{}
	for i, m := range out.Members {
		want, ok := a[m.MemberID]
		if !ok {
			t.Fatalf("member %d's id %q is not in the group %v", i, m.MemberID, a)
		}
		if got := m.Assignment[topic]; !slices.Equal(slices.Sorted(slices.Values(got)), want) {
			t.Fatalf("member %d: GROUP_JOIN assignment %v, DescribeGroups %v", i, m.Assignment, want)
		}
		for _, jr := range m.Records {
			r := jr.bin(t)
			seen[string(r.Value)]++
			if !slices.Contains(want, r.Partition) {
				t.Errorf("member %d read partition %d, assigned %v", i, r.Partition, want)
			}
			if w := all[string(r.Value)]; !r.equal(w) {
				t.Errorf("member %d read\n %v\nfranz-go read\n %v", i, r, w)
			}
		}
	}
	for v := range all {
		if seen[v] != 1 {
			t.Errorf("record %s read %d times, want once", v, seen[v])
		}
	}
	if len(seen) != len(all) {
		t.Errorf("read %d distinct records, produced %d", len(seen), len(all))
	}
	if t.Failed() {
		t.FailNow()
	}

	committed := fetchCommitted(t, adm, group, topic)
	for p := range int32(parts) {
		if committed[p] != 300/parts {
			t.Fatalf("committed offsets %v, want %d in every partition", committed, 300/parts)
		}
	}
	// Disconnecting left the group: it is empty long before the 6 s
	// session timeout could have emptied it.
	waitEmpty(t, adm, group, topic, 3*time.Second)

	// A new consumer resumes at the commits.
	produceBinary(t, b, topic, parts, 60, "later")
	runKafkajs(t, &out, nil, "group.js", b.addr, topic, group, "1", "60")
	if n := len(out.Members[0].Records); n != 60 {
		t.Fatalf("the new consumer read %d records, want the 60 produced after the commits", n)
	}
	first := map[int32]int64{}
	for _, jr := range out.Members[0].Records {
		if !strings.HasPrefix(string(jr.Value), "later-") {
			t.Fatalf("the new consumer read %q at p%d@%d, committed before it started", jr.Value, jr.Partition, jr.Offset)
		}
		if _, ok := first[jr.Partition]; !ok {
			first[jr.Partition] = jr.Offset
		}
	}
	for p := range int32(parts) {
		if first[p] != committed[p] {
			t.Errorf("partition %d: resumed at offset %d, committed %d", p, first[p], committed[p])
		}
	}
	if again := fetchCommitted(t, adm, group, topic); fmt.Sprint(again) != fmt.Sprint(map[int32]int64{0: 60, 1: 60, 2: 60, 3: 60, 4: 60, 5: 60}) {
		t.Errorf("committed after the new consumer: %v, want 60 everywhere", again)
	}
}

// TestKafkajsAdmin: kafkajs's admin client creates a topic with a config
// (and reports that it exists the second time), lists topics, fetches
// their metadata, describes the config, adds partitions, lists a topic's
// offsets (by timestamp too), lists and describes a franz-go consumer
// group and fetches its commits, describes the cluster and deletes the
// topic. Then, the group empty, it sets the group's offsets, deletes
// records and deletes the group.
func TestKafkajsAdmin(t *testing.T) {
	needKafkajs(t)
	b := startGroupBroker(t)
	const existing, created, group = "kafkajs.admin.existing", "kafkajs.admin.created", "kafkajs-admin"
	b.newTopic(t, existing, 3, nil)
	produceSpread(t, b, existing, 3, 9, "e")
	member := b.groupClient(t, group, existing, kgo.DisableAutoCommit(), kgo.ClientID("franz-member"))
	stop := pollUntil(member)
	waitSplit(t, b.admin(t), group, existing, 3, 1, 20*time.Second)
	stop()
	commitAt(t, member, existing, map[int32]int64{0: 2, 1: 3, 2: 1})
	memberID, _ := member.GroupMetadata()

	type partitionMeta struct {
		PartitionErrorCode int16   `json:"partitionErrorCode"`
		PartitionID        int32   `json:"partitionId"`
		Leader             int32   `json:"leader"`
		Replicas           []int32 `json:"replicas"`
		Isr                []int32 `json:"isr"`
	}
	type topicMeta struct {
		Name       string          `json:"name"`
		Partitions []partitionMeta `json:"partitions"`
	}
	type partOffset struct {
		Partition int32  `json:"partition"`
		Offset    string `json:"offset"`
		High      string `json:"high"`
		Low       string `json:"low"`
	}
	var out struct {
		Created      bool     `json:"created"`
		CreatedAgain bool     `json:"createdAgain"`
		Topics       []string `json:"topics"`
		Metadata     struct {
			Topics []topicMeta `json:"topics"`
		} `json:"metadata"`
		Configs []struct {
			Name      string `json:"name"`
			ErrorCode int16  `json:"errorCode"`
			Entries   []struct {
				Name      string `json:"name"`
				Value     string `json:"value"`
				IsDefault bool   `json:"isDefault"`
			} `json:"entries"`
		} `json:"configs"`
		MetadataAfter struct {
			Topics []topicMeta `json:"topics"`
		} `json:"metadataAfter"`
		Offsets            []partOffset            `json:"offsets"`
		OffsetsByTimestamp map[string][]partOffset `json:"offsetsByTimestamp"`
		Groups             []struct {
			GroupID      string `json:"groupId"`
			ProtocolType string `json:"protocolType"`
		} `json:"groups"`
		Described []struct {
			GroupID      string `json:"groupId"`
			ErrorCode    int16  `json:"errorCode"`
			State        string `json:"state"`
			ProtocolType string `json:"protocolType"`
			Protocol     string `json:"protocol"`
			Members      []struct {
				MemberID   string             `json:"memberId"`
				ClientID   string             `json:"clientId"`
				Assignment map[string][]int32 `json:"assignment"`
				Topics     []string           `json:"topics"`
			} `json:"members"`
		} `json:"described"`
		Committed []struct {
			Topic      string `json:"topic"`
			Partitions []struct {
				Partition int32  `json:"partition"`
				Offset    string `json:"offset"`
			} `json:"partitions"`
		} `json:"committed"`
		Cluster struct {
			Brokers []struct {
				NodeID int32  `json:"nodeId"`
				Host   string `json:"host"`
				Port   int    `json:"port"`
			} `json:"brokers"`
			Controller int32  `json:"controller"`
			ClusterID  string `json:"clusterId"`
		} `json:"cluster"`
		TopicsAfter []string `json:"topicsAfter"`
	}
	runKafkajs(t, &out, nil, "admin.js", b.addr, created, existing, group)

	if !out.Created || out.CreatedAgain {
		t.Errorf("createTopics: %v, then %v; want true, then false (exists)", out.Created, out.CreatedAgain)
	}
	if !slices.Contains(out.Topics, created) || !slices.Contains(out.Topics, existing) {
		t.Errorf("listTopics: %v, want %s and %s", out.Topics, created, existing)
	}
	checkMeta := func(what string, tms []topicMeta, want map[string]int) {
		t.Helper()
		if len(tms) != len(want) {
			t.Fatalf("%s: %d topics, want %d", what, len(tms), len(want))
		}
		for _, tm := range tms {
			if len(tm.Partitions) != want[tm.Name] {
				t.Fatalf("%s: %s has %d partitions, want %d", what, tm.Name, len(tm.Partitions), want[tm.Name])
			}
			slices.SortFunc(tm.Partitions, func(a, b partitionMeta) int { return int(a.PartitionID - b.PartitionID) })
			for i, p := range tm.Partitions {
				if p.PartitionErrorCode != 0 || p.PartitionID != int32(i) || p.Leader != out.Cluster.Controller ||
					!slices.Equal(p.Replicas, []int32{p.Leader}) || !slices.Equal(p.Isr, []int32{p.Leader}) {
					t.Fatalf("%s: %s partition %d: %+v", what, tm.Name, i, p)
				}
			}
		}
	}
	if len(out.Cluster.Brokers) != 1 || out.Cluster.Brokers[0].NodeID != out.Cluster.Controller ||
		fmt.Sprintf("%s:%d", out.Cluster.Brokers[0].Host, out.Cluster.Brokers[0].Port) != b.addr || out.Cluster.ClusterID != clusterID(t, b) {
		t.Fatalf("describeCluster: %+v; want the one broker at %s, cluster %s", out.Cluster, b.addr, clusterID(t, b))
	}
	checkMeta("fetchTopicMetadata", out.Metadata.Topics, map[string]int{created: 3, existing: 3})
	checkMeta("fetchTopicMetadata after createPartitions", out.MetadataAfter.Topics, map[string]int{created: 5})
	if len(out.Configs) != 1 || out.Configs[0].Name != created || out.Configs[0].ErrorCode != 0 || len(out.Configs[0].Entries) != 1 ||
		out.Configs[0].Entries[0].Name != "retention.ms" || out.Configs[0].Entries[0].Value != "3600000" || out.Configs[0].Entries[0].IsDefault {
		t.Errorf("describeConfigs: %+v; want retention.ms=3600000, not the default", out.Configs)
	}
	wantOffsets := "[{0 3 3 0} {1 3 3 0} {2 3 3 0}]"
	if got := fmt.Sprint(out.Offsets); got != wantOffsets {
		t.Errorf("fetchTopicOffsets: %s, want %s ({partition offset high low})", got, wantOffsets)
	}
	if got := fmt.Sprint(out.OffsetsByTimestamp["zero"]); got != "[{0 0  } {1 0  } {2 0  }]" {
		t.Errorf("fetchTopicOffsetsByTimestamp(0): %s, want offset 0 everywhere", got)
	}
	if got := fmt.Sprint(out.OffsetsByTimestamp["future"]); got != "[{0 3  } {1 3  } {2 3  }]" {
		t.Errorf("fetchTopicOffsetsByTimestamp(an hour ahead): %s, want the ends (3)", got)
	}
	if !slices.ContainsFunc(out.Groups, func(g struct {
		GroupID      string `json:"groupId"`
		ProtocolType string `json:"protocolType"`
	}) bool {
		return g.GroupID == group && g.ProtocolType == "consumer"
	}) {
		t.Errorf("listGroups: %+v, want %s (consumer)", out.Groups, group)
	}
	if len(out.Described) != 1 {
		t.Fatalf("describeGroups: %+v", out.Described)
	}
	g := out.Described[0]
	if g.GroupID != group || g.ErrorCode != 0 || g.State != "Stable" || g.ProtocolType != "consumer" || g.Protocol == "" || len(g.Members) != 1 {
		t.Fatalf("describeGroups: %+v", g)
	}
	if m := g.Members[0]; m.MemberID != memberID || m.ClientID != "franz-member" ||
		fmt.Sprint(m.Assignment) != fmt.Sprintf("map[%s:[0 1 2]]", existing) || !slices.Equal(m.Topics, []string{existing}) {
		t.Errorf("describeGroups member: %+v; want %s (franz-member) assigned %s [0 1 2]", m, memberID, existing)
	}
	if len(out.Committed) != 1 || out.Committed[0].Topic != existing {
		t.Fatalf("fetchOffsets: %+v", out.Committed)
	}
	committed := map[int32]string{}
	for _, p := range out.Committed[0].Partitions {
		committed[p.Partition] = p.Offset
	}
	if fmt.Sprint(committed) != "map[0:2 1:3 2:1]" {
		t.Errorf("fetchOffsets: %v, want map[0:2 1:3 2:1]", committed)
	}
	if slices.Contains(out.TopicsAfter, created) || !slices.Contains(out.TopicsAfter, existing) {
		t.Errorf("listTopics after deleteTopics: %v", out.TopicsAfter)
	}
	if n := b.partitionCount(t, created); n != -1 {
		t.Errorf("deleted topic still has %d partitions", n)
	}
	if t.Failed() {
		t.FailNow()
	}

	// With the member gone, the offsets of the empty group are kafkajs's
	// to set, and the group its to delete.
	member.Close()
	var gout struct {
		AfterSet           []partOffset `json:"afterSet"`
		OffsetsAfterDelete []partOffset `json:"offsetsAfterDelete"`
		DeletedGroups      []struct {
			GroupID   string `json:"groupId"`
			ErrorCode int16  `json:"errorCode"`
		} `json:"deletedGroups"`
		GroupsAfter []string `json:"groupsAfter"`
	}
	runKafkajs(t, &gout, nil, "groupadmin.js", b.addr, existing, group)
	for _, c := range []struct {
		what string
		got  []partOffset
		want string
	}{
		// -2 is kafkajs's "earliest", committed as it is (resetOffsets
		// does the same) for fetchOffsets's resolveOffsets to resolve.
		{"fetchOffsets after setOffsets", gout.AfterSet, "[{0 1  } {1 -2  } {2 1  }]"},
		{"fetchTopicOffsets after deleteTopicRecords", gout.OffsetsAfterDelete, "[{0 3 3 0} {1 3 3 2} {2 3 3 0}]"},
	} {
		if got := fmt.Sprint(c.got); got != c.want {
			t.Errorf("%s: %s, want %s", c.what, got, c.want)
		}
	}
	if fmt.Sprint(gout.DeletedGroups) != fmt.Sprintf("[{%s 0}]", group) || slices.Contains(gout.GroupsAfter, group) {
		t.Errorf("deleteGroups: %+v, then listGroups: %v", gout.DeletedGroups, gout.GroupsAfter)
	}
}
