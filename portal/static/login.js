// Login by certificate: the backend issues a challenge (a login nonce, base64 of its 32 bytes), the agent signs
// it bound to this origin in its own window (PIN typed there), the backend verifies the proof and opens a session.
import {agent, api, chosenCertificate, say, sayAgentError, showCertificates, showReasons, clearReasons} from './common.js';

const list = document.getElementById('certificates');
const loginButton = document.getElementById('login');
const pairButton = document.getElementById('pair');
let connected = null;
let challenge = null;

async function freshChallenge() {
  const answer = await api('POST', '/api/login/challenge', {});
  challenge = answer.ok ? answer.body.challenge : null;
}

async function loadCertificates() {
  const certs = await connected.certificates();
  const count = showCertificates(list, certs);
  loginButton.disabled = count === 0 || !challenge;
  if (count === 0) say('Нет сертификатов с закрытым ключом: вставьте токен', 'No certificate with a private key: insert the token', true);
  else say('Выберите сертификат и нажмите «Войти»', 'Choose a certificate and press Log in');
}

pairButton.addEventListener('click', () => {
  connected.pair().then(async () => {
    pairButton.hidden = true;
    await loadCertificates();
  }, sayAgentError);
});

loginButton.addEventListener('click', () => {
  const chosen = chosenCertificate(list);
  if (!chosen || !challenge) return;
  clearReasons();
  loginButton.disabled = true;
  say('Подтвердите вход и введите PIN в окне агента…', 'Confirm the login and type the PIN in the agent\'s window…');
  connected.authenticate(challenge, {certificateId: chosen.value}).then(async (proof) => {
    const answer = await api('POST', '/api/login', {proof});
    if (answer.ok) {
      say('Вход выполнен', 'Logged in');
      location.assign('/organisation');
      return;
    }
    say('Вход не выполнен', 'Login refused', true);
    showReasons(answer.body);
    await freshChallenge();
    loginButton.disabled = false;
  }, async (err) => {
    sayAgentError(err);
    await freshChallenge();
    loginButton.disabled = false;
  });
});

async function start() {
  await freshChallenge();
  try {
    connected = await agent();
  } catch (err) {
    sayAgentError(err);
    return;
  }
  try {
    await loadCertificates();
  } catch (err) {
    if (err && err.name === 'NotPaired') {
      pairButton.hidden = false;
      say('Агент найден. Нажмите «Подключить агент»', 'Agent found. Press Pair');
    } else {
      sayAgentError(err);
    }
  }
}

start();
document.body.dataset.ready = 'true';  // the page's handlers are in place (tests wait for it)
