package track

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
)

// readUnsubscribeForm reads the body of a POST to an unsubscribe link, at
// most limit bytes, in either encoding RFC 8058 allows for the one-click
// request: application/x-www-form-urlencoded, or multipart/form-data, the
// form the RFC recommends. A multipart part that is a file is refused.
func readUnsubscribeForm(r *http.Request, limit int64) (url.Values, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, errors.New("form too large")
	}
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		// A missing or unknown type is read as urlencoded, as browsers and
		// mail providers send it.
		return url.ParseQuery(string(body))
	}
	if params["boundary"] == "" {
		return nil, errors.New("multipart form without a boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	form, err := mr.ReadForm(limit)
	if err != nil {
		return nil, err
	}
	defer form.RemoveAll()
	if len(form.File) > 0 {
		return nil, errors.New("multipart form with a file")
	}
	return url.Values(form.Value), nil
}

// isOneClick reports an RFC 8058 one-click request: the body names
// List-Unsubscribe=One-Click, whatever else it holds.
func isOneClick(form url.Values) bool {
	for _, v := range form["List-Unsubscribe"] {
		if v == "One-Click" {
			return true
		}
	}
	return false
}
