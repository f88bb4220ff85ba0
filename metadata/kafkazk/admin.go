package kafkazk

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"samsa/metadata/kafkazk/zkdata"
)

// MarkTopicForDeletion creates /admin/delete_topics/<t>, which the
// controller watches (DeleteTopics, kafka-topics --delete). ErrNotFound if
// the topic does not exist, ErrExists if it is marked already.
func (c *Client) MarkTopicForDeletion(ctx context.Context, topic string) error {
	if err := validTopic(topic); err != nil {
		return err
	}
	if ok, err := c.exists(ctx, zkdata.TopicPath(topic)); err != nil {
		return err
	} else if !ok {
		return pathErr(zkdata.TopicPath(topic), ErrNotFound)
	}
	return c.create(ctx, zkdata.DeleteTopicPath(topic), nil)
}

// TopicsMarkedForDeletion lists /admin/delete_topics, sorted.
func (c *Client) TopicsMarkedForDeletion(ctx context.Context) ([]string, error) {
	kids, err := c.children(ctx, zkdata.DeleteTopicsPath)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	sort.Strings(kids)
	return kids, err
}

// RemoveDeletionMarkers deletes /admin/delete_topics/<t> for the topics,
// behind the controller epoch check (the controller drops markers of topics
// that do not exist). Missing markers are fine.
func (c *Client) RemoveDeletionMarkers(ctx context.Context, token ControllerEpoch, topics ...string) error {
	ops := make([]op, 0, len(topics))
	for _, t := range topics {
		if err := validTopic(t); err != nil {
			return err
		}
		ops = append(ops, op{kind: opDelete, path: zkdata.DeleteTopicPath(t), version: -1})
	}
	return firstErr(c.fenced(ctx, token, ops))
}

// DeleteTopic removes a deleted topic's znodes behind the controller epoch
// check, as the controller does once every replica is gone:
// /brokers/topics/<t> with everything under it, /config/topics/<t> and the
// deletion marker. Deletes run children first, in as few multis as fit;
// missing znodes are fine, so a DeleteTopic cut short can be run again.
func (c *Client) DeleteTopic(ctx context.Context, token ControllerEpoch, topic string) error {
	if err := validTopic(topic); err != nil {
		return err
	}
	var ops []op
	if err := c.collectDeletes(ctx, zkdata.TopicPath(topic), &ops); err != nil {
		return err
	}
	ops = append(ops,
		op{kind: opDelete, path: zkdata.TopicConfigPath(topic), version: -1},
		op{kind: opDelete, path: zkdata.DeleteTopicPath(topic), version: -1})
	return firstErr(c.fenced(ctx, token, ops))
}

// collectDeletes appends deletes of path's subtree, children first.
func (c *Client) collectDeletes(ctx context.Context, path string, ops *[]op) error {
	kids, err := c.children(ctx, path)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	sort.Strings(kids)
	for _, k := range kids {
		if err := c.collectDeletes(ctx, path+"/"+k, ops); err != nil {
			return err
		}
	}
	*ops = append(*ops, op{kind: opDelete, path: path, version: -1})
	return nil
}

// firstErr folds fenced results: ErrNotFound of a delete is success.
func firstErr(res []opResult, err error) error {
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.err != nil && !errors.Is(r.err, ErrNotFound) {
			return r.err
		}
	}
	return nil
}

// PartitionReassignment reads /admin/reassign_partitions (the pre-KIP-455
// way to ask for a reassignment): target replicas by partition. None (an
// empty map) when the znode does not exist.
func (c *Client) PartitionReassignment(ctx context.Context) (map[zkdata.TopicPartition][]int32, error) {
	data, _, err := c.get(ctx, zkdata.ReassignPartitionsPath)
	if errors.Is(err, ErrNotFound) {
		return map[zkdata.TopicPartition][]int32{}, nil
	}
	if err != nil {
		return nil, err
	}
	r, err := zkdata.DecodeReassignment(data)
	if err != nil {
		return nil, corrupt(zkdata.ReassignPartitionsPath, data, err)
	}
	return r, nil
}

// CreatePartitionReassignment creates /admin/reassign_partitions, as
// kafka-reassign-partitions does through ZooKeeper. ErrExists while a
// reassignment is in progress.
func (c *Client) CreatePartitionReassignment(ctx context.Context, r map[zkdata.TopicPartition][]int32) error {
	return c.create(ctx, zkdata.ReassignPartitionsPath, zkdata.EncodeReassignment(r))
}

// SetPartitionReassignment rewrites (or creates) /admin/reassign_partitions
// behind the controller epoch check: the controller's write as partitions
// finish moving.
func (c *Client) SetPartitionReassignment(ctx context.Context, token ControllerEpoch, r map[zkdata.TopicPartition][]int32) error {
	data := zkdata.EncodeReassignment(r)
	_, err := c.fencedOne(ctx, token, op{kind: opSet, path: zkdata.ReassignPartitionsPath, data: data, version: -1})
	if errors.Is(err, ErrNotFound) {
		_, err = c.fencedOne(ctx, token, op{kind: opCreate, path: zkdata.ReassignPartitionsPath, data: data})
	}
	if err != nil {
		return fmt.Errorf("kafkazk: write %s: %w", zkdata.ReassignPartitionsPath, err)
	}
	return nil
}

// DeletePartitionReassignment deletes /admin/reassign_partitions behind the
// controller epoch check, when every partition has moved. Missing is fine.
func (c *Client) DeletePartitionReassignment(ctx context.Context, token ControllerEpoch) error {
	_, err := c.fencedOne(ctx, token, op{kind: opDelete, path: zkdata.ReassignPartitionsPath, version: -1})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
