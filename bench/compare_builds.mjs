// Two saleslake builds on the same lake, query by query: "did this refactor change the speed?"
// Runs the dashboard suite of bench/sql_dashboard.mjs (read from that file) as `saleslake query
// --timing` processes, alternating A and B so that both see the same machine load, and keeps each
// side's best statement time (the engine's own timing: planning and execution, without process
// start-up). Prints per-query milliseconds, the B/A ratio and the geometric mean.
// Usage: node bench/compare_builds.mjs LAKE_DIR SALESLAKE_A SALESLAKE_B [ROUNDS]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const [lake, binA, binB] = process.argv.slice(2);
const rounds = Number(process.argv[5] || 3);
const suite = fs.readFileSync(path.join(here, 'sql_dashboard.mjs'), 'utf8');
const queries = [...suite.matchAll(/\['([^']+)', `([^`]+)`\]/g)].map((m) => [m[1], m[2]]);
if (!lake || !binB || queries.length === 0) {
  console.error('usage: node bench/compare_builds.mjs LAKE_DIR SALESLAKE_A SALESLAKE_B [ROUNDS]');
  process.exit(2);
}

function statementMs(bin, sql) {
  const r = spawnSync(bin, ['--lake', lake, 'query', '--timing', sql], { maxBuffer: 1 << 28 });
  const m = /\(\d+ rows?, ([0-9.]+) s\)/.exec(r.stderr.toString() + r.stdout.toString());
  if (r.status !== 0 || !m) throw new Error(`${bin}: ${sql}: ${r.stderr}`);
  return Number(m[1]) * 1000;
}

let logSum = 0;
console.log('| query | A ms | B ms | B/A |\n|---|---:|---:|---:|');
for (const [name, sql] of queries) {
  let a = Infinity;
  let b = Infinity;
  for (let i = 0; i < rounds; ++i) {
    a = Math.min(a, statementMs(binA, sql));
    b = Math.min(b, statementMs(binB, sql));
  }
  logSum += Math.log(b / a);
  console.log(`| ${name} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(3)} |`);
}
console.log(`geometric mean B/A over ${queries.length} queries: ${Math.exp(logSum / queries.length).toFixed(3)}`);
