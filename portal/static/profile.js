// «Мой профиль»: every field optional; saved by the backend for the logged-in user only.
import {api, say, showReasons, clearReasons} from './common.js';

const form = document.getElementById('profile-form');
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearReasons();
  const data = Object.fromEntries(new FormData(form).entries());
  const answer = await api('POST', '/api/profile', data);
  if (answer.ok) say('Профиль сохранён', 'Profile saved');
  else { say('Профиль не сохранён', 'Profile not saved', true); showReasons(answer.body); }
});
document.body.dataset.ready = 'true';  // the page's handlers are in place (tests wait for it)
