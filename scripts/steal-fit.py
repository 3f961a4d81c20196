# SPDX-License-Identifier: MIT
# The fit scripts/steal-check.sh prints: (ns busy - ticks busy) against steal_s over the records given,
# the share of steal taken out, and how echo and relay p99 follow steal.
import json, sys, statistics as st
xs = []; ys = []; ib = []; lat = []
for f in sys.argv[1:]:
    for l in open(f):
        r = json.loads(l); c = r.get('system_cpu')
        if not c or c.get('method') != 'bpf idle ns':
            continue
        tick = c['user_s'] + c['system_s'] + c['irq_s'] + c['softirq_s']
        xs.append(c['steal_s']); ys.append(c['busy_s'] - tick); ib.append((c['steal_s'], c.get('steal_in_busy_s')))  # absent in records from before it
        L = r.get('latency') or {}
        if L.get('offered_rps'):
            lat.append((r['scenario'], c['steal_s'] / r['wall_s'], L['p99_us']))
def fit(x, y):
    mx, my = st.mean(x), st.mean(y)
    sxx = sum((a - mx) ** 2 for a in x); syy = sum((b - my) ** 2 for b in y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    return (my - sxy / sxx * mx, sxy / sxx, sxy / (sxx * syy) ** .5) if sxx > 0 and syy > 0 else (my, 0, 0)
a, b, r = fit(xs, ys)
print(f"{len(xs)} records with the ns source; steal total {sum(xs):.2f} s, median {st.median(xs):.3f} s, max {max(xs):.3f} s")
print(f"ns busy - ticks busy = {a:.3f} + {b:.3f} x steal_s (r = {r:.2f}); near 0 when steal is left out of busy")
hi = [(s, t) for s, t in ib if s > 0.1 and t is not None]
if hi:
    print(f"steal_in_busy_s / steal_s where steal > 0.1 s: median {st.median([t / s for s, t in hi]):.2f} over {len(hi)} records")
for sc in ('echo', 'relay'):
    v = [(s, p) for k, s, p in lat if k == sc]
    if len(v) > 2:
        print(f"{sc}: corr(steal share, p99) = {fit([s for s, p in v], [p for s, p in v])[2]:.2f} over {len(v)} reps")
