package adminapi

// DescribeLogDirs (key 35), versions 0-4.
//
// The broker has one log directory: its absolute path, and for each
// partition asked for (a null topic list asks for all) the bytes of its
// segments, an offset lag of 0 (the log end offset is the high watermark
// of a single replica) and is_future false (no AlterReplicaLogDirs, KIP-113).
// Topics with no partition asked for are left out, as Kafka 3.3+ does;
// partitions this broker does not have are absent rather than errors. v4
// adds the volume's total and usable bytes (statfs; KIP-827). A directory
// that cannot be statted answers KAFKA_STORAGE_ERROR. Needs Describe on the
// cluster: else no directory and CLUSTER_AUTHORIZATION_FAILED (v3+).

import (
	"path/filepath"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"golang.org/x/sys/unix"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(35, 0, 4, serveDescribeLogDirs) }

func serveDescribeLogDirs(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.DescribeLogDirsRequest)
	h := rc.Handler()
	resp := kmsg.NewPtrDescribeLogDirsResponse()
	if !rc.AuthorizeCluster(acl.OpDescribe) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code // v3+; before, no directories at all
		return rc.Respond(resp)
	}
	d := kmsg.NewDescribeLogDirsResponseDir()
	path, err := filepath.Abs(h.Replicas().Dir().Path())
	if err != nil {
		path = h.Replicas().Dir().Path()
	}
	d.Dir = path
	var fs unix.Statfs_t
	if err := unix.Statfs(path, &fs); err != nil {
		h.Logger().Error("statfs of the log directory", "dir", path, "err", err)
		d.ErrorCode = kerr.KafkaStorageError.Code
		resp.Dirs = append(resp.Dirs, d)
		return rc.Respond(resp)
	}
	d.TotalBytes = int64(fs.Blocks) * int64(fs.Bsize)
	d.UsableBytes = int64(fs.Bavail) * int64(fs.Bsize)

	var asked map[string]map[int32]bool // nil: all
	if req.Topics != nil {
		asked = make(map[string]map[int32]bool, len(req.Topics))
		for _, rt := range req.Topics {
			if asked[rt.Topic] == nil {
				asked[rt.Topic] = map[int32]bool{}
			}
			for _, p := range rt.Partitions {
				asked[rt.Topic][p] = true
			}
		}
	}
	for _, name := range h.Replicas().TopicNames() {
		ts := h.Replicas().Topic(name)
		if ts == nil || asked != nil && asked[name] == nil {
			continue
		}
		dt := kmsg.NewDescribeLogDirsResponseDirTopic()
		dt.Topic = name
		for _, p := range ts.Parts {
			if p == nil || asked != nil && !asked[name][p.Index] {
				continue
			}
			dp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
			dp.Partition = p.Index
			dp.Size = p.Log.Size()
			dt.Partitions = append(dt.Partitions, dp)
		}
		if len(dt.Partitions) > 0 {
			d.Topics = append(d.Topics, dt)
		}
	}
	resp.Dirs = append(resp.Dirs, d)
	return rc.Respond(resp)
}
