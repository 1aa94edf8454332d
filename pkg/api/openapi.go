package api

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// route is one documented operation. Every route Routes registers has one
// here, and nothing else does (TestOpenAPIMatchesRoutes).
type route struct {
	pattern string // as registered: "GET /api/v1/segments/{id}"
	summary string
	in      any    // request body schema; nil for none
	inType  string // request media type; default application/json
	out     any    // response body schema
	outType string // response media type; default application/json
	status  int    // success status; default 200
	public  bool   // no bearer token needed
	query   []string
}

// Schema helpers: a $ref to a component, an object, a list of, a plain type.
func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
func arrayOf(items any) map[string]any {
	return map[string]any{"type": "array", "items": items}
}
func typ(t string) map[string]any { return map[string]any{"type": t} }
func object(props map[string]any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}
func listOf(key, component string) map[string]any {
	return object(map[string]any{key: arrayOf(ref(component))}, key)
}

var (
	anyObject = map[string]any{"type": "object", "additionalProperties": true}
	textCSV   = "text/csv"
	ids       = arrayOf(typ("integer"))
	paging    = []string{"after", "limit"}
)

// routes describes the API. Resources owned by other files keep their
// entries here too, at the level of detail a client needs to call them.
func routes() []route {
	count := ref("Count")
	campaignControl := object(map[string]any{"campaign_id": typ("integer"), "status": typ("string")})
	return []route{
		{pattern: "GET /api/v1/openapi.json", summary: "This document", out: anyObject, public: true},

		{pattern: "GET /api/v1/contacts", summary: "Contacts in id order, keyset-paginated; ?q= searches email and names by prefix, ?email= finds one address, in any letter case", out: object(map[string]any{"contacts": arrayOf(ref("Contact")), "next_after": typ("integer")}), query: append([]string{"q", "email"}, paging...)},
		{pattern: "POST /api/v1/contacts", summary: "Create a contact", in: ref("ContactInput"), out: ref("Contact"), status: http.StatusCreated},
		{pattern: "GET /api/v1/contacts/{id}", summary: "A contact", out: ref("Contact")},
		{pattern: "PATCH /api/v1/contacts/{id}", summary: "Change the fields the body names; a contact who left is never made mailable again", in: ref("ContactInput"), out: ref("Contact")},
		{pattern: "POST /api/v1/contacts/{id}/tags", summary: "Put tags on a contact", in: object(map[string]any{"tags": arrayOf(typ("string"))}, "tags"), out: ref("Contact")},
		{pattern: "DELETE /api/v1/contacts/{id}/tags/{tag}", summary: "Take a tag off a contact", out: ref("Contact")},
		{pattern: "DELETE /api/v1/contacts/{id}", summary: `Erase the person's data everywhere, in one transaction, keeping counts and a suppression of the address (reason "erased"); needs ?erase=true`, out: anyObject, query: []string{"erase"}},
		{pattern: "GET /api/v1/contacts/{id}/export.json", summary: "Everything stored about the person: contact, lists, tags, preferences, signatures, letters, sends, events, bounce reports, suppressions", out: anyObject},
		{pattern: "DELETE /api/v1/contacts/{id}/bounce", summary: "Lift the suppression a bounce made: the contact is subscribed again, the suppression removed, an event recorded; 409 unless bounced", out: ref("Contact")},

		{pattern: "POST /api/v1/imports", summary: "Upload a CSV (multipart: file, list, mapping, encoding); rows are imported in the background", in: object(map[string]any{"file": map[string]any{"type": "string", "format": "binary"}, "list": typ("string"), "mapping": typ("string"), "encoding": typ("string")}, "file"), inType: "multipart/form-data", out: ref("Import"), status: http.StatusAccepted},
		{pattern: "GET /api/v1/imports/{id}", summary: "An import's progress and counts", out: ref("Import")},
		{pattern: "GET /api/v1/imports/{id}/rejects.csv", summary: "Rejected rows: line, reason, row", out: typ("string"), outType: textCSV},

		{pattern: "GET /api/v1/suppressions", summary: "Suppressed addresses and domains, keyset-paginated", out: object(map[string]any{"suppressions": arrayOf(ref("Suppression")), "next_after": typ("integer")}), query: paging},
		{pattern: "POST /api/v1/suppressions", summary: `Suppress addresses and domains ("@example.com"), all or none; JSON or a CSV body (email, reason)`, in: object(map[string]any{"entries": arrayOf(typ("string")), "reason": typ("string")}, "entries"), out: anyObject, status: http.StatusCreated},
		{pattern: "DELETE /api/v1/suppressions/{id}", summary: "Remove a suppression", out: anyObject},

		{pattern: "GET /api/v1/lists", summary: "Every list", out: listOf("lists", "List")},
		{pattern: "POST /api/v1/lists", summary: "Create a list", in: object(map[string]any{"name": typ("string"), "description": typ("string")}, "name"), out: ref("List"), status: http.StatusCreated},
		{pattern: "GET /api/v1/lists/{id}", summary: "A list and its subscribed member count", out: ref("List")},
		{pattern: "POST /api/v1/lists/{id}/members", summary: "Subscribe contacts to the list", in: object(map[string]any{"contact_ids": ids}, "contact_ids"), out: anyObject},
		{pattern: "GET /api/v1/lists/{id}/export.csv", summary: "The list's subscribed members as CSV, streamed", out: typ("string"), outType: textCSV},

		{pattern: "GET /api/v1/segments", summary: "Every segment", out: listOf("segments", "Segment")},
		{pattern: "POST /api/v1/segments", summary: "Save a rule tree; an unknown field or operator is a 422 naming its path", in: ref("SegmentInput"), out: ref("Segment"), status: http.StatusCreated},
		{pattern: "GET /api/v1/segments/{id}", summary: "A segment", out: ref("Segment")},
		{pattern: "GET /api/v1/segments/{id}/count", summary: "How many contacts the segment selects now, whatever their status", out: count},
		{pattern: "GET /api/v1/segments/{id}/preview", summary: "The first 20 contacts the segment selects, by id", out: listOf("contacts", "Contact")},
		{pattern: "GET /api/v1/segments/{id}/export.csv", summary: "The contacts the segment selects now as CSV, streamed", out: typ("string"), outType: textCSV},
		{pattern: "POST /api/v1/segments/count", summary: "Count a rule tree not saved", in: ref("RulesInput"), out: count},
		{pattern: "POST /api/v1/segments/preview", summary: "Preview a rule tree not saved", in: ref("RulesInput"), out: listOf("contacts", "Contact")},

		{pattern: "GET /api/v1/messages", summary: "Every message", out: listOf("messages", "Message")},
		{pattern: "POST /api/v1/messages", summary: "Create a message; a template that does not compile is refused with its line and column, and what filters or clients hold against it is in warnings", in: ref("Message"), out: ref("SavedMessage"), status: http.StatusCreated},
		{pattern: "POST /api/v1/messages/{id}/duplicate", summary: "Copy a message, blocks and all, as a new one named \"Copy of …\"", out: ref("Message"), status: http.StatusCreated},
		{pattern: "DELETE /api/v1/messages/{id}", summary: "Delete a message no campaign uses (204); 409 naming the campaign that does", out: anyObject},
		{pattern: "POST /api/v1/messages/{id}/archive", summary: "Archive a message: the admin lists it only under Archived (204)", out: anyObject},
		{pattern: "DELETE /api/v1/messages/{id}/archive", summary: "Bring an archived message back to the list (204)", out: anyObject},
		{pattern: "POST /api/v1/campaigns/{id}/duplicate", summary: "Copy a campaign as a draft named \"Copy of …\": message, audience, topic, rate, UTM, A/B test", out: ref("Campaign"), status: http.StatusCreated},
		{pattern: "DELETE /api/v1/campaigns/{id}", summary: "Delete a draft campaign (204); 409 once it is scheduled or sent", out: anyObject},
		{pattern: "POST /api/v1/campaigns/{id}/archive", summary: "Archive a sent or cancelled campaign (204); 409 otherwise", out: anyObject},
		{pattern: "DELETE /api/v1/campaigns/{id}/archive", summary: "Bring an archived campaign back to the list (204)", out: anyObject},
		{pattern: "POST /api/v1/petitions/{id}/duplicate", summary: "Copy a petition, closed, titled \"Copy of …\" at the slug copy-of-<slug> (-2, -3 … when taken); signatures stay with the original", out: ref("Petition"), status: http.StatusCreated},
		{pattern: "GET /api/v1/messages/{id}", summary: "A message", out: ref("Message")},
		{pattern: "GET /api/v1/messages/{id}/preview", summary: "The HTML a contact (?contact_id=) would get", out: typ("string"), outType: "text/html", query: []string{"contact_id"}},
		{pattern: "GET /api/v1/messages/{id}/preview.eml", summary: "The whole email as it would go on the wire", out: typ("string"), outType: "message/rfc822", query: []string{"contact_id"}},
		{pattern: "POST /api/v1/messages/{id}/test", summary: "Send a test to up to 10 addresses", in: object(map[string]any{"emails": arrayOf(typ("string"))}, "emails"), out: anyObject, status: http.StatusAccepted},

		{pattern: "GET /api/v1/campaigns", summary: "Every campaign, newest first", out: listOf("campaigns", "Campaign")},
		{pattern: "POST /api/v1/campaigns", summary: "Create a draft campaign", in: ref("CampaignInput"), out: ref("Campaign"), status: http.StatusCreated},
		{pattern: "GET /api/v1/campaigns/{id}", summary: "A campaign with ledger and event counts", out: ref("Campaign")},
		{pattern: "POST /api/v1/campaigns/{id}/send", summary: "Start the send: the audience is snapshotted now; a second send is a 409", out: object(map[string]any{"campaign_id": typ("integer"), "status": typ("string"), "recipients": typ("integer")}), status: http.StatusAccepted},
		{pattern: "POST /api/v1/campaigns/{id}/schedule", summary: "Schedule a draft (or move a scheduled campaign) to start by itself at send_at, an RFC 3339 time in the future; 409 unless draft or scheduled", in: object(map[string]any{"send_at": typ("string")}, "send_at"), out: ref("Campaign")},
		{pattern: "DELETE /api/v1/campaigns/{id}/schedule", summary: "Take a scheduled campaign back to draft; 409 unless scheduled", out: ref("Campaign")},
		{pattern: "POST /api/v1/campaigns/{id}/pause", summary: "Pause a sending campaign: within 2 seconds no worker takes a new recipient; 409 unless sending", out: campaignControl},
		{pattern: "POST /api/v1/campaigns/{id}/resume", summary: "Resume a paused campaign from the ledger: only rows still waiting are sent; 409 unless paused", out: campaignControl},
		{pattern: "POST /api/v1/campaigns/{id}/resend-unknown", summary: "Send again the messages that went out without a reply from the relay (ledger status unknown); some may arrive twice; 409 for a draft, scheduled or cancelled campaign",
			out: object(map[string]any{"campaign_id": typ("integer"), "resent": typ("integer")})},
		{pattern: "POST /api/v1/campaigns/{id}/cancel", summary: "Cancel a sending or paused campaign: the rows still waiting are skipped; 409 otherwise", out: campaignControl},
		{pattern: "GET /api/v1/campaigns/{id}/progress", summary: "Sent, failed, bounced, remaining, the rate of the last 10 seconds and the ETA", out: object(map[string]any{
			"status": typ("string"), "total": typ("integer"), "sent": typ("integer"), "failed": typ("integer"), "bounced": typ("integer"),
			"skipped": typ("integer"), "remaining": typ("integer"), "rate": typ("number"), "rate_limit": typ("number"), "eta_seconds": typ("number"), "window_seconds": typ("number")})},
		{pattern: "POST /api/v1/campaigns/{id}/rate", summary: "Set the campaign's rate in messages per second across all workers (0: no limit), also while it sends: workers apply it within about a second", in: object(map[string]any{"per_second": typ("number")}, "per_second"), out: object(map[string]any{"campaign_id": typ("integer"), "per_second": typ("number")})},
		{pattern: "GET /api/v1/campaigns/{id}/audience/count", summary: "How many contacts a send would snapshot now", out: count},
		{pattern: "POST /api/v1/campaigns/audience/count", summary: "How many contacts an audience not saved would reach now", in: object(map[string]any{"audience": ref("Audience"), "topic_id": typ("integer")}, "audience"), out: count},
		{pattern: "GET /api/v1/campaigns/{id}/stats", summary: "Outcomes and engagement, human and total", out: anyObject},
		{pattern: "GET /api/v1/campaigns/{id}/stats/hourly", summary: "Activity per UTC hour", out: anyObject},
		{pattern: "GET /api/v1/campaigns/{id}/recipients.csv", summary: "One row per ledger row, streamed", out: typ("string"), outType: textCSV},
		{pattern: "GET /api/v1/campaigns/{id}/variants", summary: "Each A/B variant's recipients, delivered, unique human opens and clicks, actions (signatures) and their rates over delivered; the winner's label once chosen", out: object(map[string]any{
			"campaign_id": typ("integer"), "ab_test": ref("ABTest"), "winner": typ("string"), "variants": arrayOf(ref("VariantStats"))})},
		{pattern: "POST /api/v1/campaigns/{id}/winner", summary: "End an A/B test before its wait is over with the variant named (\"B\"), or without one the best by its metric so far; the rest of the audience is sent it. 409 unless the test is running", in: object(map[string]any{"variant": typ("string")}), out: object(map[string]any{"campaign_id": typ("integer"), "winner": typ("string"), "variant_id": typ("integer")})},

		{pattern: "GET /api/v1/petitions", summary: "Every petition with its total_signatures, newest first", out: listOf("petitions", "Petition")},
		{pattern: "POST /api/v1/petitions", summary: "Create a petition; its page is /a/{slug} and emails link to it with {{ action_link \"slug\" }}", in: object(map[string]any{"slug": typ("string"), "title": typ("string"), "target": typ("string"), "petition_text": typ("string"), "goal": typ("integer"), "open": typ("boolean"), "thank_you_text": typ("string"), "share_text": typ("string"), "kind": typ("string"), "org_order": typ("string")}, "slug", "title"), out: ref("Petition"), status: http.StatusCreated},
		{pattern: "GET /api/v1/petitions/{id}", summary: "A petition with its total_signatures", out: ref("Petition")},
		{pattern: "GET /api/v1/petitions/{id}/report", summary: "Signatures in total, by UTC day, by source campaign and by referral; for a letter, organizations by status", out: anyObject},
		{pattern: "GET /api/v1/petitions/{id}/signatures.csv", summary: "The signatures for delivery to the target, streamed: name, city, region, postal code, comment, date; for a letter the approved organizations", out: typ("string"), outType: "text/csv"},
		{pattern: "GET /api/v1/petitions/{id}/organizations", summary: "The organizations that signed a letter; ?status=pending|approved|rejected", out: listOf("organizations", "OrgSigner"), query: []string{"status"}},
		{pattern: "POST /api/v1/petitions/{id}/organizations/{org_id}/approve", summary: "Approve an organization: it is listed on the letter", out: ref("OrgSigner")},
		{pattern: "POST /api/v1/petitions/{id}/organizations/{org_id}/reject", summary: "Reject an organization (or withdraw its approval): it is not listed", out: ref("OrgSigner")},

		{pattern: "GET /api/v1/topics", summary: "Every topic", out: listOf("topics", "Object")},
		{pattern: "POST /api/v1/topics", summary: "Create a topic contacts can opt out of", in: object(map[string]any{"name": typ("string"), "description": typ("string")}, "name"), out: anyObject, status: http.StatusCreated},
		{pattern: "GET /api/v1/topics/{id}", summary: "A topic", out: anyObject},

		{pattern: "POST /api/v1/bounces", summary: "Take what the mail system reported back: a returned message as it arrived (Content-Type message/rfc822 or text/plain), " +
			"or JSON events, one object or an array (kind hard, soft, complaint or auto_reply; without a kind, status and diagnostic are classified). " +
			"Each is matched to its send (VERP token, Message-ID, else the address's latest send) and acted on once (event_id). " +
			"400 for a body that cannot be read, 413 over 10 MiB", in: object(map[string]any{"recipient": typ("string"), "kind": typ("string"),
			"status": typ("string"), "diagnostic": typ("string"), "message_id": typ("string"), "token": typ("string"), "event_id": typ("string")}),
			out: object(map[string]any{"events": typ("integer"), "matched": typ("integer"), "ignored": typ("integer"), "duplicates": typ("integer")})},
		{pattern: "GET /api/v1/stats/bounces", summary: "Failures by kind (hard, soft, block, complaint) per UTC day over the last `days` (default 30), at send time and reported later; of one campaign with campaign_id",
			query: []string{"days", "campaign_id"}, out: object(map[string]any{"days": typ("integer"), "since": typ("string"), "campaign_id": typ("integer"), "by_day": arrayOf(anyObject)})},
		{pattern: "GET /api/v1/webhooks", summary: "Every webhook", out: listOf("webhooks", "Object")},
		{pattern: "POST /api/v1/webhooks", summary: "Register a URL for events (unsubscribe, bounce, signature, complaint, campaign.paused); the signing secret is shown only in this answer", in: object(map[string]any{"url": typ("string"), "events": arrayOf(typ("string"))}, "url"), out: anyObject, status: http.StatusCreated},
		{pattern: "DELETE /api/v1/webhooks/{id}", summary: "Remove a webhook", out: anyObject},
	}
}

func components() map[string]any {
	str, integer, when := typ("string"), typ("integer"), map[string]any{"type": "string", "format": "date-time"}
	return map[string]any{
		"Error": object(map[string]any{"error": object(map[string]any{
			"code":       map[string]any{"type": "string", "enum": []string{"invalid", "not_found", "conflict", "forbidden", "unauthorized", "too_large", "internal"}},
			"message":    str,
			"field":      map[string]any{"type": "string", "description": `The input field at fault; for a segment, the path of the rule in the tree, such as "rules.all[2].any[0].op".`},
			"request_id": map[string]any{"type": "string", "description": "Set on a 500; the detail is in the server log under it."},
		}, "code", "message")}, "error"),
		"Object": anyObject,
		"Count":  object(map[string]any{"count": integer}, "count"),
		"Contact": object(map[string]any{
			"id": integer, "email": str, "first_name": str, "last_name": str, "postal_code": str, "region": str,
			"country": str, "time_zone": str, "attributes": anyObject, "tags": arrayOf(str),
			"status": map[string]any{"type": "string", "enum": []string{"subscribed", "unsubscribed", "bounced", "complained"}},
			"source": str, "consent_at": when, "created_at": when, "updated_at": when,
		}),
		"ContactInput": object(map[string]any{
			"email": str, "first_name": str, "last_name": str, "postal_code": str, "region": str, "country": str,
			"time_zone": str, "attributes": anyObject, "tags": arrayOf(str), "status": str, "source": str, "consent_at": when, "lists": ids,
		}),
		"List":        object(map[string]any{"id": integer, "name": str, "description": str, "created_at": when, "members": integer}),
		"Import":      anyObject,
		"Petition":    object(map[string]any{"id": integer, "slug": str, "title": str, "target": str, "petition_text": str, "goal": integer, "open": typ("boolean"), "thank_you_text": str, "share_text": str, "kind": str, "org_order": str, "created_at": when, "total_signatures": integer}),
		"OrgSigner":   object(map[string]any{"id": integer, "petition_id": integer, "organization": str, "contact_name": str, "email": str, "website": str, "status": str, "created_at": when, "decided_at": when}),
		"Suppression": object(map[string]any{"id": integer, "email": str, "reason": str, "created_at": when}),
		"Message": object(map[string]any{
			"id": integer, "name": str, "subject": str, "preheader": str, "from_name": str, "from_email": str,
			"reply_to": str, "layout": str, "html": str, "text": str,
			"blocks": map[string]any{"type": "object", "description": "The block editor's document ({\"blocks\": [{\"type\": \"paragraph\", \"content\": [{\"text\": \"…\"}]}, …]}); when given, the HTML is made of it and html must be empty"},
		}),
		"SavedMessage": object(map[string]any{
			"id": integer, "name": str, "subject": str, "preheader": str, "from_name": str, "from_email": str,
			"reply_to": str, "layout": str, "html": str, "text": str,
			"warnings": map[string]any{"type": "array", "items": str, "description": "What was removed in compiling, and what is saved but worth fixing before sending: HTML over 100 KB (Gmail clips it, footer included), images without alt text or width and height, links whose text is another site's address"},
		}, "warnings"),
		"Audience": map[string]any{
			"type":        "object",
			"description": "Members of the lists and segments, each contact once, minus members of the excluded lists and segments, and always minus contacts not subscribed, suppressed or held back by their preferences.",
			"properties":  map[string]any{"lists": ids, "segments": ids, "exclude_lists": ids, "exclude_segments": ids},
		},
		"CampaignInput": object(map[string]any{"name": str, "message_id": integer, "audience": ref("Audience"), "topic_id": integer, "utm": anyObject,
			"rate_per_second": map[string]any{"type": "number", "description": "Messages per second across all workers; 0 or absent: no limit. Changeable while sending (POST /campaigns/{id}/rate)"},
			"variants": map[string]any{"type": "array", "maxItems": store.MaxVariants, "description": "2 to 4 A/B variants, labelled A, B, … in order; each sets a subject, a message_id (body and sender) or both",
				"items": object(map[string]any{"subject": str, "message_id": integer})},
			"ab_test": map[string]any{"type": "object", "description": "Required with variants. share: percent of the audience in the test (1-100; 100 is a plain split with no winner); metric: opens, clicks or actions; wait: how long the test runs (\"2h\"); seed: orders the audience for the split (default the campaign's id)",
				"properties": map[string]any{"share": integer, "metric": str, "wait": str, "seed": integer}},
		}, "name", "message_id", "audience"),
		"ABTest": object(map[string]any{"share": integer, "metric": str, "wait_seconds": integer, "seed": integer, "winner_id": integer,
			"phase": map[string]any{"type": "string", "enum": []string{store.ABTesting, store.ABDecided, store.ABSplit}}, "decided_at": when}),
		"Variant": object(map[string]any{"id": integer, "campaign_id": integer, "label": str, "subject": str, "message_id": integer, "created_at": when}),
		"VariantStats": object(map[string]any{"id": integer, "label": str, "subject": str, "message_id": integer, "recipients": integer, "delivered": integer,
			"opens": integer, "clicks": integer, "actions": integer, "open_rate": typ("number"), "click_rate": typ("number"), "action_rate": typ("number")}),
		"Campaign": object(map[string]any{
			"id": integer, "name": str, "message_id": integer, "audience": ref("Audience"), "status": str,
			"total": integer, "created_at": when, "started_at": when, "finished_at": when, "stats": anyObject,
			"send_at": when, "ab_test": ref("ABTest"), "variants": arrayOf(ref("Variant")), "rate_per_second": typ("number"),
			"pause_reason": str,
		}),
		"Segment":      object(map[string]any{"id": integer, "name": str, "description": str, "rules": ref("Rule"), "created_at": when, "updated_at": when}),
		"SegmentInput": object(map[string]any{"name": str, "description": str, "rules": ref("Rule")}, "name", "rules"),
		"RulesInput":   object(map[string]any{"rules": ref("Rule")}, "rules"),
		"Rule": map[string]any{
			"description": "A group or a condition; at most 10 levels deep, 500 rules and 10,000 in-list values in all. " +
				"Text ops: equals, not_equals, contains, starts_with, in, exists. Date ops: gt, gte, lt, lte, between, within_days, exists " +
				`("2006-01-02" is the whole day). Attribute ops follow the value's type (text, number, true/false; dates as "2006-01-02" text).`,
			"oneOf": []any{
				object(map[string]any{"all": arrayOf(ref("Rule"))}, "all"),
				object(map[string]any{"any": arrayOf(ref("Rule"))}, "any"),
				object(map[string]any{"not": ref("Rule")}, "not"),
				object(map[string]any{"field": map[string]any{"type": "string", "enum": store.SegmentFields()}, "op": str, "value": map[string]any{}}, "field", "op"),
				object(map[string]any{"attribute": str, "op": str, "value": map[string]any{}}, "attribute", "op"),
				object(map[string]any{"list": integer}, "list"),
				object(map[string]any{"tag": str}, "tag"),
				object(map[string]any{
					"engagement":  map[string]any{"type": "string", "enum": []string{"opened", "clicked", "not_opened", "not_clicked"}},
					"campaign":    integer,
					"within_days": integer,
					"human":       map[string]any{"type": "boolean", "description": "leave out privacy proxies and link scanners"},
				}, "engagement"),
			},
		},
	}
}

var pathParam = regexp.MustCompile(`\{(\w+)\}`)

// openAPIDocument builds the OpenAPI 3 document from routes.
func openAPIDocument() map[string]any {
	errResp := func(what string) map[string]any {
		return map[string]any{"description": what, "content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
	}
	paths := map[string]any{}
	for _, rt := range routes() {
		method, path, _ := strings.Cut(rt.pattern, " ")
		item, _ := paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			schema := typ("string")
			if m[1] == "id" {
				schema = typ("integer")
			}
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": schema})
		}
		for _, q := range rt.query {
			params = append(params, map[string]any{"name": q, "in": "query", "schema": typ("string")})
		}
		status, outType := rt.status, rt.outType
		if status == 0 {
			status = http.StatusOK
		}
		if outType == "" {
			outType = "application/json"
		}
		responses := map[string]any{
			strconv.Itoa(status): map[string]any{"description": http.StatusText(status), "content": map[string]any{outType: map[string]any{"schema": rt.out}}},
			"default":            errResp("An error, in the one error shape"),
		}
		op := map[string]any{"summary": rt.summary, "responses": responses}
		if !rt.public {
			responses["401"] = errResp("No valid bearer token")
		} else {
			op["security"] = []any{}
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.in != nil {
			inType := rt.inType
			if inType == "" {
				inType = "application/json"
			}
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{inType: map[string]any{"schema": rt.in}}}
			responses["422"] = errResp("Invalid input; field names the field or rule path at fault")
		}
		item[strings.ToLower(method)] = op
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":   "dearfriend API",
			"version": "1",
			"description": "The JSON campaign API. Every route but this document needs `Authorization: Bearer <token>`. " +
				"Every error has one shape: {\"error\": {\"code\", \"message\", \"field\"}}.",
		},
		"paths":      paths,
		"components": map[string]any{"schemas": components(), "securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}}},
		"security":   []any{map[string]any{"bearer": []any{}}},
	}
}

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, openAPIDocument())
}
