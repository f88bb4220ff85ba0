package logfile

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const crashChildEnv = "SAMSA_LOGFILE_CRASH_CHILD"

// crashSeedEnv replays a randomized crash test: set it to the seed a
// failed run logged.
const crashSeedEnv = "SAMSA_CRASH_SEED"

// crashSeed returns the seed of a randomized crash test, from
// SAMSA_CRASH_SEED or the clock, and logs it so that a failure can be
// replayed.
func crashSeed(t testing.TB) uint64 {
	t.Helper()
	if v := os.Getenv(crashSeedEnv); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", crashSeedEnv, v, err)
		}
		t.Logf("seed %d (from %s)", seed, crashSeedEnv)
		return seed
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d (replay with %s=%d)", seed, crashSeedEnv, seed)
	return seed
}

// crashBatch is the batch the child appends as its i-th: derived from i so
// the parent can rebuild its exact bytes.
func crashBatch(i int64) []byte {
	return batch(1+int(i%5), 20+int(i*37%700), byte(i), 1_700_000_000_000+i)
}

// TestCrashChild is the child side of TestCrashRecovery: it appends until
// killed, printing "seq first last" after each acknowledged append.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("runs as a child of TestCrashRecovery")
	}
	d, err := OpenDir(path, DirOptions{Logger: quiet, ConfigFor: func(string) Config { return smallConfig() }})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	l, err := d.Create(TopicPartition{Topic: "crash", Partition: 0}, smallConfig())
	if err != nil {
		fmt.Println("create:", err)
		os.Exit(3)
	}
	seq, _ := strconv.ParseInt(os.Getenv(crashChildEnv+"_SEQ"), 10, 64)
	w := bufio.NewWriter(os.Stdout)
	for ; ; seq++ {
		info, err := l.Append(crashBatch(seq))
		if err != nil {
			fmt.Fprintln(w, "append:", err)
			w.Flush()
			os.Exit(3)
		}
		fmt.Fprintf(w, "%d %d %d\n", seq, info.FirstOffset, info.LastOffset)
		w.Flush()
	}
}

// TestCrashRecovery SIGKILLs an appending child at random moments, many
// rounds over the same directory. After each kill the log reopens with every
// acknowledged batch present byte for byte, offsets contiguous, and the next
// child appends after them.
func TestCrashRecovery(t *testing.T) {
	rounds := 25
	if testing.Short() {
		rounds = 5
	}
	path := t.TempDir()
	rng := rand.New(rand.NewPCG(crashSeed(t), 1))
	type ack struct{ seq, first, last int64 }
	var acks []ack
	nextSeq := int64(0)
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path, crashChildEnv+"_SEQ="+strconv.FormatInt(nextSeq, 10))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Let it append for a random while after its first ack, then kill.
		var killAt <-chan time.Time
		killed := false
		for line := range lines {
			f := strings.Fields(line)
			if len(f) != 3 {
				t.Fatalf("round %d: child said %q", round, line)
			}
			seq, _ := strconv.ParseInt(f[0], 10, 64)
			first, _ := strconv.ParseInt(f[1], 10, 64)
			last, _ := strconv.ParseInt(f[2], 10, 64)
			acks = append(acks, ack{seq, first, last})
			if killAt == nil {
				killAt = time.After(time.Duration(rng.IntN(60)) * time.Millisecond)
			}
			select {
			case <-killAt:
				if !killed {
					cmd.Process.Signal(syscall.SIGKILL)
					killed = true
				}
			default:
			}
		}
		cmd.Wait()
		if !killed {
			t.Fatalf("round %d: child exited by itself", round)
		}
		// Lines cut by the kill are not acknowledgements; whole lines are.
		d, err := OpenDir(path, DirOptions{Logger: quiet, ConfigFor: func(string) Config { return smallConfig() }})
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		if d.WasClean() {
			t.Fatal("a killed child left a clean-shutdown marker")
		}
		l := d.Get(TopicPartition{Topic: "crash", Partition: 0})
		for i, a := range acks {
			if i > 0 && a.first != acks[i-1].last+1 {
				t.Fatalf("acks not contiguous: %d after %d", a.first, acks[i-1].last)
			}
			info, got, err := l.ReadBatchAt(a.first)
			if err != nil {
				t.Fatalf("round %d: acknowledged batch %d at %d: %v", round, a.seq, a.first, err)
			}
			want := crashBatch(a.seq)
			putBase(want, a.first)
			if info.BaseOffset != a.first {
				t.Fatalf("round %d: batch at %d has base %d", round, a.first, info.BaseOffset)
			}
			mustEqual(t, got, want)
		}
		// Offsets are contiguous and every batch valid through the end.
		readAll(t, l, 64<<10)
		// Unacknowledged batches may have landed; the next child continues
		// after whatever the log holds.
		end := l.EndOffset()
		if n := len(acks); n > 0 && end < acks[n-1].last+1 {
			t.Fatalf("end %d below the last ack %d", end, acks[n-1].last)
		}
		// Account for unacknowledged but recovered batches by reading them.
		off := int64(0)
		if n := len(acks); n > 0 {
			off = acks[n-1].last + 1
			nextSeq = acks[n-1].seq + 1
		}
		for off < end {
			info, _, err := l.ReadBatchAt(off)
			if err != nil {
				t.Fatal(err)
			}
			acks = append(acks, ack{nextSeq, info.BaseOffset, info.LastOffset()})
			nextSeq++
			off = info.NextOffset()
		}
		d.lock.Close() // crash this parent's view too: leave recovery to the next round
		for _, l := range d.Logs() {
			l.mu.Lock()
			l.closed = true
			l.mu.Unlock()
		}
		close(d.stop)
		<-d.done
	}
	if len(acks) < rounds {
		t.Fatalf("only %d acknowledged batches over %d rounds", len(acks), rounds)
	}
	t.Logf("%d rounds, %d acknowledged batches verified", rounds, len(acks))
}

func putBase(b []byte, base int64) {
	for i := range 8 {
		b[i] = byte(base >> (56 - 8*i))
	}
}
