// One side of bench/events_bench.sh: a webhook receiver (a node http server that timestamps
// arrivals and confirms subscriptions as an SNS endpoint does) and an SNS client of a running
// `saleslake serve` (query protocol, requests signed with @smithy/signature-v4).
//   latency ENDPOINT RATE SECONDS   Publish at RATE/s (open loop) to a new topic the receiver is
//                                   subscribed to; prints publish->arrival p50/p99 and the
//                                   Publish round trip.
//   alert ENDPOINT TOPIC CMD...     Subscribes to TOPIC, runs CMD (the upload), prints the time
//                                   from CMD's start to the first notification at the receiver.
// Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import http from 'node:http';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../tools/peers/package.json'));
const { SignatureV4 } = require('@smithy/signature-v4');

class Sha256 {
  constructor(secret) { this.h = secret ? crypto.createHmac('sha256', secret) : crypto.createHash('sha256'); }
  update(data) { this.h.update(data); }
  async digest() { return new Uint8Array(this.h.digest()); }
}

const [mode, endpoint, ...rest] = process.argv.slice(2);
const url = new URL(endpoint);
const signer = new SignatureV4({
  service: 'sns', region: 'us-east-1', sha256: Sha256,
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY },
});
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const now = () => performance.now();
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

function send(method, target, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(target, { method, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function sns(params) {
  const body = new URLSearchParams({ ...params, Version: '2010-03-31' }).toString();
  const signed = await signer.sign({
    method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/',
    headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body,
  });
  const r = await send('POST', endpoint, signed.headers, body);
  if (r.status !== 200) throw new Error(`${params.Action}: HTTP ${r.status} ${r.text}`);
  return r.text;
}
const tag = (xml, name) => (xml.match(new RegExp(`<${name}>([^<]*)</${name}>`)) || [])[1];

// The receiver: confirms subscriptions, hands notifications (with their arrival time) to onNote.
let onNote = () => {};
let confirmed = () => {};
const receiver = http.createServer((req, res) => {
  let text = '';
  req.setEncoding('utf8');
  req.on('data', (c) => { text += c; });
  req.on('end', () => {
    const at = now();
    res.end('ok');
    let j;
    try { j = JSON.parse(text); } catch { return; }
    if (j.Type === 'SubscriptionConfirmation') {
      send('GET', j.SubscribeURL, {}, undefined).then((r) => confirmed(r.status)).catch((e) => confirmed(e));
    } else if (j.Type === 'Notification') {
      onNote(j, at);
    }
  });
});
receiver.keepAliveTimeout = 60000;
await new Promise((ok) => receiver.listen(0, '127.0.0.1', ok));
const hook = `http://127.0.0.1:${receiver.address().port}/hook`;

async function subscribe(topicArn) {
  const done = new Promise((ok) => { confirmed = ok; });
  await sns({ Action: 'Subscribe', TopicArn: topicArn, Protocol: 'http', Endpoint: hook });
  const status = await Promise.race([done, new Promise((ok) => setTimeout(() => ok('timeout'), 30000).unref())]);
  if (status !== 200) throw new Error(`subscription not confirmed: ${status}`);
}

async function latency(rate, seconds) {
  const topicArn = tag(await sns({ Action: 'CreateTopic', Name: `bench-latency-${process.pid}` }), 'TopicArn');
  await subscribe(topicArn);
  const total = rate * seconds;
  const sent = new Float64Array(total).fill(NaN);
  const delivery = [];
  let dupes = 0;
  const seen = new Uint8Array(total);
  onNote = (j, at) => {
    const seq = JSON.parse(j.Message).seq;
    if (seen[seq]++) { ++dupes; return; }
    delivery.push(at - sent[seq]);
  };
  const acks = [];
  let errors = 0;
  const start = now();
  const inflight = [];
  for (let i = 0; i < total; ++i) {
    const due = start + (i * 1000) / rate;  // open loop: the schedule does not wait for replies
    const wait = due - now();
    if (wait > 1) await new Promise((ok) => setTimeout(ok, wait));
    const message = JSON.stringify({ seq: i, pad: 'x'.repeat(200) });
    sent[i] = now();
    const t = sent[i];
    inflight.push(sns({ Action: 'Publish', TopicArn: topicArn, Message: message })
      .then(() => acks.push(now() - t), () => { ++errors; }));
  }
  await Promise.all(inflight);
  const publishSeconds = (now() - start) / 1000;
  const deadline = now() + 60000;
  while (delivery.length < total - errors && now() < deadline) await new Promise((ok) => setTimeout(ok, 50));
  delivery.sort((a, b) => a - b);
  acks.sort((a, b) => a - b);
  const f = (x) => Number(x.toFixed(1));
  console.log(JSON.stringify({
    phase: 'sns_latency', target_rate: rate, published: total - errors, publish_errors: errors,
    achieved_rate: Math.round((total - errors) / publishSeconds), delivered: delivery.length, duplicates: dupes,
    delivery_ms: { p50: f(pct(delivery, 0.5)), p90: f(pct(delivery, 0.9)), p99: f(pct(delivery, 0.99)), max: f(delivery.at(-1)) },
    publish_rtt_ms: { p50: f(pct(acks, 0.5)), p99: f(pct(acks, 0.99)) },
  }));
  await sns({ Action: 'DeleteTopic', TopicArn: topicArn });
}

async function alert(topicName, cmd) {
  const topics = await sns({ Action: 'ListTopics' });
  const topicArn = [...topics.matchAll(/<TopicArn>([^<]*)<\/TopicArn>/g)].map((m) => m[1])
    .find((a) => a.endsWith(`:${topicName}`));
  if (!topicArn) throw new Error(`no topic ${topicName}`);
  await subscribe(topicArn);
  const first = new Promise((ok) => { onNote = (j, at) => ok({ j, at }); });
  const start = now();
  let uploaded;
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
  const exit = new Promise((ok) => child.on('exit', (code) => { uploaded = now(); ok(code); }));
  const { j, at } = await Promise.race([first, new Promise((_, no) => setTimeout(() => no(new Error('no alert in 600 s')), 600000).unref())]);
  const code = await exit;
  const message = JSON.parse(j.Message);
  console.log(JSON.stringify({
    phase: 'upload_to_alert', upload_exit: code, upload_s: Number(((uploaded - start) / 1000).toFixed(2)),
    alert_s: Number(((at - start) / 1000).toFixed(2)), after_upload_s: Number(((at - uploaded) / 1000).toFixed(2)),
    alert: { type: message.type, metric: message.metric, value: message.value, threshold: message.threshold },
  }));
}

try {
  if (mode === 'latency') await latency(Number(rest[0] || 1000), Number(rest[1] || 10));
  else if (mode === 'alert') await alert(rest[0], rest.slice(1));
  else throw new Error('usage: events_sns.mjs latency|alert ENDPOINT ...');
} catch (e) {
  console.error(`events_sns.mjs: ${e.message}`);
  process.exitCode = 1;
}
agent.destroy();
receiver.close();
receiver.closeAllConnections();
