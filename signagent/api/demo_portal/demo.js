// The demo portal's page: finds the agent (its port comes from /config.json), loads the JS client from the agent
// itself, pairs, lists certificates, asks for a signature of the text, and has the portal's server verify it.
// No inline script or style (the page's CSP forbids them); every text is Russian first, then English.

const $ = (id) => document.getElementById(id);
const statusLine = $('demo-status');
const list = $('demo-certificates');
const signButton = $('demo-sign');
const result = $('demo-result');
let agent = null;

function say(ru, en, isError = false) {
  statusLine.textContent = '';
  statusLine.append(ru + ' ');
  const english = document.createElement('span');
  english.className = 'en';
  english.textContent = en;
  statusLine.append(english);
  statusLine.classList.toggle('error', isError);
}

const ERRORS = {
  AgentNotRunning: ['Агент не запущен: выполните signagent serve --demo', 'The agent is not running: run signagent serve --demo'],
  LocalNetworkAccessDenied: ['Браузер не разрешил странице обращаться к агенту на этом компьютере', 'The browser did not allow this page to reach the agent on this computer'],
  NotPaired: ['Сайт не подключён к агенту: нажмите «Подключить»', 'This site is not paired with the agent: press Pair'],
  UserCancelled: ['Операция отменена в окне агента', 'The operation was cancelled in the agent\'s window'],
  PinLocked: ['PIN заблокирован', 'The PIN is locked'],
  TokenRemoved: ['Токен извлечён', 'The token was removed'],
  Timeout: ['Время ожидания истекло', 'Timed out'],
};

function sayError(err) {
  const name = (err && (err.name || (err.constructor && err.constructor.name))) || 'Error';
  const known = ERRORS[name];
  if (known) {
    say(known[0], known[1], true);
  } else if (err && err.messageRu && err.message && err.messageRu !== err.message) {
    say('Ошибка: ' + err.messageRu, 'Error: ' + err.message, true);
  } else {
    const detail = (err && (err.messageRu || err.message)) || String(err);
    say('Ошибка: ' + detail, '(' + name + ')', true);
  }
}

function chainText(cert) {
  const status = cert.chain && cert.chain.status;
  const words = {
    valid: ['цепочка действительна', 'chain valid'],
    invalid: ['цепочка недействительна', 'chain invalid'],
    indeterminate: ['цепочка не проверена до конца', 'chain indeterminate'],
  }[status] || ['цепочка не проверялась', 'chain not checked'];
  return words[0] + ' · ' + words[1];
}

function showCertificates(certs) {
  list.textContent = '';
  const usable = certs.filter((c) => c.has_private_key !== false);
  if (usable.length === 0) {
    const empty = document.createElement('li');
    empty.textContent = 'Сертификатов с закрытым ключом нет · No certificate with a private key';
    list.append(empty);
    signButton.disabled = true;
    return;
  }
  usable.forEach((cert, index) => {
    const item = document.createElement('li');
    const label = document.createElement('label');
    const radio = document.createElement('input');
    radio.type = 'radio';
    radio.name = 'certificate';
    radio.value = cert.id;
    radio.dataset.testid = 'demo-certificate';
    radio.checked = index === 0;
    const name = document.createElement('strong');
    name.textContent = cert.owner_name || cert.subject || cert.id;
    const org = document.createElement('span');
    org.textContent = cert.organisation ? ' — ' + cert.organisation : '';
    const chain = document.createElement('div');
    chain.className = 'chain';
    const where = cert.source && cert.source.label ? cert.source.label + ' · ' : '';
    chain.textContent = where + chainText(cert);
    label.append(radio, ' ', name, org, chain);
    item.append(label);
    list.append(item);
  });
  signButton.disabled = false;
}

async function loadCertificates() {
  say('Получаю список сертификатов…', 'Listing certificates…');
  const certs = await agent.certificates();
  showCertificates(certs);
  say('Выберите сертификат и подпишите текст', 'Choose a certificate and sign the text');
}

function chosenCertificate() {
  const checked = list.querySelector('input[name="certificate"]:checked');
  return checked ? checked.value : null;
}

function when(iso) {
  if (!iso) return null;
  const moment = new Date(iso);
  return Number.isNaN(moment.getTime()) ? iso : moment.toLocaleString('ru-RU', { timeZoneName: 'short' }) + ' (' + iso + ')';
}

function showVerdict(summary) {
  result.textContent = '';
  result.className = 'result ' + summary.status;
  const verdict = document.createElement('p');
  verdict.className = 'verdict';
  verdict.dataset.status = summary.status;
  verdict.textContent = {
    valid: 'Подпись действительна · Signature valid',
    invalid: 'Подпись недействительна · Signature invalid',
    indeterminate: 'Подпись не удалось проверить до конца · Signature indeterminate',
  }[summary.status] || summary.status;
  result.append(verdict);
  const signer = (summary.signers || [])[0];
  if (signer) {
    const rows = [
      ['Подписал · Signed by', signer.name || signer.subject],
      ['Должность · Title', signer.title],
      ['Организация · Organisation', signer.organisation],
      ['ОГРН · OGRN', signer.ogrn],
      ['Время подписи (по заявлению подписанта) · Signing time (claimed by the signer)', when(signer.signing_time)],
      ['Издатель · Issuer', signer.issuer],
    ];
    const dl = document.createElement('dl');
    for (const [term, value] of rows) {
      if (!value) continue;
      const dt = document.createElement('dt');
      dt.textContent = term;
      const dd = document.createElement('dd');
      dd.textContent = value;
      dl.append(dt, dd);
    }
    result.append(dl);
  }
  const reasons = [...(summary.reasons || []), ...((signer && signer.reasons) || [])];
  if (reasons.length) {
    const ul = document.createElement('ul');
    for (const reason of reasons) {
      const li = document.createElement('li');
      li.textContent = reason.message_ru + ' · ' + reason.message;
      ul.append(li);
    }
    result.append(ul);
  }
}

async function verifyOnServer(cms) {
  const response = await fetch('/verify', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cms }),
  });
  const body = await response.json();
  if (!response.ok) {
    const error = new Error(body.error ? body.error.message : 'HTTP ' + response.status);
    error.messageRu = body.error ? body.error.message_ru : undefined;
    throw error;
  }
  return body;
}

async function pair() {
  try {
    say('Подтвердите подключение в окне агента…', 'Confirm the pairing in the agent\'s window…');
    await agent.pair();
    await loadCertificates();
  } catch (err) {
    sayError(err);
  }
}

async function sign() {
  const certificateId = chosenCertificate();
  if (!certificateId) {
    say('Выберите сертификат', 'Choose a certificate', true);
    return;
  }
  signButton.disabled = true;
  try {
    say('Подтвердите подпись и введите PIN в окне агента…', 'Confirm the signature and type the PIN in the agent\'s window…');
    const signed = await agent.sign({
      certificateId,
      content: $('demo-text').value,
      contentType: 'text/plain',
      filename: 'заявление.txt',
      description: 'Демонстрация: подпись текста · Demo: signing a text',
    });
    say('Подпись получена; сервер портала проверяет её…', 'Signature received; the portal\'s server verifies it…');
    const summary = await verifyOnServer(signed.cms);
    showVerdict(summary);
    say(summary.valid ? 'Готово: подпись проверена' : 'Готово: подпись не прошла проверку',
      summary.valid ? 'Done: the signature is verified' : 'Done: the signature did not verify', !summary.valid);
  } catch (err) {
    sayError(err);
  } finally {
    signButton.disabled = false;
  }
}

async function start() {
  const config = await (await fetch('/config.json')).json();
  $('demo-pin').textContent = config.demo_pin || '—';
  $('demo-pair').addEventListener('click', pair);
  signButton.addEventListener('click', sign);
  let SignAgent;
  try {
    ({ SignAgent } = await import(config.client_url));
  } catch (err) {
    say('Не удалось загрузить клиент агента с ' + config.client_url + ': агент запущен?',
      'Could not load the agent\'s client from ' + config.client_url + ': is the agent running?', true);
    return;
  }
  try {
    agent = await SignAgent.connect({ port: config.agent_port });
  } catch (err) {
    sayError(err);
    return;
  }
  if (agent.lastInfo && agent.lastInfo.paired === false) {
    say('Агент найден. Нажмите «Подключить»', 'Agent found. Press Pair');
    return;
  }
  try {
    await loadCertificates();  // paired on an earlier visit: straight to the certificates
  } catch (err) {
    if (err && err.name === 'NotPaired') {
      say('Агент найден. Нажмите «Подключить»', 'Agent found. Press Pair');
    } else {
      sayError(err);
    }
  }
}

start();
