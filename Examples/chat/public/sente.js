// sente.js: a small dependency-free Sente client for browsers (newest wire, "v2").
//
//   const chsk = new Sente.ChannelSocket('/chsk', { params: { room: 'lobby' } });
//   chsk.onEvent = ([id, data]) => { ... };          // server pushes, one event at a time
//   chsk.onState = (state) => { ... };               // {type, open, uid, everOpened, ...}
//   chsk.start();
//   chsk.send([Sente.kw('my-app/hello'), { x: 1 }]);
//   chsk.send([Sente.kw('my-app/req'), { q: 'ping' }], 5000, (reply) => { ... });
//
// Wire: every message is the EDN of `[value cb-id]` (cb-id nil when there is no callback).
// WebSocket first (option `type: 'auto'`), falling back to Ajax long-polling when the
// WebSocket never opened; `type: 'ajax'` (or `?transport=ajax` in the page's URL) forces Ajax.
// Replies that do not come in time are `:chsk/timeout`; sending while closed gives `:chsk/closed`;
// a failed send `:chsk/error` (see `Sente.isError`). Keep-alive: the server's `:chsk/ws-ping`
// is answered with `[:chsk/ws-pong]`; when idle the client pings with a callback and reconnects
// when "pong" does not come back. Reconnects back off exponentially (capped, with jitter).
//
// EDN: the subset needed by typical apps. Reading gives: nil → null, booleans, numbers
// (integers beyond 2^53 lose precision), strings, keywords → Sente.Keyword (interned: compare
// with ===), symbols → Sente.Symbol, vectors and lists → Array, maps → Map, sets → Set,
// #inst → Date, #uuid → string, other tags → {tag, value}. Printing takes the same values
// plus plain objects (printed as maps with keyword keys) and undefined (nil).
// `Sente.toJS(value)` turns maps into plain objects keyed by the keywords' names.
(function (global) {
  'use strict';

  // ---------------------------------------------------------------- EDN values
  class Keyword {
    constructor(name) { this.name = name; }
    toString() { return ':' + this.name; }
  }
  const keywords = new Map();
  function kw(name) {
    if (name.startsWith(':')) name = name.slice(1);
    let k = keywords.get(name);
    if (!k) { k = new Keyword(name); keywords.set(name, k); }
    return k;
  }
  class Symbol_ {
    constructor(name) { this.name = name; }
    toString() { return this.name; }
  }

  // ---------------------------------------------------------------- EDN reader
  const WS = new Set([' ', '\t', '\n', '\r', ',', '\f']);
  const DELIM = new Set(['(', ')', '[', ']', '{', '}', '"', ';', '\\']);

  function read(text) {
    const s = String(text);
    let i = 0;
    const fail = (msg) => { throw new SyntaxError('EDN: ' + msg + ' at ' + i); };
    function skip() {
      for (;;) {
        while (i < s.length && WS.has(s[i])) i++;
        if (s[i] === ';') { while (i < s.length && s[i] !== '\n') i++; continue; }
        if (s[i] === '#' && s[i + 1] === '_') { i += 2; form(); continue; }
        return;
      }
    }
    function token() {
      const start = i;
      while (i < s.length && !WS.has(s[i]) && !DELIM.has(s[i])) i++;
      return s.slice(start, i);
    }
    function seq(close) {
      const items = [];
      for (;;) {
        skip();
        if (i >= s.length) fail('unterminated collection');
        if (s[i] === close) { i++; return items; }
        items.push(form());
      }
    }
    function str() {
      i++; // opening quote
      let out = '';
      for (;;) {
        if (i >= s.length) fail('unterminated string');
        const c = s[i++];
        if (c === '"') return out;
        if (c !== '\\') { out += c; continue; }
        const e = s[i++];
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case 'u': out += String.fromCharCode(parseInt(s.slice(i, i + 4), 16)); i += 4; break;
          default: fail('bad string escape \\' + e);
        }
      }
    }
    function atom(t) {
      if (t === 'nil') return null;
      if (t === 'true') return true;
      if (t === 'false') return false;
      if (/^[+-]?\d/.test(t)) {
        const n = t.replace(/[NM]$/, '');
        if (/^[+-]?\d+$/.test(n)) return parseInt(n, 10);
        if (/^[+-]?\d+\/\d+$/.test(n)) { const [a, b] = n.split('/'); return parseInt(a, 10) / parseInt(b, 10); }
        const f = Number(n);
        if (Number.isNaN(f)) fail('bad number ' + t);
        return f;
      }
      if (t === '##Inf') return Infinity;
      return new Symbol_(t);
    }
    function form() {
      skip();
      if (i >= s.length) fail('unexpected end');
      const c = s[i];
      switch (c) {
        case '[': i++; return seq(']');
        case '(': i++; return seq(')');
        case '{': {
          i++;
          const items = seq('}');
          if (items.length % 2) fail('odd map');
          const m = new Map();
          for (let k = 0; k < items.length; k += 2) m.set(items[k], items[k + 1]);
          return m;
        }
        case '"': return str();
        case ':': { i++; const t = token(); if (!t) fail('empty keyword'); return kw(t); }
        case '\\': {
          const start = ++i;
          i++;
          while (i < s.length && !WS.has(s[i]) && !DELIM.has(s[i])) i++;
          const t = s.slice(start, i);
          const named = { newline: '\n', space: ' ', tab: '\t', return: '\r' };
          return named[t] || t[0];
        }
        case '#': {
          if (s[i + 1] === '{') { i += 2; return new Set(seq('}')); }
          if (s[i + 1] === '#') { i += 2; const t = token(); return t === 'Inf' ? Infinity : t === '-Inf' ? -Infinity : NaN; }
          i++;
          const tag = token();
          const value = form();
          if (tag === 'inst') return new Date(value);
          if (tag === 'uuid') return value;
          return { tag, value };
        }
        case ')': case ']': case '}': fail('unexpected ' + c);
      }
      return atom(token());
    }
    skip();
    if (i >= s.length) return null; // an empty string reads as nil
    return form();
  }

  // ---------------------------------------------------------------- EDN printer
  function printString(x) {
    return '"' + x.replace(/[\\"\n\r\t]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' }[c])) + '"';
  }
  function print(x) {
    if (x === null || x === undefined) return 'nil';
    if (x === true) return 'true';
    if (x === false) return 'false';
    if (typeof x === 'number') {
      if (Number.isFinite(x)) return String(x);
      return Number.isNaN(x) ? '##NaN' : x > 0 ? '##Inf' : '##-Inf';
    }
    if (typeof x === 'bigint') return x.toString() + 'N';
    if (typeof x === 'string') return printString(x);
    if (x instanceof Keyword) return ':' + x.name;
    if (x instanceof Symbol_) return x.name;
    if (Array.isArray(x)) return '[' + x.map(print).join(' ') + ']';
    if (x instanceof Set) return '#{' + Array.from(x, print).join(' ') + '}';
    if (x instanceof Map) return '{' + Array.from(x, ([k, v]) => print(k) + ' ' + print(v)).join(', ') + '}';
    if (x instanceof Date) return '#inst ' + printString(x.toISOString());
    if (typeof x === 'object') {
      if (typeof x.tag === 'string' && 'value' in x && Object.keys(x).length === 2) return '#' + x.tag + ' ' + print(x.value);
      return '{' + Object.keys(x).filter((k) => x[k] !== undefined)
        .map((k) => ':' + k + ' ' + print(x[k])).join(', ') + '}';
    }
    throw new TypeError('EDN: cannot print ' + typeof x);
  }

  /** Maps → plain objects keyed by keyword names (or the printed key); recursive. */
  function toJS(x) {
    if (Array.isArray(x)) return x.map(toJS);
    if (x instanceof Set) return new Set(Array.from(x, toJS));
    if (x instanceof Map) {
      const o = {};
      for (const [k, v] of x) o[k instanceof Keyword ? k.name : typeof k === 'string' ? k : print(k)] = toJS(v);
      return o;
    }
    return x;
  }

  // ---------------------------------------------------------------- client
  const K = {
    handshake: kw('chsk/handshake'), wsPing: kw('chsk/ws-ping'), wsPong: kw('chsk/ws-pong'),
    timeout: kw('chsk/timeout'), closed: kw('chsk/closed'), error: kw('chsk/error'),
    dummy: kw('chsk/dummy-cb-200'), ajax: kw('ajax'), state: kw('chsk/state'),
  };
  const isError = (reply) => reply === K.timeout || reply === K.closed || reply === K.error;

  function uuid() {
    if (global.crypto && global.crypto.randomUUID) return global.crypto.randomUUID();
    return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (c) => {
      const r = (Math.random() * 16) | 0;
      return (c === 'x' ? r : (r & 0x3) | 0x8).toString(16);
    });
  }
  function query(params) {
    return Object.keys(params).filter((k) => params[k] !== undefined && params[k] !== null)
      .map((k) => encodeURIComponent(k) + '=' + encodeURIComponent(params[k])).join('&');
  }
  /** Sente's backoff: attempt 1 at once, then [2^(n-1), 2^n) s, capped at `cap` ms. */
  function defaultBackoff(attempt, cap) {
    if (attempt <= 1) return 0;
    const n = Math.min(attempt, 16);
    return Math.min(cap, Math.floor((Math.pow(2, n) + Math.random() * Math.pow(2, n)) * 500));
  }

  class ChannelSocket {
    /**
     * @param {string} path  the channel socket's path (`/chsk`) or full http(s) URL
     * @param {object} opts  type ('auto'|'ws'|'ajax'), params (sent on every request),
     *   clientId, csrfToken, wsKeepAliveMs (10000), wsPingTimeoutMs (5000),
     *   ajaxTimeoutMs (60000), backoffCapMs (30000), log (a function, or null)
     */
    constructor(path, opts = {}) {
      const here = global.location || { protocol: 'http:', host: 'localhost' };
      this.url = /^https?:/.test(path) ? path : here.protocol + '//' + here.host + path;
      this.opts = Object.assign({
        type: 'auto', params: {}, clientId: uuid(), csrfToken: null, wsKeepAliveMs: 10000,
        wsPingTimeoutMs: 5000, ajaxTimeoutMs: 60000, backoffCapMs: 30000, log: null,
      }, opts);
      this.state = { type: this.opts.type === 'auto' ? (global.WebSocket ? 'ws' : 'ajax') : this.opts.type,
        open: false, everOpened: false, uid: null, handshakeData: null };
      this.onEvent = () => {};
      this.onState = () => {};
      this.onHandshake = () => {};
      this.callbacks = new Map(); // cb-id → {fn, timer}
      this.attempt = 0;
      this.session = 0;           // bumped on each (re)connect: stale sockets/polls are ignored
      this.stopped = true;
      this.lastActivity = Date.now();
    }

    log(...args) { if (this.opts.log) this.opts.log(...args); }

    setState(changes) {
      const old = this.state;
      this.state = Object.assign({}, old, changes);
      if (old.open !== this.state.open || old.type !== this.state.type || old.uid !== this.state.uid) this.onState(this.state, old);
    }

    /** Connects (WebSocket or Ajax); reconnects by itself until `close()`. */
    start() {
      if (!this.stopped) return;
      this.stopped = false;
      this.attempt = 0;
      this.connect();
    }

    /** Disconnects for good; pending callbacks get `:chsk/closed`. */
    close() {
      this.stopped = true;
      this.session++;
      clearTimeout(this.retryTimer);
      clearInterval(this.kaTimer);
      if (this.ws) { try { this.ws.close(1000, 'CLOSE_NORMAL'); } catch (e) { /* closed */ } this.ws = null; }
      if (this.poll) { this.poll.abort(); this.poll = null; }
      this.failCallbacks(K.closed);
      this.setState({ open: false });
    }

    /** Drops the connection and connects again (the backoff starts over). */
    reconnect() {
      this.close();
      this.start();
    }

    connect() {
      if (this.stopped) return;
      const session = ++this.session;
      if (this.state.type === 'ws') this.connectWebSocket(session);
      else this.pollLoop(session, true);
    }

    retry(session, why) {
      if (this.stopped || session !== this.session) return;
      this.session++;
      clearInterval(this.kaTimer);
      this.failCallbacks(K.closed, 'ws');
      this.attempt++;
      const delay = defaultBackoff(this.attempt, this.opts.backoffCapMs);
      this.log('chsk: closed (' + why + '), reconnecting in ' + delay + ' ms');
      this.setState({ open: false });
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.connect(), delay);
    }

    // ---- WebSocket
    connectWebSocket(session) {
      const params = Object.assign({}, this.opts.params, { 'client-id': this.opts.clientId });
      if (this.opts.csrfToken) params['csrf-token'] = this.opts.csrfToken;
      const url = this.url.replace(/^http/, 'ws') + (this.url.includes('?') ? '&' : '?') + query(params);
      let ws;
      try { ws = new global.WebSocket(url); } catch (e) { this.downgradeOrRetry(session, 'ws-error'); return; }
      this.ws = ws;
      ws.onmessage = (m) => { if (session === this.session) this.receiveWS(session, m.data); };
      ws.onerror = () => { if (session === this.session && !this.state.everOpened) this.downgradeOrRetry(session, 'ws-error'); };
      ws.onclose = (e) => {
        if (session !== this.session) return;
        this.ws = null;
        if (!this.state.everOpened && this.opts.type === 'auto') this.downgradeOrRetry(session, 'ws-close');
        else this.retry(session, e.wasClean ? 'clean' : 'unexpected');
      };
      clearInterval(this.kaTimer);
      this.kaTimer = setInterval(() => this.keepAlive(session), this.opts.wsKeepAliveMs);
    }

    downgradeOrRetry(session, why) {
      if (session !== this.session) return;
      if (this.opts.type === 'auto' && !this.state.everOpened) {
        this.log('chsk: WebSocket failed before its handshake, downgrading to Ajax');
        if (this.ws) { const ws = this.ws; this.ws = null; ws.onclose = null; try { ws.close(); } catch (e) { /* closed */ } }
        clearInterval(this.kaTimer);
        this.setState({ type: 'ajax' });
        this.session++;
        this.connect();
      } else {
        this.retry(session, why);
      }
    }

    keepAlive(session) {
      if (session !== this.session || !this.state.open) return;
      if (Date.now() - this.lastActivity < this.opts.wsKeepAliveMs) return;
      this.send([K.wsPing], this.opts.wsPingTimeoutMs, (reply) => {
        if (reply !== 'pong' && session === this.session) {
          if (this.ws) { const ws = this.ws; this.ws = null; ws.onclose = null; try { ws.close(3000, 'CLOSE_ABNORMAL'); } catch (e) { /* closed */ } }
          this.retry(session, 'ws-ping-timeout');
        }
      });
    }

    receiveWS(session, text) {
      this.lastActivity = Date.now();
      let value, cb;
      try { [value, cb] = read(text); } catch (e) { this.log('chsk: bad message', text, e); return; }
      if (typeof cb === 'string') { this.answer(cb, value); return; }
      if (value === K.wsPing) { this.sendWS([[K.wsPong], null]); this.deliver([K.wsPing]); return; }
      this.receive(session, value);
    }

    /** A handshake, a batch of pushes, or `:chsk/timeout` (Ajax). */
    receive(session, value) {
      if (Array.isArray(value) && value[0] === K.handshake) {
        const [uid, , handshakeData] = value[1] || [];
        const first = !this.state.everOpened;
        this.attempt = 0;
        this.setState({ open: true, everOpened: true, uid, handshakeData });
        this.onHandshake({ uid, handshakeData, first });
        return;
      }
      if (value === K.timeout) return;
      if (Array.isArray(value)) { for (const ev of value) this.deliver(ev); return; }
      this.log('chsk: unexpected message', value);
    }

    deliver(ev) {
      try { this.onEvent(ev); } catch (e) { (global.console || { error() {} }).error('chsk: onEvent threw', e); }
    }

    sendWS(frame) {
      if (!this.ws || this.ws.readyState !== 1) return false;
      this.ws.send(print(frame));
      this.lastActivity = Date.now();
      return true;
    }

    // ---- callbacks
    addCallback(fn, timeoutMs, via) {
      const id = uuid().slice(0, 6);
      const timer = setTimeout(() => this.answer(id, K.timeout), timeoutMs);
      this.callbacks.set(id, { fn, timer, via });
      return id;
    }

    answer(id, value) {
      const entry = this.callbacks.get(id);
      if (!entry) { this.log('chsk: reply without a callback', id, value); return; }
      this.callbacks.delete(id);
      clearTimeout(entry.timer);
      try { entry.fn(value); } catch (e) { (global.console || { error() {} }).error('chsk: callback threw', e); }
    }

    failCallbacks(reason, via) {
      for (const [id, entry] of Array.from(this.callbacks)) if (!via || entry.via === via) this.answer(id, reason);
    }

    /**
     * Sends an event (`[keyword data]`). With `timeoutMs` and `cb`, the server's reply goes to
     * `cb` (or `:chsk/timeout`, `:chsk/closed`, `:chsk/error`). Returns false when closed.
     */
    send(ev, timeoutMs, cb) {
      if (!Array.isArray(ev) || !(ev[0] instanceof Keyword) || !ev[0].name.includes('/')) throw new TypeError('an event is [ns/keyword data]');
      if (!this.state.open) { if (cb) setTimeout(() => cb(K.closed), 0); return false; }
      if (this.state.type === 'ws') {
        const id = cb ? this.addCallback(cb, timeoutMs || 10000, 'ws') : null;
        if (!this.sendWS([ev, id])) { if (id) this.answer(id, K.error); return false; }
        return true;
      }
      this.post(ev, timeoutMs, cb);
      return true;
    }

    /** Promise form of `send` with a callback: resolves with the reply, rejects on errors. */
    request(ev, timeoutMs = 10000) {
      return new Promise((resolve, reject) => {
        this.send(ev, timeoutMs, (reply) => (isError(reply) ? reject(new Error(print(reply))) : resolve(reply)));
      });
    }

    // ---- Ajax
    headers(extra) {
      const h = Object.assign({ 'X-Requested-With': 'XMLHTTPRequest' }, extra);
      if (this.opts.csrfToken) h['X-CSRF-Token'] = this.opts.csrfToken;
      return h;
    }

    async pollLoop(session, handshake) {
      while (!this.stopped && session === this.session) {
        const params = Object.assign({}, this.opts.params, { udt: Date.now(), 'client-id': this.opts.clientId });
        if (handshake || !this.state.open) params['handshake?'] = 1;
        const controller = new AbortController();
        this.poll = controller;
        const timer = setTimeout(() => controller.abort(), this.opts.ajaxTimeoutMs);
        let text;
        try {
          const response = await fetch(this.url + (this.url.includes('?') ? '&' : '?') + query(params),
            { headers: this.headers(), signal: controller.signal, cache: 'no-store', credentials: 'same-origin' });
          if (!response.ok) throw new Error('HTTP ' + response.status);
          text = await response.text();
        } catch (e) {
          clearTimeout(timer);
          if (session !== this.session) return;
          if (controller.signal.aborted && !this.stopped) { handshake = false; continue; } // our timeout: poll again
          this.retry(session, 'unexpected');
          return;
        }
        clearTimeout(timer);
        if (session !== this.session) return;
        handshake = false;
        try { this.receive(session, read(text)[0]); } catch (e) { this.log('chsk: bad poll body', text, e); }
      }
    }

    async post(ev, timeoutMs, cb) {
      const form = { udt: Date.now(), 'client-id': this.opts.clientId, ppstr: print([ev, cb ? K.ajax : null]) };
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), timeoutMs || this.opts.ajaxTimeoutMs);
      let reply;
      try {
        const response = await fetch(this.url + (this.url.includes('?') ? '&' : '?') + query(this.opts.params), {
          method: 'POST', body: query(form), signal: controller.signal, cache: 'no-store', credentials: 'same-origin',
          headers: this.headers({ 'Content-Type': 'application/x-www-form-urlencoded;charset=UTF-8' }),
        });
        if (!response.ok) throw new Error('HTTP ' + response.status);
        const text = await response.text();
        reply = text ? read(text)[0] : K.error;
      } catch (e) {
        reply = controller.signal.aborted ? K.timeout : K.error;
      }
      clearTimeout(timer);
      if (cb) { try { cb(reply); } catch (e) { (global.console || { error() {} }).error('chsk: callback threw', e); } }
    }
  }

  global.Sente = { ChannelSocket, Keyword, Symbol: Symbol_, kw, read, print, toJS, isError, keywords: K };
})(typeof window !== 'undefined' ? window : globalThis);
