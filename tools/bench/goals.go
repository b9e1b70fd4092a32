package bench

import "fmt"

// Goal is one measurable promise of issue 18, checked against a report.
type Goal struct {
	Goal     string `json:"goal"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
}

// Goals checks the report against issue 18, at the smallest and largest
// sizes measured; a goal whose numbers are missing is left out.
func (r *Report) Goals() []Goal {
	if len(r.Sizes) == 0 {
		return nil
	}
	lo, hi := r.Sizes[0], r.Sizes[len(r.Sizes)-1]
	var gs []Goal
	// compare: signet's op against a peer's (or signet's at another size)
	// in one profile; met when the ratio is at most (or, strict, under) k.
	compare := func(goal, profile, op string, size int, tool, theirOp string, theirSize int, k float64, strict bool) {
		a, ok1 := r.FindIn(profile, "signet", op, size)
		b, ok2 := r.FindIn(profile, tool, theirOp, theirSize)
		if !ok1 || !ok2 || b.Wall == 0 {
			return
		}
		x := float64(a.Wall) / float64(b.Wall)
		gs = append(gs, Goal{goal, fmt.Sprintf("%s vs %s (%.2fx)", fmtDuration(a.Wall), fmtDuration(b.Wall), x), x < k || (!strict && x == k)})
	}
	sizes := []int{lo}
	if hi != lo {
		sizes = append(sizes, hi)
	}
	for _, n := range sizes {
		compare(fmt.Sprintf("loopback, %d tags: signet sign within 1.2x of cosign's", n), ProfileLoopback, OpSign, n, "cosign", OpSign, n, 1.2, false)
		compare(fmt.Sprintf("loopback, %d tags: signet cold verify faster than cosign's", n), ProfileLoopback, OpVerifyCold, n, "cosign", OpVerify, n, 1, true)
	}
	if hi != lo {
		compare(fmt.Sprintf("loopback: signet warm verify flat (%d tags within 1.5x of %d)", hi, lo), ProfileLoopback, OpVerifyWarm, hi, "signet", OpVerifyWarm, lo, 1.5, false)
	}
	compare(fmt.Sprintf("WAN, %d tags: signet sign faster than cosign's", hi), ProfileWAN, OpSign, hi, "cosign", OpSign, hi, 1, true)
	inARow := func(op string, most int64) {
		if x, ok := r.FindIn(ProfileWAN, "signet", op, hi); ok {
			gs = append(gs, Goal{fmt.Sprintf("WAN, %d tags: signet %s makes at most %d requests in a row", hi, opName(op), most),
				fmt.Sprintf("%d in a row (of %d), %s", x.Chain, x.Requests, fmtDuration(x.Wall)), x.Chain <= most})
		}
	}
	inARow(OpVerifyCold, 3)
	inARow(OpVerifyWarm, 1)
	for _, peer := range []string{"cosign", "notation"} {
		compare(fmt.Sprintf("WAN, %d tags: signet cold verify faster than %s's", hi, peer), ProfileWAN, OpVerifyCold, hi, peer, OpVerify, hi, 1, true)
		compare(fmt.Sprintf("WAN, %d tags: signet warm verify faster than %s's", hi, peer), ProfileWAN, OpVerifyWarm, hi, peer, OpVerify, hi, 1, true)
	}
	if x, ok := r.Find("signet", OpVerifyCold, hi); ok {
		gs = append(gs, Goal{fmt.Sprintf("cold verify at %d tags transfers under 300 KB", hi), fmtBytes(float64(x.Bytes)), x.Bytes < 300_000})
	}
	if x, ok := r.Find("signet", OpVerifyWarm, hi); ok {
		gs = append(gs, Goal{fmt.Sprintf("warm verify at %d tags makes at most 2 requests", hi), fmt.Sprintf("%d requests", x.Requests), x.Requests <= 2})
	}
	for _, f := range r.Fills {
		if f.Tags == hi {
			gs = append(gs, Goal{fmt.Sprintf("sign --from of %d tags in one publish", hi), fmt.Sprintf("%d publishes, %s", f.Batches, fmtDuration(f.Sign)), f.Batches == 1})
		}
	}
	return gs
}

// opName is how the goals name an operation.
func opName(op string) string {
	switch op {
	case OpVerifyCold:
		return "cold verify"
	case OpVerifyWarm:
		return "warm verify"
	}
	return op
}
