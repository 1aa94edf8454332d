package admin

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// The segment builder's screens: the list of segments, and one page that
// makes a new segment or edits a saved one (segtree.go holds the tree,
// segview.go how it is drawn). Every button of the builder posts the whole
// form: "add:PATH", "group:PATH" and "remove:PATH" change the tree,
// "redraw" draws it again (admin.js, after a kind or operator changed),
// "count" counts who it selects now and "save" saves it.

// segmentPage is the builder page.
type segmentPage struct {
	Segment *store.Segment // nil for a new one
	Action  string         // where the form posts
	Tree    segNodeView
	Choices *segChoices
	// Count is how many contacts match, after a count; CountNote says why
	// there is none.
	Count     *int64
	CountNote string
	Statuses  []string
}

// segments lists the saved segments.
func (h *Handler) segments(w http.ResponseWriter, r *http.Request, s *signedIn) {
	gs, err := h.Store.ListSegments(r.Context())
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.render(w, r, s, http.StatusOK, "segments.html", view{Title: "Segments", Section: "Segments", Data: gs})
}

// choices reads the lists, tags, campaigns and petitions rules may name.
func (h *Handler) choices(r *http.Request) (*segChoices, error) {
	ctx := r.Context()
	var c segChoices
	var err error
	if c.Lists, err = h.Store.ListLists(ctx); err != nil {
		return nil, err
	}
	if c.Tags, err = h.Store.TagNames(ctx); err != nil {
		return nil, err
	}
	if c.Campaigns, err = h.Store.ListCampaigns(ctx); err != nil {
		return nil, err
	}
	if c.Petitions, err = h.Store.ListPetitions(ctx); err != nil {
		return nil, err
	}
	return &c, nil
}

// newSegment shows the builder with one rule to fill in.
func (h *Handler) newSegment(w http.ResponseWriter, r *http.Request, s *signedIn) {
	c, err := h.choices(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	root := &segNode{Kind: kindGroup, Match: matchAll, Kids: []*segNode{{Kind: fieldKind + "region", Op: "in"}}}
	root.renumber(rootPath)
	h.showBuilder(w, r, s, http.StatusOK, builderState{form: NewForm(nil), root: root, choices: c})
}

// segment shows a saved segment in the builder, with its count.
func (h *Handler) segment(w http.ResponseWriter, r *http.Request, s *signedIn) {
	g, c, ok := h.savedSegment(w, r, s)
	if !ok {
		return
	}
	st := builderState{segment: g, choices: c, root: treeOf(g.Rules, c),
		form: NewForm(url.Values{"name": {g.Name}, "description": {g.Description}})}
	if r.URL.Query().Get("saved") != "" {
		st.notice = "Segment saved."
	}
	if rules, err := audience.ParseRules("rules", g.Rules); err == nil {
		n, err := h.Store.CountWhere(r.Context(), rules.Cond(h.Now().UTC()))
		if err != nil {
			h.failFor(w, r, s, err)
			return
		}
		st.count = &n
	} else {
		st.note = "The saved rules cannot be counted: " + sentence(errMessage(err))
	}
	h.showBuilder(w, r, s, http.StatusOK, st)
}

func errMessage(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Message
	}
	return "they could not be read"
}

// savedSegment reads the segment the route names, and the builder's choices.
func (h *Handler) savedSegment(w http.ResponseWriter, r *http.Request, s *signedIn) (*store.Segment, *segChoices, bool) {
	id, err := routeID(r, "segment")
	if err == nil {
		var g *store.Segment
		if g, err = h.Store.GetSegment(r.Context(), id); err == nil {
			var c *segChoices
			if c, err = h.choices(r); err == nil {
				return g, c, true
			}
		}
	}
	h.failFor(w, r, s, err)
	return nil, nil, false
}

// builderState is what the builder page is drawn from.
type builderState struct {
	segment *store.Segment
	choices *segChoices
	root    *segNode
	form    *Form
	focus   string
	count   *int64
	note    string
	notice  string
}

func (h *Handler) showBuilder(w http.ResponseWriter, r *http.Request, s *signedIn, status int, st builderState) {
	st.root.fix()
	p := segmentPage{Segment: st.segment, Action: "/admin/segments/new", Choices: st.choices,
		Tree: viewOf(st.root, st.choices, st.form, st.focus), Count: st.count, CountNote: st.note,
		Statuses: []string{store.ContactSubscribed, store.ContactUnsubscribed, store.ContactBounced, store.ContactComplained}}
	title := "New segment"
	if st.segment != nil {
		title = st.segment.Name
		p.Action = "/admin/segments/" + strconv.FormatInt(st.segment.ID, 10)
	}
	h.render(w, r, s, status, "segment.html", view{Title: title, Section: "Segments", Form: st.form, Notice: st.notice, Data: p})
}

// newSegmentPost handles the builder's buttons for a new segment.
func (h *Handler) newSegmentPost(w http.ResponseWriter, r *http.Request, s *signedIn) {
	c, err := h.choices(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.buildSegment(w, r, s, builderState{choices: c})
}

// editSegment handles the builder's buttons for a saved segment.
func (h *Handler) editSegment(w http.ResponseWriter, r *http.Request, s *signedIn) {
	g, c, ok := h.savedSegment(w, r, s)
	if !ok {
		return
	}
	h.buildSegment(w, r, s, builderState{segment: g, choices: c})
}

// buildSegment reads the posted builder and does what its button says.
// Nothing is stored unless every rule is right and the button was save.
func (h *Handler) buildSegment(w http.ResponseWriter, r *http.Request, s *signedIn, st builderState) {
	st.form = NewForm(r.PostForm)
	f := st.form
	root, over := readTree(r.PostForm)
	st.root = root
	do := f.Get("do")
	if verb, path, ok := strings.Cut(do, ":"); ok {
		st.focus = changeTree(root, verb, path)
		h.showBuilder(w, r, s, http.StatusOK, st)
		return
	}
	if do == "redraw" {
		h.showBuilder(w, r, s, http.StatusOK, st)
		return
	}
	if over != "" {
		f.Fail("", over)
	}
	if n := root.changed(); n != nil {
		// Its inputs are drawn for what it is now: fill them in first.
		st.root.fix()
		st.note = "Fill in " + n.label() + ", which now has other inputs, then count."
		h.showBuilder(w, r, s, http.StatusOK, st)
		return
	}
	raw := writeRules(root, st.choices, f)
	if !f.OK() {
		st.note = "Cannot count yet: " + firstProblem(root, f)
		h.showBuilder(w, r, s, http.StatusUnprocessableEntity, st)
		return
	}
	if do != "save" {
		rules, err := audience.ParseRules("rules", raw)
		if err == nil {
			var n int64
			if n, err = h.Store.CountWhere(r.Context(), rules.Cond(h.Now().UTC())); err == nil {
				st.count = &n
				h.showBuilder(w, r, s, http.StatusOK, st)
				return
			}
		}
		h.failFor(w, r, s, err)
		return
	}
	h.saveSegment(w, r, s, st, raw)
}

func (h *Handler) saveSegment(w http.ResponseWriter, r *http.Request, s *signedIn, st builderState, raw []byte) {
	f := st.form
	if !allowed(s.User.Role, store.RoleOrganizer) {
		h.problem(w, r, s, http.StatusForbidden, "Your role ("+s.User.Role+") cannot save segments; it needs organizer or above.")
		return
	}
	name := strings.TrimSpace(f.Get("name"))
	if name == "" || len(name) > 200 {
		f.Fail("name", "Give the segment a name of at most 200 characters.")
	}
	if len(f.Get("description")) > 2000 {
		f.Fail("description", "Keep the description to 2000 characters.")
	}
	if !f.OK() {
		h.showBuilder(w, r, s, http.StatusUnprocessableEntity, st)
		return
	}
	g := &store.Segment{Name: name, Description: f.Get("description"), Rules: raw}
	var err error
	if st.segment == nil {
		err = h.Store.CreateSegment(r.Context(), g)
	} else {
		g.ID = st.segment.ID
		err = h.Store.UpdateSegment(r.Context(), g)
	}
	if err != nil {
		if e, ok := errs.As(err); ok && e.Code == errs.Conflict {
			f.Fail("name", "A segment already has this name.")
			h.showBuilder(w, r, s, http.StatusConflict, st)
			return
		}
		h.failFor(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/admin/segments/"+strconv.FormatInt(g.ID, 10)+"?saved=1", http.StatusSeeOther)
}

// changeTree applies a button to the tree: "add" a rule to the group at
// path, add a "group" to it, or "remove" the node at path. It returns the
// id of the element to put the cursor on; a path naming no node changes
// nothing.
func changeTree(root *segNode, verb, path string) string {
	n, parent := root.find(path)
	if n == nil {
		return ""
	}
	switch {
	case verb == "add" && n.Kind == kindGroup && root.count() < audience.MaxRules:
		n.Kids = append(n.Kids, newRule())
	case verb == "group" && n.Kind == kindGroup && n.depth() < audience.MaxDepth && root.count()+1 < audience.MaxRules:
		n.Kids = append(n.Kids, newGroup())
	case verb == "remove" && parent != nil:
		parent.Kids = slices.DeleteFunc(parent.Kids, func(k *segNode) bool { return k == n })
		root.renumber(rootPath)
		return "add-" + parent.Path
	default:
		return ""
	}
	root.renumber(rootPath)
	added := n.Kids[len(n.Kids)-1]
	if added.Kind == kindGroup {
		return "f-match_" + added.Path
	}
	return "f-kind_" + added.Path
}

// firstProblem is the first problem of the form in page order, naming its rule.
func firstProblem(root *segNode, f *Form) string {
	if m := f.Errors[""]; m != "" {
		return m
	}
	found := ""
	root.walk(func(n *segNode) bool {
		for _, input := range segInputs {
			if m := f.Errors[input+"_"+n.Path]; m != "" {
				found = "in " + n.label() + ": " + m
				return false
			}
		}
		return true
	})
	if found == "" {
		return "fix what is marked below."
	}
	return found
}

// segInputs are the names of a node's inputs, in page order.
var segInputs = []string{"match", "raw", "not", "kind", "attr", "type", "op", "value", "value2", "list", "tag",
	"action", "campaign", "days", "human", "signed", "petition"}
