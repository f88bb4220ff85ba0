package metadata

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"samsa/internal/uuid"
)

var (
	// ErrTopicExists: a topic of that name exists (TOPIC_ALREADY_EXISTS).
	ErrTopicExists = errors.New("metadata: topic already exists")
	// ErrUnknownTopic: no topic of that name or ID (UNKNOWN_TOPIC_OR_PARTITION).
	ErrUnknownTopic = errors.New("metadata: unknown topic")
)

// TopicID is a topic's 16-byte UUID (KIP-516).
type TopicID [16]byte

// NewTopicID returns a random version-4 UUID that is never all zeros
// (uuid.Random).
func NewTopicID() TopicID { return TopicID(uuid.Random()) }

func (id TopicID) String() string { return base64.RawURLEncoding.EncodeToString(id[:]) }

// MarshalText writes the ID as hex, for JSON.
func (id TopicID) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(id[:])), nil }

// UnmarshalText reads the hex form.
func (id *TopicID) UnmarshalText(b []byte) error {
	if hex.DecodedLen(len(b)) != 16 {
		return errors.New("metadata: topic id must be 32 hex digits")
	}
	_, err := hex.Decode(id[:], b)
	return err
}

// Topic is one topic's metadata.
type Topic struct {
	Name string  `json:"name"`
	ID   TopicID `json:"id"`
	// Replicas lists each partition's replica broker IDs; the first is the
	// preferred leader.
	Replicas [][]int32 `json:"replicas"`
	// Configs are the topic's overrides of the broker defaults.
	Configs  map[string]string `json:"configs,omitempty"`
	Internal bool              `json:"internal,omitempty"`
}

// Clone returns a deep copy.
func (t Topic) Clone() Topic {
	c := t
	c.Replicas = make([][]int32, len(t.Replicas))
	for i, r := range t.Replicas {
		c.Replicas[i] = append([]int32(nil), r...)
	}
	c.Configs = make(map[string]string, len(t.Configs))
	for k, v := range t.Configs {
		c.Configs[k] = v
	}
	return c
}

// Store is the broker's view of cluster metadata. Every method is safe for
// concurrent use; changes are durable when they return.
type Store interface {
	ClusterID() string
	// Topics returns copies of every topic, sorted by name.
	Topics() []Topic
	Topic(name string) (Topic, bool)
	CreateTopic(t Topic) error
	DeleteTopic(name string) error
	// AddPartitions appends partitions with the given replicas.
	AddPartitions(name string, replicas [][]int32) error
	// SetTopicConfigs replaces a topic's config overrides.
	SetTopicConfigs(name string, configs map[string]string) error
	// NextProducerIDBlock reserves size producer IDs that were never handed
	// out before, even across restarts, and returns the first.
	NextProducerIDBlock(size int64) (int64, error)
	// BrokerConfigs returns a broker's dynamic configs (KIP-226), none
	// (an empty map) when it has never had any; SetBrokerConfigs replaces
	// them. Kafka keeps them in /config/brokers/<id>.
	BrokerConfigs(id int32) (map[string]string, error)
	SetBrokerConfigs(id int32, configs map[string]string) error
	Close() error
}

// ParseTopicID reads the form String writes (base64, URL alphabet, no
// padding), as Kafka writes topic IDs in partition.metadata and ZooKeeper.
func ParseTopicID(s string) (TopicID, error) {
	var id TopicID
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return id, fmt.Errorf("metadata: bad topic id %q", s)
	}
	copy(id[:], b)
	return id, nil
}
