// The only script of `repro ui`'s pages, served as /<token>/assets/ui.js: it draws the Vega-Lite
// charts whose specs a page carries, and keeps the progress of a running run up to date. Everything
// else is plain server-rendered HTML that works without it. It talks only to its own server.
export const CLIENT_JS = `'use strict';
(function () {
  function draw(el) {
    var data = document.getElementById(el.getAttribute('data-spec'));
    if (!data || !window.vega || !window.vegaLite) return;
    var spec = JSON.parse(data.textContent);
    var view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'svg', container: el, hover: true });
    view.runAsync().then(function () { el.setAttribute('data-drawn', 'true'); });
  }
  function poll(el) {
    var url = el.getAttribute('data-live');
    fetch(url, { cache: 'no-store' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) return;
        el.textContent = p.text;
        if (p.status === 'running') setTimeout(function () { poll(el); }, 2000);
        else if (el.hasAttribute('data-reload')) location.reload();
      })
      .catch(function () { setTimeout(function () { poll(el); }, 5000); });
  }
  document.querySelectorAll('.chart[data-spec]').forEach(draw);
  document.querySelectorAll('[data-live]').forEach(function (el) { setTimeout(function () { poll(el); }, 2000); });
})();
`;
