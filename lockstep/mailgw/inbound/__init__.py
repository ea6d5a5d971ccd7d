"""Inbound mail, below the apps it feeds: addresses, reading, rules, opening, storing."""
