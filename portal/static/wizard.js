// «Моя организация»: the registration wizard (as in the ГИИС ДМДК guide): lookup by ОГРН/ОГРНИП or ИНН in the
// register -> requisites -> ОКВЭД -> head -> real estate -> subdivisions -> beneficiaries -> «Зарегистрировать».
// The backend builds the request (its nonce, origin and time) and its canonical JSON; the agent signs exactly
// those bytes in its own window; the backend verifies the signature against the register and registers.
import {agent, api, say, sayAgentError, showReasons, clearReasons} from './common.js';

const steps = [...document.querySelectorAll('section.step')];
const back = document.getElementById('wizard-back');
const next = document.getElementById('wizard-next');
const progress = document.getElementById('wizard-progress');
const registerButton = document.getElementById('wizard-register');
const canonicalView = document.getElementById('wizard-canonical');
const result = document.getElementById('wizard-result');
const draftHolder = document.getElementById('wizard-draft');
let kind = null;          // "legal" | "entrepreneur"
let position = 0;
let prepared = null;
let connected = null;

const active = () => steps.filter((s) => !s.dataset.kinds || s.dataset.kinds.split(' ').includes(kind));

function field(name, root = document) {
  return root.querySelector(`[data-field="${name}"]`);
}

function setValue(element, value) {
  if (!element || value === undefined || value === null) return;
  if (element.type === 'checkbox') element.checked = Boolean(value);
  else if (element.dataset.type === 'list' && Array.isArray(value)) element.value = value.join(', ');
  else element.value = value;
}

function readValue(element) {
  if (element.type === 'checkbox') return element.checked;
  if (element.dataset.type === 'list') return element.value.split(',').map((v) => v.trim()).filter(Boolean);
  return element.value.trim();
}

function put(target, path, value) {
  const parts = path.split('.');
  let here = target;
  parts.forEach((part, i) => {
    const key = /^\d+$/.test(part) ? Number(part) : part;
    if (i === parts.length - 1) { here[key] = value; return; }
    if (here[key] === undefined) here[key] = /^\d+$/.test(parts[i + 1]) ? [] : {};
    here = here[key];
  });
}

function addRow(list, values = {}) {
  const container = document.querySelector(`[data-list="${list}"]`);
  const row = document.getElementById('row-' + list).content.firstElementChild.cloneNode(true);
  row.querySelector('[data-remove]').addEventListener('click', () => row.remove());
  for (const element of row.querySelectorAll('[data-row-field]')) {
    const path = element.dataset.rowField.split('.');
    let value = values;
    for (const part of path) value = value === undefined || value === null ? undefined : value[part];
    setValue(element, value);
  }
  container.append(row);
  return row;
}

function rows(list) {
  return [...document.querySelectorAll(`[data-list="${list}"] .row`)].map((row) => {
    const item = {};
    for (const element of row.querySelectorAll('[data-row-field]')) put(item, element.dataset.rowField, readValue(element));
    return item;
  });
}

function showHeadKind() {
  const chosen = field('head.kind').value;
  for (const block of document.querySelectorAll('[data-head-kind]')) block.hidden = block.dataset.headKind !== chosen;
}

function collectFixed(prefix, root) {
  const out = {};
  for (const element of root.querySelectorAll(`[data-field^="${prefix}."]`)) {
    if (element.closest('[data-head-kind]') && element.closest('[data-head-kind]').hidden) continue;
    put(out, element.dataset.field.slice(prefix.length + 1), readValue(element));
  }
  return out;
}

function okved() {
  const section = document.querySelector('[data-step="okved"]');
  const value = collectFixed('okved', section);
  value.auxiliary = (value.auxiliary || []).filter((entry) => entry && entry.code);
  value.other = rows('okved.other').filter((entry) => entry.code);
  return value;
}

/** The wizard's draft: what the backend turns into the request (it adds the nonce, origin, time and profile). */
function draft() {
  if (kind === 'entrepreneur') {
    const entrepreneur = collectFixed('entrepreneur', document);
    entrepreneur.okved = okved();
    return {type: 'entrepreneur-registration', request: {entrepreneur, real_estate: rows('real_estate')}};
  }
  const organisation = collectFixed('organisation', document);
  organisation.okved = okved();
  if (organisation.postal_same_as_legal) delete organisation.postal_address;
  const head = collectFixed('head', document);
  const beneficiaries = rows('beneficiaries').map((b) => {
    if (b.active) delete b.ceased_on;
    return b;
  });
  return {type: 'head-registration', request: {organisation, head, real_estate: rows('real_estate'),
    subdivisions: rows('subdivisions'), beneficiaries}};
}

function fill(found) {
  kind = found.kind;
  if (kind === 'entrepreneur') {
    for (const name of ['surname', 'name', 'patronymic', 'ogrnip', 'inn']) setValue(field('entrepreneur.' + name), found[name]);
  } else {
    setValue(field('organisation.full_name'), found.full_name);
    setValue(field('organisation.short_name'), found.short_name);
    setValue(field('organisation.ogrn'), found.ogrn);
    setValue(field('organisation.inn'), found.inn);
    setValue(field('organisation.kpp'), found.kpp);
    setValue(field('organisation.legal_address'), found.address);
    const head = (found.heads || [])[0];
    if (head) {
      const title = (text) => text ? text.charAt(0) + text.slice(1).toLowerCase() : text;
      setValue(field('head.surname'), title(head.surname));
      setValue(field('head.name'), title(head.name));
      setValue(field('head.patronymic'), title(head.patronymic));
      setValue(field('head.inn'), head.inn);
      setValue(field('head.position'), title(head.position));
    }
  }
}

/** An earlier request (editing): every field back in place. */
function restore(request) {
  if (request.type === 'entrepreneur-registration') {
    kind = 'entrepreneur';
    const e = request.entrepreneur;
    for (const element of document.querySelectorAll('[data-field^="entrepreneur."]')) {
      setValue(element, e[element.dataset.field.slice('entrepreneur.'.length)]);
    }
    restoreOkved(e.okved);
  } else {
    kind = 'legal';
    const o = request.organisation;
    for (const element of document.querySelectorAll('[data-field^="organisation."]')) {
      setValue(element, o[element.dataset.field.slice('organisation.'.length)]);
    }
    restoreOkved(o.okved);
    setValue(field('head.kind'), request.head.kind);
    showHeadKind();
    const block = document.querySelector(`[data-head-kind="${request.head.kind}"]`);
    for (const element of block.querySelectorAll('[data-field]')) {
      const path = element.dataset.field.slice('head.'.length).split('.');
      let value = request.head;
      for (const part of path) value = value === undefined ? undefined : value[part];
      setValue(element, value);
    }
    for (const item of request.subdivisions || []) addRow('subdivisions', item);
    for (const item of request.beneficiaries || []) addRow('beneficiaries', item);
  }
  for (const item of request.real_estate || []) addRow('real_estate', item);
}

function restoreOkved(value) {
  if (!value) return;
  setValue(field('okved.main.code'), value.main.code);
  setValue(field('okved.main.comment'), value.main.comment);
  (value.auxiliary || []).forEach((entry, i) => {
    setValue(field(`okved.auxiliary.${i}.code`), entry.code);
    setValue(field(`okved.auxiliary.${i}.comment`), entry.comment);
  });
  for (const entry of value.other || []) addRow('okved.other', entry);
}

function render() {
  const list = active();
  steps.forEach((step) => { step.hidden = step !== list[position]; });
  progress.textContent = '';
  list.forEach((step, i) => {
    const li = document.createElement('li');
    li.textContent = step.dataset.title;
    li.className = i === position ? 'current' : (i < position ? 'done' : '');
    progress.append(li);
  });
  back.disabled = position === 0;
  next.disabled = position === list.length - 1 || kind === null;
  document.body.dataset.wizardStep = list[position].dataset.step;
  if (list[position].dataset.step === 'review') prepare();
}

/** Ask the backend for the request to sign (a fresh nonce each time); `keep`: leave the last verdict shown. */
async function prepare(keep = false) {
  if (!keep) {
    clearReasons();
    result.textContent = '';
  }
  prepared = null;
  registerButton.disabled = true;
  canonicalView.textContent = '';
  const answer = await api('POST', '/api/registration/prepare', draft());
  if (!answer.ok) {
    say('В заявлении есть ошибки: исправьте их на предыдущих шагах', 'The request has errors: correct them in the earlier steps', true);
    showReasons(answer.body);
    return;
  }
  prepared = answer.body;
  canonicalView.textContent = JSON.stringify(JSON.parse(prepared.canonical), null, 2);
  registerButton.disabled = !connected;
  if (!keep) say('Проверьте заявление и нажмите «Зарегистрировать»', 'Check the request and press Register');
}

registerButton.addEventListener('click', () => {
  if (!prepared || !connected) return;
  registerButton.disabled = true;
  clearReasons();
  say('Подтвердите подпись и введите PIN в окне агента…', 'Confirm the signature and type the PIN in the agent\'s window…');
  // sign() is called synchronously inside the click: the agent's window opens within the user's gesture
  connected.sign({certificateId: document.body.dataset.certificateId, content: prepared.canonical,
    contentType: prepared.content_type, filename: 'registration.json', description: 'Регистрация организации'})
    .then(async (signed) => {
      say('Подпись получена; портал проверяет её…', 'Signature received; the portal verifies it…');
      const answer = await api('POST', '/api/registration/submit', {cms: signed.cms});
      result.textContent = '';
      const verdict = document.createElement('p');
      verdict.dataset.testid = 'wizard-verdict';
      verdict.dataset.status = answer.ok ? 'valid' : 'invalid';
      if (answer.ok) {
        verdict.textContent = 'Организация зарегистрирована, вы — администратор организации · Registered: you are the organisation\'s administrator';
        const link = document.createElement('a');
        link.href = '/organisation';
        link.dataset.testid = 'wizard-done';
        link.textContent = 'Перейти в «Моя организация» · Go to My organisation';
        result.append(verdict, link);
        say('Готово', 'Done');
      } else {
        verdict.textContent = 'Регистрация отклонена · Registration refused';
        result.append(verdict);
        showReasons(answer.body);
        say('Регистрация отклонена: причины ниже', 'Registration refused: see the reasons below', true);
        prepare(true);  // a new nonce for another try: a signed request is never accepted twice
      }
    }, (err) => { sayAgentError(err); registerButton.disabled = false; });
});

document.getElementById('wizard-find').addEventListener('click', async () => {
  clearReasons();
  const query = document.getElementById('wizard-query').value.trim();
  const answer = await api('GET', '/api/registry?query=' + encodeURIComponent(query));
  const found = document.getElementById('wizard-found');
  if (!answer.ok) {
    found.textContent = '';
    showReasons(answer.body);
    say('Не найдено', 'Not found', true);
    return;
  }
  fill(answer.body);
  found.textContent = (answer.body.full_name || '') + ' · ' + (answer.body.ogrn || answer.body.ogrnip);
  found.dataset.kind = answer.body.kind;
  say('Найдено в реестре: нажмите «Далее»', 'Found in the register: press Next');
  render();
});

for (const button of document.querySelectorAll('[data-add]')) {
  button.addEventListener('click', () => addRow(button.dataset.add));
}
field('head.kind').addEventListener('change', showHeadKind);
back.addEventListener('click', () => { position = Math.max(0, position - 1); render(); });
next.addEventListener('click', () => { position = Math.min(active().length - 1, position + 1); render(); });

if (draftHolder.dataset.draft) {
  restore(JSON.parse(draftHolder.dataset.draft));
  position = 1;
}
showHeadKind();
render();
agent().then((a) => { connected = a; if (prepared) registerButton.disabled = false; }, sayAgentError);
document.body.dataset.ready = 'true';  // the page's handlers are in place (tests wait for it)
