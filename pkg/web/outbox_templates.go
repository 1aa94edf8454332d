package web

// The outbox's pages. Kept as constants until the templates/ tree carries
// the admin UI's layout.

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
<h1>Outbox</h1>
<p class="muted">Every message sent in embedded mode lands here instead of an inbox.
{{if .Count}}{{.Count}} captured{{if lt (len .Messages) .Count}}, the latest {{len .Messages}} kept{{end}}.{{end}}</p>
{{if .Messages}}
<table class="list">
<thead><tr><th>Received</th><th>To</th><th>Subject</th></tr></thead>
<tbody>
{{range .Messages}}<tr>
<td class="when">{{when .Received}}</td>
<td>{{join .To}}</td>
<td class="subject"><a href="{{$.Prefix}}/{{.ID}}">{{if .Subject}}{{.Subject}}{{else}}(no subject){{end}}</a></td>
</tr>
{{end}}</tbody>
</table>
{{else}}
<p class="notice">No messages yet.</p>
{{end}}
{{template "foot"}}{{end}}

{{define "detail"}}{{template "head" (or .Subject "(no subject)")}}
<nav><a href="{{.Prefix}}/">← All messages</a><a href="{{.Prefix}}/{{.ID}}/raw" download>Download .eml</a></nav>
<h1>{{or .Subject "(no subject)"}}</h1>
<dl class="meta">
<dt>From</dt><dd>{{.From}}</dd>
<dt>To</dt><dd>{{.To}}</dd>
{{with .ReplyTo}}<dt>Reply-To</dt><dd>{{.}}</dd>{{end}}
<dt>Date</dt><dd>{{.Date}}</dd>
<dt>Received</dt><dd>{{when .Received}}</dd>
<dt>Envelope</dt><dd>{{.EnvelopeFrom}} → {{join .EnvelopeTo}}</dd>
</dl>
{{with .Mail.ParseError}}<p class="notice">Part of this message could not be read: {{.}}</p>{{end}}
{{if .Mail.HasHTML}}
<h2>HTML</h2>
<iframe src="{{.Prefix}}/{{.ID}}/html" sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer" title="HTML part"></iframe>
{{end}}
{{if .Mail.HasText}}
<h2>Text</h2>
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
{{template "foot"}}{{end}}
`
