// The admin UI works without this script; it only makes some screens
// livelier. Forms marked data-live-count recount as they change, by posting
// the form with do=count and taking the count from the page that comes back
// (the same page a browser without scripts gets); the HTML editor puts the
// cursor on the line a save error is about; merge-tag pickers insert tags.
(function () {
  'use strict';

  function liveCount(form) {
    var target = form.querySelector('[data-count]');
    if (!target || !window.fetch || !window.DOMParser) return;
    var timer = null, seq = 0;
    function recount() {
      var body = new URLSearchParams(new FormData(form));
      body.set('do', 'count');
      var mine = ++seq;
      fetch(form.action, { method: 'POST', body: body, credentials: 'same-origin' })
        .then(function (res) { return res.text(); })
        .then(function (html) {
          if (mine !== seq) return; // a later change already asked again
          var doc = new DOMParser().parseFromString(html, 'text/html');
          var fresh = doc.querySelector('[data-count]');
          if (fresh) target.replaceChildren.apply(target, Array.from(fresh.childNodes).map(function (n) { return document.importNode(n, true); }));
        })
        .catch(function () { /* the Count button still works */ });
    }
    function later() {
      clearTimeout(timer);
      timer = setTimeout(recount, 400);
    }
    form.addEventListener('change', later);
    form.addEventListener('input', later);
  }

  function showErrorLine(area) {
    var line = parseInt(area.getAttribute('data-error-line'), 10);
    if (!(line > 0)) return;
    var lines = area.value.split('\n'), start = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
    var end = start + (lines[line - 1] || '').length;
    area.focus();
    area.setSelectionRange(start, end);
    var lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 18;
    area.scrollTop = Math.max(0, (line - 3) * lineHeight);
  }

  // copyButton copies the address in the input it names; without
  // JavaScript it stays hidden and the address is selected by hand.
  function copyButton(button) {
    var input = document.getElementById(button.getAttribute('data-copy'));
    if (!input) return;
    button.hidden = false;
    button.addEventListener('click', function () {
      input.select();
      var done = function () { button.textContent = 'Copied'; };
      if (navigator.clipboard) navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand('copy'); done(); });
      else { document.execCommand('copy'); done(); }
    });
  }

  // A merge-tag picker (the message's subject and preheader) inserts the
  // chosen tag at the cursor of its input; without JavaScript the tags are
  // listed as text to type instead.
  function mergePicker(box) {
    var input = document.getElementById(box.getAttribute('data-for'));
    var tools = box.querySelector('.merge-tools'), select = box.querySelector('select'), button = box.querySelector('button');
    if (!input || !tools || !select || !button || !input.setRangeText) return;
    button.addEventListener('click', function () {
      var start = input.selectionStart, end = input.selectionEnd;
      if (start === null || end === null) { start = end = input.value.length; }
      input.setRangeText(select.value, start, end, 'end');
      input.focus();
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    tools.hidden = false;
    var text = box.querySelector('.merge-text');
    if (text) text.hidden = true;
  }

  // A schedule's time zone starts as the browser's, when the list has it.
  function browserZone(box) {
    var select = box.querySelector('select'), zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!select || !zone) return;
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === zone) { select.value = zone; return; }
    }
  }

  // The segment builder: its add and remove buttons, and a change of what a
  // rule is about or how it compares, draw the rules again in place from the
  // page the server answers (the one a browser without scripts gets), then
  // put the cursor back and recount.
  function segmentBuilder(form) {
    var area = form.querySelector('[data-builder]');
    if (!area || !window.fetch || !window.DOMParser) return;
    var plain = false; // after a failed fetch, buttons post the page as without a script
    var seq = 0;
    function redraw(action, focusID, button) {
      var body = new URLSearchParams(new FormData(form));
      body.set('do', action);
      var mine = ++seq;
      area.setAttribute('aria-busy', 'true');
      fetch(form.action, { method: 'POST', body: body, credentials: 'same-origin' })
        .then(function (res) { return res.text(); })
        .then(function (html) {
          if (mine !== seq) return; // a later change asked again
          area.removeAttribute('aria-busy');
          var fresh = new DOMParser().parseFromString(html, 'text/html').querySelector('[data-builder]');
          if (!fresh) return;
          area.replaceChildren.apply(area, Array.from(fresh.childNodes).map(function (n) { return document.importNode(n, true); }));
          var target = area.querySelector('[autofocus]') || (focusID && document.getElementById(focusID));
          if (target) target.focus();
          form.dispatchEvent(new Event('change')); // the live count follows
        })
        .catch(function () {
          area.removeAttribute('aria-busy');
          if (button) { plain = true; button.click(); }
        });
    }
    form.addEventListener('click', function (e) {
      var b = e.target.closest && e.target.closest('button[name=do]');
      if (plain || !b || !/^(add|group|remove):/.test(b.value)) return;
      e.preventDefault();
      redraw(b.value, null, b);
    });
    form.addEventListener('change', function (e) {
      if (e.target !== form && e.target.matches('[data-redraw]')) redraw('redraw', e.target.id);
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('[data-browser-zone]').forEach(browserZone);
    document.querySelectorAll('form[data-builder-form]').forEach(segmentBuilder);
    document.querySelectorAll('form[data-live-count]').forEach(liveCount);
    document.querySelectorAll('button[data-copy]').forEach(copyButton);
    document.querySelectorAll('.merge-picker[data-for]').forEach(mergePicker);
    document.querySelectorAll('textarea[data-error-line]').forEach(showErrorLine);
  });
})();
