// The console's SQL tokenizer (web/console/sql_highlight.js) without a browser: token types,
// texts that concatenate back to the input, quotes doubled inside strings, unterminated strings
// and comments, parameters against casts. Run by tests/server/console_test.cc:
//   node sql_highlight_check.mjs   -> "sql highlight ok", or the failed case and exit 1.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const here = path.dirname(new URL(import.meta.url).pathname);
const { tokenize } = await import(pathToFileURL(path.join(here, '../../../web/console/sql_highlight.js')).href);

let failed = 0;
function expect(sql, want) {
  const got = tokenize(sql).filter((t) => t.type !== 'ws').map((t) => `${t.type}:${t.text}`);
  const joined = tokenize(sql).map((t) => t.text).join('');
  if (JSON.stringify(got) !== JSON.stringify(want) || joined !== sql) {
    failed++;
    console.log(`FAILED ${JSON.stringify(sql)}\n  got  ${JSON.stringify(got)}\n  want ${JSON.stringify(want)}`);
  }
}

expect("SELECT a, 'it''s <b>' AS s FROM t", ['keyword:SELECT', 'ident:a', 'op:,', "string:'it''s <b>'", 'keyword:AS', 'ident:s', 'keyword:FROM', 'ident:t']);
expect('select "Odd ""name""" from x', ['keyword:select', 'qident:"Odd ""name"""', 'keyword:from', 'ident:x']);
expect('1 2.5 .5 1e3 2.5E-2 3e', ['number:1', 'number:2.5', 'number:.5', 'number:1e3', 'number:2.5E-2', 'number:3', 'ident:e']);
expect('a -- c <img onerror=x>\nb', ['ident:a', 'comment:-- c <img onerror=x>', 'ident:b']);
expect('a /* x\ny */ b /* open', ['ident:a', 'comment:/* x\ny */', 'ident:b', 'comment:/* open']);
expect("WHERE s = 'open", ['keyword:WHERE', 'ident:s', 'op:=', "string:'open"]);
expect('x = :region AND y::int', ['ident:x', 'op:=', 'param::region', 'keyword:AND', 'ident:y', 'op::', 'op::', 'keyword:int']);
expect('', []);

if (failed) process.exit(1);
console.log('sql highlight ok');
