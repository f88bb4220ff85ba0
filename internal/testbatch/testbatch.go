package testbatch

import "samsa/record"

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
	val := make([]byte, s.ValueSize)
	for i := range val {
		val[i] = s.Fill
	}
	b := record.NewBuilder(s.Timestamp)
	for i := range s.Records {
		b.Add(s.Timestamp+int64(i), s.Key, val)
	}
	dst, _ = b.AppendTo(dst) // uncompressed: no error
	return dst
}
