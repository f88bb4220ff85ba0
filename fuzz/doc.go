// Package fuzz holds the fuzz targets for every decoder of untrusted bytes
// and their committed seed corpora (testdata/fuzz/<Target>/). `go test`
// runs the seeds as unit tests; `make fuzz` runs each target for a bounded
// time (FUZZTIME, default 30s) through run.sh.
//
// Regenerate the seed files with:
//
//	go test ./fuzz/ -run TestWriteSeeds -write-seeds
package fuzz
