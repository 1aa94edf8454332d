package inline

import (
	"crypto/sha256"
	"sync"
)

// Cache keeps stylesheets already read, keyed by a hash of their text, so
// that the stylesheet every message of a layout shares is parsed once, not
// once per message. It is safe for concurrent use; the zero value is not
// usable, make one with NewCache.
type Cache struct {
	mu     sync.Mutex
	max    int
	sheets map[[sha256.Size]byte]*cachedSheet
}

// NewCache returns a cache of at most max stylesheets. When it is full it
// starts over, which is cheap: a process sees few distinct stylesheets.
func NewCache(max int) *Cache {
	return &Cache{max: max, sheets: map[[sha256.Size]byte]*cachedSheet{}}
}

// cachedSheet is a stylesheet as read, with its declarations numbered from 1,
// and the warnings reading it gave.
type cachedSheet struct {
	items    []sheetItem
	decls    int
	warnings []string
}

func cacheKey(prefix, css string) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(prefix))
	h.Write([]byte{0})
	h.Write([]byte(css))
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

func (c *Cache) get(k [sha256.Size]byte) *cachedSheet {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sheets[k]
}

func (c *Cache) put(k [sha256.Size]byte, s *cachedSheet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sheets) >= c.max {
		clear(c.sheets)
	}
	c.sheets[k] = s
}

// readCached reads css through the cache: a hit is copied, its declarations
// renumbered to follow those already read, and its warnings given again.
func (r *sheetReader) readCached(cache *Cache, css, source string, extra int) ([]sheetItem, error) {
	if cache == nil {
		return r.read(css, source, extra)
	}
	k := cacheKey(r.prefix, css)
	if hit := cache.get(k); hit != nil {
		for _, w := range hit.warnings {
			r.warn(w)
		}
		return hit.copyFrom(&r.seq), nil
	}
	warn := r.warn
	var warnings []string
	r.warn = func(msg string) {
		warnings = append(warnings, msg)
		warn(msg)
	}
	start := r.seq
	items, err := r.read(css, source, extra)
	r.warn = warn
	if err != nil {
		return nil, err
	}
	stored := &cachedSheet{warnings: warnings, decls: r.seq - start}
	base := -start
	stored.items = copyItems(items, stored.decls, &base)
	cache.put(k, stored)
	return items, nil
}

// copyFrom returns a copy of the sheet's items whose declarations follow *seq.
func (s *cachedSheet) copyFrom(seq *int) []sheetItem {
	base := *seq
	items := copyItems(s.items, s.decls, &base)
	*seq += s.decls
	return items
}

// copyItems copies items, adding *offset to every declaration's number; the
// rules and their declarations are fresh, so the copy can be changed freely.
func copyItems(items []sheetItem, decls int, offset *int) []sheetItem {
	out := make([]sheetItem, len(items))
	pool := make([]decl, 0, decls)
	for i, it := range items {
		out[i] = sheetItem{raw: it.raw}
		if it.rule == nil {
			continue
		}
		start := len(pool)
		for _, d := range it.rule.decls {
			d.seq += *offset
			pool = append(pool, d)
		}
		ru := *it.rule
		ru.decls = pool[start:len(pool):len(pool)]
		out[i].rule = &ru
	}
	return out
}
