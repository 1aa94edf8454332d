// Package errs is the one error vocabulary of dearfriend: domain errors carry a
// code (invalid, not_found, conflict, forbidden, too_large, malformed) and, where it helps,
// the field at fault. Packages return these; only the edges (pkg/api, pkg/track)
// map a code to an HTTP status. It must not import anything of the project.
package errs

import (
	"errors"
	"fmt"
)

// Code classifies a domain error.
type Code string

// The codes an edge knows how to map.
const (
	Invalid      Code = "invalid"
	NotFound     Code = "not_found"
	Conflict     Code = "conflict"
	Forbidden    Code = "forbidden"
	Unauthorized Code = "unauthorized"
	TooLarge     Code = "too_large"
	// Malformed: the request could not be read at all (not JSON, not a
	// message, a content type not taken), as opposed to read and refused.
	Malformed Code = "malformed"
)

// Error is a domain error a person can read.
type Error struct {
	Code    Code
	Field   string // the input field or rule path at fault, if any
	Message string
	Err     error // optional cause, never shown to clients
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New makes an error with a code and a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Field makes an invalid-input error naming the field at fault.
func Field(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of err, or "" for an error that is not a domain error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// As returns the domain error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
