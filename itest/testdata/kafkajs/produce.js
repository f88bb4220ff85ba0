'use strict'
// node produce.js BROKER TOPIC < {"idempotent": bool, "compression": "none"|"gzip",
//   "autoCreate": bool, "sends": [[{"key", "value", "headers"}, ...], ...]}
// Sends each list with one producer.send (acks=all), in order, partitioned
// by kafkajs's default (murmur2) partitioner. Prints {"reports": [[{partition,
// baseOffset, errorCode}, ...] per send]}.

const { Partitioners, CompressionTypes } = require('kafkajs')
const { kafka, unb64, headersIn, readStdin, main } = require('./common')

main(async () => {
  const [broker, topic] = process.argv.slice(2)
  const input = await readStdin()
  const producer = kafka(broker).producer({
    idempotent: !!input.idempotent,
    maxInFlightRequests: input.idempotent ? 1 : undefined,
    allowAutoTopicCreation: !!input.autoCreate,
    createPartitioner: Partitioners.DefaultPartitioner,
  })
  const compression = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP }[input.compression || 'none']
  if (compression === undefined) throw new Error(`unknown compression ${input.compression}`)
  await producer.connect()
  const reports = []
  try {
    for (const msgs of input.sends) {
      const res = await producer.send({
        topic,
        acks: -1,
        compression,
        messages: msgs.map(m => ({ key: unb64(m.key), value: unb64(m.value), headers: headersIn(m.headers) })),
      })
      reports.push(
        res
          .map(r => ({ partition: r.partition, baseOffset: Number(r.baseOffset), errorCode: r.errorCode }))
          .sort((a, b) => a.partition - b.partition),
      )
    }
  } finally {
    await producer.disconnect()
  }
  return { reports }
})
