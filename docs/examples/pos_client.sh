#!/usr/bin/env bash
# The same sale as pos_client.py with socat (installed by scripts/install-deps.sh),
# one JSON object per line each way (docs/daemon.md): each request waits for
# its reply; after the receipt is printed, receipt_printed tells posmark so
# that its coupons count as issued (without it the same coupon would be
# offered to the same customer again).
# Usage: pos_client.sh [SOCKET]   (default /run/posmark/posmark.sock)
set -u
SOCK=${1:-/run/posmark/posmark.sock}
command -v socat >/dev/null || {
	echo "pos_client.sh: socat is not installed" >&2
	echo "hint: run scripts/install-deps.sh, or apt-get install socat" >&2
	exit 1
}
coproc PM { socat - UNIX-CONNECT:"$SOCK"; }

# call JSON: send one request, print its reply; stop on an error reply.
call() {
	printf '%s\n' "$1" >&"${PM[1]}"
	if ! IFS= read -r -t 30 REPLY <&"${PM[0]}"; then
		echo "pos_client.sh: no reply from $SOCK" >&2
		exit 1
	fi
	printf '%s\n' "$REPLY"
	case $REPLY in
	*'"ok":true'*) ;;
	*) echo "pos_client.sh: request refused (see message and hint above)" >&2; exit 1 ;;
	esac
}

SALE="APP-$$-$(date +%s)"          # the app's own sale id: posmark commits it once
call '{"id":1,"op":"sale_open","lane":"3","pos_sale_id":"'"$SALE"'"}'
call '{"id":2,"op":"line_add","lane":"3","gtin":"5012342000018","qty":2,"price_cents":109,"name":"Whole milk 1L"}'
call '{"id":3,"op":"card","lane":"3","card":"6036010000001000005"}'
call '{"id":4,"op":"tender","lane":"3","kind":"cash","amount_cents":500}'
# Print the receipt: the app's own lines, then posmark's (receipt_lines, one JSON string each).
echo "---- receipt ----"
printf '%s\n' "$REPLY" | sed -n 's/.*"receipt_lines":\[\(.*\)\].*/\1/p' | sed 's/","/"\n"/g; s/^"//; s/"$//' | sed '/^$/d'
echo "-----------------"
call '{"id":5,"op":"receipt_printed","lane":"3"}'
