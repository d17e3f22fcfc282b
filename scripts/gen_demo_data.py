#!/usr/bin/env python3
"""Generate the demo store's catalog and a day of scan scripts (deterministic).

Output (committed, so a fresh machine needs no Python):
  data/demo/catalog.csv     ~400 products in real grocery/general-store categories
  data/demo/day.scans       a store day: ~320 sales, cards, voids, bad scans
  data/demo/cards.txt       the loyalty cards used (valid Luhn, issuer prefix 6036)
Run: python3 scripts/gen_demo_data.py  (rewrites the files above)
"""
import random, os

rnd = random.Random(20261124)
out = os.path.join(os.path.dirname(__file__), "..", "data", "demo")

def gs1_check(digits):
    s = 0
    for i, ch in enumerate(reversed(digits)):
        s += int(ch) * (3 if i % 2 == 0 else 1)
    return str((10 - s % 10) % 10)

def luhn(digits):
    s = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9: d -= 9
        s += d
    return digits + str((10 - s % 10) % 10)

# category -> list of (product stem, [(brand, price_cents)], variants)
CATS = {
 "Dairy": [("Whole milk 1L", [("Farmhouse", 109), ("Alpenhof Organic", 179)]),
           ("Semi-skimmed milk 1L", [("Farmhouse", 99), ("Alpenhof Organic", 169)]),
           ("Natural yoghurt 500g", [("Farmhouse", 129), ("Greek Valley", 249)]),
           ("Butter 250g", [("Farmhouse", 229), ("Kerrymaid Gold", 319)]),
           ("Cheddar mature 400g", [("Farmhouse", 349), ("Cathedral Reserve", 529)]),
           ("Mozzarella 125g", [("Farmhouse", 89), ("Galbani", 149)]),
           ("Cream 200ml", [("Farmhouse", 119)]), ("Eggs free range x10", [("Farmhouse", 299), ("Happy Hens Organic", 429)]),
           ("Cream cheese 200g", [("Farmhouse", 139), ("Philadelphia", 219)])],
 "Bakery": [("White sliced bread 800g", [("Baker's Own", 119), ("Hovis", 169)]),
            ("Wholemeal bread 800g", [("Baker's Own", 129), ("Hovis", 179)]),
            ("Sourdough loaf", [("Artisan Bakehouse", 349)]), ("Croissants x4", [("Baker's Own", 199), ("Maison Dupont", 329)]),
            ("Bagels x5", [("Baker's Own", 149)]), ("Rolls x6", [("Baker's Own", 99)]), ("Muffins x4", [("Baker's Own", 249)])],
 "Produce": [("Bananas 1kg", [("Fresh", 139)]), ("Apples Gala 1kg", [("Fresh", 219)]), ("Tomatoes 500g", [("Fresh", 169)]),
             ("Cucumber", [("Fresh", 69)]), ("Lettuce iceberg", [("Fresh", 89)]), ("Potatoes 2.5kg", [("Fresh", 249)]),
             ("Onions 1kg", [("Fresh", 119)]), ("Carrots 1kg", [("Fresh", 89)]), ("Avocado x2", [("Fresh", 249)]),
             ("Lemons x4", [("Fresh", 149)]), ("Strawberries 400g", [("Fresh", 299)]), ("Blueberries 150g", [("Fresh", 249)]),
             ("Garlic x3", [("Fresh", 79)]), ("Peppers mixed x3", [("Fresh", 199)]), ("Spinach 200g", [("Fresh", 149)])],
 "Meat & Fish": [("Chicken breast 500g", [("Farm Select", 449), ("Cornish Free Range", 699)]),
                 ("Beef mince 500g", [("Farm Select", 399), ("Aberdeen Angus", 599)]),
                 ("Pork sausages x8", [("Farm Select", 299), ("Heritage Butchers", 449)]),
                 ("Salmon fillets x2", [("Ocean Catch", 499), ("Scottish Loch", 749)]),
                 ("Bacon smoked 200g", [("Farm Select", 249), ("Heritage Butchers", 379)]), ("Ham sliced 125g", [("Farm Select", 179)])],
 "Pantry": [("Spaghetti 500g", [("Store Basics", 69), ("Barilla", 149), ("De Cecco", 219)]),
            ("Penne 500g", [("Store Basics", 69), ("Barilla", 149)]),
            ("Pasta sauce tomato basil 400g", [("Store Basics", 99), ("Dolmio", 219), ("Sacla", 299)]),
            ("Pesto genovese 190g", [("Store Basics", 129), ("Sacla", 279)]),
            ("Basmati rice 1kg", [("Store Basics", 179), ("Tilda", 329)]),
            ("Chopped tomatoes 400g", [("Store Basics", 49), ("Mutti", 119)]),
            ("Olive oil extra virgin 500ml", [("Store Basics", 399), ("Filippo Berio", 599), ("Terra Creta Estate", 899)]),
            ("Cornflakes 500g", [("Store Basics", 119), ("Kellogg's", 249)]), ("Porridge oats 1kg", [("Store Basics", 99), ("Quaker", 229)]),
            ("Peanut butter 340g", [("Store Basics", 149), ("Whole Earth", 299)]), ("Strawberry jam 340g", [("Store Basics", 99), ("Bonne Maman", 249)]),
            ("Honey 340g", [("Store Basics", 199), ("Rowse", 349)]), ("Baked beans 415g", [("Store Basics", 49), ("Heinz", 109)]),
            ("Tuna chunks 145g", [("Store Basics", 99), ("John West", 179)]), ("Flour plain 1.5kg", [("Store Basics", 89)]),
            ("Sugar 1kg", [("Store Basics", 99)]), ("Salt sea 350g", [("Maldon", 219)]), ("Ketchup 460g", [("Store Basics", 99), ("Heinz", 229)]),
            ("Mayonnaise 400ml", [("Store Basics", 119), ("Hellmann's", 249)])],
 "Coffee & Tea": [("Ground coffee 250g", [("Store Basics", 249), ("Lavazza Qualita Rossa", 449), ("Illy Classico", 699)]),
                  ("Coffee beans 1kg", [("Store Basics", 899), ("Lavazza Super Crema", 1599), ("Illy Intenso", 2299)]),
                  ("Instant coffee 200g", [("Store Basics", 299), ("Nescafe Gold", 649)]),
                  ("Coffee pods x10", [("Store Basics", 229), ("L'Or Espresso", 349)]),
                  ("Black tea x80", [("Store Basics", 149), ("Yorkshire Tea", 349), ("Twinings Assam", 399)]),
                  ("Green tea x40", [("Store Basics", 149), ("Clipper Organic", 299)]), ("Herbal tea x20", [("Pukka", 249)])],
 "Beverages": [("Cola 1.5L", [("Store Basics", 79), ("Coca-Cola", 199)]), ("Lemonade 2L", [("Store Basics", 59), ("Sprite", 189)]),
               ("Orange juice 1L", [("Store Basics", 119), ("Tropicana", 279)]), ("Apple juice 1L", [("Store Basics", 99), ("Copella", 249)]),
               ("Sparkling water 6x1.5L", [("Store Basics", 199), ("Perrier", 549)]), ("Still water 6x1.5L", [("Store Basics", 149), ("Evian", 449)]),
               ("Energy drink 250ml", [("Red Bull", 139), ("Monster", 149)]), ("Oat drink 1L", [("Oatly", 199)])],
 "Wine & Beer": [("Red wine Rioja 75cl", [("Store Select", 599), ("Campo Viejo", 899), ("Marques de Riscal Reserva", 1599)]),
                 ("White wine Sauvignon 75cl", [("Store Select", 549), ("Oyster Bay", 999)]),
                 ("Prosecco 75cl", [("Store Select", 699), ("Bottega Gold", 1999)]), ("Lager 4x440ml", [("Store Select", 399), ("Heineken", 549)]),
                 ("IPA 4x330ml", [("BrewDog Punk", 649)]), ("Cider 4x500ml", [("Strongbow", 499)])],
 "Snacks": [("Crisps sea salt 150g", [("Store Basics", 99), ("Kettle", 229)]), ("Tortilla chips 200g", [("Store Basics", 89), ("Doritos", 199)]),
            ("Salsa dip 300g", [("Store Basics", 119), ("Old El Paso", 199)]), ("Milk chocolate 100g", [("Store Basics", 69), ("Lindt", 229)]),
            ("Dark chocolate 70% 100g", [("Store Basics", 89), ("Green & Black's", 249)]), ("Biscuits digestive 400g", [("Store Basics", 69), ("McVitie's", 149)]),
            ("Salted peanuts 200g", [("Store Basics", 99), ("KP", 179)]), ("Popcorn sweet & salty 100g", [("Propercorn", 179)])],
 "Frozen": [("Pizza margherita", [("Store Basics", 149), ("Dr. Oetker Ristorante", 279)]), ("Peas 1kg", [("Store Basics", 99), ("Birds Eye", 219)]),
            ("Fish fingers x10", [("Store Basics", 149), ("Birds Eye", 299)]), ("Vanilla ice cream 1L", [("Store Basics", 149), ("Haagen-Dazs", 549)]),
            ("Oven chips 1.5kg", [("Store Basics", 149), ("McCain", 279)])],
 "Household": [("Washing-up liquid 500ml", [("Store Basics", 79), ("Fairy", 189)]), ("Laundry liquid 1.3L", [("Store Basics", 349), ("Persil", 699)]),
               ("Toilet roll x9", [("Store Basics", 349), ("Andrex", 599)]), ("Kitchen roll x2", [("Store Basics", 149), ("Plenty", 299)]),
               ("Bin bags x20", [("Store Basics", 149)]), ("Dishwasher tablets x30", [("Store Basics", 349), ("Finish Quantum", 899)]),
               ("Sponges x4", [("Store Basics", 99)]), ("Batteries AA x4", [("Store Basics", 199), ("Duracell", 499)]), ("Light bulb LED E27", [("Philips", 399)])],
 "Personal Care": [("Shampoo 400ml", [("Store Basics", 129), ("Head & Shoulders", 399)]), ("Conditioner 400ml", [("Store Basics", 129), ("Pantene", 349)]),
                   ("Toothpaste 75ml", [("Store Basics", 79), ("Colgate Total", 249)]), ("Toothbrush", [("Store Basics", 99), ("Oral-B Pro", 399)]),
                   ("Shower gel 250ml", [("Store Basics", 99), ("Radox", 199)]), ("Deodorant 150ml", [("Store Basics", 129), ("Dove", 279)]),
                   ("Hand soap 250ml", [("Store Basics", 89), ("Carex", 149)]), ("Razor blades x4", [("Gillette Fusion", 1299)])],
 "Baby": [("Nappies size 4 x40", [("Store Basics", 499), ("Pampers", 999)]), ("Baby wipes x64", [("Store Basics", 99), ("Pampers", 249)]),
          ("Baby food pouch 100g", [("Ella's Kitchen", 129)]), ("Infant formula 800g", [("Aptamil", 1399)])],
 "Pet": [("Cat food pouches x12", [("Store Basics", 349), ("Felix", 549), ("Sheba", 699)]), ("Dog food 2kg", [("Store Basics", 499), ("Pedigree", 899)]),
         ("Cat litter 10L", [("Store Basics", 299), ("Catsan", 699)]), ("Dog treats 200g", [("Dentastix", 399)])],
 "Electronics": [("Laptop 15in", [("Acer Aspire", 49900), ("Lenovo IdeaPad", 64900), ("Dell XPS", 129900)]),
                 ("Laptop sleeve 15in", [("Store Select", 1499), ("Targus", 2999)]), ("Wireless mouse", [("Store Select", 999), ("Logitech M720", 3999)]),
                 ("USB-C charger 65W", [("Store Select", 1999), ("Anker", 3999)]), ("HDMI cable 2m", [("Store Select", 599), ("Belkin", 1499)]),
                 ("Headphones wireless", [("Store Select", 2999), ("Sony WH-1000XM5", 34900)]), ("Phone case", [("Store Select", 999), ("Spigen", 1999)]),
                 ("Screen protector", [("Store Select", 799)]), ("Power bank 10000mAh", [("Store Select", 1499), ("Anker", 2999)]),
                 ("Microwave popcorn", [("Store Basics", 129)])],
}
DELI = [("Cheese counter by weight", "Deli"), ("Olives by weight", "Deli"), ("Ham off the bone by weight", "Deli"),
        ("Salad bar by weight", "Deli"), ("Pick & mix sweets by weight", "Snacks")]

products = []   # (gtin13, name, category, price, brand)
company = {"Store Basics": "5012340", "Store Select": "5012341", "Farmhouse": "5012342", "Baker's Own": "5012343",
           "Fresh": "5012344", "Farm Select": "5012345"}
next_company = [4006000]
def prefix_for(brand):
    if brand not in company:
        next_company[0] += 17
        company[brand] = "%07d" % next_company[0]
    return company[brand]
item_no = {}
for cat, stems in CATS.items():
    for stem, brands in stems:
        for brand, price in brands:
            p = prefix_for(brand)
            item_no[p] = item_no.get(p, 0) + 1
            body = p + "%05d" % item_no[p]
            name = stem if brand in ("Fresh",) else "%s %s" % (brand, stem)
            products.append((body + gs1_check(body), name, cat, price, brand))
# Pad with sizes of the most common lines so the catalog has several hundred products.
extra_sizes = [("Large ", 1.8), ("Family ", 2.6)]
for cat, stems in list(CATS.items()):
    if cat in ("Electronics",):
        continue
    for stem, brands in stems:
        for label, mult in extra_sizes:
            brand, price = brands[0]
            p = prefix_for(brand)
            item_no[p] = item_no.get(p, 0) + 1
            body = p + "%05d" % item_no[p]
            name = ("%s%s" % (label, stem)) if brand == "Fresh" else "%s %s%s" % (brand, label.lower(), stem)
            products.append((body + gs1_check(body), name[:63], cat, int(round(price * mult / 10.0)) * 10 - 1, brand))
deli = []
for i, (name, cat) in enumerate(DELI):
    body = "21%05d00000" % (1001 + i)
    g = body + gs1_check(body)
    products.append((g, name, cat, 0, "Deli counter"))
    deli.append(g)

with open(os.path.join(out, "catalog.csv"), "w") as f:
    f.write("gtin,name,category,price_cents,brand\n")
    for g, n, c, p, b in products:
        q = lambda s: '"%s"' % s.replace('"', '""') if ("," in s or '"' in s) else s
        f.write("%s,%s,%s,%d,%s\n" % (g, q(n), q(c), p, q(b)))

# Cards: issuer prefix 6036 + 14 digits + Luhn = 19 digits; Zipf-like visit frequency.
cards = [luhn("603601%012d" % (100000 + 37 * i)) for i in range(120)]
weights = [1.0 / (i + 1) ** 0.9 for i in range(len(cards))]
with open(os.path.join(out, "cards.txt"), "w") as f:
    f.write("\n".join(cards) + "\n")

by_cat = {}
for g, n, c, p, b in products:
    if p > 0:
        by_cat.setdefault(c, []).append((g, n, p))
def find(sub):
    return [g for g, n, c, p, b in products if sub in n and p > 0]
AFFINITY = [(find("Spaghetti"), find("Pasta sauce") + find("Pesto")), (find("Ground coffee") + find("Coffee beans"), find("milk 1L")),
            (find("Laptop 15in"), find("Laptop sleeve") + find("Wireless mouse")), (find("Tortilla chips"), find("Salsa")),
            (find("Nappies"), find("Baby wipes")), (find("Bread"), find("Butter") + find("jam")), (find("Lager"), find("Crisps") + find("peanuts")),
            (find("Pizza"), find("Cola")), (find("Shampoo"), find("Conditioner")), (find("Cat food"), find("Cat litter"))]
cat_weights = {"Dairy": 10, "Bakery": 8, "Produce": 12, "Meat & Fish": 5, "Pantry": 9, "Coffee & Tea": 4, "Beverages": 7,
               "Wine & Beer": 3, "Snacks": 6, "Frozen": 4, "Household": 3, "Personal Care": 3, "Baby": 1, "Pet": 2, "Electronics": 0.3}
cats = list(cat_weights)
lines = ["// posmark demo: one store day at lane 1 (generated by scripts/gen_demo_data.py)"]
for sale in range(320):
    # Opening hours 08:00-20:00 UTC, sales spread through the day.
    minute = 8 * 60 + sale * 720 // 320 + rnd.randint(0, 1)
    lines.append("#clock 2026-11-23T%02d:%02d:%02dZ" % (minute // 60, minute % 60, rnd.randint(0, 59)))
    basket = []
    size = max(1, int(rnd.lognormvariate(1.6, 0.7)))
    for _ in range(size):
        c = rnd.choices(cats, [cat_weights[x] for x in cats])[0]
        basket.append(rnd.choice(by_cat[c])[0])
    for a, b in AFFINITY:
        if a and b and any(x in a for x in basket) and rnd.random() < 0.6:
            basket.append(rnd.choice(b))
    if rnd.random() < 0.15:
        body = deli[rnd.randrange(len(deli))][:7] + "%05d" % rnd.randint(150, 2400)
        basket.append("D:" + body + gs1_check(body))
    card = rnd.choices(cards, weights)[0] if rnd.random() < 0.62 else None
    how = rnd.random()
    if card and how < 0.5:
        lines.append(card)
    elif card and how < 0.7:
        lines.append(";%s=%s?" % (card, "2812101"))
    elif card:
        lines.append("#card " + card)
    for g in basket:
        if g.startswith("D:"):
            lines.append(g[2:])
            continue
        if rnd.random() < 0.08:
            lines.append("#qty %d" % rnd.randint(2, 4))
        lines.append(g)
        if rnd.random() < 0.01:
            lines.append(g[:-1] + str((int(g[-1]) + 1) % 10))   # misread: bad check digit
        if rnd.random() < 0.02:
            lines.append("#void")
    if rnd.random() < 0.01:
        lines.append("4000000000000"[:12] + gs1_check("400000000000"))  # not in the catalog
    if rnd.random() < 0.015:
        lines.append("#cancel")
        continue
    total_hint = rnd.random()
    lines.append("#tender " + ("cash" if total_hint < 0.3 else "card" if total_hint < 0.95 else "other"))
with open(os.path.join(out, "day.scans"), "w") as f:
    f.write("\n".join(lines) + "\n")
print("%d products, %d cards, %d scan lines" % (len(products), len(cards), len(lines)))
