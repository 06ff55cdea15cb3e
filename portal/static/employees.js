// The administrator's employee list: roles per employee; the backend sets the status (roles -> Активный,
// none -> Удален) and refuses anyone but an administrator of this organisation.
import {api, say, showReasons} from './common.js';

for (const row of document.querySelectorAll('[data-testid="employee"]')) {
  row.querySelector('[data-testid="employee-save"]').addEventListener('click', async () => {
    const roles = [...row.querySelectorAll('input[type=checkbox]:checked')].map((box) => box.value);
    const answer = await api('POST', `/api/employees/${row.dataset.memberId}/roles`, {roles});
    if (answer.ok) {
      say('Роли сохранены', 'Roles saved');
      location.reload();
    } else {
      say('Роли не сохранены', 'Roles not saved', true);
      showReasons(answer.body);
    }
  });
}
document.body.dataset.ready = 'true';  // the page's handlers are in place (tests wait for it)
