package kafkazk

import (
	"errors"
	"fmt"
)

// Sentinels; test with errors.Is. Errors carry the znode path.
var (
	// ErrCorrupt: a znode holds bytes that are not what its path must hold.
	ErrCorrupt = errors.New("kafkazk: corrupt znode")
	// ErrNotFound: the znode does not exist.
	ErrNotFound = errors.New("kafkazk: znode not found")
	// ErrExists: the znode exists already.
	ErrExists = errors.New("kafkazk: znode exists")
	// ErrBadVersion: a conditional write found another znode version (the
	// partition epoch moved): re-read and decide again.
	ErrBadVersion = errors.New("kafkazk: znode version changed")
	// ErrControllerMoved: the /controller_epoch check of a controller write
	// failed: another controller was elected since the token was issued. The
	// caller must resign.
	ErrControllerMoved = errors.New("kafkazk: controller moved")
	// ErrBrokerIDInUse: /brokers/ids/<id> is held by a session that is not
	// this client's.
	ErrBrokerIDInUse = errors.New("kafkazk: broker id registered by another broker")
	// ErrNotConnected: no ZooKeeper session could be had before the deadline.
	ErrNotConnected = errors.New("kafkazk: not connected to ZooKeeper")
	// ErrClosed: the client was closed.
	ErrClosed = errors.New("kafkazk: client closed")
)

// CorruptError says which znode held what. It matches ErrCorrupt.
type CorruptError struct {
	Path string
	Data []byte // the first bytes of the znode
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("kafkazk: corrupt znode %s: %v (data %q)", e.Path, e.Err, e.Data)
}

func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }
func (e *CorruptError) Unwrap() error        { return e.Err }

func corrupt(path string, data []byte, err error) error {
	if len(data) > 256 {
		data = data[:256]
	}
	return &CorruptError{Path: path, Data: append([]byte(nil), data...), Err: err}
}

// pathErr wraps a sentinel or ZooKeeper error with the path it concerns.
func pathErr(path string, err error) error {
	return fmt.Errorf("%w (znode %s)", err, path)
}
