package store

import (
	"time"

	"github.com/uptrace/bun"
)

// Contact statuses. Only subscribed contacts are mailed.
const (
	ContactSubscribed   = "subscribed"
	ContactUnsubscribed = "unsubscribed"
	ContactBounced      = "bounced"
	ContactComplained   = "complained"
)

// Campaign statuses.
const (
	CampaignDraft   = "draft"
	CampaignSending = "sending"
	CampaignSent    = "sent"
	// CampaignPaused: no worker takes a new recipient until it is resumed.
	CampaignPaused = "paused"
	// CampaignCancelled: the rows still waiting were skipped; nothing more is sent.
	CampaignCancelled = "cancelled"
	// CampaignScheduled: a draft that starts by itself at its SendAt.
	CampaignScheduled = "scheduled"
)

// Send (ledger) statuses.
const (
	SendQueued   = "queued"   // snapshotted, not yet tried
	SendDeferred = "deferred" // a temporary failure; will be tried again
	SendSent     = "sent"     // the relay accepted it
	SendFailed   = "failed"   // temporary failures until the attempts ran out
	SendBounced  = "bounced"  // the relay refused the address for good (5.1.x and the like)
	SendSkipped  = "skipped"  // the contact stopped being mailable after the snapshot
	// SendBlocked: the relay refused it for good, blaming the sender
	// (5.7.x, a blocklist, policy); the address is left alone.
	SendBlocked = "blocked"
	// SendUnknown: the message went out whole (DATA and its final dot) but
	// no reply came; the relay may have taken it. Never sent again unless
	// an organizer asks (ResendUnknown).
	SendUnknown = "unknown"
	// SendHeld: the rest of an A/B test's audience, waiting for the winner;
	// no dispatcher or worker takes it until the winner moves it to queued.
	SendHeld = "held"
)

// Event kinds.
const (
	EventOpen        = "open"
	EventClick       = "click"
	EventUnsubscribe = "unsubscribe"
	EventComplaint   = "complaint" // a feedback-loop spam report
	// EventBounceLifted: an organizer lifted the suppression a bounce made.
	EventBounceLifted = "bounce_lifted"
)

// Setting is a value the system generated once and keeps (API token, signing key).
type Setting struct {
	bun.BaseModel `bun:"table:settings"`
	Key           string `bun:"key,pk"`
	Value         string `bun:"value"`
}

// Contact is one supporter.
type Contact struct {
	bun.BaseModel `bun:"table:contacts"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id"`
	Email         string `bun:"email" json:"email"`
	// EmailKey is EmailKey(Email): contacts are unique by it.
	EmailKey   string `bun:"email_key" json:"-"`
	FirstName  string `bun:"first_name" json:"first_name"`
	LastName   string `bun:"last_name" json:"last_name"`
	PostalCode string `bun:"postal_code" json:"postal_code"`
	Region     string `bun:"region" json:"region"`
	Country    string `bun:"country" json:"country"`
	TimeZone   string `bun:"time_zone" json:"time_zone"`
	// Attributes are the organizer's custom fields: string, number or bool
	// values, dates as "2006-01-02" strings.
	Attributes map[string]any `bun:"attributes,type:json" json:"attributes"`
	Status     string         `bun:"status" json:"status"`
	Source     string         `bun:"source" json:"source"`
	ConsentAt  *time.Time     `bun:"consent_at" json:"consent_at,omitempty"`
	CreatedAt  time.Time      `bun:"created_at" json:"created_at"`
	UpdatedAt  time.Time      `bun:"updated_at" json:"updated_at"`
}

// List is a named group of contacts.
type List struct {
	bun.BaseModel `bun:"table:lists"`
	ID            int64     `bun:"id,pk,autoincrement" json:"id"`
	Name          string    `bun:"name" json:"name"`
	Description   string    `bun:"description" json:"description"`
	CreatedAt     time.Time `bun:"created_at" json:"created_at"`
}

// ListMember is a contact's membership of a list.
type ListMember struct {
	bun.BaseModel `bun:"table:list_members"`
	ListID        int64     `bun:"list_id,pk"`
	ContactID     int64     `bun:"contact_id,pk"`
	Status        string    `bun:"status"`
	CreatedAt     time.Time `bun:"created_at"`
}

// Message is an email as the organizer wrote it: a template, not yet compiled.
type Message struct {
	bun.BaseModel `bun:"table:messages"`
	ID            int64     `bun:"id,pk,autoincrement" json:"id"`
	Name          string    `bun:"name" json:"name"`
	Subject       string    `bun:"subject" json:"subject"`
	Preheader     string    `bun:"preheader" json:"preheader"`
	FromName      string    `bun:"from_name" json:"from_name"`
	FromEmail     string    `bun:"from_email" json:"from_email"`
	ReplyTo       string    `bun:"reply_to" json:"reply_to"`
	Layout        string    `bun:"layout" json:"layout"`
	HTML          string    `bun:"html" json:"html"`
	Text          string    `bun:"text" json:"text"`
	CreatedAt     time.Time `bun:"created_at" json:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at" json:"updated_at"`
	// Blocks is the block editor's document (pkg/blocks JSON) the HTML was
	// made of; "" for a message written as HTML.
	Blocks string `bun:"blocks" json:"-"`
	// ArchivedAt hides a message from the list unless archived ones are asked for.
	ArchivedAt *time.Time `bun:"archived_at" json:"archived_at,omitempty"`
}

// Audience says who a campaign goes to: the members of its lists and
// segments, minus the members of its excluded lists and segments.
type Audience struct {
	Lists           []int64 `json:"lists"`
	Segments        []int64 `json:"segments,omitempty"`
	ExcludeLists    []int64 `json:"exclude_lists,omitempty"`
	ExcludeSegments []int64 `json:"exclude_segments,omitempty"`
}

// Campaign is a message sent to an audience.
type Campaign struct {
	bun.BaseModel `bun:"table:campaigns"`
	ID            int64      `bun:"id,pk,autoincrement" json:"id"`
	Name          string     `bun:"name" json:"name"`
	MessageID     int64      `bun:"message_id" json:"message_id"`
	Audience      Audience   `bun:"audience,type:json" json:"audience"`
	Status        string     `bun:"status" json:"status"`
	Total         int64      `bun:"total" json:"total"`
	CreatedAt     time.Time  `bun:"created_at" json:"created_at"`
	StartedAt     *time.Time `bun:"started_at" json:"started_at,omitempty"`
	FinishedAt    *time.Time `bun:"finished_at" json:"finished_at,omitempty"`
	// TopicID names the topic; contacts who opted out of it are not mailed.
	TopicID *int64 `bun:"topic_id" json:"topic_id,omitempty"`
	// UTM is added to the targets of the campaign's tracked links.
	UTM UTM `bun:"embed:utm_" json:"utm"`
	// DispatchedTo is the highest ledger id whose batch was enqueued: the
	// cursor from which the next batch is taken (controls.go).
	DispatchedTo int64 `bun:"dispatched_to" json:"-"`
	// WaitingFrom is a ledger id below which no row of the campaign is
	// unfinished: a rewind of the cursor goes back to it (controls.go).
	WaitingFrom int64 `bun:"waiting_from" json:"-"`
	// RatePerSecond caps the campaign's sending across all workers; 0 is no
	// cap. It can change while the campaign sends (pacing.go).
	RatePerSecond float64 `bun:"rate_per_second" json:"rate_per_second"`
	// SendAt is when a scheduled campaign starts (schedule.go).
	SendAt *time.Time `bun:"send_at" json:"send_at,omitempty"`
	// TimeZone is the IANA zone its time was chosen in; LocalTime, when
	// set, is that time as a wall clock at which each recipient gets the
	// message in their own zone (schedule.go).
	TimeZone  string `bun:"time_zone" json:"time_zone,omitempty"`
	LocalTime string `bun:"local_time" json:"local_time,omitempty"`
	// AB is the campaign's A/B test; zero when it has no variants (variants.go).
	AB ABTest `bun:"embed:ab_" json:"ab_test,omitzero"`
	// PauseReason says why the reputation guard paused the campaign; empty
	// when it is not paused or an organizer paused it. Resuming clears it.
	PauseReason string `bun:"pause_reason" json:"pause_reason,omitempty"`
	// Guard holds the counts the organizer's last resume acknowledged
	// (feedback.go): the guard judges only what came after them.
	Guard GuardCounts `bun:"embed:guard_" json:"-"`
	// ArchivedAt hides a campaign from the list unless archived ones are asked for.
	ArchivedAt *time.Time `bun:"archived_at" json:"archived_at,omitempty"`
}

// UTM holds a campaign's analytics parameters; an empty one is not added.
type UTM struct {
	Source   string `bun:"source" json:"utm_source,omitempty"`
	Medium   string `bun:"medium" json:"utm_medium,omitempty"`
	Campaign string `bun:"campaign" json:"utm_campaign,omitempty"`
}

// Send is one ledger row: one contact of one campaign.
type Send struct {
	bun.BaseModel `bun:"table:sends"`
	ID            int64      `bun:"id,pk,autoincrement" json:"id"`
	CampaignID    int64      `bun:"campaign_id" json:"campaign_id"`
	ContactID     int64      `bun:"contact_id" json:"contact_id"`
	Email         string     `bun:"email" json:"email"`
	Status        string     `bun:"status" json:"status"`
	Attempts      int        `bun:"attempts" json:"attempts"`
	LastReply     string     `bun:"last_reply" json:"last_reply"`
	SentAt        *time.Time `bun:"sent_at" json:"sent_at,omitempty"`
	UpdatedAt     time.Time  `bun:"updated_at" json:"updated_at"`
	// FirstAttemptAt is when the row was first tried; retries stop after
	// DEARFRIEND_MAX_RETRY_AGE. Throttled counts attempts that met a
	// throttling relay, which do not count toward DEARFRIEND_MAX_ATTEMPTS.
	FirstAttemptAt *time.Time `bun:"first_attempt_at" json:"first_attempt_at,omitempty"`
	Throttled      int        `bun:"throttled" json:"throttled"`
	// VariantID is the A/B variant the row is sent; nil for a campaign without variants.
	VariantID *int64 `bun:"variant_id" json:"variant_id,omitempty"`
	// Relay names the relay that blocked the message (status blocked); empty otherwise.
	Relay string `bun:"relay" json:"relay,omitempty"`
	// NotBefore is when the row may be sent: its recipient's local time
	// (Campaign.LocalTime); nil for at once.
	NotBefore *time.Time `bun:"not_before" json:"not_before,omitempty"`
}

// Link is a URL of a campaign's message; clicks point at its id.
type Link struct {
	bun.BaseModel `bun:"table:links"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id"`
	CampaignID    int64  `bun:"campaign_id" json:"campaign_id"`
	URL           string `bun:"url" json:"url"`
}

// Event is an open, a click or an unsubscribe by a recipient of a send.
type Event struct {
	bun.BaseModel `bun:"table:events"`
	ID            int64     `bun:"id,pk,autoincrement" json:"id"`
	Kind          string    `bun:"kind" json:"kind"`
	CampaignID    int64     `bun:"campaign_id" json:"campaign_id"`
	SendID        int64     `bun:"send_id" json:"send_id"`
	ContactID     int64     `bun:"contact_id" json:"contact_id"`
	LinkID        *int64    `bun:"link_id" json:"link_id,omitempty"`
	UserAgent     string    `bun:"user_agent" json:"user_agent"`
	CreatedAt     time.Time `bun:"created_at" json:"created_at"`
	// Machine marks activity of a privacy proxy or link scanner, not a person.
	Machine bool   `bun:"machine" json:"machine"`
	Reason  string `bun:"reason" json:"reason,omitempty"`   // an unsubscribe's reason
	ListID  *int64 `bun:"list_id" json:"list_id,omitempty"` // an unsubscribe from one list only
}

// Petition is an action page people sign: a letter to a target. JSON names
// follow OSDI where they exist (title, target, petition_text).
type Petition struct {
	bun.BaseModel `bun:"table:petitions"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id"`
	Slug          string `bun:"slug" json:"slug"`
	Title         string `bun:"title" json:"title"`
	Target        string `bun:"target" json:"target"`
	PetitionText  string `bun:"petition_text" json:"petition_text"`
	Goal          int64  `bun:"goal" json:"goal"`
	Open          bool   `bun:"open" json:"open"`
	ThankYouText  string `bun:"thank_you_text" json:"thank_you_text"`
	ShareText     string `bun:"share_text" json:"share_text"`
	// Kind is PetitionKindPetition (people sign) or PetitionKindLetter
	// (organizations sign, shown once approved, in OrgOrder).
	Kind      string    `bun:"kind" json:"kind"`
	OrgOrder  string    `bun:"org_order" json:"org_order"`
	CreatedAt time.Time `bun:"created_at" json:"created_at"`
}

// Signature is one contact's name on one petition, with what brought them.
type Signature struct {
	bun.BaseModel     `bun:"table:signatures"`
	ID                int64     `bun:"id,pk,autoincrement" json:"id"`
	PetitionID        int64     `bun:"petition_id" json:"petition_id"`
	ContactID         int64     `bun:"contact_id" json:"contact_id"`
	CampaignID        *int64    `bun:"campaign_id" json:"campaign_id,omitempty"`
	SendID            *int64    `bun:"send_id" json:"send_id,omitempty"`
	ReferrerContactID *int64    `bun:"referrer_contact_id" json:"referrer_contact_id,omitempty"`
	Comment           string    `bun:"comment" json:"comment"`
	City              string    `bun:"city" json:"city"`
	ShowName          bool      `bun:"show_name" json:"show_name"` // the signer agreed to be listed on the page
	CreatedAt         time.Time `bun:"created_at" json:"created_at"`
}

// Suppression is an address never mailed again.
type Suppression struct {
	bun.BaseModel `bun:"table:suppressions"`
	ID            int64     `bun:"id,pk,autoincrement" json:"id"`
	Email         string    `bun:"email" json:"email"`
	EmailKey      string    `bun:"email_key" json:"-"` // EmailKey(Email); unique
	Reason        string    `bun:"reason" json:"reason"`
	CreatedAt     time.Time `bun:"created_at" json:"created_at"`
}
