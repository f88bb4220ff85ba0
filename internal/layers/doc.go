// Package layers holds no code: its tests check the layering of the
// module that docs/architecture.md draws, with go list as the truth.
//
// Invariants, each a test:
//  1. Imports point down (TestImportsPointDown): the record format and
//     its codecs, mmapindex, logfile/vfs and zerocopy import nothing of
//     the module but what they are allowed (record: record/codec); the
//     log imports no broker layer; replica imports neither the handlers,
//     the process, the controller nor the group coordinator; the
//     controller depends on no layer of a broker (kafkaapi, server,
//     replica, logfile, coordinator), which it reaches by Kafka requests;
//     admin, coordinator/group, producerstate, metadata, config, netpoll,
//     kafkaapi, kafkaapi/adminapi and kafkaapi/groupapi each have the
//     layers above them they may not depend on (the API packages are
//     above kafkaapi: kafkaapi never imports them, nor they each other);
//     metadata/kafkazk/zkdata, the znodes' formats, imports
//     nothing of the module but internal/uuid. The checks are on every
//     dependency, direct or not.
//  2. The import diagram of docs/architecture.md is the module's import
//     graph, arrow for arrow, each package above what it imports
//     (TestDiagram, which prints the block to paste when they differ).
//  3. A command package under samsa/cli imports no other but cli/command
//     (and its internal packages), cli/command imports none of them, only
//     cli/broker depends on samsa/server, and no broker layer imports
//     samsa/cli (cmd/samsa and the test helper internal/clitest excepted)
//     (TestCLIImports).
//  4. A non-test package has at most 3,000 lines, but those already past
//     it (logfile) may not grow past their ceilings (TestPackageSize); a
//     package of cli/... or cmd/samsa has at most 1,200
//     (TestCLIPackageSize). A package that reaches its limit is split by
//     role.
//
// Locks: none; no code.
package layers
