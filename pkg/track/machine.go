package track

import (
	"net"
	"net/http"
	"strings"
)

// Machine activity is recorded but flagged, so statistics can say what was
// human. The signs are those that cost nothing per request: the method, the
// user agent and the client address. A click soon after delivery is flagged
// later, when the event is written (see Recorder).

// scannerAgents are lower-case fragments of the user agents of link scanners,
// security gateways, link-preview fetchers and HTTP libraries.
var scannerAgents = []string{
	"barracuda", "proofpoint", "mimecast", "symantec", "messagelabs", "forcepoint",
	"trendmicro", "trend micro", "sophos", "fireeye", "ironport", "bitdefender",
	"zscaler", "cisco", "safelinks", "checkpoint", "paloalto",
	"bot", "spider", "crawler", "scanner", "preview", "facebookexternalhit",
	"headlesschrome", "phantomjs", "curl/", "wget/", "python-", "go-http-client",
	"java/", "okhttp", "libwww-perl", "httpclient", "axios/", "node-fetch",
}

// appleProxy is the address block of Apple (17.0.0.0/8), whose Mail Privacy
// Protection fetches every image of every message whether or not it is read.
var appleProxy = &net.IPNet{IP: net.IPv4(17, 0, 0, 0), Mask: net.CIDRMask(8, 32)}

// machineOpen reports whether an open pixel fetch is a proxy's or a scanner's.
func machineOpen(r *http.Request) bool {
	ua := r.UserAgent()
	// Apple's privacy proxy announces itself as a bare "Mozilla/5.0".
	if ua == "Mozilla/5.0" || fromApple(r.RemoteAddr) {
		return true
	}
	return machineAgent(ua)
}

// MachineClick reports whether a click is a scanner's: a HEAD request (a
// person's browser never sends one for a link) or a scanner's user agent.
func MachineClick(r *http.Request) bool {
	return r.Method == http.MethodHead || machineAgent(r.UserAgent())
}

func machineAgent(ua string) bool {
	if strings.TrimSpace(ua) == "" {
		return true
	}
	ua = strings.ToLower(ua)
	for _, s := range scannerAgents {
		if strings.Contains(ua, s) {
			return true
		}
	}
	return false
}

func fromApple(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && appleProxy.Contains(ip)
}
