// SQL syntax highlighting for the console's editors (the SQL editor and the tile SQL editor).
//
// A small tokenizer of our own (keywords, strings, quoted identifiers, numbers, comments,
// parameters, identifiers, operators) and an overlay: the <textarea> stays the editor (typing,
// selection, undo, completion and tests keep working on it) with transparent text over a <pre>
// that shows the same text in coloured spans, scrolled with it. The spans are made with
// textContent only: SQL text, however hostile ('<img onerror=...>'), is never parsed as HTML.

const KEYWORDS = new Set(`
  all and any array as asc between both by case cast count_if cross cube current_date
  current_timestamp date decimal default delete describe desc distinct double else end escape
  except exists explain analyze extract false fetch filter first following for from full group
  grouping having if ilike in inner insert integer intersect interval into is join last lateral
  leading left like limit map natural not null nulls offset on or order outer over partition
  preceding range recursive right rollup row rows select set show sets table tables then ties
  timestamp to trailing true union unbounded unnest update using values varchar view when where
  window with within bigint boolean int real smallint tinyint char current row_number
  create drop alter replace materialized columns schemas catalogs functions
`.trim().split(/\s+/));

// Tokens of `sql` as [{type, text}], in order; their texts concatenate to `sql` exactly.
// type: keyword | ident | qident | string | number | comment | param | op | ws
export function tokenize(sql) {
  const out = [];
  const n = sql.length;
  let i = 0;
  const push = (type, end) => {
    out.push({ type, text: sql.slice(i, end) });
    i = end;
  };
  const isDigit = (c) => c >= '0' && c <= '9';
  const isWordStart = (c) => /[A-Za-z_\u00c0-\uffff]/.test(c);
  const isWord = (c) => /[A-Za-z0-9_$\u00c0-\uffff]/.test(c);
  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      let j = i + 1;
      while (j < n && /\s/.test(sql[j])) j++;
      push('ws', j);
    } else if (c === '-' && next === '-') {
      const j = sql.indexOf('\n', i);
      push('comment', j < 0 ? n : j);
    } else if (c === '/' && next === '*') {
      const j = sql.indexOf('*/', i + 2);
      push('comment', j < 0 ? n : j + 2);  // unterminated: to the end, as the parser sees it
    } else if (c === "'" || c === '"') {
      // '' (or "") inside is the quote itself; unterminated runs to the end.
      let j = i + 1;
      for (;;) {
        if (j >= n) break;
        if (sql[j] === c) {
          if (sql[j + 1] === c) { j += 2; continue; }
          j += 1;
          break;
        }
        j += 1;
      }
      push(c === "'" ? 'string' : 'qident', j);
    } else if (isDigit(c) || (c === '.' && isDigit(next || ''))) {
      let j = i;
      while (j < n && isDigit(sql[j])) j++;
      if (sql[j] === '.') { j++; while (j < n && isDigit(sql[j])) j++; }
      if ((sql[j] === 'e' || sql[j] === 'E') && (isDigit(sql[j + 1] || '') || ((sql[j + 1] === '+' || sql[j + 1] === '-') && isDigit(sql[j + 2] || '')))) {
        j += 2;
        while (j < n && isDigit(sql[j])) j++;
      }
      push('number', j);
    } else if (c === ':' && sql[i - 1] !== ':' && next && isWordStart(next)) {  // :name, not x::type
      let j = i + 1;
      while (j < n && isWord(sql[j])) j++;
      push('param', j);
    } else if (isWordStart(c)) {
      let j = i + 1;
      while (j < n && isWord(sql[j])) j++;
      push(KEYWORDS.has(sql.slice(i, j).toLowerCase()) ? 'keyword' : 'ident', j);
    } else {
      push('op', i + 1);
    }
  }
  return out;
}

// Redraws the overlay of `textarea` (after the page set its value, which fires no event).
export function highlightNow(textarea) {
  const pre = textarea.__sqlOverlay;
  if (!pre) return;
  const nodes = tokenize(textarea.value).map((t) => {
    if (t.type === 'ws' || t.type === 'op') return document.createTextNode(t.text);
    const span = document.createElement('span');
    span.className = `tok-${t.type}`;
    span.textContent = t.text;
    return span;
  });
  // A trailing newline needs a line after it, or the overlay is one line short.
  nodes.push(document.createTextNode('\n '));
  pre.replaceChildren(...nodes);
  pre.scrollTop = textarea.scrollTop;
  pre.scrollLeft = textarea.scrollLeft;
}

// Puts the highlighting overlay under `textarea` (once); the overlay's id is `<id>-hl`.
export function attachHighlighter(textarea) {
  if (textarea.__sqlOverlay) return;
  const box = document.createElement('div');
  box.className = 'sql-hl-box';
  const pre = document.createElement('pre');
  pre.className = 'sql-hl';
  pre.id = `${textarea.id}-hl`;
  pre.setAttribute('aria-hidden', 'true');
  textarea.classList.add('sql-hl-input');
  textarea.setAttribute('wrap', 'off');
  textarea.parentNode.insertBefore(box, textarea);
  box.append(pre, textarea);
  textarea.__sqlOverlay = pre;
  for (const ev of ['input', 'change']) textarea.addEventListener(ev, () => highlightNow(textarea));
  textarea.addEventListener('scroll', () => {
    pre.scrollTop = textarea.scrollTop;
    pre.scrollLeft = textarea.scrollLeft;
  });
  highlightNow(textarea);
}
