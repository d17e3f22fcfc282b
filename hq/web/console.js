/* posmark HQ console (hq/web/console.js, embedded in posmark-hq): sort a
 * table by clicking a column's header; numbers by their data-v value. The
 * pages work without it. */
"use strict";
document.querySelectorAll("table.sortable").forEach(function (table) {
	var heads = table.tHead ? table.tHead.rows[0].cells : [];
	Array.prototype.forEach.call(heads, function (th, col) {
		th.addEventListener("click", function () {
			var asc = th.getAttribute("aria-sort") !== "ascending";
			Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
			th.setAttribute("aria-sort", asc ? "ascending" : "descending");
			var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
			function key(row) {
				var td = row.cells[col];
				if (!td) return "";
				var v = td.getAttribute("data-v");
				return v !== null && v !== "" && !isNaN(Number(v)) ? Number(v) : td.textContent;
			}
			rows.sort(function (a, b) {
				var x = key(a), y = key(b), c;
				if (typeof x === "number" && typeof y === "number") c = x - y;
				else c = String(x).localeCompare(String(y));
				return asc ? c : -c;
			});
			rows.forEach(function (r) { body.appendChild(r); });
		});
	});
});
