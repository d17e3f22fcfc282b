#!/bin/sh
# The same sale with socat, one JSON object per line (docs/daemon.md).
SOCK=${1:-/run/posmark/posmark.sock}
socat -t5 - UNIX-CONNECT:"$SOCK" <<'REQ'
{"id":1,"op":"sale_open","lane":"3","pos_sale_id":"APP-0001"}
{"id":2,"op":"line_add","lane":"3","gtin":"5012342000018","qty":2,"price_cents":109}
{"id":3,"op":"card","lane":"3","card":"6036010000001000005"}
{"id":4,"op":"tender","lane":"3","kind":"cash","amount_cents":500}
REQ
