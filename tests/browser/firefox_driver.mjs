// Drives Debian's Firefox ESR for tests/browser/test_cadesplugin_firefox.py, through the npm package
// puppeteer-core (pinned in tests/browser/npm) over WebDriver BiDi. Playwright cannot: its Firefox is a patched
// build of its own, which this project never downloads.
//
//   node tests/browser/firefox_driver.mjs FIREFOX PROFILE_PREFS_JSON
//
// One command per line on standard input, one answer per line on standard output, both JSON:
//   {"cmd": "install", "path": DIR}                     -> the add-on's id (a temporary add-on: unsigned is fine)
//   {"cmd": "open", "url": URL}                         -> a new tab, the current page from now on
//   {"cmd": "evaluate", "expression": JS}               -> the expression's value in the current page
//   {"cmd": "result", "name": NAME}                     -> window.results[NAME], once there is one
//   {"cmd": "click", "testid": ID}                      -> clicks [data-testid=ID] in the current page
//   {"cmd": "window", "origin": AGENT}                  -> waits for the next window of the agent (a tab or window
//                                                          at AGENT/pair/... or AGENT/confirm/..., whoever opened
//                                                          it: the page or the extension), loaded: its URL
//   {"cmd": "window_text" | "window_fill" | "window_click" | "window_evaluate", "testid": ID[, "value": TEXT]
//    [, "expression": JS]}                              -> in that window: read, type into, click, evaluate
//   {"cmd": "console"}                                  -> the current page's console lines and errors
//   {"cmd": "close"}                                    -> closes the browser, then exits
// An answer is {"ok": true, "value": ...} or {"ok": false, "error": TEXT}. Clicks are real input events
// (BiDi input.performActions): a page that opens a window in its click handler has the user activation that
// Firefox's popup blocker asks for.
// Diagnostics go to standard error; standard output carries answers only.

import {createRequire} from 'node:module';
import readline from 'node:readline';

// The packages live in tests/browser/npm (installed there by `npm ci`), not beside this file.
const require = createRequire(new URL('./npm/package.json', import.meta.url));
const puppeteer = require('puppeteer-core');

const [executablePath, prefs] = process.argv.slice(2);
const GUARD_MS = 30000;  // a hang guard only: every wait below normally ends in well under a second

const browser = await puppeteer.launch({
  browser: 'firefox', executablePath, headless: true, timeout: GUARD_MS, protocolTimeout: GUARD_MS,
  extraPrefsFirefox: JSON.parse(prefs || '{}'),
});
let page = null;
let popup = null;            // the agent's window the test is answering
const handed = new Set();    // every agent's window handed out already
const consoles = new Map();

const sel = (testid) => `[data-testid="${testid}"]`;

async function nextWindow(origin) {
  // Any top-level page will do (an extension opens the agent's window with no opener), but never one handed out
  // before: an earlier window may still be closing. Polled: a window the page opens starts as about:blank.
  const agentWindow = new RegExp('^' + origin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '/(pair|confirm)/[^/?#]+');
  const deadline = Date.now() + GUARD_MS;
  for (;;) {
    for (const candidate of await browser.pages()) {
      if (!handed.has(candidate) && !candidate.isClosed() && agentWindow.test(candidate.url())) {
        handed.add(candidate);
        popup = candidate;
        popup.setDefaultTimeout(GUARD_MS);
        await popup.waitForFunction(() => document.readyState === 'complete', {polling: 50});
        return popup.url();
      }
    }
    if (Date.now() > deadline) throw new Error(`no window of the agent at ${origin} opened`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function windowClick(testid) {
  // The client may close its window as soon as the agent has the answer: a click that loses its window is fine.
  try {
    await popup.click(sel(testid));
    await popup.waitForFunction(() => document.readyState === 'complete', {polling: 50});
    return await popup.evaluate(() => (document.body ? document.body.innerText : ''));
  } catch (err) {
    if (popup.isClosed()) return null;
    throw err;
  }
}

const commands = {
  install: ({path}) => browser.installExtension(path),
  open: async ({url}) => {
    page = await browser.newPage();
    page.setDefaultTimeout(GUARD_MS);
    const lines = [];
    consoles.set(page, lines);
    page.on('console', (m) => lines.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => lines.push(`pageerror: ${e.message || e}`));
    await page.goto(url, {waitUntil: 'load'});
    return page.url();
  },
  evaluate: ({expression}) => page.evaluate(expression),
  result: async ({name}) => {
    await page.waitForFunction((n) => window.results && n in window.results, {polling: 50}, name);
    return page.evaluate((n) => window.results[n], name);
  },
  click: async ({testid}) => { await page.click(sel(testid)); return null; },
  window: ({origin}) => nextWindow(origin),
  window_text: async ({testid}) => (await popup.waitForSelector(sel(testid))).evaluate((e) => e.innerText),
  window_fill: async ({testid, value}) => { await popup.type(sel(testid), value); return null; },
  window_click: ({testid}) => windowClick(testid),
  window_evaluate: ({expression}) => popup.evaluate(expression),
  console: () => consoles.get(page) || [],
};

const lines = readline.createInterface({input: process.stdin});
for await (const line of lines) {
  const request = JSON.parse(line);
  if (request.cmd === 'close') break;
  let answer;
  try {
    const value = await commands[request.cmd](request);
    answer = {ok: true, value: value === undefined ? null : value};
  } catch (err) {
    answer = {ok: false, error: String(err && err.stack ? err.stack : err)};
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}
await browser.close();
