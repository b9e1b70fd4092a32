package admission

import "testing"

// An image names its registry in more than one spelling that a node pulls
// from the same place: each must meet the rule written in another one.
func TestPolicyMatchesEverySpellingOfARegistry(t *testing.T) {
	t.Parallel()
	p := &Policy{Rules: []Rule{
		{Repositories: []string{canonicalRepository("registry.example.com/team/*")}},
		{Repositories: []string{canonicalRepository("docker.io/library/*")}},
	}}
	for repo, rule := range map[string]int{
		"registry.example.com/team/app":      0,
		"REGISTRY.example.com/team/app":      0,
		"registry.example.com:443/team/app":  0,
		"index.docker.io/library/nginx":      1,
		"docker.io/library/nginx":            1,
		"registry.example.com:5000/team/app": -1,
		"registry.example.com/other/app":     -1,
	} {
		got := p.Match(repo)
		switch {
		case rule < 0 && got != nil:
			t.Errorf("%s matched a rule, want none", repo)
		case rule >= 0 && got != &p.Rules[rule]:
			t.Errorf("%s: matched %v, want rule %d", repo, got, rule)
		}
	}
}
