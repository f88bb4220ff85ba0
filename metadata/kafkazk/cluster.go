package kafkazk

import (
	"context"
	"errors"
)

// ClusterID reads /cluster/id. ErrNotFound before the first broker started.
func (c *Client) ClusterID(ctx context.Context) (string, error) {
	data, _, err := c.get(ctx, ClusterIDPath)
	if err != nil {
		return "", err
	}
	id, err := decodeClusterID(data)
	if err != nil {
		return "", corrupt(ClusterIDPath, data, err)
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
		id = RandomUuid().String()
		err = c.create(ctx, ClusterIDPath, encodeClusterID(id))
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, ErrExists) {
			return "", err
		}
	}
}
