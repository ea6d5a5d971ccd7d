"""Pure renderers: an AdvisorySnapshot in, plain data or text out."""
