package producerstate

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"samsa/logfile"
	"samsa/logfile/vfs"
	"samsa/record"
)

// Producers is a partition's producer state with its snapshot files.
type Producers struct {
	dir string
	// Mu is the partition's append lock: Check, append, Update run under it.
	Mu    sync.Mutex
	State *State
	// SnapBase is the active segment base at the last snapshot, to take
	// one per segment roll.
	SnapBase int64

	// spans are the transactions that hold the last stable offset down,
	// by first offset, published under Mu for readers without it
	// (LastStable): a copy, replaced whole.
	spans atomic.Pointer[[]TxnSpan]
}

func snapshotPath(dir string, offset int64) string {
	return filepath.Join(dir, logfile.SegmentName(offset, snapshotSuffix))
}

// snapshotOffsets lists the snapshot files of a partition, ascending.
func snapshotOffsets(dir string) []int64 {
	ents, _ := os.ReadDir(dir)
	var out []int64
	for _, e := range ents {
		if stem, ok := strings.CutSuffix(e.Name(), snapshotSuffix); ok && len(stem) == 20 {
			if off, err := strconv.ParseInt(stem, 10, 64); err == nil {
				out = append(out, off)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Load restores a partition's producer state: the newest valid snapshot
// at or below the log end, then every batch after it, markers included.
// When the log awaits the rebuild of transaction index entries
// (logfile's TxnIndexRebuildFrom), the snapshot is one at or below that
// offset, and the replay gives the log the entries of the aborts it finds
// from there.
func Load(l *logfile.Log) (*Producers, error) {
	p := &Producers{dir: l.Dir(), State: NewState()}
	end := l.EndOffset()
	from := l.StartOffset()
	rebuild := l.TxnIndexRebuildFrom()
	offs := snapshotOffsets(p.dir)
	for i := len(offs) - 1; i >= 0; i-- {
		off := offs[i]
		if off > end {
			os.Remove(snapshotPath(p.dir, off)) // the log was cut below it
			continue
		}
		if rebuild >= 0 && off > rebuild {
			continue // it knows nothing of the transactions open before it
		}
		data, err := os.ReadFile(snapshotPath(p.dir, off))
		if err != nil {
			continue
		}
		ps, err := DecodeSnapshot(data)
		if err != nil {
			continue // an older snapshot, or the whole log, will do
		}
		p.State, from = ps, max(off, from)
		break
	}
	var aborted []logfile.AbortedTxn
	err := l.ScanProducerBatches(from, func(h *record.Header, control []byte) bool {
		if h.ProducerID < 0 || h.BaseOffset < from {
			return true
		}
		// A control batch that holds no marker changes nothing: the
		// leader wrote only markers it built.
		c, ok, _ := p.State.Apply(h, control, 0)
		if ok && c.Aborted && rebuild >= 0 && c.Last >= rebuild {
			aborted = append(aborted, c.AbortedTxn())
		}
		return true
	})
	if err == nil && rebuild >= 0 {
		err = l.RebuildTxnIndex(aborted)
	}
	if err != nil {
		return nil, fmt.Errorf("producerstate: rebuild the state of %s: %w", l.Dir(), err)
	}
	// Entries rebuilt from the log carry no append time: count it from now.
	now := nowMs()
	for _, e := range p.State.m {
		if e.lastMs == 0 {
			e.lastMs = now
		}
	}
	segs := l.SegmentBases()
	p.SnapBase = segs[len(segs)-1]
	p.Publish(l.HighWatermark())
	return p, nil
}

// Replace takes the state of q (a reload after a truncation) and
// publishes it. Called with Mu held.
func (p *Producers) Replace(q *Producers, hw int64) {
	p.State, p.SnapBase = q.State, q.SnapBase
	p.Publish(hw)
}

// Publish prunes the transactions the high watermark has passed and
// publishes those that hold the last stable offset down. Called with Mu
// held after every change of the transactions.
func (p *Producers) Publish(hw int64) {
	p.State.Prune(hw)
	unstable := p.State.Unstable()
	if len(unstable) == 0 {
		// Nothing holds the last stable offset down, the usual case:
		// stored as nil, which allocates nothing.
		p.spans.Store(nil)
		return
	}
	spans := unstable // escapes, on this path only
	p.spans.Store(&spans)
}

// Opening publishes, before its batch is appended and may become visible,
// the transaction a producer opens at first: readers must never see its
// records as stable. Called with Mu held.
func (p *Producers) Opening(pid, first int64) {
	spans := insertSpan(p.State.Unstable(), TxnSpan{ProducerID: pid, First: first, Last: -1})
	p.spans.Store(&spans)
}

// LastStable returns the last stable offset for the high watermark hw:
// the first offset of the earliest transaction that is open or whose
// marker hw has not passed, else hw. It takes no lock.
func (p *Producers) LastStable(hw int64) int64 {
	if s := p.spans.Load(); s != nil {
		return lastStable(*s, hw)
	}
	return hw
}

// Snapshot writes the state as of offset (the log end, under Mu) and
// keeps the two newest snapshot files.
func (p *Producers) Snapshot(offset int64) error {
	if err := vfs.WriteFileAtomic(vfs.OS, snapshotPath(p.dir, offset), EncodeSnapshot(p.State)); err != nil {
		return err
	}
	offs := snapshotOffsets(p.dir)
	for i := 0; i+2 < len(offs); i++ {
		os.Remove(snapshotPath(p.dir, offs[i]))
	}
	return nil
}
