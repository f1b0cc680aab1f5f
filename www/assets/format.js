/*
 * format.js: how the page writes numbers, times and periods.
 *
 * Rules: constants and pure functions only: no DOM, no fetch, no state. Times are
 * Unix seconds, shown in the browser's own time zone and locale.
 */

export const HOUR = 3600;
export const DAY = 86400;

// The periods the page offers (seconds back from the latest reading; null: every
// reading) and how a sentence names them.
export const RANGES = { day: 86400, week: 7 * 86400, all: null };
export const RANGE_NAMES = { day: 'the last day', week: 'the last week', all: 'all readings' };

export function fixed2(x) {
  return Number(x).toFixed(2);
}

export function shortNumber(x) {
  // 7, 2.5: at most one decimal, none when whole.
  var r = Math.round(x * 10) / 10;
  return String(r);
}

// "these 7 days", "this 1 day", "these 12 hours": the length of a priced period.
export function spanPhrase(seconds) {
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

export function dateOf(t) {
  return new Date(t * 1000);
}

export function fmtDateTime(t) {
  return dateOf(t).toLocaleString(undefined, {
    weekday: 'short', day: 'numeric', month: 'short', year: 'numeric',
    hour: '2-digit', minute: '2-digit'
  });
}

export function fmtDayTime(t) {
  return dateOf(t).toLocaleString(undefined, {
    weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit'
  });
}

export function fmtTime(t) {
  return dateOf(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

export function fmtDay(t) {
  return dateOf(t).toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
}

export function fmtKw(x) {
  if (x === 0) return '0';
  if (Math.abs(x) >= 100) return String(Math.round(x));
  if (Math.abs(x) >= 10) return shortNumber(x);
  return String(Math.round(x * 100) / 100);
}
