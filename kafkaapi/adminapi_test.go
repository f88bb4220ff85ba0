package kafkaapi_test

// The administrative APIs are served from package adminapi, which imports
// kafkaapi and so cannot be imported by kafkaapi's own test files; this
// external test file links it into the test binary, as server links it
// into the broker, so that the harness's brokers serve every API the
// broker does (adminapi's handlers are tested here: topics_test.go,
// configs_test.go, authz_test.go, cluster_test.go).

import _ "samsa/kafkaapi/adminapi"
