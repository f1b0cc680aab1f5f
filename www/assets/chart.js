/*
 * chart.js: the building blocks of the SVG charts: elements, axis steps and
 * time ticks, and the arithmetic that thins and splits a line of readings.
 *
 * Rules: creates SVG elements but never finds, reads or changes the page's own
 * (the card modules put what it makes on the page); everything else is pure
 * arithmetic on numbers and Unix seconds. No fetch, no state.
 */

import { DAY, HOUR, dateOf, fmtDay, fmtTime } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';

export function svgEl(name, attrs, text) {
  var n = document.createElementNS(SVG, name);
  if (attrs) {
    Object.keys(attrs).forEach(function (k) {
      n.setAttribute(k, attrs[k]);
    });
  }
  if (text !== undefined) n.textContent = text;
  return n;
}

export function niceStep(rough) {
  var p = Math.pow(10, Math.floor(Math.log10(rough)));
  var f = rough / p;
  var s = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return s * p;
}

// Time-axis ticks on local wall-clock boundaries (midnights, whole hours).
export function timeTicks(t0, t1, maxTicks) {
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

export function tickLabel(t, unit, first) {
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
export function decimate(points, x, columns) {
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
export function splitAtGaps(readings, gaps) {
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
