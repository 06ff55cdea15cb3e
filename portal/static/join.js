// An employee asks to join a registered organisation (or one of its subdivisions): the backend builds the
// employee-registration request, the agent signs it with the logged-in certificate, the backend verifies it.
import {agent, api, say, sayAgentError, showReasons, clearReasons} from './common.js';

const organisation = document.getElementById('join-organisation');
const subdivision = document.getElementById('join-subdivision');
const prepareButton = document.getElementById('join-prepare');
const signButton = document.getElementById('join-sign');
const canonical = document.getElementById('join-canonical');
let connected = null;
let prepared = null;

function showSubdivisions() {
  const option = organisation.selectedOptions[0];
  for (const old of [...subdivision.options].slice(1)) old.remove();
  const holder = option && option.value ? document.querySelector(`[data-subdivisions-of="${option.value}"]`) : null;
  const names = holder ? [...holder.querySelectorAll('li')].map((li) => li.textContent) : [];
  for (const name of names) subdivision.append(new Option(name, name));
  prepared = null;
  signButton.disabled = true;
  canonical.textContent = '';
}

organisation.addEventListener('change', showSubdivisions);
showSubdivisions();

prepareButton.addEventListener('click', async () => {
  clearReasons();
  const option = organisation.selectedOptions[0];
  if (!option || !option.value) { say('Выберите организацию', 'Choose an organisation', true); return; }
  const request = {organisation: {ogrn: option.dataset.ogrn, inn: option.dataset.inn}, subdivision: subdivision.value};
  const answer = await api('POST', '/api/registration/prepare', {type: 'employee-registration', request});
  if (!answer.ok) { say('Заявка не подготовлена', 'The request could not be prepared', true); showReasons(answer.body); return; }
  prepared = answer.body;
  canonical.textContent = JSON.stringify(JSON.parse(prepared.canonical), null, 2);
  signButton.disabled = !connected;
  say('Проверьте заявку и подпишите её', 'Check the request and sign it');
});

signButton.addEventListener('click', () => {
  if (!prepared || !connected) return;
  signButton.disabled = true;
  say('Подтвердите подпись и введите PIN в окне агента…', 'Confirm and type the PIN in the agent\'s window…');
  connected.sign({certificateId: document.body.dataset.certificateId, content: prepared.canonical,
    contentType: prepared.content_type, filename: prepared.filename, description: 'Заявка сотрудника на присоединение к организации'})
    .then(async (signed) => {
      const answer = await api('POST', '/api/registration/submit', {cms: signed.cms});
      if (answer.ok) { say('Заявка принята', 'Request accepted'); location.assign('/organisation'); return; }
      say('Заявка отклонена', 'Request refused', true);
      showReasons(answer.body);
    }, sayAgentError);
});

agent().then((a) => { connected = a; }, sayAgentError);
document.body.dataset.ready = 'true';  // the page's handlers are in place (tests wait for it)
