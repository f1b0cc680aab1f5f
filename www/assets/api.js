/*
 * api.js: the service's API, as the page uses it.
 *
 *   GET /readings/read/{id}?limit=2 or ?to=&from=     readReadings
 *   GET /price-plans/compare-all/{id}?to=&from=        compareAll
 *   GET /price-plans                                   loadPlanNames, planNames
 *
 * A meter's reads take its read key, when the page has one, sent as
 * `Authorization: Bearer KEY` (never in the URL); without one a meter that has a
 * key answers 401, an ApiError with status 401.
 *
 * Rules: the only module that calls fetch, and only for same-origin paths (the
 * page's Content-Security-Policy allows no other). Every request is a GET for JSON
 * that gives up after REQUEST_TIMEOUT_MS and is aborted by the caller's
 * AbortController. A failure rejects with an ApiError (kind 'http' with the
 * status and the problem's title and detail, 'network', 'timeout' or
 * 'bad-response'); an abort by the caller rejects with the AbortError itself.
 * No DOM, and no state but the supplier names once loaded.
 */

const REQUEST_TIMEOUT_MS = 15000;

var plans = null; // plan id -> supplier, once loaded

export function ApiError(kind, status, title, detail) {
  this.kind = kind; // 'http', 'network', 'timeout', 'bad-response'
  this.status = status || 0;
  this.title = title || '';
  this.detail = detail || '';
}

function getJson(path, controller, key) {
  var timedOut = false;
  var timer = setTimeout(function () {
    timedOut = true;
    controller.abort();
  }, REQUEST_TIMEOUT_MS);
  var headers = { Accept: 'application/json' };
  if (key) headers.Authorization = 'Bearer ' + key;
  return fetch(path, {
    headers: headers,
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

// A meter's readings, oldest first; query is 'limit=N' or 'to=T[&from=F]'; key is
// the meter's read key or null.
export function readReadings(meter, query, controller, key) {
  return getJson(meterPath('/readings/read/', meter, query), controller, key);
}

// What each plan would have cost the meter for the period in query ('to=T[&from=F]').
export function compareAll(meter, query, controller, key) {
  return getJson(meterPath('/price-plans/compare-all/', meter, query), controller, key);
}

// The supplier of each plan id, fetched once. Resolves to null when they could not
// be loaded (a later call tries again); rejects only with an AbortError.
export function loadPlanNames(controller) {
  if (plans) return Promise.resolve(plans);
  // Supplier names only decorate the plan ids: without them the page still works.
  return getJson('/price-plans', controller).then(function (list) {
    var names = {};
    if (Array.isArray(list)) {
      list.forEach(function (p) {
        if (p && typeof p.id === 'string') names[p.id] = typeof p.supplier === 'string' ? p.supplier : '';
      });
    }
    plans = names;
    return names;
  }, function (e) {
    if (e && e.name === 'AbortError') throw e;
    return null;
  });
}

// The supplier names loadPlanNames has loaded, or null before that.
export function planNames() {
  return plans;
}
