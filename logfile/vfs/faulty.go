package vfs

import (
	"os"
	"sync"
	"syscall"
)

// Faulty wraps an FS and injects write faults. The zero value of its knobs
// injects nothing; set them with the methods, which are safe for concurrent use.
type Faulty struct {
	FS FS

	mu sync.Mutex
	// budget is the number of bytes that may still be written (WriteAt,
	// Allocate); a write past it is cut short and fails with err. Negative:
	// no limit.
	budget int64
	err    error
	// failSync makes Sync fail with err.
	failSync bool
}

// NewFaulty returns a Faulty over fsys that injects nothing yet.
func NewFaulty(fsys FS) *Faulty { return &Faulty{FS: fsys, budget: -1} }

// FailAfter lets n more bytes be written; the write that crosses the limit is
// short and returns err (ENOSPC when err is nil), and so does every later one.
func (f *Faulty) FailAfter(n int64, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		err = syscall.ENOSPC
	}
	f.budget, f.err = n, err
}

// FailSync makes every Sync fail with err (EIO when nil).
func (f *Faulty) FailSync(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		err = syscall.EIO
	}
	f.failSync, f.err = true, err
}

// Heal stops injecting faults.
func (f *Faulty) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.budget, f.failSync = -1, false
}

// take reserves n bytes of budget and returns how many may be written and
// the error to report for the rest.
func (f *Faulty) take(n int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.budget < 0 {
		return n, nil
	}
	if int64(n) <= f.budget {
		f.budget -= int64(n)
		return n, nil
	}
	ok := int(f.budget)
	f.budget = 0
	return ok, f.err
}

func (f *Faulty) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	if flag&os.O_CREATE != 0 {
		if _, err := f.take(0); err != nil {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
	}
	file, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultyFile{File: file, fs: f}, nil
}

func (f *Faulty) Remove(name string) error                     { return f.FS.Remove(name) }
func (f *Faulty) RemoveAll(name string) error                  { return f.FS.RemoveAll(name) }
func (f *Faulty) Rename(o, n string) error                     { return f.FS.Rename(o, n) }
func (f *Faulty) MkdirAll(name string, perm os.FileMode) error { return f.FS.MkdirAll(name, perm) }
func (f *Faulty) ReadDir(name string) ([]os.DirEntry, error)   { return f.FS.ReadDir(name) }
func (f *Faulty) Stat(name string) (os.FileInfo, error)        { return f.FS.Stat(name) }
func (f *Faulty) SyncDir(name string) error                    { return f.FS.SyncDir(name) }

type faultyFile struct {
	File
	fs *Faulty
}

func (f *faultyFile) WriteAt(p []byte, off int64) (int, error) {
	ok, ferr := f.fs.take(len(p))
	n, err := f.File.WriteAt(p[:ok], off)
	if err == nil && ferr != nil {
		err = &os.PathError{Op: "write", Path: f.Name(), Err: ferr}
	}
	return n, err
}

func (f *faultyFile) Allocate(off, n int64) error {
	if _, err := f.fs.take(int(n)); err != nil {
		return &os.PathError{Op: "fallocate", Path: f.Name(), Err: err}
	}
	return f.File.Allocate(off, n)
}

func (f *faultyFile) Sync() error {
	f.fs.mu.Lock()
	fail, err := f.fs.failSync, f.fs.err
	f.fs.mu.Unlock()
	if fail {
		return &os.PathError{Op: "sync", Path: f.Name(), Err: err}
	}
	return f.File.Sync()
}
