package render

// compiler is what CheckSubject needs: a *Compiler, or a wrapper of one.
type compiler interface {
	Compile(in Input) (*Compiled, error)
}

// CheckSubject compiles subject alone, as the worker compiles an A/B
// variant's subject at send time, so that a template error is refused when
// the campaign is made. An error is invalid input on the field "subject".
func CheckSubject(c compiler, subject string) error {
	_, err := c.Compile(Input{Subject: subject, FromEmail: "check@example.org", Layout: "none", HTML: "<p>check</p>"})
	return err
}
