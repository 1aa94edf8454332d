package web

// The outbox's pages: kept here, apart from the admin UI, since the outbox
// exists in embedded mode only and needs no sign-in.

const outboxCSS = `
:root { color-scheme: light dark; --fg: #1d1d1f; --muted: #6b6b70; --line: #e3e3e8; --bg: #fff; --accent: #0a58ca; --panel: #f6f6f8; }
@media (prefers-color-scheme: dark) { :root { --fg: #ececf0; --muted: #a0a0aa; --line: #34343a; --bg: #161618; --accent: #79a8ff; --panel: #1f1f23; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 64rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; margin: .5rem 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1rem; margin: 1.5rem 0 .5rem; color: var(--muted); text-transform: uppercase; letter-spacing: .05em; }
a { color: var(--accent); }
.muted { color: var(--muted); }
nav { display: flex; flex-wrap: wrap; gap: 1rem; margin-bottom: 1rem; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: .5rem; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
th { font-weight: 600; color: var(--muted); font-size: .85rem; }
td.when { white-space: nowrap; color: var(--muted); font-variant-numeric: tabular-nums; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
iframe { width: 100%; height: 70vh; border: 1px solid var(--line); border-radius: 6px; background: #fff; resize: vertical; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--panel); padding: 1rem; border-radius: 6px; margin: 0; font-size: .9rem; }
details { margin-top: 1.5rem; }
summary { cursor: pointer; color: var(--muted); }
.headers td:first-child { white-space: nowrap; color: var(--muted); }
.notice { background: var(--panel); border-left: 3px solid var(--accent); padding: .5rem 1rem; }
.notice p { margin: .25rem 0; }
form.search { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: 0 0 1rem; }
form.search input { font: inherit; padding: .3rem .5rem; min-width: 12rem; flex: 1 1 12rem; max-width: 24rem; }
form.search button { font: inherit; padding: .3rem .8rem; }
nav.pager { justify-content: space-between; margin-top: 1rem; }
@media (max-width: 40rem) {
  main { padding: .75rem; }
  table.list thead { display: none; }
  table.list tr { display: block; padding: .5rem 0; border-bottom: 1px solid var(--line); }
  table.list td { display: block; border: 0; padding: 0; }
  table.list td.subject { font-weight: 600; }
  dl.meta { grid-template-columns: 1fr; }
  dl.meta dd { margin-bottom: .5rem; }
}
`

const outboxTemplates = `
{{define "head"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.}} · Outbox</title>
<style>{{css}}</style>
</head>
<body><main>{{end}}

{{define "foot"}}</main></body>
</html>{{end}}

{{define "list"}}{{template "head" "Outbox"}}
{{with .AdminURL}}<nav aria-label="Outbox"><a href="{{.}}">← Admin</a></nav>{{end}}
<h1>Outbox</h1>
<p class="muted">Every message sent in embedded mode lands here instead of an inbox, and stays across restarts.</p>
{{if or .Span.Count .Search}}
<form class="search" method="get" action="{{.Prefix}}/" role="search">
<label for="q">Recipient or subject</label>
<input id="q" name="q" type="search" value="{{.Search}}">
<button type="submit">Search</button>
{{if .Search}}<a href="{{.Prefix}}/">Show all</a>{{end}}
</form>
{{end}}
{{if .Messages}}
<p id="summary">{{.Span.Count}} {{if eq .Span.Count 1}}message{{else}}messages{{end}}{{with .Search}} matching “{{.}}”{{end}}.</p>
<table class="list">
<thead><tr><th scope="col">Received</th><th scope="col">To</th><th scope="col">Subject</th></tr></thead>
<tbody>
{{range .Messages}}<tr>
<td class="when">{{when .ReceivedAt}}</td>
<td>{{.Recipients}}</td>
<td class="subject"><a href="{{$.Prefix}}/{{.ID}}">{{if .Subject}}{{.Subject}}{{else}}(no subject){{end}}</a></td>
</tr>
{{end}}</tbody>
</table>
{{if or .Newer .Older}}<nav class="pager" aria-label="Pages">
{{with .Newer}}<a href="{{.}}" rel="prev">← Newer</a>{{end}}
{{with .Older}}<a href="{{.}}" rel="next">Older →</a>{{end}}
</nav>{{end}}
{{else if .Search}}
<p class="notice" id="empty">No message to or about “{{.Search}}”. <a href="{{.Prefix}}/">Show all</a></p>
{{else if .Span.Count}}
<p class="notice" id="empty">No message on this page. <a href="{{.Prefix}}/">Newest messages</a></p>
{{else}}
<div class="notice" id="empty">
<p><strong>No mail yet.</strong>
{{if .Suggest.OK}}Send campaign <a href="{{.Suggest.URL}}">“{{.Suggest.Name}}”</a> from Campaigns, and its messages land here as they are sent.
{{else}}Send a campaign from Campaigns, or a test of a message from Messages, and its messages land here as they are sent.{{end}}</p>
</div>
{{end}}
{{template "foot"}}{{end}}

{{define "detail"}}{{template "head" (or .Subject "(no subject)")}}
<nav aria-label="Message"><a href="{{.Prefix}}/">← All messages</a><a href="{{.Prefix}}/{{.ID}}/raw" download>Download .eml</a>{{with .AdminURL}}<a href="{{.}}">Admin</a>{{end}}</nav>
<h1>{{or .Subject "(no subject)"}}</h1>
<dl class="meta">
<dt>From</dt><dd>{{.From}}</dd>
<dt>To</dt><dd>{{.To}}</dd>
{{with .ReplyTo}}<dt>Reply-To</dt><dd>{{.}}</dd>{{end}}
<dt>Date</dt><dd>{{.Date}}</dd>
<dt>Received</dt><dd>{{when .Received}}</dd>
<dt>Envelope</dt><dd>{{.EnvelopeFrom}} → {{.EnvelopeTo}}</dd>
</dl>
{{with .Mail.ParseError}}<p class="notice">Part of this message could not be read: {{.}}</p>{{end}}
{{if .Mail.HasHTML}}
<h2 id="html-part">HTML</h2>
<iframe src="{{.Prefix}}/{{.ID}}/html" sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer" title="HTML part"></iframe>
{{end}}
{{if .Mail.HasText}}
<h2 id="text-part">Text</h2>
<pre>{{.Mail.Text}}</pre>
{{end}}
{{with .Mail.Attachments}}
<h2>Other parts</h2>
<table>
{{range .}}<tr><td>{{or .Name "(unnamed)"}}</td><td>{{.Type}}</td><td>{{.Size}} bytes</td></tr>
{{end}}</table>
{{end}}
<details>
<summary>All headers ({{len .Mail.Headers}})</summary>
<table class="headers">
{{range .Mail.Headers}}<tr><td>{{.Name}}</td><td>{{.Value}}</td></tr>
{{end}}</table>
</details>
<details id="source">
<summary>Source (as received)</summary>
<pre>{{.Source}}</pre>
</details>
{{template "foot"}}{{end}}
`
