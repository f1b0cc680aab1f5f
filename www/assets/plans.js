/*
 * plans.js: the "What each plan would have cost" card: the saving in words, the
 * bar chart of the plans cheapest first with the meter's own plan marked, and the
 * same costs as a visually hidden table.
 *
 * Rules: writes only into the card's elements it is handed (el.saving, el.plansChart,
 * el.plansCaption, el.plansTable), always replacing what they held, so drawing again
 * (a resize) gives the same card. Costs keep the API's order (cheapest first) and
 * are shown with 2 decimals. Text goes in as text, never as markup. No fetch, no
 * state: the supplier names come in as an argument and may be missing.
 */

import { svgEl } from './chart.js';
import { fixed2, fmtDateTime, spanPhrase } from './format.js';

// "price-plan-2 (Power for Everyone)", or the bare id when its supplier is unknown.
function planName(id, names) {
  var supplier = names && names[id];
  return supplier ? id + ' (' + supplier + ')' : id;
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

function savingSentence(list, current, usage, names) {
  var over = 'over ' + spanPhrase(usage.to - usage.from);
  var cheapest = list[0];
  var mine = null;
  list.forEach(function (p) {
    if (p.id === current) mine = p;
  });
  if (!mine) {
    return (current ? 'Your plan ' + current + ' could not be priced. ' : 'This meter has no price plan on record. ') +
      'The cheapest plan ' + over + ' would have been ' + planName(cheapest.id, names) + ', at ' + fixed2(cheapest.cost) + '.';
  }
  var saving = mine.cost - cheapest.cost;
  if (mine.id === cheapest.id || saving < 0.005) {
    return 'You are already on the cheapest plan ' + over + ': ' + planName(mine.id, names) + '.';
  }
  return 'Switching to ' + planName(cheapest.id, names) + ' would have saved ' + fixed2(saving) + ' ' + over + '.';
}

export function renderPlans(el, c, names) {
  var usage = c.usage || {};
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
  el.saving.textContent = savingSentence(list, current, usage, names);

  var width = Math.max(280, Math.floor(box.clientWidth || 600));
  var maxCost = 0;
  list.forEach(function (p) {
    if (p.cost > maxCost) maxCost = p.cost;
  });

  var label = 'Bar chart of what each plan would have cost, cheapest first: ' + list.map(function (p) {
    return planName(p.id, names) + ' ' + fixed2(p.cost) + (p.id === current ? ' (your plan)' : '');
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
    var supplier = names && names[p.id];
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
