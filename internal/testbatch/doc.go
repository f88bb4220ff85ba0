// Package testbatch builds valid uncompressed RecordBatch v2 bytes for
// tests, fuzz seeds and benchmarks: a short spelling of record.Builder for
// the batches they use most. Only tests, fuzz targets, benchmarks and the
// test helper internal/clitest import it.
//
// Invariants:
//  1. Make and Append return one whole batch that record.ValidateProduce
//     accepts: base offset 0, CreateTime, no producer, Records records with
//     offset deltas 0, 1, 2, ..., record i at Timestamp+i, every value
//     ValueSize bytes of Fill, every key Key (nil: none).
//  2. The same Spec gives the same bytes.
//
// Locks: none; no state.
package testbatch
