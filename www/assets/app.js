/*
 * The customer page: a meter's power over time, the energy of the period shown,
 * and what each price plan would have charged for it, cheapest first.
 *
 * Data comes from the API on the same origin:
 *   GET /readings/read/{id}?limit=2          the latest readings (the period ends there)
 *   GET /readings/read/{id}?from=&to=        the readings drawn
 *   GET /price-plans/compare-all/{id}?from=&to=   costs per plan, usage.kWh
 *   GET /price-plans                         supplier names
 * Charts are plain SVG drawn here; nothing is loaded from elsewhere.
 */
(function () {
  'use strict';

  var SVG = 'http://www.w3.org/2000/svg';
  var METER_ID = /^[A-Za-z0-9._-]{1,64}$/;
  var RANGES = { day: 86400, week: 7 * 86400, all: null };
  var RANGE_NAMES = { day: 'the last day', week: 'the last week', all: 'all readings' };
  var REQUEST_TIMEOUT_MS = 15000;
  var HOUR = 3600;
  var DAY = 86400;

  var el = {};
  var state = {
    meter: '',
    range: 'week',
    seq: 0,
    controller: null,
    plans: null, // id -> supplier, once loaded
    view: null, // the data of the period shown, kept for redrawing on resize
    drawnWidth: 0
  };

  /* ---------- formatting ---------- */

  function fixed2(x) {
    return Number(x).toFixed(2);
  }

  function shortNumber(x) {
    // 7, 2.5: at most one decimal, none when whole.
    var r = Math.round(x * 10) / 10;
    return String(r);
  }

  // "these 7 days", "this 1 day", "these 12 hours": the length of a priced period.
  function spanPhrase(seconds) {
    var n;
    var unit;
    if (seconds >= DAY) {
      n = shortNumber(seconds / DAY);
      unit = 'day';
    } else if (seconds >= HOUR) {
      n = shortNumber(seconds / HOUR);
      unit = 'hour';
    } else {
      n = shortNumber(seconds / 60);
      unit = 'minute';
    }
    return n === '1' ? 'this 1 ' + unit : 'these ' + n + ' ' + unit + 's';
  }

  function dateOf(t) {
    return new Date(t * 1000);
  }

  function fmtDateTime(t) {
    return dateOf(t).toLocaleString(undefined, {
      weekday: 'short', day: 'numeric', month: 'short', year: 'numeric',
      hour: '2-digit', minute: '2-digit'
    });
  }

  function fmtDayTime(t) {
    return dateOf(t).toLocaleString(undefined, {
      weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit'
    });
  }

  function fmtTime(t) {
    return dateOf(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  }

  function fmtDay(t) {
    return dateOf(t).toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
  }

  function fmtKw(x) {
    if (x === 0) return '0';
    if (Math.abs(x) >= 100) return String(Math.round(x));
    if (Math.abs(x) >= 10) return shortNumber(x);
    return String(Math.round(x * 100) / 100);
  }

  function planName(id) {
    var supplier = state.plans && state.plans[id];
    return supplier ? id + ' (' + supplier + ')' : id;
  }

  /* ---------- the API ---------- */

  function ApiError(kind, status, title, detail) {
    this.kind = kind; // 'http', 'network', 'timeout', 'bad-response'
    this.status = status || 0;
    this.title = title || '';
    this.detail = detail || '';
  }

  function getJson(path, controller) {
    var timedOut = false;
    var timer = setTimeout(function () {
      timedOut = true;
      controller.abort();
    }, REQUEST_TIMEOUT_MS);
    return fetch(path, {
      headers: { Accept: 'application/json' },
      cache: 'no-store',
      signal: controller.signal
    }).then(function (res) {
      return res.text().then(function (text) {
        var body = null;
        try {
          body = text ? JSON.parse(text) : null;
        } catch (e) {
          body = null;
        }
        if (!res.ok) {
          var title = body && typeof body.title === 'string' ? body.title : res.statusText;
          var detail = body && typeof body.detail === 'string' ? body.detail : '';
          throw new ApiError('http', res.status, title, detail);
        }
        if (body === null) throw new ApiError('bad-response', res.status);
        return body;
      });
    }).catch(function (e) {
      if (e instanceof ApiError) throw e;
      if (timedOut) throw new ApiError('timeout');
      if (e && e.name === 'AbortError') throw e; // a newer request took over
      throw new ApiError('network');
    }).finally(function () {
      clearTimeout(timer);
    });
  }

  function meterPath(prefix, id, query) {
    return prefix + encodeURIComponent(id) + (query ? '?' + query : '');
  }

  function loadPlanNames(controller) {
    if (state.plans) return Promise.resolve(state.plans);
    // Supplier names only decorate the plan ids: without them the page still works.
    return getJson('/price-plans', controller).then(function (list) {
      var names = {};
      if (Array.isArray(list)) {
        list.forEach(function (p) {
          if (p && typeof p.id === 'string') names[p.id] = typeof p.supplier === 'string' ? p.supplier : '';
        });
      }
      state.plans = names;
      return names;
    }, function (e) {
      if (e && e.name === 'AbortError') throw e;
      return null;
    });
  }

  /* ---------- messages ---------- */

  function quoted(id) {
    return '\u201c' + id + '\u201d';
  }

  // A plain sentence for a failure; never the problem document itself.
  function errorSentence(err, meter, ctx) {
    if (err.kind === 'timeout') {
      return 'The service took too long to answer. Please try again in a moment.';
    }
    if (err.kind === 'network') {
      return 'We could not reach the service. Please check your connection and try again.';
    }
    if (err.kind === 'bad-response') {
      return 'The service sent an answer we could not read. Please try again later.';
    }
    switch (err.status) {
      case 400:
        return 'We could not look up meter ' + quoted(meter) + ': the request was not accepted (' +
          (err.detail || err.title) + ').';
      case 404:
        return 'We have no readings for meter ' + quoted(meter) +
          '. Please check the meter id: it is printed on your smart meter and on your bill.';
      case 422:
        if (ctx && ctx.meterReadings < 2) {
          return 'Meter ' + quoted(meter) + ' has sent only one reading so far, so its usage and costs ' +
            'cannot be worked out yet. Please look again once it has sent more.';
        }
        return 'Meter ' + quoted(meter) + ' has too few readings in ' + RANGE_NAMES[ctx.range] +
          ' to work out its usage. Please choose a longer period.';
      case 503:
        return 'The service is not available right now, so we cannot show meter ' + quoted(meter) +
          '. Please try again in a few minutes.';
      default:
        if (err.status >= 500) {
          return 'Something went wrong on our side (' + err.status + ' ' + err.title +
            '). Please try again in a few minutes.';
        }
        return 'We could not show meter ' + quoted(meter) + ' (' + err.status + ' ' + err.title + ').';
    }
  }

  function showStatus(text, isError) {
    el.status.textContent = '';
    el.status.classList.toggle('error', !!isError);
    if (text) {
      var p = document.createElement('p');
      p.textContent = text;
      el.status.appendChild(p);
    }
  }

  /* ---------- loading ---------- */

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

  function load() {
    var meter = state.meter;
    var range = state.range;
    var seq = ++state.seq;
    if (state.controller) state.controller.abort();
    var controller = new AbortController();
    state.controller = controller;

    var loadingTimer = setTimeout(function () {
      if (seq === state.seq) showStatus('Loading meter ' + quoted(meter) + '\u2026', false);
    }, 300);
    el.results.setAttribute('aria-busy', 'true');

    var ctx = { meterReadings: 0, range: range };
    var namesP = loadPlanNames(controller);
    var span = RANGES[range];

    getJson(meterPath('/readings/read/', meter, 'limit=2'), controller).then(function (latest) {
      if (!Array.isArray(latest) || latest.length === 0) throw new ApiError('http', 404, 'Not Found');
      ctx.meterReadings = latest.length;
      var last = latest[latest.length - 1].time;
      var from = span === null ? null : Math.max(0, last - span);
      var query = 'to=' + last + (from === null ? '' : '&from=' + from);
      return Promise.all([
        getJson(meterPath('/readings/read/', meter, query), controller),
        getJson(meterPath('/price-plans/compare-all/', meter, query), controller),
        namesP
      ]).then(function (r) {
        return { meter: meter, range: range, from: from, to: last, readings: r[0], compare: r[1] };
      });
    }).then(function (view) {
      if (seq !== state.seq) return;
      clearTimeout(loadingTimer);
      el.results.removeAttribute('aria-busy');
      showStatus('', false);
      state.view = view;
      render(view);
      el.announce.textContent = 'Showing meter ' + meter + ', ' + RANGE_NAMES[range] + '.';
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
      showStatus(errorSentence(err, meter, ctx), true);
      document.title = 'Your electricity \u2014 JOI Energy';
    });
  }

  // Forget a load still under way: its answers are no longer wanted.
  function cancelLoad() {
    ++state.seq;
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
      showStatus('Please enter your meter id.', true);
      return;
    }
    if (!METER_ID.test(meter)) {
      cancelLoad();
      el.input.setAttribute('aria-invalid', 'true');
      showStatus(quoted(meter) + ' is not a meter id. A meter id is 1 to 64 letters, digits, dots, ' +
        'dashes or underscores, as printed on your smart meter.', true);
      return;
    }
    el.input.removeAttribute('aria-invalid');
    load();
  }

  /* ---------- rendering ---------- */

  function render(view) {
    var c = view.compare;
    var usage = c.usage || {};
    var readings = view.readings;

    document.title = view.meter + ' \u2014 Your electricity \u2014 JOI Energy';
    el.results.hidden = false;

    el.usageSummary.textContent = '';
    var strong = document.createElement('strong');
    strong.textContent = fixed2(usage.kWh) + ' kWh';
    el.usageSummary.appendChild(strong);
    el.usageSummary.appendChild(document.createTextNode(
      ' used from ' + fmtDateTime(usage.from) + ' to ' + fmtDateTime(usage.to) + '.'));

    var notes = [];
    if (view.from !== null && usage.from - view.from > HOUR) {
      notes.push('The first reading in ' + RANGE_NAMES[view.range] + ' is from ' + fmtDateTime(usage.from) + '.');
    }
    if (usage.gaps > 0) {
      var missing = Math.max(0, usage.to - usage.from - usage.coveredSeconds);
      notes.push('The readings have ' + usage.gaps + (usage.gaps === 1 ? ' gap' : ' gaps') +
        ' (' + shortNumber(missing / HOUR) + ' hours in all) with no data; no energy is counted for them.');
    }
    el.usageNote.textContent = notes.join(' ');
    el.usageNote.hidden = notes.length === 0;

    drawPower(readings, usage.gaps || 0);
    drawPlans(c, usage);
    state.drawnWidth = el.powerChart.clientWidth;
  }

  function svgEl(name, attrs, text) {
    var n = document.createElementNS(SVG, name);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        n.setAttribute(k, attrs[k]);
      });
    }
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function niceStep(rough) {
    var p = Math.pow(10, Math.floor(Math.log10(rough)));
    var f = rough / p;
    var s = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
    return s * p;
  }

  // Time-axis ticks on local wall-clock boundaries (midnights, whole hours).
  function timeTicks(t0, t1, maxTicks) {
    var span = t1 - t0;
    var hourSteps = [1, 2, 3, 6, 12];
    var daySteps = [1, 2, 3, 7, 14];
    var ticks = [];
    var i;
    var d;
    var minuteSteps = [1, 5, 10, 15, 30];
    var step = null;
    for (i = 0; i < minuteSteps.length && span < HOUR * maxTicks; i++) {
      if (span / (minuteSteps[i] * 60) <= maxTicks) {
        step = { unit: 'minute', n: minuteSteps[i] };
        break;
      }
    }
    for (i = 0; !step && i < hourSteps.length; i++) {
      if (span / (hourSteps[i] * HOUR) <= maxTicks) {
        step = { unit: 'hour', n: hourSteps[i] };
        break;
      }
    }
    if (!step) {
      for (i = 0; i < daySteps.length; i++) {
        if (span / (daySteps[i] * DAY) <= maxTicks) {
          step = { unit: 'day', n: daySteps[i] };
          break;
        }
      }
    }
    if (!step) {
      var months = Math.max(1, Math.ceil(span / (30.44 * DAY) / maxTicks));
      step = { unit: 'month', n: months <= 1 ? 1 : months <= 2 ? 2 : months <= 3 ? 3 : months <= 6 ? 6 : 12 * Math.ceil(months / 12) };
    }
    d = dateOf(t0);
    if (step.unit === 'minute') {
      d.setSeconds(0, 0);
      d.setMinutes(Math.floor(d.getMinutes() / step.n) * step.n);
    } else {
      d.setHours(0, 0, 0, 0);
    }
    if (step.unit === 'month') {
      d.setDate(1);
      d.setMonth(Math.floor(d.getMonth() / step.n) * step.n);
    } else if (step.unit === 'day' && step.n === 7) {
      d.setDate(d.getDate() - ((d.getDay() + 6) % 7)); // Mondays
    }
    for (var guard = 0; guard < 2000; guard++) {
      var t = Math.round(d.getTime() / 1000);
      if (t > t1) break;
      if (t >= t0) ticks.push(t);
      if (step.unit === 'minute') {
        d.setMinutes(d.getMinutes() + step.n);
      } else if (step.unit === 'hour') {
        var h = d.getHours() + step.n;
        d.setHours(h);
        if (h >= 24) d.setHours(0, 0, 0, 0); // a new local day restarts the pattern
      } else if (step.unit === 'day') {
        d.setDate(d.getDate() + step.n);
        d.setHours(0, 0, 0, 0);
      } else {
        d.setMonth(d.getMonth() + step.n);
      }
    }
    return { ticks: ticks, unit: step.unit };
  }

  function tickLabel(t, unit, first) {
    var d = dateOf(t);
    if (unit === 'month') {
      return [d.toLocaleDateString(undefined, { month: 'short' }), d.toLocaleDateString(undefined, { year: 'numeric' })];
    }
    if (unit === 'day') {
      return [d.toLocaleDateString(undefined, { weekday: 'short' }),
        d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })];
    }
    var midnight = d.getHours() === 0 && d.getMinutes() === 0;
    return [fmtTime(t), midnight || first ? fmtDay(t) : ''];
  }

  // Keep at most a low and a high reading per pixel column, in time order,
  // so a long period draws fast and still shows every peak.
  function decimate(points, x, columns) {
    if (points.length <= columns * 2) return points;
    var out = [];
    var col = null;
    var lo = null;
    var hi = null;
    function flush() {
      if (!lo) return;
      if (lo === hi) out.push(lo);
      else if (lo.time < hi.time) out.push(lo, hi);
      else out.push(hi, lo);
    }
    points.forEach(function (p) {
      var c = Math.floor(x(p.time));
      if (c !== col) {
        flush();
        col = c;
        lo = hi = p;
      } else {
        if (p.reading < lo.reading) lo = p;
        if (p.reading > hi.reading) hi = p;
      }
    });
    flush();
    return out;
  }

  // The API counts the intervals longer than the plans' maxGapSeconds as gaps
  // (usage.gaps) without saying where they are: they are the that-many longest
  // intervals, since every gap is longer than every interval that is not one.
  function splitAtGaps(readings, gaps) {
    if (!(gaps > 0) || readings.length < 2) return [readings];
    var steps = [];
    for (var i = 1; i < readings.length; i++) steps.push({ i: i, len: readings[i].time - readings[i - 1].time });
    steps.sort(function (a, b) {
      return b.len - a.len;
    });
    var cuts = steps.slice(0, gaps).map(function (s) {
      return s.i;
    }).sort(function (a, b) {
      return a - b;
    });
    var out = [];
    var start = 0;
    cuts.forEach(function (c) {
      out.push(readings.slice(start, c));
      start = c;
    });
    out.push(readings.slice(start));
    return out;
  }

  function powerSummary(readings) {
    var n = readings.length;
    var sum = 0;
    var hi = readings[0];
    var lo = readings[0];
    readings.forEach(function (r) {
      sum += r.reading;
      if (r.reading > hi.reading) hi = r;
      if (r.reading < lo.reading) lo = r;
    });
    return {
      n: n, mean: sum / n, hi: hi, lo: lo,
      text: 'Power in kilowatts from ' + fmtDateTime(readings[0].time) + ' to ' + fmtDateTime(readings[n - 1].time) +
        ': ' + n + ' readings, average ' + fmtKw(sum / n) + ' kW, highest ' + fmtKw(hi.reading) + ' kW on ' +
        fmtDayTime(hi.time) + ', lowest ' + fmtKw(lo.reading) + ' kW on ' + fmtDayTime(lo.time) + '.'
    };
  }

  // Average and highest power per 3 hours, per local day or per month, as text.
  function powerBreakdown(readings) {
    var span = readings[readings.length - 1].time - readings[0].time;
    var per = span <= 2 * DAY ? 'hours' : span <= 62 * DAY ? 'day' : 'month';
    var groups = [];
    var byKey = {};
    readings.forEach(function (r) {
      var d = dateOf(r.time);
      var key;
      var label;
      if (per === 'hours') {
        var h = Math.floor(d.getHours() / 3) * 3;
        key = d.toDateString() + ' ' + h;
        d.setHours(h, 0, 0, 0);
        label = fmtDayTime(Math.round(d.getTime() / 1000));
      } else if (per === 'day') {
        key = d.toDateString();
        label = fmtDay(r.time);
      } else {
        key = d.getFullYear() + '-' + d.getMonth();
        label = d.toLocaleDateString(undefined, { month: 'long', year: 'numeric' });
      }
      var g = byKey[key];
      if (!g) {
        g = byKey[key] = { label: label, sum: 0, n: 0, hi: r };
        groups.push(g);
      }
      g.sum += r.reading;
      g.n += 1;
      if (r.reading > g.hi.reading) g.hi = r;
    });
    var title = per === 'hours' ? 'Power every 3 hours. ' : per === 'day' ? 'Power by day. ' : 'Power by month. ';
    return title + groups.map(function (g) {
      return g.label + ': average ' + fmtKw(g.sum / g.n) + ' kW, highest ' + fmtKw(g.hi.reading) + ' kW at ' +
        (per === 'month' ? fmtDayTime(g.hi.time) : fmtTime(g.hi.time)) + '.';
    }).join(' ');
  }

  function drawPower(readings, gaps) {
    var box = el.powerChart;
    box.textContent = '';
    var width = Math.max(280, Math.floor(box.clientWidth || 600));
    var height = Math.round(Math.min(340, Math.max(210, width * 0.42)));
    var m = { left: 46, right: 14, top: 24, bottom: 44 };
    var pw = width - m.left - m.right;
    var ph = height - m.top - m.bottom;

    var t0 = readings[0].time;
    var t1 = readings[readings.length - 1].time;
    if (t1 === t0) t1 = t0 + 1;
    var max = 0;
    readings.forEach(function (r) {
      if (r.reading > max) max = r.reading;
    });
    var yStep = niceStep((max > 0 ? max : 1) / 4);
    var yMax = Math.ceil((max > 0 ? max : 1) / yStep) * yStep;

    function x(t) {
      return m.left + (t - t0) / (t1 - t0) * pw;
    }
    function y(v) {
      return m.top + ph - v / yMax * ph;
    }

    var summary = powerSummary(readings);
    var svg = svgEl('svg', {
      viewBox: '0 0 ' + width + ' ' + height, width: width, height: height,
      role: 'img', 'aria-label': 'Line chart. ' + summary.text, id: 'power-svg',
      'data-readings': readings.length
    });

    var axis = svgEl('g', { class: 'ax', 'aria-hidden': 'true' });
    for (var v = 0; v <= yMax + yStep / 2; v += yStep) {
      var yy = y(v);
      axis.appendChild(svgEl('line', { class: v === 0 ? 'base' : 'grid', x1: m.left, x2: m.left + pw, y1: yy, y2: yy }));
      axis.appendChild(svgEl('text', { x: m.left - 6, y: yy + 4, 'text-anchor': 'end' }, fmtKw(Math.round(v / yStep) * yStep)));
    }
    axis.appendChild(svgEl('text', { x: 4, y: 12, 'text-anchor': 'start' }, 'kW'));

    var tt = timeTicks(t0, t1, Math.max(2, Math.floor(pw / 64)));
    var lastRight = [-Infinity, -Infinity];
    tt.ticks.forEach(function (t, i) {
      var xx = x(t);
      axis.appendChild(svgEl('line', { class: 'grid', x1: xx, x2: xx, y1: m.top, y2: m.top + ph }));
      // Labels are kept inside the chart's width and never drawn over each other:
      // a tick whose time would overlap the previous one gets no label, and a
      // date line that would overlap is left out.
      var lines = tickLabel(t, tt.unit, i === 0);
      var w = [lines[0].length * 7, lines[1].length * 7];
      var wide = Math.max(w[0], w[1]);
      var anchor = xx - wide / 2 < m.left - 6 ? 'start' : xx + wide / 2 > width ? 'end' : 'middle';
      function left(k) {
        return anchor === 'start' ? xx : anchor === 'end' ? xx - w[k] : xx - w[k] / 2;
      }
      if (left(0) < lastRight[0] + 10) return;
      lastRight[0] = left(0) + w[0];
      axis.appendChild(svgEl('text', { x: xx, y: m.top + ph + 16, 'text-anchor': anchor }, lines[0]));
      if (lines[1] && left(1) >= lastRight[1] + 10) {
        lastRight[1] = left(1) + w[1];
        axis.appendChild(svgEl('text', { x: xx, y: m.top + ph + 31, 'text-anchor': anchor }, lines[1]));
      }
    });
    svg.appendChild(axis);

    // The line breaks where readings are missing, as the energy does.
    var segments = splitAtGaps(readings, gaps);
    var d = '';
    var area = '';
    var count = 0;
    var plot = svgEl('g', { 'aria-hidden': 'true' });
    segments.forEach(function (seg) {
      var pts = decimate(seg, x, pw * (seg[seg.length - 1].time - seg[0].time) / (t1 - t0));
      var line = '';
      pts.forEach(function (p, i) {
        line += (i === 0 ? 'M' : 'L') + x(p.time).toFixed(1) + ' ' + y(p.reading).toFixed(1);
      });
      d += line;
      area += line + 'L' + x(pts[pts.length - 1].time).toFixed(1) + ' ' + y(0).toFixed(1) +
        'L' + x(pts[0].time).toFixed(1) + ' ' + y(0).toFixed(1) + 'Z';
      count += pts.length;
      if (pts.length === 1 || readings.length <= 48) {
        pts.forEach(function (p) {
          plot.appendChild(svgEl('circle', { class: 'power-dot', cx: x(p.time).toFixed(1), cy: y(p.reading).toFixed(1), r: 2.5 }));
        });
      }
    });
    plot.insertBefore(svgEl('path', { class: 'power-area', d: area }), plot.firstChild);
    plot.insertBefore(svgEl('path', { class: 'power-line', d: d, 'data-points': count }), plot.children[1] || null);
    svg.appendChild(plot);
    box.appendChild(svg);

    el.powerCaption.textContent = 'Power (kW) at each reading, ' + fmtDateTime(readings[0].time) + ' to ' +
      fmtDateTime(readings[readings.length - 1].time) + '.';
    el.powerText.textContent = powerBreakdown(readings);
  }

  function comparisonList(c) {
    var list = [];
    (c.pricePlanComparisons || []).forEach(function (o) {
      Object.keys(o).forEach(function (id) {
        list.push({ id: id, cost: Number(o[id]) });
      });
    });
    return list; // the API sends them cheapest first
  }

  function savingSentence(list, current, usage) {
    var over = 'over ' + spanPhrase(usage.to - usage.from);
    var cheapest = list[0];
    var mine = null;
    list.forEach(function (p) {
      if (p.id === current) mine = p;
    });
    if (!mine) {
      return (current ? 'Your plan ' + current + ' could not be priced. ' : 'This meter has no price plan on record. ') +
        'The cheapest plan ' + over + ' would have been ' + planName(cheapest.id) + ', at ' + fixed2(cheapest.cost) + '.';
    }
    var saving = mine.cost - cheapest.cost;
    if (mine.id === cheapest.id || saving < 0.005) {
      return 'You are already on the cheapest plan ' + over + ': ' + planName(mine.id) + '.';
    }
    return 'Switching to ' + planName(cheapest.id) + ' would have saved ' + fixed2(saving) + ' ' + over + '.';
  }

  function drawPlans(c, usage) {
    var list = comparisonList(c);
    var current = c.pricePlanId;
    var box = el.plansChart;
    box.textContent = '';
    var tbody = el.plansTable.tBodies[0];
    tbody.textContent = '';
    if (list.length === 0) {
      el.saving.textContent = 'No price plans are on offer at the moment.';
      el.plansCaption.textContent = '';
      return;
    }
    el.saving.textContent = savingSentence(list, current, usage);

    var width = Math.max(280, Math.floor(box.clientWidth || 600));
    var maxCost = 0;
    list.forEach(function (p) {
      if (p.cost > maxCost) maxCost = p.cost;
    });

    var label = 'Bar chart of what each plan would have cost, cheapest first: ' + list.map(function (p) {
      return planName(p.id) + ' ' + fixed2(p.cost) + (p.id === current ? ' (your plan)' : '');
    }).join('; ') + '.';
    var svg = svgEl('svg', {
      viewBox: '0 0 ' + width + ' 10', width: width, height: 10,
      role: 'img', 'aria-label': label, id: 'plans-svg'
    });
    var g = svgEl('g', { class: 'bars', 'aria-hidden': 'true' });
    svg.appendChild(g);
    box.appendChild(svg);

    // Build every row first, then place them once the texts can be measured.
    var rows = list.map(function (p, i) {
      var isCurrent = p.id === current;
      var row = svgEl('g', { class: 'plan-row' + (isCurrent ? ' current' : ''), 'data-plan': p.id, 'data-cost': fixed2(p.cost) });
      var name = svgEl('text', { x: 0 });
      name.appendChild(svgEl('tspan', { class: 'plan' }, p.id));
      var supplier = state.plans && state.plans[p.id];
      if (supplier) name.appendChild(svgEl('tspan', { class: 'supplier', dx: 6 }, supplier));
      row.appendChild(name);
      var tag = null;
      if (isCurrent) tag = svgEl('text', { class: 'tag current' }, '\u25c6 your plan');
      else if (i === 0) tag = svgEl('text', { class: 'tag cheapest' }, '\u2713 cheapest');
      if (tag) row.appendChild(tag);
      var rect = svgEl('rect', { class: 'bar' + (isCurrent ? ' current' : '') + (i === 0 ? ' cheapest' : ''), x: 0, height: 24, rx: 3 });
      row.appendChild(rect);
      var value = svgEl('text', { class: 'value' }, fixed2(p.cost));
      row.appendChild(value);
      g.appendChild(row);

      var tr = document.createElement('tr');
      [p.id, supplier || '', fixed2(p.cost), isCurrent ? 'yes' : ''].forEach(function (v, k) {
        var cell = document.createElement(k === 0 ? 'th' : 'td');
        if (k === 0) cell.setAttribute('scope', 'row');
        cell.textContent = v;
        tr.appendChild(cell);
      });
      tbody.appendChild(tr);
      return { p: p, name: name, tag: tag, rect: rect, value: value };
    });

    function textWidth(t) {
      var w = 0;
      try {
        w = t.getComputedTextLength();
      } catch (e) {
        w = 0;
      }
      return w > 0 ? w : t.textContent.length * 7.5;
    }
    var valueRoom = 8;
    rows.forEach(function (r) {
      valueRoom = Math.max(valueRoom, textWidth(r.value) + 10);
    });
    var bw = Math.max(40, width - valueRoom);
    var y0 = 4;
    rows.forEach(function (r) {
      r.name.setAttribute('y', y0 + 14);
      if (r.tag) {
        var nameW = textWidth(r.name);
        var tagW = textWidth(r.tag);
        if (nameW + 10 + tagW <= width) {
          r.tag.setAttribute('x', (nameW + 10).toFixed(1));
        } else {
          y0 += 19; // no room beside the name: the tag gets a line of its own
          r.tag.setAttribute('x', 0);
        }
        r.tag.setAttribute('y', y0 + 14);
      }
      var w = maxCost > 0 ? Math.max(2, r.p.cost / maxCost * bw) : 2;
      r.rect.setAttribute('y', y0 + 22);
      r.rect.setAttribute('width', w.toFixed(1));
      r.value.setAttribute('x', (w + 6).toFixed(1));
      r.value.setAttribute('y', y0 + 39);
      y0 += 58;
    });
    svg.setAttribute('height', y0);
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + y0);
    el.plansCaption.textContent = 'Cost of ' + fixed2(usage.kWh) + ' kWh on each plan, from ' +
      fmtDateTime(usage.from) + ' to ' + fmtDateTime(usage.to) + '.';
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
      showStatus('Enter your meter id to see your usage and what each price plan would cost you.', false);
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
})();
