package reqcheck

import "math"

// kind is how a field is encoded in a flexible version.
type kind uint8

const (
	fixedSize       kind = iota // size bytes
	compactString               // uvarint len+1, bytes; null is invalid
	compactNullable             // a nullable string, or (nullable) bytes
	compactArray                // uvarint count+1, elems
	structure                   // fields, then a tag section
)

// field is one field of a request's layout.
type field struct {
	name     string // Kafka's name (names, for merged fixed fields), for errors
	kind     kind
	size     int     // of a fixedSize field
	min, max int16   // versions the field is on the wire in; a tag has no gate
	elem     *field  // of an array
	fields   []field // of a structure: its untagged fields, in wire order
	tags     []field // of a structure: the tagged fields it knows
	tag      uint32  // of a tagged field
	tagged   bool
}

// request is the layout of one API's request body.
type request struct {
	flexible int16 // first flexible version
	max      int16 // last version described
	body     field
}

// never is the first flexible version of an API that has none.
const never = math.MaxInt16

func newField(name string, k kind, size int) field {
	return field{name: name, kind: k, size: size, max: math.MaxInt16}
}

func boolean(name string) field { return newField(name, fixedSize, 1) }
func i8(name string) field      { return newField(name, fixedSize, 1) }
func i16(name string) field     { return newField(name, fixedSize, 2) }
func i32(name string) field     { return newField(name, fixedSize, 4) }
func i64(name string) field     { return newField(name, fixedSize, 8) }
func uuid(name string) field    { return newField(name, fixedSize, 16) }
func str(name string) field     { return newField(name, compactString, 0) }
func nullStr(name string) field { return newField(name, compactNullable, 0) }

// blob is a bytes or nullable bytes field: kmsg reads both alike.
func blob(name string) field { return newField(name, compactNullable, 0) }

// array is an array of a primitive, e.g. array("Partitions", i32). A
// nullable array reads as a non-nullable one.
func array(name string, elem func(string) field) field {
	f := newField(name, compactArray, 0)
	e := elem(name)
	f.elem = &e
	return f
}

// structs is an array of structures.
func structs(name string, fields ...field) field {
	f := newField(name, compactArray, 0)
	e := strct(name, fields...)
	f.elem = &e
	return f
}

// strct is a structure; its tagged fields go to its tag section. Adjacent
// fixed-size fields in the same versions are walked as one.
func strct(name string, fields ...field) field {
	f := newField(name, structure, 0)
	for _, g := range fields {
		n := len(f.fields)
		switch {
		case g.tagged:
			f.tags = append(f.tags, g)
		case n > 0 && g.kind == fixedSize && f.fields[n-1].kind == fixedSize &&
			f.fields[n-1].min == g.min && f.fields[n-1].max == g.max:
			f.fields[n-1].name += "," + g.name
			f.fields[n-1].size += g.size
		default:
			f.fields = append(f.fields, g)
		}
	}
	return f
}

// tagged puts f in its structure's tag section under key tag.
func tagged(tag uint32, f field) field {
	f.tag, f.tagged = tag, true
	return f
}

// from gates f to versions v and up.
func (f field) from(v int16) field { f.min = v; return f }

// upTo gates f to versions up to v, inclusive.
func (f field) upTo(v int16) field { f.max = v; return f }

// requests holds, by API key, the layout of every version the broker
// serves, from Kafka's message schemas. Fields are listed only if some
// described flexible version has them; version gates follow Kafka's.
var requests = [...]*request{
	0: {flexible: 9, max: 9, body: strct("ProduceRequest",
		nullStr("TransactionalId"),
		i16("Acks"),
		i32("TimeoutMs"),
		structs("TopicData",
			str("Name"),
			structs("PartitionData",
				i32("Index"),
				blob("Records"),
			),
		),
	)},
	1: {flexible: 12, max: 12, body: strct("FetchRequest",
		tagged(0, nullStr("ClusterId")),
		i32("ReplicaId"),
		tagged(1, strct("ReplicaState",
			i32("ReplicaId"),
			i64("ReplicaEpoch"),
		)),
		i32("MaxWaitMs"),
		i32("MinBytes"),
		i32("MaxBytes"),
		i8("IsolationLevel"),
		i32("SessionId"),
		i32("SessionEpoch"),
		structs("Topics",
			str("Topic"),
			structs("Partitions",
				i32("Partition"),
				i32("CurrentLeaderEpoch"),
				i64("FetchOffset"),
				i32("LastFetchedEpoch"),
				i64("LogStartOffset"),
				i32("PartitionMaxBytes"),
				tagged(0, uuid("ReplicaDirectoryId")),
				tagged(1, i64("HighWatermark")),
			),
		),
		structs("ForgottenTopicsData",
			str("Topic"),
			array("Partitions", i32),
		),
		str("RackId"),
	)},
	2: {flexible: 6, max: 7, body: strct("ListOffsetsRequest",
		i32("ReplicaId"),
		i8("IsolationLevel"),
		structs("Topics",
			str("Name"),
			structs("Partitions",
				i32("PartitionIndex"),
				i32("CurrentLeaderEpoch"),
				i64("Timestamp"),
			),
		),
	)},
	3: {flexible: 9, max: 12, body: strct("MetadataRequest",
		structs("Topics",
			uuid("TopicId").from(10),
			str("Name").upTo(9),
			nullStr("Name").from(10),
		),
		boolean("AllowAutoTopicCreation"),
		boolean("IncludeClusterAuthorizedOperations").upTo(10),
		boolean("IncludeTopicAuthorizedOperations"),
	)},
	4: {flexible: 4, max: 6, body: strct("LeaderAndIsrRequest",
		i32("ControllerId"),
		i32("ControllerEpoch"),
		i64("BrokerEpoch"),
		i8("Type").from(5),
		structs("TopicStates",
			str("TopicName"),
			uuid("TopicId").from(5),
			structs("PartitionStates",
				i32("PartitionIndex"),
				i32("ControllerEpoch"),
				i32("Leader"),
				i32("LeaderEpoch"),
				array("Isr", i32),
				i32("PartitionEpoch"),
				array("Replicas", i32),
				array("AddingReplicas", i32),
				array("RemovingReplicas", i32),
				boolean("IsNew"),
				i8("LeaderRecoveryState").from(6),
			),
		),
		structs("LiveLeaders",
			i32("BrokerId"),
			str("HostName"),
			i32("Port"),
		),
	)},
	5: {flexible: 2, max: 3, body: strct("StopReplicaRequest",
		i32("ControllerId"),
		i32("ControllerEpoch"),
		i64("BrokerEpoch"),
		boolean("DeletePartitions").upTo(2),
		structs("Topics",
			str("Name"),
			array("PartitionIndexes", i32).upTo(2),
			structs("PartitionStates",
				i32("PartitionIndex"),
				i32("LeaderEpoch"),
				boolean("DeletePartition"),
			).from(3),
		),
	)},
	6: {flexible: 6, max: 7, body: strct("UpdateMetadataRequest",
		i32("ControllerId"),
		i32("ControllerEpoch"),
		i64("BrokerEpoch"),
		structs("TopicStates",
			str("TopicName"),
			uuid("TopicId").from(7),
			structs("PartitionStates",
				i32("PartitionIndex"),
				i32("ControllerEpoch"),
				i32("Leader"),
				i32("LeaderEpoch"),
				array("Isr", i32),
				i32("ZkVersion"),
				array("Replicas", i32),
				array("OfflineReplicas", i32),
			),
		),
		structs("LiveBrokers",
			i32("Id"),
			structs("Endpoints",
				i32("Port"),
				str("Host"),
				str("Listener"),
				i16("SecurityProtocol"),
			),
			nullStr("Rack"),
		),
	)},
	7: {flexible: 3, max: 3, body: strct("ControlledShutdownRequest",
		i32("BrokerId"),
		i64("BrokerEpoch"),
	)},
	23: {flexible: 4, max: 4, body: strct("OffsetForLeaderEpochRequest",
		i32("ReplicaId"),
		structs("Topics",
			str("Topic"),
			structs("Partitions",
				i32("Partition"),
				i32("CurrentLeaderEpoch"),
				i32("LeaderEpoch"),
			),
		),
	)},
	43: {flexible: 2, max: 2, body: strct("ElectLeadersRequest",
		i8("ElectionType"),
		structs("TopicPartitions",
			str("Topic"),
			array("Partitions", i32),
		),
		i32("TimeoutMs"),
	)},
	45: {flexible: 0, max: 0, body: strct("AlterPartitionReassignmentsRequest",
		i32("TimeoutMs"),
		structs("Topics",
			str("Name"),
			structs("Partitions",
				i32("PartitionIndex"),
				array("Replicas", i32),
			),
		),
	)},
	46: {flexible: 0, max: 0, body: strct("ListPartitionReassignmentsRequest",
		i32("TimeoutMs"),
		structs("Topics",
			str("Name"),
			array("PartitionIndexes", i32),
		),
	)},
	27: {flexible: 1, max: 1, body: strct("WriteTxnMarkersRequest",
		structs("Markers",
			i64("ProducerId"),
			i16("ProducerEpoch"),
			boolean("TransactionResult"),
			structs("Topics",
				str("Name"),
				array("PartitionIndexes", i32),
			),
			i32("CoordinatorEpoch"),
		),
	)},
	56: {flexible: 0, max: 1, body: strct("AlterPartitionRequest",
		i32("BrokerId"),
		i64("BrokerEpoch"),
		structs("Topics",
			str("TopicName"),
			structs("Partitions",
				i32("PartitionIndex"),
				i32("LeaderEpoch"),
				array("NewIsr", i32),
				i8("LeaderRecoveryState").from(1),
				i32("PartitionEpoch"),
			),
		),
	)},
	8: {flexible: 8, max: 8, body: strct("OffsetCommitRequest",
		str("GroupId"),
		i32("GenerationIdOrMemberEpoch"),
		str("MemberId"),
		nullStr("GroupInstanceId"),
		structs("Topics",
			str("Name"),
			structs("Partitions",
				i32("PartitionIndex"),
				i64("CommittedOffset"),
				i32("CommittedLeaderEpoch"),
				nullStr("CommittedMetadata"),
			),
		),
	)},
	9: {flexible: 6, max: 8, body: strct("OffsetFetchRequest",
		str("GroupId").upTo(7),
		structs("Topics",
			str("Name"),
			array("PartitionIndexes", i32),
		).upTo(7),
		structs("Groups",
			str("GroupId"),
			structs("Topics",
				str("Name"),
				array("PartitionIndexes", i32),
			),
		).from(8),
		boolean("RequireStable").from(7),
	)},
	10: {flexible: 3, max: 4, body: strct("FindCoordinatorRequest",
		str("Key").upTo(3),
		i8("KeyType"),
		array("CoordinatorKeys", str).from(4),
	)},
	11: {flexible: 6, max: 9, body: strct("JoinGroupRequest",
		str("GroupId"),
		i32("SessionTimeoutMs"),
		i32("RebalanceTimeoutMs"),
		str("MemberId"),
		nullStr("GroupInstanceId"),
		str("ProtocolType"),
		structs("Protocols",
			str("Name"),
			blob("Metadata"),
		),
		nullStr("Reason").from(8),
	)},
	12: {flexible: 4, max: 4, body: strct("HeartbeatRequest",
		str("GroupId"),
		i32("GenerationId"),
		str("MemberId"),
		nullStr("GroupInstanceId"),
	)},
	13: {flexible: 4, max: 5, body: strct("LeaveGroupRequest",
		str("GroupId"),
		structs("Members",
			str("MemberId"),
			nullStr("GroupInstanceId"),
			nullStr("Reason").from(5),
		),
	)},
	14: {flexible: 4, max: 5, body: strct("SyncGroupRequest",
		str("GroupId"),
		i32("GenerationId"),
		str("MemberId"),
		nullStr("GroupInstanceId"),
		nullStr("ProtocolType").from(5),
		nullStr("ProtocolName").from(5),
		structs("Assignments",
			str("MemberId"),
			blob("Assignment"),
		),
	)},
	15: {flexible: 5, max: 5, body: strct("DescribeGroupsRequest",
		array("Groups", str),
		boolean("IncludeAuthorizedOperations"),
	)},
	16: {flexible: 3, max: 5, body: strct("ListGroupsRequest",
		array("StatesFilter", str).from(4),
		array("TypesFilter", str).from(5),
	)},
	17: {flexible: never, max: 1}, // SaslHandshake
	18: {flexible: 3, max: 3, body: strct("ApiVersionsRequest",
		str("ClientSoftwareName"),
		str("ClientSoftwareVersion"),
	)},
	19: {flexible: 5, max: 7, body: strct("CreateTopicsRequest",
		structs("Topics",
			str("Name"),
			i32("NumPartitions"),
			i16("ReplicationFactor"),
			structs("Assignments",
				i32("PartitionIndex"),
				array("BrokerIds", i32),
			),
			structs("Configs",
				str("Name"),
				nullStr("Value"),
			),
		),
		i32("TimeoutMs"),
		boolean("ValidateOnly"),
	)},
	20: {flexible: 4, max: 6, body: strct("DeleteTopicsRequest",
		structs("Topics",
			nullStr("Name"),
			uuid("TopicId"),
		).from(6),
		array("TopicNames", str).upTo(5),
		i32("TimeoutMs"),
	)},
	21: {flexible: 2, max: 2, body: strct("DeleteRecordsRequest",
		structs("Topics",
			str("Name"),
			structs("Partitions",
				i32("PartitionIndex"),
				i64("Offset"),
			),
		),
		i32("TimeoutMs"),
	)},
	22: {flexible: 2, max: 4, body: strct("InitProducerIdRequest",
		nullStr("TransactionalId"),
		i32("TransactionTimeoutMs"),
		i64("ProducerId").from(3),
		i16("ProducerEpoch").from(3),
	)},
	29: {flexible: 2, max: 3, body: strct("DescribeAclsRequest",
		i8("ResourceTypeFilter"),
		nullStr("ResourceNameFilter"),
		i8("PatternTypeFilter").from(1),
		nullStr("PrincipalFilter"),
		nullStr("HostFilter"),
		i8("Operation"),
		i8("PermissionType"),
	)},
	30: {flexible: 2, max: 3, body: strct("CreateAclsRequest",
		structs("Creations",
			i8("ResourceType"),
			str("ResourceName"),
			i8("ResourcePatternType").from(1),
			str("Principal"),
			str("Host"),
			i8("Operation"),
			i8("PermissionType"),
		),
	)},
	31: {flexible: 2, max: 3, body: strct("DeleteAclsRequest",
		structs("Filters",
			i8("ResourceTypeFilter"),
			nullStr("ResourceNameFilter"),
			i8("PatternTypeFilter").from(1),
			nullStr("PrincipalFilter"),
			nullStr("HostFilter"),
			i8("Operation"),
			i8("PermissionType"),
		),
	)},
	32: {flexible: 4, max: 4, body: strct("DescribeConfigsRequest",
		structs("Resources",
			i8("ResourceType"),
			str("ResourceName"),
			array("ConfigurationKeys", str),
		),
		boolean("IncludeSynonyms"),
		boolean("IncludeDocumentation"),
	)},
	33: {flexible: 2, max: 2, body: strct("AlterConfigsRequest",
		structs("Resources",
			i8("ResourceType"),
			str("ResourceName"),
			structs("Configs",
				str("Name"),
				nullStr("Value"),
			),
		),
		boolean("ValidateOnly"),
	)},
	35: {flexible: 2, max: 4, body: strct("DescribeLogDirsRequest",
		structs("Topics",
			str("Topic"),
			array("Partitions", i32),
		),
	)},
	36: {flexible: 2, max: 2, body: strct("SaslAuthenticateRequest",
		blob("AuthBytes"),
	)},
	37: {flexible: 2, max: 3, body: strct("CreatePartitionsRequest",
		structs("Topics",
			str("Name"),
			i32("Count"),
			structs("Assignments",
				array("BrokerIds", i32),
			),
		),
		i32("TimeoutMs"),
		boolean("ValidateOnly"),
	)},
	42: {flexible: 2, max: 2, body: strct("DeleteGroupsRequest",
		array("GroupsNames", str),
	)},
	44: {flexible: 1, max: 1, body: strct("IncrementalAlterConfigsRequest",
		structs("Resources",
			i8("ResourceType"),
			str("ResourceName"),
			structs("Configs",
				str("Name"),
				i8("ConfigOperation"),
				nullStr("Value"),
			),
		),
		boolean("ValidateOnly"),
	)},
	47: {flexible: never, max: 0}, // OffsetDelete
	50: {flexible: 0, max: 0, body: strct("DescribeUserScramCredentialsRequest",
		structs("Users",
			str("Name"),
		),
	)},
	51: {flexible: 0, max: 0, body: strct("AlterUserScramCredentialsRequest",
		structs("Deletions",
			str("Name"),
			i8("Mechanism"),
		),
		structs("Upsertions",
			str("Name"),
			i8("Mechanism"),
			i32("Iterations"),
			blob("Salt"),
			blob("SaltedPassword"),
		),
	)},
	60: {flexible: 0, max: 1, body: strct("DescribeClusterRequest",
		boolean("IncludeClusterAuthorizedOperations"),
		i8("EndpointType").from(1),
	)},
}
