package inline

import (
	"fmt"
	"strings"
	"testing"
)

// actionAlertCSS is the stylesheet of a typical action alert: a table
// layout, a responsive @media block and a :hover, about 40 rules.
const actionAlertCSS = `
body { margin: 0; padding: 0; background-color: #f4f4f4; -webkit-text-size-adjust: 100%; -ms-text-size-adjust: 100%; }
table { border-collapse: collapse; mso-table-lspace: 0pt; mso-table-rspace: 0pt; }
td { font-family: Georgia, "Times New Roman", serif; font-size: 16px; line-height: 1.5; color: #222222; }
img { border: 0; height: auto; line-height: 100%; outline: none; text-decoration: none; -ms-interpolation-mode: bicubic; }
a { color: #b3001b; text-decoration: underline; }
a:hover { color: #7a0012; }
p { margin: 0 0 16px; }
h1 { font-family: Arial, sans-serif; font-size: 28px; line-height: 1.2; margin: 0 0 16px; color: #111111; }
h2 { font-family: Arial, sans-serif; font-size: 20px; margin: 24px 0 8px; color: #111111; }
ul { margin: 0 0 16px; padding: 0 0 0 24px; }
li { margin: 0 0 8px; }
strong { font-weight: bold; }
.wrapper { width: 100%; background-color: #f4f4f4; }
.container { width: 600px; margin: 0 auto; background-color: #ffffff; }
.preheader { display: none !important; visibility: hidden; opacity: 0; color: transparent; height: 0; width: 0; }
.header { background-color: #b3001b; padding: 24px 32px; }
.header td { color: #ffffff; }
.logo { display: block; width: 160px; }
.urgent { font-family: Arial, sans-serif; font-size: 12px; letter-spacing: 2px; text-transform: uppercase; color: #ffd6dc; }
.content { padding: 32px; }
.content p { font-size: 17px; }
.ask { font-size: 20px; font-weight: bold; color: #b3001b; border-left: 4px solid #b3001b; padding: 8px 16px; }
.ask strong { color: #111111; }
.bullets li { font-size: 16px; }
.bullets li strong { color: #b3001b; }
.button-cell { border-radius: 4px; background-color: #b3001b; text-align: center; }
.button { display: inline-block; padding: 14px 28px; font-family: Arial, sans-serif; font-size: 18px; font-weight: bold; color: #ffffff !important; text-decoration: none; border-radius: 4px; }
.button:hover { background-color: #7a0012; }
.secondary { color: #555555; font-size: 14px; }
.divider { border-top: 1px solid #dddddd; height: 1px; line-height: 1px; font-size: 1px; }
.rep { padding: 12px 0; border-bottom: 1px solid #eeeeee; }
.rep-name { font-weight: bold; font-size: 16px; }
.rep-phone a { color: #222222; text-decoration: none; }
.quote { font-style: italic; color: #444444; padding: 0 24px; }
.share td { padding: 0 8px; }
.share a { font-family: Arial, sans-serif; font-size: 14px; color: #b3001b; }
.footer { padding: 24px 32px; background-color: #eeeeee; }
.footer td, .footer p { font-family: Arial, sans-serif; font-size: 12px; color: #666666; line-height: 1.4; }
.footer a { color: #666666; }
.address { font-style: normal; }
@media only screen and (max-width: 620px) {
  .container { width: 100% !important; }
  .content, .header, .footer { padding: 16px !important; }
  h1 { font-size: 24px !important; }
  .button { display: block !important; }
}
`

// actionAlertEmail builds an action alert of at least size bytes: header,
// bold ask, bullets, a button, a list of representatives, footer, with
// merge tags throughout.
func actionAlertEmail(size int) string {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<meta name="viewport" content="width=device-width, initial-scale=1.0" />
<title>{{ .Campaign.Subject }}</title>
<style type="text/css">` + actionAlertCSS + `</style>
</head>
<body>
<span class="preheader">{{ .Campaign.Preheader | default "Your senator votes Thursday." }}</span>
<table class="wrapper" width="100%" cellpadding="0" cellspacing="0" role="presentation">
<tr><td align="center">
<table class="container" width="600" cellpadding="0" cellspacing="0" role="presentation">
<tr><td class="header">
  <table width="100%" role="presentation"><tr>
    <td><img class="logo" src="https://example.org/logo.png" alt="Dear Friend" width="160" /></td>
    <td align="right" class="urgent">Urgent action</td>
  </tr></table>
</td></tr>
<tr><td class="content">
  <h1>{{ .FirstName | default "Friend" }}, the vote is Thursday</h1>
`)
	for i := 0; b.Len() < size-2500; i++ {
		fmt.Fprintf(&b, `  <p>Section %d. The committee will take up the bill this week, and the people who answer the phones in your senator's office keep a tally of every call. Last time, <strong>calls from constituents like you</strong> moved two undecided votes.</p>
  <p class="ask">Will you call <strong>{{ .Rep.Name }}</strong> today and ask them to vote <strong>no</strong>?</p>
  <ul class="bullets">
    <li><strong>Say who you are:</strong> a constituent from {{ .City }}.</li>
    <li><strong>Say what you want:</strong> a no vote on the bill.</li>
    <li><strong>Say why it matters to you</strong>, in one sentence.</li>
  </ul>
  <table role="presentation" cellpadding="0" cellspacing="0"><tr>
    <td class="button-cell"><a class="button" href="https://act.example.org/call?ref={{ .Ref }}&amp;id={{ .ID | urlquery }}&amp;s=%d">Call {{ .Rep.Name }} now</a></td>
  </tr></table>
  <table class="rep" width="100%%" role="presentation"><tr>
    <td class="rep-name">{{ .Rep.Name }}</td><td class="rep-phone" align="right"><a href="tel:{{ .Rep.Phone }}">{{ .Rep.Phone }}</a></td>
  </tr></table>
  <p class="quote">&ldquo;It took me two minutes, and the staffer wrote down every word.&rdquo; &mdash; a supporter</p>
  <p class="secondary">Can&rsquo;t call? <a href="https://act.example.org/email?ref={{ .Ref }}">Send an email instead</a>.</p>
  <div class="divider">&nbsp;</div>
`, i, i)
	}
	b.WriteString(`</td></tr>
<tr><td class="content">
  <table class="share" role="presentation"><tr>
    <td><a href="https://example.org/share/fb?u={{ .ShareURL }}">Share</a></td>
    <td><a href="https://example.org/share/x?u={{ .ShareURL }}">Post</a></td>
    <td><a href="mailto:?subject={{ .Campaign.Subject | urlquery }}">Forward</a></td>
  </tr></table>
</td></tr>
<tr><td class="footer">
  <p>You are receiving this because you signed up at {{ .SignupSource | default "our website" }}.</p>
  <p><a href="{{ .UnsubscribeURL }}">Unsubscribe</a> &middot; <a href="{{ .PreferencesURL }}">Update your preferences</a></p>
  <p class="address">Dear Friend, 123 Main Street, Springfield</p>
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`)
	return b.String()
}

func BenchmarkInline20KB(b *testing.B) {
	doc := actionAlertEmail(20 << 10)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Inline(doc, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInline20KBCached is the same through a Cache, as render uses it:
// every message of a layout brings the same stylesheet.
func BenchmarkInline20KBCached(b *testing.B) {
	doc := actionAlertEmail(20 << 10)
	cache := NewCache(16)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Inline(doc, Options{Cache: cache}); err != nil {
			b.Fatal(err)
		}
	}
}
