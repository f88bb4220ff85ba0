package kafkazk

import (
	"bytes"
	"context"
	"errors"

	"github.com/go-zookeeper/zk"
)

// Plain znode access for the layouts other packages own (zkstore's /kafka-acl*), with the retries and
// lost-reply checks of invariant 7. Errors are ErrNotFound, ErrExists and ErrBadVersion.

// Get reads a znode.
func (c *Client) Get(ctx context.Context, path string) ([]byte, Stat, error) { return c.get(ctx, path) }

// Children lists a znode's children.
func (c *Client) Children(ctx context.Context, path string) ([]string, error) {
	return c.children(ctx, path)
}

// Create creates a persistent znode and its missing parents.
func (c *Client) Create(ctx context.Context, path string, data []byte) error {
	return c.create(ctx, path, data)
}

// CreateSequential creates a persistent sequential znode prefix<seq> and
// returns its name (under the parent). A lost reply may create it twice.
func (c *Client) CreateSequential(ctx context.Context, prefix string, data []byte) (string, error) {
	var name string
	err := c.retry(ctx, func(bool) (err error) {
		name, err = c.conn.Create(c.abs(prefix), data, zk.FlagSequence, c.acl(prefix))
		return err
	})
	if err != nil {
		return "", opErr(prefix, err)
	}
	return name[len(parent(name))+1:], nil
}

// SetIfVersion writes a znode if it is at version and returns its new
// stat. After a lost reply, a znode holding data one version on counts as
// written.
func (c *Client) SetIfVersion(ctx context.Context, path string, data []byte, version int32) (Stat, error) {
	var st Stat
	err := c.retry(ctx, func(lost bool) error {
		s, err := c.conn.Set(c.abs(path), data, version)
		if errors.Is(err, zk.ErrBadVersion) && lost {
			if d, s2, gerr := c.conn.Get(c.abs(path)); gerr == nil && s2.Version == version+1 && bytes.Equal(d, data) {
				s, err = s2, nil
			}
		}
		st = toStat(s)
		return err
	})
	if err != nil {
		return Stat{}, opErr(path, err)
	}
	return st, nil
}

// DeleteIfVersion deletes a znode if it is at version (-1: any).
// ErrNotFound if it is absent, also when a lost reply deleted it.
func (c *Client) DeleteIfVersion(ctx context.Context, path string, version int32) error {
	if err := c.retry(ctx, func(bool) error { return c.conn.Delete(c.abs(path), version) }); err != nil {
		return opErr(path, err)
	}
	return nil
}
