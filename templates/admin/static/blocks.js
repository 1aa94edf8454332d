// The block editor of the message screen (templates/admin/message.html).
// Plain JavaScript, no build step, nothing loaded from elsewhere. It edits
// the blocks of pkg/blocks and posts them as JSON in the form's "blocks"
// field with editor=blocks; the server makes the HTML of them, escaping and
// checking every text and URL. Without this script the screen edits the
// HTML source, and a message saved so keeps no blocks.
(function () {
  'use strict';

  var root = document.getElementById('block-editor');
  if (!root || !window.DOMParser || !window.fetch) return;
  var form = root.closest('form');
  var blocksField = form.querySelector('#f-blocks');
  var editorField = form.querySelector('#f-editor');
  var htmlArea = form.querySelector('#f-html');
  var htmlField = document.getElementById('html-field');
  var list = root.querySelector('.block-list');
  var status = document.getElementById('blocks-status');
  var warning = document.getElementById('switch-warning');
  var publicURL = (root.getAttribute('data-public-url') || '').replace(/\/+$/, '');

  var mergeChoices = Array.prototype.map.call(document.getElementById('merge-source').content.querySelectorAll('option'), function (o) {
    return { label: o.textContent, field: o.value, fallback: o.getAttribute('data-fallback') || '' };
  });
  var petitions = Array.prototype.map.call(document.getElementById('petition-source').content.querySelectorAll('option'), function (o) {
    return { slug: o.value, title: o.textContent };
  });
  var images = Array.prototype.map.call(document.getElementById('image-source').content.querySelectorAll('option'), function (o) {
    return { url: o.value, name: o.textContent, width: o.getAttribute('data-width') || '', height: o.getAttribute('data-height') || '' };
  });
  var kinds = { heading: 'Heading', paragraph: 'Paragraph', list: 'Bulleted list', image: 'Image', button: 'Button',
    divider: 'Divider', signature: 'Signature', share: 'Share links' };
  var seq = 0;
  function uid(what) { seq++; return 'blk' + seq + '-' + what; }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') e.textContent = attrs[k];
      else if (attrs[k] !== undefined && attrs[k] !== null && attrs[k] !== false) e.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  function say(msg) { status.textContent = msg; }

  // ---- Rich text: a contenteditable box whose content is spans. ----

  function mergeLabel(field, fallback) {
    for (var i = 0; i < mergeChoices.length; i++) {
      if (mergeChoices[i].field === field && mergeChoices[i].fallback === (fallback || '')) return mergeChoices[i].label;
    }
    for (var j = 0; j < mergeChoices.length; j++) {
      if (mergeChoices[j].field === field) return mergeChoices[j].label + (fallback ? ', or ' + fallback : '');
    }
    return field;
  }

  function chip(field, fallback) {
    return el('span', { 'class': 'merge-tag', contenteditable: 'false', 'data-merge': field,
      'data-fallback': fallback || '', text: mergeLabel(field, fallback) });
  }

  function fillSpans(box, spans) {
    box.textContent = '';
    (spans || []).forEach(function (s) {
      var node;
      if (s.merge) {
        node = chip(s.merge, s.fallback);
      } else {
        node = document.createDocumentFragment();
        String(s.text || '').split('\n').forEach(function (part, i) {
          if (i) node.appendChild(document.createElement('br'));
          if (part) node.appendChild(document.createTextNode(part));
        });
      }
      if (s.italic) node = el('em', {}, [node]);
      if (s.bold) node = el('strong', {}, [node]);
      if (s.link) node = el('a', { href: s.link }, [node]);
      box.appendChild(node);
    });
  }

  // readSpans reads the spans of an element: text, bold, italic, links,
  // merge tags; problems (when given) collects what spans cannot hold.
  function readSpans(box, problems) {
    var out = [];
    function push(s) {
      var last = out[out.length - 1];
      if (!s.merge && last && !last.merge && !!last.bold === !!s.bold && !!last.italic === !!s.italic && (last.link || '') === (s.link || '')) {
        last.text += s.text;
      } else {
        out.push(s);
      }
    }
    function styled(base, st) {
      if (st.bold) base.bold = true;
      if (st.italic) base.italic = true;
      if (st.link) base.link = st.link;
      return base;
    }
    function walk(node, st) {
      Array.prototype.forEach.call(node.childNodes, function (n) {
        if (n.nodeType === 3) {
          var t = problems ? n.data.replace(/\s+/g, ' ') : n.data.replace(/\u00a0/g, ' ').replace(/\u200b/g, '');
          if (t) pushText(t, st);
          return;
        }
        if (n.nodeType !== 1) return;
        var tag = n.tagName;
        if (n.classList.contains('merge-tag')) {
          push(styled({ merge: n.getAttribute('data-merge'), fallback: n.getAttribute('data-fallback') || undefined }, st));
          return;
        }
        if (tag === 'BR') { push(styled({ text: '\n' }, st)); return; }
        var inner = { bold: st.bold, italic: st.italic, link: st.link };
        if (tag === 'B' || tag === 'STRONG') inner.bold = true;
        else if (tag === 'I' || tag === 'EM') inner.italic = true;
        else if (tag === 'A') inner.link = n.getAttribute('href') || undefined;
        else if ((tag === 'DIV' || tag === 'P') && !problems) { if (out.length) push(styled({ text: '\n' }, st)); }
        else if (tag !== 'SPAN' && problems) problems.push('<' + tag.toLowerCase() + '> inside a text');
        if (!problems) {
          if (n.style && (n.style.fontWeight === 'bold' || parseInt(n.style.fontWeight, 10) >= 600)) inner.bold = true;
          if (n.style && n.style.fontStyle === 'italic') inner.italic = true;
        } else if (n.getAttribute('style')) {
          problems.push('the style of a <' + tag.toLowerCase() + '>');
        }
        walk(n, inner);
      });
    }
    // Merge tags written in HTML source come as placeholders (see fromHTML).
    function pushText(t, st) {
      var parts = t.split(/\u0001(\d+)\u0001/);
      parts.forEach(function (p, i) {
        if (i % 2 === 0) { if (p) push(styled({ text: p }, st)); return; }
        var tag = placeholders[+p];
        if (tag && tag.merge) push(styled({ merge: tag.merge, fallback: tag.fallback || undefined }, st));
        else if (problems) problems.push('a template tag where text goes');
      });
    }
    walk(box, {});
    if (out.length) {
      var first = out[0], last = out[out.length - 1];
      if (!first.merge) first.text = first.text.replace(/^[ \n]+/, '');
      if (!last.merge) last.text = last.text.replace(/[ \n]+$/, '');
    }
    return out.filter(function (s) { return s.merge || s.text; });
  }

  var active = null; // the text box the toolbars act on
  var saved = null; // its last selection
  document.addEventListener('selectionchange', function () {
    var sel = document.getSelection();
    if (!sel.rangeCount) return;
    var r = sel.getRangeAt(0);
    var box = r.startContainer.nodeType === 1 ? r.startContainer : r.startContainer.parentNode;
    box = box && box.closest && box.closest('.rich');
    if (box && list.contains(box)) { active = box; saved = r.cloneRange(); }
  });

  // restore puts the cursor back in box before a toolbar acts: where it is
  // when the selection is still there (a click on a button leaves it),
  // else where it last was, else at the end.
  function restore(box) {
    var sel = document.getSelection();
    var cur = sel.rangeCount ? sel.getRangeAt(0).cloneRange() : null;
    var r = cur && box.contains(cur.startContainer) ? cur : (saved && box.contains(saved.startContainer) ? saved : null);
    box.focus();
    if (!r) {
      r = document.createRange();
      r.selectNodeContents(box);
      r.collapse(false);
    }
    sel.removeAllRanges();
    sel.addRange(r);
  }

  function richBox(label, spans) {
    var id = uid('text');
    var box = el('div', { 'class': 'rich', id: id, contenteditable: 'true', role: 'textbox', 'aria-multiline': 'true', 'aria-label': label, 'data-field': 'content' });
    fillSpans(box, spans);
    box.addEventListener('focus', function () { active = box; });
    box.addEventListener('paste', function (e) {
      // Pasted text comes as text: a page's markup would not survive
      // the blocks anyway.
      e.preventDefault();
      var text = (e.clipboardData || window.clipboardData).getData('text/plain');
      document.execCommand('insertText', false, text);
    });
    return box;
  }

  function toolbar(block, kind) {
    function target() {
      var boxes = block.querySelectorAll('.rich');
      return (active && block.contains(active)) ? active : boxes[0];
    }
    function cmd(name, label, key) {
      var b = el('button', { type: 'button', 'class': 'small secondary', text: label, 'aria-keyshortcuts': key });
      b.addEventListener('click', function () { restore(target()); document.execCommand(name); });
      return b;
    }
    var link = el('button', { type: 'button', 'class': 'small secondary', text: 'Link' });
    link.addEventListener('click', function () {
      var box = target();
      var url = window.prompt('Link the selected text to (https://…, or empty to remove the link):', 'https://');
      restore(box);
      if (url === null) return;
      url = url.trim();
      if (!url || url === 'https://') document.execCommand('unlink');
      else document.execCommand('createLink', false, url);
    });
    var pickID = uid('merge');
    var pick = el('select', { id: pickID });
    mergeChoices.forEach(function (c, i) { pick.appendChild(el('option', { value: String(i), text: c.label })); });
    var insert = el('button', { type: 'button', 'class': 'small secondary', text: 'Insert' , 'aria-label': 'Insert the merge tag' });
    insert.addEventListener('click', function () {
      var c = mergeChoices[+pick.value];
      var box = target();
      restore(box);
      var sel = document.getSelection(), r = sel.getRangeAt(0);
      r.deleteContents();
      // A zero-width space after the tag gives the caret a place to be.
      var tag = chip(c.field, c.fallback), after = document.createTextNode('\u200b');
      r.insertNode(after);
      r.insertNode(tag);
      r.setStartAfter(after);
      r.collapse(true);
      sel.removeAllRanges();
      sel.addRange(r);
      saved = r.cloneRange();
      say(c.label + ' inserted.');
    });
    return el('div', { 'class': 'toolbar', role: 'toolbar', 'aria-label': 'Format the ' + kind.toLowerCase() }, [
      cmd('bold', 'Bold', 'Control+B'), cmd('italic', 'Italic', 'Control+I'), link,
      el('label', { 'for': pickID, 'class': 'merge-label', text: 'Merge tag' }), pick, insert]);
  }

  // ---- Blocks ----

  function input(block, name, label, value, type, more) {
    var id = uid(name);
    var attrs = { id: id, type: type || 'text', value: value || '', 'data-field': name };
    Object.keys(more || {}).forEach(function (k) { attrs[k] = more[k]; });
    var box = el('div', { 'class': 'field' }, [el('label', { 'for': id, text: label }), el('input', attrs)]);
    return box;
  }

  function select(name, label, options, value) {
    var id = uid(name);
    var s = el('select', { id: id, 'data-field': name });
    options.forEach(function (o) { s.appendChild(el('option', { value: o[0], text: o[1], selected: o[0] === value })); });
    return el('div', { 'class': 'field' }, [el('label', { 'for': id, text: label }), s]);
  }

  function petitionOptions(first) {
    return [['', first]].concat(petitions.map(function (p) { return [p.slug, p.title]; }));
  }

  function makeBlock(b) {
    var kind = kinds[b.type] || b.type;
    var block = el('section', { 'class': 'block', role: 'listitem', 'data-type': b.type });
    var title = el('h3', { 'class': 'block-kind', text: kind });
    var up = el('button', { type: 'button', 'class': 'small secondary', text: 'Up', 'data-move': '-1' });
    var down = el('button', { type: 'button', 'class': 'small secondary', text: 'Down', 'data-move': '1' });
    var remove = el('button', { type: 'button', 'class': 'small secondary', text: 'Remove', 'data-remove': '' });
    block.appendChild(el('div', { 'class': 'block-head' }, [title, el('div', { 'class': 'block-moves' }, [up, down, remove])]));
    var body = el('div', { 'class': 'block-body' });
    block.appendChild(body);
    switch (b.type) {
      case 'heading':
        body.appendChild(select('level', 'Size', [['1', 'Large'], ['2', 'Medium'], ['3', 'Small']], String(b.level || 2)));
        body.appendChild(toolbar(block, kind));
        body.appendChild(richBox('Heading text', b.content));
        break;
      case 'paragraph':
        body.appendChild(toolbar(block, kind));
        body.appendChild(richBox('Paragraph text', b.content));
        break;
      case 'list':
        body.appendChild(toolbar(block, kind));
        var items = el('div', { 'class': 'items' });
        body.appendChild(items);
        (b.items && b.items.length ? b.items : [[]]).forEach(function (it) { addItem(items, it); });
        var more = el('button', { type: 'button', 'class': 'small secondary', text: 'Add an item' });
        more.addEventListener('click', function () { addItem(items, []).querySelector('.rich').focus(); });
        body.appendChild(more);
        break;
      case 'image':
        // An image of the library fills in its address and its size in the
        // column; the address can be typed too.
        if (images.length) {
          var pick = select('library', 'Choose from the image library', [['', '— an address, typed below —']].concat(images.map(function (im) { return [im.url, im.name]; })),
            images.some(function (im) { return im.url === b.src; }) ? b.src : '');
          pick.querySelector('select').addEventListener('change', function (e) {
            var im = images.filter(function (x) { return x.url === e.target.value; })[0];
            if (!im) return;
            block.querySelector('[data-field=src]').value = im.url;
            block.querySelector('[data-field=width]').value = im.width;
            block.querySelector('[data-field=height]').value = im.height;
          });
          body.appendChild(pick);
        }
        body.appendChild(input(block, 'src', 'Image address (https://…)', b.src, 'url'));
        body.appendChild(input(block, 'alt', 'Alt text: what the image shows (required)', b.alt, 'text', { required: true }));
        body.appendChild(input(block, 'width', 'Width in pixels (up to 600; empty: the column)', b.width ? String(b.width) : '', 'number', { min: '1', max: '600' }));
        body.appendChild(input(block, 'height', 'Height in pixels at that width (keeps the email from jumping as it loads)', b.height ? String(b.height) : '', 'number', { min: '1', max: '3000' }));
        body.appendChild(input(block, 'url', 'Links to (optional)', b.url, 'url'));
        break;
      case 'button':
        body.appendChild(input(block, 'text', 'Button text', b.text || 'ADD YOUR NAME'));
        body.appendChild(select('petition', 'Goes to the petition', petitionOptions('— a web address, typed below —'), b.petition || ''));
        body.appendChild(input(block, 'url', 'Or to the web address', b.url, 'url'));
        break;
      case 'signature':
        body.appendChild(input(block, 'closing', 'Closing', b.closing === undefined ? 'Thank you,' : b.closing));
        body.appendChild(input(block, 'name', 'Name', b.name));
        body.appendChild(input(block, 'title', 'Title', b.title));
        break;
      case 'share':
        var fill = select('share-petition', "Share a petition's page", petitionOptions('— a web address, typed below —'), '');
        fill.querySelector('select').addEventListener('change', function (e) {
          if (e.target.value) block.querySelector('[data-field=url]').value = publicURL + '/a/' + e.target.value;
        });
        body.appendChild(fill);
        body.appendChild(input(block, 'url', 'Page to share', b.url, 'url'));
        body.appendChild(input(block, 'text', 'Suggested post (optional)', b.text));
        break;
    }
    return block;
  }

  function addItem(items, spans) {
    var n = items.children.length + 1;
    var rm = el('button', { type: 'button', 'class': 'small secondary', text: 'Remove', 'aria-label': 'Remove item ' + n });
    var row = el('div', { 'class': 'item' }, [richBox('Item ' + n, spans), rm]);
    rm.addEventListener('click', function () {
      if (items.children.length > 1) { row.remove(); renumberItems(items); say('Item removed.'); }
    });
    items.appendChild(row);
    return row;
  }

  function renumberItems(items) {
    Array.prototype.forEach.call(items.children, function (row, i) {
      row.querySelector('.rich').setAttribute('aria-label', 'Item ' + (i + 1));
      row.querySelector('button').setAttribute('aria-label', 'Remove item ' + (i + 1));
    });
  }

  // renumber names each block's buttons by its place, for screen readers.
  function renumber() {
    var blocks = list.children;
    Array.prototype.forEach.call(blocks, function (block, i) {
      var kind = kinds[block.getAttribute('data-type')];
      var what = 'block ' + (i + 1) + ' (' + kind.toLowerCase() + ')';
      block.setAttribute('aria-label', 'Block ' + (i + 1) + ': ' + kind);
      block.querySelector('[data-move="-1"]').setAttribute('aria-label', 'Move ' + what + ' up');
      block.querySelector('[data-move="1"]').setAttribute('aria-label', 'Move ' + what + ' down');
      block.querySelector('[data-remove]').setAttribute('aria-label', 'Remove ' + what);
      block.querySelector('[data-move="-1"]').disabled = i === 0;
      block.querySelector('[data-move="1"]').disabled = i === blocks.length - 1;
    });
  }

  list.addEventListener('click', function (e) {
    var b = e.target.closest('button');
    if (!b) return;
    var block = b.closest('.block');
    if (b.hasAttribute('data-move')) {
      var to = +b.getAttribute('data-move') < 0 ? block.previousElementSibling : block.nextElementSibling;
      if (!to) return;
      if (+b.getAttribute('data-move') < 0) list.insertBefore(block, to); else list.insertBefore(to, block);
      renumber();
      b.disabled ? block.querySelector('[data-move]:not([disabled])').focus() : b.focus();
      say('Moved to place ' + (Array.prototype.indexOf.call(list.children, block) + 1) + '.');
    } else if (b.hasAttribute('data-remove')) {
      var next = block.nextElementSibling || block.previousElementSibling;
      block.remove();
      renumber();
      (next ? next.querySelector('button') : root.querySelector('[data-add]')).focus();
      say('Block removed.');
    }
  });

  root.querySelector('.block-add').addEventListener('click', function (e) {
    var type = e.target.getAttribute && e.target.getAttribute('data-add');
    if (!type) return;
    var block = makeBlock({ type: type });
    list.appendChild(block);
    renumber();
    var first = block.querySelector('.rich') || block.querySelector('.block-body input, .block-body select') || block.querySelector('button');
    first.focus();
    say(kinds[type] + ' added as block ' + list.children.length + '.');
  });

  function value(block, name) {
    var f = block.querySelector('[data-field="' + name + '"]');
    return f ? f.value.trim() : '';
  }

  function readBlock(block) {
    var type = block.getAttribute('data-type');
    var b = { type: type };
    switch (type) {
      case 'heading':
        b.level = +value(block, 'level');
        b.content = readSpans(block.querySelector('.rich'));
        break;
      case 'paragraph':
        b.content = readSpans(block.querySelector('.rich'));
        break;
      case 'list':
        b.items = Array.prototype.map.call(block.querySelectorAll('.rich'), function (r) { return readSpans(r); });
        break;
      case 'image':
        b.src = value(block, 'src'); b.alt = value(block, 'alt'); b.url = value(block, 'url');
        if (value(block, 'width')) b.width = parseInt(value(block, 'width'), 10) || 0;
        if (value(block, 'height')) b.height = parseInt(value(block, 'height'), 10) || 0;
        break;
      case 'button':
        b.text = value(block, 'text'); b.petition = value(block, 'petition');
        if (!b.petition) b.url = value(block, 'url');
        break;
      case 'signature':
        b.closing = value(block, 'closing'); b.name = value(block, 'name'); b.title = value(block, 'title');
        break;
      case 'share':
        b.url = value(block, 'url'); b.text = value(block, 'text');
        break;
    }
    Object.keys(b).forEach(function (k) { if (b[k] === '' || b[k] === undefined) delete b[k]; });
    return b;
  }

  function readAll() {
    return { blocks: Array.prototype.map.call(list.children, readBlock) };
  }

  function load(doc) {
    list.textContent = '';
    (doc.blocks || []).forEach(function (b) { list.appendChild(makeBlock(b)); });
    if (!list.children.length) list.appendChild(makeBlock({ type: 'paragraph' }));
    renumber();
  }

  // ---- From HTML source to blocks ----

  var placeholders = [];
  var tagRe = /\{\{-?\s*(.*?)\s*-?\}\}/g;

  // readTag reads a template tag the blocks know: a merge field with or
  // without a fallback, action_link, the share functions, a brace.
  function readTag(inner) {
    var m;
    if ((m = /^\.(\w+)$/.exec(inner))) return { merge: m[1] };
    if ((m = /^\.(\w+)\s*\|\s*default\s+"([^"\\]*)"$/.exec(inner))) return { merge: m[1], fallback: m[2] };
    if ((m = /^action_link\s+"([a-z0-9][a-z0-9-]*)"$/.exec(inner))) return { action: m[1] };
    if ((m = /^(share_facebook|share_x|share_email)\s+("(?:[^"\\]|\\.)*")(?:\s+("(?:[^"\\]|\\.)*"))?$/.exec(inner))) {
      try { return { share: m[1], url: JSON.parse(m[2]), text: m[3] ? JSON.parse(m[3]) : '' }; } catch (e) { return null; }
    }
    if (inner === '"{"') return { brace: true };
    return null;
  }

  function fromHTML(src) {
    var problems = [];
    placeholders = [];
    var known = mergeChoices.map(function (c) { return c.field; });
    src = src.replace(tagRe, function (all, inner) {
      var t = readTag(inner);
      if (!t || (t.merge && known.indexOf(t.merge) < 0)) { problems.push('the template tag ' + all); return ''; }
      if (t.brace) return '{';
      placeholders.push(t);
      return '\u0001' + (placeholders.length - 1) + '\u0001';
    });
    var doc = new DOMParser().parseFromString('<!DOCTYPE html><html><body>' + src + '</body></html>', 'text/html');
    var out = [];
    function tagOf(href) {
      var m = /^\u0001(\d+)\u0001$/.exec(href || '');
      return m ? placeholders[+m[1]] : null;
    }
    function onlyChild(n, tag) {
      var kids = Array.prototype.filter.call(n.childNodes, function (c) { return c.nodeType === 1 || c.textContent.trim(); });
      return kids.length === 1 && kids[0].tagName === tag ? kids[0] : null;
    }
    function image(img, link) {
      var b = { type: 'image', src: img.getAttribute('src') || '', alt: img.getAttribute('alt') || '' };
      if (img.getAttribute('width')) b.width = parseInt(img.getAttribute('width'), 10) || undefined;
      if (img.getAttribute('height')) b.height = parseInt(img.getAttribute('height'), 10) || undefined;
      if (link) b.url = link.getAttribute('href') || '';
      return b;
    }
    function walk(parent) {
      var nodes = Array.prototype.slice.call(parent.childNodes);
      for (var i = 0; i < nodes.length; i++) {
        var n = nodes[i];
        if (n.nodeType === 8) continue;
        if (n.nodeType === 3) {
          if (n.data.trim()) out.push({ type: 'paragraph', content: readSpans(el('p', {}, [n.cloneNode()]), problems) });
          continue;
        }
        if (n.nodeType !== 1) continue;
        var tag = n.tagName, img, a;
        if (tag === 'P' && n.classList.contains('signature')) {
          var next = nodes.slice(i + 1).filter(function (x) { return x.nodeType === 1; })[0];
          var lines = next && next.tagName === 'P' ? next.innerHTML.split(/<br\s*\/?>/i) : [];
          var txt = function (h) { var d = doc.createElement('div'); d.innerHTML = h; return d.textContent.trim(); };
          out.push({ type: 'signature', closing: n.textContent.trim(), name: lines[0] ? txt(lines[0]) : '', title: lines.slice(1).map(txt).join(' ') });
          if (lines.length > 2) problems.push('a signature of more than two lines');
          if (next && next.tagName === 'P') i = nodes.indexOf(next);
        } else if (tag === 'P' && n.classList.contains('share')) {
          var share = null;
          n.querySelectorAll('a').forEach(function (x) { var t = tagOf(x.getAttribute('href')); if (t && t.share && !share) share = t; });
          if (share) out.push({ type: 'share', url: share.url, text: share.text });
          else problems.push('share links the blocks cannot read');
        } else if (tag === 'P' && ((img = onlyChild(n, 'IMG')) || ((a = onlyChild(n, 'A')) && (img = onlyChild(a, 'IMG'))))) {
          out.push(image(img, a));
        } else if (tag === 'P') {
          if (n.getAttribute('style')) problems.push('the style of a paragraph');
          out.push({ type: 'paragraph', content: readSpans(n, problems) });
        } else if (/^H[1-3]$/.test(tag)) {
          out.push({ type: 'heading', level: +tag[1], content: readSpans(n, problems) });
        } else if (tag === 'UL') {
          var items = [];
          Array.prototype.forEach.call(n.children, function (li) {
            if (li.tagName === 'LI') items.push(readSpans(li, problems)); else problems.push('<' + li.tagName.toLowerCase() + '> in a list');
          });
          out.push({ type: 'list', items: items });
        } else if (tag === 'TABLE') {
          var links = n.querySelectorAll('a');
          if (links.length !== 1 || n.querySelectorAll('img, p, ul, table').length) { problems.push('a table'); continue; }
          var act = tagOf(links[0].getAttribute('href'));
          var btn = { type: 'button', text: links[0].textContent.trim() };
          if (act && act.action) btn.petition = act.action; else if (!act) btn.url = links[0].getAttribute('href') || ''; else problems.push('a button to a template tag');
          out.push(btn);
        } else if (tag === 'HR') {
          out.push({ type: 'divider' });
        } else if (tag === 'IMG') {
          out.push(image(n, null));
        } else if (tag === 'A' && (img = onlyChild(n, 'IMG'))) {
          out.push(image(img, n));
        } else if (tag === 'DIV' && !n.attributes.length) {
          walk(n);
        } else {
          problems.push('<' + tag.toLowerCase() + '>');
        }
      }
    }
    walk(doc.body);
    // Placeholders left in links or attributes are template tags the
    // blocks cannot hold.
    out.forEach(function (b) {
      ['src', 'url', 'alt', 'text'].forEach(function (k) { if (typeof b[k] === 'string' && b[k].indexOf('\u0001') >= 0) problems.push('a template tag in a ' + k); });
      [b.content || []].concat(b.items || []).forEach(function (spans) {
        spans.forEach(function (s) {
          if (s.link && s.link.indexOf('\u0001') >= 0) problems.push('a link made by a template tag');
        });
      });
    });
    return { doc: { blocks: out }, problems: problems };
  }

  // ---- Switching ----

  var mode = 'html';
  function show(m) {
    mode = m;
    root.hidden = m !== 'blocks';
    htmlField.hidden = m === 'blocks';
    editorField.value = m;
  }

  document.getElementById('to-html').addEventListener('click', function () {
    var doc = readAll();
    if (doc.blocks.every(function (b) { return b.type === 'paragraph' && !(b.content && b.content.length); })) {
      // Nothing written yet: the HTML source starts as it is.
      show('html');
      htmlArea.focus();
      return;
    }
    var body = new URLSearchParams();
    body.set('csrf', root.getAttribute('data-csrf'));
    body.set('blocks', JSON.stringify(doc));
    fetch('/admin/messages/blocks', { method: 'POST', body: body, credentials: 'same-origin' })
      .then(function (res) { return res.text().then(function (t) { return { ok: res.ok, text: t }; }); })
      .then(function (r) {
        if (!r.ok) { say('The blocks cannot become HTML yet: ' + r.text); return; }
        htmlArea.value = r.text;
        show('html');
        warning.hidden = true;
        htmlArea.focus();
      })
      .catch(function () { say('The HTML could not be made: try again.'); });
  });

  document.getElementById('to-blocks').addEventListener('click', function () {
    var src = htmlArea.value;
    var r = src.trim() ? fromHTML(src) : { doc: { blocks: [] }, problems: [] };
    if (r.problems.length) {
      var seen = {};
      warning.textContent = 'The block editor cannot show all of this HTML, so it stays as HTML (nothing was changed). It cannot show: ' +
        r.problems.filter(function (p) { return !seen[p] && (seen[p] = true); }).slice(0, 8).join('; ') + '.';
      warning.hidden = false;
      return;
    }
    warning.hidden = true;
    load(r.doc);
    show('blocks');
    var first = list.querySelector('.rich, input');
    if (first) first.focus();
  });

  var htmlMerge = document.getElementById('html-merge');
  mergeChoices.forEach(function (c, i) { htmlMerge.appendChild(el('option', { value: String(i), text: c.label })); });
  document.getElementById('html-merge-insert').addEventListener('click', function () {
    var c = mergeChoices[+htmlMerge.value];
    var tag = '{{ .' + c.field + (c.fallback ? ' | default "' + c.fallback + '"' : '') + ' }}';
    var s = htmlArea.selectionStart, e = htmlArea.selectionEnd;
    htmlArea.setRangeText(tag, s, e, 'end');
    htmlArea.focus();
  });
  htmlField.querySelector('.html-tools').hidden = false;

  form.addEventListener('submit', function () {
    if (mode === 'blocks') blocksField.value = JSON.stringify(readAll());
    editorField.value = mode;
  });

  // ---- Start ----

  if (root.getAttribute('data-start') === 'blocks') {
    var doc = null;
    try { doc = blocksField.value ? JSON.parse(blocksField.value) : null; } catch (e) { doc = null; }
    if (!doc && htmlArea.value.trim()) {
      var r = fromHTML(htmlArea.value);
      if (!r.problems.length) doc = r.doc;
    }
    if (doc) {
      load(doc);
      show('blocks');
    } else if (!htmlArea.value.trim()) {
      load({ blocks: [] });
      show('blocks');
    }
  }
  // A save refused for a block: the cursor goes to the field at fault.
  var path = /^blocks\[(\d+)\](?:\.(\w+))?/.exec(root.getAttribute('data-error-path') || '');
  if (path && mode === 'blocks') {
    var block = list.children[+path[1]];
    if (block) {
      var f = block.querySelector('[data-field="' + path[2] + '"]') || block.querySelector('.rich, input, select');
      block.classList.add('invalid');
      if (f) { f.setAttribute('aria-invalid', 'true'); f.setAttribute('aria-describedby', 'f-blocks-error'); f.focus(); }
    }
  }
})();
