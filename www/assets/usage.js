/*
 * usage.js: the "Your usage" card: the energy of the period in words, notes on
 * where it starts late or has gaps, and the power chart with its text alternatives.
 *
 * Rules: writes only into the card's elements it is handed (el.usageSummary,
 * el.usageNote, el.powerChart, el.powerCaption, el.powerText), always replacing what
 * they held, so drawing again (a resize) gives the same card. Text goes in as text,
 * never as markup. No fetch, no state.
 */

import { svgEl, niceStep, timeTicks, tickLabel, decimate, splitAtGaps } from './chart.js';
import {
  DAY, HOUR, RANGE_NAMES, dateOf, fixed2, fmtDateTime, fmtDay, fmtDayTime, fmtKw, fmtTime, shortNumber
} from './format.js';

// view: { range, from (null for all readings), readings, compare } as main.js loads it.
export function renderUsage(el, view) {
  var usage = view.compare.usage || {};
  var readings = view.readings;

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

  drawPower(el, readings, usage.gaps || 0);
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

function drawPower(el, readings, gaps) {
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
