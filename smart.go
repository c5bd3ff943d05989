package access

// SmartRule is a parsed smart group rule. PLACEHOLDER: replaced by the smart rule work.
type SmartRule struct{ src string }

// ParseSmartRule parses a smart rule. PLACEHOLDER.
func ParseSmartRule(s string) (*SmartRule, error) { return &SmartRule{s}, nil }

// Match reports whether the rule matches a. PLACEHOLDER.
func (r *SmartRule) Match(a *Associate) bool { return false }
