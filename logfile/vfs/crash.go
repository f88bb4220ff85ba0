package vfs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// ErrCrashed is what every operation through a Crashable returns after
// Crash: the machine is off.
var ErrCrashed = fmt.Errorf("vfs: crashed: %w", syscall.EIO)

// Crashable wraps an FS and keeps, beside the files under one root
// directory, what a power cut would leave of them (a simulated power cut,
// like pebble's vfs.NewCrashableMem). The model is strict POSIX:
//
//   - a file's contents are durable as of its last File.Sync;
//   - a directory's entries (creates, renames, removes in it) are durable
//     as of its last SyncDir; a file whose entry was never made durable is
//     gone after the crash, however often the file itself was synced.
//
// Crash writes the surviving image into another directory, to be opened
// with the plain FS as a restarted machine would, and fails every later
// operation with ErrCrashed. Everything under the root that exists when
// the Crashable first sees it (at NewCrashable, or files made there by
// other means) counts as durable.
//
// Writes through a memory mapping of a file (index entries) bypass the FS:
// their msync is invisible here, so a mapped file keeps only what it held
// at its last File.Sync, which is less than a real crash may keep (the
// broker must cope: indexes are rebuilt from the log).
type Crashable struct {
	fs   FS
	root string

	mu   sync.Mutex // guards top, dead and every node
	top  *cnode
	dead bool
}

// cnode is a file or directory under the root.
type cnode struct {
	dir bool
	// live holds a directory's entries now; durable, as of its last
	// SyncDir.
	live, durable map[string]*cnode
	// data is a file's contents as of its last Sync.
	data []byte
}

// NewCrashable returns a Crashable over fsys for the files under root, all
// of which count as durable now.
func NewCrashable(fsys FS, root string) (*Crashable, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	c := &Crashable{fs: fsys, root: root}
	if c.top, err = c.load(root); err != nil {
		return nil, err
	}
	return c, nil
}

// load reads what exists at path, recursively, as durable nodes.
func (c *Crashable) load(path string) (*cnode, error) {
	fi, err := c.fs.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		data, err := ReadFile(c.fs, path)
		if err != nil {
			return nil, err
		}
		return &cnode{data: data}, nil
	}
	n := &cnode{dir: true, live: map[string]*cnode{}, durable: map[string]*cnode{}}
	ents, err := c.fs.ReadDir(path)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		child, err := c.load(filepath.Join(path, e.Name()))
		if err != nil {
			return nil, err
		}
		n.live[e.Name()], n.durable[e.Name()] = child, child
	}
	return n, nil
}

// split returns the path's components below the root; ok is false for a
// path outside it, which passes through untracked.
func (c *Crashable) split(path string) (comps []string, ok bool) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, false
	}
	rel, err := filepath.Rel(c.root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, false
	}
	if rel == "." {
		return nil, true
	}
	return strings.Split(rel, string(filepath.Separator)), true
}

// lookup returns the live node at comps, or nil. A directory or file that
// exists on disk but was made by other means is loaded as durable.
func (c *Crashable) lookup(comps []string) *cnode {
	n := c.top
	for i, name := range comps {
		if n == nil || !n.dir {
			return nil
		}
		child := n.live[name]
		if child == nil {
			loaded, err := c.load(filepath.Join(append([]string{c.root}, comps[:i+1]...)...))
			if err != nil {
				return nil
			}
			n.live[name], n.durable[name] = loaded, loaded
			child = loaded
		}
		n = child
	}
	return n
}

// parentOf returns the live directory node holding comps' last entry.
func (c *Crashable) parentOf(comps []string) (*cnode, string) {
	if len(comps) == 0 {
		return nil, ""
	}
	p := c.lookup(comps[:len(comps)-1])
	if p == nil || !p.dir {
		return nil, ""
	}
	return p, comps[len(comps)-1]
}

func (c *Crashable) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return nil, pathErr("open", name, ErrCrashed)
	}
	comps, tracked := c.split(name)
	var n *cnode
	if tracked {
		n = c.lookup(comps)
	}
	if tracked && flag&(os.O_WRONLY|os.O_RDWR) == os.O_WRONLY {
		flag = flag&^os.O_WRONLY | os.O_RDWR // Sync reads back what it makes durable
	}
	f, err := c.fs.OpenFile(name, flag, perm)
	if err != nil || !tracked {
		return f, err
	}
	if n == nil {
		// Created just now: its entry is not durable until SyncDir.
		parent, base := c.parentOf(comps)
		if parent == nil {
			f.Close()
			return nil, pathErr("open", name, errors.New("vfs: parent directory not tracked"))
		}
		n = &cnode{}
		parent.live[base] = n
	}
	return &crashFile{File: f, c: c, n: n}, nil
}

func (c *Crashable) Remove(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return pathErr("remove", name, ErrCrashed)
	}
	comps, tracked := c.split(name)
	if tracked {
		c.lookup(comps)
	}
	if err := c.fs.Remove(name); err != nil {
		return err
	}
	if parent, base := c.parentOf(comps); tracked && parent != nil {
		delete(parent.live, base)
	}
	return nil
}

func (c *Crashable) RemoveAll(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return pathErr("removeall", name, ErrCrashed)
	}
	comps, tracked := c.split(name)
	if tracked {
		c.lookup(comps)
	}
	if err := c.fs.RemoveAll(name); err != nil {
		return err
	}
	if parent, base := c.parentOf(comps); tracked && parent != nil {
		delete(parent.live, base)
	}
	return nil
}

func (c *Crashable) Rename(oldname, newname string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: ErrCrashed}
	}
	oc, otracked := c.split(oldname)
	nc, ntracked := c.split(newname)
	if otracked != ntracked {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: errors.New("vfs: rename across the crashable root")}
	}
	var n *cnode
	if otracked {
		n = c.lookup(oc)
		c.lookup(nc)
	}
	if err := c.fs.Rename(oldname, newname); err != nil {
		return err
	}
	if !otracked {
		return nil
	}
	op, obase := c.parentOf(oc)
	np, nbase := c.parentOf(nc)
	if op == nil || np == nil || n == nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: errors.New("vfs: not tracked")}
	}
	delete(op.live, obase)
	np.live[nbase] = n
	return nil
}

func (c *Crashable) MkdirAll(name string, perm os.FileMode) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return pathErr("mkdir", name, ErrCrashed)
	}
	comps, tracked := c.split(name)
	if !tracked {
		return c.fs.MkdirAll(name, perm)
	}
	// Find the existing prefix first: what MkdirAll adds is new.
	have := 0
	for have < len(comps) && c.lookup(comps[:have+1]) != nil {
		have++
	}
	if err := c.fs.MkdirAll(name, perm); err != nil {
		return err
	}
	for i := have; i < len(comps); i++ {
		parent := c.lookup(comps[:i])
		parent.live[comps[i]] = &cnode{dir: true, live: map[string]*cnode{}, durable: map[string]*cnode{}}
	}
	return nil
}

func (c *Crashable) ReadDir(name string) ([]fs.DirEntry, error) {
	if c.isDead() {
		return nil, pathErr("readdir", name, ErrCrashed)
	}
	return c.fs.ReadDir(name)
}

func (c *Crashable) Stat(name string) (os.FileInfo, error) {
	if c.isDead() {
		return nil, pathErr("stat", name, ErrCrashed)
	}
	return c.fs.Stat(name)
}

// SyncDir makes the directory's entries durable as they are now.
func (c *Crashable) SyncDir(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return pathErr("syncdir", name, ErrCrashed)
	}
	comps, tracked := c.split(name)
	var n *cnode
	if tracked {
		n = c.lookup(comps)
	}
	if err := c.fs.SyncDir(name); err != nil {
		return err
	}
	if n != nil && n.dir {
		n.durable = make(map[string]*cnode, len(n.live))
		for k, v := range n.live {
			n.durable[k] = v
		}
	}
	return nil
}

func (c *Crashable) isDead() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dead
}

// Crash cuts the power: every later operation through c, and through the
// files it opened, fails with ErrCrashed. It then writes what survives
// into dst (a new directory): the durable entries of every directory from
// the root down and the durable contents of every file.
//
// With keep nil, nothing unsynced survives. With keep set, each directory
// keeps either its durable entries or all its current ones, and each file
// its durable contents extended by a random part of what was written
// after them (a torn tail), or all its current contents: states a real
// disk may be found in, chosen at random.
func (c *Crashable) Crash(dst string, keep *rand.Rand) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dead = true
	// Where each node lives now, to read its current contents.
	livePath := map[*cnode]string{}
	var walk func(n *cnode, path string)
	walk = func(n *cnode, path string) {
		livePath[n] = path
		if n.dir {
			for name, child := range n.live {
				walk(child, filepath.Join(path, name))
			}
		}
	}
	walk(c.top, c.root)
	var write func(n *cnode, path string) error
	write = func(n *cnode, path string) error {
		if n.dir {
			if err := c.fs.MkdirAll(path, 0o755); err != nil {
				return err
			}
			ents := n.durable
			if keep != nil && keep.IntN(2) == 0 {
				ents = n.live
			}
			for name, child := range ents {
				if err := write(child, filepath.Join(path, name)); err != nil {
					return err
				}
			}
			return nil
		}
		data := n.data
		if p, ok := livePath[n]; ok && keep != nil {
			now, err := ReadFile(c.fs, p)
			if err != nil {
				return err
			}
			switch keep.IntN(3) {
			case 0: // as synced
			case 1:
				data = now
			case 2:
				if len(now) > len(n.data) && bytes.HasPrefix(now, n.data) {
					data = now[:len(n.data)+keep.IntN(len(now)-len(n.data)+1)]
				}
			}
		}
		f, err := c.fs.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		if _, err := f.WriteAt(data, 0); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return write(c.top, dst)
}

// crashFile is a file opened through a Crashable.
type crashFile struct {
	File
	c *Crashable
	n *cnode
}

func (f *crashFile) dead(op string) error {
	if f.c.isDead() {
		return pathErr(op, f.Name(), ErrCrashed)
	}
	return nil
}

func (f *crashFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.dead("read"); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *crashFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.dead("write"); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}

func (f *crashFile) Truncate(size int64) error {
	if err := f.dead("truncate"); err != nil {
		return err
	}
	return f.File.Truncate(size)
}

func (f *crashFile) Allocate(off, n int64) error {
	if err := f.dead("fallocate"); err != nil {
		return err
	}
	return f.File.Allocate(off, n)
}

// Sync makes the file's current contents durable.
func (f *crashFile) Sync() error {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if f.c.dead {
		return pathErr("sync", f.Name(), ErrCrashed)
	}
	if err := f.File.Sync(); err != nil {
		return err
	}
	fi, err := f.File.Stat()
	if err != nil {
		return err
	}
	data := make([]byte, fi.Size())
	if n, err := f.File.ReadAt(data, 0); n < len(data) {
		return fmt.Errorf("vfs: reading %s to keep what it synced: %w", f.Name(), err)
	}
	f.n.data = data
	return nil
}
