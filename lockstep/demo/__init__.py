"""A small, realistic demo world for newcomers (`lockstep demo`)."""
