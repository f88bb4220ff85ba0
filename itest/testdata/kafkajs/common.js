'use strict'
// Shared by the kafkajs scripts that broker/itest/kafkajs_test.go runs.
// Each script takes the broker address in argv, reads its input (if any)
// as JSON on stdin and prints one JSON object on stdout; kafkajs logs go
// to stderr. Bytes travel as base64 strings, null as null; headers as
// [key, base64] pairs in order, a repeated key once per value.
// KAFKAJS_LOG_LEVEL (NOTHING, ERROR, WARN, INFO, DEBUG) sets how much
// kafkajs logs; the default is WARN.

const { Kafka, logLevel } = require('kafkajs')

// Debug logs carry BigInts, which JSON.stringify refuses.
const jsonSafe = (k, v) => (typeof v === 'bigint' ? v.toString() : v)

const logCreator = () => ({ namespace, label, log }) => {
  const { message, timestamp, logger, ...extra } = log
  process.stderr.write(`${timestamp} ${label} [${namespace}] ${message} ${JSON.stringify(extra, jsonSafe)}\n`)
}

// security is the TLS and SASL of the environment: KAFKAJS_SSL_CA (the
// CA's PEM file) for TLS, KAFKAJS_SASL_MECHANISM (plain, scram-sha-256,
// scram-sha-512) with KAFKAJS_SASL_USERNAME and KAFKAJS_SASL_PASSWORD.
function security() {
  const out = {}
  if (process.env.KAFKAJS_SSL_CA) out.ssl = { ca: [require('fs').readFileSync(process.env.KAFKAJS_SSL_CA, 'utf8')] }
  if (process.env.KAFKAJS_SASL_MECHANISM) {
    out.sasl = {
      mechanism: process.env.KAFKAJS_SASL_MECHANISM,
      username: process.env.KAFKAJS_SASL_USERNAME,
      password: process.env.KAFKAJS_SASL_PASSWORD,
    }
  }
  return out
}

function kafka(broker) {
  return new Kafka({
    ...security(),
    clientId: 'samsa-itest-kafkajs',
    brokers: [broker],
    logLevel: logLevel[process.env.KAFKAJS_LOG_LEVEL || 'WARN'],
    logCreator,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
  })
}

const b64 = buf => (buf == null ? null : Buffer.from(buf).toString('base64'))
const unb64 = s => (s == null ? null : Buffer.from(s, 'base64'))

// headersIn turns [key, base64] pairs into kafkajs headers: an object whose
// repeated keys hold arrays.
function headersIn(pairs) {
  const out = {}
  for (const [k, v] of pairs || []) {
    const buf = unb64(v)
    if (!(k in out)) out[k] = buf
    else if (Array.isArray(out[k])) out[k].push(buf)
    else out[k] = [out[k], buf]
  }
  return out
}

function headersOut(headers) {
  const out = []
  for (const [k, v] of Object.entries(headers || {})) {
    for (const one of Array.isArray(v) ? v : [v]) out.push([k, b64(one)])
  }
  return out
}

// record is a consumed message in the tests' JSON form.
function record(partition, message) {
  return {
    partition,
    offset: Number(message.offset),
    key: b64(message.key),
    value: b64(message.value),
    headers: headersOut(message.headers),
  }
}

async function readStdin() {
  const chunks = []
  for await (const c of process.stdin) chunks.push(c)
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

// main runs fn, prints its result as JSON and exits; any error, or no
// result within limitMs, exits with status 1.
function main(fn, limitMs = 45000) {
  const timer = setTimeout(() => {
    process.stderr.write(`no result after ${limitMs} ms\n`)
    process.exit(1)
  }, limitMs)
  fn().then(
    out => {
      clearTimeout(timer)
      process.stdout.write(JSON.stringify(out) + '\n', () => process.exit(0))
    },
    err => {
      process.stderr.write(`${err && err.stack ? err.stack : err}\n`)
      process.exit(1)
    },
  )
}

module.exports = { kafka, b64, unb64, headersIn, headersOut, record, readStdin, main }
