// Package clitest runs samsa's commands in the test's own process, under
// a root command with samsa's conventions (root.Setup, root.Execute)
// and buffers for stdin, stdout and stderr; and sets up what they talk to:
// an in-process kfake cluster, or the broker $SAMSA_TEST_BROKERS names, and
// segment files for dump-log. It is imported by tests only.
//
// Invariants:
//  1. Each run builds the command afresh (cobra keeps flag values in a
//     command) under a root set up as samsa's is, and returns the exit
//     status root.Execute gives; a run that has not ended after 60 s fails
//     the test and returns -1.
//  2. StartCluster is the broker $SAMSA_TEST_BROKERS names, else a
//     single-broker kfake cluster closed with the test; NewTopic names are
//     unique per run, so tests can share a real broker.
//  3. CheckUsageError holds a command to the usage-error convention of
//     package command: exit status 2 and exactly two lines on stderr, the
//     message and the hint to run --help.
//
// Locks: lockedBuffer.mu guards an output buffer that a command's
// goroutines write concurrently; a leaf.
package clitest
