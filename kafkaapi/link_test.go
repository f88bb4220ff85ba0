package kafkaapi_test

// The administrative and group APIs are served from packages adminapi and
// groupapi, which import kafkaapi and so cannot be imported by kafkaapi's
// own test files; this external test file links them into the test
// binary, as server links them into the broker, so that the harness's
// brokers serve every API the broker does, and the tests of this
// directory test their handlers with the others' (topics_test.go,
// configs_test.go, groups_test.go, authz_test.go, ...).

import (
	_ "samsa/kafkaapi/adminapi"
	_ "samsa/kafkaapi/groupapi"
)
