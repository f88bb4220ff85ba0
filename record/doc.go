// Package record is Kafka's record format, RecordBatch v2 (magic 2), in
// one place: header parsing and CRC (header.go), the setters a broker
// applies to a batch it stores (base offset, leader epoch, LogAppendTime),
// a walker over the records of a batch (iter.go), one batch builder
// (builder.go), the validation of a producer's record set, Kafka's
// LogValidator (validate.go, and check.go for the per-record check, the
// broker's hottest loop), and Batches, a run of batches whose headers
// were parsed once, by ValidateProduce for a producer's bytes or by
// ValidateBatches for stored ones (batches.go). The codecs are package
// record/codec. It imports nothing else of Samsa: the log, the broker and
// the tools build on it.
//
// # RecordBatch v2 (part of the format: never change)
//
// All integers big-endian.
//
//	offset size field
//	     0    8 baseOffset            stamped by the log; outside the CRC
//	     8    4 batchLength           bytes after this field
//	    12    4 partitionLeaderEpoch  stamped by the leader; outside the CRC
//	    16    1 magic                 must be 2
//	    17    4 crc                   CRC-32C (Castagnoli) of bytes 21..end
//	    21    2 attributes            bits 0-2 codec (0 none, 1 gzip, 2 snappy,
//	                                  3 lz4, 4 zstd), 3 LogAppendTime,
//	                                  4 transactional, 5 control
//	    23    4 lastOffsetDelta       offset of the last record - baseOffset
//	    27    8 firstTimestamp
//	    35    8 maxTimestamp
//	    43    8 producerId            -1: no producer
//	    51    2 producerEpoch
//	    53    4 baseSequence
//	    57    4 recordCount
//	    61    - records               compressed as a whole with the codec
//
// # Record (part of the format: never change)
//
// varint is a zigzag varint (encoding/binary's Varint); a length of -1 is
// null.
//
//	field              type
//	length             varint  bytes of the record after this field
//	attributes         int8    unused: 0
//	timestampDelta     varint  timestamp - firstTimestamp (CreateTime)
//	offsetDelta        varint  offset - baseOffset
//	keyLength, key     varint, bytes   -1: null key
//	valueLength, value varint, bytes   -1: null value (a tombstone)
//	headerCount        varint
//	headers            headerCount times:
//	  keyLength, key   varint, bytes   a string: never null
//	  valueLength, val varint, bytes   -1: null
//
// # Invariants
//
//  1. ParseHeader reads nothing past HeaderSize bytes and accepts only
//     magic 2, a batchLength that covers the header and a non-negative
//     lastOffsetDelta; a batch's size is LogOverhead + batchLength.
//  2. The CRC covers bytes 21 to the end: the base offset, length and
//     leader epoch change without it (SetBaseOffset, SetLength,
//     SetLeaderEpoch); a change to any other byte is followed by SetCRC.
//  3. Iter reads exactly the header's recordCount records and never
//     slices past a record's length: a record whose fields do not fill its
//     length exactly is ErrFraming, and bounds are checked before slicing.
//     Record slices point into the region (no copies).
//  4. A batch ValidateProduce accepts tiles its input, has magic 2, a
//     matching CRC, recordCount = lastOffsetDelta+1 >= 1 and at most
//     max.message.bytes; one Check accepts also has records at offset
//     deltas 0, 1, 2, ... with nothing after the last. Check accepts and
//     refuses exactly what a walk with Iter does, in the same words: its
//     fast walk only vouches for records Iter's parse would accept
//     (FuzzCheck, TestCheckAgreesWithIter).
//  5. Builder writes what Iter reads back: the records it was given, in
//     order, with the header's count, a batchLength that frames them and
//     a valid CRC.
//  6. Inflate never allocates past its limit: a decompression bomb costs
//     at most limit bytes (codec.ErrTooLarge).
//  7. Every error of bad bytes is an error value, never a panic:
//     ErrCorrupt (ErrCRC, ErrMagic, ErrTornTail, ErrFraming) for bytes that
//     are no valid batch; ErrInvalidRecord, ErrNotOneBatch, ErrNoKey,
//     ErrTimestamp and ErrBatchTooLarge for valid bytes a broker refuses
//     (ErrNoKey and ErrTimestamp per record, every such record named in a
//     *RecordsError).
//  8. A Batches carries each batch's header parsed once, when it was
//     validated; its headers always equal what its bytes parse to, because
//     its setters (AssignOffsets, SetLeaderEpoch, SetLogAppendTime) change
//     both, and Replace installs a header for bytes its caller rebuilt.
//
// # Locks
//
// None. Everything here works on byte slices it is given; a Batches or an
// Iter belongs to one goroutine at a time (the produce path's, or the
// log's writer under logfile's Log.mu), and the codecs' pooled state is
// record/codec's.
package record
