// Package command is the plumbing every samsa command shares: the
// conventions below (usage errors, exit statuses, argument checks), the
// connection flags and the session a client command runs in (signals, the
// brokers' reachability, errors a person can act on), the spellings of
// offsets and partitions, the producer settings and the table output.
//
// Each group of commands is a package of its own under samsa/cli (topic,
// group, consume, produce, cluster, acl, bench, broker, dumplog, version,
// completion) exposing NewCommand, one file per subcommand, as Redpanda's
// rpk lays out its commands. They import this package and never each
// other; this package imports none of them. Package root sets up and runs
// the root command that cmd/samsa builds from them; the reachability watch
// of a session is package netwatch, and its TLS and SASL settings package
// connsec, both internal to this one.
//
// The conventions every samsa command follows, in one place (the
// package's invariants; package root applies those that belong to the
// root):
//
//  1. Flags are GNU-style (github.com/spf13/pflag, through cobra): --name
//     VALUE, --name=VALUE, -x VALUE, -xVALUE, short flags grouped (-ev),
//     flags before, between or after the positional arguments, and "--"
//     ends the flags.
//  2. --help and -h print the command's help to stdout and exit 0, for
//     every command and group of commands; so does "samsa help COMMAND...".
//  3. A usage error (an unknown flag, a bad value, a missing argument, an
//     unknown subcommand) prints one line "samsa <command>: <message>" and
//     the hint "Run 'samsa <command> --help' for usage." to stderr, and
//     exits 2. A mistyped subcommand comes with the nearest names: "did
//     you mean".
//  4. A runtime failure (the broker said no, a record was not delivered, the
//     broker could not be reached within --timeout) prints
//     "samsa <command>: <message>" to stderr and exits 1. A command that
//     has printed its reasons itself may choose its status (ExitCode):
//     nothing more is printed.
//  5. A client command stopped by SIGINT or SIGTERM stops what it is doing,
//     prints what it has to print (produce its summary, consume the records
//     it has) and exits 128+signal: 130 or 143, with no message. A second
//     signal at least a second after the first exits at once; one sooner
//     is taken for the same stop, delivered twice, and ignored.
//  6. Commands print through their cobra command's writers (OutOrStdout,
//     ErrOrStderr) and read its InOrStdin: the root sets them to the
//     process's, tests to buffers. Results go to stdout, notes and errors
//     to stderr.
//  7. --brokers (-b) names the seed brokers, else $SAMSA_BROKERS, else
//     127.0.0.1:9092; --timeout (10s) bounds each admin request, each
//     produced record's delivery, and how long the brokers may stay
//     unreachable before a client command gives up (client.go).
//  8. TLS and SASL come from --tls, --tls-ca, --tls-cert, --tls-key,
//     --sasl-mechanism, --user and --password, else their $SAMSA_*
//     variables, else a client properties file in Kafka's keys
//     (--command-config, as kafka-*.sh take it): package connsec.
//
// One meaning per flag name, following rpk and kcat:
//
//	-p, --partitions N   a partition count, where a topic is created or grown
//	                     (topic create, topic add-partitions, bench produce), as
//	                     rpk topic create -p and kafka-topics.sh --partitions
//	-p, --partition P    partition numbers, where records are written, read or
//	                     deleted (produce, consume, topic delete-records, topic
//	                     offsets, group seek), as kcat -p and rpk topic produce -p
//	-b, --brokers        seed brokers (kcat -b)
//	-o, --from           where reading starts (kcat -o, rpk -o)
//
// Topics are positional arguments everywhere.
//
// Locks: none in this package. A Session's state is set when it is made;
// its context is canceled by the signal goroutine or a watchdog, and
// package netwatch guards what its hooks record.
package command
