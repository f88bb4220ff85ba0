'use strict'
// node groupadmin.js BROKER TOPIC GROUP
// kafkajs admin calls on a group with no members and its topic, in turn:
// setOffsets (partition 0 to 1, partition 1 to -2, the earliest) and
// fetchOffsets; deleteTopicRecords below offset 2 of partition 1 and
// fetchTopicOffsets; deleteGroups and listGroups. Prints what each
// returned. setOffsets joins the group with a paused consumer and waits
// for its first fetch round, which kafkajs sleeps through for the
// consumer's maxWaitTimeInMs (5 s, not settable through the admin client).

const { kafka, main } = require('./common')

main(async () => {
  const [broker, topic, groupId] = process.argv.slice(2)
  const admin = kafka(broker).admin()
  await admin.connect()
  const out = {}
  const committed = async () => {
    const res = await admin.fetchOffsets({ groupId, topics: [topic] })
    return res[0].partitions.map(p => ({ partition: p.partition, offset: p.offset })).sort((a, b) => a.partition - b.partition)
  }
  try {
    await admin.setOffsets({
      groupId,
      topic,
      partitions: [
        { partition: 0, offset: '1' },
        { partition: 1, offset: '-2' },
      ],
    })
    out.afterSet = await committed()
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 1, offset: '2' }] })
    out.offsetsAfterDelete = (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition)
    out.deletedGroups = await admin.deleteGroups([groupId])
    out.groupsAfter = (await admin.listGroups()).groups.map(g => g.groupId)
  } finally {
    await admin.disconnect()
  }
  return out
})
