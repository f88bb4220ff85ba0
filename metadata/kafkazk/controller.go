package kafkazk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-zookeeper/zk"

	"samsa/metadata/kafkazk/zkdata"
)

// Election is the outcome of ElectController.
type Election struct {
	// Won: this client's session now holds /controller and Token fences its
	// writes.
	Won   bool
	Token ControllerEpoch
	// ControllerID is the controller's broker id: ours when Won, another's
	// when not, -1 when the other controller vanished while we looked.
	ControllerID int32
}

// InitialControllerEpoch is what /controller_epoch holds before the first
// election; the first controller has epoch 1.
const InitialControllerEpoch = 0

// ElectController tries to make brokerID the controller, as Kafka's
// registerControllerAndIncrementControllerEpoch: it reads /controller_epoch
// (creating it at 0), then in one multi creates the ephemeral /controller and
// sets /controller_epoch to epoch+1 on condition that it is still at the
// version read. If /controller exists, another broker is controller and
// Won is false.
//
// A lost reply is resolved by re-reading: the election was ours if
// /controller is owned by our session and /controller_epoch was last written
// in the same transaction that created /controller (its mzxid is
// /controller's czxid). The same test makes a second call by the sitting
// controller return its current token.
func (c *Client) ElectController(ctx context.Context, brokerID int32) (Election, error) {
	data := zkdata.EncodeController(zkdata.ControllerInfo{BrokerID: brokerID, Timestamp: time.Now().UnixMilli(), KRaftControllerEpoch: -1})
	for attempt := 0; ; attempt++ {
		if attempt == 20 {
			return Election{}, errors.New("kafkazk: controller election did not settle after 20 attempts")
		}
		epoch, st, err := c.readOrCreateControllerEpoch(ctx)
		if err != nil {
			return Election{}, err
		}
		var res []zk.MultiResponse
		err = c.retry(ctx, func(lost bool) error {
			if lost {
				return errLostReply
			}
			var err error
			res, err = c.conn.Multi(
				&zk.CreateRequest{Path: c.abs(zkdata.ControllerPath), Data: data, Acl: c.acl(zkdata.ControllerPath), Flags: zk.FlagEphemeral},
				&zk.SetDataRequest{Path: c.abs(zkdata.ControllerEpochPath), Data: zkdata.EncodeControllerEpoch(epoch + 1), Version: st.Version})
			return err
		})
		if err == nil {
			return Election{Won: true, ControllerID: brokerID, Token: ControllerEpoch{Epoch: epoch + 1, ZkVersion: res[1].Stat.Version}}, nil
		}
		if !errors.Is(err, errLostReply) && !errors.Is(err, zk.ErrNodeExists) && !errors.Is(err, zk.ErrBadVersion) && !errors.Is(err, zk.ErrNoNode) {
			return Election{}, fmt.Errorf("kafkazk: controller election: %w", err)
		}
		e, again, err := c.resolveElection(ctx, brokerID)
		if err != nil || !again {
			return e, err
		}
	}
}

// errLostReply stops a retry so that the caller resolves a lost reply itself.
var errLostReply = errors.New("kafkazk: reply lost")

func (c *Client) readOrCreateControllerEpoch(ctx context.Context) (int32, Stat, error) {
	for {
		data, st, err := c.get(ctx, zkdata.ControllerEpochPath)
		if errors.Is(err, ErrNotFound) {
			err = c.create(ctx, zkdata.ControllerEpochPath, zkdata.EncodeControllerEpoch(InitialControllerEpoch))
			if err == nil || errors.Is(err, ErrExists) {
				continue
			}
		}
		if err != nil {
			return 0, Stat{}, err
		}
		epoch, err := zkdata.DecodeControllerEpoch(data)
		if err != nil {
			return 0, Stat{}, corrupt(zkdata.ControllerEpochPath, data, err)
		}
		return epoch, st, nil
	}
}

// resolveElection looks at /controller after a failed or lost election
// multi. again means: nobody holds /controller now, elect again.
func (c *Client) resolveElection(ctx context.Context, brokerID int32) (e Election, again bool, err error) {
	data, cst, err := c.get(ctx, zkdata.ControllerPath)
	if errors.Is(err, ErrNotFound) {
		return Election{}, true, nil
	}
	if err != nil {
		return Election{}, false, err
	}
	info, derr := zkdata.DecodeController(data)
	if derr != nil {
		return Election{}, false, corrupt(zkdata.ControllerPath, data, derr)
	}
	owner := cst.EphemeralOwner
	switch {
	case owner != 0 && owner == c.conn.SessionID():
		edata, est, err := c.get(ctx, zkdata.ControllerEpochPath)
		if err != nil {
			return Election{}, false, err
		}
		epoch, derr := zkdata.DecodeControllerEpoch(edata)
		if derr != nil {
			return Election{}, false, corrupt(zkdata.ControllerEpochPath, edata, derr)
		}
		if est.Mzxid != cst.Czxid {
			// Something bumped the epoch after our election without taking
			// /controller (a KRaft migration does): we are fenced.
			return Election{ControllerID: info.BrokerID}, false, fmt.Errorf("%w: %s moved past our election", ErrControllerMoved, zkdata.ControllerEpochPath)
		}
		return Election{Won: true, ControllerID: info.BrokerID, Token: ControllerEpoch{Epoch: epoch, ZkVersion: est.Version}}, false, nil
	case owner != 0 && c.ownSession(owner):
		// Left by an earlier session of ours that ZooKeeper has not cleaned
		// up yet: remove it and elect again.
		c.log.Info("kafkazk: removing /controller of an expired session of ours", "session", fmt.Sprintf("0x%x", owner))
		err := c.retry(ctx, func(bool) error { return c.conn.Delete(c.abs(zkdata.ControllerPath), cst.Version) })
		if err != nil && !errors.Is(err, zk.ErrNoNode) && !errors.Is(err, zk.ErrBadVersion) {
			return Election{}, false, fmt.Errorf("kafkazk: delete %s: %w", zkdata.ControllerPath, err)
		}
		return Election{}, true, nil
	}
	return Election{ControllerID: info.BrokerID}, false, nil
}

// Controller reads /controller: who the controller is. ErrNotFound when
// there is none.
func (c *Client) Controller(ctx context.Context) (zkdata.ControllerInfo, error) {
	data, _, err := c.get(ctx, zkdata.ControllerPath)
	if err != nil {
		return zkdata.ControllerInfo{}, err
	}
	info, err := zkdata.DecodeController(data)
	if err != nil {
		return zkdata.ControllerInfo{}, corrupt(zkdata.ControllerPath, data, err)
	}
	return info, nil
}

// ReadControllerEpoch reads /controller_epoch: the latest controller epoch
// and its znode version. ErrNotFound before the first election.
func (c *Client) ReadControllerEpoch(ctx context.Context) (ControllerEpoch, error) {
	data, st, err := c.get(ctx, zkdata.ControllerEpochPath)
	if err != nil {
		return ControllerEpoch{}, err
	}
	epoch, err := zkdata.DecodeControllerEpoch(data)
	if err != nil {
		return ControllerEpoch{}, corrupt(zkdata.ControllerEpochPath, data, err)
	}
	return ControllerEpoch{Epoch: epoch, ZkVersion: st.Version}, nil
}

// Resign deletes /controller behind the epoch check, so that another broker
// can be elected (controlled shutdown). A deposed controller gets
// ErrControllerMoved and deletes nothing.
func (c *Client) Resign(ctx context.Context, token ControllerEpoch) error {
	_, err := c.fencedOne(ctx, token, op{kind: opDelete, path: zkdata.ControllerPath, version: -1})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
