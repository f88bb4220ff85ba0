package kafkazk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/go-zookeeper/zk"

	"samsa/metadata/kafkazk/zkdata"
)

// ProducerIDBlockSize is Kafka's block size (ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE).
const ProducerIDBlockSize = 1000

// ErrProducerIDsExhausted: the next block would pass math.MaxInt64.
var ErrProducerIDsExhausted = errors.New("kafkazk: producer ids exhausted")

// NextProducerIDBlock allocates the next block of size producer IDs to
// brokerID, as Kafka's ZkProducerIdManager: it reads
// /latest_producer_id_block, writes the block after it on condition that the
// znode is still at the version read, and on a version conflict (another
// broker allocated meanwhile) reads again. The first block starts at 0. So
// blocks never overlap across the cluster.
//
// A write whose reply is lost counts as ours when the znode holds our bytes
// one version on. The bytes name the broker, so this is exact as long as one
// broker id allocates from one process at a time, which broker registration
// guarantees.
func (c *Client) NextProducerIDBlock(ctx context.Context, brokerID int32, size int32) (zkdata.ProducerIDBlock, error) {
	if size <= 0 {
		return zkdata.ProducerIDBlock{}, fmt.Errorf("kafkazk: producer id block size %d", size)
	}
	for {
		data, st, err := c.get(ctx, zkdata.ProducerIDBlockPath)
		if errors.Is(err, ErrNotFound) {
			if err := c.ensureAbs(ctx, c.abs(zkdata.ProducerIDBlockPath)); err != nil {
				return zkdata.ProducerIDBlock{}, err
			}
			continue
		}
		if err != nil {
			return zkdata.ProducerIDBlock{}, err
		}
		next := zkdata.ProducerIDBlock{BrokerID: brokerID}
		if len(data) > 0 {
			cur, err := zkdata.DecodeProducerIDBlock(data)
			if err != nil {
				return zkdata.ProducerIDBlock{}, corrupt(zkdata.ProducerIDBlockPath, data, err)
			}
			if cur.LastID > math.MaxInt64-int64(size) {
				return zkdata.ProducerIDBlock{}, fmt.Errorf("%w: the last block ends at %d", ErrProducerIDsExhausted, cur.LastID)
			}
			next.FirstID = cur.LastID + 1
		}
		next.LastID = next.FirstID + int64(size) - 1
		newData := zkdata.EncodeProducerIDBlock(next)
		err = c.retry(ctx, func(lost bool) error {
			if lost {
				d, s, err := c.conn.Get(c.abs(zkdata.ProducerIDBlockPath))
				if err != nil {
					return err
				}
				if s.Version == st.Version+1 && bytes.Equal(d, newData) {
					return nil
				}
			}
			_, err := c.conn.Set(c.abs(zkdata.ProducerIDBlockPath), newData, st.Version)
			return err
		})
		if err == nil {
			return next, nil
		}
		if !errors.Is(err, zk.ErrBadVersion) {
			return zkdata.ProducerIDBlock{}, fmt.Errorf("kafkazk: allocate producer ids: %w", err)
		}
	}
}
