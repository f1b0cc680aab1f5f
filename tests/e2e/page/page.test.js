'use strict';
/*
 * The customer page in headless Chromium, against a running stack with the demo
 * data (smart-meter-0..4, a week of 15-minute readings) and the default plans.
 * Every expected number is fetched from the API for the same period and
 * compared with the text the page shows.
 *
 * Environment: JOI_TEST_URL, JOI_REDIS (unix:/path; the last check stops Redis),
 * JOI_CHROMIUM, JOI_PROFILE (an empty folder for Chromium's profile),
 * JOI_ARTEFACTS (screenshots), JOI_ONE_READING_METER (a meter with one reading),
 * JOI_SPARSE_METER (no account, two readings 10 days apart), JOI_KEYED_METER and
 * JOI_READ_KEY (a meter with a read key, and the key).
 * Prints "N passed, M failed" last; exits 1 on any failure.
 */
const path = require('path');
const { execFileSync } = require('child_process');
const { chromium } = require('playwright-core');

const BASE = process.env.JOI_TEST_URL;
const ARTEFACTS = process.env.JOI_ARTEFACTS;
const ONE_READING_METER = process.env.JOI_ONE_READING_METER || 'page-one-reading';
const SPARSE_METER = process.env.JOI_SPARSE_METER || 'page-sparse';
const KEYED_METER = process.env.JOI_KEYED_METER || '';
const READ_KEY = process.env.JOI_READ_KEY || '';
const STEP_TIMEOUT_MS = 30000;
const WAIT_MS = 10000;
const started = Date.now();

let passed = 0;
let failed = 0;

function check(name, ok, detail) {
  if (ok) {
    passed++;
    console.log('ok   ' + name);
  } else {
    failed++;
    console.log('FAIL ' + name + (detail ? ': ' + detail : ''));
  }
  return ok;
}

function eq(name, actual, expected) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  return check(name, a === e, 'got ' + a + ', want ' + e);
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(what + ' did not finish within ' + ms + ' ms')), ms);
    })
  ]).finally(() => clearTimeout(timer));
}

// A group of checks; an exception (a wait that timed out, say) fails the group.
async function step(name, fn) {
  try {
    await withTimeout(fn(), STEP_TIMEOUT_MS, name);
  } catch (e) {
    check(name, false, String(e && e.message ? e.message : e).split('\n')[0]);
  }
}

let apiKey = null; // the read key api() sends, for a meter that has one

async function api(p) {
  const headers = apiKey ? { Authorization: 'Bearer ' + apiKey } : {};
  const res = await fetch(BASE + p, { headers, signal: AbortSignal.timeout(WAIT_MS) });
  if (!res.ok) throw new Error('GET ' + p + ': ' + res.status);
  return res.json();
}

/* What the page should show, computed from the API. */

let supplierOf = null;

async function expectedView(meter, range) {
  if (!supplierOf) {
    supplierOf = {};
    for (const p of await api('/price-plans')) supplierOf[p.id] = p.supplier;
  }
  const latest = (await api('/readings/read/' + meter + '?limit=1'))[0].time;
  const span = { day: 86400, week: 7 * 86400, all: null }[range];
  const q = span === null ? 'to=' + latest : 'from=' + (latest - span) + '&to=' + latest;
  const readings = await api('/readings/read/' + meter + '?' + q);
  const compare = await api('/price-plans/compare-all/' + meter + '?' + q);
  const plans = compare.pricePlanComparisons.map((o) => {
    const id = Object.keys(o)[0];
    return { id, cost: o[id] };
  });
  const days = (compare.usage.to - compare.usage.from) / 86400;
  const over = 'over ' + (days === 1 ? 'this 1 day' : 'these ' + days + ' days');
  const name = (id) => id + ' (' + supplierOf[id] + ')';
  const cheapest = plans[0];
  const mine = plans.find((p) => p.id === compare.pricePlanId);
  let sentence;
  if (!mine) {
    sentence = 'This meter has no price plan on record. The cheapest plan ' + over + ' would have been ' +
      name(cheapest.id) + ', at ' + cheapest.cost.toFixed(2) + '.';
  } else if (mine.id === cheapest.id) {
    sentence = 'You are already on the cheapest plan ' + over + ': ' + name(mine.id) + '.';
  } else {
    sentence = 'Switching to ' + name(cheapest.id) + ' would have saved ' + (mine.cost - cheapest.cost).toFixed(2) +
      ' ' + over + '.';
  }
  return {
    readings: readings.length,
    days,
    kwh: compare.usage.kWh.toFixed(2) + ' kWh',
    current: compare.pricePlanId,
    ids: plans.map((p) => p.id),
    costs: plans.map((p) => p.cost.toFixed(2)),
    sentence
  };
}

/* What the page shows. */

async function waitIdle(page) {
  await page.waitForFunction(() => {
    const r = document.getElementById('results');
    return r && !r.hasAttribute('aria-busy');
  }, null, { timeout: WAIT_MS });
}

async function shown(page) {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    const rows = Array.from(document.querySelectorAll('#plans-svg [data-plan]'));
    const line = q('#power-svg path.power-line');
    const d = line ? line.getAttribute('d') : '';
    const fills = rows.map((r) => getComputedStyle(r.querySelector('rect')).fill);
    const hidden = q('#plans-table').parentElement.getBoundingClientRect();
    return {
      status: q('#status').textContent.trim(),
      statusIsError: q('#status').classList.contains('error'),
      resultsHidden: q('#results').hidden,
      kwh: q('#usage-summary strong') ? q('#usage-summary strong').textContent : null,
      points: (d.match(/[ML]/g) || []).length,
      powerRole: q('#power-svg') && q('#power-svg').getAttribute('role'),
      powerLabel: (q('#power-svg') && q('#power-svg').getAttribute('aria-label')) || '',
      powerReadings: q('#power-svg') && Number(q('#power-svg').getAttribute('data-readings')),
      powerText: q('#power-text').textContent,
      ids: rows.map((r) => r.getAttribute('data-plan')),
      costs: rows.map((r) => r.querySelector('text.value').textContent),
      currentRows: rows.filter((r) => r.classList.contains('current')).map((r) => r.getAttribute('data-plan')),
      currentTag: rows.filter((r) => r.classList.contains('current')).map((r) => (r.querySelector('.tag.current') || {}).textContent),
      fills,
      plansRole: q('#plans-svg') && q('#plans-svg').getAttribute('role'),
      plansLabel: (q('#plans-svg') && q('#plans-svg').getAttribute('aria-label')) || '',
      table: Array.from(document.querySelectorAll('#plans-table tbody tr')).map((tr) =>
        Array.from(tr.cells).map((c) => c.textContent)),
      tableSize: [hidden.width, hidden.height],
      saving: q('#saving').textContent,
      pressed: Array.from(document.querySelectorAll('#range button')).map((b) =>
        b.getAttribute('data-range') + '=' + b.getAttribute('aria-pressed')),
      url: location.search
    };
  });
}

function checkView(tag, s, want) {
  eq(tag + ': no error shown', s.status, '');
  check(tag + ': power chart has points', s.points > 0 && s.points <= want.readings,
    s.points + ' points for ' + want.readings + ' readings');
  eq(tag + ': the chart drew every reading of the period', s.powerReadings, want.readings);
  eq(tag + ': energy of the period', s.kwh, want.kwh);
  eq(tag + ': plans cheapest first', s.ids, want.ids);
  eq(tag + ': cost of each plan, 2 decimals', s.costs, want.costs);
  eq(tag + ': only the current plan highlighted', s.currentRows, want.current ? [want.current] : []);
  if (want.current) {
    const i = want.ids.indexOf(want.current);
    check(tag + ': the current plan has a bar colour of its own',
      s.fills.filter((f, k) => k !== i).every((f) => f !== s.fills[i]), JSON.stringify(s.fills));
  }
  eq(tag + ': saving sentence', s.saving, want.sentence);
  eq(tag + ': data table, cheapest first', s.table.map((r) => [r[0], r[2], r[3]]),
    want.ids.map((id, k) => [id, want.costs[k], id === want.current ? 'yes' : '']));
}

async function main() {
  const browser = await chromium.launchPersistentContext(process.env.JOI_PROFILE, {
    executablePath: process.env.JOI_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1100, height: 900 },
    locale: 'en-GB',
    timezoneId: 'Europe/London',
    timeout: WAIT_MS * 3
  });
  const requests = [];
  const pageErrors = [];
  browser.on('request', (r) => requests.push(r.url()));
  const page = browser.pages()[0] || await browser.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.setDefaultNavigationTimeout(WAIT_MS * 2);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    // The browser logs every 4xx/5xx answer; the error cases below cause some on purpose.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(m.text());
  });

  const shot = (name) => page.screenshot({ path: path.join(ARTEFACTS, name), fullPage: true, timeout: WAIT_MS });

  await step('the page loads for ?meter=smart-meter-0', async () => {
    const res = await page.goto(BASE + '/?meter=smart-meter-0');
    eq('GET / is the page', [res.status(), /text\/html/.test(res.headers()['content-type'] || '')], [200, true]);
    await waitIdle(page);
    const want = await expectedView('smart-meter-0', 'week');
    eq('demo data: the last week is 7 days', want.days, 7);
    eq('demo data: price-plan-2, -1, -0 cheapest first', want.ids, ['price-plan-2', 'price-plan-1', 'price-plan-0']);
    const s = await shown(page);
    eq('the last week is the default period', s.pressed, ['day=false', 'week=true', 'all=false']);
    checkView('week', s, want);
    await shot('page.png');
  });

  await step('accessibility: labels, roles, text alternatives', async () => {
    const a = await page.evaluate(() => {
      const input = document.getElementById('meter');
      const label = document.querySelector('label[for="meter"]');
      const buttons = Array.from(document.querySelectorAll('#range > *')).filter((e) => e.id !== 'range-label');
      return {
        label: label && label.textContent,
        value: input.value,
        submit: !!input.form.querySelector('button[type="submit"]'),
        rangeButtons: buttons.map((b) => b.tagName + ':' + b.type + ':' + b.hasAttribute('aria-pressed')),
        group: document.getElementById('range').getAttribute('role')
      };
    });
    eq('the input has a label', a.label, 'Meter id');
    eq('the input holds the meter from the URL', a.value, 'smart-meter-0');
    eq('the form has a submit button', a.submit, true);
    eq('the periods are real buttons with aria-pressed', a.rangeButtons,
      ['BUTTON:button:true', 'BUTTON:button:true', 'BUTTON:button:true']);
    eq('the period buttons are a labelled group', a.group, 'group');
    eq('accessible name of the input', await page.getByLabel('Meter id').inputValue(), 'smart-meter-0');
    const s = await shown(page);
    check('power chart: role img with a summary', s.powerRole === 'img' && /\d kW/.test(s.powerLabel), s.powerLabel);
    check('power chart: a text summary for screen readers', s.powerText.length > 40, s.powerText);
    check('plans chart: role img naming every cost', s.plansRole === 'img' &&
      s.costs.every((c) => s.plansLabel.includes(c)), s.plansLabel);
    check('the data table is visually hidden', s.tableSize[0] <= 1 && s.tableSize[1] <= 1, JSON.stringify(s.tableSize));
    eq('the current plan is marked in words', s.currentTag, ['\u25c6 your plan']);
  });

  await step('keyboard: the "Last day" button', async () => {
    await page.focus('#range button[data-range="day"]');
    await page.keyboard.press('Enter');
    await waitIdle(page);
    const want = await expectedView('smart-meter-0', 'day');
    const s = await shown(page);
    eq('day: aria-pressed follows', s.pressed, ['day=true', 'week=false', 'all=false']);
    eq('day: the URL keeps the period', s.url, '?meter=smart-meter-0&range=day');
    checkView('day', s, want);
  });

  await step('mouse: the "All" button', async () => {
    await page.click('#range button[data-range="all"]');
    await waitIdle(page);
    const want = await expectedView('smart-meter-0', 'all');
    const s = await shown(page);
    eq('all: aria-pressed follows', s.pressed, ['day=false', 'week=false', 'all=true']);
    checkView('all', s, want);
  });

  await step('keyboard: type another meter and press Enter', async () => {
    await page.click('#range button[data-range="week"]');
    await waitIdle(page);
    await page.focus('#meter');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('smart-meter-1');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('meter') === 'smart-meter-1',
      null, { timeout: WAIT_MS });
    await waitIdle(page);
    const want = await expectedView('smart-meter-1', 'week');
    eq('smart-meter-1 is on price-plan-1', want.current, 'price-plan-1');
    checkView('smart-meter-1', await shown(page), want);
  });

  await step('a meter already on the cheapest plan', async () => {
    await page.goto(BASE + '/?meter=smart-meter-3');
    await waitIdle(page);
    const want = await expectedView('smart-meter-3', 'week');
    const s = await shown(page);
    checkView('smart-meter-3', s, want);
    eq('smart-meter-3: sentence', s.saving,
      'You are already on the cheapest plan over these 7 days: price-plan-2 (Power for Everyone).');
  });

  async function errorCase(name, url, sentence, screenshot) {
    await step(name, async () => {
      const before = requests.length;
      await page.goto(BASE + url);
      await waitIdle(page);
      const s = await shown(page);
      eq(name + ': the sentence', s.status, sentence);
      check(name + ': shown as an error, results hidden', s.statusIsError && s.resultsHidden);
      const body = await page.evaluate(() => document.body.innerText);
      check(name + ': no JSON on the page', !/[{}]|about:blank|problem/.test(body), body.slice(0, 200));
      if (screenshot) await shot(screenshot);
      return requests.length - before;
    });
  }

  await errorCase('unknown meter (404)', '/?meter=no-such-meter',
    'We have no readings for meter \u201cno-such-meter\u201d. Please check the meter id: it is printed on your ' +
    'smart meter and on your bill.', 'page-404.png');

  await errorCase('a single reading (422)', '/?meter=' + ONE_READING_METER,
    'Meter \u201c' + ONE_READING_METER + '\u201d has sent only one reading so far, so its usage and costs cannot ' +
    'be worked out yet. Please look again once it has sent more.');

  await errorCase('too few readings in the last day (422)', '/?meter=' + SPARSE_METER + '&range=day',
    'Meter \u201c' + SPARSE_METER + '\u201d has too few readings in the last day to work out its usage. ' +
    'Please choose a longer period.');

  await step('after that 422, "All" shows the whole period', async () => {
    await page.click('#range button[data-range="all"]');
    await waitIdle(page);
    const want = await expectedView(SPARSE_METER, 'all');
    eq('sparse meter: 10 days, no account', [want.days, want.current], [10, null]);
    checkView('sparse meter', await shown(page), want);
  });

  await step('the service cannot be reached', async () => {
    await page.route('**/readings/**', (route) => route.abort('connectionrefused'));
    try {
      await errorCase('no connection', '/?meter=smart-meter-0',
        'We could not reach the service. Please check your connection and try again.');
    } finally {
      await page.unroute('**/readings/**');
    }
  });

  if (KEYED_METER && READ_KEY) {
    const keyed = '\u201c' + KEYED_METER + '\u201d';
    const keyState = () => page.evaluate((m) => ({
      status: document.getElementById('status').textContent.trim(),
      asking: !document.getElementById('key-form').hidden,
      held: !document.getElementById('key-held').hidden,
      resultsHidden: document.getElementById('results').hidden,
      type: document.getElementById('key').type,
      stored: sessionStorage.getItem('joi-read-key:' + m),
      local: localStorage.length,
      url: location.href
    }), KEYED_METER);
    const authOf = [];
    const onRequest = (r) => {
      if (r.url().includes('/readings/') || r.url().includes('/price-plans/')) {
        authOf.push([r.url(), r.headers().authorization || '']);
      }
    };
    page.on('request', onRequest);
    await step('a meter with a read key: the page asks for it', async () => {
      await page.goto(BASE + '/?meter=' + KEYED_METER);
      await waitIdle(page);
      const k = await keyState();
      eq('keyed: the sentence', k.status, 'The readings of meter ' + keyed + ' are private. Please enter its read key.');
      eq('keyed: asks for the key in a password field, results hidden', [k.asking, k.type, k.resultsHidden, k.held],
        [true, 'password', true, false]);
      eq('keyed: the label', await page.textContent('label[for="key"]'), 'Read key');
      await shot('page-key.png');
    });
    await step('a meter with a read key: a wrong key', async () => {
      await page.fill('#key', 'f'.repeat(64));
      await page.click('#key-form button[type="submit"]');
      await page.waitForFunction(() => /does not open/.test(document.getElementById('status').textContent));
      await waitIdle(page);
      const k = await keyState();
      eq('wrong key: the sentence', k.status, 'That key does not open meter ' + keyed + '. Please check it and enter it again.');
      eq('wrong key: asked again, not kept, results hidden', [k.asking, k.stored, k.resultsHidden], [true, null, true]);
      check('wrong key: sent as Bearer', authOf.some((a) => a[1] === 'Bearer ' + 'f'.repeat(64)), JSON.stringify(authOf));
    });
    await step('a meter with a read key: the right key', async () => {
      await page.fill('#key', READ_KEY);
      await page.click('#key-form button[type="submit"]');
      await page.waitForFunction(() => !document.getElementById('results').hidden);
      await waitIdle(page);
      const k = await keyState();
      eq('right key: the charts, the form gone, the key kept in this tab', [k.resultsHidden, k.asking, k.held, k.stored],
        [false, false, true, READ_KEY]);
      eq('right key: nothing in localStorage', k.local, 0);
      check('right key: not in the URL', !k.url.includes(READ_KEY), k.url);
      check('right key: no request URL holds it', authOf.every((a) => !a[0].includes(READ_KEY)), JSON.stringify(authOf));
      check('right key: sent as Bearer', authOf.some((a) => a[1] === 'Bearer ' + READ_KEY), JSON.stringify(authOf));
      apiKey = READ_KEY;
      try {
        checkView('keyed meter', await shown(page), await expectedView(KEYED_METER, 'week'));
      } finally {
        apiKey = null;
      }
      await page.reload();
      await waitIdle(page);
      const again = await keyState();
      eq('right key: a reload in the same tab still opens the meter', [again.resultsHidden, again.asking], [false, false]);
    });
    await step('a meter with a read key: forget the key', async () => {
      await page.click('#key-forget');
      const k = await keyState();
      eq('forget: the sentence', k.status, 'The read key of meter ' + keyed + ' is forgotten in this tab.');
      eq('forget: no key kept, results hidden, asks again', [k.stored, k.resultsHidden, k.asking, k.held],
        [null, true, true, false]);
      await page.reload();
      await waitIdle(page);
      const r = await keyState();
      eq('forget: after a reload the page asks again', [r.asking, r.resultsHidden], [true, true]);
    });
    page.off('request', onRequest);
  }

  await step('an invalid meter id is not sent to the API', async () => {
    const before = requests.filter((u) => u.includes('/readings/')).length;
    await page.goto(BASE + '/?meter=' + encodeURIComponent('bad id!'));
    const s = await shown(page);
    eq('invalid id: the sentence', s.status, '\u201cbad id!\u201d is not a meter id. A meter id is 1 to 64 letters, ' +
      'digits, dots, dashes or underscores, as printed on your smart meter.');
    eq('invalid id: the input is marked invalid', await page.getAttribute('#meter', 'aria-invalid'), 'true');
    eq('invalid id: no API request', requests.filter((u) => u.includes('/readings/')).length, before);
  });

  await step('a phone-sized screen', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(BASE + '/?meter=smart-meter-0');
    await waitIdle(page);
    const m = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      chart: document.getElementById('power-svg').getBoundingClientRect().width,
      bars: document.getElementById('plans-svg').getBoundingClientRect().right,
      buttons: Array.from(document.querySelectorAll('button')).filter((b) => b.offsetParent !== null)
        .map((b) => Math.round(b.getBoundingClientRect().height))
    }));
    check('phone: no sideways scrolling', m.scroll <= 360, 'scrollWidth ' + m.scroll);
    check('phone: the charts fit the screen', m.chart > 200 && m.chart <= 340 && m.bars <= 360, JSON.stringify(m));
    check('phone: buttons are at least 40 px tall', m.buttons.every((h) => h >= 40), JSON.stringify(m.buttons));
    checkView('phone', await shown(page), await expectedView('smart-meter-0', 'week'));
    await shot('page-phone.png');
    await page.setViewportSize({ width: 1100, height: 900 });
  });

  await step('nothing but the service is contacted, no script errors', async () => {
    const foreign = requests.filter((u) => !u.startsWith(BASE + '/') && !u.startsWith('data:'));
    eq('every request goes to the service', foreign, []);
    eq('no script errors', pageErrors, []);
  });

  // Last, because it stops the store: the service answers 503.
  const redis = process.env.JOI_REDIS || '';
  if (redis.startsWith('unix:')) {
    await step('the store is down (503)', async () => {
      execFileSync('redis-cli', ['-s', redis.slice(5), 'shutdown', 'nosave'], { timeout: WAIT_MS, stdio: 'ignore' });
      const health = await fetch(BASE + '/health', { signal: AbortSignal.timeout(WAIT_MS) });
      eq('the store is down: /health', health.status, 503);
      await errorCase('service down (503)', '/?meter=smart-meter-0',
        'The service is not available right now, so we cannot show meter \u201csmart-meter-0\u201d. ' +
        'Please try again in a few minutes.');
    });
  } else {
    // Only this stack's own Redis is stopped; a shared or proxied store is left alone.
    console.log('skip the store is down (503): the store is not a Redis of this stack (' + redis + ')');
  }

  await browser.close();
}

const watchdog = setTimeout(() => {
  console.log('FAIL the page test did not finish within 200 s');
  console.log(passed + ' passed, ' + (failed + 1) + ' failed');
  process.exit(1);
}, 200000);

main().catch((e) => {
  check('the browser runs', false, String(e && e.stack ? e.stack : e));
}).finally(() => {
  clearTimeout(watchdog);
  console.log('page test: ' + ((Date.now() - started) / 1000).toFixed(1) + ' s, screenshots in ' + ARTEFACTS);
  console.log(passed + ' passed, ' + failed + ' failed');
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
});
