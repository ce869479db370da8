#!/usr/bin/env bash
# Checks the #include lines under src/ against the module table of STYLE.md section 3 (and
# docs/modules.md). Fails, naming file:line, when a file
#   - includes an internal/ header from outside the folder that holds that internal/,
#   - includes a module its row below does not list (an upper layer, or a side one), or
#   - includes a header of another module that is not one of that module's public headers
#     (the .h files at the module's root, e.g. sql/sql.h but not sql/exec/executor.h).
# It also checks docs/modules.md: every public header it lists exists, and every module's root
# holds no other header. Run by tools/test.sh; `bash tools/check_includes.sh [ROOT]` by hand.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"

# module: the modules (by folder under src/) its files may include, besides itself. The
# sql/<layer> rows are the layers inside sql; other modules see only sql's root headers.
read -r -d '' TABLE <<'EOF' || true
common:
io: common
formats/csv: common io
formats/parquet: common io
catalog: common io formats/csv formats/parquet
datagen: common io formats/parquet
sql/parser: common
sql/functions: common
sql/planner: common catalog sql/parser sql/functions
sql/optimizer: common catalog sql/parser sql/planner sql/functions
sql/exec: common io formats/csv formats/parquet catalog sql/parser sql/planner sql/functions
sql: common io formats/csv formats/parquet catalog sql/parser sql/functions sql/planner sql/optimizer sql/exec
etl: common io formats/csv formats/parquet catalog sql
stream: common io formats/csv formats/parquet catalog sql
forecast: common sql
events: common io catalog sql etl stream forecast
auth: common io catalog
stack: common io formats/csv formats/parquet catalog sql etl stream forecast events auth
server: common io formats/csv formats/parquet catalog datagen sql etl stream forecast events auth stack
cli: common io formats/csv formats/parquet catalog datagen sql etl stream forecast events auth stack server
EOF

awk -v table="$TABLE" -v modules_md="docs/modules.md" '
  function module_of(path,   best, m) {  # path relative to src/
    best = ""
    for (m in allowed)
      if ((index(path, m "/") == 1) && length(m) > length(best)) best = m
    return best
  }
  function fail(msg) { print msg; bad = 1 }
  BEGIN {
    n = split(table, rows, "\n")
    for (i = 1; i <= n; ++i) {
      if (rows[i] == "") continue
      split(rows[i], kv, ":")
      allowed[kv[1]] = " " kv[2] " "
    }
  }
  FNR == 1 {
    file = FILENAME; sub(/^src\//, "", file)
    from = module_of(file)
    if (from == "") fail("src/" file ": not in any module of tools/check_includes.sh")
  }
  /^[ \t]*#[ \t]*include[ \t]*"/ {
    inc = $0; sub(/^[^"]*"/, "", inc); sub(/".*$/, "", inc)
    if (system("test -f src/" inc) != 0) next  # a third-party or same-folder header
    to = module_of(inc)
    where = "src/" file ":" FNR ": #include \"" inc "\""
    if ((p = index(inc, "/internal/")) > 0) {
      owner = substr(inc, 1, p)  # "sql/exec/"
      if (index(file, owner) != 1) fail(where ": internal header of " substr(owner, 1, p - 1) " included from outside it")
      next
    }
    if (to == from) next
    if (index(allowed[from], " " to " ") == 0) {
      fail(where ": " from " may not include " to " (STYLE.md section 3, docs/modules.md)")
      next
    }
    if (to ~ /^sql\// && from !~ /^sql/) {
      fail(where ": only the headers at src/sql/ are public; use sql/sql.h")
      next
    }
    rest = substr(inc, length(to) + 2)
    if (index(rest, "/") > 0) fail(where ": not a public header of " to)
  }
  END {
    # docs/modules.md: lines "| `module` | `a.h`, `b.h` | ..." list the public headers.
    while ((getline line < modules_md) > 0) {
      if (line !~ /^\| `[a-z\/]+` \|/) continue
      split(line, cols, "|")
      mod = cols[2]; gsub(/[` ]/, "", mod)
      hdrs = cols[3]
      listed_mods[mod] = 1
      while (match(hdrs, /`[a-z_0-9]+\.h`/)) {
        h = substr(hdrs, RSTART + 1, RLENGTH - 2)
        hdrs = substr(hdrs, RSTART + RLENGTH)
        listed[mod "/" h] = 1
        if (system("test -f src/" mod "/" h) != 0) fail(modules_md ": " mod "/" h " is listed but does not exist")
      }
    }
    close(modules_md)
    for (m in allowed) {
      if (m ~ /^sql\//) continue  # layers inside sql: not public
      if (system("test -d src/" m) != 0) continue  # a module still to come
      if (!(m in listed_mods)) { fail(modules_md ": module " m " is missing"); continue }
      cmd = "find src/" m " -maxdepth 1 -name \"*.h\" | sort"
      while ((cmd | getline h) > 0) {
        sub(/^src\//, "", h)
        if (!(h in listed)) fail("src/" h ": a public header that " modules_md " does not list (list it, or move it to internal/)")
      }
      close(cmd)
    }
    exit bad
  }
' $(find src -name '*.h' -o -name '*.cc' | sort)
echo "check_includes: ok"
