// The dashboard in a real browser: Debian's chromium, headless, driven by
// puppeteer-core.  Run by t/806-dashboard-browser.t against an nginx with
// airouter, the dashboard at /dashboard and mock channels; prints one
// "ok - ..." or "not ok - ..." line per check (TAP-like, read by the .t).
//
//   node dashboard.mjs <base URL> <admin token> <API token> <model> <channel,...>
//                      <image model>
//
// The channels serve <model> (chat) and <image model>, priced per image.
//
// CHROMIUM names the browser (default /usr/bin/chromium).
import puppeteer from 'puppeteer-core';

const [base, adminToken, apiToken, model, channelList, imageModel] =
  process.argv.slice(2);
const channels = channelList.split(',');
const WAIT = 30000;

let failed = 0;
function ok(cond, name) {
  console.log((cond ? 'ok - ' : 'not ok - ') + name);
  if (!cond) { failed++; }
  return cond;
}

// every console error, page error, failed request and 4xx/5xx answer,
// with the phase of the test it happened in
let phase = 'load';
const problems = [];

async function chat() {
  const res = await fetch(base + '/v1/chat/completions', {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + apiToken,
               'Content-Type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] })
  });
  await res.text();
  return { status: res.status, channel: res.headers.get('x-router-channel') };
}

// true once fn(...args) is true in the page, false after WAIT
async function waitFor(page, fn, ...args) {
  try {
    await page.waitForFunction(fn, { timeout: WAIT }, ...args);
    return true;
  } catch (e) {
    return false;
  }
}

// the text of a channel's requests cell, as the page shows it
function requestsOf(page, id) {
  return page.$eval(`#channels tr[data-channel="${id}"] td[data-col="requests"]`,
                    td => td.textContent);
}

async function waitRequests(page, id, n) {
  try {
    await page.waitForFunction((id, n) => {
      const td = document.querySelector(
        `#channels tr[data-channel="${id}"] td[data-col="requests"]`);
      return td && td.textContent === String(n);
    }, { timeout: WAIT }, id, n);
    return true;
  } catch (e) {
    return false;
  }
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  timeout: 120000,
  protocolTimeout: 120000,
  // root in the test machines: chromium's sandbox needs a user namespace
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
         '--no-first-run', '--no-default-browser-check']
});

try {
  const page = await browser.newPage();
  page.setDefaultTimeout(WAIT);
  page.on('console', m => {
    if (m.type() === 'error') { problems.push([phase, 'console: ' + m.text()]); }
  });
  page.on('pageerror', e => problems.push([phase, 'page error: ' + e.message]));
  // the event stream is cut on purpose when the page signs out
  page.on('requestfailed', r => {
    if (phase === 'sign out' && r.url().endsWith('/v1/admin/events')) { return; }
    problems.push([phase, 'failed: ' + r.url() + ' ' + (r.failure() || {}).errorText]);
  });
  const requested = [];
  page.on('request', r => requested.push(r.url()));
  page.on('response', r => {
    if (r.status() >= 400) { problems.push([phase, r.status() + ' ' + r.url()]); }
  });
  await page.setViewport({ width: 1400, height: 1000 });

  const answer = await page.goto(base + '/dashboard', { waitUntil: 'load' });
  ok(answer.status() === 200, 'the page loads');
  await page.waitForSelector('#signin-form', { visible: true });
  ok(await page.$eval('#app', e => e.hidden), 'with auth on it asks for the admin token first');

  // a wrong token: refused, and nothing is kept
  phase = 'wrong token';
  await page.type('#token', 'not-the-token');
  await page.click('#signin-form button[type="submit"]');
  await page.waitForFunction(() =>
    document.getElementById('signin-error').textContent.includes('refused'));
  ok(await page.evaluate(() => sessionStorage.length === 0 &&
                         document.getElementById('app').hidden),
     'a wrong token is refused and not kept');

  // the right one
  phase = 'sign in';
  await page.$eval('#token', e => { e.value = ''; });
  await page.type('#token', adminToken);
  await page.click('#signin-form button[type="submit"]');
  await page.waitForSelector('#channels tbody tr[data-channel]', { visible: true });
  ok(true, 'signs in with the admin token');
  const stored = await page.evaluate(() => ({
    session: sessionStorage.getItem('airouter.admin_token'),
    local: localStorage.length,
    cookie: document.cookie
  }));
  ok(stored.session === adminToken && stored.local === 0 && stored.cookie === '',
     'the token is in sessionStorage only (no localStorage, no cookie)');
  ok(await page.$eval('#token', e => e.value === ''), 'the token field is cleared');

  const shown = await page.$$eval('#channels tbody tr[data-channel]',
                                  rows => rows.map(r => r.getAttribute('data-channel')));
  ok(JSON.stringify(shown.slice().sort()) === JSON.stringify(channels.slice().sort()),
     'every configured channel is listed: ' + shown.join(','));

  // live: one event stream, and no polling while nothing happens
  phase = 'idle';
  await new Promise(r => setTimeout(r, 1500));
  const before = requested.length;
  await new Promise(r => setTimeout(r, 7000));
  ok(requested.filter(u => u.endsWith('/v1/admin/events')).length === 1,
     'the page holds one event stream (GET /v1/admin/events)');
  ok(requested.length === before,
     'and asks nothing else in 7 idle seconds (' + (requested.length - before) + ' requests)');

  // a chat request shows on the page
  phase = 'first request';
  const first = await chat();
  ok(first.status === 200 && channels.includes(first.channel),
     'a chat request is answered by ' + first.channel);
  const other = channels.find(c => c !== first.channel);
  ok(await waitRequests(page, first.channel, 1),
     'the page shows the request on ' + first.channel);
  ok(await waitFor(page, ch => {
    const rows = document.querySelectorAll('#requests tbody tr[data-request]');
    return rows.length === 1 && rows[0].getAttribute('data-channel') === ch &&
           rows[0].children[6].textContent === '200';
  }, first.channel), 'the request appears in the last requests, on ' + first.channel);
  ok(await waitFor(page, () => {
    const svg = document.querySelector('#charts svg[data-chart="requests"]');
    return svg && svg.getAttribute('data-points') === '60' &&
           svg.querySelectorAll('rect.bar').length >= 1;
  }), 'the last hour\'s request chart has 60 minutes and a bar for it');

  // disable the channel that answered: the next request avoids it
  phase = 'disable';
  await page.click(`#channels button[data-action="disable"][data-channel="${first.channel}"]`);
  await page.waitForSelector(`#channels tr[data-channel="${first.channel}"][data-state="disabled"]`);
  ok(true, first.channel + ' shows as disabled after its Disable button');
  const second = await chat();
  ok(second.status === 200 && second.channel === other,
     'the next request avoids it: answered by ' + second.channel);
  ok(await waitRequests(page, other, 1), 'the page shows that request on ' + other);
  ok(await requestsOf(page, first.channel) === '1',
     first.channel + ' still shows its one request');
  ok(await waitFor(page, (a, b) => {
    const rows = [...document.querySelectorAll('#requests tbody tr[data-request]')];
    return rows.length === 2 && rows[0].getAttribute('data-channel') === b &&
           rows[1].getAttribute('data-channel') === a;
  }, first.channel, other), 'the last requests show it, newest first, on ' + other);
  ok(await waitFor(page, ch => {
    const row = document.querySelector('#audit tbody tr[data-action="channel.disable"]');
    return row && row.children[4].textContent === ch &&
           row.children[5].textContent === 'enabled' &&
           row.children[6].textContent === 'disabled';
  }, first.channel), 'the audit shows the disable: enabled -> disabled');

  // the filter: only the other channel's request
  phase = 'filter';
  await page.type('#f-channel', other);
  await page.click('#request-filter button[type="submit"]');
  ok(await waitFor(page, b => {
    const rows = [...document.querySelectorAll('#requests tbody tr[data-request]')];
    return rows.length === 1 && rows[0].getAttribute('data-channel') === b;
  }, other), 'filtering the last requests by channel ' + other + ' leaves its one');
  await page.$eval('#f-channel', e => { e.value = ''; });

  // the explanation agrees: only the other channel is a candidate
  phase = 'explain';
  await page.type('#query', model);
  await page.click('#explain-form button[type="submit"]');
  await page.waitForSelector('#explain-table tbody tr');
  const cands = await page.$$eval('#explain-table tbody tr',
                                  rows => rows.map(r => r.children[1].textContent));
  ok(cands.length > 0 && cands.every(c => c === other),
     'explaining ' + model + ' lists only ' + other + ': ' + cands.join(','));
  const chatPrices = await page.$$eval('#explain-table tbody tr',
                                       rows => rows.map(r => r.children[4].textContent));
  ok(await page.$eval('#explain', e => e.getAttribute('data-endpoint')) === 'chat' &&
     chatPrices.every(p => !/image/.test(p)),
     model + ' is explained as chat, without the channel\'s price per image: ' +
     chatPrices.join(','));

  // an image model typed in is explained as an image request, priced so
  phase = 'explain image';
  await page.$eval('#query', e => { e.value = ''; });
  await page.type('#query', imageModel);
  await page.click('#explain-form button[type="submit"]');
  ok(await waitFor(page, () =>
       document.getElementById('explain').getAttribute('data-endpoint') === 'images' &&
       document.querySelectorAll('#explain-table tbody tr').length > 0),
     'explaining ' + imageModel + ' explains the images endpoint');
  const imageRows = await page.$$eval('#explain-table tbody tr',
    rows => rows.map(r => [r.children[1].textContent, r.children[2].textContent,
                           r.children[4].textContent]));
  ok(imageRows.length > 0 &&
     imageRows.every(r => r[0] === other && r[2] === '$0.04 per image'),
     imageModel + ' on ' + other + ' at $0.04 per image: ' + JSON.stringify(imageRows));

  // the endpoint chosen beside the query wins: as chat, it is the wrong kind
  await page.select('#endpoint', 'chat');
  await page.click('#explain-form button[type="submit"]');
  ok(await waitFor(page, () => {
    const e = document.getElementById('explain');
    return e.getAttribute('data-endpoint') === 'chat' &&
           /all_filtered/.test(e.textContent) && /wrong_kind/.test(e.textContent) &&
           !document.getElementById('explain-table');
  }), 'with the endpoint chat chosen, ' + imageModel + ' is all_filtered: wrong_kind');
  await page.select('#endpoint', '');

  // enable it again
  phase = 'enable';
  await page.click(`#channels button[data-action="enable"][data-channel="${first.channel}"]`);
  await page.waitForSelector(`#channels tr[data-channel="${first.channel}"][data-state="ok"]`);
  ok(true, first.channel + ' is back after Enable');

  // nothing went wrong in the page, but the wrong token's 401
  phase = 'sign out';
  await page.click('#signout');
  await page.waitForSelector('#signin-form', { visible: true });
  ok(await page.evaluate(() => sessionStorage.length === 0), 'signing out forgets the token');

  const wrong = problems.filter(p => p[0] === 'wrong token');
  const others = problems.filter(p => p[0] !== 'wrong token');
  ok(wrong.length > 0 && wrong.every(p => /401|the server responded with a status of 401/.test(p[1])),
     'the wrong token costs only its 401');
  ok(others.length === 0, 'no console error, page error or failed request');
  for (const p of problems) { console.log('# ' + p[0] + ': ' + p[1]); }
} catch (e) {
  ok(false, 'the browser run: ' + (e && e.stack || e));
} finally {
  await browser.close();
}

process.exit(failed ? 1 : 0);
