// Command samsa is the Samsa broker and its client-side tools in one binary.
package main

import (
	"fmt"
	"os"
)

const usage = `usage: samsa <command> [arguments]

commands:
  broker             run the broker (Kafka's server.properties keys)
  topic ...          create, list, describe, delete and alter topics
  produce TOPIC      produce lines from stdin as records
  consume TOPIC      print records of a topic's partitions
  group ...          list, describe, delete consumer groups; reset their offsets
  bench ...          producer and consumer benchmarks
  dump-log FILE...   print the batches and index entries of segment files

Run 'samsa <command> -h' for the flags of a command.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "broker":
		os.Exit(runBroker(os.Args[2:]))
	case "dump-log":
		os.Exit(dumpLog(os.Args[2:]))
	case "topic":
		os.Exit(topicCmd(os.Args[2:]))
	case "produce":
		os.Exit(produce(os.Args[2:]))
	case "consume":
		os.Exit(consume(os.Args[2:]))
	case "group":
		os.Exit(groupCmd(os.Args[2:]))
	case "bench":
		os.Exit(bench(os.Args[2:]))
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "samsa: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
}
