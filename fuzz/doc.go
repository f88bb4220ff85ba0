// Package fuzz holds the fuzz targets of the storage engine that cross
// package lines (index files opened from arbitrary bytes, a log recovered
// from an arbitrary tail or reopened after arbitrary operations, a
// producer's arbitrary record set) and their committed seed corpora
// (testdata/fuzz/<Target>/). Every other decoder of untrusted bytes has
// its fuzz target in its own package (record, producerstate, mmapindex,
// logfile/compact, logfile/checkpoint, internal/tags, kafkaapi,
// kafkaapi/reqcheck, metadata/kafkazk, coordinator/group). `go test` runs
// the seeds as unit tests; `make fuzz` runs every target of the module
// for a bounded time (FUZZTIME, default 30s) through run.sh; README.md
// has the executions per second.
//
// Invariants: each target's doc comment states what it checks; all of
// them check that nothing panics. TestWriteSeeds checks that every seed
// of seeds_test.go is committed; regenerate the files with:
//
//	go test ./fuzz/ -run TestWriteSeeds -write-seeds
//
// Locks: none; no code but tests.
package fuzz
