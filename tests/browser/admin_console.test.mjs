// End to end: the admin console in headless Chromium (Debian's /usr/bin/chromium), driven by
// Playwright. Starts the real `humit` binary on a fresh database and exchange, creates a
// superuser with the CLI, signs in through the page, finds an event, opens the aggregate's
// state, and rebuilds a projection while watching its progress.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import net from "node:net";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bin = process.env.HUMIT_BIN ?? path.join(root, "target/debug/humit");
const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const shots = process.env.HUMIT_SCREENSHOTS ?? path.join(root, "target/browser-screenshots");
const id = randomBytes(6).toString("hex");
const password = "console-" + randomBytes(8).toString("hex");

let server;
let browser;
let base;
let env;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

async function waitHealthy(url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("humit did not become healthy at " + url);
}

before(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  env = {
    ...process.env,
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/humit_test_browser_${id}`,
    HUMIT_EXCHANGE: `humit_test_browser_${id}`,
    HUMIT_ADDR: `127.0.0.1:${port}`,
    HUMIT_DATA_DIR: mkdtempSync(path.join(tmpdir(), "humit-browser-")),
    HUMIT_QUEUE_EXPIRES_MS: "600000",
    HUMIT_JWT_SECRET: randomBytes(32).toString("hex"),
    RUST_LOG: "warn",
  };
  execFileSync(bin, ["create-superuser", "--username", "root", "--email", "root@example.com", "--password", password], {
    env,
    stdio: "inherit",
  });
  server = spawn(bin, ["serve"], { env, stdio: ["ignore", "inherit", "inherit"] });
  await waitHealthy(base + "/health", 60_000);
  // A person to find in the log.
  const res = await fetch(base + "/users/", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: "ada", email: "ada@example.com", password: "analytical-engine" }),
  });
  assert.equal(res.status, 201, await res.text());
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
});

test("a superuser signs in, finds an event, opens its aggregate, and rebuilds a projection", async () => {
  const page = await browser.newPage();
  await page.goto(base + "/admin/");
  await page.fill("#username", "root");
  await page.fill("#password", password);
  await page.click("#login");
  await page.waitForSelector("#events-table tbody tr");

  await page.fill("#f-aggregate-type", "User");
  await page.fill("#f-event-type", "UserRegistered");
  await page.click("#load-events");
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll("#events-table tbody tr")];
    return rows.length === 2 && rows.every((r) => r.textContent.includes("UserRegistered"));
  });
  const adaRow = page.locator("#events-table tbody tr").nth(1);
  await adaRow.locator("a.agg").click();
  await page.waitForFunction(() => document.querySelector("#state-json").textContent.includes('"state"'));
  const state = JSON.parse(await page.textContent("#state-json"));
  assert.equal(state.aggregate_type, "User");
  assert.equal(state.state.username, "ada");
  assert.equal(state.state.password_hash, null, "no secret in the console");

  // Time travel: the state after the first event only.
  const first = await page.locator("#aggregate-history tbody tr").first().getAttribute("data-position");
  await page.fill("#state-at", first);
  await page.click("#load-state");
  await page.waitForFunction((p) => document.querySelector("#state-json").textContent.includes(`"position": ${p}`), first);
  await page.screenshot({ path: path.join(shots, "admin-events.png"), fullPage: true });

  await page.click('#tabs button[data-tab="projections"]');
  await page.waitForSelector('#projections tbody tr[data-projection="users"]');
  await page.click('button[data-rebuild="users"]');
  await page.waitForFunction(
    () => (document.querySelector("#rebuild-status-users")?.textContent ?? "").startsWith("done"),
    null,
    { timeout: 30_000 },
  );
  await page.screenshot({ path: path.join(shots, "admin-projections.png"), fullPage: true });
  await page.close();
});
