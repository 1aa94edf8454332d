package track

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"
	"sync"
)

// Kind says what a token may be used for; a token of one kind is refused for
// another, so an open pixel's token can never unsubscribe anyone.
type Kind byte

// The token kinds.
const (
	KindOpen        Kind = 'o'
	KindClick       Kind = 'c'
	KindUnsubscribe Kind = 'u'
	KindPreferences Kind = 'p'
	KindView        Kind = 'v'
	KindAction      Kind = 'a' // a recognized supporter on an action page
	KindBounce      Kind = 'b' // the VERP envelope sender: a bounce names its send
)

const (
	tokenVersion = 1
	macSize      = 12 // 96 bits: forging one takes 2^96 tries
)

// ErrBadToken is returned for any token that is forged, altered, truncated or of another kind.
var ErrBadToken = errors.New("bad token")

// Signer makes and checks tokens. The first key signs; every key verifies, so a
// key can be rotated by moving the old one to second place for a while.
type Signer struct {
	keys []*macKey
}

// NewSigner derives token keys from secrets (current first, then previous ones;
// empty ones are ignored). Deriving keeps the tracking key apart from any other
// use of the same secret.
func NewSigner(secrets ...string) *Signer {
	s := &Signer{}
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte("dearfriend tracking token v1"))
		s.keys = append(s.keys, newMACKey(m.Sum(nil)))
	}
	return s
}

// Sign returns a URL-safe token naming a send and, for clicks, a link. An
// action link names its link too when it has one (linkID > 0), so a visit
// of the action page counts as a click of it; without one it is a send alone,
// as action links were before they were counted.
func (s *Signer) Sign(kind Kind, sendID, linkID int64) string {
	var buf [2 + 2*binary.MaxVarintLen64 + sha256.Size]byte
	b := append(buf[:0], tokenVersion, byte(kind))
	b = binary.AppendUvarint(b, uint64(sendID))
	if kind == KindClick || kind == KindAction && linkID > 0 {
		b = binary.AppendUvarint(b, uint64(linkID))
	}
	b = appendMAC(b, s.keys[0], b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Verify checks a token of kind and returns its send and link ids.
func (s *Signer) Verify(kind Kind, token string) (sendID, linkID int64, err error) {
	if len(token) > 64 || !urlSafe(token) {
		return 0, 0, ErrBadToken
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) < 2+1+macSize || raw[0] != tokenVersion || Kind(raw[1]) != kind {
		return 0, 0, ErrBadToken
	}
	body, mac := raw[:len(raw)-macSize], raw[len(raw)-macSize:]
	ok := false
	var scratch [sha256.Size]byte
	for _, key := range s.keys {
		if hmac.Equal(mac, appendMAC(scratch[:0], key, body)) {
			ok = true
		}
	}
	if !ok {
		return 0, 0, ErrBadToken
	}
	rest := body[2:]
	send, n := binary.Uvarint(rest)
	if n <= 0 {
		return 0, 0, ErrBadToken
	}
	rest = rest[n:]
	var link uint64
	if kind == KindClick || kind == KindAction && len(rest) > 0 {
		if link, n = binary.Uvarint(rest); n <= 0 {
			return 0, 0, ErrBadToken
		}
		rest = rest[n:]
	}
	if len(rest) != 0 || send == 0 || send > 1<<62 || link > 1<<62 {
		return 0, 0, ErrBadToken
	}
	return int64(send), int64(link), nil
}

// macKey is a key with a pool of HMAC states keyed by it: a reset state
// starts from the cached key pads, so a token costs no key setup and no
// allocation. Several tokens are signed per recipient of every message.
type macKey struct{ pool sync.Pool }

func newMACKey(key []byte) *macKey {
	k := &macKey{}
	k.pool.New = func() any { return hmac.New(sha256.New, key) }
	return k
}

func appendMAC(dst []byte, key *macKey, msg []byte) []byte {
	m := key.pool.Get().(hash.Hash)
	defer key.pool.Put(m)
	m.Reset()
	m.Write(msg)
	return m.Sum(dst)[:len(dst)+macSize]
}

// urlSafe reports whether s holds only the base64url alphabet: the decoder
// itself skips CR and LF, which would let two spellings name one token.
func urlSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// CSRF returns the anti-forgery token of a form of purpose shown on the page of
// token: a page reached by a signed link needs no session, so binding the form
// to the link and its purpose is enough.
func (s *Signer) CSRF(purpose, token string) string {
	return base64.RawURLEncoding.EncodeToString(appendMAC(nil, s.keys[0], csrfMessage(purpose, token)))
}

// CheckCSRF reports whether got is the CSRF token of purpose for token under any key.
func (s *Signer) CheckCSRF(purpose, token, got string) bool {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(got)
	if err != nil || len(raw) != macSize {
		return false
	}
	msg := csrfMessage(purpose, token)
	ok := false
	var scratch [sha256.Size]byte
	for _, key := range s.keys {
		if hmac.Equal(raw, appendMAC(scratch[:0], key, msg)) {
			ok = true
		}
	}
	return ok
}

func csrfMessage(purpose, token string) []byte {
	return []byte("csrf\x00" + purpose + "\x00" + token)
}
