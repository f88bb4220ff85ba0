package itest

// Followers that crash. A follower SIGKILLed again and again under a
// steady acks=all load, its log's unflushed tail torn each time the way a
// crash can leave it (cut short, mid-batch or whole batches gone; extended
// with zeros; overwritten with garbage), recovers its log to the last
// whole batch, fetches the rest from the leader and rejoins the ISR;
// nothing acknowledged is lost and the replicas end byte-identical.
//
// A follower whose disk fills (a real ENOSPC: its log.dirs is a tiny
// tmpfs) cannot append what it fetches: it falls behind, the leader takes
// it out of the ISR and writes go on with the two others; its log holds a
// prefix of the leader's, never a damaged batch. Given room and a
// restart, it catches up and rejoins.

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"
)

// tear damages the unflushed tail of the replica's active segment as a
// crash may: mode 0 cuts it short somewhere in its last 16 KiB, mode 1
// appends 4 KiB of zeros, mode 2 overwrites its last 100 bytes with
// random bytes. It returns what it did.
func replTear(t testing.TB, dir, topic string, p int32, mode int, rng *rand.Rand) string {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, fmt.Sprintf("%s-%d", topic, p), "*.log"))
	if len(names) == 0 {
		t.Fatalf("no segment in %s", dir)
	}
	sort.Strings(names)
	seg := names[len(names)-1]
	fi, err := os.Stat(seg)
	if err != nil {
		t.Fatal(err)
	}
	size := fi.Size()
	f, err := os.OpenFile(seg, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	switch mode {
	case 0:
		cut := size - rng.Int64N(min(size, 16<<10)+1)
		if err := f.Truncate(cut); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%s cut from %d to %d bytes", filepath.Base(seg), size, cut)
	case 1:
		if _, err := f.WriteAt(make([]byte, 4096), size); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%s extended by 4096 zeros after %d bytes", filepath.Base(seg), size)
	default:
		n := min(size, 100)
		junk := make([]byte, n)
		for i := range junk {
			junk[i] = byte(rng.UintN(256))
		}
		if _, err := f.WriteAt(junk, size-n); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%s: last %d of %d bytes overwritten", filepath.Base(seg), n, size)
	}
}

func TestReplicationFollowerCrashes(t *testing.T) {
	c := replStartCluster(t, 3)
	const topic = "follower-crashes"
	// Small segments: the follower rolls, and snapshots its producers,
	// between crashes.
	c.createTopic(topic, 1, -1, map[string]string{"min.insync.replicas": "2", "segment.bytes": "65536"}, map[int32][]int32{0: {1, 2, 3}})
	c.waitInSync(topic)
	f := c.node(3)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("tear seed %d", seed)

	prod := c.produce(topic, "steady", 400)
	ck := c.produceCK(topic, "ck", 100)
	kills := 5
	if testing.Short() {
		kills = 2
	}
	for i := range kills {
		c.waitAcks(prod, 200, "before the crash")
		f.sigkill()
		t.Logf("crash %d: %s", i+1, replTear(t, f.dir, topic, 0, i%3, rng))
		// Two in sync of three: writes go on while it is down.
		c.waitAcks(prod, 200, "while the follower is down")
		c.restart(f)
		c.waitISR(topic, 0, 1, 2, 3)
	}
	c.waitAcks(prod, 200, "at the end")
	prod.finish(t)
	ck.finish(t)
	c.waitIdentical(topic)
	recs := c.readAll(topic)
	t.Log(replCheck(t, recs, prod.ledger, ck.ledger))
	for _, p := range []*replProducer{prod, ck} {
		if _, _, failed := p.ledger.counts(); failed > 0 {
			t.Errorf("%s: %d records failed", p.ledger.name, failed)
		}
	}
}

// replTmpfs mounts a tmpfs of size bytes on a new directory, unmounted
// when the test ends; it skips the test when this machine does not allow
// the mount (it needs root, or CAP_SYS_ADMIN in a container).
func replTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+strconv.Itoa(size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root or CAP_SYS_ADMIN): %v: %s", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

func TestReplicationFollowerDiskFull(t *testing.T) {
	disk := replTmpfs(t, 3<<20)
	c := replStartCluster(t, 3, "log.index.size.max.bytes=65536")
	f := c.node(3)
	// Broker 3 moves its log onto the small disk.
	f.stop()
	c.waitFor("broker 3 deregistered", replWait, func() (bool, string) {
		ids := c.registered()
		return len(ids) == 2, fmt.Sprintf("registered %v", ids)
	})
	if err := exec.Command("cp", "-a", f.dir+"/.", disk).Run(); err != nil {
		t.Fatal(err)
	}
	f.dir = disk
	c.restart(f)

	const topic = "disk-full"
	c.createTopic(topic, 1, -1, map[string]string{"min.insync.replicas": "2", "segment.bytes": "1048576"}, map[int32][]int32{0: {1, 2, 3}})
	c.waitInSync(topic)
	// 1 KiB records at 2 MiB/s: the 3 MiB disk is full in about a second.
	value := bytes.Repeat([]byte("x"), 1024)
	prod := c.produceValues(topic, "big", 2000, value)
	c.waitISR(topic, 0, 1, 2)
	t.Logf("the follower left the ISR")
	c.waitAcks(prod, 2000, "with the follower's disk full")

	// Its log is a prefix of the leader's: whole batches, nothing damaged.
	lead, _ := replLogBytes(c.leader(topic, 0).dir, topic, 0)
	got, err := replLogBytes(f.dir, topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(lead, got) {
		t.Errorf("the full follower's log is not a prefix of the leader's: %s", replDiff(lead[:min(len(lead), len(got))], got))
	}
	t.Logf("the full follower holds %d bytes, the leader %d", len(got), len(lead))
	if df, err := exec.Command("df", "-k", disk).Output(); err == nil {
		t.Logf("%s", bytes.TrimSpace(df))
	}

	// Room again (the disk grows), a restart: it catches up and rejoins.
	f.sigkill()
	if out, err := exec.Command("mount", "-o", "remount,size=256m", disk).CombinedOutput(); err != nil {
		t.Fatalf("growing the tmpfs: %v: %s", err, out)
	}
	c.restart(f)
	c.waitISR(topic, 0, 1, 2, 3)
	c.waitAcks(prod, 500, "after the follower rejoined")
	prod.finish(t)
	c.waitIdentical(topic)
	recs := c.readAll(topic)
	t.Log(replCheck(t, recs, prod.ledger))
	if _, _, failed := prod.ledger.counts(); failed > 0 {
		t.Errorf("%d records failed", failed)
	}
}
