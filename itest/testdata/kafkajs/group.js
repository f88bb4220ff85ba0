'use strict'
// node group.js BROKER TOPIC GROUP MEMBERS WANT
// Runs MEMBERS consumers of GROUP subscribed to TOPIC from the beginning,
// with kafkajs's default (round-robin) assigner and auto-commit, until
// they have read WANT messages together; then disconnects them (which
// commits and leaves the group). Prints {"members": [{memberId,
// assignment, records}]}: each member's last GROUP_JOIN and what it
// read.

const { kafka, record, main } = require('./common')

main(async () => {
  const [broker, topic, groupId, membersArg, wantArg] = process.argv.slice(2)
  const want = Number(wantArg)
  const k = kafka(broker)
  let total = 0
  let finish
  let fail
  const finished = new Promise((resolve, reject) => {
    finish = resolve
    fail = reject
  })
  const members = []
  for (let i = 0; i < Number(membersArg); i++) {
    const m = { memberId: null, assignment: null, records: [] }
    const consumer = k.consumer({
      groupId,
      sessionTimeout: 6000,
      rebalanceTimeout: 10000,
      heartbeatInterval: 300,
      maxWaitTimeInMs: 200,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
    })
    consumer.on(consumer.events.GROUP_JOIN, e => {
      m.memberId = e.payload.memberId
      m.assignment = e.payload.memberAssignment
    })
    consumer.on(consumer.events.CRASH, e => fail(new Error(`consumer ${i} crashed: ${e.payload.error && e.payload.error.stack}`)))
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        m.records.push(record(partition, message))
        if (++total >= want) finish()
      },
    })
    members.push({ m, consumer })
  }
  await finished
  await Promise.all(members.map(x => x.consumer.disconnect()))
  return { members: members.map(x => x.m) }
})
