"""The only write path for advisories, split by subject.

- `publication`: the moment a case goes public (at its date, at once, or when a lead confirms
  a breach: `breach`), exactly once.
- `announcement`: telling the world and the participants (the public list's post).
- `reporter_post`: the reporter posts the details themselves, or Lockstep does after a grace.
"""
