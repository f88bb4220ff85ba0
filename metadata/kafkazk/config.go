package kafkazk

import (
	"context"
	"errors"
	"fmt"
	pathpkg "path"
	"slices"
	"strconv"

	"github.com/go-zookeeper/zk"

	"samsa/metadata/kafkazk/zkdata"
)

// ConfigChange is one change notification: the entity whose config changed.
type ConfigChange struct {
	Seq        int64  // the znode's sequence number
	EntityPath string // "<type>/<name>", e.g. "topics/orders"
	// Err is set (ErrCorrupt) for a notification that cannot be read; it
	// names no entity, and readers skip it as Kafka does.
	Err error
}

// SetTopicConfig replaces a topic's config overrides and tells the brokers,
// as Kafka's AdminZkClient.changeTopicConfig: it writes /config/topics/<t>,
// then creates a change notification /config/changes/config_change_<seq>
// naming "topics/<t>". A notification whose reply was lost may be created
// twice; brokers re-read the config either way. ErrNotFound if the topic does
// not exist.
func (c *Client) SetTopicConfig(ctx context.Context, topic string, config map[string]string) error {
	if err := validTopic(topic); err != nil {
		return err
	}
	if ok, err := c.exists(ctx, zkdata.TopicPath(topic)); err != nil {
		return err
	} else if !ok {
		return pathErr(zkdata.TopicPath(topic), ErrNotFound)
	}
	if err := c.setOrCreate(ctx, zkdata.TopicConfigPath(topic), zkdata.EncodeConfig(config)); err != nil {
		return err
	}
	_, err := c.notifyConfigChange(ctx, zkdata.ConfigTopics+"/"+topic)
	return err
}

// notifyConfigChange creates a persistent sequential change notification
// and returns its sequence number.
func (c *Client) notifyConfigChange(ctx context.Context, entityPath string) (int64, error) {
	var name string
	err := c.retry(ctx, func(bool) error {
		n, err := c.conn.Create(c.abs(zkdata.ConfigChangesPath+"/"+zkdata.ConfigChangePrefix), zkdata.EncodeConfigChange(entityPath), zk.FlagSequence, c.acl(zkdata.ConfigChangesPath+"/"+zkdata.ConfigChangePrefix))
		if errors.Is(err, zk.ErrNoNode) {
			if err := c.ensureAbs(ctx, c.abs(zkdata.ConfigChangesPath)); err != nil {
				return err
			}
			n, err = c.conn.Create(c.abs(zkdata.ConfigChangesPath+"/"+zkdata.ConfigChangePrefix), zkdata.EncodeConfigChange(entityPath), zk.FlagSequence, c.acl(zkdata.ConfigChangesPath+"/"+zkdata.ConfigChangePrefix))
		}
		name = n
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("kafkazk: config change notification for %s: %w", entityPath, err)
	}
	seq, ok := zkdata.ParseSeq(pathpkg.Base(name), zkdata.ConfigChangePrefix)
	if !ok {
		return 0, fmt.Errorf("kafkazk: ZooKeeper named the notification %q", name)
	}
	return seq, nil
}

// TopicConfig reads a topic's config overrides; none (an empty map) when
// /config/topics/<t> does not exist.
func (c *Client) TopicConfig(ctx context.Context, topic string) (map[string]string, error) {
	if err := validTopic(topic); err != nil {
		return nil, err
	}
	return c.readConfig(ctx, zkdata.TopicConfigPath(topic))
}

// ConfigChangesSince returns the change notifications with a sequence
// number above seq (-1 for all), oldest first. Notifications deleted while
// they are read are left out. One that cannot be read is in the list with
// its Err set, and the error (ErrCorrupt, naming each) comes with the list:
// a garbage notification must not hide the ones after it.
func (c *Client) ConfigChangesSince(ctx context.Context, seq int64) ([]ConfigChange, error) {
	kids, err := c.children(ctx, zkdata.ConfigChangesPath)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []ConfigChange
	var bad []error
	for _, k := range kids {
		n, ok := zkdata.ParseSeq(k, zkdata.ConfigChangePrefix)
		if !ok || n <= seq {
			continue // not a notification, or an old one
		}
		path := zkdata.ConfigChangesPath + "/" + k
		data, _, err := c.get(ctx, path)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		entity, err := zkdata.DecodeConfigChange(data)
		if err != nil {
			err = corrupt(path, data, err)
			bad = append(bad, err)
			out = append(out, ConfigChange{Seq: n, Err: err})
			continue
		}
		out = append(out, ConfigChange{Seq: n, EntityPath: entity})
	}
	slices.SortFunc(out, func(a, b ConfigChange) int {
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
	return out, errors.Join(bad...)
}

// SetBrokerConfig replaces a broker's dynamic configs, as Kafka's
// AdminZkClient.changeBrokerConfig: it writes /config/brokers/<id>, then a
// change notification naming "brokers/<id>".
func (c *Client) SetBrokerConfig(ctx context.Context, id int32, config map[string]string) error {
	if err := c.setOrCreate(ctx, zkdata.BrokerConfigPath(id), zkdata.EncodeConfig(config)); err != nil {
		return err
	}
	_, err := c.notifyConfigChange(ctx, zkdata.ConfigBrokers+"/"+strconv.Itoa(int(id)))
	return err
}

// BrokerConfig reads a broker's dynamic configs; none (an empty map) when
// /config/brokers/<id> does not exist.
func (c *Client) BrokerConfig(ctx context.Context, id int32) (map[string]string, error) {
	return c.readConfig(ctx, zkdata.BrokerConfigPath(id))
}

// readConfig reads the config znode at path; none (an empty map) when it
// does not exist.
func (c *Client) readConfig(ctx context.Context, path string) (map[string]string, error) {
	data, _, err := c.get(ctx, path)
	if errors.Is(err, ErrNotFound) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	cfg, err := zkdata.DecodeConfig(data)
	if err != nil {
		return nil, corrupt(path, data, err)
	}
	return cfg, nil
}
