// SignAgent's browser extension: the relay between the page script and the extension's background part. A content
// script in the extension's own (isolated) world of every frame: the page script (cadesplugin_api.js, in the page's
// world) cannot call extension APIs, this script cannot see the page's objects; they share the window's messages.
//
// The page script posts {'signagent-relay': 'request', id, kind, ...} to its own window; this script passes it to
// the background part and posts {'signagent-relay': 'answer', id, answer} back. Only messages of this very window
// are taken (not those of other frames or windows); which page is asking is told to the background part by the
// browser itself (the message's sender), not by anything in the message.
(function () {
  'use strict';

  var TAG = 'signagent-relay';
  var api = (typeof browser !== 'undefined' && browser.runtime) ? browser : chrome;
  var KINDS = {call: true, show: true, close: true};

  window.addEventListener('message', function (event) {
    var data = event.data;
    if (event.source !== window || !data || typeof data !== 'object' || data[TAG] !== 'request') return;
    if (typeof data.id !== 'string' || !KINDS[data.kind]) return;
    var message = {signagent: 'relay', kind: data.kind, method: data.method, path: data.path, body: data.body,
                   timeout: data.timeout, url: data.url, window: data.window};
    var sent;
    try {
      sent = api.runtime.sendMessage(message);
    } catch (err) {
      sent = Promise.reject(err);  // the extension was reloaded or removed under this page
    }
    Promise.resolve(sent).then(function (answer) {
      answer = answer || {failed: 'unreachable', detail: 'no answer from the extension'};
      post(data.id, answer);
    }, function (err) {
      post(data.id, {failed: 'extension', detail: String(err && err.message || err)});
    });
  });

  function post(id, answer) {
    var reply = {id: id, answer: answer};
    reply[TAG] = 'answer';
    window.postMessage(reply, '*');  // this window only; its own page script is the one waiting
  }
}());
