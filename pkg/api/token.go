package api

import "context"

// TokenSource returns the API token a request must carry now.
type TokenSource func(ctx context.Context) (string, error)

// WithTokenSource makes the API read its token from source at each request
// instead of the fixed one given to New: a token rotated in the admin UI is
// required at once, by every serve node.
func (a *API) WithTokenSource(source TokenSource) *API {
	a.tokenSource = source
	return a
}

// currentToken is the token a request must carry; "" matches none.
func (a *API) currentToken(ctx context.Context) (string, error) {
	if a.tokenSource == nil {
		return a.token, nil
	}
	return a.tokenSource(ctx)
}
