// console_browser.js - the console in a real browser (run by console.sh):
// Debian's chromium, headless, driven by playwright-core (tests/tools/browser).
// Prints TAP-style "ok - ..." / "not ok - ..." lines; screenshots go to
// $CONSOLE_OUT. Environment (console.sh): CONSOLE_URL, CONSOLE_OUT, CARD,
// CARD_POINTS, BASKETS, CARDS_FILE, HQ_DB, PENDING_CMD.
"use strict";
const { chromium } = require("playwright-core");
const fs = require("fs");
const { execSync } = require("child_process");

const base = process.env.CONSOLE_URL, out = process.env.CONSOLE_OUT;
const card = process.env.CARD;
const cards = fs.readFileSync(process.env.CARDS_FILE, "utf8").split("\n").filter(Boolean);
let failures = 0;
function check(name, cond, detail) {
	console.log((cond ? "ok" : "not ok") + " - browser: " + name + (cond || !detail ? "" : " (" + detail + ")"));
	if (!cond) failures++;
}
function sql(q) {
	return execSync(`psql -X -q -t -A "${process.env.HQ_DB}" -c "${q}"`, { encoding: "utf8" }).trim();
}
// Every full card number HQ holds that appears in text (an analyst must see none).
function leaked(text) {
	return cards.filter((c) => text.includes(c));
}

async function login(browser, name, password) {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	const page = await ctx.newPage();
	await page.goto(base + "/page/card");
	await page.fill("input[name=name]", name);
	await page.fill("input[name=password]", password);
	await Promise.all([page.waitForNavigation(), page.click("form.login button")]);
	return { ctx, page };
}

async function menu(page) {
	return page.$$eval("header nav a", (as) => as.map((a) => a.getAttribute("href")));
}

// Open a page, screenshot it, and check its tables against its JSON document and CSV.
async function visit(who, page, href, extra) {
	const name = href.split("/").pop();
	const resp = await page.goto(base.replace(/\/console$/, "") + href + (extra || ""));
	await page.screenshot({ path: `${out}/${who}-${name}.png`, fullPage: true });
	const html = await page.content();
	fs.writeFileSync(`${out}/${who}-${name}.html`, html);
	const doc = await (await page.context().request.get(page.url() + (page.url().includes("?") ? "&" : "?") + "format=json")).json();
	const shown = await page.$$eval("table.sortable", (ts) => ts.map((t) => [t.dataset.name, t.tBodies[0].rows.length]));
	const want = (doc.tables || []).map((t) => [t.name, t.rows.length]);
	check(`${who}: ${name} shows every row of its data (${JSON.stringify(want)})`, JSON.stringify(shown) === JSON.stringify(want),
	      JSON.stringify(shown));
	// every figure's tile carries the document's value (after masking) as data-v
	const tiles = await page.$$eval(".tile", (ts) => ts.map((t) => [t.dataset.key, t.dataset.v]));
	const figs = (doc.figures || []).map((f) => [f.key, f.value === null ? "" : Array.isArray(f.value) ? f.value.join(";") :
		typeof f.value === "number" && !Number.isInteger(f.value) ? String(Number(f.value.toPrecision(6))) : String(f.value)]);
	check(`${who}: ${name} shows each figure's value (${figs.length})`, JSON.stringify(tiles) === JSON.stringify(figs),
	      JSON.stringify(tiles).slice(0, 200));
	let csvs = "";
	for (const t of doc.tables || []) {
		const link = await page.$(`section.table:has(table[data-name="${t.name}"]) .export a`);
		const r = await page.context().request.get(new URL(await link.getAttribute("href"), page.url()).href);
		const text = await r.text();
		csvs += text;
		const lines = text.split("\r\n").filter(Boolean).length - 1;
		check(`${who}: ${name}/${t.name} CSV has the table's ${t.rows.length} row(s)`, r.status() === 200 && lines === t.rows.length,
		      `${r.status()} ${lines}`);
	}
	return { html, csvs, status: resp.status(), doc };
}

(async () => {
	const browser = await chromium.launch({
		executablePath: "/usr/bin/chromium",
		args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
		       "--no-first-run"],
	});
	try {
		// ---- the analyst ----
		const a = await login(browser, "ana", "analyst-pass-1234");
		check("analyst: the login lands on a page of the console", a.page.url().includes("/console/page/"), a.page.url());
		const am = await menu(a.page);
		check("analyst: the menu has card and mining, not requests or audit",
		      am.includes("/console/page/card") && am.includes("/console/page/mining") &&
		      !am.includes("/console/page/requests") && !am.includes("/console/page/audit"), am.join(" "));
		let seen = "";
		for (const href of am) {
			const v = await visit("analyst", a.page, href, href.endsWith("/mining") ? "?min_support=0.005&min_confidence=0.1" : "");
			seen += v.html + v.csvs;
			check(`analyst: ${href} answers 200`, v.status === 200, String(v.status));
			if (href.endsWith("/stores")) { // what the till reported with its syncs (docs/hostsync.md, "Store status")
				const t = (v.doc.tables || []).find((x) => x.name === "terminals");
				const col = (k) => t.columns.findIndex((c) => c.key === k);
				check("analyst: stores shows the till's report: 0 unsent sales, its rule set and version",
				      t && t.rows.length === 1 && t.rows[0][col("unsent_sales")] === 0 && t.rows[0][col("rules_id")] &&
				      t.rows[0][col("version")] && v.html.includes("Unsent sales (reported)"), JSON.stringify(t && t.rows));
			}
		}
		// a card looked up by its number: shown masked, its numbers right
		await a.page.goto(base + "/page/card");
		await a.page.fill("input[name=card]", card);
		await Promise.all([a.page.waitForNavigation(), a.page.click("form.filters button")]);
		const v = await visit("analyst", a.page, "/console/page/card", "?" + new URL(a.page.url()).searchParams.toString());
		seen += v.html + v.csvs;
		await a.page.screenshot({ path: `${out}/analyst-card-detail.png`, fullPage: true });
		const pts = await a.page.getAttribute(".tile[data-key=points]", "data-v");
		check(`analyst: the card's balance is posmark-hq card's (${process.env.CARD_POINTS})`, pts === process.env.CARD_POINTS, pts);
		const label = await a.page.textContent(".tile[data-key=card] .value");
		check("analyst: the card shows as \u2022\u2022\u2022\u2022 \u2022\u2022\u2022\u2022 and its last 4 digits",
		      label === "\u2022\u2022\u2022\u2022 \u2022\u2022\u2022\u2022 " + card.slice(-4), label);
		check("analyst: no erasure button", (await a.page.$("text=Ask for erasure")) === null);
		check("analyst: the URL does not carry the number", !a.page.url().includes(card), a.page.url());
		// mining: the baskets are posmark-hq baskets' count; no publish form; columns sort
		await a.page.goto(base + "/page/mining?min_support=0.005&min_confidence=0.1");
		const bk = await a.page.getAttribute(".tile[data-key=baskets]", "data-v");
		check(`analyst: mining reads posmark-hq baskets' ${process.env.BASKETS} baskets`, bk === process.env.BASKETS, bk);
		check("analyst: no publish form on the mining page", (await a.page.$("text=Sign and publish")) === null);
		await a.page.click("th[data-key=lift]");
		const lifts = await a.page.$$eval("table[data-name=rules] tbody tr td:nth-child(5)", (tds) => tds.map((t) => Number(t.dataset.v)));
		check("analyst: a click on Lift sorts the rules by lift", lifts.length > 1 && lifts.every((x, i) => i === 0 || lifts[i - 1] <= x),
		      lifts.slice(0, 5).join(","));
		const leaks = leaked(seen);
		check(`analyst: no card number in any page or CSV (${cards.length} numbers looked for)`, leaks.length === 0,
		      leaks.slice(0, 3).join(" "));
		const r403 = await a.page.goto(base + "/page/audit");
		check("analyst: the audit page answers 403", r403.status() === 403, String(r403.status()));

		// ---- an operator ----
		const o = await login(browser, "ops", "operator-pass-1234");
		const om = await menu(o.page);
		check("operator: the menu adds requests and audit",
		      om.includes("/console/page/requests") && om.includes("/console/page/audit"), om.join(" "));
		for (const href of om)
			await visit("operator", o.page, href, href.endsWith("/mining") ? "?min_support=0.005&min_confidence=0.1" : "");
		await o.page.goto(base + "/page/requests");
		const pending = execSync(process.env.PENDING_CMD, { encoding: "utf8" }).split("\n").filter(Boolean).length;
		const pv = await o.page.getAttribute(".tile[data-key=pending]", "data-v");
		check(`operator: pending requests are posmark-hq requests list's ${pending}`, pv === String(pending), pv);
		await o.page.goto(base + "/page/card?card=" + card);
		check("operator: the card's number is shown whole", (await o.page.textContent(".tile[data-key=card] .value")) === card);
		await Promise.all([o.page.waitForNavigation(), o.page.click("text=Ask for erasure")]);
		await o.page.screenshot({ path: `${out}/operator-erasure-asked.png`, fullPage: true });
		check("operator: asking for an erasure puts it in the review queue",
		      /review queue/.test(await o.page.textContent(".notice")));
		await o.page.goto(base + "/page/requests");
		const row = o.page.locator("table[data-name=pending] tr", { hasText: card });
		await Promise.all([o.page.waitForNavigation(), row.locator("text=Approve").click()]);
		check("operator: approving one's own erasure request is refused (four eyes)",
		      /another operator/.test(await o.page.content()));
		// ---- the second operator approves ----
		const o2 = await login(browser, "ops2", "operator2-pass-123");
		await o2.page.goto(base + "/page/requests");
		const row2 = o2.page.locator("table[data-name=pending] tr", { hasText: card });
		await Promise.all([o2.page.waitForNavigation(), row2.locator("text=Approve").click()]);
		await o2.page.screenshot({ path: `${out}/operator2-approved.png`, fullPage: true });
		check("operator 2: the erasure is approved", /approved: card erased/.test(await o2.page.textContent(".notice")));
		// ---- publish mined rules as a campaign ----
		await o.page.goto(base + "/page/mining?min_support=0.005&min_confidence=0.1");
		await o.page.fill("input[name=campaign]", "console-test");
		await Promise.all([o.page.waitForNavigation(), o.page.click("text=Sign and publish")]);
		await o.page.screenshot({ path: `${out}/operator-published.png`, fullPage: true });
		const note = (await o.page.$(".notice")) ? await o.page.textContent(".notice") : await o.page.content();
		check("operator: mined rules published as a campaign", /rule set published/.test(note), note.slice(0, 200));
		// ---- the audit page shows the log ----
		await visit("operator", o.page, "/console/page/audit");
		const entries = await o.page.getAttribute(".tile[data-key=entries]", "data-v");
		check("operator: the audit page shows every audit_log row", entries === sql("SELECT count(*) FROM audit_log"), entries);
		await Promise.all([o.page.waitForNavigation(), o.page.click("header form button")]);
		check("operator: log out returns to the login form", o.page.url().endsWith("/console/login"), o.page.url());
	} catch (e) {
		check("the browser run finished", false, String(e && e.stack || e).slice(0, 500));
	} finally {
		await browser.close();
	}
	process.exit(failures ? 1 : 0);
})();
