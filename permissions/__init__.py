"""Who may do what: policies, the viewer, row scoping and token handling."""
