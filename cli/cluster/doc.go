// Package cluster is samsa cluster: what the brokers say about the
// cluster (DescribeCluster, Metadata), their configs (DescribeConfigs,
// IncrementalAlterConfigs on broker resources), their log directories
// (DescribeLogDirs), moving replicas off a broker and leader elections.
// One file per subcommand.
//
// Names: "cluster describe" (also rpk's "info"), "cluster config
// describe|alter" after kafka-configs.sh --describe / --alter on the
// brokers entity (rpk cluster config get/set speak Redpanda's own admin API,
// not Kafka's), "cluster log-dirs" after kafka-log-dirs.sh, "cluster
// elect-leaders" after kafka-leader-election.sh.
//
// Invariants (the user-visible conventions it keeps, beside package
// command's):
//  1. samsa cluster with no subcommand is samsa cluster describe.
//  2. Results are aligned tables with a header row on stdout. config
//     describe, config alter and log-dirs print a row per resource or
//     directory, the broker's error in place of what failed, and exit 1
//     if any failed.
//  3. decommission prints its plan (TOPIC PARTITION FROM TO) and then
//     starts it, or with --dry-run only prints it; each move the
//     controller refuses is reported on stderr, and the command then
//     exits 1. A broker ID that is not a number is a usage error.
//  4. elect-leaders prints one row per partition, "elected" or the
//     broker's error, and exits 0 once the brokers have answered, whatever
//     the rows say.
//
// Locks: none; each subcommand runs on its command's goroutine.
package cluster
