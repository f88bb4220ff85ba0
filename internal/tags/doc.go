// Package tags reads the tagged-field sections of Kafka's flexible
// versions (KIP-482). It is the one reader of them: request headers
// (kafkaapi), response headers (kclient) and request bodies walked before
// kmsg decodes them (kafkaapi/reqcheck).
//
//	tag section  uvarint count, then count times:
//	             uvarint key, uvarint size, size bytes of value
//
// Uvarints are read as kmsg reads them: at most 32 bits, so at most five
// bytes, the fifth at most 0x0f.
//
// Invariants:
//  1. Nothing is read past the bytes given; malformed bytes are an error,
//     never a panic; nothing is allocated.
//  2. A section whose count claims more tags than the bytes after the count
//     can hold (a tag takes at least a key byte and a size byte) is refused
//     before any tag is read (ErrCount), so a walk makes at most len/2
//     steps whatever the count says.
//
// Locks: none; the functions work on the bytes given and keep no state.
package tags
