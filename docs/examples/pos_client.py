#!/usr/bin/env python3
"""A minimal POS application talking to posmark's daemon (docs/daemon.md).

Usage: python3 pos_client.py /run/posmark/posmark.sock
Opens a sale on lane 3, adds two lines with the app's own prices, attaches
a loyalty card, tenders, prints what posmark returns for the receipt, and
then tells posmark the receipt is printed (receipt_printed): only then do its
coupons count as issued; without it the same coupon is offered to the same
customer again and again.
"""
import json, socket, sys, uuid

class Posmark:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.file = self.sock.makefile("rwb")
        self.next_id = 1

    def call(self, op, **fields):
        req = dict(op=op, id=self.next_id, **fields)
        self.next_id += 1
        self.file.write(json.dumps(req).encode() + b"\n")
        self.file.flush()
        reply = json.loads(self.file.readline())
        if not reply.get("ok"):
            raise RuntimeError("%s: %s (%s)" % (reply.get("error"), reply.get("message"), reply.get("hint", "")))
        return reply

pm = Posmark(sys.argv[1] if len(sys.argv) > 1 else "/run/posmark/posmark.sock")
sale_id = "APP-" + uuid.uuid4().hex[:12]      # the app's own sale id: posmark commits it once
pm.call("sale_open", lane="3", pos_sale_id=sale_id)
pm.call("line_add", lane="3", gtin="5012342000018", qty=2, price_cents=109, name="Whole milk 1L")
pm.call("line_add", lane="3", gtin="4006381333931", price_cents=199)
card = pm.call("card", lane="3", scan=";6036010000001000005=2812101?")
print("card %s: %d points, tier %s" % (card["card"][-4:], card["points"], card["tier"]))
done = pm.call("tender", lane="3", kind="card")        # replies once the sale is durable
print("sale %d committed: %d cents, %d points earned" % (done["sale_id"], done["total_cents"], done.get("points_earned", 0)))
for offer in done.get("offers", []):
    print("offer:", offer)
# posmark's coupon block as structured elements (docs/daemon.md "Receipt elements"):
# a real app sends each to its printer driver; this one shows them as text.
print("---- receipt ----")
for el in done.get("receipt", []):
    if el["type"] == "text":
        print(("**%s**" if el["bold"] else "%s") % el["text"])
    elif el["type"] in ("barcode", "qr"):
        print("[%s %s]" % (el.get("symbology", "QR"), el["data"]))
        if el.get("human_readable"):
            print(el["data"])
print("-----------------")
pm.call("receipt_printed", lane="3")   # after the printer took it: the coupons are issued
