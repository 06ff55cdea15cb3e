// SignAgent's browser extension: the background part (a service worker in Chromium, a background script in
// Firefox). It is the only part of the extension that talks to the agent (http://127.0.0.1:<port>, written into
// signagent-settings.js by `signagent extension build`):
//
// * it relays the requests of the page script (cadesplugin_api.js, in the page's world) that relay.js passes on,
//   naming the page in the X-SignAgent-Page-Origin header. The page's origin comes from the browser
//   (MessageSender.origin, else the sender frame's URL), never from the page: a page cannot speak for another.
//   The page's CSP and Local Network Access do not apply to these requests: they are the extension's.
// * the agent knows this extension by a random key it makes once and keeps in its own storage (sent as
//   X-SignAgent-Extension-Key; Chromium sends an extension's GET requests without Origin, so Origin cannot say
//   who is calling), and believes the page header only once the user has allowed the extension, in the agent's
//   window (its own POST /v1/pair, without the page header). On the first `extension_not_paired` answer this
//   script asks for it, shows the agent's window, waits for the decision and repeats the request.
// * it opens and closes the agent's windows (pairing, confirmation with the PIN) for the page: an extension may
//   open a window without the user's gesture, so no popup blocker stands between a page and the agent's window.
//   Only the agent's own /pair/ and /confirm/ pages, and only windows this script opened.
//
// Nothing is stored: no certificate, no document, no PIN passes through here beyond one request's life.
'use strict';

if (typeof importScripts === 'function' && !self.signagent_cadesplugin_options) {
  importScripts('signagent-settings.js');  // a Chromium service worker; Firefox's manifest lists it before us
}

const api = self.browser || self.chrome;  // Firefox's promise-based namespace, else Chromium's
const OPTIONS = self.signagent_cadesplugin_options || {};
const AGENT = 'http://127.0.0.1:' + (OPTIONS.port || 36985);
const PAGE_ORIGIN_HEADER = 'X-SignAgent-Page-Origin';
const KEY_HEADER = 'X-SignAgent-Extension-Key';
const KEY_ITEM = 'signagentExtensionKey';
const API_PATH = /^\/v1\/[A-Za-z0-9/_.~%-]*(\?[A-Za-z0-9=&_.~%-]*)?$/;
const AGENT_WINDOW = new RegExp('^' + AGENT.replace(/[.]/g, '\\.') + '/(pair|confirm)/[A-Za-z0-9_-]+$');
const METHODS = ['GET', 'POST', 'DELETE'];
const CALL_TIMEOUT_MS = 20000;
const MAX_TIMEOUT_MS = 60000;
const POLL_WAIT_S = 25;
const WINDOW = {type: 'popup', width: 560, height: 720, focused: true};

const openWindows = new Set();  // ids of the windows this script opened
let extensionPairing = null;    // the user's decision on this extension, while it is pending (one for every tab)

api.runtime.onMessage.addListener(function (message, sender, sendResponse) {
  if (!message || message.signagent !== 'relay' || sender.id !== api.runtime.id) return false;
  handle(message, sender).then(sendResponse, function (err) {
    sendResponse({failed: (err && err.name === 'TimeoutError') ? 'timeout' : 'unreachable',
                  detail: String(err && err.message || err)});
  });
  return true;  // answered asynchronously
});

/** The origin of the web page (frame) that sent `sender`'s message, as the browser reports it. */
function pageOrigin(sender) {
  let origin = sender.origin;
  if (!origin || origin === 'null') origin = sender.url ? new URL(sender.url).origin : '';
  if (!/^https?:\/\/[^/]+$/.test(origin)) throw new Error('not a web page: ' + origin);
  return origin;
}

async function handle(message, sender) {
  const origin = pageOrigin(sender);
  switch (message.kind) {
    case 'call': return relayCall(message, origin);
    case 'show': return showWindow(message);
    case 'close': return closeWindow(message);
    default: throw new Error('unknown relay message');
  }
}

async function relayCall(message, origin) {
  const method = String(message.method || '');
  const path = String(message.path || '');
  if (METHODS.indexOf(method) < 0 || !API_PATH.test(path)) throw new Error('not an API call: ' + method + ' ' + path);
  const timeout = Math.min(Number(message.timeout) || CALL_TIMEOUT_MS, MAX_TIMEOUT_MS);
  const body = typeof message.body === 'string' ? message.body : undefined;
  let answer = await call(method, path, body, timeout, origin);
  if (answer.status === 403 && errorCode(answer) === 'extension_not_paired') {
    if (await pairExtension()) answer = await call(method, path, body, timeout, origin);
  }
  return answer;
}

let keyPromise = null;

/** This extension's key: 256 random bits, base64url, made on first use and kept in the extension's storage. */
function extensionKey() {
  if (!keyPromise) {
    keyPromise = api.storage.local.get(KEY_ITEM).then(function (items) {
      if (items && typeof items[KEY_ITEM] === 'string') return items[KEY_ITEM];
      const bytes = crypto.getRandomValues(new Uint8Array(32));
      const key = btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, '-').replace(/\//g, '_')
        .replace(/=+$/, '');
      const item = {};
      item[KEY_ITEM] = key;
      return api.storage.local.set(item).then(function () { return key; });
    });
    keyPromise.catch(function () { keyPromise = null; });
  }
  return keyPromise;
}

/** One request to the agent: for the page `origin`, or (null) for this extension itself. */
async function call(method, path, body, timeout, origin) {
  const headers = {};
  headers[KEY_HEADER] = await extensionKey();
  if (origin) headers[PAGE_ORIGIN_HEADER] = origin;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(AGENT + path, {
    method: method, headers: headers, body: body, credentials: 'omit', cache: 'no-store', redirect: 'error',
    signal: AbortSignal.timeout(timeout),
  });
  let parsed = null;
  try { parsed = await response.json(); } catch (e) { parsed = null; }
  return {status: response.status, body: parsed};
}

function errorCode(answer) {
  return answer.body && answer.body.error ? answer.body.error.code : undefined;
}

/** Ask the user, in the agent's window, to allow this extension; true when allowed. */
function pairExtension() {
  if (!extensionPairing) {
    extensionPairing = askForExtension().finally(function () { extensionPairing = null; });
  }
  return extensionPairing;
}

async function askForExtension() {
  const started = await call('POST', '/v1/pair', undefined, CALL_TIMEOUT_MS, null);
  if (started.status !== 200 || !started.body || !AGENT_WINDOW.test(started.body.confirm_url)) return false;
  const shown = await showWindow({url: started.body.confirm_url});
  try {
    const path = '/v1/requests/' + encodeURIComponent(started.body.request_id) + '?wait=' + POLL_WAIT_S;
    for (;;) {
      api.runtime.getPlatformInfo();  // an extension call: Chromium keeps the worker alive
      const state = await call('GET', path, undefined, (POLL_WAIT_S + 10) * 1000, null);
      if (state.status !== 200 || !state.body) return false;
      if (state.body.status !== 'pending') return state.body.status === 'approved';
    }
  } finally {
    closeWindow(shown);
  }
}

async function showWindow(message) {
  const url = String(message.url || '');
  if (!AGENT_WINDOW.test(url)) throw new Error('not a window of the agent: ' + url);
  const created = await api.windows.create(Object.assign({url: url}, WINDOW));
  openWindows.add(created.id);
  return {window: created.id};
}

async function closeWindow(message) {
  const id = message && message.window;
  if (!openWindows.delete(id)) return {closed: false};
  try {
    await api.windows.remove(id);
  } catch (e) {
    return {closed: false};  // the user closed it already
  }
  return {closed: true};
}

api.windows.onRemoved.addListener(function (id) { openWindows.delete(id); });
