package controller

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/metadata/kafkazk"
	"samsa/metadata/kafkazk/zkdata"
)

// Store is what the controller reads and writes of the cluster's metadata:
// Kafka's znodes through package kafkazk, whose *Client is the production
// store. Its semantics are kafkazk's and the controller depends on them:
//
//  1. ElectController creates /controller for one candidate at a time and
//     bumps /controller_epoch; the token it returns fences every write that
//     takes one (ErrControllerMoved once another controller was elected).
//  2. UpdatePartitionStates writes each state only if its znode is still at
//     the state's PartitionEpoch (ErrBadVersion otherwise), and returns the
//     written state with its new PartitionEpoch.
//  3. A broker's Epoch grows with every registration of its id.
//  4. Watches deliver the current state at once, then the latest state after
//     each change (not every state in between), on their own goroutine;
//     Stop waits for a delivery in progress.
//  5. OnNewSession hooks run after the ephemeral znodes of an expired session
//     (/controller, registrations) are gone.
type Store interface {
	Controller(ctx context.Context) (zkdata.ControllerInfo, error)
	ElectController(ctx context.Context, brokerID int32) (kafkazk.Election, error)
	Resign(ctx context.Context, token kafkazk.ControllerEpoch) error

	Brokers(ctx context.Context) ([]kafkazk.RegisteredBroker, error)

	Topics(ctx context.Context) ([]string, error)
	TopicAssignment(ctx context.Context, topic string) (zkdata.TopicAssignment, error)
	SetTopicAssignment(ctx context.Context, token kafkazk.ControllerEpoch, a zkdata.TopicAssignment) error
	TopicConfig(ctx context.Context, topic string) (map[string]string, error)

	PartitionStates(ctx context.Context, tps []zkdata.TopicPartition) (map[zkdata.TopicPartition]zkdata.LeaderAndISR, error)
	CreatePartitionStates(ctx context.Context, token kafkazk.ControllerEpoch, states map[zkdata.TopicPartition]zkdata.LeaderAndISR) (map[zkdata.TopicPartition]kafkazk.PartitionResult, error)
	UpdatePartitionStates(ctx context.Context, token kafkazk.ControllerEpoch, states map[zkdata.TopicPartition]zkdata.LeaderAndISR) (map[zkdata.TopicPartition]kafkazk.PartitionResult, error)

	TopicsMarkedForDeletion(ctx context.Context) ([]string, error)
	RemoveDeletionMarkers(ctx context.Context, token kafkazk.ControllerEpoch, topics ...string) error
	DeleteTopic(ctx context.Context, token kafkazk.ControllerEpoch, topic string) error

	PartitionReassignment(ctx context.Context) (map[zkdata.TopicPartition][]int32, error)
	SetPartitionReassignment(ctx context.Context, token kafkazk.ControllerEpoch, r map[zkdata.TopicPartition][]int32) error
	DeletePartitionReassignment(ctx context.Context, token kafkazk.ControllerEpoch) error

	WatchData(path string, fn func(data []byte, st *kafkazk.Stat)) *kafkazk.Watcher
	WatchChildren(path string, fn func(children []string)) *kafkazk.Watcher
	OnNewSession(fn func(sessionID int64)) (remove func())
}

var _ Store = (*kafkazk.Client)(nil)

// Conn is the controller's connection to one broker, as kclient.Conn: one
// request at a time, versions negotiated with the peer, no retries of its
// own (the channel retries). Close ends the connection; the channel does
// not use the Conn after.
type Conn interface {
	Request(ctx context.Context, req kmsg.Request) (kmsg.Response, error)
	Close() error
}
