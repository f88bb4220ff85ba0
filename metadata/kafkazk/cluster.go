package kafkazk

import (
	"context"
	"errors"

	"samsa/metadata/kafkazk/zkdata"
)

// ClusterID reads /cluster/id. ErrNotFound before the first broker started.
func (c *Client) ClusterID(ctx context.Context) (string, error) {
	data, _, err := c.get(ctx, zkdata.ClusterIDPath)
	if err != nil {
		return "", err
	}
	id, err := zkdata.DecodeClusterID(data)
	if err != nil {
		return "", corrupt(zkdata.ClusterIDPath, data, err)
	}
	return id, nil
}

// GetOrCreateClusterID returns the cluster ID, creating /cluster/id with a
// random one if there is none. Brokers racing to create it all return the
// one that was created first.
func (c *Client) GetOrCreateClusterID(ctx context.Context) (string, error) {
	for {
		id, err := c.ClusterID(ctx)
		if !errors.Is(err, ErrNotFound) {
			return id, err
		}
		id = zkdata.RandomUuid().String()
		err = c.create(ctx, zkdata.ClusterIDPath, zkdata.EncodeClusterID(id))
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, ErrExists) {
			return "", err
		}
	}
}
