// Package bench holds Samsa's benchmarks: each puts its baseline in the same
// run (a raw file write beside a log append, kfake beside the broker, a copy
// path beside sendfile) and reports the ratio. Figures and the commands that
// reproduce them are in README.md.
package bench
