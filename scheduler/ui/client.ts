/**
 * The status page's script (served as `/ui/assets/app.js`): logs in with the API token kept in
 * sessionStorage, reads `/v1/workloads`, `/v1/regions` and `/ui/api/geodns` with it as a bearer
 * header, and follows `/v1/watch` over a streaming fetch (EventSource cannot send headers), drawing
 * the regions on a d3-geo map in SVG. Plain browser JavaScript: no template literals inside, so it
 * can live in a raw string.
 */
export const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var TOKEN_KEY = 'meridian.apiToken';
  var SVG = 'http://www.w3.org/2000/svg';
  var W = 960, H = 490;
  var state = {
    token: sessionStorage.getItem(TOKEN_KEY) || '',
    authRequired: true,
    endpoints: new Map(),   // workload name -> its record from the watch stream
    views: new Map(),       // workload name -> GET /v1/workloads item
    regions: new Map(),     // cloud/region -> GET /v1/regions item
    geodns: null,
    revision: null, stateId: null,
    watch: null, timers: [], refreshTimer: null, projection: null, running: false,
    session: 0,             // bumped by each start, so a watch loop of an earlier login ends
  };
  var $ = function (id) { return document.getElementById(id); };

  function AuthError() { this.name = 'AuthError'; }

  function headers() {
    return state.token ? { authorization: 'Bearer ' + state.token } : {};
  }

  async function api(path, signal) {
    var res = await fetch(path, { headers: headers(), signal: signal, cache: 'no-store' });
    if (res.status === 401) throw new AuthError();
    if (!res.ok) throw new Error(path + ' answered ' + res.status);
    return res.json();
  }

  function el(tag, attrs) {
    var node = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') node.textContent = attrs[k];
      else if (k === 'className') node.className = attrs[k];
      else if (attrs[k] !== undefined && attrs[k] !== null) node.setAttribute(k, String(attrs[k]));
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return node;
  }

  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    for (var k in attrs || {}) node.setAttribute(k, String(attrs[k]));
    return node;
  }

  function setConn(s, text) {
    var c = $('conn');
    c.dataset.state = s;
    c.textContent = text;
  }

  // ---- login ----

  function showLogin(message) {
    stop();
    $('main').hidden = true;
    $('logout').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    setConn('idle', 'not connected');
    $('token').focus();
  }

  async function boot() {
    try {
      await api('/v1/workloads');
    } catch (e) {
      if (e instanceof AuthError) {
        showLogin(state.token ? 'The scheduler did not accept this token.' : '');
        return;
      }
      setConn('reconnecting', 'scheduler unreachable, retrying');
      state.timers.push(setTimeout(boot, 2000));
      return;
    }
    // Answered without a token: the scheduler runs without one, and there is no login.
    state.authRequired = !!state.token;
    start();
  }

  $('login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    state.token = $('token').value.trim();
    $('token').value = '';
    if (state.token) sessionStorage.setItem(TOKEN_KEY, state.token);
    boot();
  });

  $('logout').addEventListener('click', function () {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = '';
    showLogin('Logged out.');
  });

  // ---- lifecycle ----

  function start() {
    $('login').hidden = true;
    $('main').hidden = false;
    $('logout').hidden = !state.authRequired;
    state.running = true;
    state.session++;
    drawLand();
    refresh();
    refreshGeoDns();
    watch();
    state.timers.push(setInterval(refresh, 5000));
    state.timers.push(setInterval(refreshGeoDns, 5000));
  }

  function stop() {
    state.running = false;
    if (state.watch) state.watch.abort();
    state.watch = null;
    state.timers.forEach(function (t) { clearTimeout(t); clearInterval(t); });
    state.timers = [];
    state.endpoints.clear();
    state.views.clear();
    state.revision = null;
    state.stateId = null;
  }

  function lost(e) {
    if (e instanceof AuthError) showLogin('The scheduler no longer accepts this token.');
  }

  async function refresh() {
    if (!state.running) return;
    try {
      var got = await Promise.all([api('/v1/workloads'), api('/v1/regions')]);
      state.views = new Map(got[0].items.map(function (w) { return [w.name, w]; }));
      state.regions = new Map(got[1].items.map(function (r) { return [r.cloud + '/' + r.id, r]; }));
      render();
    } catch (e) { lost(e); }
  }

  // Coalesces the refreshes a burst of watch events asks for.
  function refreshSoon() {
    if (state.refreshTimer) return;
    state.refreshTimer = setTimeout(function () { state.refreshTimer = null; refresh(); }, 150);
  }

  async function refreshGeoDns() {
    if (!state.running) return;
    try {
      state.geodns = (await api('/ui/api/geodns')).items;
      renderGeoDns();
    } catch (e) { lost(e); }
  }

  // ---- watch stream over fetch (EventSource cannot send the Authorization header) ----

  async function watch() {
    var session = state.session;
    var current = function () { return state.running && state.session === session; };
    while (current()) {
      var ctl = new AbortController();
      state.watch = ctl;
      var url = '/v1/watch';
      if (state.stateId !== null && state.revision !== null) {
        url += '?stateId=' + encodeURIComponent(state.stateId) + '&since=' + state.revision;
      }
      try {
        var res = await fetch(url, { headers: headers(), signal: ctl.signal, cache: 'no-store' });
        if (res.status === 401) throw new AuthError();
        if (!res.ok || !res.body) throw new Error('watch answered ' + res.status);
        setConn('live', 'live');
        var reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        var buf = '';
        while (true) {
          var step = await reader.read();
          if (step.done) break;
          buf += step.value;
          var end;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            var frame = buf.slice(0, end);
            buf = buf.slice(end + 2);
            if (current()) onFrame(frame);
          }
        }
      } catch (e) {
        if (e instanceof AuthError) { if (current()) lost(e); return; }
        if (!current()) return;
      }
      if (!current()) return;
      setConn('reconnecting', 'reconnecting');
      await new Promise(function (r) { state.timers.push(setTimeout(r, 1000)); });
    }
  }

  function onFrame(frame) {
    var type = 'message', data = [];
    frame.split('\n').forEach(function (line) {
      if (line.startsWith(':')) return;
      var i = line.indexOf(':');
      var field = i < 0 ? line : line.slice(0, i);
      var value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    });
    if (data.length === 0) return;
    var e = JSON.parse(data.join('\n'));
    if (type === 'snapshot') {
      state.stateId = e.stateId;
      state.endpoints = new Map(e.workloads.map(function (w) { return [w.name, w]; }));
    } else if (type === 'upsert') {
      state.endpoints.set(e.workload.name, e.workload);
    } else if (type === 'delete') {
      state.endpoints.delete(e.name);
    } else return;
    state.revision = e.revision;
    $('revision').textContent = 'revision ' + e.revision;
    // The stream is the freshest word on the health of the regions it names.
    state.endpoints.forEach(function (w) {
      w.regions.forEach(function (r) {
        var known = state.regions.get(r.cloud + '/' + r.region);
        if (known && type !== 'snapshot') known.healthy = r.healthy;
      });
    });
    render();
    refreshSoon();
  }

  // ---- rendering ----

  function drawLand() {
    if (state.projection) return;
    state.projection = d3.geoNaturalEarth1().fitExtent([[6, 6], [W - 6, H - 6]], { type: 'Sphere' });
    var path = d3.geoPath(state.projection);
    var land = $('land');
    land.appendChild(svg('path', { class: 'sphere', d: path({ type: 'Sphere' }) }));
    land.appendChild(svg('path', { class: 'graticule', d: path(d3.geoGraticule10()), fill: 'none', stroke: '#fff', 'stroke-width': 0.4 }));
    fetch('assets/countries-110m.json').then(function (r) { return r.json(); }).then(function (world) {
      topojson.feature(world, world.objects.countries).features.forEach(function (f) {
        var d = path(f);
        if (d) land.appendChild(svg('path', { class: 'country', d: d }));
      });
      $('map').dataset.land = 'drawn';
    });
  }

  // Every region a workload is placed in or has instances in: replicas from the stream, health and breaker from /v1/regions.
  function regionsInUse() {
    var out = new Map();
    var touch = function (cloud, region) {
      var k = cloud + '/' + region;
      var r = out.get(k);
      if (!r) { r = { key: k, cloud: cloud, region: region, replicas: 0, ready: 0, byWorkload: new Map() }; out.set(k, r); }
      return r;
    };
    state.endpoints.forEach(function (w) {
      w.regions.forEach(function (er) {
        var r = touch(er.cloud, er.region);
        r.lat = er.lat; r.lon = er.lon; r.streamHealthy = er.healthy;
        r.replicas += er.instances.length;
        r.ready += er.instances.filter(function (i) { return i.healthy; }).length;
        r.byWorkload.set(w.name, (r.byWorkload.get(w.name) || 0) + er.instances.length);
      });
    });
    state.views.forEach(function (v) {
      ((v.placement && v.placement.assignments) || []).forEach(function (a) {
        var r = touch(a.cloud, a.region);
        if (!r.byWorkload.has(v.name)) r.byWorkload.set(v.name, 0);
      });
    });
    return out;
  }

  function healthOf(key, fallback) {
    var r = state.regions.get(key);
    return { healthy: r ? r.healthy : fallback !== false, breaker: r ? r.breaker : 'closed', info: r };
  }

  function render() {
    var used = regionsInUse();
    renderMap(used);
    renderWorkloads(used);
    renderRegions(used);
  }

  function renderMap(used) {
    if (!state.projection) return;
    var g = $('markers');
    var nodes = [];
    var all = new Map(state.regions);
    used.forEach(function (u, k) { if (!all.has(k) && u.lat !== undefined) all.set(k, { cloud: u.cloud, id: u.region, name: u.region, lat: u.lat, lon: u.lon }); });
    // Idle regions first so those in use are drawn over them.
    var keys = Array.from(all.keys()).sort(function (a, b) { return (used.has(a) ? 1 : 0) - (used.has(b) ? 1 : 0) || a.localeCompare(b); });
    keys.forEach(function (k) {
      var r = all.get(k), u = used.get(k), h = healthOf(k, u && u.streamHealthy);
      var p = state.projection([r.lon, r.lat]);
      if (!p) return;
      var cls = u ? (h.healthy ? 'healthy' : 'unhealthy') : (h.healthy ? 'idle' : 'idle down');
      var replicas = u ? u.replicas : 0;
      var node = svg('g', {
        class: 'region ' + cls + (h.breaker === 'open' ? ' open' : ''), transform: 'translate(' + p[0].toFixed(1) + ',' + p[1].toFixed(1) + ')',
        'data-region': k, 'data-health': h.healthy ? 'healthy' : 'unhealthy', 'data-breaker': h.breaker,
        'data-in-use': u ? 'true' : 'false', 'data-replicas': replicas,
      });
      node.appendChild(svg('circle', { r: u ? (6 + 2.2 * Math.sqrt(replicas)).toFixed(1) : (h.healthy ? 2.5 : 4.5) }));
      if (u) {
        var t = svg('text', {});
        t.textContent = String(replicas);
        node.appendChild(t);
      }
      var title = svg('title', {});
      var parts = [k + (r.name && r.name !== r.id ? ' (' + r.name + ')' : '')];
      if (u) parts.push(replicas + ' replicas' + (u.byWorkload.size ? ': ' + Array.from(u.byWorkload).map(function (x) { return x[0] + ' ' + x[1]; }).join(', ') : ''));
      parts.push(h.healthy ? 'healthy' : 'unhealthy', 'breaker ' + h.breaker);
      title.textContent = parts.join(' · ');
      node.appendChild(title);
      nodes.push(node);
    });
    g.replaceChildren.apply(g, nodes);
  }

  function renderWorkloads(used) {
    var names = new Set(Array.from(state.views.keys()).concat(Array.from(state.endpoints.keys())));
    var rows = Array.from(names).sort().map(function (name) {
      var v = state.views.get(name), ep = state.endpoints.get(name);
      var s = v ? v.status : null;
      var chips = el('td', {});
      ((ep && ep.regions) || []).forEach(function (r) {
        var k = r.cloud + '/' + r.region;
        var h = healthOf(k, r.healthy);
        chips.appendChild(el('span', { className: 'chip' + (h.healthy ? '' : ' unhealthy'), 'data-region': k, 'data-replicas': r.instances.length },
          k + ' ×' + r.instances.length));
      });
      var converged = s ? (s.converged ? el('span', { className: 'yes', text: 'yes' })
        : el('span', { className: 'no', title: s.reasons.map(function (x) { return x.message; }).join('\n'), text: 'no' + (s.reasons[0] ? ': ' + s.reasons[0].code : '') })) : '';
      return el('tr', { 'data-workload': name, 'data-ready': s ? s.ready : '', 'data-desired': s ? s.desired : '', 'data-converged': s ? String(s.converged) : '' },
        el('td', { text: name + (v && v.deleting ? ' (deleting)' : '') }),
        el('td', { text: v && v.spec ? String(v.spec.policy) : '' }),
        el('td', { text: s ? s.ready + ' / ' + s.desired : '' }),
        el('td', { text: s ? String(s.pending) : '' }),
        el('td', { text: s ? String(s.terminating) : '' }),
        el('td', {}, converged),
        chips);
    });
    var body = $('workloads').tBodies[0];
    body.replaceChildren.apply(body, rows.length ? rows : [el('tr', {}, el('td', { colspan: 7, className: 'muted', text: 'no workloads' }))]);
  }

  // The regions in use, and any other the scheduler holds for failing (an outage it moved every replica out of).
  function renderRegions(used) {
    var shown = new Map(used);
    state.regions.forEach(function (r, k) {
      if (!shown.has(k) && (!r.healthy || r.breaker === 'open')) shown.set(k, { key: k, cloud: r.cloud, region: r.id, replicas: 0, ready: 0, byWorkload: new Map() });
    });
    var rows = Array.from(shown.values()).sort(function (a, b) { return a.key.localeCompare(b.key); }).map(function (u) {
      var h = healthOf(u.key, u.streamHealthy), info = h.info;
      return el('tr', { 'data-region': u.key, 'data-health': h.healthy ? 'healthy' : 'unhealthy', 'data-breaker': h.breaker, 'data-replicas': u.replicas },
        el('td', { text: u.key }),
        el('td', { text: info ? info.name + ', ' + info.country : '' }),
        el('td', { className: h.healthy ? 'yes' : 'no', text: h.healthy ? 'healthy' : 'unhealthy' }),
        el('td', { className: h.breaker === 'open' ? 'no' : '', text: h.breaker }),
        el('td', { text: u.replicas + (u.byWorkload.size ? ' (' + Array.from(u.byWorkload).map(function (x) { return x[0] + ' ' + x[1]; }).join(', ') + ')' : '') }),
        el('td', { className: 'muted', text: (info && info.lastError) || '' }));
    });
    var body = $('regions').tBodies[0];
    body.replaceChildren.apply(body, rows.length ? rows : [el('tr', {}, el('td', { colspan: 6, className: 'muted', text: 'no region in use' }))]);
  }

  function age(ms) {
    if (ms === null || ms <= 0) return 'no data yet';
    var s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 120) return s + ' s ago';
    if (s < 7200) return Math.round(s / 60) + ' min ago';
    if (s < 172800) return Math.round(s / 3600) + ' h ago';
    return Math.round(s / 86400) + ' days ago';
  }

  function renderGeoDns() {
    var box = $('geodns');
    var list = state.geodns || [];
    if (list.length === 0) {
      box.replaceChildren(el('p', { className: 'muted' }, 'No GeoDNS admin API configured (', el('code', { text: 'ui.geoDnsAdminUrls' }), ').'));
      return;
    }
    box.replaceChildren(el('div', { className: 'servers' }, ...list.map(function (s) {
      var card = el('div', { className: 'server', 'data-geodns': s.url, 'data-reachable': String(s.reachable), 'data-driving': s.driving || '' },
        el('h3', { text: s.url }),
        s.reachable ? el('p', {}, 'driving: ', el('strong', { text: s.driving })) : el('p', { className: 'no', text: 'unreachable: ' + (s.error || '') }));
      if (s.channels && s.channels.length) {
        card.appendChild(el('table', {},
          el('thead', {}, el('tr', {}, el('th', { text: 'Channel' }), el('th', { text: 'State' }), el('th', { text: 'Prefixes' }), el('th', { text: 'Last data' }))),
          el('tbody', {}, ...s.channels.map(function (c) {
            return el('tr', { 'data-channel': c.name, 'data-state': c.state, title: c.lastError || '' },
              el('td', { text: c.name + ' (' + c.kind + ')' + (c.driving ? ' ★' : '') }),
              el('td', { className: c.state === 'up' ? 'yes' : (c.state === 'starting' ? '' : 'no'), text: c.state }),
              el('td', { text: c.prefixes.toLocaleString('en') }),
              // The static fallback's data is the dataset shipped with the server: its date, not an age.
              el('td', { text: c.kind === 'static' ? (c.lastDataAt > 0 ? 'dated ' + new Date(c.lastDataAt).toISOString().slice(0, 10) : 'shipped') : age(c.lastDataAt) }));
          }))));
      }
      return card;
    })));
  }

  boot();
})();
`;
