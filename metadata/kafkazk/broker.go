package kafkazk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/go-zookeeper/zk"

	"samsa/metadata/kafkazk/zkdata"
)

// RegisteredBroker is a live broker: its registration and its epoch.
type RegisteredBroker struct {
	zkdata.BrokerInfo
	// Epoch is the czxid of the broker's /brokers/ids/<id> znode: it grows
	// with every registration, so requests from an earlier incarnation of
	// the broker can be told apart and refused.
	Epoch int64
}

// RegisterBroker creates the broker's ephemeral /brokers/ids/<id> and
// returns its broker epoch (the znode's czxid). The znode is created and
// then written in one multi, so that the multi's result carries the stat.
//
// If the znode exists and is owned by this client's current session it is
// kept (and rewritten if info changed); if an earlier session of this client
// owns it (an expired session ZooKeeper has not cleaned up yet), it is
// deleted and created anew. Any other owner is another broker with the same
// id: ErrBrokerIDInUse. A zero info.Timestamp is set to now.
func (c *Client) RegisterBroker(ctx context.Context, info zkdata.BrokerInfo) (epoch int64, err error) {
	if info.ID < 0 {
		return 0, fmt.Errorf("kafkazk: invalid broker id %d", info.ID)
	}
	for _, e := range info.Endpoints {
		if err := zkdata.CheckEndpoint(e); err != nil {
			return 0, fmt.Errorf("kafkazk: broker %d: %v", info.ID, err)
		}
	}
	if info.Timestamp == 0 {
		info.Timestamp = time.Now().UnixMilli()
	}
	path := zkdata.BrokerPath(info.ID)
	data := zkdata.EncodeBroker(info)
	for attempt := 0; attempt < 20; attempt++ {
		var res []zk.MultiResponse
		err := c.retry(ctx, func(lost bool) error {
			if lost {
				return errLostReply
			}
			var err error
			res, err = c.conn.Multi(
				&zk.CreateRequest{Path: c.abs(path), Acl: c.acl(path), Flags: zk.FlagEphemeral},
				&zk.SetDataRequest{Path: c.abs(path), Data: data, Version: 0})
			return err
		})
		switch {
		case err == nil:
			epoch := res[1].Stat.Czxid
			c.log.Info("kafkazk: registered broker", "id", info.ID, "epoch", epoch)
			return epoch, nil
		case errors.Is(err, zk.ErrNoNode):
			if err := c.ensureAbs(ctx, c.abs(zkdata.BrokerIDsPath)); err != nil {
				return 0, err
			}
			continue
		case !errors.Is(err, zk.ErrNodeExists) && !errors.Is(err, errLostReply):
			return 0, fmt.Errorf("kafkazk: register broker %d: %w", info.ID, err)
		}
		// The znode exists (or our lost create may have made it): whose is it?
		cur, st, err := c.get(ctx, path)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		owner := st.EphemeralOwner
		switch {
		case owner != 0 && owner == c.conn.SessionID():
			if !bytes.Equal(cur, data) {
				err := c.retry(ctx, func(bool) error {
					_, err := c.conn.Set(c.abs(path), data, -1)
					return err
				})
				if err != nil {
					return 0, fmt.Errorf("kafkazk: update broker %d: %w", info.ID, err)
				}
			}
			return st.Czxid, nil
		case owner != 0 && c.ownSession(owner):
			c.log.Info("kafkazk: replacing the registration of an expired session of ours", "id", info.ID, "session", fmt.Sprintf("0x%x", owner))
			err := c.retry(ctx, func(bool) error { return c.conn.Delete(c.abs(path), st.Version) })
			if err != nil && !errors.Is(err, zk.ErrNoNode) && !errors.Is(err, zk.ErrBadVersion) {
				return 0, fmt.Errorf("kafkazk: delete %s: %w", path, err)
			}
		default:
			return 0, fmt.Errorf("%w: %s is held by session 0x%x", ErrBrokerIDInUse, path, owner)
		}
	}
	return 0, fmt.Errorf("kafkazk: register broker %d: did not settle after 20 attempts", info.ID)
}

// Brokers returns the registered brokers, by id. A registration that
// cannot be read (not a broker id, not a registration) is left out, and
// the error (ErrCorrupt, naming each) comes with the list of the others.
func (c *Client) Brokers(ctx context.Context) ([]RegisteredBroker, error) {
	kids, err := c.children(ctx, zkdata.BrokerIDsPath)
	if err != nil {
		return nil, err
	}
	ids := make([]int32, 0, len(kids))
	var bad []error
	for _, k := range kids {
		id, err := strconv.ParseInt(k, 10, 32)
		if err != nil || id < 0 {
			bad = append(bad, corrupt(zkdata.BrokerIDsPath+"/"+k, nil, errors.New("child of /brokers/ids is not a broker id")))
			continue
		}
		ids = append(ids, int32(id))
	}
	slices.Sort(ids)
	out := make([]RegisteredBroker, 0, len(ids))
	for _, id := range ids {
		b, err := c.Broker(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // went away since the listing
		}
		if errors.Is(err, ErrCorrupt) {
			bad = append(bad, err)
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, errors.Join(bad...)
}

// Broker reads one broker's registration. ErrNotFound if it is not live.
func (c *Client) Broker(ctx context.Context, id int32) (RegisteredBroker, error) {
	path := zkdata.BrokerPath(id)
	data, st, err := c.get(ctx, path)
	if err != nil {
		return RegisteredBroker{}, err
	}
	info, err := zkdata.DecodeBroker(id, data)
	if err != nil {
		return RegisteredBroker{}, corrupt(path, data, err)
	}
	return RegisteredBroker{BrokerInfo: info, Epoch: st.Czxid}, nil
}

// GenerateBrokerID returns a new broker id for broker.id.generation.enable:
// the version /brokers/seqid reaches by an unconditional write (1, 2, ...)
// plus reserved.broker.max.id, as Kafka does. A write whose reply is lost is
// simply written again: that skips an id, which is harmless.
func (c *Client) GenerateBrokerID(ctx context.Context, reservedMax int32) (int32, error) {
	var version int32
	err := c.retry(ctx, func(bool) error {
		st, err := c.conn.Set(c.abs(zkdata.BrokerSeqIDPath), nil, -1)
		if errors.Is(err, zk.ErrNoNode) {
			if err := c.ensureAbs(ctx, c.abs(zkdata.BrokerSeqIDPath)); err != nil {
				return err
			}
			st, err = c.conn.Set(c.abs(zkdata.BrokerSeqIDPath), nil, -1)
		}
		if err == nil {
			version = st.Version
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("kafkazk: generate broker id: %w", err)
	}
	return version + reservedMax, nil
}
