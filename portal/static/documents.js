// Organisation documents: upload (type, number, date, expiry, file) and deletion, which the backend refuses for
// a document attached to an exchange profile.
import {api, fileToBase64, say, showReasons, clearReasons} from './common.js';

const form = document.getElementById('document-form');
if (form) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearReasons();
    const data = Object.fromEntries(new FormData(form).entries());
    const file = form.querySelector('input[type=file]').files[0];
    if (!file) return;
    delete data.file;
    data.filename = file.name;
    data.content = await fileToBase64(file);
    const answer = await api('POST', '/api/documents', data);
    if (answer.ok) location.reload();
    else { say('Документ не загружен', 'The document was not uploaded', true); showReasons(answer.body); }
  });
}

for (const button of document.querySelectorAll('[data-testid="document-delete"]')) {
  button.addEventListener('click', async () => {
    clearReasons();
    const answer = await api('DELETE', `/api/documents/${button.dataset.id}`);
    if (answer.ok) location.reload();
    else { say('Документ не удалён', 'The document was not deleted', true); showReasons(answer.body); }
  });
}
document.body.dataset.ready = 'true';  // the page's handlers are in place (tests wait for it)
