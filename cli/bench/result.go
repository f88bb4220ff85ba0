package bench

// The summary of a run and the progress line.

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"samsa/cli/command"
)

// benchResult is the summary of a bench run; its JSON form is the output of
// --json.
type benchResult struct {
	Mode          string          `json:"mode"`
	Topic         string          `json:"topic"`
	Records       int64           `json:"records"`
	Failed        int64           `json:"failed"`
	Bytes         int64           `json:"bytes"`
	MiB           float64         `json:"mib"`
	ElapsedSec    float64         `json:"elapsed_s"`
	MiBPerSec     float64         `json:"mib_per_s"`
	RecordsPerSec float64         `json:"records_per_s"`
	Latency       *latencySummary `json:"latency_ms,omitempty"`
	Error         string          `json:"error,omitempty"`
}

// latencySummary holds percentiles of ack latency in milliseconds.
type latencySummary struct {
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

func newBenchResult(mode, topic string, records, nbytes int64, elapsed time.Duration) *benchResult {
	r := &benchResult{
		Mode:       mode,
		Topic:      topic,
		Records:    records,
		Bytes:      nbytes,
		MiB:        float64(nbytes) / (1 << 20),
		ElapsedSec: elapsed.Seconds(),
	}
	if s := elapsed.Seconds(); s > 0 {
		r.MiBPerSec = r.MiB / s
		r.RecordsPerSec = float64(records) / s
	}
	return r
}

func (r *benchResult) print(w io.Writer, asJSON bool) {
	if asJSON {
		b, _ := json.Marshal(r)
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	tw := command.NewTable(w)
	fmt.Fprintf(tw, "topic\t%s\n", r.Topic)
	if r.Mode == "produce" {
		fmt.Fprintf(tw, "records\t%d (%d failed)\n", r.Records, r.Failed)
	} else {
		fmt.Fprintf(tw, "records\t%d\n", r.Records)
	}
	fmt.Fprintf(tw, "data\t%.2f MiB\n", r.MiB)
	fmt.Fprintf(tw, "elapsed\t%.3fs\n", r.ElapsedSec)
	fmt.Fprintf(tw, "throughput\t%.2f MiB/s, %.1f records/s\n", r.MiBPerSec, r.RecordsPerSec)
	if l := r.Latency; l != nil {
		fmt.Fprintf(tw, "ack latency (ms)\tp50 %.3f  p95 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n",
			l.P50, l.P95, l.P99, l.P999, l.Max)
	}
	tw.Flush()
}

// startProgress prints a progress line to stderr every second while stderr
// is a terminal: the totals so far and the rates over the last second. The
// returned function stops it and clears the line.
func startProgress(stderr io.Writer, counts func() (records, nbytes int64)) func() {
	if f, ok := stderr.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		last := time.Now()
		var lastN, lastB int64
		for {
			select {
			case <-done:
				fmt.Fprint(stderr, "\r\x1b[K")
				return
			case now := <-t.C:
				n, b := counts()
				s := now.Sub(last).Seconds()
				fmt.Fprintf(stderr, "\r\x1b[K%d records  %.2f MiB/s  %.0f records/s",
					n, float64(b-lastB)/(1<<20)/s, float64(n-lastN)/s)
				last, lastN, lastB = now, n, b
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}
