// Command kfakesrv runs franz-go's kfake (an in-memory Kafka) as its own
// process on a loopback port, so that benchmarks can measure its CPU time
// from /proc the same way as the Samsa broker's.
//
// Invariants: it prints "ready ADDR" to stdout once it listens on
// 127.0.0.1 (-port, or a free port), serves one broker that creates
// topics on first use, and exits 0 when stdin closes; a cluster that
// cannot start is "kfakesrv: ERROR" on stderr and exit status 1.
//
// Locks: none of its own; kfake keeps its own.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 0, "listen port on 127.0.0.1")
	flag.Parse()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(*port), kfake.AllowAutoTopicCreation())
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfakesrv:", err)
		os.Exit(1)
	}
	fmt.Println("ready", c.ListenAddrs()[0])
	io.Copy(io.Discard, os.Stdin)
	c.Close()
}
