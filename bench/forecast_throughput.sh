#!/bin/sh
# Forecast throughput: 5,000 synthetic daily product series x 237 days, horizon 28, auto model.
# Usage: bench/forecast_throughput.sh BUILD_DIR   (needs python3; writes under /tmp)
set -eu
BIN="${1:-build/release}/saleslake"
python3 - <<'PY'
import random, datetime
random.seed(1)
d0 = datetime.date(2025, 1, 1)
days = [(d0 + datetime.timedelta(i)).isoformat() for i in range(237)]
with open('/tmp/forecast_p5000.csv', 'w') as f:
    f.write('product,date,units\n')
    for p in range(5000):
        base = random.uniform(5, 200); tr = random.uniform(-0.05, 0.2)
        pat = [random.uniform(0.7, 1.4) for _ in range(7)]
        for i, d in enumerate(days):
            v = max(0.0, (base + tr * i) * pat[i % 7] + random.gauss(0, base * 0.2))
            f.write('P%04d,%s,%.2f\n' % (p, d, v))
PY
time "$BIN" forecast --input /tmp/forecast_p5000.csv --date date --value units --by product \
  --horizon 28 --format csv --output /tmp/forecast_p5000_out.csv
