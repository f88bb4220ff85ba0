// Package testbatch builds valid uncompressed RecordBatch v2 bytes for tests,
// fuzz seeds and benchmarks.
package testbatch

import (
	"encoding/binary"
	"hash/crc32"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Spec describes a batch.
type Spec struct {
	Records   int
	ValueSize int
	// Timestamp of the first record; record i has Timestamp+i.
	Timestamp int64
	// Fill is the byte the values are made of (records are distinguishable
	// when tests vary it).
	Fill byte
	// Key is set on every record when non-nil.
	Key []byte
}

// Make returns one batch with base offset 0.
func Make(s Spec) []byte { return Append(nil, s) }

// Append appends one batch to dst.
func Append(dst []byte, s Spec) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, 61)...)
	val := make([]byte, s.ValueSize)
	for i := range val {
		val[i] = s.Fill
	}
	var rec []byte
	for i := 0; i < s.Records; i++ {
		rec = rec[:0]
		rec = append(rec, 0) // attributes
		rec = binary.AppendVarint(rec, int64(i))
		rec = binary.AppendVarint(rec, int64(i))
		if s.Key == nil {
			rec = binary.AppendVarint(rec, -1)
		} else {
			rec = binary.AppendVarint(rec, int64(len(s.Key)))
			rec = append(rec, s.Key...)
		}
		rec = binary.AppendVarint(rec, int64(len(val)))
		rec = append(rec, val...)
		rec = binary.AppendVarint(rec, 0) // headers
		dst = binary.AppendVarint(dst, int64(len(rec)))
		dst = append(dst, rec...)
	}
	b := dst[start:]
	be := binary.BigEndian
	be.PutUint64(b[0:], 0)
	be.PutUint32(b[8:], uint32(len(b)-12))
	be.PutUint32(b[12:], 0)
	b[16] = 2
	be.PutUint16(b[21:], 0)
	be.PutUint32(b[23:], uint32(max(s.Records-1, 0)))
	be.PutUint64(b[27:], uint64(s.Timestamp))
	be.PutUint64(b[35:], uint64(s.Timestamp+int64(max(s.Records-1, 0))))
	be.PutUint64(b[43:], ^uint64(0)) // producerId -1
	be.PutUint16(b[51:], ^uint16(0)) // producerEpoch -1
	be.PutUint32(b[53:], ^uint32(0)) // baseSequence -1
	be.PutUint32(b[57:], uint32(s.Records))
	be.PutUint32(b[17:], crc32.Checksum(b[21:], crcTable))
	return dst
}
