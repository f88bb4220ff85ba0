// Package uuid makes the broker's random identifiers the way Kafka makes
// them: topic IDs and cluster IDs (Kafka's Uuid.randomUuid) and the UUID
// part of group member IDs (java.util.UUID.randomUUID). It is the only
// place that draws them.
//
// Invariants of Random:
//  1. Version 4, RFC 4122 variant: byte 6 is 0x4X, byte 8 is 0b10XXXXXX.
//  2. Never one of Kafka's reserved IDs, 0 (no ID) and 1 (the metadata
//     topic's ID): invariant 1 rules both out.
//  3. Its text form never begins with '-', which tools would read as a
//     command-line flag (Kafka's rule too).
//
// Locks: none; Random reads crypto/rand, which is safe for concurrent use.
package uuid
