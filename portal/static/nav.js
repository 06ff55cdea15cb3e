// Every page: the log-out button.
import {api} from './common.js';

const logout = document.getElementById('logout');
if (logout) {
  logout.addEventListener('click', async () => {
    await api('POST', '/api/logout', {});
    location.assign('/');
  });
}
