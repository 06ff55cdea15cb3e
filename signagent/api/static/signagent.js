// SignAgent JavaScript client: how a web page talks to the signagent agent on this computer.
//
//   import {SignAgent, NotPaired} from 'http://127.0.0.1:36985/signagent.js';
//   const agent = await SignAgent.connect();
//   button.onclick = async () => {               // operations open a popup: call them from a user gesture
//     if (!(await agent.info()).paired) await agent.pair();
//     const [cert] = await agent.certificates();
//     const {cms} = await agent.sign({certificateId: cert.id, content: 'Текст заявления'});
//   };
//
// The contract is docs/API.md. Every failure is a SignAgentError subclass with a stable `code` and a Russian
// message (`messageRu`) fit to show the user. An ES module with no dependencies and no build step.

const DEFAULT_PORT = 36985;
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_TIMEOUT_MS = 10000;   // one plain call (info, certificates, starting a request)
const POLL_WAIT_S = 25;             // long poll of a request's status: the agent answers sooner when it changes
const POLL_RETRY_MS = 1000;         // pause after a failed poll before the next one
const POPUP_NAME = 'signagent-confirm';
const POPUP_FEATURES = 'popup,width=560,height=720';
const BASE64_CHUNK = 0x8000;        // bytes per String.fromCharCode call: far below any engine's argument limit

// --- errors ------------------------------------------------------------------------------------------------------

/** Base class of every error the client throws: `code` is stable, `messageRu` is for the user. */
export class SignAgentError extends Error {
  /**
   * @param {string} code  stable machine-readable code (the agent's error codes, or the client's own)
   * @param {string} message  English text
   * @param {string} messageRu  Russian text, to show the user
   * @param {{status?: number, retriable?: boolean, cause?: unknown}} [extra]
   */
  constructor(code, message, messageRu, extra = {}) {
    super(message, extra.cause === undefined ? undefined : {cause: extra.cause});
    this.name = new.target.name;
    this.code = code;
    this.messageRu = messageRu || message;
    this.status = extra.status;
    this.retriable = Boolean(extra.retriable);
  }
}

/** Nothing answers on the agent's port: the agent is not installed or not started. */
export class AgentNotRunning extends SignAgentError {
  constructor(extra) {
    super('agent_not_running',
      'SignAgent is not running on this computer. Start it (signagent serve) and try again.',
      'Программа SignAgent не запущена на этом компьютере. Запустите её (signagent serve) и повторите.', extra);
  }
}

/**
 * The browser refused the page access to this computer's local network services (Chromium 142+ "local network
 * access" permission): the agent may well be running, the user has to allow the site.
 */
export class LocalNetworkAccessDenied extends SignAgentError {
  constructor(extra) {
    super('local_network_access_denied',
      'The browser blocked this site from reaching SignAgent on this computer ("Local network access" is ' +
      'blocked for the site). Allow it: click the icon left of the address bar, open "Site settings" and set ' +
      '"Local network access" to "Allow", then reload the page.',
      'Браузер запретил этому сайту обращаться к программе SignAgent на вашем компьютере (для сайта запрещён ' +
      '«Доступ к локальной сети»). Разрешите его: нажмите на значок слева от адреса сайта, откройте «Настройки ' +
      'сайтов» и для пункта «Доступ к локальной сети» выберите «Разрешить», затем обновите страницу.', extra);
  }
}

/** The page's origin is not paired with the agent: call `agent.pair()` (from a user gesture) first. */
export class NotPaired extends SignAgentError {
  constructor(message, messageRu, extra) {
    super('origin_not_paired', message || 'This site is not paired with SignAgent.',
      messageRu || 'Этот сайт не подключён к SignAgent.', extra);
  }
}

/** The user refused the request in the agent's window. */
export class UserCancelled extends SignAgentError {
  constructor(message, messageRu, extra) {
    super('user_cancelled', message || 'The user cancelled the request.',
      messageRu || 'Пользователь отменил запрос.', extra);
  }
}

/** The token's PIN is locked (too many wrong PINs): it has to be unblocked with the SO PIN (PUK). */
export class PinLocked extends SignAgentError {
  constructor(message, messageRu, extra) {
    super('pin_locked', message || 'The token\'s PIN is locked.', messageRu || 'PIN-код токена заблокирован.', extra);
  }
}

/** The token was removed before the operation finished. */
export class TokenRemoved extends SignAgentError {
  constructor(message, messageRu, extra) {
    super('token_removed', message || 'The token was removed.', messageRu || 'Токен был извлечён.', extra);
  }
}

/** The request expired before the user decided, or the agent did not answer in time. */
export class Timeout extends SignAgentError {
  constructor(message, messageRu, extra) {
    super('timeout', message || 'The request timed out.', messageRu || 'Время ожидания запроса истекло.', extra);
  }
}

/** Any other error the agent reported; `code` is the agent's error code (docs/API.md, "Errors"). */
export class AgentError extends SignAgentError {
  constructor(code, message, messageRu, extra) {
    super(code || 'agent_error', message || `SignAgent error: ${code}`, messageRu || `Ошибка SignAgent: ${code}`,
      extra);
  }
}

/** The typed error for an agent error document `{code, message, message_ru, retriable}`. */
function errorFromAgent(error, status) {
  const {code = 'agent_error', message, message_ru: messageRu, retriable} = error || {};
  const extra = {status, retriable};
  switch (code) {
    case 'origin_not_paired': return new NotPaired(message, messageRu, extra);
    case 'user_cancelled': return new UserCancelled(message, messageRu, extra);
    case 'pin_locked': return new PinLocked(message, messageRu, extra);
    case 'token_removed': return new TokenRemoved(message, messageRu, extra);
    case 'request_expired': return new Timeout(message, messageRu, extra);
    default: return new AgentError(code, message, messageRu, extra);
  }
}

// --- encoding ----------------------------------------------------------------------------------------------------

function isBytes(value) {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

function asUint8Array(value) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);  // any other view: its bytes
}

/** Base64 of bytes, in chunks (a 5 MiB document must not blow the call stack). */
function bytesToBase64(bytes) {
  const parts = [];
  for (let i = 0; i < bytes.length; i += BASE64_CHUNK) {
    parts.push(String.fromCharCode.apply(null, bytes.subarray(i, i + BASE64_CHUNK)));
  }
  return btoa(parts.join(''));
}

/** Base64 of a document: a string is taken as text and encoded as UTF-8; bytes and Blobs as they are. */
async function contentToBase64(content) {
  if (typeof content === 'string') return bytesToBase64(new TextEncoder().encode(content));
  if (typeof Blob !== 'undefined' && content instanceof Blob) {
    return bytesToBase64(new Uint8Array(await content.arrayBuffer()));
  }
  if (isBytes(content)) return bytesToBase64(asUint8Array(content));
  throw new TypeError('content must be a string, a Uint8Array, an ArrayBuffer or a Blob');
}

/** A digest as lowercase hex: a hex string is checked, bytes are converted. */
function digestToHex(digest) {
  if (typeof digest === 'string') {
    if (!/^([0-9a-fA-F]{64}|[0-9a-fA-F]{128})$/.test(digest)) {
      throw new TypeError('digest must be 64 or 128 hex digits (Streebog-256 or -512)');
    }
    return digest.toLowerCase();
  }
  if (isBytes(digest)) return Array.from(asUint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  throw new TypeError('digest must be a hex string or bytes');
}

/** A challenge as base64: bytes are encoded, a string is taken as base64 already (as a portal's backend sends). */
function challengeToBase64(challenge) {
  if (isBytes(challenge)) return bytesToBase64(asUint8Array(challenge));
  if (typeof challenge === 'string') return challenge;
  throw new TypeError('challenge must be a base64 string or bytes');
}

/** The body of one document of `sign` / `signBatch` (docs/API.md, POST /v1/sign). */
async function documentBody(doc) {
  const hasContent = doc.content !== undefined && doc.content !== null;
  const hasDigest = doc.digest !== undefined && doc.digest !== null;
  if (hasContent === hasDigest) throw new TypeError('give either content or digest');
  const body = {
    detached: doc.detached ?? hasDigest,                 // a digest can only be signed detached
    content_type: doc.contentType ?? 'text/plain',
  };
  if (hasContent) body.content = await contentToBase64(doc.content);
  else body.digest = digestToHex(doc.digest);
  if (doc.filename !== undefined) body.filename = doc.filename;
  if (doc.description !== undefined) body.description = doc.description;
  return body;
}

// --- the confirmation window ---------------------------------------------------------------------------------------

/**
 * Where the user confirms: a popup opened at once (still inside the user's click, before any `await`, or popup
 * blockers refuse it), pointed at the agent's page once its address is known; or, when the popup was blocked, a
 * link the user clicks.
 */
class ConfirmWindow {
  constructor(options) {
    this.options = options;
    this.popup = null;
    this.link = null;
    try {
      this.popup = window.open('about:blank', POPUP_NAME, options.popupFeatures ?? POPUP_FEATURES);
    } catch {
      this.popup = null;  // some embedders throw instead of returning null
    }
  }

  /** Show the agent's page at `url`: in the popup, else through the page's `onConfirmLink`, else as a link. */
  show(url) {
    if (this.popup && !this.popup.closed) {
      this.popup.location.href = url;  // the blank popup is still ours (same origin): we may navigate it
      return;
    }
    if (this.options.onConfirmLink) {
      this.options.onConfirmLink(url);
      return;
    }
    this.link = confirmLink(url);
    document.body.prepend(this.link);
  }

  /** The request is over: close the popup we opened, remove the link we inserted. */
  close() {
    // Best effort: Chromium drops a close() that reaches the popup while it loads the answer to the user's click
    // (about when the request finishes), and the window then stays, showing the agent's result page.
    if (this.popup && !this.popup.closed && this.options.closePopup !== false) {
      try { this.popup.close(); } catch { /* not ours to close after all */ }
    }
    if (this.link) this.link.remove();
    this.popup = null;
    this.link = null;
  }
}

function confirmLink(url) {
  const link = document.createElement('a');
  link.href = url;
  link.target = '_blank';
  link.rel = 'opener';
  link.dataset.signagent = 'confirm-link';
  link.textContent = 'Откройте окно SignAgent, чтобы подтвердить запрос · Open the SignAgent window to confirm';
  link.style.cssText = 'display:block;position:relative;z-index:2147483647;margin:8px;padding:12px 16px;' +
    'border:2px solid #1a56db;border-radius:6px;background:#fff;color:#1a56db;font:16px/1.4 sans-serif;';
  return link;
}

// --- the client --------------------------------------------------------------------------------------------------

/** A connection to the agent on this computer. Create it with `await SignAgent.connect()`. */
export class SignAgent {
  /** @private use SignAgent.connect() */
  constructor(baseUrl, options) {
    this.baseUrl = baseUrl;
    this.options = options;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this._events = null;
    this._listeners = new Map();
  }

  /**
   * Connect to the agent: checks that it answers (`GET /v1/info`).
   * @param {object} [options]
   * @param {number} [options.port=36985]
   * @param {string} [options.host='127.0.0.1']
   * @param {number} [options.timeoutMs=10000] how long one plain call may take (waiting for the user is bounded by
   *   the request's expiry on the agent instead)
   * @param {(url: string) => void} [options.onConfirmLink] called with the confirmation page's address when the
   *   popup was blocked (the page shows it its own way); without it the client inserts a link into the page
   * @param {string} [options.popupFeatures] the `window.open` features of the popup
   * @param {boolean} [options.closePopup=true] close the popup once the request is finished
   * @returns {Promise<SignAgent>}
   * @throws {AgentNotRunning|LocalNetworkAccessDenied|AgentError}
   */
  static async connect(options = {}) {
    const host = options.host ?? DEFAULT_HOST;
    const port = options.port ?? DEFAULT_PORT;
    const agent = new SignAgent(`http://${host}:${port}`, options);
    agent.lastInfo = await agent.info();
    return agent;
  }

  /**
   * The agent's version, GOST backend, capabilities, and whether this page's origin is paired.
   * @returns {Promise<{version: string, gost_backend: string, capabilities: string[], paired: boolean}>}
   */
  async info() {
    return this._call('GET', '/v1/info');
  }

  /**
   * Ask the user to pair this page's origin with the agent, in the agent's own window. Call from a user gesture.
   * @returns {Promise<true>} true once the user allowed it
   * @throws {UserCancelled} the user refused; {Timeout} nobody decided in time
   */
  async pair() {
    await this._confirmed('POST', '/v1/pair', undefined);
    return true;
  }

  /**
   * The certificates the agent sees (docs/API.md, GET /v1/certificates); each has an `id` to sign with.
   * @returns {Promise<Array<{id: string, subject: string, owner_name?: string, certificate: string}>>}
   * @throws {NotPaired}
   */
  async certificates() {
    const answer = await this._call('GET', '/v1/certificates');
    return answer.certificates;
  }

  /**
   * Sign one document with the certificate `certificateId`; the user confirms and types the PIN in the agent's
   * window. Call from a user gesture.
   * @param {object} request
   * @param {string} request.certificateId
   * @param {string|Uint8Array|ArrayBuffer|Blob} [request.content] a string is signed as its UTF-8 bytes
   * @param {string|Uint8Array} [request.digest] Streebog hash of the content (hex or bytes); detached only
   * @param {boolean} [request.detached] default false with content, true with a digest
   * @param {string} [request.contentType='text/plain']
   * @param {string} [request.filename]
   * @param {string} [request.description]
   * @returns {Promise<{cms: string, certificate: string, certificateId: string, signingTime: string,
   *   requestId: string}>} `cms` is the base64 DER CAdES-BES signature
   */
  async sign(request) {
    const popup = new ConfirmWindow(this.options);  // before any await: still inside the user's gesture
    try {
      const body = {certificate_id: request.certificateId, ...(await documentBody(request))};
      const {requestId, result} = await this._confirmed('POST', '/v1/sign', body, popup);
      return {cms: result.cms, certificate: result.certificate, certificateId: result.certificate_id,
        signingTime: result.signing_time, requestId};
    } finally {
      popup.close();  // also when the request could not even be made
    }
  }

  /**
   * Sign several documents (1 to 50) with one confirmation and one PIN. Call from a user gesture.
   * @param {Array<object>} documents each like `sign`'s request (`content` or `digest`, `detached`, ...)
   * @param {{certificateId?: string}} [options] the certificate; else the documents' common `certificateId`
   * @returns {Promise<{signatures: Array<{cms: string, filename?: string}>, certificate: string,
   *   certificateId: string, signingTime: string, requestId: string}>}
   */
  async signBatch(documents, options = {}) {
    const popup = new ConfirmWindow(this.options);
    try {
      if (!Array.isArray(documents) || documents.length === 0) {
        throw new TypeError('documents must be a non-empty array');
      }
      const ids = new Set(documents.map((d) => d.certificateId).filter((id) => id !== undefined));
      const certificateId = options.certificateId ?? (ids.size === 1 ? [...ids][0] : undefined);
      if (certificateId === undefined || (ids.size > 0 && !ids.has(certificateId)) || ids.size > 1) {
        throw new TypeError('one certificateId for the whole batch is needed');
      }
      const body = {certificate_id: certificateId, documents: await Promise.all(documents.map(documentBody))};
      const {requestId, result} = await this._confirmed('POST', '/v1/sign/batch', body, popup);
      return {signatures: result.signatures, certificate: result.certificate, certificateId: result.certificate_id,
        signingTime: result.signing_time, requestId};
    } finally {
      popup.close();
    }
  }

  /**
   * Prove the user holds a certificate's key, bound to this page's origin (docs/API.md, "Authentication proof"):
   * send the result to the backend that issued the challenge. Call from a user gesture.
   * @param {string|Uint8Array|ArrayBuffer} challenge at least 32 bytes; a string is taken as base64
   * @param {{certificateId?: string}} [options] without it the user chooses the certificate
   * @returns {Promise<{format: string, version: number, origin: string, challenge: string, certificate: string,
   *   certificateId: string, algorithm: string, signature: string, requestId: string}>}
   */
  async authenticate(challenge, options = {}) {
    const popup = new ConfirmWindow(this.options);
    try {
      const body = {challenge: challengeToBase64(challenge)};
      if (options.certificateId !== undefined) body.certificate_id = options.certificateId;
      const {requestId, result} = await this._confirmed('POST', '/v1/authenticate', body, popup);
      const {certificate_id: certificateId, ...proof} = result;
      return {...proof, certificateId, requestId};
    } finally {
      popup.close();
    }
  }

  /**
   * Listen to the agent's events (`token-inserted`, `token-removed`, `certificates-changed`, `request-status`;
   * and `error` when the event stream fails). Needs a paired origin.
   * @param {string} event
   * @param {(data: any) => void} handler called with the event's parsed JSON data
   * @returns {() => void} removes the handler (the stream closes with the last one)
   */
  on(event, handler) {
    if (!this._events) this._events = new EventSource(`${this.baseUrl}/v1/events`);
    const listener = (e) => {
      let data = e.data;
      if (typeof data === 'string') {
        try { data = JSON.parse(data); } catch { /* not JSON: given as text */ }
      }
      handler(event === 'error' ? e : data);
    };
    this._events.addEventListener(event, listener);
    this._listeners.set(listener, event);
    return () => {
      if (!this._listeners.delete(listener) || !this._events) return;
      this._events.removeEventListener(event, listener);
      if (this._listeners.size === 0) this.close();
    };
  }

  /** Close the event stream, if any. */
  close() {
    if (this._events) this._events.close();
    this._events = null;
    this._listeners.clear();
  }

  // --- internals -------------------------------------------------------------------------------------------------

  /** Start a request the user confirms, show its page, wait until it is finished; `{requestId, result}`. */
  async _confirmed(method, path, body, popup = new ConfirmWindow(this.options)) {
    try {
      const started = await this._call(method, path, body);
      popup.show(started.confirm_url);
      const finished = await this._wait(started.request_id, started.expires_in);
      return {requestId: started.request_id, result: finished.result};
    } finally {
      popup.close();
    }
  }

  /** Poll `GET /v1/requests/{id}?wait=25` until the request leaves `pending`; its final status or a typed error. */
  async _wait(requestId, expiresIn) {
    // The agent expires the request (then says so); this bound only guards against an agent that stopped answering.
    const deadline = Date.now() + ((expiresIn ?? 300) + POLL_WAIT_S + 5) * 1000;
    const path = `/v1/requests/${encodeURIComponent(requestId)}?wait=${POLL_WAIT_S}`;
    for (;;) {
      if (Date.now() > deadline) throw new Timeout();
      let state;
      try {
        state = await this._call('GET', path, undefined, (POLL_WAIT_S + 10) * 1000);
      } catch (err) {
        if (!(err instanceof Timeout) && !(err instanceof AgentError && err.retriable)) throw err;
        await new Promise((resolve) => setTimeout(resolve, POLL_RETRY_MS));
        continue;
      }
      switch (state.status) {
        case 'pending': continue;
        case 'approved': return state;
        case 'denied': throw new UserCancelled();
        case 'expired': throw new Timeout('The request expired before it was confirmed.',
          'Время на подтверждение запроса истекло.');
        case 'failed': throw errorFromAgent(state.error, undefined);
        default: throw new AgentError('unexpected_status', `Unexpected request status: ${state.status}`);
      }
    }
  }

  /**
   * A call that failed without an answer. The agent refuses an unpaired site without CORS headers (the page may
   * not read the refusal), which the browser reports exactly like a dead port: `/v1/info`, open to every site,
   * tells the two apart.
   */
  async _unreachable(path, cause) {
    if (path !== '/v1/info') {
      let info = null;
      try {
        info = await this._call('GET', '/v1/info');
      } catch {
        info = null;  // the agent does not answer at all
      }
      if (info && !info.paired) return new NotPaired(undefined, undefined, {cause});
      if (info) {
        return new AgentError('request_refused', 'SignAgent refused the request.', 'SignAgent отклонил запрос.',
          {cause});
      }
    }
    return networkFailure(cause);
  }

  /** One HTTP call to the agent: its JSON answer, or a typed error. */
  async _call(method, path, body, timeoutMs = this.timeoutMs) {
    const init = {
      method,
      mode: 'cors',
      credentials: 'omit',
      cache: 'no-store',
      // Chromium's Local Network Access: a public page calling loopback says so (ignored by other browsers).
      targetAddressSpace: 'loopback',
      signal: AbortSignal.timeout(timeoutMs),
    };
    if (body !== undefined) {
      init.headers = {'Content-Type': 'application/json'};
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(this.baseUrl + path, init);
    } catch (err) {
      if (err && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
        throw new Timeout('SignAgent did not answer in time.', 'SignAgent не ответил вовремя.', {cause: err});
      }
      throw await this._unreachable(path, err);
    }
    let answer = null;
    try {
      answer = await response.json();
    } catch {
      answer = null;  // not JSON: an error without a document
    }
    if (!response.ok) {
      if (answer && answer.error) throw errorFromAgent(answer.error, response.status);
      throw new AgentError(`http_${response.status}`, `SignAgent answered HTTP ${response.status}`,
        `SignAgent ответил HTTP ${response.status}`, {status: response.status});
    }
    if (answer === null) throw new AgentError('bad_answer', 'SignAgent sent an unreadable answer.');
    return answer;
  }
}

/**
 * The state of Chromium's permission for this page to reach loopback: 'granted', 'denied', 'prompt', or null when
 * the browser has no such permission. Chromium 142-144 calls it 'local-network-access'; 145+ split it, loopback
 * being 'loopback-network' (and the old name, if still known, no longer governs loopback). A browser that does not
 * know a name throws on the query.
 */
async function loopbackPermission() {
  if (typeof navigator === 'undefined' || !navigator.permissions || !navigator.permissions.query) return null;
  for (const name of ['loopback-network', 'local-network-access']) {
    try {
      return (await navigator.permissions.query({name})).state;
    } catch {
      // unknown name here: try the older one
    }
  }
  return null;
}

/**
 * Why a fetch failed without an answer: nothing listens on the port, or Chromium's "local network access"
 * permission is refused for this site. Only a secure page's permission state means something: an insecure one
 * (plain http, not localhost) reads 'denied' whatever the user chose.
 */
async function networkFailure(cause) {
  const secure = typeof isSecureContext === 'undefined' || isSecureContext;
  if (secure && (await loopbackPermission()) === 'denied') return new LocalNetworkAccessDenied({cause});
  return new AgentNotRunning({cause});
}
