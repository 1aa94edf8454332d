package audience

import "strings"

// regionCodes maps the names of US states, districts and territories and of
// Canadian provinces and territories, folded by regionKey, to their postal
// codes; a code maps to itself.
var regionCodes = func() map[string]string {
	names := map[string]string{
		"AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
		"CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia",
		"HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa",
		"KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland",
		"MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri",
		"MT": "Montana", "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey",
		"NM": "New Mexico", "NY": "New York", "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio",
		"OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina",
		"SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont",
		"VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
		"DC": "District of Columbia", "PR": "Puerto Rico", "GU": "Guam", "VI": "U.S. Virgin Islands",
		"AS": "American Samoa", "MP": "Northern Mariana Islands",
		"AB": "Alberta", "BC": "British Columbia", "MB": "Manitoba", "NB": "New Brunswick",
		"NL": "Newfoundland and Labrador", "NS": "Nova Scotia", "NT": "Northwest Territories",
		"NU": "Nunavut", "ON": "Ontario", "PE": "Prince Edward Island", "QC": "Quebec",
		"SK": "Saskatchewan", "YT": "Yukon",
	}
	m := make(map[string]string, 2*len(names)+4)
	for code, name := range names {
		m[regionKey(code)] = code
		m[regionKey(name)] = code
	}
	// Other spellings people type.
	for alias, code := range map[string]string{
		"Washington DC": "DC", "Washington D.C.": "DC", "Virgin Islands": "VI", "Québec": "QC",
		"Newfoundland": "NL", "Yukon Territory": "YT",
	} {
		m[regionKey(alias)] = code
	}
	return m
}()

// regionKey folds a region as typed for lookup: lower case, dots dropped,
// runs of spaces made one ("N.Y." and "new  york" match).
func regionKey(v string) string {
	return strings.Join(strings.Fields(strings.ToLower(strings.ReplaceAll(v, ".", ""))), " ")
}

// NormalizeRegion returns the two-letter code of a US state or Canadian
// province named or abbreviated by v, in any letter case; any other value is
// returned as it is.
func NormalizeRegion(v string) string {
	if code, ok := regionCodes[regionKey(v)]; ok {
		return code
	}
	return v
}
