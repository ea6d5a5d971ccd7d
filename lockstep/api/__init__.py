"""The JSON API. Versioned packages (`v1/`) hold the endpoints; this level holds what they share."""
