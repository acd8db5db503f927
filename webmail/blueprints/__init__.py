"""Thin views, one module per area; the rules live in `webmail.services`."""
