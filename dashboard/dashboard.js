/*
 * airouter dashboard.  Reads the admin, stats and health APIs of the server
 * that served the page; every value from them is shown as text (never as
 * HTML).  The admin token is kept in sessionStorage only and sent in the
 * Authorization header of same-origin requests.
 */
'use strict';

(function () {

  var TOKEN_KEY = 'airouter.admin_token';
  var REFRESH_MS = 5000;

  var state = {
    token: null,
    open: false,            /* the admin API answers without a token */
    timer: null,
    busy: false,
    channels: {},           /* id -> /v1/admin/channels entry */
    status: {},             /* id -> /v1/stats/channel-status entry */
    daily: null,
    summary: null,
    latency: {},            /* id -> {ttfb, duration} from /metrics */
    metrics: true,          /* false once /metrics is not there */
    optional: { history: true, requests: true, audit: true },
    lastRequest: 0,         /* the newest request id shown */
    lastCount: null         /* {requests, at} for the request rate */
  };

  function $(id) { return document.getElementById(id); }

  /* an element with attributes and children (strings become text nodes) */
  function el(tag, attrs) {
    var e = document.createElement(tag), i, k, c;
    if (attrs) {
      for (k in attrs) {
        if (attrs[k] !== null && attrs[k] !== undefined) {
          e.setAttribute(k, attrs[k]);
        }
      }
    }
    for (i = 2; i < arguments.length; i++) {
      c = arguments[i];
      if (c === null || c === undefined) { continue; }
      e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function clear(e) { while (e.firstChild) { e.removeChild(e.firstChild); } }

  function show(e, on) { e.hidden = !on; }

  function num(n) {
    if (n === null || n === undefined) { return '\u2013'; }
    if (n >= 1e6) { return (n / 1e6).toFixed(1) + 'M'; }
    if (n >= 1e4) { return (n / 1e3).toFixed(1) + 'k'; }
    return String(n);
  }

  function usd(n) {
    if (n === null || n === undefined) { return '\u2013'; }
    if (n === 0) { return '$0'; }
    if (n < 0.01) { return '$' + n.toPrecision(2); }
    return '$' + n.toFixed(n < 1 ? 4 : 2);
  }

  function ms(sec) {
    if (sec === null || sec === undefined) { return '\u2013'; }
    return sec < 1 ? Math.round(sec * 1000) + ' ms' : sec.toFixed(2) + ' s';
  }

  function pct(a, b) {
    return b > 0 ? (100 * a / b).toFixed(1) + '%' : '0%';
  }

  /* --- talking to the server --- */

  /* --- live updates: one SSE stream, GET /v1/admin/events --- */

  /*
   * Read with fetch() (EventSource cannot send the token): every event
   * (hello, tick, channel, strategy) asks for one refresh soon; while the
   * stream is up the page does not poll but once a minute.
   */
  function listen() {
    var ctl, opt;
    if (state.stream || !window.ReadableStream || !window.AbortController) {
      return;
    }
    ctl = new AbortController();
    state.stream = ctl;
    opt = { headers: {}, cache: 'no-store', signal: ctl.signal };
    if (state.token) { opt.headers.Authorization = 'Bearer ' + state.token; }
    fetch('/v1/admin/events', opt).then(function (res) {
      var reader, dec = new TextDecoder(), buf = '';
      if (res.status !== 200 || !res.body) { throw new Error('no stream'); }
      reader = res.body.getReader();
      state.live = true;
      function pump() {
        return reader.read().then(function (x) {
          var i;
          if (x.done) { throw new Error('stream ended'); }
          buf += dec.decode(x.value, { stream: true }).replace(/\r/g, '');
          while ((i = buf.indexOf('\n\n')) >= 0) {
            if (/^event: *(hello|tick|channel|strategy)$/m.test(buf.slice(0, i))) {
              soon();
            }
            buf = buf.slice(i + 2);
          }
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      return null;
    }).then(function () {
      var again = state.stream === ctl && !$('app').hidden;
      if (state.stream === ctl) { state.stream = null; }
      state.live = false;
      if (again) { setTimeout(listen, 3000); soon(); }
    });
  }

  function unlisten() {
    var ctl = state.stream;
    state.stream = null;
    state.live = false;
    if (ctl) { ctl.abort(); }
  }

  function soon() {
    if (state.soon) { return; }
    state.soon = setTimeout(function () { state.soon = null; refresh(); }, 300);
  }

  function api(method, path, body) {
    var opt = { method: method, headers: {}, cache: 'no-store' };
    if (state.token) { opt.headers.Authorization = 'Bearer ' + state.token; }
    if (body !== undefined) {
      opt.headers['Content-Type'] = 'application/json';
      opt.body = JSON.stringify(body);
    }
    return fetch(path, opt).then(function (res) {
      var ct = res.headers.get('Content-Type') || '';
      var read = ct.indexOf('json') >= 0 ? res.json() : res.text();
      return read.then(function (data) {
        return { status: res.status, data: data };
      }, function () {
        return { status: res.status, data: null };
      });
    });
  }

  function errorText(r) {
    if (r.data && r.data.error && r.data.error.message) {
      return r.status + ': ' + r.data.error.message;
    }
    return 'HTTP ' + r.status;
  }

  function notice(text) {
    $('notice').textContent = text || '';
    show($('notice'), !!text);
  }

  /* --- signing in --- */

  function signinView(message) {
    stop();
    show($('app'), false);
    show($('admin-tools'), false);
    show($('signin'), true);
    $('signin-error').textContent = message || '';
    $('token').focus();
  }

  function start() {
    show($('signin'), false);
    show($('app'), true);
    show($('admin-tools'), true);
    show($('signout'), !state.open);
    loadStrategy();
    loadTags();
    refresh();
    listen();
  }

  function stop() {
    if (state.timer) { clearTimeout(state.timer); state.timer = null; }
    /* an event just before "sign out" may have asked for a refresh */
    if (state.soon) { clearTimeout(state.soon); state.soon = null; }
    unlisten();
  }

  /* try the admin API with the token we have (or none) */
  function probe(token) {
    state.token = token;
    return api('GET', '/v1/admin/channels').then(function (r) {
      if (r.status === 200) {
        takeChannels(r.data);
        return 'ok';
      }
      if (r.status === 403) { return 'disabled: ' + errorText(r); }
      return 'refused';
    });
  }

  /*
   * The server says in a <meta> how its admin API lets us in: "open" (no
   * token), "token" (sign in) or "closed" (nothing can be done here).
   */
  function boot() {
    var meta = document.querySelector('meta[name="airouter-admin"]');
    var access = meta ? meta.getAttribute('content') : 'token';
    var saved = sessionStorage.getItem(TOKEN_KEY);
    if (access === 'closed') {
      notice('The admin API refuses every request: set auth.admin.enabled ' +
             'and auth.admin.admin_token to use the dashboard.');
      return;
    }
    if (access === 'token' && !saved) {
      signinView('');
      return;
    }
    probe(access === 'open' ? null : saved).then(function (res) {
      if (res === 'ok') {
        state.open = access === 'open';
        start();
      } else if (res.indexOf('disabled') === 0) {
        notice('The admin API refuses every request (' + res.slice(10) + ').');
      } else {
        sessionStorage.removeItem(TOKEN_KEY);
        state.token = null;
        signinView('The saved token was refused.');
      }
    }, function () {
      notice('The server does not answer.');
    });
  }

  $('signin-form').addEventListener('submit', function (ev) {
    var token = $('token').value.trim();
    ev.preventDefault();
    if (!token) { return; }
    probe(token).then(function (res) {
      if (res === 'ok') {
        sessionStorage.setItem(TOKEN_KEY, token);
        $('token').value = '';
        state.open = false;
        start();
      } else {
        state.token = null;
        $('signin-error').textContent = res === 'refused'
          ? 'This token was refused.' : res;
      }
    });
  });

  $('signout').addEventListener('click', function () {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    signinView('Signed out.');
  });

  /* --- refreshing --- */

  function refresh() {
    var jobs;
    if (state.timer) { clearTimeout(state.timer); state.timer = null; }
    /* signed out: a late timer must not ask without the token */
    if ($('app').hidden) { return; }
    if (state.busy) { state.again = true; return; }
    state.busy = true;
    state.again = false;
    jobs = [
      api('GET', '/v1/admin/channels'),
      api('GET', '/v1/stats/channel-status'),
      api('GET', '/v1/stats/summary'),
      api('GET', '/v1/stats/daily'),
      api('GET', '/v1/stats/alerts'),
      api('GET', '/health'),
      state.metrics ? api('GET', '/metrics') : Promise.resolve(null),
      optional('history', '/v1/admin/history'),
      optional('requests', '/v1/admin/requests?' + requestQuery()),
      optional('audit', '/v1/admin/audit?limit=20')
    ];
    Promise.all(jobs).then(function (r) {
      if (r[0].status === 401) {
        state.busy = false;
        sessionStorage.removeItem(TOKEN_KEY);
        signinView('The token was refused.');
        return;
      }
      if (r[0].status === 200) { takeChannels(r[0].data); }
      if (r[1].status === 200) { takeStatus(r[1].data); }
      if (r[2].status === 200) { state.summary = r[2].data; }
      if (r[3].status === 200) { state.daily = r[3].data; }
      takeHealth(r[5]);
      if (r[6]) {
        if (r[6].status === 200 && typeof r[6].data === 'string') {
          state.latency = parseLatency(r[6].data);
        } else {
          state.metrics = false;
        }
      }
      notice(r[0].status === 200 ? '' : 'Admin API: ' + errorText(r[0]));
      renderTotals();
      renderChannels();
      renderKeys();
      if (r[4].status === 200) { renderAlerts(r[4].data); }
      took('history', r[7], renderHistory);
      took('requests', r[8], renderRequests);
      took('audit', r[9], renderAudit);
      document.body.setAttribute('data-updated', String(Date.now()));
    }, function () {
      $('health').textContent = 'unreachable';
      $('health').className = 'pill bad';
    }).then(function () {
      state.busy = false;
      if ($('app').hidden) { return; }
      state.timer = setTimeout(refresh, state.again ? 300
                               : state.live ? 60000 : REFRESH_MS);
    });
  }

  /*
   * The request log, the history and the audit trail: a server without
   * them (404) loses the panel, not the page.
   */
  function optional(name, path) {
    return state.optional[name] ? api('GET', path) : Promise.resolve(null);
  }

  function took(name, r, render) {
    if (!r) { return; }
    if (r.status === 404) {
      state.optional[name] = false;
      show($(name + '-section'), false);
      return;
    }
    if (r.status === 200 && r.data) { render(r.data); }
  }

  function takeChannels(data) {
    var i, list = (data && data.data) || [];
    state.channels = {};
    state.order = [];
    for (i = 0; i < list.length; i++) {
      state.channels[list[i].id] = list[i];
      state.order.push(list[i].id);
    }
  }

  function takeStatus(data) {
    var i, list = (data && data.channels) || [];
    state.status = {};
    for (i = 0; i < list.length; i++) { state.status[list[i].id] = list[i]; }
  }

  function takeHealth(r) {
    var h = $('health');
    if (!r || r.status !== 200 || !r.data) {
      h.textContent = r && r.status === 404 ? 'no /health' : 'health?';
      h.className = 'pill muted';
      return;
    }
    h.textContent = r.data.status + ' \u00b7 ' + r.data.models + ' models';
    h.className = 'pill ' + (r.data.status === 'ok' ? 'ok' : 'bad');
    $('version').textContent = 'v' + r.data.version;
  }

  /*
   * The moving averages of /metrics (airouter_model_ttfb_seconds and
   * airouter_model_duration_seconds, per channel and model), averaged over
   * each channel's models.
   */
  function parseLatency(text) {
    var out = {}, lines = text.split('\n'), i, m, c, kind, acc = {};
    var re = /^airouter_model_(ttfb|duration)_seconds\{([^}]*)\} ([0-9.eE+-]+)$/;
    var chre = /(?:^|,)channel="((?:[^"\\]|\\.)*)"/;
    for (i = 0; i < lines.length; i++) {
      m = re.exec(lines[i]);
      if (!m) { continue; }
      c = chre.exec(m[2]);
      if (!c) { continue; }
      kind = m[1];
      c = c[1].replace(/\\(.)/g, '$1');
      acc[c] = acc[c] || { ttfb: [0, 0], duration: [0, 0] };
      acc[c][kind][0] += parseFloat(m[3]);
      acc[c][kind][1] += 1;
    }
    for (c in acc) {
      out[c] = {
        ttfb: acc[c].ttfb[1] ? acc[c].ttfb[0] / acc[c].ttfb[1] : null,
        duration: acc[c].duration[1]
          ? acc[c].duration[0] / acc[c].duration[1] : null
      };
    }
    return out;
  }

  /* --- totals --- */

  function card(label, value, sub, cls) {
    return el('div', { 'class': 'card', 'data-total': label },
              el('span', null, label), el('b', { 'class': cls || null }, value),
              sub ? el('span', null, sub) : null);
  }

  function renderTotals() {
    var t = $('totals'), s = state.summary, today, b, rate = null, now;
    var cls;
    clear(t);
    if (!s) { return; }
    today = s.today;
    now = Date.now();
    if (state.lastCount && now > state.lastCount.at) {
      rate = (today.requests - state.lastCount.requests) * 1000 /
             (now - state.lastCount.at);
      if (rate < 0) { rate = 0; }
    }
    if (!state.lastCount || now - state.lastCount.at >= REFRESH_MS) {
      state.lastCount = { requests: today.requests, at: now };
    }
    t.appendChild(card('requests today', num(today.requests),
                       rate === null ? null : rate.toFixed(2) + ' req/s'));
    t.appendChild(card('errors today', num(today.errors),
                       pct(today.errors, today.requests) + ' error rate',
                       today.errors ? 'bad' : null));
    t.appendChild(card('tokens today', num(today.total_tokens),
                       num(today.prompt_tokens) + ' in \u00b7 ' +
                       num(today.completion_tokens) + ' out'));
    t.appendChild(card('cost today', usd(today.cost),
                       usd(s.month.cost) + ' this month'));
    t.appendChild(card('refused today', num(today.unauthorized + today.throttled),
                       today.unauthorized + ' unauthorized \u00b7 ' +
                       today.throttled + ' throttled'));
    b = s.budget;
    if (b && b.global_daily_budget) {
      cls = b.state === 'exceeded' ? 'bad' : b.state === 'alert' ? 'warn' : 'ok';
      t.appendChild(card('global budget', usd(b.spent_today) + ' / ' +
                         usd(b.global_daily_budget), b.state +
                         (b.enforced ? '' : ' (not enforced)'), cls));
    }
    t.appendChild(card('strategy', s.strategy.current, s.strategy.source));
  }

  /* --- alerts --- */

  function renderAlerts(data) {
    var ul = $('alerts'), list = (data && data.alerts) || [], i, a;
    clear(ul);
    $('alert-count').textContent = list.length ? '(' + list.length + ')' : '';
    if (!list.length) {
      ul.appendChild(el('li', { 'class': 'none' }, 'No alerts.'));
      return;
    }
    for (i = 0; i < list.length; i++) {
      a = list[i];
      ul.appendChild(el('li', { 'class': a.level || null },
                        el('b', null, a.type || 'alert'), ' ',
                        a.message || ''));
    }
  }

  /* --- channels --- */

  /* what a channel's row says about it: [text, class, why] */
  function channelState(ch, st) {
    if (!ch.enabled && ch.disabled_reason) {
      return ['off', 'off', ch.disabled_reason];
    }
    if (st && st.admin_disabled) { return ['disabled', 'off', 'by the admin']; }
    if (!ch.enabled) { return ['off', 'off', null]; }
    if (st && st.blacklisted) {
      return ['blacklisted', 'bad', (st.fault || 'blocked') +
              (st.blacklisted_for ? ', ' + Math.ceil(st.blacklisted_for) +
               ' s left' : '')];
    }
    if (st && st.daily_limit_reached) {
      return ['quota used', 'warn', 'daily limit reached'];
    }
    if (ch.reachable === false) { return ['unresolved', 'bad', 'no address'];
    }
    if (st && st.errors_5m && st.errors_5m >= st.ok_5m) {
      return ['failing', 'bad', st.errors_5m + ' errors in 5 min'];
    }
    if (st && st.errors_5m) {
      return ['cooling down', 'warn', st.errors_5m + ' errors in 5 min'];
    }
    return ['ok', 'ok', null];
  }

  /* a channel's `balance:` check, where it has one: [text, class] */
  function balanceText(b) {
    var t;
    if (!b) { return ['\u2013', null]; }
    if (b.amount === null || b.amount === undefined) {
      return [b.error ? 'check failed' : 'not checked yet', 'muted'];
    }
    t = (+b.amount).toFixed(2) + (b.currency ? ' ' + b.currency : '');
    if (b.held) { return [t + ' (paid models held)', 'bad']; }
    return [t + (b.low ? ' (low)' : ''), b.low ? 'warn' : null];
  }

  function actionButton(id, action, label) {
    var b = el('button', { type: 'button', 'data-action': action,
                           'data-channel': id }, label);
    b.addEventListener('click', function () { channelAction(id, action, b); });
    return b;
  }

  function renderChannels() {
    var tb = $('channels').tBodies[0], ids = state.order || [], i, id, ch, st;
    var by = (state.daily && state.daily.by_channel) || {}, d, s, disc, lat;
    var acts, models, bal;
    clear(tb);
    for (i = 0; i < ids.length; i++) {
      id = ids[i];
      ch = state.channels[id];
      st = state.status[id];
      d = by[id] || {};
      s = channelState(ch, st);
      disc = ch.discovery;
      lat = state.latency[id] || {};
      bal = balanceText(ch.balance);
      models = disc && disc.models ? disc.models : ch.configured_models;

      acts = el('td');
      if (ch.enabled || (st && st.admin_disabled)) {
        if (st && st.admin_disabled) {
          acts.appendChild(actionButton(id, 'enable', 'Enable'));
        } else {
          acts.appendChild(actionButton(id, 'disable', 'Disable'));
        }
        acts.appendChild(actionButton(id, 'reset', 'Reset'));
      }

      tb.appendChild(el('tr', { 'data-channel': id, 'data-state': s[0] },
        el('td', null, el('b', null, id),
           el('small', null, (ch.name && ch.name !== id ? ch.name + ' \u00b7 ' : '') +
              ch.provider)),
        el('td', null, el('span', { 'class': 'pill ' + s[1] }, s[0]),
           s[2] ? el('small', null, s[2]) : null),
        el('td', null, disc ? disc.state : '\u2013',
           disc && disc.last_error ? el('small', null, disc.last_error) : null),
        el('td', { 'class': 'num' }, models === undefined ? '\u2013' : String(models)),
        el('td', { 'class': 'num', 'data-col': 'requests' },
           num(d.requests || (st ? st.requests_today : 0) || 0)),
        el('td', { 'class': 'num' + (d.errors ? ' bad' : '') },
           num(d.errors || 0)),
        el('td', { 'class': 'num' }, usd(d.cost || 0)),
        el('td', { 'class': 'num' }, st ? st.ok_5m + ' / ' + st.errors_5m : '\u2013'),
        el('td', { 'class': 'num' }, st ? String(st.inflight) : '\u2013'),
        el('td', { 'class': 'num' }, ms(lat.ttfb)),
        el('td', { 'class': 'num' }, ms(lat.duration)),
        el('td', { 'class': bal[1] }, bal[0]),
        acts));
    }
  }

  function channelAction(id, action, button) {
    button.disabled = true;
    api('POST', '/v1/admin/channels/' + encodeURIComponent(id) + '/' + action)
      .then(function (r) {
        notice(r.status === 200 ? '' : action + ' ' + id + ': ' + errorText(r));
        refresh();
      }, function () { button.disabled = false; });
  }

  /* --- the last hour, from the zone's per-minute ring --- */

  var SVGNS = 'http://www.w3.org/2000/svg';

  function svg(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag), k;
    for (k in attrs) { e.setAttribute(k, attrs[k]); }
    return e;
  }

  /*
   * One chart: bars or lines over the minutes, oldest left; null values
   * (no request in that minute) break a line.
   */
  function chart(name, title, summary, n, series, fmt) {
    var W = 300, H = 96, B = 14, max = 0, i, j, s, v, x, y, d, bw, g, box;
    for (j = 0; j < series.length; j++) {
      for (i = 0; i < n; i++) {
        v = series[j].values[i];
        if (v !== null && v > max) { max = v; }
      }
    }
    if (max <= 0) { max = 1; }
    bw = W / n;
    g = svg('svg', { viewBox: '0 0 ' + W + ' ' + (H + B), role: 'img',
                     'aria-label': title, 'data-chart': name,
                     'data-points': String(n) });
    g.appendChild(svg('line', { 'class': 'grid', x1: 0, y1: H, x2: W, y2: H }));
    g.appendChild(svg('line', { 'class': 'grid', x1: 0, y1: 0.5, x2: W, y2: 0.5 }));
    for (j = 0; j < series.length; j++) {
      s = series[j];
      d = '';
      for (i = 0; i < n; i++) {
        v = s.values[i];
        if (v === null || v === undefined) { d += ' '; continue; }
        x = i * bw;
        y = H - (v / max) * (H - 4);
        if (s.kind === 'bar') {
          if (v > 0) {
            g.appendChild(svg('rect', { 'class': 'bar ' + (s.cls || ''),
              x: (x + 0.5).toFixed(1), y: y.toFixed(1),
              width: Math.max(1, bw - 1).toFixed(1),
              height: (H - y).toFixed(1) }));
          }
        } else {
          d += (d === '' || d.charAt(d.length - 1) === ' ' ? 'M' : 'L') +
               (x + bw / 2).toFixed(1) + ',' + y.toFixed(1);
        }
      }
      if (s.kind !== 'bar' && d.trim()) {
        g.appendChild(svg('path', { 'class': 'line ' + (s.cls || ''),
                                    d: d.replace(/ +/g, '') }));
        /* a minute alone between empty ones is a dot, not a line */
        d.replace(/(^| )M([0-9.]+),([0-9.]+)(?= |$)/g, function (all, b, cx, cy) {
          g.appendChild(svg('circle', { 'class': 'dot ' + (s.cls || ''),
                                        cx: cx, cy: cy, r: 2 }));
          return all;
        });
      }
    }
    box = svg('text', { x: 2, y: H + B - 2 });
    box.textContent = '\u2212' + n + ' min';
    g.appendChild(box);
    box = svg('text', { x: W - 2, y: H + B - 2, 'text-anchor': 'end' });
    box.textContent = 'now';
    g.appendChild(box);
    box = svg('text', { x: 2, y: 10 });
    box.textContent = 'max ' + fmt(max);
    g.appendChild(box);
    return el('div', { 'class': 'card chart' },
              el('h3', null, title, el('span', null, summary)), g);
  }

  function sum(list, f) {
    var t = 0, i;
    for (i = 0; i < list.length; i++) { t += f(list[i]) || 0; }
    return t;
  }

  function renderHistory(data) {
    var box = $('charts'), m = data.minutes || [], n = m.length, i, last95 = null;
    clear(box);
    if (!n) { return; }
    for (i = n - 1; i >= 0 && last95 === null; i--) { last95 = m[i].p95_ms; }
    function col(f) { return m.map(f); }
    box.appendChild(chart('requests', 'Requests and errors',
      sum(m, function (x) { return x.requests; }) + ' req \u00b7 ' +
      sum(m, function (x) { return x.errors; }) + ' err', n,
      [{ kind: 'bar', values: col(function (x) { return x.requests; }) },
       { kind: 'bar', cls: 'err', values: col(function (x) { return x.errors; }) }],
      function (v) { return v + '/min'; }));
    box.appendChild(chart('latency', 'Latency p50 / p95',
      last95 === null ? 'no requests' : 'p95 ' + last95 + ' ms', n,
      [{ kind: 'line', values: col(function (x) { return x.p50_ms; }) },
       { kind: 'line', cls: 'p95', values: col(function (x) { return x.p95_ms; }) }],
      function (v) { return v + ' ms'; }));
    box.appendChild(chart('cost', 'Cost',
      usd(sum(m, function (x) { return x.cost; })) + ' this hour', n,
      [{ kind: 'bar', values: col(function (x) { return x.cost; }) }], usd));
    box.appendChild(chart('tokens', 'Tokens',
      num(sum(m, function (x) { return x.prompt_tokens + x.completion_tokens; })) +
      ' this hour', n,
      [{ kind: 'bar', values: col(function (x) {
        return x.prompt_tokens + x.completion_tokens; }) }], num));
  }

  /* --- the last requests --- */

  function requestQuery() {
    var q = ['limit=25'], f = { key: 'f-key', channel: 'f-channel',
                                model: 'f-model', status: 'f-status' }, k, v;
    for (k in f) {
      v = $(f[k]).value.trim();
      if (v) { q.push(k + '=' + encodeURIComponent(v)); }
    }
    return q.join('&');
  }

  function clock(msec) {
    var d = new Date(msec);
    function two(n) { return (n < 10 ? '0' : '') + n; }
    return two(d.getHours()) + ':' + two(d.getMinutes()) + ':' +
           two(d.getSeconds());
  }

  function renderRequests(data) {
    var tb = $('requests').tBodies[0], list = data.requests || [], i, q, tried;
    var seen = state.lastRequest, tokens, cls;
    clear(tb);
    if (!list.length) {
      tb.appendChild(el('tr', null, el('td', { colspan: '12', 'class': 'muted' },
                                       'No request yet.')));
    }
    for (i = 0; i < list.length; i++) {
      q = list[i];
      tried = (q.tried || []).map(function (t) {
        return t.channel + ' ' + t.outcome + (t.status ? ' ' + t.status : '');
      }).join(' \u2192 ');
      tokens = q.prompt_tokens === null && q.completion_tokens === null ? null
        : (q.prompt_tokens || 0) + (q.completion_tokens || 0);
      cls = q.status >= 400 || q.status < 200 ? 'bad' : 'ok';
      tb.appendChild(el('tr', { 'data-request': String(q.id),
                                'data-channel': q.channel || '',
                                'class': seen && q.id > seen ? 'fresh' : null },
        el('td', { title: q.time }, clock(q.time_ms)),
        el('td', null, q.key || '\u2013'),
        el('td', null, q.model_requested || '\u2013'),
        el('td', null, q.channel || '\u2013'),
        el('td', null, q.model || '\u2013'),
        el('td', null, q.dialect + (q.stream ? ' \u00b7 stream' : '')),
        el('td', { 'class': 'num ' + cls, title: q.outcome }, String(q.status)),
        el('td', null, tried || q.outcome),
        el('td', { 'class': 'num' }, q.ttfb_ms === null ? '\u2013' : q.ttfb_ms + ' ms'),
        el('td', { 'class': 'num' }, q.duration_ms + ' ms'),
        el('td', { 'class': 'num' }, num(tokens)),
        el('td', { 'class': 'num' }, q.cost === null ? '\u2013' : usd(q.cost))));
    }
    if (data.last > state.lastRequest) { state.lastRequest = data.last; }
  }

  $('request-filter').addEventListener('submit', function (ev) {
    ev.preventDefault();
    state.lastRequest = 0;
    refresh();
  });

  /* --- the audit trail --- */

  function renderAudit(data) {
    var tb = $('audit').tBodies[0], list = data.audit || [], i, a;
    clear(tb);
    if (!list.length) {
      tb.appendChild(el('tr', null, el('td', { colspan: '7', 'class': 'muted' },
                                       'No admin action yet.')));
    }
    for (i = 0; i < list.length; i++) {
      a = list[i];
      tb.appendChild(el('tr', { 'data-audit': String(a.id),
                                'data-action': a.action },
        el('td', { title: a.time }, clock(a.time_ms)), el('td', null, a.who),
        el('td', null, a.client || '\u2013'), el('td', null, a.action),
        el('td', null, a.target), el('td', null, a.before),
        el('td', null, a.after)));
    }
  }

  /* --- keys --- */

  function meter(spent, budget) {
    var f, m;
    if (!budget) { return el('span', { 'class': 'muted' }, 'none'); }
    f = Math.min(1, spent / budget);
    m = el('span', { 'class': 'meter' + (f >= 1 ? ' bad' : f >= 0.8 ? ' warn' : '') },
           el('i'));
    m.firstChild.style.width = (f * 100).toFixed(1) + '%';
    return el('span', null, m, usd(budget) + ' (' + (f * 100).toFixed(0) + '%)');
  }

  function renderKeys() {
    var tb = $('keys').tBodies[0], keys, by, i, k, d;
    clear(tb);
    keys = (state.summary && state.summary.keys) || [];
    by = (state.daily && state.daily.by_key) || {};
    if (!keys.length) {
      tb.appendChild(el('tr', null, el('td', { colspan: '6', 'class': 'muted' },
                                       'No API keys with names (auth off).')));
      return;
    }
    for (i = 0; i < keys.length; i++) {
      k = keys[i];
      d = by[k.name] || {};
      tb.appendChild(el('tr', { 'data-key': k.name },
        el('td', null, k.name),
        el('td', { 'class': 'num' }, num(d.requests || 0)),
        el('td', { 'class': 'num' }, usd(k.spent_today)),
        el('td', null, meter(k.spent_today, k.daily_budget)),
        el('td', { 'class': 'num' }, usd(k.spent_month)),
        el('td', null, meter(k.spent_month, k.monthly_budget))));
    }
  }

  /* --- strategy and discovery --- */

  function loadStrategy() {
    api('GET', '/v1/admin/routing/strategy').then(function (r) {
      var sel = $('strategy'), i, list;
      if (r.status !== 200) { return; }
      clear(sel);
      list = r.data.available || [];
      for (i = 0; i < list.length; i++) {
        sel.appendChild(el('option', { value: list[i] }, list[i]));
      }
      sel.value = r.data.strategy;
    });
  }

  $('strategy').addEventListener('change', function () {
    var sel = this;
    sel.disabled = true;
    api('POST', '/v1/admin/routing/strategy', { strategy: sel.value })
      .then(function (r) {
        sel.disabled = false;
        notice(r.status === 200 ? '' : 'strategy: ' + errorText(r));
        loadStrategy();
        refresh();
      });
  });

  $('discover').addEventListener('click', function () {
    var b = this;
    b.disabled = true;
    b.textContent = 'Discovering\u2026';
    api('POST', '/v1/admin/discovery').then(function (r) {
      b.disabled = false;
      b.textContent = 'Run discovery';
      notice(r.status === 200
        ? 'Discovery done: ' + r.data.models + ' models in ' +
          r.data.duration_ms + ' ms.'
        : 'discovery: ' + errorText(r));
      loadTags();
      refresh();
    });
  });

  /* --- explain and tags --- */

  /*
   * The endpoint chosen beside the query, else none: the server explains
   * the name as the kind of its models (dall-e-3 as images) and says
   * which endpoint it explained.
   */
  function explain(query) {
    var out = $('explain'), ep = $('endpoint').value;
    $('query').value = query;
    api('GET', '/v1/admin/route?model=' + encodeURIComponent(query) +
               (ep ? '&endpoint=' + encodeURIComponent(ep) : ''))
      .then(function (r) {
        var d = r.data, tb, i, c, reasons = [], k;
        clear(out);
        out.removeAttribute('data-endpoint');
        if (r.status !== 200 || !d) {
          out.appendChild(el('p', { 'class': 'bad' }, errorText(r)));
          return;
        }
        out.setAttribute('data-endpoint', String(d.endpoint));
        out.appendChild(el('p', { id: 'explain-summary' },
          el('b', null, d.status), ' \u00b7 endpoint ', String(d.endpoint),
          ' \u00b7 stage ',
          String(d.stage), ' \u00b7 strategy ', String(d.strategy), ' \u00b7 ',
          String(d.matched), ' matched, ', String(d.available), ' available'));
        if (d.filtered) {
          for (k in d.filtered) { reasons.push(k + ': ' + d.filtered[k]); }
          if (reasons.length) {
            out.appendChild(el('p', { 'class': 'muted' },
                               'filtered out \u2013 ' + reasons.join(', ')));
          }
        }
        if (d.error && d.error.message) {
          out.appendChild(el('p', { 'class': 'bad' }, d.error.message));
        }
        if (!d.candidates || !d.candidates.length) { return; }
        tb = el('tbody');
        for (i = 0; i < d.candidates.length; i++) {
          c = d.candidates[i];
          tb.appendChild(el('tr', null,
            el('td', { 'class': 'num' }, String(c.rank)),
            el('td', null, c.channel), el('td', null, c.model),
            el('td', { 'class': 'num' }, c.score.toFixed(3)),
            el('td', null, c.entry && c.entry.airouter && c.entry.airouter.free
                             ? 'free' : pricing(c.entry))));
        }
        out.appendChild(el('table', { id: 'explain-table' },
          el('thead', null, el('tr', null, el('th', { 'class': 'num' }, 'rank'),
             el('th', null, 'channel'), el('th', null, 'model'),
             el('th', { 'class': 'num' }, 'score'), el('th', null, 'price'))),
          tb));
      });
  }

  /* token prices per million, then each unit price the entry has */
  var UNITS = [['per_image', 'image'], ['per_second', 'second'],
               ['per_character', 'character'], ['per_request', 'request']];

  function pricing(entry) {
    var p = entry && entry.airouter && entry.airouter.pricing, parts = [],
        cur, i;
    if (!p) { return '\u2013'; }
    cur = !p.currency || p.currency === 'USD' ? '$' : p.currency + ' ';
    if (typeof p.prompt === 'number' && typeof p.completion === 'number') {
      parts.push(cur + (p.prompt * 1e6).toPrecision(3) + ' / ' + cur +
                 (p.completion * 1e6).toPrecision(3) + ' per M');
    }
    for (i = 0; i < UNITS.length; i++) {
      if (typeof p[UNITS[i][0]] === 'number') {
        parts.push(cur + Number(p[UNITS[i][0]].toPrecision(3)) + ' per ' +
                   UNITS[i][1]);
      }
    }
    return parts.length ? parts.join(' + ') : '\u2013';
  }

  $('explain-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    if ($('query').value.trim()) { explain($('query').value.trim()); }
  });

  function loadTags() {
    api('GET', '/v1/admin/tags').then(function (r) {
      var box = $('tags'), list, max = 1, i, t, size;
      clear(box);
      if (r.status !== 200 || !r.data) {
        box.appendChild(el('span', { 'class': 'muted' }, errorText(r)));
        return;
      }
      list = r.data.data || [];
      for (i = 0; i < list.length; i++) { max = Math.max(max, list[i].models); }
      for (i = 0; i < list.length; i++) {
        t = list[i];
        size = 1 + Math.round(3 * Math.log(t.models) / Math.log(max + 1));
        box.appendChild(tagButton(t.tag, t.models, size));
        box.appendChild(document.createTextNode(' '));
      }
    });
  }

  function tagButton(tag, n, size) {
    var b = el('button', { type: 'button', 'class': 't' + size,
                           title: n + (n === 1 ? ' model' : ' models') }, tag);
    b.addEventListener('click', function () { explain('tag:' + tag); });
    return b;
  }

  document.addEventListener('visibilitychange', function () {
    if (!document.hidden && !$('app').hidden) { refresh(); }
  });

  boot();
}());
