// Package codec compresses and decompresses the records region of Kafka
// record batches (Kafka's CompressionType and its stream wrappers): gzip
// (klauspost/compress), snappy (golang/snappy), lz4 (pierrec/lz4) and zstd
// (klauspost/compress). Package record calls it for a batch whose
// attributes name a codec (Inflate) and for a batch it builds with a
// codec (Builder, which the broker's compression.type recompression and
// the log cleaner use); config parses compression.type with Parse.
//
// # Codecs (part of the format: never change)
//
//	Codec   attribute bits 0-2   on the wire
//	None    0
//	Gzip    1                    a gzip stream
//	Snappy  2                    a raw snappy block, or xerial framing: magic
//	                             82 53 4E 41 50 50 59 00, two int32 versions,
//	                             then chunks of int32 length + raw block
//	LZ4     3                    the LZ4 frame format
//	Zstd    4                    a zstd frame
//
// # Invariants
//
//  1. Decompress never produces more than limit bytes: gzip, lz4 and zstd
//     read into a buffer grown to at most limit+1 bytes past dst's length
//     and stop with ErrTooLarge past the limit; a snappy block's declared
//     length is checked against what is left of the limit before anything
//     is allocated for it. A decompression bomb costs at most limit bytes.
//  2. On any error Decompress returns dst cut back to the length it was
//     given: nothing of a failed decompression is appended.
//  3. Bytes that do not decode are an error matching ErrCorrupt, and a
//     codec number that is none of the five is ErrUnknown; never a panic
//     (fuzzed through package record's FuzzValidateCompressed).
//  4. Decompress reads snappy raw or xerial-framed, as producers send
//     both; Compress writes a raw block, and lz4 as a frame, as librdkafka
//     and franz-go write them.
//
// # Locks
//
// None of its own: Compress and Decompress may be called from any number
// of goroutines. Readers and writers are pooled (sync.Pool), each used by
// one call at a time; the one zstd encoder is shared through EncodeAll,
// which klauspost/compress makes safe for concurrent use.
package codec
