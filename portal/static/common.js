// Shared by the portal's pages: the status line, JSON calls to the portal's backend, the agent's JS client
// (loaded from the agent itself: http://127.0.0.1:AGENT_PORT/signagent.js) and error wording, Russian first.
// No inline script anywhere: the pages' CSP allows scripts from the portal and the agent only.

export const byTest = (id, root = document) => root.querySelector(`[data-testid="${id}"]`);
export const allByTest = (id, root = document) => [...root.querySelectorAll(`[data-testid="${id}"]`)];

export function say(ru, en, isError = false) {
  const line = document.getElementById('status');
  line.textContent = ru + ' ';
  const english = document.createElement('span');
  english.className = 'en';
  english.textContent = en;
  line.append(english);
  line.classList.toggle('error', isError);
  line.dataset.state = isError ? 'error' : 'ok';
}

/** POST/DELETE/GET JSON to the portal's backend: {ok, status, body}. */
export async function api(method, url, data) {
  const init = {method, credentials: 'same-origin', headers: {}};
  if (data !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(data);
  }
  const response = await fetch(url, init);
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  return {ok: response.ok, status: response.status, body};
}

/** The reasons of a refusal (verifier reasons, field problems or one error) as a list on the page. */
export function showReasons(body) {
  const list = document.getElementById('reasons');
  if (!list) return;
  list.textContent = '';
  const items = (body && (body.reasons || body.errors)) || (body && body.error ? [body.error] : []);
  for (const item of items) {
    const li = document.createElement('li');
    li.dataset.testid = 'reason';
    li.dataset.code = item.code || '';
    const where = item.field ? item.field + ': ' : '';
    li.textContent = where + (item.message_ru || item.message) + ' · ';
    const en = document.createElement('span');
    en.className = 'en';
    en.textContent = item.message || '';
    li.append(en);
    list.append(li);
  }
}

export function clearReasons() {
  const list = document.getElementById('reasons');
  if (list) list.textContent = '';
}

const AGENT_ERRORS = {
  AgentNotRunning: ['Агент signagent не запущен на этом компьютере', 'The signagent agent is not running on this computer'],
  LocalNetworkAccessDenied: ['Браузер не разрешил странице обращаться к агенту на этом компьютере', 'The browser did not allow this page to reach the agent'],
  NotPaired: ['Портал не подключён к агенту: нажмите «Подключить агент»', 'The portal is not paired with the agent: press Pair'],
  UserCancelled: ['Операция отменена в окне агента', 'The operation was cancelled in the agent\'s window'],
  PinLocked: ['PIN токена заблокирован', 'The token\'s PIN is locked'],
  TokenRemoved: ['Токен извлечён', 'The token was removed'],
  Timeout: ['Время ожидания истекло', 'Timed out'],
};

export function sayAgentError(err) {
  const name = (err && err.name) || 'Error';
  const known = AGENT_ERRORS[name];
  if (known) say(known[0], known[1], true);
  else say('Ошибка агента: ' + ((err && (err.messageRu || err.message)) || String(err)), '(' + name + ')', true);
}

let connecting = null;
/** The connected agent (one connection per page). */
export function agent() {
  if (!connecting) {
    connecting = (async () => {
      const {SignAgent} = await import(document.body.dataset.clientUrl);
      return SignAgent.connect({port: Number(document.body.dataset.agentPort)});
    })();
  }
  return connecting;
}

/** Radio buttons for the agent's certificates (with a private key) in `list`; the first is chosen. */
export function showCertificates(list, certs, preferred) {
  list.textContent = '';
  const usable = certs.filter((c) => c.has_private_key !== false);
  usable.forEach((cert, index) => {
    const item = document.createElement('li');
    const label = document.createElement('label');
    const radio = document.createElement('input');
    radio.type = 'radio';
    radio.name = 'certificate';
    radio.value = cert.id;
    radio.dataset.testid = 'certificate';
    radio.dataset.owner = cert.owner_name || '';
    radio.dataset.certificate = cert.certificate || '';
    radio.checked = preferred ? cert.id === preferred : index === 0;
    const name = document.createElement('strong');
    name.textContent = cert.owner_name || cert.subject || cert.id;
    const org = document.createElement('span');
    org.textContent = (cert.organisation ? ' — ' + cert.organisation : '') + (cert.not_after ? ' · до ' + cert.not_after.slice(0, 10) : '');
    label.append(radio, ' ', name, org);
    item.append(label);
    list.append(item);
  });
  if (usable.length && !list.querySelector('input:checked')) list.querySelector('input').checked = true;
  return usable.length;
}

export function chosenCertificate(list) {
  return list.querySelector('input[name="certificate"]:checked');
}

/** Base64 of a File's bytes. */
export async function fileToBase64(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(text);
}
