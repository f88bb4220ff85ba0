package main

import (
	"fmt"
	"os"
)

func dumpLog(args []string) int {
	fmt.Fprintln(os.Stderr, "samsa dump-log: not built yet")
	return 1
}
