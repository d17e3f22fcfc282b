#!/usr/bin/env python3
"""sim_coupon.py - customers with a known coupon effect (issue 18, "lift you can trust").

Each simulated customer is offered the campaign once (an exposure sale with the trigger item);
the till decides treated (a coupon is printed) or control (held back, by its holdout hash).
Afterwards a customer buys the offered item within the window with probability p0, or p0 + delta
when treated: delta is the ground truth the campaigns page's lift interval should cover
(docs/console.md, "Page data"). Purchases fall on days 1 .. window-1 after the exposure, so
the whole effect lies inside the conversion window; customers also shop without the item.

  exposure  scans for `posmark checkout --scans` (real till): N customers buy the trigger item
  follow    scans of the days after, from the till's `checkout --json` output of the exposure
            (who was treated, with which coupon); writes the truth as JSON to --truth
  batches   many seeds straight into HQ as real batches (POST /v1/batches), each seed its own
            campaign sim-NNN with its own p0 and delta, the arm drawn with the holdout share;
            prints one truth line per seed (tests/integration/lift_coverage.sh)
"""
import argparse, csv, datetime, gzip, json, random, sys, urllib.request

TRIGGER = "4006340000010"   # Tilda Basmati rice 1kg: the demo rule rice-olive-oil's basket item
TARGET = "4006374000017"    # Filippo Berio olive oil: the item it offers (data/demo/campaigns.json)
DAY_US = 86400 * 1000000


def luhn(digits):
    s = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        s += d
    return digits + str((10 - s % 10) % 10)


def card_of(tag, i):
    return luhn("6036%02d%012d" % (tag % 100, 500000 + i))


def neutral_items(catalog):
    """Everyday items no demo rule looks at (so other offers do not crowd the receipt)."""
    import os, re
    rules = os.path.join(os.path.dirname(os.path.abspath(catalog)), "campaigns.json")
    named = set(re.findall(r'"item": *"(\d+)"', open(rules).read())) if os.path.exists(rules) else set()
    rows = [r for r in csv.DictReader(open(catalog))
            if r["category"] in ("Pantry", "Household", "Frozen", "Bakery")
            and not r["gtin"].startswith("2") and r["gtin"] not in named | {TRIGGER, TARGET}]
    return [(r["gtin"], int(r["price_cents"])) for r in rows]


def behaviour(rnd, treated, p0, delta, window):
    """Days after the exposure on which the customer shops, each with whether it buys the item."""
    visits = []
    if rnd.random() < (p0 + delta if treated else p0):
        visits.append((rnd.randint(1, window - 1), True))
    for _ in range(rnd.randint(0, 2)):             # shopping without the item
        visits.append((rnd.randint(1, window + 5), False))
    return visits


def day_start(day):
    return datetime.datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc)


def clock(day, offset_days, minute):
    t = day_start(day) + datetime.timedelta(days=offset_days, minutes=8 * 60 + minute)
    return t.strftime("#clock %Y-%m-%dT%H:%M:%SZ")


def cmd_exposure(a):
    rnd = random.Random(a.seed)
    items = neutral_items(a.catalog)
    print("// exposure day: %d customers buy rice (scripts/sim_coupon.py, seed %d)" % (a.n, a.seed))
    for i in range(a.n):
        print(clock(a.day, 0, i % 600))
        print(card_of(a.seed, i))
        print(TRIGGER)
        for g, _ in rnd.sample(items, rnd.randint(0, 2)):
            print(g)
        print("#tender card")


def cmd_follow(a):
    rnd = random.Random(a.seed * 7919 + 1)
    items = neutral_items(a.catalog)
    arms = {}
    for line in open(a.checkout):
        e = json.loads(line)
        if e.get("event") != "sale_committed" or not e.get("card"):
            continue
        for o in e.get("offers", []):
            if o.get("campaign") == a.campaign and e["card"] not in arms:
                arms[e["card"]] = ("t", o.get("coupon", ""))
        for o in e.get("held_back", []):
            if o.get("campaign") == a.campaign and e["card"] not in arms:
                arms[e["card"]] = ("c", "")
    visits = []
    for card in sorted(arms):
        arm, coupon = arms[card]
        for day, buys in behaviour(rnd, arm == "t", a.p0, a.delta, a.window):
            visits.append((day, rnd.randint(0, 599), card, buys, coupon))
    visits.sort()
    print("// the days after: treated buy the offered oil with p0 + delta, control with p0 (seed %d)" % a.seed)
    for day, minute, card, buys, coupon in visits:
        print(clock(a.day, day, minute))
        print(card)
        for g, _ in rnd.sample(items, rnd.randint(1, 3)):
            print(g)
        if buys:
            print(TARGET)
            if coupon and rnd.random() < 0.8:
                print(coupon)
        print("#tender card")
    truth = {"campaign": a.campaign, "p0": a.p0, "delta": a.delta, "window_days": a.window,
             "treated": sum(1 for v in arms.values() if v[0] == "t"),
             "control": sum(1 for v in arms.values() if v[0] == "c")}
    json.dump(truth, open(a.truth, "w"))


def post(url, store, cred, lines):
    body = gzip.compress(("\n".join(json.dumps(l, separators=(",", ":")) for l in lines) + "\n").encode())
    req = urllib.request.Request(url + "/v1/batches", data=body, method="POST", headers={
        "X-Posmark-Store": store, "Authorization": "Bearer " + cred, "Content-Type": "application/gzip"})
    with urllib.request.urlopen(req, timeout=60) as r:
        if r.status != 200:
            sys.exit("batch refused: %d %s" % (r.status, r.read()))


def cmd_batches(a):
    items = neutral_items(a.catalog)
    t0 = int(day_start(a.day).timestamp()) * 1000000
    seq_s = seq_e = 0
    for s in range(a.seeds):
        rnd = random.Random(a.seed * 100003 + s)
        p0, delta = round(rnd.uniform(0.05, 0.3), 3), round(rnd.uniform(0.0, 0.25), 3)
        campaign = "sim-%03d" % s
        sales, events = [], []

        def sale(t, card, gtins, coupon=None):
            nonlocal seq_s
            seq_s += 1
            its = [{"gtin": g.rjust(14, "0"), "qty": 1, "price_cents": p, "line_cents": p} for g, p in gtins]
            tot = sum(p for _, p in gtins)
            sales.append({"seq": seq_s, "time_us": t, "card": card, "currency": "EUR", "tender": "card",
                          "total_cents": tot, "discount_cents": 0, "tendered_cents": tot, "points_earned": 0,
                          "items": its, "redeemed": [{"coupon": coupon, "discount_cents": 100}] if coupon else []})
            return seq_s

        def event(t, typ, sale_seq, card, coupon=None):
            nonlocal seq_e
            seq_e += 1
            p = {"v": 1, "sale": sale_seq, "campaign": campaign, "rule": "sim", "card": card,
                 "kind": "cross_sell", "gtin": TARGET.rjust(14, "0"), "benefit": 1, "value": 20}
            if coupon:
                p["coupon"] = coupon
            events.append({"seq": seq_e, "time_us": t, "type": typ,
                           "payload": json.dumps(p, separators=(",", ":"))})

        treated = control = 0
        for i in range(a.n):
            card = card_of(s, i + 1000 * (a.seed % 100))
            t = t0 + rnd.randint(0, 10 * 3600) * 1000000
            k = sale(t, card, [(TRIGGER, 329)] + rnd.sample(items, rnd.randint(0, 2)))
            is_t = rnd.random() >= a.holdout
            coupon = "SIM%03d%06d" % (s, i) if is_t else None
            event(t, "offer_issued" if is_t else "offer_held_back", k, card, coupon)
            treated += is_t
            control += not is_t
            for day, buys in behaviour(rnd, is_t, p0, delta, a.window):
                tt = t + day * DAY_US + rnd.randint(0, 3600) * 1000000
                basket = rnd.sample(items, rnd.randint(1, 3)) + ([(TARGET, 599)] if buys else [])
                red = coupon if buys and coupon and rnd.random() < 0.8 else None
                k2 = sale(tt, card, basket, red)
                if red:
                    event(tt, "offer_redeemed", k2, card, coupon)
        # the till's order: records by seq, times need not rise (the batch is a log, not a timeline)
        hdr = {"format": "posmark-batch", "version": 1, "store": a.store, "terminal": "SIM"}
        first = sales[0]["seq"]
        post(a.url, a.store, a.credential, [dict(hdr, kind="sales", first_seq=first, last_seq=sales[-1]["seq"],
                                                 count=len(sales))] + sales)
        first = events[0]["seq"]
        post(a.url, a.store, a.credential, [dict(hdr, kind="events", first_seq=first, last_seq=events[-1]["seq"],
                                                 count=len(events))] + events)
        print(json.dumps({"campaign": campaign, "p0": p0, "delta": delta, "treated": treated, "control": control}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("exposure", "follow", "batches"):
        p = sub.add_parser(name)
        p.add_argument("--seed", type=int, default=1)
        p.add_argument("--catalog", default="data/demo/catalog.csv")
        p.add_argument("--day", default="2026-11-25", help="the exposure day (UTC)")
        p.add_argument("--window", type=int, default=14)
        if name in ("exposure", "batches"):
            p.add_argument("--n", type=int, default=300)
        if name == "follow":
            p.add_argument("--checkout", required=True)
            p.add_argument("--campaign", default="rice-and-oil")
            p.add_argument("--p0", type=float, default=0.15)
            p.add_argument("--delta", type=float, default=0.20)
            p.add_argument("--truth", required=True)
        if name == "batches":
            p.add_argument("--url", required=True)
            p.add_argument("--store", required=True)
            p.add_argument("--credential", required=True)
            p.add_argument("--seeds", type=int, default=40)
            p.add_argument("--holdout", type=float, default=0.3)
    a = ap.parse_args()
    {"exposure": cmd_exposure, "follow": cmd_follow, "batches": cmd_batches}[a.cmd](a)


if __name__ == "__main__":
    main()
