package metrics

import (
	"crypto/subtle"
	"net/http"
)

// RequireToken serves next only to a request carrying "Authorization:
// Bearer <token>" (DEARFRIEND_METRICS_TOKEN; Prometheus's
// authorization.credentials); any other gets a 401.
func RequireToken(token string, next http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "a bearer token is required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
