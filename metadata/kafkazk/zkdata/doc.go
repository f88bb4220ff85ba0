// Package zkdata is Samsa's counterpart of Kafka's ZkData: the znodes of
// Kafka's ZooKeeper mode (Kafka 3.x), their paths (paths.go), the values
// they hold, and the encoders and decoders of their bytes (codec.go), so
// that Kafka's own tools and brokers read what Samsa writes and the other
// way round. It is data only: no I/O, no locks; package kafkazk reads and
// writes the znodes.
//
// # Layout
//
// Paths are relative to the chroot of zookeeper.connect. The layout and the
// JSON shapes are part of the format shared with Kafka: never change them.
// JSON key order carries no meaning; decoders ignore unknown keys.
//
//	znode                                        kind        content (written by)
//	-------------------------------------------  ----------  ---------------------------------------------------------------
//	/brokers/ids/<id>                            ephemeral   {"version":5,"host":h|null,"port":p|-1,"endpoints":["L://h:p"],
//	                                                         "listener_security_protocol_map":{"L":"PROTO"},"jmx_port":-1,
//	                                                         "timestamp":"<ms>","rack":r (only when set),"features":{}}
//	                                                         (the broker; czxid = broker epoch)
//	/brokers/seqid                               persistent  empty; its version generates broker ids (brokers)
//	/brokers/topics/<t>                          persistent  {"version":3,"partitions":{"0":[1,2]},"adding_replicas":{},
//	                                                         "removing_replicas":{},"topic_id":"<base64url uuid>"}
//	                                                         (admin: create, add partitions; controller: reassignment)
//	/brokers/topics/<t>/partitions/<p>/state     persistent  {"version":1,"leader":1,"leader_epoch":4,"isr":[1,2],
//	                                                         "controller_epoch":3[,"leader_recovery_state":1]}
//	                                                         (controller; znode version = partition epoch)
//	/controller                                  ephemeral   {"version":2,"brokerid":N,"timestamp":"<ms>","kraftControllerEpoch":-1}
//	/controller_epoch                            persistent  decimal text, e.g. 3 (the election)
//	/config/topics/<t>                           persistent  {"version":1,"config":{"k":"v"}} (admin)
//	/config/changes/config_change_<10 digits>    sequential  {"version":2,"entity_path":"topics/<t>"} (admin)
//	/config/{clients,users,brokers,ips}          persistent  created empty at start
//	/admin/delete_topics/<t>                     persistent  empty: deletion requested (admin; removed by controller)
//	/admin/reassign_partitions                   persistent  {"version":1,"partitions":[{"topic":t,"partition":p,
//	                                                         "replicas":[..]}]} (admin creates; controller rewrites, deletes)
//	/cluster/id                                  persistent  {"version":"1","id":"<base64url uuid>"} (first broker)
//	/latest_producer_id_block                    persistent  {"version":1,"broker":N,"block_start":"0","block_end":"999"}
//	                                                         (brokers; numbers as strings)
//	/isr_change_notification, /log_dir_event_notification, /consumers
//	                                             persistent  created empty at start, for Kafka tools
//
// # Invariants
//
//  1. The paths and JSON shapes are Kafka's; each encoder writes the shape
//     Kafka 3.8 writes, and each decoder reads what Kafka 3.x (and Samsa)
//     wrote, older versions included where Kafka still reads them.
//  2. Decoders never panic, whatever the bytes (FuzzDecoders): they return
//     a value or an error saying what is wrong, and ignore keys they do
//     not know, as Kafka does.
//  3. What a decoder accepts re-encodes to bytes that decode to the same
//     value (FuzzDecoders).
//
// Locks: none.
package zkdata
