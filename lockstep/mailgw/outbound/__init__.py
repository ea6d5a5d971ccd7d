"""Outbound mail: queue copies (outbox), protect them (protect, pgpmime), deliver them
(deliver, tasks) over a transport. Message builders never touch the ORM."""
