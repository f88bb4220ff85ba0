// Package validate checks a producer's record set for one partition
// before the replica layer appends it (Kafka's LogValidator): the
// batches' framing, magic and CRC through package record, then each
// batch's records, decompressed within a bound, against the topic's
// configuration; it applies the topic's compression.type and
// LogAppendTime, and words every refusal as Kafka answers it (apierr with
// Kafka's code, the refused records named as KIP-467 does).
//
// It holds no partition state: whatever depends on the log or the
// producers (sequence numbers, transactions, leadership) is checked under
// the partition's locks by package replica, after Produce.
//
// Invariants:
//  1. Produce returns batches whose headers are parsed and whose records
//     all passed record.Check; nothing else is appended for a producer.
//  2. A batch never decompresses past InflateLimit(max.message.bytes):
//     a decompression bomb costs at most that much memory, and at most
//     2 x GOMAXPROCS batches (at least 2) decompress at once, broker-wide.
//  3. A batch is rewritten only to recompress it to the topic's
//     compression.type or to stamp LogAppendTime; otherwise its bytes are
//     the producer's, and the offsets and epochs appended later go
//     outside its CRC.
//
// Locks: none; the bound of invariant 2 is a semaphore taken around each
// decompression, with nothing held under it.
package validate
