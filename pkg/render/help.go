package render

// Help is one merge tag or function as the message editor lists it.
type Help struct {
	Name    string // ".FirstName", "default"
	Example string // how it is written in a message
	Meaning string
}

// MergeTags are the fields and URLs a message may merge, one per field or
// method of Data (TestHelpCoversData keeps the two in step).
var MergeTags = []Help{
	{".FirstName", `{{ .FirstName }}`, "the recipient's first name; may be empty"},
	{".LastName", `{{ .LastName }}`, "the recipient's last name; may be empty"},
	{".Email", `{{ .Email }}`, "the recipient's address"},
	{".Subject", `{{ .Subject }}`, "the message's subject"},
	{".OrgName", `{{ .OrgName }}`, "the organization's name"},
	{".PostalAddress", `{{ .PostalAddress }}`, "the organization's postal address"},
	{".UnsubscribeURL", `<a href="{{ .UnsubscribeURL }}">`, "the recipient's one-click unsubscribe page"},
	{".PreferencesURL", `<a href="{{ .PreferencesURL }}">`, "the recipient's preference page"},
	{".ViewURL", `<a href="{{ .ViewURL }}">`, "this email in a browser"},
}

// Functions are the merge functions, one per entry of the function set
// (TestHelpCoversData keeps the two in step).
var Functions = []Help{
	{"default", `{{ .FirstName | default "Friend" }}`, "a fallback for an empty value"},
	{"upper", `{{ .LastName | upper }}`, "in capitals"},
	{"lower", `{{ .Email | lower }}`, "in lower case"},
	{"trim", `{{ .FirstName | trim }}`, "without spaces around"},
	{"action_link", `<a href="{{ action_link "northfork" }}">`, "the recipient's signed link to a petition or letter page"},
	{"share_facebook", `{{ share_facebook "https://example.org/p" }}`, "a link sharing a page on Facebook"},
	{"share_x", `{{ share_x "https://example.org/p" "Sign this" }}`, "a link sharing a page on X, with an optional text"},
	{"share_email", `{{ share_email "https://example.org/p" "Subject" }}`, "a mailto link sharing a page, with an optional subject"},
}
