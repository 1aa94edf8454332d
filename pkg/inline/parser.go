package inline

import (
	"fmt"

	"github.com/aymerick/douceur/css"
	"github.com/aymerick/douceur/parser"
)

// cssParser reads the rules and declarations that sheetReader has already
// made safe: one qualified rule "selectors{prop:value;...}" at a time, or a
// list of declarations each ending in ';'. Nothing else reaches it.
type cssParser interface {
	parseRule(text string) (parsedRule, error)
	parseDeclarations(text string) ([]parsedDecl, error)
}

type parsedRule struct {
	prelude string
	decls   []parsedDecl
}

type parsedDecl struct {
	prop, value string
	important   bool
}

// douceurParser is the cssParser in use. douceur loops forever on a ';'
// where it expects a selector (as in "@media screen { color: blue; }") and
// drops the value of a last declaration without ';' outside braces; the
// reader never gives it either.
type douceurParser struct{}

var _ cssParser = douceurParser{}

func (douceurParser) parseRule(text string) (parsedRule, error) {
	sheet, err := parser.Parse(text)
	if err != nil {
		return parsedRule{}, err
	}
	if len(sheet.Rules) != 1 || sheet.Rules[0].Kind != css.QualifiedRule {
		return parsedRule{}, fmt.Errorf("read as %d rules", len(sheet.Rules))
	}
	r := sheet.Rules[0]
	return parsedRule{prelude: r.Prelude, decls: fromDouceur(r.Declarations)}, nil
}

func (douceurParser) parseDeclarations(text string) ([]parsedDecl, error) {
	decls, err := parser.ParseDeclarations(text)
	if err != nil {
		return nil, err
	}
	return fromDouceur(decls), nil
}

func fromDouceur(decls []*css.Declaration) []parsedDecl {
	out := make([]parsedDecl, len(decls))
	for i, d := range decls {
		out[i] = parsedDecl{prop: d.Property, value: d.Value, important: d.Important}
	}
	return out
}
