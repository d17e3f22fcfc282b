#!/usr/bin/env python3
"""
quality.py - the next-visit evaluation of posmark's offers (issue 16; `make quality`,
run by `make bench`). Protocol: bench/data/README.md (from ../shared/data/README.md).

The real flow, nothing simulated inside posmark:
  1. import a catalog made from the StockCodes (each mapped to a GTIN-13) into a fresh
     terminal (`posmark catalog import`);
  2. replay every invoice before the split through `posmark checkout` (a scan script:
     #clock, the customer's card, #consent yes on its first visit, the items, #tender);
  3. `posmark mine --data DIR --output-format rules` and `posmark rules load`;
  4. replay the invoices from the split on through `posmark checkout --json` and read each
     sale's offers (printed and held back: the decision is what is judged) from its
     sale_committed event.
Scored receipts: the invoices from the split on of customers seen before it that have a next
invoice (1,837, as the data README counts them); a hit
when that next invoice holds an offered item. Baselines from the same data, same receipts:
popularity (the 3 items most often bought before the split, not in the basket), personal
frequency (the customer's own most-bought items so far, not in the basket) and the explore
baseline (the most popular items the customer never bought, not in the basket).
Progress on stderr; the table on stdout.
"""
import csv, gzip, json, os, subprocess, sys, time
from collections import Counter, defaultdict

SPLIT = "2011-06-01"
# receipt policies judged: the mined set as `mine` writes it (the default), then the same set with
# other limits (QUALITY_VARIANTS='label:key=value,key=value;...' replaces the alternatives)
VARIANTS = [("posmark (default)", {}), ("before (w=0, rep<=2)", {"explore_weight": 0, "max_repeats": 2}),
            ("explore_weight=2", {"explore_weight": 2}), ("explore_weight=3", {"explore_weight": 3}),
            ("max_repeats=0", {"max_repeats": 0})]
if os.environ.get("QUALITY_VARIANTS"):
    VARIANTS = [("posmark (default)", {})] + [
        (v.split(":")[0], {kv.split("=")[0]: float(kv.split("=")[1]) for kv in v.split(":")[1].split(",")})
        for v in os.environ["QUALITY_VARIANTS"].split(";") if v]
NON_PRODUCT = {"POST", "D", "M", "DOT", "BANK CHARGES", "C2", "AMAZONFEE", "CRUK", "PADS", "S", "B"}
T0 = time.time()


def say(msg):
    print("quality: [%5.0f s] %s" % (time.time() - T0, msg), file=sys.stderr, flush=True)


def check_digit(digits):
    s = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - s % 10) % 10)


def luhn(digits):
    s = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        s += n
    return str((10 - s % 10) % 10)


def load(path):
    """Invoices after the usual clean-up: {invoice: (customer, time, [stockcodes], {code: price})}."""
    inv = {}
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        for row in csv.DictReader(f):
            no, code, cust = row["InvoiceNo"], row["StockCode"].strip(), row["CustomerID"].strip()
            if no.startswith("C") or not cust or code in NON_PRODUCT:
                continue
            try:
                qty, price = int(row["Quantity"]), float(row["UnitPrice"])
            except ValueError:
                continue
            if qty <= 0 or price <= 0:
                continue
            cust = str(int(float(cust)))
            t = row["InvoiceDate"][:16]
            e = inv.setdefault(no, [cust, t, [], {}])
            if code not in e[3]:
                e[2].append(code)
                e[3][code] = price
    return inv


def main():
    posmark, work, data = sys.argv[1], sys.argv[2], sys.argv[3]
    mine_args = sys.argv[4:]
    say("reading %s" % data)
    inv = load(data)
    order = sorted(inv, key=lambda k: (inv[k][1], k))
    codes = sorted({c for k in order for c in inv[k][2]})
    gtin = {c: "590" + "%09d" % i for i, c in enumerate(codes, 1)}
    gtin = {c: g + check_digit(g) for c, g in gtin.items()}
    card = {}
    for k in order:
        c = inv[k][0]
        if c not in card:
            body = "603601" + "%012d" % int(c)
            card[c] = body + luhn(body)
    price = {}
    for k in order:
        for c, p in inv[k][3].items():
            price.setdefault(c, int(round(p * 100)))
    os.makedirs(work, exist_ok=True)
    D = os.path.join(work, "data")
    with open(os.path.join(work, "catalog.csv"), "w") as f:
        f.write("gtin,name,category,price_cents,brand\n")
        for c in codes:
            f.write("%s,item %s,,%d,\n" % (gtin[c], c.replace(",", " "), max(1, price[c])))
    conf = os.path.join(work, "posmark.conf")
    with open(conf, "w") as f:
        f.write("[store]\nid = uk1\nterminal = lane1\ncurrency = GBP\n[offers]\ncoupon_key = %s\n" % ("ab" * 32))
    X = ["--config", conf, "--data", D]
    subprocess.run([posmark, "catalog", "import", os.path.join(work, "catalog.csv")] + X, check=True,
                   stderr=subprocess.DEVNULL)
    hist = [k for k in order if inv[k][1] < SPLIT]
    test = [k for k in order if inv[k][1] >= SPLIT]
    seen_cards = set()

    def script(keys, path):
        with open(path, "w") as f:
            for k in keys:
                c, t, items, _ = inv[k]
                f.write("#clock %sT%s:00Z\n%s\n" % (t[:10], t[11:16], card[c]))
                if c not in seen_cards:
                    seen_cards.add(c)
                    f.write("#consent yes\n")
                for it in items:
                    f.write(gtin[it] + "\n")
                f.write("#tender cash\n")

    script(hist, os.path.join(work, "history.scans"))
    script(test, os.path.join(work, "test.scans"))
    say("%d invoices of %d customers, %d items; replaying %d before %s through posmark checkout" %
        (len(order), len(card), len(codes), len(hist), SPLIT))
    r = subprocess.run([posmark, "checkout", "--scans", os.path.join(work, "history.scans"), "--json"] + X,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    n_hist = sum(1 for line in r.stdout.splitlines() if '"sale_committed"' in line)
    if n_hist != len(hist):
        sys.exit("quality: %d of %d history sales committed" % (n_hist, len(hist)))
    say("mining: posmark mine --data %s %s" % (D, " ".join(mine_args)))
    rules = os.path.join(work, "rules.json")
    subprocess.run([posmark, "mine"] + X + ["--output-format", "rules", "--output", rules] + mine_args, check=True)
    with open(rules) as f:
        mined = json.load(f)
    kinds = Counter(r["kind"] for r in mined["rules"])
    say("rule set: %s; limits %s" % (", ".join("%d %s" % (n, k) for k, n in sorted(kinds.items())),
                                     json.dumps(mined["limits"])))
    results = []
    for vi, (label, limits) in enumerate(VARIANTS):
        # the same mined set, one receipt policy each, on a copy of the log as the history left it
        Dv = D + "-" + str(vi)
        subprocess.run(["cp", "-r", D, Dv], check=True)
        mv = json.loads(json.dumps(mined))
        for k, x in limits.items():
            mv["limits"][k] = int(x) if k == "max_repeats" else x
        rv = os.path.join(work, "rules-%d.json" % vi)
        with open(rv, "w") as f:
            json.dump(mv, f)
        Xv = ["--config", conf, "--data", Dv]
        subprocess.run([posmark, "rules", "load", rv] + Xv, check=True, stderr=subprocess.DEVNULL)
        say("%s: replaying %d invoices from %s through posmark checkout --json" % (label, len(test), SPLIT))
        r = subprocess.run([posmark, "checkout", "--scans", os.path.join(work, "test.scans"), "--json"] + Xv,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        offered = []
        for line in r.stdout.splitlines():
            if '"sale_committed"' not in line:
                continue
            e = json.loads(line)
            offered.append([o["gtin"] for o in e.get("offers", []) + e.get("held_back", []) if o.get("gtin")])
        if len(offered) != len(test):
            sys.exit("quality: %d of %d test sales committed" % (len(offered), len(test)))
        results.append((label, offered))
        subprocess.run(["rm", "-rf", Dv], check=True)
    say("scoring")
    score(inv, hist, test, gtin, results)


def score(inv, hist, test, gtin, results):
    back = {"0" + g: c for c, g in gtin.items()}   # offers carry GTIN-14
    pop = Counter()
    for k in hist:
        pop.update(inv[k][2])
    popular = [c for c, _ in sorted(pop.items(), key=lambda x: (-x[1], x[0]))]
    rank = {c: i for i, c in enumerate(popular)}
    bought = defaultdict(Counter)          # customer -> item -> invoices so far
    for k in hist:
        bought[inv[k][0]].update(inv[k][2])
    nxt = {}
    by_cust = defaultdict(list)
    for k in test:
        if inv[k][0] in bought:            # customers with a history before the split
            by_cust[inv[k][0]].append(k)
    for ks in by_cust.values():
        for a, b in zip(ks, ks[1:]):
            nxt[a] = b
    # personal frequency: the customer's most-bought items (invoices holding them); the README does not
    # say how ties between items bought equally often break: by popularity (the bar: the strongest),
    # by item code, by the most recent purchase (docs/mining.md)
    names = [label for label, _ in results] + ["popularity", "personal frequency", "  ties by item code",
                                               "  ties by recency", "explore baseline"]
    last = defaultdict(dict)               # customer -> item -> position of its latest invoice
    for pos, k in enumerate(hist):
        for x in inv[k][2]:
            last[inv[k][0]][x] = pos
    m = {n: Counter() for n in names}
    n_scored = 0
    for i, k in enumerate(test):
        c, _, items, _ = inv[k]
        before = set(bought[c])            # bought before this invoice
        bought[c].update(items)
        for x in items:
            last[c][x] = len(hist) + i
        if k not in nxt:
            continue
        n_scored += 1
        basket, target = set(items), set(inv[nxt[k]][2])
        lists = {label: [back.get(g, "?") for g in offered[i]][:3] for label, offered in results}
        lists.update({
            "popularity": [x for x in popular if x not in basket][:3],
            "personal frequency": [x for x, _ in sorted(bought[c].items(), key=lambda x: (-x[1], rank.get(x[0], 1e9), x[0]))
                                   if x not in basket][:3],
            "  ties by item code": [x for x, _ in sorted(bought[c].items(), key=lambda x: (-x[1], x[0]))
                                    if x not in basket][:3],
            "  ties by recency": [x for x, _ in sorted(bought[c].items(), key=lambda x: (-x[1], -last[c][x[0]], x[0]))
                                  if x not in basket][:3],
            "explore baseline": [x for x in popular if x not in basket and x not in bought[c]][:3],
        })
        for n, lst in lists.items():
            hits = [x for x in lst if x in target]
            new = [x for x in lst if x not in before and x not in basket]
            m[n]["hit"] += bool(hits)
            m[n]["prec"] += len(hits) / 3.0
            m[n]["xhit"] += any(x in target for x in new)
            m[n]["covered"] += bool(lst)
            m[n]["offers"] += len(lst)
            m[n]["repeat"] += sum(1 for x in lst if x in before or x in basket)
    print("next-visit evaluation (bench/data/online-retail-train.csv.gz, split %s): %d scored receipts"
          % (SPLIT, n_scored))
    print("%-22s %7s %12s %12s %9s %14s" % ("offers", "HR@3", "precision@3", "explore HR@3", "coverage",
                                          "already bought"))
    for n in names:
        x = m[n]
        print("%-22s %7.3f %12.3f %12.3f %9.3f %14.3f" % (n, x["hit"] / n_scored, x["prec"] / n_scored,
                                                         x["xhit"] / n_scored, x["covered"] / n_scored,
                                                         x["repeat"] / max(1, x["offers"])))
    d, pf, xb = m[names[0]], m["personal frequency"], m["explore baseline"]
    print("%s: HR@3 %.2fx personal frequency (target >= 1), explore HR@3 %.2fx the explore baseline "
          "(target >= 1.5), coverage %.3f (target >= 0.99)" % (names[0], d["hit"] / max(1, pf["hit"]),
                                                               d["xhit"] / max(1, xb["xhit"]), d["covered"] / n_scored))
    print("known figures (data README): popularity HR@3 0.172, personal frequency 0.420, explore baseline 0.056")
    print("the bar is personal frequency with ties by popularity (the strongest of the three tie rules)")
    print("targets (issue 16): HR@3 >= personal frequency; explore HR@3 >= 1.5 x explore baseline; coverage >= 0.99")


if __name__ == "__main__":
    main()
