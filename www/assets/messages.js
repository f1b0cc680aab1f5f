/*
 * messages.js: the sentences of the status line, the live region and the tab title:
 * what the page says instead of the charts, while loading, and once they are shown.
 *
 * Rules: pure functions and constants returning plain text: no DOM, no fetch, no
 * state. A failure is told in words a customer can act on, never as the problem
 * document or its JSON; a meter id is quoted as typed.
 */

import { RANGE_NAMES } from './format.js';

export const WELCOME = 'Enter your meter id to see your usage and what each price plan would cost you.';
export const NO_METER = 'Please enter your meter id.';

function quoted(id) {
  return '\u201c' + id + '\u201d';
}

// The answer to an id that does not follow the meter-id rule (it is never sent).
export function notMeterIdSentence(meter) {
  return quoted(meter) + ' is not a meter id. A meter id is 1 to 64 letters, digits, dots, ' +
    'dashes or underscores, as printed on your smart meter.';
}

export function loadingSentence(meter) {
  return 'Loading meter ' + quoted(meter) + '\u2026';
}

// For screen readers, once a period is drawn.
export function shownSentence(meter, range) {
  return 'Showing meter ' + meter + ', ' + RANGE_NAMES[range] + '.';
}

// The tab title: the page's own, or with the meter shown.
export const PAGE_TITLE = 'Your electricity \u2014 JOI Energy';

export function meterTitle(meter) {
  return meter + ' \u2014 ' + PAGE_TITLE;
}

// The answer to a 401: the meter's readings need its read key; wrong: the key the
// page sent was not it.
export function keySentence(meter, wrong) {
  if (wrong) {
    return 'That key does not open meter ' + quoted(meter) + '. Please check it and enter it again.';
  }
  return 'The readings of meter ' + quoted(meter) + ' are private. Please enter its read key.';
}

// The status line once the key is forgotten.
export function keyForgottenSentence(meter) {
  return 'The read key of meter ' + quoted(meter) + ' is forgotten in this tab.';
}

// A plain sentence for a failure; never the problem document itself.
export function errorSentence(err, meter, ctx) {
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
    case 401:
      return keySentence(meter, false);
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
