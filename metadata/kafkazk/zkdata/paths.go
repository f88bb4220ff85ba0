package zkdata

import (
	"fmt"
	"strconv"
)

// Znode paths, relative to the chroot. Part of the format shared with Kafka:
// never change.
const (
	BrokersPath            = "/brokers"
	BrokerIDsPath          = "/brokers/ids"
	TopicsPath             = "/brokers/topics"
	BrokerSeqIDPath        = "/brokers/seqid"
	ControllerPath         = "/controller"
	ControllerEpochPath    = "/controller_epoch"
	ClusterPath            = "/cluster"
	ClusterIDPath          = "/cluster/id"
	ConfigPath             = "/config"
	ConfigChangesPath      = "/config/changes"
	AdminPath              = "/admin"
	DeleteTopicsPath       = "/admin/delete_topics"
	ReassignPartitionsPath = "/admin/reassign_partitions"
	ProducerIDBlockPath    = "/latest_producer_id_block"
	IsrChangePath          = "/isr_change_notification"
	LogDirEventPath        = "/log_dir_event_notification"
	ConsumersPath          = "/consumers"

	// ConfigChangePrefix names the sequential znodes under ConfigChangesPath.
	ConfigChangePrefix = "config_change_"
)

// Config entity types: the children of /config.
const (
	ConfigTopics  = "topics"
	ConfigClients = "clients"
	ConfigUsers   = "users"
	ConfigBrokers = "brokers"
	ConfigIPs     = "ips"
)

// PersistentPaths are the persistent znodes a broker makes sure exist at
// start (Kafka's ZkData.PersistentZkPaths).
func PersistentPaths() []string {
	return []string{
		ConsumersPath,
		BrokerIDsPath,
		TopicsPath,
		ConfigChangesPath,
		DeleteTopicsPath,
		BrokerSeqIDPath,
		IsrChangePath,
		ProducerIDBlockPath,
		LogDirEventPath,
		ConfigPath + "/" + ConfigTopics,
		ConfigPath + "/" + ConfigClients,
		ConfigPath + "/" + ConfigUsers,
		ConfigPath + "/" + ConfigBrokers,
		ConfigPath + "/" + ConfigIPs,
	}
}

// BrokerPath is /brokers/ids/<id>.
func BrokerPath(id int32) string { return BrokerIDsPath + "/" + strconv.Itoa(int(id)) }

// TopicPath is /brokers/topics/<topic>.
func TopicPath(topic string) string { return TopicsPath + "/" + topic }

// PartitionsPath is /brokers/topics/<topic>/partitions.
func PartitionsPath(topic string) string { return TopicPath(topic) + "/partitions" }

// PartitionPath is /brokers/topics/<topic>/partitions/<p>.
func PartitionPath(tp TopicPartition) string {
	return PartitionsPath(tp.Topic) + "/" + strconv.Itoa(int(tp.Partition))
}

// PartitionStatePath is /brokers/topics/<topic>/partitions/<p>/state.
func PartitionStatePath(tp TopicPartition) string { return PartitionPath(tp) + "/state" }

// TopicConfigPath is /config/topics/<topic>.
func TopicConfigPath(topic string) string { return ConfigPath + "/" + ConfigTopics + "/" + topic }

// BrokerConfigPath is /config/brokers/<id>: a broker's dynamic configs.
func BrokerConfigPath(id int32) string {
	return ConfigPath + "/" + ConfigBrokers + "/" + strconv.Itoa(int(id))
}

// DeleteTopicPath is /admin/delete_topics/<topic>.
func DeleteTopicPath(topic string) string { return DeleteTopicsPath + "/" + topic }

// TopicPartition names one partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }
