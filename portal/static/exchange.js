// Information-exchange profiles: the IS name and code, the organisation or a subdivision, and a certificate the
// user picks from the agent's list (the backend keeps its id, owner and DER).
import {agent, api, chosenCertificate, say, sayAgentError, showCertificates, showReasons, clearReasons} from './common.js';

const form = document.getElementById('exchange-form');
const list = document.getElementById('certificates');

document.getElementById('exchange-load-certificates').addEventListener('click', async () => {
  try {
    const connected = await agent();
    const count = showCertificates(list, await connected.certificates());
    if (count === 0) say('Нет сертификатов', 'No certificates', true);
  } catch (err) {
    sayAgentError(err);
  }
});

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearReasons();
  const chosen = chosenCertificate(list);
  if (!chosen) { say('Выберите сертификат', 'Choose a certificate', true); return; }
  const data = Object.fromEntries(new FormData(form).entries());
  delete data.certificate;
  Object.assign(data, {certificate_id: chosen.value, certificate_owner: chosen.dataset.owner,
    certificate: chosen.dataset.certificate || undefined});
  const answer = await api('POST', '/api/exchange-profiles', data);
  if (answer.ok) location.reload();
  else { say('Профиль не сохранён', 'The profile was not saved', true); showReasons(answer.body); }
});

for (const button of document.querySelectorAll('[data-testid="exchange-delete"]')) {
  button.addEventListener('click', async () => {
    const answer = await api('DELETE', `/api/exchange-profiles/${button.dataset.id}`);
    if (answer.ok) location.reload();
    else showReasons(answer.body);
  });
}
document.body.dataset.ready = 'true';  // the page's handlers are in place (tests wait for it)
