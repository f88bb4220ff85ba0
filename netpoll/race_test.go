//go:build race

package netpoll

// The race detector allows at most 8128 live goroutines.
const raceEnabled = true
