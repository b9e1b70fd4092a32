package notary

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/signet-dev/signet/internal/errkind"
)

// maxTokenResponse bounds a token server's answer.
const maxTokenResponse = 1 << 20

// anonymousToken gets a bearer token without credentials from the realm
// of a `WWW-Authenticate: Bearer realm=...,service=...,scope=...`
// challenge, as Docker Hub's Notary asks even for public repositories.
func (c *Client) anonymousToken(ctx context.Context, challenge string) (string, error) {
	params := parseChallenge(challenge)
	realm, err := url.Parse(params["realm"])
	if err != nil || realm.Host == "" || (realm.Scheme != "https" && !(realm.Scheme == "http" && (c.opts.insecure || isLoopback(realm.Hostname())))) {
		return "", errkind.Mark(errkind.Registry, fmt.Errorf("notary server asks for a token from %q, which is not an https URL", params["realm"]))
	}
	q := realm.Query()
	for _, k := range []string{"service", "scope"} {
		if v := params[k]; v != "" {
			q.Set(k, v)
		}
	}
	realm.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, realm.String(), nil)
	if err != nil {
		return "", errkind.Mark(errkind.Registry, err)
	}
	resp, err := c.opts.hc.Do(req)
	if err != nil {
		return "", errkind.Mark(errkind.Registry, fmt.Errorf("getting a token from %s: %w", realm.Host, err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", errkind.Mark(errkind.Registry, fmt.Errorf("getting a token from %s: HTTP %d (signet reads Notary servers anonymously)", realm.Host, resp.StatusCode))
	}
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxTokenResponse)).Decode(&tok); err != nil {
		return "", errkind.Mark(errkind.Registry, fmt.Errorf("token from %s: %w", realm.Host, err))
	}
	if tok.Token == "" {
		tok.Token = tok.AccessToken
	}
	if tok.Token == "" {
		return "", errkind.Mark(errkind.Registry, fmt.Errorf("token server %s gave no token", realm.Host))
	}
	return tok.Token, nil
}

// parseChallenge reads the key="value" pairs of a Bearer challenge.
func parseChallenge(h string) map[string]string {
	out := map[string]string{}
	_, rest, _ := strings.Cut(h, " ")
	for rest != "" {
		rest = strings.TrimLeft(rest, " ,")
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		if strings.HasPrefix(v, `"`) {
			end := strings.Index(v[1:], `"`)
			if end < 0 {
				break
			}
			out[strings.ToLower(strings.TrimSpace(k))] = v[1 : end+1]
			rest = v[end+2:]
		} else {
			val, after, _ := strings.Cut(v, ",")
			out[strings.ToLower(strings.TrimSpace(k))] = val
			rest = after
		}
	}
	return out
}
