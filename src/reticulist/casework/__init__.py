"""Casework: the team around the child and family, with need-to-know access (issue 10)."""
