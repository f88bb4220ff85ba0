// Package layers holds no code: its test checks the layering of the module
// (docs/architecture.md). Imports point down only: the storage packages and
// the record format import no broker layer, replica never imports kafkaapi,
// the controller reaches brokers only through Kafka requests; and a
// non-test package stays within its size ceiling (about 3,000 lines; the
// few that are larger may not grow further: split them instead).
package layers
