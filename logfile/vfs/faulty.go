package vfs

import (
	"io/fs"
	"os"
	"sync"
	"syscall"
)

// Op is a kind of file-system operation that Faulty can fail. Ops combine
// with |.
type Op uint

const (
	// OpRead is File.ReadAt, ReadDir and Stat. Reads through a memory
	// mapping of a file do not go through the FS and cannot be failed.
	OpRead Op = 1 << iota
	// OpWrite is File.WriteAt, File.Allocate and File.Truncate, and
	// OpenFile with O_CREATE or O_TRUNC.
	OpWrite
	// OpSync is File.Sync.
	OpSync
	// OpRename is Rename.
	OpRename
	// OpSyncDir is SyncDir.
	OpSyncDir
	// OpRemove is Remove and RemoveAll.
	OpRemove
	// OpMkdir is MkdirAll.
	OpMkdir
	// OpAllocate is File.Allocate alone, as a full disk fails a
	// reservation (an index's next step) while a write into blocks
	// already reserved still works. OpWrite covers Allocate too.
	OpAllocate
)

// Faulty wraps an FS and injects faults: a byte budget for writes (ENOSPC,
// short writes) and failing operations by kind and path. A new Faulty, and
// the zero value with FS set, inject nothing; set faults with the methods,
// which are safe for concurrent use.
type Faulty struct {
	FS FS

	mu sync.Mutex
	// limited: budget bounds the bytes that may still be written
	// (WriteAt, Allocate); a write past it is cut short and fails with
	// budgetErr. Not limited (the zero value): writes are not counted.
	limited   bool
	budget    int64
	budgetErr error
	rules     []*rule
}

// rule fails operations of the kinds in ops whose path passes match, once
// skip of them have passed: left more of them, or all with forever.
type rule struct {
	ops     Op
	match   func(path string) bool
	skip    int
	left    int
	forever bool
	err     error
}

// NewFaulty returns a Faulty over fsys that injects nothing yet.
func NewFaulty(fsys FS) *Faulty { return &Faulty{FS: fsys} }

// FailAfter lets n more bytes be written; the write that crosses the limit is
// short and returns err (ENOSPC when err is nil), and so does every later one.
func (f *Faulty) FailAfter(n int64, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		err = syscall.ENOSPC
	}
	f.limited, f.budget, f.budgetErr = true, n, err
}

// FailSync makes every File.Sync fail with err (EIO when nil).
func (f *Faulty) FailSync(err error) { f.Fail(OpSync, nil, err) }

// Fail makes every operation of the kinds in ops on a path that match
// accepts (nil: any path) fail with err (EIO when nil), until Heal. A
// failed operation does nothing: a rename leaves both names as they were,
// a remove leaves the file, a sync makes nothing more durable.
func (f *Faulty) Fail(ops Op, match func(path string) bool, err error) {
	f.FailNth(ops, match, 0, 0, err)
}

// FailNth is Fail for only some operations: the first skip matching
// operations succeed, then times of them fail (0: every later one).
func (f *Faulty) FailNth(ops Op, match func(path string) bool, skip, times int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		err = syscall.EIO
	}
	f.rules = append(f.rules, &rule{ops: ops, match: match, skip: skip, left: times, forever: times <= 0, err: err})
}

// Heal stops injecting faults.
func (f *Faulty) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limited, f.rules = false, nil
}

// check returns the error an operation of kind op on path must fail with,
// or nil.
func (f *Faulty) check(op Op, path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rules {
		if r.ops&op == 0 || (r.match != nil && !r.match(path)) {
			continue
		}
		if r.skip > 0 {
			r.skip--
			continue
		}
		if !r.forever {
			if r.left == 0 {
				continue
			}
			r.left--
		}
		return r.err
	}
	return nil
}

// take reserves n bytes of budget and returns how many may be written and
// the error to report for the rest.
func (f *Faulty) take(n int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.limited {
		return n, nil
	}
	if int64(n) <= f.budget {
		f.budget -= int64(n)
		return n, nil
	}
	ok := int(max(f.budget, 0))
	f.budget = 0
	return ok, f.budgetErr
}

func pathErr(op, path string, err error) error { return &os.PathError{Op: op, Path: path, Err: err} }

func (f *Faulty) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	if flag&(os.O_CREATE|os.O_TRUNC) != 0 {
		if _, err := f.take(0); err != nil {
			return nil, pathErr("open", name, err)
		}
		if err := f.check(OpWrite, name); err != nil {
			return nil, pathErr("open", name, err)
		}
	} else if err := f.check(OpRead, name); err != nil {
		return nil, pathErr("open", name, err)
	}
	file, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultyFile{File: file, fs: f}, nil
}

func (f *Faulty) Remove(name string) error {
	if err := f.check(OpRemove, name); err != nil {
		return pathErr("remove", name, err)
	}
	return f.FS.Remove(name)
}

func (f *Faulty) RemoveAll(name string) error {
	if err := f.check(OpRemove, name); err != nil {
		return pathErr("removeall", name, err)
	}
	return f.FS.RemoveAll(name)
}

// Rename fails when either name matches a rule.
func (f *Faulty) Rename(o, n string) error {
	err := f.check(OpRename, o)
	if err == nil {
		err = f.check(OpRename, n)
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: o, New: n, Err: err}
	}
	return f.FS.Rename(o, n)
}

func (f *Faulty) MkdirAll(name string, perm os.FileMode) error {
	if err := f.check(OpMkdir, name); err != nil {
		return pathErr("mkdir", name, err)
	}
	return f.FS.MkdirAll(name, perm)
}

func (f *Faulty) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := f.check(OpRead, name); err != nil {
		return nil, pathErr("readdir", name, err)
	}
	return f.FS.ReadDir(name)
}

func (f *Faulty) Stat(name string) (os.FileInfo, error) {
	if err := f.check(OpRead, name); err != nil {
		return nil, pathErr("stat", name, err)
	}
	return f.FS.Stat(name)
}

func (f *Faulty) SyncDir(name string) error {
	if err := f.check(OpSyncDir, name); err != nil {
		return pathErr("syncdir", name, err)
	}
	return f.FS.SyncDir(name)
}

type faultyFile struct {
	File
	fs *Faulty
}

func (f *faultyFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(OpRead, f.Name()); err != nil {
		return 0, pathErr("read", f.Name(), err)
	}
	return f.File.ReadAt(p, off)
}

func (f *faultyFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(OpWrite, f.Name()); err != nil {
		return 0, pathErr("write", f.Name(), err)
	}
	ok, ferr := f.fs.take(len(p))
	n, err := f.File.WriteAt(p[:ok], off)
	if err == nil && ferr != nil {
		err = pathErr("write", f.Name(), ferr)
	}
	return n, err
}

func (f *faultyFile) Allocate(off, n int64) error {
	if err := f.fs.check(OpWrite|OpAllocate, f.Name()); err != nil {
		return pathErr("fallocate", f.Name(), err)
	}
	if _, err := f.fs.take(int(n)); err != nil {
		return pathErr("fallocate", f.Name(), err)
	}
	return f.File.Allocate(off, n)
}

func (f *faultyFile) Truncate(size int64) error {
	if err := f.fs.check(OpWrite, f.Name()); err != nil {
		return pathErr("truncate", f.Name(), err)
	}
	return f.File.Truncate(size)
}

func (f *faultyFile) Sync() error {
	if err := f.fs.check(OpSync, f.Name()); err != nil {
		return pathErr("sync", f.Name(), err)
	}
	return f.File.Sync()
}

func (f *faultyFile) Stat() (os.FileInfo, error) {
	if err := f.fs.check(OpRead, f.Name()); err != nil {
		return nil, pathErr("stat", f.Name(), err)
	}
	return f.File.Stat()
}
