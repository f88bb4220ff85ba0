package netpoll

import (
	"math/bits"
	"sync"
)

// Frame buffers come from one pool per power-of-two size class, so a
// connection takes memory only while a frame is in hand and frames of
// similar size reuse each other's buffers.
const (
	minClass = 9  // 512 B: a typical small request (metadata, heartbeat, commit)
	maxClass = 27 // 128 MiB: above Kafka's default socket.request.max.bytes
	// growFrom is the largest buffer taken on the word of a size prefix
	// alone; bigger frames double their buffer as their bytes arrive.
	growFrom = 1 << 20
	// readAhead is the smallest read buffer: room for a few dozen small
	// pipelined requests per read.
	readAhead = 4 << 10
)

var pools [maxClass + 1]sync.Pool

// getBuf returns a buffer of at least n bytes; len(*b) == cap(*b).
func getBuf(n int) *[]byte {
	c := max(bits.Len(uint(n-1)), minClass)
	if n <= 0 {
		c = minClass
	}
	if c > maxClass {
		b := make([]byte, n)
		return &b
	}
	if v := pools[c].Get(); v != nil {
		return v.(*[]byte)
	}
	b := make([]byte, 1<<c)
	return &b
}

// putBuf returns a buffer from getBuf to its pool.
func putBuf(b *[]byte) {
	n := cap(*b)
	c := bits.Len(uint(n - 1))
	if n != 1<<c || c < minClass || c > maxClass {
		return
	}
	*b = (*b)[:n]
	pools[c].Put(b)
}
