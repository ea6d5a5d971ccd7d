"""CVE writes: `reserving`, `records`, `rejecting` (and `common`). `do_*` functions are the
transactions; plain verbs are services that may call CVE Services, always outside any
transaction, and then record the outcome with a `do_*`.

Services (entry points):
- `reserve_cve`: a new ID for a case (and one of its vulnerabilities), from this instance's
  block (local mode) or from CVE Services.
- `publish_due_records`: pushes held records whose time has come (called by the task).
- `reject_cve`, `update_cve_record`: change a reserved or published ID, remotely first.

Actions: `do_reserve_cve_from_block`, `do_record_reserved_cve`, `do_assign_cve`,
`do_hold_cve_record`, `do_mark_cve_published`, `do_record_cve_publish_failure`,
`do_record_cve_rejected`, `do_record_cve_updated`. Each state change writes one audit event.
"""
