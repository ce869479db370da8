# Rebuilds tests/forecast/golden/series.csv: generated daily demand (saleslake generate --rows 200000 --seed 7
# > /tmp/fc_data/gen.csv first) and UCI Online Retail daily revenue. Usage: python3 make_series.py OUT.csv
import csv, datetime, collections, sys
out = open(sys.argv[1], 'w')
out.write('series,date,value\n')
# (a) generated: daily sum(amount) over non-OUT rows, total and per region
tot = collections.defaultdict(float); reg = collections.defaultdict(float); regions=set()
with open('/tmp/fc_data/gen.csv') as f:
    for r in csv.DictReader(f):
        if r['status'].strip().upper() == 'OUT' or r['amount'] == '': continue
        a = float(r['amount']); d = r['purchase_date']
        tot[d] += a; reg[(r['region'], d)] += a; regions.add(r['region'])
days = [datetime.date(2025,1,1) + datetime.timedelta(i) for i in range(237)]
def emit(name, get):
    for d in days: out.write('%s,%s,%.2f\n' % (name, d.isoformat(), get(d.isoformat())))
emit('gen_total', lambda d: tot.get(d, 0.0))
for rg in sorted(regions):
    emit('gen_' + rg.lower().replace(' ', '_'), lambda d, rg=rg: reg.get((rg, d), 0.0))
# (b) UCI online retail: daily revenue sum(Quantity*UnitPrice), all rows; total + top 5 countries
utot = collections.defaultdict(float); uc = collections.defaultdict(float)
with open('/work/shared/testdata/real/uci-online-retail/online_retail.csv', newline='') as f:
    for r in csv.DictReader(f):
        d = r['InvoiceDate'][:10]; v = float(r['Quantity']) * float(r['UnitPrice'])
        utot[d] += v; uc[(r['Country'], d)] += v
start = datetime.date(2010,12,1); end = datetime.date(2011,12,9)
udays = [start + datetime.timedelta(i) for i in range((end-start).days + 1)]
for name, get in [('uci_total', lambda d: utot.get(d, 0.0))] + [
        ('uci_' + c.lower().replace(' ', '_'), (lambda d, c=c: uc.get((c, d), 0.0)))
        for c in ['United Kingdom', 'Netherlands', 'EIRE', 'Germany', 'France']]:
    for d in udays: out.write('%s,%s,%.2f\n' % (name, d.isoformat(), get(d.isoformat())))
