package replica

// ISR proposals to the controller (Kafka's AlterPartitionManager). Every
// leader's proposals wait in one queue; one AlterPartition at a time
// carries all of them, and the next takes what queued meanwhile. After a
// broker restarts, its followers catch up on thousands of partitions
// within a second or two: that costs the controller a handful of requests,
// each one ZooKeeper multi and one UpdateMetadata per broker, instead of
// one of each per partition.

import (
	"context"
	"sync"
	"time"
)

// isrSender batches ISR proposals; run is its goroutine.
type isrSender struct {
	send func(ctx context.Context, reqs []AlterISR) ([]AlterISRResult, error)

	mu      sync.Mutex
	pending []isrItem
	wake    chan struct{}
}

// isrItem is one proposal and what to do with the controller's answer.
type isrItem struct {
	req  AlterISR
	done func(AlterISRResult, error)
}

func newISRSender(send func(context.Context, []AlterISR) ([]AlterISRResult, error)) *isrSender {
	return &isrSender{send: send, wake: make(chan struct{}, 1)}
}

// submit queues a proposal; done runs on the sender's goroutine once the
// controller answered it (or the request failed). A proposal queued when
// the manager closes is never answered.
func (s *isrSender) submit(req AlterISR, done func(AlterISRResult, error)) {
	s.mu.Lock()
	s.pending = append(s.pending, isrItem{req, done})
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run sends until stop closes.
func (s *isrSender) run(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-s.wake:
		}
		for {
			s.mu.Lock()
			items := s.pending
			s.pending = nil
			s.mu.Unlock()
			if len(items) == 0 {
				break
			}
			reqs := make([]AlterISR, len(items))
			for i, it := range items {
				reqs[i] = it.req
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			go func() {
				select {
				case <-stop:
					cancel()
				case <-ctx.Done():
				}
			}()
			res, err := s.send(ctx, reqs)
			cancel()
			for i, it := range items {
				switch {
				case err != nil:
					it.done(AlterISRResult{}, err)
				case i < len(res):
					it.done(res[i], res[i].Err)
				default:
					it.done(AlterISRResult{}, errNoAnswer)
				}
			}
		}
	}
}
