// Package topic is samsa topic: create, list, describe, delete and alter
// the configs of topics, grow them, delete their records, list their
// offsets and move their partitions, through the Kafka admin APIs. One
// file per subcommand.
//
// Names follow rpk topic (create, list, describe, delete, alter-config,
// add-partitions) where it has the operation, and Kafka's tools
// (kafka-delete-records.sh, kafka-get-offsets.sh,
// kafka-reassign-partitions.sh) where it has not.
//
// Invariants (the user-visible conventions it keeps, beside package
// command's):
//  1. Topics are positional arguments. -p/--partitions is a partition
//     count where a topic is created or grown (create, add-partitions,
//     whose -n/--num is an increase instead); -p/--partition names
//     partitions where records are deleted or offsets listed
//     (delete-records, offsets) and the one partition a reassignment
//     moves.
//  2. A change to several topics (create, delete, alter-config,
//     add-partitions) prints to stdout a TOPIC STATUS table, one row per
//     topic named, OK or the broker's error in words ("no response from
//     broker" for a topic the answer left out), and exits 1 if any row is
//     not OK. Per partition, delete-records prints a PARTITION
//     LOG-START-OFFSET STATUS table and offsets a row with the error in
//     place of the offset; each exits 1 if any partition failed.
//  3. Reads print aligned tables with a header row to stdout. describe
//     prints each topic's summary, its configs that differ from the
//     defaults (all with --all-configs), and its partitions; offsets and
//     configs it cannot get are shown in their place, and it exits 1 if
//     any topic was not fully described.
//  4. reassign prints one line, "TOPIC-P: reassignment started" (or
//     cancelled), or fails with the broker's error.
//  5. Commands that take topic names complete them from the brokers.
//
// Locks: none; each subcommand runs on its command's goroutine.
package topic
