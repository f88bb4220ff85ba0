// Command samsa is the Samsa broker and its client-side tools in one binary.
package main

import (
	"fmt"
	"os"
)

const usage = `usage: samsa <command> [arguments]

commands:
  dump-log FILE...   print the batches and index entries of segment files
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "dump-log":
		os.Exit(dumpLog(os.Args[2:]))
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "samsa: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
}
