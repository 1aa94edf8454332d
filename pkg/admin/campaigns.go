package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// progressWindow is the span over which the progress page measures the rate,
// as the API's progress does.
const progressWindow = 10 * time.Second

// zoneOptions are the time zones the schedule offers, as a select's options.
var zoneOptions = "options=" + strings.Join(timeZones, "|")

// defaultZone is the time zone of the schedule field when the organization
// has none (DEARFRIEND_TIME_ZONE) and no script picks the browser's.
const defaultZone = "UTC"

// choice is one checkbox or option: a list, a segment or a message.
type choice struct {
	ID      int64
	Name    string
	Checked bool
}

// choiceGroup is a fieldset of checkboxes as the "choices" template draws it.
type choiceGroup struct {
	Name, Legend string
	Items        []choice
	Error        string
}

func newChoiceGroup(name, legend string, items []choice, err string) choiceGroup {
	return choiceGroup{Name: name, Legend: legend, Items: items, Error: err}
}

// wizardView is the campaign wizard's first page: message, audience, throttle.
type wizardView struct {
	Messages                          []choice
	Lists, Segments                   []choice
	ExcludeLists, ExcludeSegments     []choice
	Count                             *int64
	ListsErr, SegmentsErr, MessageErr string
}

// campaigns lists every campaign with where its send stands.
func (h *Handler) campaigns(w http.ResponseWriter, r *http.Request, s *signedIn) {
	archived := archivedFilter(r)
	cs, err := h.Store.ListCampaignsShown(r.Context(), archived)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.render(w, r, s, http.StatusOK, "campaigns.html", view{Title: "Campaigns", Section: "Campaigns",
		Notice: deskNotices[r.URL.Query().Get("done")], Data: campaignList{cs, archived}})
}

// campaignList is the campaigns screen: the campaigns shown and the filter.
type campaignList struct {
	Campaigns []store.Campaign
	Archived  bool
}

func (h *Handler) newCampaign(w http.ResponseWriter, r *http.Request, s *signedIn) {
	h.showWizard(w, r, s, http.StatusOK, NewForm(url.Values{"message": {r.URL.Query().Get("message")},
		"ab_share": {"20"}, "ab_metric": {store.MetricOpens}, "ab_wait": {"2h"}}), nil)
}

func (h *Handler) showWizard(w http.ResponseWriter, r *http.Request, s *signedIn, status int, f *Form, n *int64) {
	ctx := r.Context()
	ms, err := h.wizardMessages(ctx, f.Get("message"))
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	ls, err := h.Store.ListLists(ctx)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	gs, err := h.Store.ListSegments(ctx)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	v := wizardView{Count: n, ListsErr: f.Errors["lists"], SegmentsErr: f.Errors["segments"], MessageErr: f.Errors["message"]}
	for _, m := range ms {
		name := m.Name
		if m.ArchivedAt != nil {
			name += " (archived)"
		}
		v.Messages = append(v.Messages, choice{ID: m.ID, Name: name, Checked: f.Get("message") == strconv.FormatInt(m.ID, 10)})
	}
	checked := func(field string, id int64) bool {
		return slices.Contains(f.Values[field], strconv.FormatInt(id, 10))
	}
	for _, l := range ls {
		v.Lists = append(v.Lists, choice{l.ID, l.Name, checked("lists", l.ID)})
		v.ExcludeLists = append(v.ExcludeLists, choice{l.ID, l.Name, checked("exclude_lists", l.ID)})
	}
	for _, g := range gs {
		v.Segments = append(v.Segments, choice{g.ID, g.Name, checked("segments", g.ID)})
		v.ExcludeSegments = append(v.ExcludeSegments, choice{g.ID, g.Name, checked("exclude_segments", g.ID)})
	}
	h.render(w, r, s, status, "campaign_new.html", view{Title: "New campaign", Section: "Campaigns", Form: f, Data: v})
}

// wizardMessages are the messages a new campaign may choose: those not
// archived, and the one already chosen (from a message's page, or posted)
// even if it is archived, so that the choice is never silently lost.
func (h *Handler) wizardMessages(ctx context.Context, chosen string) ([]store.Message, error) {
	ms, err := h.Store.ListMessagesShown(ctx, false)
	if err != nil {
		return nil, err
	}
	id, _ := strconv.ParseInt(chosen, 10, 64)
	if id <= 0 || slices.ContainsFunc(ms, func(m store.Message) bool { return m.ID == id }) {
		return ms, nil
	}
	m, err := h.Store.GetMessage(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return ms, nil
	}
	if err != nil {
		return nil, err
	}
	return append([]store.Message{*m}, ms...), nil
}

// ids reads the checked ids of a checkbox group.
func ids(f *Form, field string) []int64 {
	var out []int64
	for _, v := range f.Values[field] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			out = append(out, id)
		}
	}
	return out
}

// campaignFields maps the store's names of a campaign's fields to the
// wizard's inputs; an audience field ("audience.exclude_lists") is its
// checkbox group's.
var campaignFields = map[string]string{"message_id": "message", "rate_per_second": "rate", "variants": "subject_b",
	"ab_test.share": "ab_share", "ab_test.metric": "ab_metric", "ab_test.wait": "ab_wait"}

// takeCampaignError puts the store's invalid-input error at the wizard's
// input it concerns.
func takeCampaignError(f *Form, err error) bool {
	e, ok := errs.As(err)
	if !ok || e.Code != errs.Invalid {
		return false
	}
	field, _, _ := strings.Cut(strings.TrimPrefix(e.Field, "audience."), "[")
	if name, ok := campaignFields[field]; ok {
		field = name
	}
	f.Fail(field, sentence(e.Message))
	return true
}

// abTest reads the wizard's optional A/B step. A second subject makes the
// campaign a test of two variants: A with the first subject (empty: the
// message's) and B. Share, metric and wait are the API's; each subject is
// compiled now, as the worker will, so a mistake shows at its field.
func (h *Handler) abTest(ctx context.Context, f *Form, messageID int64) (store.ABTest, []store.Variant, error) {
	b := strings.TrimSpace(f.Get("subject_b"))
	if b == "" {
		return store.ABTest{}, nil, nil
	}
	if h.Compiler == nil {
		f.Fail("subject_b", "A/B tests are not available on this server.")
		return store.ABTest{}, nil, nil
	}
	a := strings.TrimSpace(f.Get("subject_a"))
	if a == "" && messageID > 0 {
		m, err := h.Store.GetMessage(ctx, messageID)
		if err != nil && errs.CodeOf(err) != errs.NotFound {
			return store.ABTest{}, nil, err
		}
		if m != nil {
			a = m.Subject
		}
	}
	for _, v := range []struct{ field, subject string }{{"subject_a", a}, {"subject_b", b}} {
		err := render.CheckSubject(h.Compiler, v.subject)
		if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
			f.Fail(v.field, sentence(e.Message))
		} else if err != nil {
			return store.ABTest{}, nil, err
		}
	}
	share, err := strconv.Atoi(strings.TrimSpace(f.Get("ab_share")))
	if err != nil {
		f.Fail("ab_share", "Type a percentage from 1 to 100.")
	}
	var wait int64
	if share != 100 {
		d, err := time.ParseDuration(strings.TrimSpace(f.Get("ab_wait")))
		if err != nil || d <= 0 || d%time.Second != 0 {
			f.Fail("ab_wait", "Type how long the test runs before the winner goes to the rest, like 2h or 90m.")
		}
		wait = int64(d / time.Second)
	}
	return store.ABTest{Share: share, Metric: f.Get("ab_metric"), WaitSeconds: wait}, []store.Variant{{Subject: a}, {Subject: b}}, nil
}

// wizard handles the wizard's first page: "count" counts the audience now,
// after suppressions and preferences (store.CountAudience, as the API's
// audience count); "next" saves the campaign as a draft and goes on to the
// review.
func (h *Handler) wizard(w http.ResponseWriter, r *http.Request, s *signedIn) {
	ctx := r.Context()
	f := NewForm(r.PostForm)
	aud := store.Audience{Lists: ids(f, "lists"), Segments: ids(f, "segments"),
		ExcludeLists: ids(f, "exclude_lists"), ExcludeSegments: ids(f, "exclude_segments")}
	if len(aud.Lists) == 0 && len(aud.Segments) == 0 {
		f.Fail("lists", "Choose at least one list or segment to send to.")
	}
	if f.OK() {
		n, err := h.Store.CountAudience(ctx, aud, nil)
		if err != nil && !takeCampaignError(f, err) {
			h.failFor(w, r, s, err)
			return
		}
		if f.Get("do") == "count" {
			h.showWizard(w, r, s, http.StatusOK, f, &n)
			return
		}
	} else if f.Get("do") == "count" {
		h.showWizard(w, r, s, http.StatusUnprocessableEntity, f, nil)
		return
	}
	name := strings.TrimSpace(f.Get("name"))
	if name == "" || len(name) > 200 {
		f.Fail("name", "Give the campaign a name of at most 200 characters.")
	}
	messageID, _ := strconv.ParseInt(f.Get("message"), 10, 64)
	if messageID <= 0 {
		f.Fail("message", "Choose the message to send.")
	}
	rate := 0.0
	if v := strings.TrimSpace(f.Get("rate")); v != "" {
		var err error
		if rate, err = strconv.ParseFloat(v, 64); err != nil || math.IsNaN(rate) {
			f.Fail("rate", "Type a number of messages per second, or leave it empty for no limit.")
		} else if err := store.CheckCampaignRate("rate", rate); err != nil {
			f.Take(err)
		}
	}
	ab, variants, err := h.abTest(ctx, f, messageID)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	if !f.OK() {
		h.showWizard(w, r, s, http.StatusUnprocessableEntity, f, nil)
		return
	}
	c := &store.Campaign{Name: name, MessageID: messageID, Audience: aud, RatePerSecond: rate, AB: ab}
	if err := h.Store.CreateCampaign(ctx, c, variants...); err != nil {
		if takeCampaignError(f, err) {
			h.showWizard(w, r, s, http.StatusUnprocessableEntity, f, nil)
			return
		}
		h.failFor(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/admin/campaigns/"+strconv.FormatInt(c.ID, 10), http.StatusSeeOther)
}

// reviewView is the review step: the exact number of recipients, and what
// the organizer must type above the threshold.
type reviewView struct {
	Campaign     *store.Campaign
	Message      *store.Message
	Lists        []string
	Segments     []string
	ExcludeLists []string
	ExcludeSegs  []string
	Count        int64
	MustConfirm  bool
	Variants     []store.Variant // an A/B test's
	Zones        string          // the time zones offered, as a select's options
	BrowserZone  bool            // no organization's zone: the script picks the browser's
}

// campaign shows a draft's review step, or where a send stands.
func (h *Handler) campaign(w http.ResponseWriter, r *http.Request, s *signedIn) {
	c, err := h.campaignOf(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	if c.Status == store.CampaignDraft {
		notice := ""
		if r.URL.Query().Get("done") == "unscheduled" {
			notice = "The campaign is a draft again: send it now, or choose another time."
		}
		h.showReview(w, r, s, http.StatusOK, c, NewForm(url.Values{"when": {"now"}, "time_zone": {cmp.Or(h.TimeZone, defaultZone)}}), notice)
		return
	}
	h.showProgress(w, r, s, c)
}

func (h *Handler) campaignOf(r *http.Request) (*store.Campaign, error) {
	id, err := routeID(r, "campaign")
	if err != nil {
		return nil, err
	}
	return h.Store.GetCampaign(r.Context(), id)
}

// names returns the names of ids among the lists or segments.
func names(ids []int64, of map[int64]string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if n, ok := of[id]; ok {
			out = append(out, n)
		} else {
			out = append(out, "#"+strconv.FormatInt(id, 10))
		}
	}
	return out
}

func (h *Handler) showReview(w http.ResponseWriter, r *http.Request, s *signedIn, status int, c *store.Campaign, f *Form, notice string) {
	ctx := r.Context()
	v, err := h.review(ctx, c)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.render(w, r, s, status, "campaign_review.html", view{Title: "Review: " + c.Name, Section: "Campaigns", Form: f, Data: v, Notice: notice})
}

func (h *Handler) review(ctx context.Context, c *store.Campaign) (*reviewView, error) {
	m, err := h.Store.GetMessage(ctx, c.MessageID)
	if err != nil {
		return nil, err
	}
	ls, err := h.Store.ListLists(ctx)
	if err != nil {
		return nil, err
	}
	lists := map[int64]string{}
	for _, l := range ls {
		lists[l.ID] = l.Name
	}
	gs, err := h.Store.ListSegments(ctx)
	if err != nil {
		return nil, err
	}
	segs := map[int64]string{}
	for _, g := range gs {
		segs[g.ID] = g.Name
	}
	n, err := h.Store.CountAudience(ctx, c.Audience, c.TopicID)
	if err != nil {
		return nil, err
	}
	var variants []store.Variant
	if c.AB.Share > 0 {
		if variants, err = h.Store.Variants(ctx, c.ID); err != nil {
			return nil, err
		}
	}
	return &reviewView{Campaign: c, Message: m, Count: n, MustConfirm: n > h.ConfirmAbove, Variants: variants, Zones: zoneOptions, BrowserZone: h.TimeZone == "",
		Lists: names(c.Audience.Lists, lists), Segments: names(c.Audience.Segments, segs),
		ExcludeLists: names(c.Audience.ExcludeLists, lists), ExcludeSegs: names(c.Audience.ExcludeSegments, segs)}, nil
}

// sendCampaign sends a reviewed draft now, or schedules it. Above the
// threshold the number typed must be the audience's count as of this
// moment, so a send never goes to more people than the organizer read.
func (h *Handler) sendCampaign(w http.ResponseWriter, r *http.Request, s *signedIn) {
	ctx := r.Context()
	c, err := h.campaignOf(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	if h.Dispatcher == nil {
		h.problem(w, r, s, http.StatusNotFound, "Sending is not available on this server.")
		return
	}
	f := NewForm(r.PostForm)
	v, err := h.review(ctx, c)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	if v.Count == 0 {
		f.Fail("", "No one would get this campaign: its audience is empty after suppressions and preferences.")
	}
	if v.MustConfirm {
		typed := strings.Map(func(r rune) rune {
			if r == ',' || r == ' ' || r == '.' || r == '\u00a0' {
				return -1
			}
			return r
		}, f.Get("confirm"))
		if typed != strconv.FormatInt(v.Count, 10) {
			f.Fail("confirm", fmt.Sprintf("Type %d, the number of recipients, to confirm.", v.Count))
		}
	}
	var sc store.Schedule
	if f.Get("when") == "later" {
		sc, err = store.ParseSchedule(f.Get("send_at"), cmp.Or(strings.TrimSpace(f.Get("time_zone")), h.TimeZone, defaultZone), f.Get("local") != "")
		switch {
		case err != nil:
			f.Take(err)
		case !sc.At.After(h.Now()):
			f.Fail("send_at", "This time is past in "+sc.Zone+": choose a later one, or send now.")
		case sc.Local && c.AB.Share > 0:
			f.Fail("local", "A campaign with an A/B test goes out at one time for everyone: remove the test, or deliver at this time in "+sc.Zone+".")
		}
	}
	if !f.OK() {
		h.render(w, r, s, http.StatusUnprocessableEntity, "campaign_review.html", view{Title: "Review: " + c.Name, Section: "Campaigns", Form: f, Data: v})
		return
	}
	if f.Get("when") == "later" {
		err = h.Store.ScheduleCampaignAt(ctx, c.ID, sc)
	} else {
		_, err = h.Dispatcher.Send(ctx, c.ID)
	}
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.Log.Info("campaign started from the admin UI", "campaign_id", c.ID, "recipients", v.Count, "by", s.User.Email, "scheduled", f.Get("when") == "later")
	http.Redirect(w, r, "/admin/campaigns/"+strconv.FormatInt(c.ID, 10), http.StatusSeeOther)
}

// unscheduleCampaign takes a scheduled campaign back to its review, a
// draft again, where it is sent now or given another time. One the
// schedule has started already is not touched: its page says where it is.
func (h *Handler) unscheduleCampaign(w http.ResponseWriter, r *http.Request, s *signedIn) {
	id, err := routeID(r, "campaign")
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	if err := h.Store.UnscheduleCampaign(r.Context(), id); err != nil {
		if errs.CodeOf(err) == errs.Conflict {
			h.problem(w, r, s, http.StatusConflict, "This campaign is not scheduled any more: it has started sending, or was taken back already. Its page says where it stands.")
			return
		}
		h.failFor(w, r, s, err)
		return
	}
	h.Log.Info("campaign unscheduled from the admin UI", "campaign_id", id, "by", s.User.Email)
	http.Redirect(w, r, "/admin/campaigns/"+strconv.FormatInt(id, 10)+"?done=unscheduled", http.StatusSeeOther)
}

// progressView is a send's progress page.
type progressView struct {
	Campaign *store.Campaign
	Progress *store.Progress
	Done     int64 // sent, failed, bounced, blocked, unknown and skipped
	Percent  int64
	ETA      string
	Schedule string // when a scheduled campaign sends, in the words of its zone
}

// scheduleText says when c, scheduled, sends: at its time in the zone it was
// chosen in, or at a wall clock in each recipient's own zone.
func scheduleText(c *store.Campaign) string {
	if c.LocalTime != "" {
		if at, err := time.Parse("2006-01-02T15:04:05", c.LocalTime); err == nil {
			return "at " + at.Format("15:04 on Mon 2 Jan 2006") + " in each recipient's time zone (" + cmp.Or(c.TimeZone, defaultZone) + " for contacts without one)"
		}
	}
	if c.SendAt == nil {
		return ""
	}
	loc, err := store.LoadZone(c.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	return "at " + c.SendAt.In(loc).Format("15:04 on Mon 2 Jan 2006") + " " + loc.String()
}

func (h *Handler) showProgress(w http.ResponseWriter, r *http.Request, s *signedIn, c *store.Campaign) {
	p, err := h.Store.CampaignProgress(r.Context(), c.ID, progressWindow)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	v := progressView{Campaign: c, Progress: p, Done: p.Sent + p.Failed + p.Bounced + p.Blocked + p.Unknown + p.Skipped, Schedule: scheduleText(c)}
	if p.Total > 0 {
		v.Percent = min(100, v.Done*100/p.Total)
	}
	if p.ETASeconds != nil {
		v.ETA = (time.Duration(*p.ETASeconds) * time.Second).Round(time.Second).String()
	}
	vw := view{Title: c.Name, Section: "Campaigns", Data: v}
	if p.Status == store.CampaignSending {
		vw.Refresh = refreshSeconds
	}
	h.render(w, r, s, http.StatusOK, "campaign.html", vw)
}

// controlCampaign is pause, resume or cancel: the dispatcher's, as the API's.
func (h *Handler) controlCampaign(do func(*Handler, context.Context, int64) error) func(http.ResponseWriter, *http.Request, *signedIn) {
	return func(w http.ResponseWriter, r *http.Request, s *signedIn) {
		id, err := routeID(r, "campaign")
		if err != nil {
			h.failFor(w, r, s, err)
			return
		}
		if h.Dispatcher == nil {
			h.problem(w, r, s, http.StatusNotFound, "Sending is not available on this server.")
			return
		}
		if err := do(h, r.Context(), id); err != nil {
			h.failFor(w, r, s, err)
			return
		}
		http.Redirect(w, r, "/admin/campaigns/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	}
}

func pauseSend(h *Handler, ctx context.Context, id int64) error { return h.Dispatcher.Pause(ctx, id) }
func resumeSend(h *Handler, ctx context.Context, id int64) error {
	return h.Dispatcher.Unpause(ctx, id)
}
func resendUnknown(h *Handler, ctx context.Context, id int64) error {
	_, err := h.Dispatcher.ResendUnknown(ctx, id)
	return err
}
func cancelSend(h *Handler, ctx context.Context, id int64) error {
	_, err := h.Dispatcher.Cancel(ctx, id)
	return err
}
