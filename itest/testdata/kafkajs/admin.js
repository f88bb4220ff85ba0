'use strict'
// node admin.js BROKER NEW_TOPIC EXISTING_TOPIC GROUP
// Runs kafkajs admin calls in turn and prints what each returned:
// createTopics of NEW_TOPIC (3 partitions, retention.ms=3600000) twice,
// listTopics, fetchTopicMetadata, describeConfigs, createPartitions (to 5)
// and fetchTopicMetadata again, fetchTopicOffsets and
// fetchTopicOffsetsByTimestamp of EXISTING_TOPIC, listGroups,
// describeGroups and fetchOffsets of GROUP, describeCluster, deleteTopics
// and listTopics again.

const { AssignerProtocol, ConfigResourceTypes } = require('kafkajs')
const { kafka, main } = require('./common')

main(async () => {
  const [broker, newTopic, existing, group] = process.argv.slice(2)
  const admin = kafka(broker).admin()
  await admin.connect()
  const out = {}
  try {
    const create = {
      topics: [{ topic: newTopic, numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
      waitForLeaders: true,
    }
    out.created = await admin.createTopics(create)
    out.createdAgain = await admin.createTopics(create)
    out.topics = (await admin.listTopics()).sort()
    out.metadata = await admin.fetchTopicMetadata({ topics: [newTopic, existing] })
    const configs = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: newTopic, configNames: ['retention.ms'] }],
      includeSynonyms: false,
    })
    out.configs = configs.resources.map(r => ({
      name: r.resourceName,
      errorCode: r.errorCode,
      entries: r.configEntries.map(e => ({ name: e.configName, value: e.configValue, isDefault: e.isDefault })),
    }))
    await admin.createPartitions({ topicPartitions: [{ topic: newTopic, count: 5 }] })
    out.metadataAfter = await admin.fetchTopicMetadata({ topics: [newTopic] })
    out.offsets = (await admin.fetchTopicOffsets(existing)).sort((a, b) => a.partition - b.partition)
    out.offsetsByTimestamp = {
      zero: (await admin.fetchTopicOffsetsByTimestamp(existing, 0)).sort((a, b) => a.partition - b.partition),
      future: (await admin.fetchTopicOffsetsByTimestamp(existing, Date.now() + 3600000)).sort((a, b) => a.partition - b.partition),
    }
    out.groups = (await admin.listGroups()).groups
    const described = await admin.describeGroups([group])
    out.described = described.groups.map(g => ({
      groupId: g.groupId,
      errorCode: g.errorCode,
      state: g.state,
      protocolType: g.protocolType,
      protocol: g.protocol,
      members: g.members.map(m => ({
        memberId: m.memberId,
        clientId: m.clientId,
        assignment: AssignerProtocol.MemberAssignment.decode(m.memberAssignment).assignment,
        topics: AssignerProtocol.MemberMetadata.decode(m.memberMetadata).topics,
      })),
    }))
    out.committed = await admin.fetchOffsets({ groupId: group, topics: [existing] })
    out.cluster = await admin.describeCluster()
    out.deleted = await admin.deleteTopics({ topics: [newTopic] })
    out.topicsAfter = (await admin.listTopics()).sort()
  } finally {
    await admin.disconnect()
  }
  return out
})
