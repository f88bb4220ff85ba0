package kafkazk

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/go-zookeeper/zk"

	"samsa/metadata/kafkazk/zkdata"
)

// ControllerEpoch is the fencing token of an elected controller: the epoch it
// was elected with and the version of /controller_epoch that its election
// wrote. Every controller write is a ZooKeeper multi whose first op checks
// /controller_epoch at ZkVersion, so the write fails (ErrControllerMoved)
// once another controller has been elected, however long this one has been
// paused.
type ControllerEpoch struct {
	Epoch     int32 // the controller epoch: in partition states and controller requests
	ZkVersion int32 // the /controller_epoch znode version
}

// Limits of one multi: ZooKeeper refuses requests over jute.maxbuffer (1 MiB
// by default).
const (
	maxMultiOps   = 500
	maxMultiBytes = 512 << 10
)

// op is one write of a fenced batch. path is relative to the chroot.
type op struct {
	kind    opKind
	path    string
	data    []byte
	version int32 // expected version for set and delete; -1 for any
}

type opKind int

const (
	opCreate opKind = iota
	opSet
	opDelete
)

// opResult is one op's outcome: err is nil, or wraps ErrExists, ErrNotFound,
// ErrBadVersion or another ZooKeeper error. stat is the new stat of a set.
type opResult struct {
	stat Stat
	err  error
}

func (c *Client) zkOp(o op) any {
	switch o.kind {
	case opCreate:
		return &zk.CreateRequest{Path: c.abs(o.path), Data: o.data, Acl: c.acl(o.path)}
	case opSet:
		return &zk.SetDataRequest{Path: c.abs(o.path), Data: o.data, Version: o.version}
	default:
		return &zk.DeleteRequest{Path: c.abs(o.path), Version: o.version}
	}
}

// fenced applies ops behind the controller-epoch check, in multis of at most
// maxMultiOps ops; each multi is atomic, the batch as a whole is not. An op
// that fails (exists, missing, bad version) is reported in its result and the
// rest of its multi is tried again without it. The returned error is
// ErrControllerMoved when the check fails; then ops not yet applied have no
// result (err ErrControllerMoved too).
func (c *Client) fenced(ctx context.Context, token ControllerEpoch, ops []op) ([]opResult, error) {
	results := make([]opResult, len(ops))
	if token.Epoch <= 0 || token.ZkVersion < 0 {
		return nil, fmt.Errorf("%w: %+v is not the token of an elected controller", ErrControllerMoved, token)
	}
	pending := make([]int, len(ops))
	for i := range pending {
		pending[i] = i
	}
	for len(pending) > 0 {
		n, size := 0, 0
		for n < len(pending) && n < maxMultiOps {
			size += len(ops[pending[n]].path) + len(ops[pending[n]].data) + 32
			if n > 0 && size > maxMultiBytes {
				break
			}
			n++
		}
		chunk := pending[:n]
		reqs := make([]any, 0, n+1)
		reqs = append(reqs, &zk.CheckVersionRequest{Path: c.abs(zkdata.ControllerEpochPath), Version: token.ZkVersion})
		for _, i := range chunk {
			reqs = append(reqs, c.zkOp(ops[i]))
		}

		var res []zk.MultiResponse
		var applied bool
		err := c.retry(ctx, func(lost bool) error {
			if lost {
				ok, err := c.applied(ops, chunk)
				if err != nil || ok {
					applied = ok
					return err
				}
			}
			var err error
			res, err = c.conn.Multi(reqs...)
			return err
		})
		switch {
		case applied:
			// A lost reply; the multi went through. Read back the new stats.
			for _, i := range chunk {
				if ops[i].kind == opSet {
					_, st, err := c.get(ctx, ops[i].path)
					if err != nil {
						return results, err
					}
					results[i].stat = st
				}
			}
			pending = pending[n:]
		case err == nil:
			for k, i := range chunk {
				results[i].stat = toStat(res[k+1].Stat)
			}
			pending = pending[n:]
		case len(res) == len(reqs):
			if cerr := res[0].Error; cerr != nil {
				if errors.Is(cerr, zk.ErrBadVersion) || errors.Is(cerr, zk.ErrNoNode) {
					for _, i := range pending {
						results[i].err = ErrControllerMoved
					}
					return results, fmt.Errorf("%w: /controller_epoch is no longer at version %d (epoch %d)", ErrControllerMoved, token.ZkVersion, token.Epoch)
				}
				return results, fmt.Errorf("kafkazk: check %s: %w", zkdata.ControllerEpochPath, cerr)
			}
			failed := -1
			for k := range chunk {
				if e := res[k+1].Error; e != nil && !isRuntimeInconsistency(e) {
					failed = k
					break
				}
			}
			if failed < 0 {
				return results, fmt.Errorf("kafkazk: multi failed: %w", err)
			}
			i := chunk[failed]
			results[i].err = opErr(ops[i].path, res[failed+1].Error)
			pending = append(append([]int(nil), pending[:failed]...), pending[failed+1:]...)
		default:
			return results, fmt.Errorf("kafkazk: controller write: %w", err)
		}
	}
	return results, nil
}

// isRuntimeInconsistency: ZooKeeper fails the ops after the failing one of a
// multi with RUNTIMEINCONSISTENCY (-2), which go-zookeeper does not name.
func isRuntimeInconsistency(err error) bool {
	return err != nil && err.Error() == "unknown error: -2"
}

func opErr(path string, err error) error {
	switch {
	case errors.Is(err, zk.ErrNodeExists):
		return pathErr(path, ErrExists)
	case errors.Is(err, zk.ErrNoNode):
		return pathErr(path, ErrNotFound)
	case errors.Is(err, zk.ErrBadVersion):
		return pathErr(path, ErrBadVersion)
	}
	return fmt.Errorf("kafkazk: %s: %w", path, err)
}

// applied tells, after a lost reply, whether the multi of ops[chunk] was
// applied. A multi is atomic, so its first create or set decides: a set
// applied if the znode holds our bytes one version past the one we expected;
// a create if the znode holds our bytes. A multi of deletes only counts as
// applied when every znode is gone.
func (c *Client) applied(ops []op, chunk []int) (bool, error) {
	for _, i := range chunk {
		o := ops[i]
		switch o.kind {
		case opSet:
			d, s, err := c.conn.Get(c.abs(o.path))
			if errors.Is(err, zk.ErrNoNode) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			return bytes.Equal(d, o.data) && (o.version < 0 || s.Version == o.version+1), nil
		case opCreate:
			d, _, err := c.conn.Get(c.abs(o.path))
			if errors.Is(err, zk.ErrNoNode) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			return bytes.Equal(d, o.data), nil
		}
	}
	for _, i := range chunk {
		ok, _, err := c.conn.Exists(c.abs(ops[i].path))
		if err != nil {
			return false, err
		}
		if ok {
			return false, nil
		}
	}
	return true, nil
}

// fencedOne is fenced for a single op: its error, or ErrControllerMoved.
func (c *Client) fencedOne(ctx context.Context, token ControllerEpoch, o op) (Stat, error) {
	res, err := c.fenced(ctx, token, []op{o})
	if err != nil {
		return Stat{}, err
	}
	return res[0].stat, res[0].err
}
