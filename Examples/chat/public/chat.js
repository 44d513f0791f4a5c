// The chat page: join a room (the connection's uid is the room), load its history, send
// messages, show everyone's messages live. Query parameters (for tests and links):
//   ?name=ann&room=lobby  join at once;  &say=hello  send that once joined;
//   &wait=bob             send `say` only once a message from bob is shown;
//   &transport=ajax|ws    force a transport (default: WebSocket, Ajax fallback).
// Every message shown is an <li data-id=… data-name=… data-live=1|0> in #messages; #status
// gets data-state="open" and data-transport once connected, data-history="loaded" after
// history. The title mirrors it for headless tests (which read titles over DevTools' HTTP):
//   chat [ws] open | ann: hello* | bob: hi      (* = arrived live, not from the history)
(function () {
  'use strict';
  const { ChannelSocket, kw, toJS } = window.Sente;
  const $ = (id) => document.getElementById(id);
  const query = new URLSearchParams(location.search);
  let chsk = null;
  let me = '';
  const seen = new Set();

  let pending = null;                    // {say, wait}: a message to send once joined
  function show(m, live) {
    if (seen.has(m.id)) return;          // history and live pushes can overlap
    seen.add(m.id);
    const li = document.createElement('li');
    li.dataset.id = m.id;
    li.dataset.name = m.name;
    li.dataset.live = live ? '1' : '0';
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = m.name;
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = m.text;
    const at = document.createElement('span');
    at.className = 'at';
    at.textContent = new Date(m.at).toLocaleTimeString();
    li.append(name, text, at);
    const list = $('messages');
    const after = Array.from(list.children).find((x) => Number(x.dataset.id) > m.id);
    list.insertBefore(li, after || null);
    list.scrollTop = list.scrollHeight;
    updateTitle();
    maybeSay();
  }

  function updateTitle() {
    const s = $('status').dataset;
    const items = Array.from($('messages').children, (li) =>
      li.dataset.name + ': ' + li.querySelector('.text').textContent + (li.dataset.live === '1' ? '*' : ''));
    document.title = ['chat [' + (s.transport || '-') + '] ' + (s.state || 'idle')].concat(items).join(' | ');
  }

  function maybeSay() {
    if (!pending || $('status').dataset.history !== 'loaded') return;
    if (pending.wait && !Array.from($('messages').children).some((li) => li.dataset.name === pending.wait)) return;
    const text = pending.say;
    pending = null;
    post(text);
  }

  function status(text, state) {
    const s = $('status');
    s.textContent = text;
    s.className = state || '';
    s.dataset.state = state || '';
    if (chsk) s.dataset.transport = chsk.state.type;
    updateTitle();
  }

  function join(name, room, say, wait) {
    if (chsk) chsk.close();
    me = name;
    seen.clear();
    $('messages').textContent = '';
    pending = say ? { say, wait } : null;
    const type = query.get('transport') || 'auto';
    chsk = new ChannelSocket('/chsk', { type, params: { room }, log: (...a) => console.log(...a) });
    chsk.onState = (s) => status(s.open ? `in room “${room}” as ${me} (${s.type})` : 'reconnecting…', s.open ? 'open' : 'closed');
    chsk.onHandshake = () => {
      $('text').disabled = $('send').disabled = false;
      chsk.send([kw('chat/history'), { limit: 100 }], 8000, (reply) => {
        $('status').dataset.history = 'loaded';
        if (Array.isArray(reply)) reply.map(toJS).forEach((m) => show(m, false));
        maybeSay();
      });
    };
    chsk.onEvent = ([id, data]) => {
      if (id === kw('chat/message')) show(toJS(data), true);
    };
    chsk.start();
    const q = new URLSearchParams(location.search);
    q.set('name', name); q.set('room', room); q.delete('say');
    history.replaceState(null, '', '?' + q.toString());
  }

  function post(text) {
    chsk.send([kw('chat/send'), { name: me, text }], 8000, (reply) => {
      if (window.Sente.isError(reply)) status('could not send: ' + window.Sente.print(reply), 'error');
    });
  }

  $('join').addEventListener('submit', (e) => {
    e.preventDefault();
    join($('name').value.trim(), $('room').value.trim());
  });
  $('say').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('text').value.trim();
    if (text && chsk) { post(text); $('text').value = ''; }
  });

  if (query.get('name')) $('name').value = query.get('name');
  if (query.get('room')) $('room').value = query.get('room');
  if (query.get('name') && query.get('room')) join(query.get('name'), query.get('room'), query.get('say'), query.get('wait'));
})();
