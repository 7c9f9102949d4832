/** The portal page's script (served as app.js). Plain browser JavaScript; every text goes through textContent. */
export const CLIENT_SCRIPT = String.raw`'use strict';
(function () {
  var base = document.body.dataset.base || '/';
  var token = null, me = null, shownKey = null;
  var $ = function (id) { return document.getElementById(id); };
  function say(text) { $('message').textContent = text || ''; }
  function el(tag, text) { var e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = String(text); return e; }
  function call(method, path, body) {
    var headers = { 'content-type': 'application/json' };
    if (token) headers.authorization = token;
    return fetch(base + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined, credentials: 'omit' })
      .then(function (r) { return r.json().catch(function () { return {}; }).then(function (j) { if (!r.ok) { var e = new Error(j.message || ('HTTP ' + r.status)); e.status = r.status; throw e; } return j; }); });
  }
  // An AWS Marketplace buyer arrives by a POST to the fulfillment URL: the page holds their registration
  // token, kept in this tab only (sessionStorage, no cookie) until they are signed in, then sent once.
  var MP_KEY = 'keygate.marketplaceToken';
  function pendingToken() { try { return sessionStorage.getItem(MP_KEY); } catch (e) { return null; } }
  function dropToken() { try { sessionStorage.removeItem(MP_KEY); } catch (e) { /* nothing kept */ } }
  (function carryToken() {
    var t = document.body.dataset.marketplaceToken;
    if (t) { try { sessionStorage.setItem(MP_KEY, t); } catch (e) { /* private mode: the link needs this tab */ } delete document.body.dataset.marketplaceToken; history.replaceState(null, '', base); }
    if (document.body.dataset.message) say(document.body.dataset.message);
    else if (pendingToken()) say('Sign up or sign in to finish your AWS Marketplace subscription.');
  })();
  function linkMarketplace() {
    var t = pendingToken(); if (!t) return;
    call('POST', 'api/subscription/marketplace', { token: t }).then(function (r) {
      dropToken(); showKey(r.value || null); say('Your AWS Marketplace subscription is linked: ' + r.tier + '.'); refresh();
    }, function (e) { if (e.status === 400 || e.status === 404) dropToken(); say(e.message); });
  }
  function creds() { return { email: $('email').value, password: $('password').value }; }
  function claimsOf(t) { var p = t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'); return JSON.parse(decodeURIComponent(escape(atob(p)))); }
  function showKey(value) { shownKey = value; $('key-value').textContent = value; $('key-box').hidden = !value; }
  $('sign-up').onclick = function () { call('POST', 'auth/sign-up', creds()).then(function () { $('confirm-box').hidden = false; say('We sent you a confirmation code.'); }, function (e) { say(e.message); }); };
  $('confirm').onclick = function () { call('POST', 'auth/confirm', { email: $('email').value, code: $('code').value }).then(function () { $('confirm-box').hidden = true; say('Confirmed: sign in now.'); }, function (e) { say(e.message); }); };
  $('sign-in').onclick = function () {
    call('POST', 'auth/sign-in', creds()).then(function (r) {
      token = r.idToken; me = claimsOf(token); $('password').value = '';
      $('who').textContent = me.email; $('sign-out').hidden = false; $('auth').hidden = true; $('consumer').hidden = false;
      var groups = [].concat(me['cognito:groups'] || []);
      $('admin').hidden = groups.indexOf('admins') < 0; say(''); refresh(); linkMarketplace();
    }, function (e) { say(e.message); });
  };
  // Signing out forgets the token and clears everything the previous user saw.
  $('sign-out').onclick = function () {
    token = null; me = null; showKey(null); say(''); dropToken();
    ['subscription', 'tiers', 'api-url', 'who'].forEach(function (id) { $(id).textContent = ''; });
    ['usage', 'reference', 'consumers'].forEach(function (id) { $(id).tBodies[0].textContent = ''; });
    $('auth').hidden = false; $('consumer').hidden = true; $('admin').hidden = true; $('sign-out').hidden = true;
  };
  $('copy-key').onclick = function () { if (navigator.clipboard) navigator.clipboard.writeText(shownKey || '').then(function () { say('Copied.'); }, function () { say('Select the key and copy it.'); }); };
  function act(method, path, body, done) { call(method, path, body).then(function (r) { if (done) done(r); refresh(); }, function (e) { say(e.message); }); }
  $('roll').onclick = function () { act('POST', 'api/subscription/roll', null, function (r) { showKey(r.value); say(r.previousKeyRetiresAt ? 'New key made: the previous one works until ' + r.previousKeyRetiresAt + '.' : 'New key made.'); }); };
  $('reveal').onclick = function () { act('POST', 'api/subscription/reveal', null, function (r) { showKey(r.value); }); };
  $('cancel').onclick = function () { act('DELETE', 'api/subscription', null, function () { showKey(null); say('Cancelled: the key no longer works.'); }); };
  $('change-tier').onclick = function () { act('POST', 'api/subscription/tier', { tier: $('tier-select').value }, function (r) { say('Now on ' + r.tier + '.'); }); };
  function renderSubscription(s) {
    var box = $('subscription'); box.textContent = '';
    $('actions').hidden = !s || ['active', 'expired', 'idle'].indexOf(s.status) < 0;
    var rows = $('usage').tBodies[0]; rows.textContent = '';
    if (!s) { box.appendChild(el('p', 'No subscription yet: choose a tier below.')); return; }
    var p = el('p'); p.appendChild(el('strong', s.tier)); p.appendChild(el('span', ' · key id ')); p.appendChild(el('code', s.keyId));
    p.appendChild(el('span', ' · ' + s.status)); p.id = 'subscription-line'; box.appendChild(p);
    if (s.notice) { var n = el('p', s.notice); n.id = 'subscription-notice'; box.appendChild(n); }
    else if (s.expiresAt) box.appendChild(el('p', 'Key expires ' + s.expiresAt));
    if (s.quotaLeft !== null && s.quotaLeft !== undefined) box.appendChild(el('p', 'Quota left this period: ' + s.quotaLeft));
    if (s.previousKeyId) box.appendChild(el('p', 'Previous key ' + s.previousKeyId + ' works until ' + s.previousKeyRetiresAt));
    (s.days || []).filter(function (d) { return d.used > 0; }).forEach(function (d) { var tr = el('tr'); tr.appendChild(el('td', d.date)); tr.appendChild(el('td', d.used)); rows.appendChild(tr); });
  }
  function renderTiers(tiers, subscribed) {
    var ul = $('tiers'), sel = $('tier-select'); ul.textContent = ''; sel.textContent = '';
    tiers.forEach(function (t) {
      var li = el('li'); li.appendChild(el('strong', t.name)); li.appendChild(el('span', ' — ' + t.limits + (t.description ? ' — ' + t.description : '') + (t.approval ? ' (needs approval)' : '')));
      var b = el('button', 'Subscribe'); b.dataset.tier = t.name; b.disabled = subscribed;
      b.onclick = function () { act('POST', 'api/subscription', { tier: t.name }, function (r) { showKey(r.value || null); say(r.status === 'pending' ? 'Requested: an admin will approve it.' : 'Subscribed.'); }); };
      li.appendChild(el('span', ' ')); li.appendChild(b); ul.appendChild(li);
      var o = el('option', t.name); o.value = t.name; sel.appendChild(o);
    });
  }
  function renderReference(ref) {
    $('api-url').textContent = ref.apiUrl; var rows = $('reference').tBodies[0]; rows.textContent = '';
    ref.routes.forEach(function (r) {
      var tr = el('tr'); tr.appendChild(el('td', r.method)); tr.appendChild(el('td', r.path)); tr.appendChild(el('td', r.apiKeyRequired ? 'yes' : 'no'));
      var td = el('td'); td.appendChild(el('code', shownKey ? r.curl.replace('$KEY', shownKey) : r.curl)); tr.appendChild(td); rows.appendChild(tr);
    });
  }
  function renderConsumers(list) {
    var rows = $('consumers').tBodies[0]; rows.textContent = '';
    list.forEach(function (c) {
      var tr = el('tr'); [c.email, c.tier, c.keyId, c.status, c.used30Days].forEach(function (v) { tr.appendChild(el('td', v)); });
      var td = el('td');
      ({ pending: ['approve', 'refuse'], active: ['disable'], expired: ['disable'], idle: ['disable'], disabled: ['enable'] }[c.status] || []).forEach(function (a) {
        var b = el('button', a); b.dataset.key = c.keyId; b.dataset.action = a; b.onclick = function () { act('POST', 'api/admin/consumers/' + encodeURIComponent(c.keyId) + '/' + a); }; td.appendChild(b);
      });
      tr.appendChild(td); rows.appendChild(tr);
    });
  }
  function refresh() {
    if (!token) return;
    Promise.all([call('GET', 'api/subscription'), call('GET', 'api/tiers'), call('GET', 'api/reference')]).then(function (r) {
      var s = r[0].subscription; renderSubscription(s); renderTiers(r[1].tiers, !!s); renderReference(r[2]);
    }, function (e) { say(e.message); });
    if (!$('admin').hidden) call('GET', 'api/admin/consumers').then(function (r) { renderConsumers(r.consumers); }, function (e) { say(e.message); });
  }
  window.keygatePortal = { refresh: refresh };
})();
`;
