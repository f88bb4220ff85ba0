package zerocopy

import (
	"fmt"
	"testing"
)

// BenchmarkSend compares sendfile with the copy path in one run, for
// region sizes typical of a fetch: one small batch (16 KiB), a default
// max.partition.fetch.bytes (1 MiB) and a large catch-up read (16 MiB).
// The receiver drains the loopback connection as fast as it can; the file
// is in the page cache.
func BenchmarkSend(b *testing.B) {
	const fileSize = 16 << 20
	f, _ := patternFile(b, fileSize)
	for _, size := range []int64{16 << 10, 1 << 20, 16 << 20} {
		for _, p := range paths[:2] {
			b.Run(fmt.Sprintf("%s/%s", p.name, sizeName(size)), func(b *testing.B) {
				tx, rx := tcpPair(b)
				done := make(chan struct{})
				go func() {
					defer close(done)
					buf := make([]byte, 256<<10)
					for {
						if _, err := rx.Read(buf); err != nil {
							return
						}
					}
				}()
				r := Region{FD: int(f.Fd()), Len: size}
				b.SetBytes(size)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := p.send(tx, r); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				tx.Close()
				<-done
			})
		}
	}
}

func sizeName(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dKiB", n>>10)
}
