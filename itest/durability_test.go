package itest

import (
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestCrashAdminDurability: every admin change the broker has answered
// survives a SIGKILL right after the answer: a created topic and its
// configs, a deleted topic (it must not come back from stray directories),
// added partitions, a config change, and a DeleteRecords low watermark.
func TestCrashAdminDurability(t *testing.T) {
	b := startBroker(t)
	b.needAPIs(t, keyCreateTopics, keyDeleteTopics, keyCreatePartitions, keyDeleteRecords, keyIncrementalAlterConfigs, keyDescribeConfigs)
	adm := b.admin(t)
	const keep, gone = "dur.keep", "dur.gone"
	b.newTopic(t, keep, 2, map[string]*string{"retention.ms": kadm.StringPtr("3600000")})
	b.newTopic(t, gone, 2, nil)
	cl := b.client(t)
	for i := range 10 {
		produceSync(t, cl, &kgo.Record{Topic: keep, Partition: 0, Value: []byte(strconv.Itoa(i))},
			&kgo.Record{Topic: gone, Partition: 1, Value: []byte(strconv.Itoa(i))})
	}
	if r, err := adm.DeleteTopic(ctx(t), gone); err != nil || r.Err != nil {
		t.Fatalf("delete %s: %v %v", gone, err, r.Err)
	}
	if rs, err := adm.UpdatePartitions(ctx(t), 3, keep); err != nil || rs[keep].Err != nil {
		t.Fatalf("grow %s: %v %v", keep, err, rs[keep].Err)
	}
	if rs, err := adm.AlterTopicConfigs(ctx(t), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "segment.ms", Value: kadm.StringPtr("123456")}}, keep); err != nil || rs[0].Err != nil {
		t.Fatalf("alter %s: %v %v", keep, err, rs)
	}
	var os kadm.Offsets
	os.Add(kadm.Offset{Topic: keep, Partition: 0, At: 5})
	if rs, err := adm.DeleteRecords(ctx(t), os); err != nil || rs[keep][0].Err != nil {
		t.Fatalf("delete records: %v %v", err, rs)
	}
	cl.Close()
	b.kill()
	b.restart()

	assertTopics(t, b, keep)
	if dirs := liveDirs(t, b, gone); len(dirs) != 0 {
		t.Errorf("directories of the deleted topic after the crash: %v", dirs)
	}
	if n := b.partitionCount(t, keep); n != 3 {
		t.Errorf("%s has %d partitions after the crash, want 3", keep, n)
	}
	adm = b.admin(t)
	for key, want := range map[string]string{"retention.ms": "3600000", "segment.ms": "123456"} {
		if v, _ := configValue(t, adm, keep, key); v != want {
			t.Errorf("%s = %s after the crash, want %s", key, v, want)
		}
	}
	starts, err := adm.ListStartOffsets(ctx(t), keep)
	if err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx(t), keep)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := starts.Lookup(keep, 0)
	e, _ := ends.Lookup(keep, 0)
	if s.Offset != 5 || e.Offset != 10 {
		t.Errorf("partition 0 spans [%d, %d) after the crash, want [5, 10)", s.Offset, e.Offset)
	}
}

// TestShutdownDuringLongPoll: SIGTERM while a consumer waits in a long poll
// (max_wait 20 s) ends the poll and the broker exits cleanly, promptly.
func TestShutdownDuringLongPoll(t *testing.T) {
	b := startBroker(t)
	const topic = "shutdown.poll"
	b.newTopic(t, topic, 1, nil)
	produceSync(t, b.client(t), &kgo.Record{Topic: topic, Value: []byte("kept")})
	conn := b.dial(t)
	req := fetchRequest(12, topic, 20000, 1, 1<<20, fetchPart{0, 1, 1 << 20})
	corr := conn.send(t, req)

	b.waitParked(t, 1) // shut down with the fetch waiting, not on its way

	start := time.Now()
	b.stop() // exit status 0 and the clean-shutdown marker
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("shutdown took %v with a 20 s long poll pending", d)
	}
	// The fetch got an answer (with nothing in it) or its connection closed.
	frame, err := conn.readFrame(5 * time.Second)
	switch {
	case err == nil:
		resp := kmsg.NewPtrFetchResponse()
		resp.SetVersion(12)
		if err := decodeResponse(frame, corr, resp); err != nil {
			t.Fatalf("fetch answer at shutdown: %v", err)
		}
		if p := resp.Topics[0].Partitions[0]; len(p.RecordBatches) != 0 {
			t.Fatalf("fetch answer at shutdown holds %d bytes of records, want none", len(p.RecordBatches))
		}
	case errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "reset"):
	default:
		t.Fatalf("reading the fetch answer after shutdown: %v", err)
	}

	b.restart()
	got := b.consumeAll(t, topic)
	if len(got) != 1 || string(got[0].Value) != "kept" {
		t.Fatalf("after the restart the topic holds %d records", len(got))
	}
}
