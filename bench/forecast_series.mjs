// Writes N synthetic daily product series (product,date,units) for bench/forecast_throughput.sh:
// a level, a linear trend, a weekly pattern and Gaussian noise, clipped at 0. Deterministic
// (xorshift64* seeded with 1) so every run and both engines see the same numbers.
// Usage: node bench/forecast_series.mjs OUT.csv [SERIES=5000] [DAYS=237]
import { createWriteStream } from 'node:fs';

const [out, nArg, dArg] = process.argv.slice(2);
if (!out) {
  console.error('usage: node bench/forecast_series.mjs OUT.csv [SERIES] [DAYS]');
  process.exit(2);
}
const series = Number(nArg ?? 5000);
const days = Number(dArg ?? 237);

let state = 0x9e3779b97f4a7c15n;
const mask = (1n << 64n) - 1n;
function uniform() {  // xorshift64*, top 53 bits -> [0, 1)
  state ^= state >> 12n;
  state ^= (state << 25n) & mask;
  state ^= state >> 27n;
  const r = (state * 0x2545f4914f6cdd1dn) & mask;
  return Number(r >> 11n) / 2 ** 53;
}
function gauss() {  // Box-Muller; the second value is dropped to keep the stream simple
  const u = 1 - uniform();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
}

const dates = [];
const d0 = Date.UTC(2025, 0, 1);
for (let i = 0; i < days; ++i) dates.push(new Date(d0 + i * 86400000).toISOString().slice(0, 10));

const w = createWriteStream(out);
let buf = 'product,date,units\n';
for (let p = 0; p < series; ++p) {
  const base = 5 + 195 * uniform();
  const trend = -0.05 + 0.25 * uniform();
  const pattern = Array.from({ length: 7 }, () => 0.7 + 0.7 * uniform());
  const name = 'P' + String(p).padStart(4, '0');
  for (let i = 0; i < days; ++i) {
    const v = Math.max(0, (base + trend * i) * pattern[i % 7] + gauss() * base * 0.2);
    buf += `${name},${dates[i]},${v.toFixed(2)}\n`;
  }
  if (buf.length > 1 << 20) {
    w.write(buf);
    buf = '';
  }
}
w.end(buf);
