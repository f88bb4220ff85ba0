// Package reqcheck walks a flexible request body before kmsg decodes it, so
// that a client cannot make the decoder spin.
//
// kmsg (v1.15.0) reads a tag section as "count, then count times: key, size,
// value" and does not stop when the bytes run out: a body ending in the
// uvarint 2^32-1 costs minutes of CPU before it fails. Check walks the body
// with the same rules kmsg decodes it by, and rejects a tag section whose
// count cannot fit in the bytes left (tag sections and uvarints are read by
// package internal/tags, which the request and response headers share).
//
// # Wire layout of flexible versions (KIP-482)
//
//	kind            encoding
//	bool, int8      1 byte
//	int16/32/64     2/4/8 bytes, big endian
//	uuid            16 bytes
//	string          uvarint len+1, then len bytes; 0 (null) is invalid
//	nullable string uvarint len+1, then len bytes; 0 is null
//	(nullable) bytes as nullable string: kmsg reads a null as empty
//	array           uvarint count+1, then count elements; 0 is null, and
//	                kmsg reads a null as empty even where Kafka forbids it
//	struct          its fields in order, then a tag section
//	tag section     uvarint count, then count times: uvarint key,
//	                uvarint size, size bytes of value
//
// Uvarints are at most 32 bits: a fifth byte above 0x0f is invalid, as in
// kmsg. A tag section may hold tags the schema knows: kmsg decodes their
// values from the size bytes (in every flexible version, whatever version
// Kafka gives the tag), so Check walks them too; unknown tags are skipped.
// Bytes after the body's last tag section are ignored, as kmsg ignores them.
//
// # Invariants
//
//  1. For a flexible version, Check accepts exactly the bodies that kmsg's
//     ReadFrom decodes without error (fuzzed against kmsg).
//  2. A tag section Check accepts claims at most half the bytes left after
//     its count: a tag takes at least a key byte and a size byte, so kmsg
//     would fail on a larger count anyway, and its loops over an accepted
//     body end within the body's length.
//  3. Check allocates nothing on an accepted body.
//  4. The schemas describe each API up to the highest version the broker
//     serves; a version above it is ErrUnknown, so a version bump in the
//     broker needs its layout here (kafkaapi's TestReqcheckKnowsServedAPIs
//     checks this).
//
// Locks: none. The schemas are tables built when the package initialises
// and only read after, and Check works on its arguments alone, so any
// number of goroutines may call it.
package reqcheck
