/*
 * main.js: the customer page's entry point (www/index.html loads it as a module):
 * a meter's power over time, the energy of the period shown, and what each price
 * plan would have charged for it, cheapest first.
 *
 * It holds the page's state (the meter and period shown, the load under way),
 * keeps the URL, the form, the period buttons and the status line in step with
 * it, loads a period through api.js and hands it to the cards (usage.js,
 * plans.js). Data comes from the API on the same origin:
 *   GET /readings/read/{id}?limit=2          the latest readings (the period ends there)
 *   GET /readings/read/{id}?to=&from=        the readings drawn
 *   GET /price-plans/compare-all/{id}?to=&from=   costs per plan, usage.kWh
 *   GET /price-plans                         supplier names
 * Charts are plain SVG drawn by the page; nothing is loaded from elsewhere.
 *
 * Rules: the only module that finds the page's elements (by id, once, in init),
 * listens to events or touches location, history and document.title; the cards
 * write only into the elements it hands them. Only the latest load may change the
 * page: an older one's answers are dropped (state.seq) and its requests aborted.
 * A meter id that does not follow METER_ID is never sent.
 *
 * Read keys: when the API answers 401 the page asks for the meter's read key (a
 * password field), keeps it in sessionStorage only (this tab, until it is closed
 * or the key forgotten; never in the URL or localStorage) and sends it as Bearer;
 * a key that the API refuses is dropped at once.
 */

import { ApiError, compareAll, loadPlanNames, planNames, readReadings } from './api.js';
import { RANGES } from './format.js';
import {
  NO_METER, PAGE_TITLE, WELCOME, errorSentence, keyForgottenSentence, keySentence, loadingSentence, meterTitle,
  notMeterIdSentence, shownSentence
} from './messages.js';
import { renderPlans } from './plans.js';
import { renderUsage } from './usage.js';

const METER_ID = /^[A-Za-z0-9._-]{1,64}$/;

var el = {};
var state = {
  meter: '',
  range: 'week',
  seq: 0,
  controller: null,
  view: null, // the data of the period shown, kept for redrawing on resize
  drawnWidth: 0
};

/* ---------- the status line and the period buttons ---------- */

function showStatus(text, isError) {
  el.status.textContent = '';
  el.status.classList.toggle('error', !!isError);
  if (text) {
    var p = document.createElement('p');
    p.textContent = text;
    el.status.appendChild(p);
  }
}

function setRange(range) {
  state.range = range;
  el.rangeButtons.forEach(function (b) {
    b.setAttribute('aria-pressed', b.getAttribute('data-range') === range ? 'true' : 'false');
  });
}

function urlFor(meter, range) {
  var q = new URLSearchParams();
  if (meter) q.set('meter', meter);
  if (range !== 'week') q.set('range', range);
  var s = q.toString();
  return location.pathname + (s ? '?' + s : '');
}

/* ---------- read keys (sessionStorage only) ---------- */

const KEY_PREFIX = 'joi-read-key:';

function keyOf(meter) {
  try {
    return sessionStorage.getItem(KEY_PREFIX + meter);
  } catch (e) {
    return null; // storage disabled: the key is asked for again
  }
}

function keepKey(meter, key) {
  try {
    sessionStorage.setItem(KEY_PREFIX + meter, key);
  } catch (e) {
    // storage disabled or full: nothing kept
  }
}

function dropKey(meter) {
  try {
    sessionStorage.removeItem(KEY_PREFIX + meter);
  } catch (e) {
    // nothing kept
  }
}

// The key form and the "kept" note: asking (the form shown) or holding a key (the note).
function showKeyState(asking, holding) {
  el.keyForm.hidden = !asking;
  el.keyHeld.hidden = !holding;
}

/* ---------- loading ---------- */

function load() {
  var meter = state.meter;
  var range = state.range;
  var seq = ++state.seq;
  if (state.controller) state.controller.abort();
  var controller = new AbortController();
  state.controller = controller;

  var loadingTimer = setTimeout(function () {
    if (seq === state.seq) showStatus(loadingSentence(meter), false);
  }, 300);
  el.results.setAttribute('aria-busy', 'true');

  var ctx = { meterReadings: 0, range: range };
  var namesP = loadPlanNames(controller);
  var span = RANGES[range];
  var key = keyOf(meter);

  readReadings(meter, 'limit=2', controller, key).then(function (latest) {
    if (!Array.isArray(latest) || latest.length === 0) throw new ApiError('http', 404, 'Not Found');
    ctx.meterReadings = latest.length;
    var last = latest[latest.length - 1].time;
    var from = span === null ? null : Math.max(0, last - span);
    var query = 'to=' + last + (from === null ? '' : '&from=' + from);
    return Promise.all([
      readReadings(meter, query, controller, key),
      compareAll(meter, query, controller, key),
      namesP
    ]).then(function (r) {
      return { meter: meter, range: range, from: from, to: last, readings: r[0], compare: r[1] };
    });
  }).then(function (view) {
    if (seq !== state.seq) return;
    clearTimeout(loadingTimer);
    el.results.removeAttribute('aria-busy');
    showStatus('', false);
    showKeyState(false, !!key);
    state.view = view;
    render(view);
    el.announce.textContent = shownSentence(meter, range);
  }).catch(function (err) {
    if (seq !== state.seq) return;
    clearTimeout(loadingTimer);
    el.results.removeAttribute('aria-busy');
    // Still the current load, so an abort can only be a request that timed out
    // (it cancels the others of its load too).
    if (err && err.name === 'AbortError') err = new ApiError('timeout');
    if (!(err instanceof ApiError)) err = new ApiError('bad-response');
    state.view = null;
    el.results.hidden = true;
    el.announce.textContent = '';
    document.title = PAGE_TITLE;
    if (err.kind === 'http' && err.status === 401) {
      if (key) dropKey(meter); // refused: never sent again
      showKeyState(true, false);
      showStatus(keySentence(meter, !!key), true);
      el.keyInput.focus();
      return;
    }
    showKeyState(false, !!key);
    showStatus(errorSentence(err, meter, ctx), true);
  });
}

// Forget a load still under way: its answers are no longer wanted.
function cancelLoad() {
  ++state.seq;
  showKeyState(false, false);
  if (state.controller) state.controller.abort();
  state.controller = null;
  state.view = null;
  el.results.removeAttribute('aria-busy');
  el.results.hidden = true;
  el.announce.textContent = '';
}

function show(meter, range, how) {
  meter = meter.trim();
  el.input.value = meter;
  setRange(range);
  state.meter = meter;
  if (how === 'push') history.pushState(null, '', urlFor(meter, range));
  else if (how === 'replace') history.replaceState(null, '', urlFor(meter, range));
  if (!meter) {
    cancelLoad();
    el.input.setAttribute('aria-invalid', 'true');
    showStatus(NO_METER, true);
    return;
  }
  if (!METER_ID.test(meter)) {
    cancelLoad();
    el.input.setAttribute('aria-invalid', 'true');
    showStatus(notMeterIdSentence(meter), true);
    return;
  }
  el.input.removeAttribute('aria-invalid');
  load();
}

/* ---------- rendering ---------- */

// The period loaded, on the page: the cards are drawn while the results are shown,
// so that the charts can measure their width.
function render(view) {
  document.title = meterTitle(view.meter);
  el.results.hidden = false;
  renderUsage(el, view);
  renderPlans(el, view.compare, planNames());
  state.drawnWidth = el.powerChart.clientWidth;
}

/* ---------- wiring ---------- */

function fromUrl(how) {
  var q = new URLSearchParams(location.search);
  var range = q.get('range');
  if (!Object.prototype.hasOwnProperty.call(RANGES, range)) range = 'week';
  var meter = q.get('meter');
  if (meter === null) {
    setRange(range);
    state.meter = '';
    cancelLoad();
    showStatus(WELCOME, false);
    return;
  }
  show(meter, range, how);
}

function init() {
  el.form = document.getElementById('meter-form');
  el.input = document.getElementById('meter');
  el.status = document.getElementById('status');
  el.announce = document.getElementById('announce');
  el.results = document.getElementById('results');
  el.usageSummary = document.getElementById('usage-summary');
  el.usageNote = document.getElementById('usage-note');
  el.powerChart = document.getElementById('power-chart');
  el.powerCaption = document.getElementById('power-caption');
  el.powerText = document.getElementById('power-text');
  el.saving = document.getElementById('saving');
  el.plansChart = document.getElementById('plans-chart');
  el.plansCaption = document.getElementById('plans-caption');
  el.plansTable = document.getElementById('plans-table');
  el.keyForm = document.getElementById('key-form');
  el.keyInput = document.getElementById('key');
  el.keyHeld = document.getElementById('key-held');
  el.keyForget = document.getElementById('key-forget');
  el.rangeButtons = Array.prototype.slice.call(document.querySelectorAll('#range button[data-range]'));

  try {
    document.getElementById('tz').textContent = ' (' + Intl.DateTimeFormat().resolvedOptions().timeZone + ')';
  } catch (e) {
    // no zone name to show
  }

  el.form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var meter = el.input.value.trim();
    var same = meter === state.meter;
    show(meter, state.range, same ? 'replace' : 'push');
    if (!METER_ID.test(meter)) el.input.focus();
  });

  el.keyForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var key = el.keyInput.value.trim();
    el.keyInput.value = '';
    if (!key || !state.meter) {
      el.keyInput.focus();
      return;
    }
    keepKey(state.meter, key);
    load();
  });

  el.keyForget.addEventListener('click', function () {
    var meter = state.meter;
    dropKey(meter);
    cancelLoad();
    showKeyState(true, false);
    showStatus(keyForgottenSentence(meter), false);
  });

  el.rangeButtons.forEach(function (b) {
    b.addEventListener('click', function () {
      var range = b.getAttribute('data-range');
      if (range === state.range && state.view) return;
      setRange(range);
      history.replaceState(null, '', urlFor(state.meter, range));
      if (state.meter && METER_ID.test(state.meter)) load();
    });
  });

  window.addEventListener('popstate', function () {
    fromUrl(null);
  });

  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      if (state.view && !el.results.hidden && el.powerChart.clientWidth !== state.drawnWidth) render(state.view);
    }, 150);
  });

  fromUrl('replace');
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
